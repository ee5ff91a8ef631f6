"""camgrid.web."""
