// Motion search's geometry (pure, unit-tested): a rectangle dragged on a picture as the region the API takes.

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Where the picture is inside a box that shows it whole (object-fit: contain), in the box's pixels. */
export function pictureRect(boxW: number, boxH: number, vidW: number, vidH: number): Rect {
  if (!(vidW > 0 && vidH > 0 && boxW > 0 && boxH > 0)) return { x0: 0, y0: 0, x1: boxW, y1: boxH };
  const scale = Math.min(boxW / vidW, boxH / vidH);
  const w = vidW * scale;
  const hh = vidH * scale;
  const x0 = (boxW - w) / 2;
  const y0 = (boxH - hh) / 2;
  return { x0, y0, x1: x0 + w, y1: y0 + hh };
}

/** A dragged rectangle (box pixels) as the region the API takes: fractions of the picture, clamped to it. */
export function regionOf(drag: Rect, pic: Rect): number[][] | null {
  const w = pic.x1 - pic.x0;
  const hh = pic.y1 - pic.y0;
  if (w <= 0 || hh <= 0) return null;
  const fx = (x: number) => Math.min(1, Math.max(0, (x - pic.x0) / w));
  const fy = (y: number) => Math.min(1, Math.max(0, (y - pic.y0) / hh));
  const [x0, x1] = [fx(Math.min(drag.x0, drag.x1)), fx(Math.max(drag.x0, drag.x1))];
  const [y0, y1] = [fy(Math.min(drag.y0, drag.y1)), fy(Math.max(drag.y0, drag.y1))];
  if (x1 - x0 < 0.01 || y1 - y0 < 0.01) return null;
  const r = (v: number) => Math.round(v * 10000) / 10000;
  return [[r(x0), r(y0)], [r(x1), r(y0)], [r(x1), r(y1)], [r(x0), r(y1)]];
}
