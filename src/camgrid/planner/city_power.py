"""Power and installed cameras in the city planner's tiles (docs/design/planner-city.md, "Power and installed cameras").

Why a module of its own: the tile code (``planner.tiles``) stays about visibility, shares and bounds; this module
adds, per tile file, what a pose's feeder is, which poses are installed cameras, how a tile values its owned points
with power, and the per-point factor that tightens the no-power bound into a bound of the power-aware value.

- Feeders are the district planner's: a site's feeder is the ``feeder_cell_m`` grid cell of its position counted from
  the south-west corner of the map (``instance.grid_cell``), an installed camera's the feeder it names (else its
  cell); availability from ``planner.feeder_availability_by_id`` (else ``planner.feeder_availability``). Names are
  global, so every tile that holds a pose gives it the same feeder.
- Installed cameras (``--existing``) are extra poses with negative global ids (``-1 - j``), their own heading, field
  of view and range, cost 0, never owned by a tile (never bought), always on in every tile that holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.formulation import Instance, expected_capped

if TYPE_CHECKING:
    from camgrid.planner.citymap import Box, CitySource, Layout
    from camgrid.planner.instance import ExistingCamera

# one installed camera in the source's metric frame: x, y, heading, fov, range, feeder name ("" = its grid cell)
FixedCamera = tuple[float, float, float, float, float, str]


def existing_in_frame(
    source: CitySource, cams: Sequence[ExistingCamera], cfg: PlannerConfig
) -> tuple[FixedCamera, ...]:
    """Installed cameras (registry rows, lat/lon) in the source's frame; no heading = a 360° dome (planner.md)."""
    out: list[FixedCamera] = []
    for c in cams:
        x, y = source.projection.to_xy(c.lat, c.lon)
        dome = c.heading_deg is None or c.fov_deg is None
        out.append(
            (
                float(x),
                float(y),
                0.0 if c.heading_deg is None else float(c.heading_deg),
                360.0 if dome else float(c.fov_deg or 360.0),
                float(c.range_m) if c.range_m is not None else cfg.range_m,
                c.feeder,
            )
        )
    return tuple(out)


def feeder_names(xy: np.ndarray, origin: tuple[float, float], cell: float) -> np.ndarray:
    """``feeder-<col>-<row>`` of each position: ``instance.grid_cell`` vectorised (the district planner's feeders)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    col = np.maximum(0, np.floor((xy[:, 0] - origin[0]) / cell)).astype(np.int64)
    row = np.maximum(0, np.floor((xy[:, 1] - origin[1]) / cell)).astype(np.int64)
    return np.array([f"feeder-{c}-{r}" for c, r in zip(col.tolist(), row.tolist(), strict=True)], dtype=str)


@dataclass
class TilePoses:
    """Every pose of a tile file: candidate poses (site x orientation) then the installed cameras near the core."""

    site_xy: np.ndarray  # [s, 2] candidate sites then one site per installed camera
    pose_site: np.ndarray
    heading: np.ndarray
    fov: np.ndarray
    range_m: np.ndarray
    gid: np.ndarray  # global pose id (installed: -1 - j)
    owned: np.ndarray  # the tile may buy it (its own candidate site)
    fixed: np.ndarray  # installed: always on, cost 0
    feeder: np.ndarray  # index into ``feeder_names``
    feeder_names: np.ndarray
    feeder_avail: np.ndarray


def tile_poses(
    lay: Layout,
    existing: Sequence[FixedCamera],
    cfg: PlannerConfig,
    core: Box,
    origin: tuple[float, float],
) -> TilePoses:
    """The tile's poses; an installed camera is held when it stands within its own range of the core (it may see an
    owned point), so every tile whose owned points it can see counts it."""
    n_or = cfg.orientations
    n_sites = lay.site_id.size
    pose_site = np.repeat(np.arange(n_sites), n_or)
    pose_o = np.tile(np.arange(n_or), n_sites)
    x0, y0, x1, y1 = core
    owned_site = (
        (lay.site_xy[:, 0] >= x0) & (lay.site_xy[:, 0] < x1) & (lay.site_xy[:, 1] >= y0) & (lay.site_xy[:, 1] < y1)
    )
    ex = [
        (j, c)
        for j, c in enumerate(existing)
        if x0 - c[4] - 1.0 <= c[0] <= x1 + c[4] + 1.0 and y0 - c[4] - 1.0 <= c[1] <= y1 + c[4] + 1.0
    ]
    ex_xy = np.array([(c[0], c[1]) for _, c in ex], dtype=np.float64).reshape(-1, 2)
    site_xy = np.concatenate([lay.site_xy.reshape(-1, 2), ex_xy])
    names = feeder_names(site_xy, origin, cfg.feeder_cell_m)
    for i, (_, c) in enumerate(ex):
        if c[5]:
            names[n_sites + i] = c[5]
    pose_site = np.concatenate([pose_site, n_sites + np.arange(len(ex))])
    uniq, site_feeder = np.unique(names, return_inverse=True) if names.size else (np.zeros(0, dtype=str), names)
    avail = np.array([cfg.feeder_availability_by_id.get(str(f), cfg.feeder_availability) for f in uniq.tolist()])
    n_ex = len(ex)
    return TilePoses(
        site_xy,
        pose_site.astype(np.int64),
        np.concatenate([pose_o * (360.0 / n_or), np.array([c[2] for _, c in ex], dtype=np.float64)]),
        np.concatenate([np.full(pose_o.size, cfg.fov_deg), np.array([c[3] for _, c in ex], dtype=np.float64)]),
        np.concatenate([np.full(pose_o.size, cfg.range_m), np.array([c[4] for _, c in ex], dtype=np.float64)]),
        np.concatenate([lay.site_id[np.repeat(np.arange(n_sites), n_or)] * n_or + pose_o, [-1 - j for j, _ in ex]])
        .astype(np.int64),
        np.concatenate([owned_site[np.repeat(np.arange(n_sites), n_or)], np.zeros(n_ex, dtype=bool)]),
        np.concatenate([np.zeros(pose_o.size, dtype=bool), np.ones(n_ex, dtype=bool)]),
        np.asarray(site_feeder, dtype=np.int64)[pose_site] if names.size else np.zeros(0, dtype=np.int64),
        uniq.astype(str),
        avail.astype(np.float64),
    )  # fmt: skip


def power_kwargs(d: dict[str, np.ndarray], poses: np.ndarray, cfg: PlannerConfig) -> dict[str, Any]:
    """``Instance`` arguments for the tile's poses ``poses`` (file indices): feeders when ``planner.power_aware``."""
    if not cfg.power_aware:
        return {}
    return {"pose_feeder": d["pose_feeder"][poses], "feeder_availability": d["feeder_avail"]}


