"""camgrid.ingest."""
