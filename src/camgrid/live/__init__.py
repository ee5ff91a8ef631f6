"""Live view: fan-out of the recorder's pictures to many viewers as fMP4 over WebSocket (no transcoding)."""
