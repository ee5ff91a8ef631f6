"""camgrid.playback."""
