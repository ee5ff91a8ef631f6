// Grid clustering of the camera layer, pure and typed-array only (no DOM, no WebGL: tested by vitest).
// One level per whole zoom: cameras binned into square cells of CLUSTER_PX screen pixels at that zoom (from
// STACK_ZOOM on, cells of STACK_PX: only cameras at one point, such as the cameras of one site, stay together).
// A level keeps per cluster its centre, its count per state and its member list, sorted by coarse tile so the
// renderer draws only the tiles in view. 62,000 cameras: one level in ~10 ms, built when the zoom first needs it.

export const CLUSTER_PX = 80;
export const STACK_PX = 3;
export const STACK_ZOOM = 16;
export const TILE_PX = 512;
export const HIDDEN_STATE = 255;

export interface Level {
  zoom: number;
  /** Mercator cell size (world = 1). */
  cell: number;
  n: number;
  /** Cluster centres relative to the layer's origin (mean of members). */
  x: Float32Array;
  y: Float32Array;
  count: Uint32Array;
  /** count per state: byState[k * nStates + s]. */
  byState: Uint32Array;
  nStates: number;
  /** Members of cluster k: members[start[k] .. start[k + 1]). */
  start: Uint32Array;
  members: Uint32Array;
  /** Per camera: its cluster, or -1 when hidden. */
  of: Int32Array;
  /** Tile size (mercator) and the clusters of each tile: key "tx,ty" -> [first, end) (clusters sorted by tile). */
  tile: number;
  tiles: Map<string, [number, number]>;
}

export function cellFor(zoom: number): number {
  const z = Math.max(0, Math.floor(zoom));
  return (z >= STACK_ZOOM ? STACK_PX : CLUSTER_PX) / (512 * 2 ** z);
}

/** Cluster the shown cameras (states[i] !== HIDDEN_STATE) of rel (x, y pairs) at a whole zoom. */
export function buildLevel(rel: Float32Array, states: Uint8Array, zoom: number, nStates: number): Level {
  const z = Math.max(0, Math.floor(zoom));
  const cell = cellFor(z);
  const tile = TILE_PX / (512 * 2 ** z);
  const nCam = states.length;
  const of = new Int32Array(nCam).fill(-1);
  const keys = new Map<number, number>();
  const OFF = 2 ** 20;
  let n = 0;
  for (let i = 0; i < nCam; i++) {
    if (states[i] === HIDDEN_STATE) continue;
    const cx = Math.floor(rel[2 * i] / cell) + OFF;
    const cy = Math.floor(rel[2 * i + 1] / cell) + OFF;
    const key = cx * 2 ** 21 + cy;
    let k = keys.get(key);
    if (k === undefined) keys.set(key, (k = n++));
    of[i] = k;
  }
  // Per cluster: sums, then the tile of its centre; clusters renumbered in tile order.
  const sx = new Float64Array(n), sy = new Float64Array(n), cnt = new Uint32Array(n);
  for (let i = 0; i < nCam; i++) {
    const k = of[i];
    if (k < 0) continue;
    sx[k] += rel[2 * i];
    sy[k] += rel[2 * i + 1];
    cnt[k]++;
  }
  const tileKey: string[] = new Array(n);
  const order = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    sx[k] /= cnt[k];
    sy[k] /= cnt[k];
    tileKey[k] = `${Math.floor(sx[k] / tile)},${Math.floor(sy[k] / tile)}`;
    order[k] = k;
  }
  order.sort((a, b) => (tileKey[a] < tileKey[b] ? -1 : tileKey[a] > tileKey[b] ? 1 : 0));
  const rank = new Uint32Array(n);
  order.forEach((k, r) => (rank[k] = r));
  const x = new Float32Array(n), y = new Float32Array(n), count = new Uint32Array(n);
  const tiles = new Map<string, [number, number]>();
  for (let r = 0; r < n; r++) {
    const k = order[r];
    x[r] = sx[k];
    y[r] = sy[k];
    count[r] = cnt[k];
    const t = tiles.get(tileKey[k]);
    if (t) t[1] = r + 1;
    else tiles.set(tileKey[k], [r, r + 1]);
  }
  const start = new Uint32Array(n + 1);
  for (let r = 0; r < n; r++) start[r + 1] = start[r] + count[r];
  const members = new Uint32Array(start[n]);
  const fill = start.slice(0, n);
  const byState = new Uint32Array(n * nStates);
  for (let i = 0; i < nCam; i++) {
    if (of[i] < 0) continue;
    const r = rank[of[i]];
    of[i] = r;
    members[fill[r]++] = i;
    byState[r * nStates + Math.min(states[i], nStates - 1)]++;
  }
  return { zoom: z, cell, n, x, y, count, byState, nStates, start, members, of, tile, tiles };
}

