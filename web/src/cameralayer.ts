// Every camera in a few WebGL draw calls: a MapLibre custom layer drawing the clusters of the current whole zoom
// (mapcluster.ts: a grid of 80 px cells, and from zoom 16 only cameras at one point together) as gl.POINTS, and
// their counts as textured quads from a digit atlas. A single camera is a dot in its state's colour; a cluster is a
// ring split by its cameras' states (offline first, from 12 o'clock) around its count. Only the clusters of the
// tiles in view are drawn, so panning costs what is on screen, not the 62,000 cameras of the city.
import type { CustomLayerInterface, CustomRenderMethodInput, Map as MlMap } from "maplibre-gl";
import { HIDDEN_STATE, buildLevel, rangesIn, restate, ringBytes, type Level } from "./mapcluster";

export const HIDDEN = HIDDEN_STATE;
/** The ring's order: the states an operator must notice first (offline, unknown, planned, maintenance); recording fills the rest. */
export const RING_ORDER = [1, 2, 3, 4] as const;

export function mercX(lon: number): number {
  return (lon + 180) / 360;
}

export function mercY(lat: number): number {
  const s = Math.sin((lat * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

const VS = `
attribute vec2 a_pos;
attribute float a_count;
attribute float a_state;
attribute vec4 a_ring;
uniform mat4 u_matrix;
uniform float u_size;
uniform float u_dpr;
uniform vec4 u_c0; uniform vec4 u_c1; uniform vec4 u_c2; uniform vec4 u_c3; uniform vec4 u_c4;
varying vec4 v_color;
varying vec4 v_ring;
varying float v_cluster;
varying float v_size;
void main() {
  gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
  float digits = a_count < 10.0 ? 1.0 : a_count < 100.0 ? 2.0 : a_count < 1000.0 ? 3.0 : a_count < 10000.0 ? 4.0 : 5.0;
  v_cluster = a_count > 1.5 ? 1.0 : 0.0;
  v_size = v_cluster > 0.5 ? (14.0 + 6.0 * digits) * u_dpr : u_size;
  gl_PointSize = v_size;
  v_ring = a_ring;
  v_color = a_state < 0.5 ? u_c0 : a_state < 1.5 ? u_c1 : a_state < 2.5 ? u_c2 : a_state < 3.5 ? u_c3 : u_c4;
}`;

const FS = `
precision highp float;
varying vec4 v_color;
varying vec4 v_ring;
varying float v_cluster;
varying float v_size;
uniform float u_dpr;
uniform vec4 u_c0; uniform vec4 u_c1; uniform vec4 u_c2; uniform vec4 u_c3; uniform vec4 u_c4;
void main() {
  vec2 c = gl_PointCoord * 2.0 - 1.0;
  float d = length(c);
  if (d > 1.0) discard; // the square's corners: no blending work on the CPU renderer
  float a = 1.0 - smoothstep(1.0 - 1.5 / v_size, 1.0, d);
  vec3 rgb;
  if (v_cluster < 0.5) {
    float ring = v_size > 7.0 ? step(1.0 - 2.0 / v_size, d) : 0.0;
    rgb = mix(v_color.rgb, vec3(0.0), ring * 0.8);
  } else if (d < 1.0 - 8.0 * u_dpr / v_size) {
    rgb = vec3(0.09, 0.11, 0.13); // inside the ring, under the count: no angle to work out
  } else {
    float f = fract(atan(c.x, -c.y) / 6.2831853 + 1.0);
    rgb = f < v_ring.x ? u_c1.rgb : f < v_ring.y ? u_c2.rgb : f < v_ring.z ? u_c3.rgb : f < v_ring.w ? u_c4.rgb : u_c0.rgb;
  }
  gl_FragColor = vec4(rgb * a, a);
}`;

const TEXT_VS = `
attribute vec2 a_pos;
attribute vec2 a_off;
attribute vec2 a_uv;
uniform mat4 u_matrix;
uniform vec2 u_px;
varying vec2 v_uv;
void main() {
  vec4 p = u_matrix * vec4(a_pos, 0.0, 1.0);
  gl_Position = p + vec4(a_off * u_px * p.w, 0.0, 0.0);
  v_uv = a_uv;
}`;

const TEXT_FS = `
precision mediump float;
varying vec2 v_uv;
uniform sampler2D u_tex;
void main() {
  float a = texture2D(u_tex, v_uv).a;
  gl_FragColor = vec4(a, a, a, a);
}`;

/** Glyph cell of the digit atlas, CSS px. */
const GW = 8;
const GH = 14;

function hexToRgba(hex: string): [number, number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255, 1];
}

type GL = WebGLRenderingContext | WebGL2RenderingContext;

function program(gl: GL, vs: string, fs: string): WebGLProgram {
  const sh = (type: number, src: string) => {
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`camera shader: ${gl.getShaderInfoLog(s)}`);
    return s;
  };
  const p = gl.createProgram()!;
  gl.attachShader(p, sh(gl.VERTEX_SHADER, vs));
  gl.attachShader(p, sh(gl.FRAGMENT_SHADER, fs));
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`camera program: ${gl.getProgramInfoLog(p)}`);
  return p;
}

