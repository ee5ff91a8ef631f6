"""camgrid.planner."""