/** Cameras' states changed (none shown or hidden): update the per-state counts in place. */
export function restate(level: Level, states: Uint8Array): void {
  level.byState.fill(0);
  const s = level.nStates;
  for (let i = 0; i < states.length; i++) {
    const r = level.of[i];
    if (r >= 0 && states[i] !== HIDDEN_STATE) level.byState[r * s + Math.min(states[i], s - 1)]++;
  }
}

/** The clusters of the tiles that meet the mercator box (relative coordinates), as [first, end) ranges. */
export function rangesIn(level: Level, x0: number, y0: number, x1: number, y1: number): [number, number][] {
  const t = level.tile;
  const out: [number, number][] = [];
  const tx0 = Math.floor(x0 / t), tx1 = Math.floor(x1 / t), ty0 = Math.floor(y0 / t), ty1 = Math.floor(y1 / t);
  if ((tx1 - tx0 + 1) * (ty1 - ty0 + 1) > level.tiles.size) {
    for (const r of level.tiles.values()) out.push(r);
  } else {
    for (let tx = tx0; tx <= tx1; tx++)
      for (let ty = ty0; ty <= ty1; ty++) {
        const r = level.tiles.get(`${tx},${ty}`);
        if (r) out.push(r);
      }
  }
  out.sort((a, b) => a[0] - b[0]);
  // Adjacent ranges merged: fewer draw calls.
  const merged: [number, number][] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && last[1] === r[0]) last[1] = r[1];
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/**
 * Ring fractions for a cluster's state counts as four bytes (cumulative ends of the first four states, in 0..255,
 * the last state filling the rest): any state with a camera keeps at least MIN_ARC of the ring, so one offline
 * camera among thousands still shows.
 */
export const MIN_ARC = 16;
export function ringBytes(counts: ArrayLike<number>, order: readonly number[]): [number, number, number, number] {
  let total = 0;
  for (let s = 0; s < counts.length; s++) total += counts[s];
  const out: [number, number, number, number] = [0, 0, 0, 0];
  let acc = 0;
  for (let j = 0; j < 4; j++) {
    const c = counts[order[j]];
    let w = total ? Math.round((255 * c) / total) : 0;
    if (c > 0 && w < MIN_ARC) w = MIN_ARC;
    acc = Math.min(255, acc + w);
    out[j] = acc;
  }
  return out;
}

/**
 * Points on a circle (or a spiral beyond 8) around the centre for fanned-out cameras: screen pixel offsets,
 * far enough apart for a dot and a short label.
 */
export function spiderOffsets(n: number): [number, number][] {
  const out: [number, number][] = [];
  if (n <= 8) {
    const r = Math.max(44, (n * 30) / (2 * Math.PI));
    for (let i = 0; i < n; i++) {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
      out.push([Math.round(r * Math.cos(a)), Math.round(r * Math.sin(a))]);
    }
    return out;
  }
  let a = 0;
  for (let i = 0; i < n; i++) {
    const r = 30 + 4 * a;
    out.push([Math.round(r * Math.cos(a)), Math.round(r * Math.sin(a))]);
    a += 28 / r;
  }
  return out;
}

/** A camera's view cone as a ring of [lon, lat]: apex at the camera, arc at `rangeM` from heading ± fov/2. */
export function conePolygon(lon: number, lat: number, headingDeg: number, fovDeg: number, rangeM: number): [number, number][] {
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((lat * Math.PI) / 180);
  const steps = Math.max(4, Math.ceil(fovDeg / 10));
  const ring: [number, number][] = [[lon, lat]];
  for (let s = 0; s <= steps; s++) {
    const b = ((headingDeg - fovDeg / 2 + (fovDeg * s) / steps) * Math.PI) / 180;
    ring.push([lon + (Math.sin(b) * rangeM) / mPerDegLon, lat + (Math.cos(b) * rangeM) / mPerDegLat]);
  }
  ring.push([lon, lat]);
  return ring;
}
