"""camgrid.api."""