export class CameraLayer implements CustomLayerInterface {
  readonly id = "cameras";
  readonly type = "custom" as const;
  readonly renderingMode = "2d" as const;
  private map: MlMap | null = null;
  private gl: GL | null = null;
  private prog: WebGLProgram | null = null;
  private textProg: WebGLProgram | null = null;
  private pointBuf: WebGLBuffer | null = null;
  private textBuf: WebGLBuffer | null = null;
  private atlas: WebGLTexture | null = null;
  /** Mercator positions relative to (ox, oy). */
  rel = new Float32Array(0);
  /** Per camera: state code 0..4 or HIDDEN. */
  states: Uint8Array = new Uint8Array(0);
  ox = 0;
  oy = 0;
  private spanX = 0;
  private spanY = 0;
  private shown = 0;
  private hiddenMask = new Uint8Array(0);
  private levels = new Map<number, Level>();
  /** Bumped by every state change: a level's counts are redone when drawn after one. */
  private stateVersion = 0;
  private levelState = new Map<number, number>();
  /** The level and state version whose vertices are on the GPU. */
  private uploaded: { level: Level; version: number } | null = null;
  /** Per cluster of the uploaded level: first text vertex (prefix sums). */
  private glyphStart = new Uint32Array(1);
  private colours: number[][];
  /** Digits drawn into the atlas (the current language's numerals). */
  private digits: string[];
  /** The level drawn by the last frame (for picking and the test hooks). */
  current: Level | null = null;
  /** Called once after the first frame that drew the current data (for the first-render measurement). */
  onDrawn: (() => void) | null = null;

  constructor(colours: string[], digits: string[] = "0123456789".split("")) {
    this.colours = colours.map(hexToRgba);
    this.digits = digits;
  }

