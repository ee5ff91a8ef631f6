"""camgrid.geo: city maps (OpenStreetMap) in a local metric projection.

Bottom layer: depends on nothing in camgrid but config-free libraries (shapely, numpy). The planner, the simulator
and later the control-room map read the city through :func:`camgrid.geo.osm.load_city`.
Map data © OpenStreetMap contributors (ODbL); show that wherever the map is drawn or exported.
"""

from camgrid.geo.osm import (
    ATTRIBUTION,
    Building,
    City,
    Junction,
    Poi,
    Projection,
    Street,
    StreetSample,
    crop_city,
    default_map_path,
    load_city,
    sample_along_streets,
)

__all__ = [
    "ATTRIBUTION",
    "Building",
    "City",
    "Junction",
    "Poi",
    "Projection",
    "Street",
    "StreetSample",
    "crop_city",
    "default_map_path",
    "load_city",
    "sample_along_streets",
]
