"""camgrid.live."""