def point_counts(d: dict[str, np.ndarray], on: np.ndarray, points: np.ndarray) -> np.ndarray:
    """[points, feeders] count of the poses in ``on`` (mask over the file's poses) that see each point."""
    pp, pt = d["pair_pose"], d["pair_point"]
    sel = on[pp] & points[pt]
    counts = np.zeros((d["point_w"].size, max(1, d["feeder_avail"].size)), dtype=np.int32)
    np.add.at(counts, (pt[sel], d["pose_feeder"][pp[sel]]), 1)
    return counts


def owned_value(d: dict[str, np.ndarray], on: np.ndarray, cfg: PlannerConfig) -> tuple[float, int]:
    """Exact value of the tile's owned points when the poses in ``on`` are installed (power-aware when configured:
    ``formulation.expected_capped``, the district planner's value), and how many owned points are seen."""
    w, k, owned = d["point_w"], d["point_k"], d["point_owned"]
    counts = point_counts(d, on, owned)
    n = counts.sum(axis=1)
    rows = np.flatnonzero(owned & (n > 0))
    if not cfg.power_aware:
        value = w[rows] * np.minimum(n[rows], k[rows]) / k[rows]
    else:
        value = w[rows] * expected_capped(counts[rows], d["feeder_avail"], k[rows])
    return float(value.sum()), int(rows.size)


def power_scale(d: dict[str, np.ndarray], cfg: PlannerConfig) -> np.ndarray | None:
    """Per point s_i = min(1, E[min(N_all, k_i)]) where N_all counts the powered cameras of *every* pose that sees i.
    For any plan S, v_i(S) <= w_i s_i min(n_i(S), k_i) / k_i (E[min(N_S, k)] <= E[min(N_all, k)] and <= min(n_S, k);
    with n_S >= 1 the first is <= s_i min(n_S, k)), so the no-power bound with weights w_i s_i bounds the power-aware
    value. Scaling by the best single feeder's availability would not be valid: two feeders beat either one."""
    if not cfg.power_aware:
        return None
    owned = d["point_owned"]
    counts = point_counts(d, np.ones(d["pose_gid"].size, dtype=bool), owned)
    seen = counts.sum(axis=1) > 0
    rows = np.flatnonzero(seen)
    scale = np.zeros(owned.size)
    scale[rows] = np.minimum(
        1.0, expected_capped(counts[rows], d["feeder_avail"], d["point_k"][rows]) * d["point_k"][rows]
    )
    return scale


def monolithic(
    source_path: Path | None, cfg: PlannerConfig, existing: Sequence[ExistingCamera] = ()
) -> tuple[Instance, np.ndarray]:
    """The whole city as one instance with the tiles' rules (installed cameras fixed at cost 0, feeders when
    ``planner.power_aware``), and its global pose ids: for checking the decomposition on small cities."""
    from camgrid.planner.citymap import open_source
    from camgrid.planner.visibility import compute_coverage

    source = open_source(source_path, cfg)
    big = (-1e9, -1e9, 1e9, 1e9)
    lay = source.layout(big, big)
    tp = tile_poses(lay, existing_in_frame(source, existing, cfg), cfg, big, source.bounds[:2])
    cov = compute_coverage(tp.site_xy, tp.pose_site, tp.heading, tp.fov, tp.range_m, lay.point_xy, lay.buildings)
    cost = np.where(tp.fixed, 0.0, cfg.camera_cost)
    d = {"pose_feeder": tp.feeder, "feeder_avail": tp.feeder_avail}
    inst = Instance(
        weights=lay.point_weight,
        cost=cost,
        coverage=cov,
        k=lay.point_k,
        fixed=np.flatnonzero(tp.fixed),
        pose_xy=tp.site_xy[tp.pose_site],
        **power_kwargs(d, np.arange(tp.gid.size), cfg),
    )
    return inst, tp.gid