  setData(lon: ArrayLike<number>, lat: ArrayLike<number>, states: Uint8Array): void {
    const n = states.length;
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    const mx = new Float64Array(n);
    const my = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = mercX(lon[i]);
      const y = mercY(lat[i]);
      mx[i] = x;
      my[i] = y;
      if (Number.isFinite(x) && Number.isFinite(y)) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
    this.spanX = Number.isFinite(minX) ? maxX - minX : 0;
    this.spanY = Number.isFinite(minY) ? maxY - minY : 0;
    this.ox = Number.isFinite(minX) ? (minX + maxX) / 2 : 0.5;
    this.oy = Number.isFinite(minY) ? (minY + maxY) / 2 : 0.5;
    this.rel = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const ok = Number.isFinite(mx[i]) && Number.isFinite(my[i]);
      this.rel[2 * i] = ok ? mx[i] - this.ox : 10;
      this.rel[2 * i + 1] = ok ? my[i] - this.oy : 10;
    }
    this.states = states;
    this.levels.clear();
    this.hiddenMask = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.hiddenMask[i] = states[i] === HIDDEN ? 1 : 0;
    this.countShown();
    this.uploaded = null;
    this.map?.triggerRepaint();
  }

  /** After changing `states` in place: a camera shown or hidden re-clusters, a state change only recounts. */
  statesChanged(): void {
    let regroup = this.hiddenMask.length !== this.states.length;
    if (!regroup)
      for (let i = 0; i < this.states.length; i++) {
        const h = this.states[i] === HIDDEN ? 1 : 0;
        if (h !== this.hiddenMask[i]) {
          regroup = true;
          this.hiddenMask[i] = h;
        }
      }
    if (regroup) {
      this.levels.clear();
      this.uploaded = null;
    }
    this.stateVersion++;
    this.countShown();
    this.map?.triggerRepaint();
  }

  private countShown(): void {
    let n = 0;
    const st = this.states;
    for (let i = 0; i < st.length; i++) if (st[i] !== HIDDEN) n++;
    this.shown = n;
  }

  /** Point diameter (CSS px) of a single camera: grows with zoom, never much larger than the mean spacing. */
  sizeAt(zoom: number): number {
    const worldPx = 512 * Math.pow(2, zoom);
    const area = Math.max(1, this.spanX * worldPx) * Math.max(1, this.spanY * worldPx);
    const spacing = Math.sqrt(area / Math.max(1, this.shown));
    return Math.min(this.pointSize(zoom), Math.max(zoom >= 14 ? 8 : 4, spacing * 0.9));
  }

  /** Diameter (CSS px) of a cluster of `count` cameras (as the vertex shader draws it). */
  static clusterSize(count: number): number {
    return 14 + 6 * String(Math.max(1, count)).length;
  }

  /** The clusters at a zoom (built on first use, recounted after state changes). */
  level(zoom: number): Level {
    const z = Math.max(0, Math.min(24, Math.floor(zoom)));
    let lv = this.levels.get(z);
    if (!lv) {
      lv = buildLevel(this.rel, this.states, z, 5);
      this.levels.set(z, lv);
      this.levelState.set(z, this.stateVersion);
    } else if (this.levelState.get(z) !== this.stateVersion) {
      restate(lv, this.states);
      this.levelState.set(z, this.stateVersion);
    }
    return lv;
  }

  onAdd(map: MlMap, gl: GL): void {
    this.map = map;
    this.gl = gl;
    this.prog = program(gl, VS, FS);
    this.textProg = program(gl, TEXT_VS, TEXT_FS);
    this.pointBuf = gl.createBuffer();
    this.textBuf = gl.createBuffer();
    this.atlas = this.makeAtlas(gl);
    this.uploaded = null;
  }

  onRemove(): void {
    const gl = this.gl;
    if (gl) {
      if (this.prog) gl.deleteProgram(this.prog);
      if (this.textProg) gl.deleteProgram(this.textProg);
      if (this.pointBuf) gl.deleteBuffer(this.pointBuf);
      if (this.textBuf) gl.deleteBuffer(this.textBuf);
      if (this.atlas) gl.deleteTexture(this.atlas);
    }
    this.map = null;
    this.gl = null;
  }

  /** Ten digits in white on transparent, one GW x GH cell each (scaled by the device pixel ratio). */
  private makeAtlas(gl: GL): WebGLTexture {
    const dpr = window.devicePixelRatio || 1;
    const c = document.createElement("canvas");
    c.width = Math.ceil(GW * 10 * dpr);
    c.height = Math.ceil(GH * dpr);
    const g = c.getContext("2d")!;
    g.scale(dpr, dpr);
    g.fillStyle = "#fff";
    g.font = "bold 12px sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    this.digits.forEach((d, k) => g.fillText(d, k * GW + GW / 2, GH / 2 + 1, GW));
    const tex = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, c);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return tex;
  }

  pointSize(zoom: number): number {
    const stops: [number, number][] = [[10, 3], [13, 5], [15, 8], [17, 12], [19, 18]];
    if (zoom <= stops[0][0]) return stops[0][1];
    for (let k = 1; k < stops.length; k++) {
      if (zoom <= stops[k][0]) {
        const [z0, s0] = stops[k - 1];
        const [z1, s1] = stops[k];
        return s0 + ((zoom - z0) / (z1 - z0)) * (s1 - s0);
      }
    }
    return stops[stops.length - 1][1];
  }

  /** The state of a single-camera cluster (its only member's), else -1. */
  private singleState(lv: Level, k: number): number {
    return lv.count[k] === 1 ? this.states[lv.members[lv.start[k]]] : -1;
  }

  /** Vertices of a level: per cluster (x, y, count, state, ring x4), and per digit of its count 6 text vertices. */
  private upload(gl: GL, lv: Level): void {
    const pts = new Float32Array(lv.n * 8);
    const counts = new Uint32Array(5);
    let glyphs = 0;
    for (let k = 0; k < lv.n; k++) if (lv.count[k] > 1) glyphs += String(lv.count[k]).length;
    const txt = new Float32Array(glyphs * 6 * 6);
    this.glyphStart = new Uint32Array(lv.n + 1);
    let t = 0;
    for (let k = 0; k < lv.n; k++) {
      for (let s = 0; s < 5; s++) counts[s] = lv.byState[k * 5 + s];
      const ring = ringBytes(counts, RING_ORDER);
      const o = k * 8;
      pts[o] = lv.x[k];
      pts[o + 1] = lv.y[k];
      pts[o + 2] = lv.count[k];
      pts[o + 3] = Math.max(0, this.singleState(lv, k));
      for (let j = 0; j < 4; j++) pts[o + 4 + j] = ring[j] / 255;
      if (lv.count[k] > 1) {
        const s = String(lv.count[k]);
        const x0 = (-s.length * GW) / 2;
        for (let d = 0; d < s.length; d++) {
          const u0 = (s.charCodeAt(d) - 48) / 10;
          const u1 = u0 + 0.1;
          const l = x0 + d * GW, r = l + GW, top = -GH / 2, bot = GH / 2;
          const quad = [[l, top, u0, 0], [r, top, u1, 0], [l, bot, u0, 1], [r, top, u1, 0], [r, bot, u1, 1], [l, bot, u0, 1]];
          for (const [ox, oy, u, v] of quad) {
            txt.set([lv.x[k], lv.y[k], ox, oy, u, v], t);
            t += 6;
          }
        }
      }
      this.glyphStart[k + 1] = t / 6;
    }
    gl.bindBuffer(gl.ARRAY_BUFFER, this.pointBuf);
    gl.bufferData(gl.ARRAY_BUFFER, pts, gl.DYNAMIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.textBuf);
    gl.bufferData(gl.ARRAY_BUFFER, txt, gl.DYNAMIC_DRAW);
    this.uploaded = { level: lv, version: this.stateVersion };
  }

  private matrix(options: CustomRenderMethodInput): Float32Array {
    // u_matrix = MVP x translate(ox, oy), composed in float64 so the float32 uniform keeps street precision.
    // MapLibre 5: defaultProjectionData.mainMatrix maps mercator 0..1 to clip space (mercator projection).
    const m = options.defaultProjectionData.mainMatrix as unknown as ArrayLike<number>;
    const u = new Float32Array(16);
    for (let i = 0; i < 12; i++) u[i] = m[i];
    for (let i = 0; i < 4; i++) u[12 + i] = m[i] * this.ox + m[4 + i] * this.oy + m[12 + i];
    return u;
  }

  /** Cluster ranges in view (with a margin of the largest cluster). */
  visibleRanges(lv: Level): [number, number][] {
    const map = this.map;
    if (!map) return [[0, lv.n]];
    const b = map.getBounds();
    const pad = 40 / (512 * 2 ** map.getZoom());
    return rangesIn(
      lv,
      mercX(b.getWest()) - this.ox - pad,
      mercY(b.getNorth()) - this.oy - pad,
      mercX(b.getEast()) - this.ox + pad,
      mercY(b.getSouth()) - this.oy + pad,
    );
  }

  render(gl: GL, options: CustomRenderMethodInput): void {
    if (!this.prog || !this.textProg || this.states.length === 0 || !this.map) return;
    const lv = this.level(this.map.getZoom());
    this.current = lv;
    if (!this.uploaded || this.uploaded.level !== lv || this.uploaded.version !== this.stateVersion) this.upload(gl, lv);
    const ranges = this.visibleRanges(lv);
    const u = this.matrix(options);
    const dpr = window.devicePixelRatio || 1;
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);

    const p = this.prog;
    gl.useProgram(p);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.pointBuf);
    const attrs: [string, number, number][] = [["a_pos", 2, 0], ["a_count", 1, 8], ["a_state", 1, 12], ["a_ring", 4, 16]];
    const locs = attrs.map(([name, size, off]) => {
      const loc = gl.getAttribLocation(p, name);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, gl.FLOAT, false, 32, off);
      return loc;
    });
    gl.uniformMatrix4fv(gl.getUniformLocation(p, "u_matrix"), false, u);
    gl.uniform1f(gl.getUniformLocation(p, "u_size"), this.sizeAt(this.map.getZoom()) * dpr);
    gl.uniform1f(gl.getUniformLocation(p, "u_dpr"), dpr);
    this.colours.forEach((c, k) => gl.uniform4fv(gl.getUniformLocation(p, `u_c${k}`), c));
    for (const [a, b] of ranges) gl.drawArrays(gl.POINTS, a, b - a);
    for (const loc of locs) gl.disableVertexAttribArray(loc);

    const tp = this.textProg;
    gl.useProgram(tp);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.textBuf);
    const tlocs = ([["a_pos", 2, 0], ["a_off", 2, 8], ["a_uv", 2, 16]] as [string, number, number][]).map(([name, size, off]) => {
      const loc = gl.getAttribLocation(tp, name);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, gl.FLOAT, false, 24, off);
      return loc;
    });
    gl.uniformMatrix4fv(gl.getUniformLocation(tp, "u_matrix"), false, u);
    gl.uniform2f(gl.getUniformLocation(tp, "u_px"), (2 * dpr) / gl.drawingBufferWidth, (-2 * dpr) / gl.drawingBufferHeight);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.atlas);
    gl.uniform1i(gl.getUniformLocation(tp, "u_tex"), 0);
    for (const [a, b] of ranges) {
      const g0 = this.glyphStart[a], g1 = this.glyphStart[b];
      if (g1 > g0) gl.drawArrays(gl.TRIANGLES, g0, g1 - g0);
    }
    for (const loc of tlocs) gl.disableVertexAttribArray(loc);

    if (this.onDrawn) {
      const cb = this.onDrawn;
      this.onDrawn = null;
      requestAnimationFrame(() => cb());
    }
  }

  /** The cluster of the current level under mercator point (x, y), given the zoom (for sizes), or -1. */
  pick(x: number, y: number, zoom: number): number {
    const lv = this.current ?? this.level(zoom);
    const worldPx = 512 * 2 ** zoom;
    const rx = x - this.ox, ry = y - this.oy;
    const reach = 30 / worldPx;
    let best = -1;
    let bestD = Infinity;
    for (const [a, b] of rangesIn(lv, rx - reach, ry - reach, rx + reach, ry + reach))
      for (let k = a; k < b; k++) {
        const d = Math.hypot(lv.x[k] - rx, lv.y[k] - ry) * worldPx;
        const r = (lv.count[k] > 1 ? CameraLayer.clusterSize(lv.count[k]) : this.sizeAt(zoom)) / 2 + 3;
        if (d <= Math.max(6, r) && d < bestD) {
          bestD = d;
          best = k;
        }
      }
    return best;
  }

  /** The cameras of cluster k of the current level. */
  membersOf(k: number): number[] {
    const lv = this.current;
    if (!lv || k < 0 || k >= lv.n) return [];
    return Array.from(lv.members.subarray(lv.start[k], lv.start[k + 1]));
  }

  /** Mercator [x0, y0, x1, y1] (absolute) of the given cameras. */
  extentOf(cams: number[]): [number, number, number, number] {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const i of cams) {
      const x = this.rel[2 * i] + this.ox, y = this.rel[2 * i + 1] + this.oy;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    return [x0, y0, x1, y1];
  }

  /** Visible clusters of the current level: centre (absolute mercator), count and count per state. */
  clustersInView(): { x: number; y: number; count: number; byState: number[] }[] {
    const lv = this.current;
    if (!lv) return [];
    const out: { x: number; y: number; count: number; byState: number[] }[] = [];
    for (const [a, b] of this.visibleRanges(lv))
      for (let k = a; k < b; k++)
        out.push({ x: lv.x[k] + this.ox, y: lv.y[k] + this.oy, count: lv.count[k], byState: Array.from(lv.byState.subarray(k * 5, k * 5 + 5)) });
    return out;
  }
}
