// Pure helpers for the report plots: periods, bucket steps, scales and tick values. No DOM.

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A bucket length that gives at most ~maxBuckets points (the API refuses more than 500): 5 min .. 1 day. */
export function pickStep(fromMs: number, toMs: number, maxBuckets = 200): number {
  const steps = [5 * 60_000, 15 * 60_000, 30 * 60_000, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY];
  const span = Math.max(1, toMs - fromMs);
  for (const s of steps) if (span / s <= maxBuckets) return s;
  return Math.ceil(span / maxBuckets / DAY) * DAY;
}

/** Linear map of [d0, d1] onto [r0, r1] (a zero-width domain maps to the middle). */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** About n round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, n);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** The lower bound of the availability axis: a little under the worst value, never above 0.9 nor below 0. */
export function availabilityFloor(values: number[]): number {
  let m = 1;
  for (const v of values) if (Number.isFinite(v) && v < m) m = v;
  return Math.max(0, Math.min(0.9, Math.floor((m - 0.02) * 20) / 20));
}

/** Distinct colours for up to ~12 series, then repeated. */
export const SERIES_COLOURS = [
  "#4aa3ff", "#2ecc71", "#f1c40f", "#e67e22", "#e74c3c", "#9b59b6", "#1abc9c", "#fd79a8", "#a29bfe", "#55efc4", "#fab1a0", "#b2bec3",
];

/** Availability (0..1, or null when no camera time was expected) as the table, legend and CSV show it: percent with
 * two decimals, "—" for null. */
export function fmtAvailability(a: number | null | undefined): string {
  return a == null ? "—" : `${(Math.round(a * 10000) / 100).toFixed(2)}%`;
}

/** Camera-minutes (the API's unit) as camera-hours with two decimals, the CSV's unit and rounding. */
export function cameraHours(min: number | null | undefined): string {
  return (Math.round(((min ?? 0) / 60) * 100) / 100).toFixed(2);
}

/** The groupings the reports offer (tabs), each with a table and a CSV. */
export const GROUPINGS = ["district", "feeder", "site", "uplink", "camera"] as const;
export type ReportGrouping = (typeof GROUPINGS)[number];

export function grouping(v: string | null): ReportGrouping {
  return (GROUPINGS as readonly string[]).includes(v ?? "") ? (v as ReportGrouping) : "district";
}
