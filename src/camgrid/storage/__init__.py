"""Segments on disk and their index: writing, crash recovery, gaps, retention."""
