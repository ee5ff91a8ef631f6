"""Playback and export: time-range queries over the index, clip export with a SHA-256 manifest."""
