"""camgrid.media."""
