"""camgrid.privacy."""
