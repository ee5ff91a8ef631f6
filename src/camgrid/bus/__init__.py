"""camgrid.bus."""
