// Pure polygon maths for the privacy-mask editor: picture pixels <-> fractions of the picture (0..1), closing a
// polygon from clicked points, hit tests. No DOM, tested by Vitest (tests/mask-math.test.ts).

export type Pt = [number, number];

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const round4 = (v: number): number => Math.round(v * 10000) / 10000;

/** A point in displayed pixels (x, y inside a w x h box) as fractions of the picture, clamped, 4 decimals. */
export function normalise(x: number, y: number, w: number, h: number): Pt {
  if (!(w > 0) || !(h > 0)) throw new RangeError("the picture has no size");
  return [round4(clamp01(x / w)), round4(clamp01(y / h))];
}

export function denormalise(p: Pt, w: number, h: number): Pt {
  return [p[0] * w, p[1] * h];
}

/** Signed area (shoelace); positive for counter-clockwise in a y-up frame. */
export function signedArea(poly: Pt[]): number {
  let a = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) a += (poly[j][0] + poly[i][0]) * (poly[j][1] - poly[i][1]);
  return -a / 2;
}

/** Even-odd ray casting; points on the boundary may fall either way. */
export function pointInPolygon(p: Pt, poly: Pt[]): boolean {
  let inside = false;
  const [x, y] = p;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Index of the topmost (last drawn) polygon containing p, or -1. */
export function hitPolygon(p: Pt, polys: Pt[][]): number {
  for (let k = polys.length - 1; k >= 0; k--) if (pointInPolygon(p, polys[k])) return k;
  return -1;
}

/** Are a and b within tol of each other (in the units given; use pixels for "click on the first point"). */
export function near(a: Pt, b: Pt, tol: number): boolean {
  return Math.hypot(a[0] - b[0], a[1] - b[1]) <= tol;
}

/** Drop consecutive duplicates (a double-click adds the same point twice) within tol. */
export function dedupe(points: Pt[], tol = 1e-9): Pt[] {
  const out: Pt[] = [];
  for (const p of points) if (!out.length || !near(out[out.length - 1], p, tol)) out.push(p);
  return out;
}

/**
 * Close a clicked outline into a polygon: duplicates removed, a repeated first point dropped (the ring is
 * implicit); null when fewer than 3 distinct points remain or the area is (nearly) zero.
 */
export function closePolygon(points: Pt[], tol = 1e-9): Pt[] | null {
  const pts = dedupe(points, tol);
  while (pts.length > 1 && near(pts[0], pts[pts.length - 1], tol)) pts.pop();
  if (pts.length < 3) return null;
  if (Math.abs(signedArea(pts)) < 1e-8) return null;
  return pts;
}

/** What PUT /api/cameras/{id}/mask takes: only closed polygons, every coordinate within 0..1. */
export function maskBody(polys: Pt[][]): { polygons: number[][][] } {
  return {
    polygons: polys
      .filter((p) => p.length >= 3)
      .map((p) => p.map(([x, y]) => [round4(clamp01(x)), round4(clamp01(y))])),
  };
}
