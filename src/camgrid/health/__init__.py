"""camgrid.health."""
