"""RTSP sessions: connect, authenticate, depacketize, supervise (backoff, stalls), anchor media time to UTC.

Ingest knows nothing of storage or the web: it hands access units and session states to a sink.
"""
