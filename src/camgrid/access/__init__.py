"""camgrid.access."""
