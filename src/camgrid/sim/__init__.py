"""camgrid.sim."""
