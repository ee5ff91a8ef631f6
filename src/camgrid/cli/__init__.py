"""camgrid.cli."""
