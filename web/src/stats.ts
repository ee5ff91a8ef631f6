// Test and benchmark hooks: window.camgrid = { map, stats, panBenchmark, ... } (see README in web/).
import type { Map as MlMap } from "maplibre-gl";

export interface Stats {
  /** Time from the camera list being loaded to the map's first idle render with the camera layer (ms). */
  mapFirstRenderMs: number | null;
  /** Number of cameras in the layer when mapFirstRenderMs was measured. */
  mapCameras: number;
  /** Per camera id: the last ~200 live latencies (ms), one per presented frame. */
  live: Record<string, number[]>;
  /** Per camera id: number of frames presented since the tile opened. */
  liveFrames: Record<string, number>;
  /** Timeline click -> first presented frame (ms), one value per seek. */
  seeks: number[];
}

export interface CamgridHooks {
  map: MlMap | null;
  stats: Stats;
  panBenchmark: (ms: number) => Promise<number>;
  syntheticCameras: (n: number) => Promise<number | null>;
  /** Map screen: page coordinates [x, y] of a shown camera (to click it), or null. */
  cameraXY: (cameraId: string) => [number, number] | null;
  /** Playback screen: client x (px, page coordinates) of instant t on a camera's timeline, or null. */
  timelineX: (cameraId: string, t: number) => number | null;
  /** Playback screen: the shared view and the loaded segments/gaps of a camera. */
  timeline: (cameraId: string) => { startMs: number; endMs: number; clockMs: number | null; segments: unknown[]; gaps: unknown[] } | null;
  /** Forget live latencies, frame counts and seeks (between benchmark phases). */
  resetStats: () => void;
  version: string;
}

export const stats: Stats = { mapFirstRenderMs: null, mapCameras: 0, live: {}, liveFrames: {}, seeks: [] };

const LIVE_KEEP = 200;

export function recordLive(cameraId: string, latencyMs: number): void {
  let a = stats.live[cameraId];
  if (!a) a = stats.live[cameraId] = [];
  a.push(latencyMs);
  if (a.length > LIVE_KEEP) a.splice(0, a.length - LIVE_KEEP);
  stats.liveFrames[cameraId] = (stats.liveFrames[cameraId] ?? 0) + 1;
}

export function recordSeek(ms: number): void {
  stats.seeks.push(ms);
  if (stats.seeks.length > 1000) stats.seeks.splice(0, stats.seeks.length - 1000);
}

declare global {
  interface Window {
    camgrid: CamgridHooks;
  }
}

export const hooks: CamgridHooks = {
  map: null,
  stats,
  panBenchmark: async () => {
    throw new Error("open the map screen first (#/map)");
  },
  syntheticCameras: async () => {
    throw new Error("open the map screen first (#/map)");
  },
  resetStats: () => {
    stats.live = {};
    stats.liveFrames = {};
    stats.seeks = [];
  },
  cameraXY: () => null,
  timelineX: () => null,
  timeline: () => null,
  version: "1",
};

window.camgrid = hooks;
