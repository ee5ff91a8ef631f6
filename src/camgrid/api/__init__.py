"""The control room's HTTP and WebSocket API (FastAPI). Thin: it calls the capability packages."""
