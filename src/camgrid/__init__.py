"""camgrid: a video-management system for a city's camera network."""

__version__ = "0.1.0"
