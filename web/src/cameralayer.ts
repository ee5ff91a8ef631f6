// Every camera in one WebGL draw call: a MapLibre custom layer drawing gl.POINTS from typed arrays (positions
// relative to the data's centre for float32 precision, one state byte per camera). No worker, no tiling, no
// per-camera objects: 62,000 cameras upload ~750 KB once; a state change or a filter rewrites one byte each.
import type { CustomLayerInterface, CustomRenderMethodInput, Map as MlMap } from "maplibre-gl";

export const HIDDEN = 255;

export function mercX(lon: number): number {
  return (lon + 180) / 360;
}

export function mercY(lat: number): number {
  const s = Math.sin((lat * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

const VS = `
attribute vec2 a_pos;
attribute float a_state;
uniform mat4 u_matrix;
uniform float u_size;
uniform vec4 u_c0; uniform vec4 u_c1; uniform vec4 u_c2; uniform vec4 u_c3; uniform vec4 u_c4;
varying vec4 v_color;
void main() {
  if (a_state > 100.0) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; v_color = vec4(0.0); return; }
  gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = a_state < 0.5 ? u_c0 : a_state < 1.5 ? u_c1 : a_state < 2.5 ? u_c2 : a_state < 3.5 ? u_c3 : u_c4;
}`;

const FS = `
precision highp float;
varying vec4 v_color;
uniform float u_size;
void main() {
  vec2 c = gl_PointCoord * 2.0 - 1.0;
  float d = length(c);
  float ring = u_size > 7.0 ? step(1.0 - 2.0 / u_size, d) : 0.0;
  vec3 rgb = mix(v_color.rgb, vec3(0.0), ring * 0.8);
  float a = 1.0 - smoothstep(1.0 - 1.5 / u_size, 1.0, d);
  gl_FragColor = vec4(rgb * a, a);
}`;

function hexToRgba(hex: string): [number, number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255, 1];
}

export class CameraLayer implements CustomLayerInterface {
  readonly id = "cameras";
  readonly type = "custom" as const;
  readonly renderingMode = "2d" as const;
  private map: MlMap | null = null;
  private gl: WebGLRenderingContext | WebGL2RenderingContext | null = null;
  private prog: WebGLProgram | null = null;
  private posBuf: WebGLBuffer | null = null;
  private stateBuf: WebGLBuffer | null = null;
  /** Mercator positions relative to (ox, oy). */
  rel = new Float32Array(0);
  /** Per camera: state code 0..3 or HIDDEN. */
  states: Uint8Array = new Uint8Array(0);
  private ox = 0;
  private oy = 0;
  /** Mercator extent of the data and number of shown cameras: points shrink where they would pile up. */
  private spanX = 0;
  private spanY = 0;
  private shown = 0;
  private posDirty = false;
  private stateDirty = false;
  private colours: number[][];
  /** Called once after the first frame that drew the current data (for the first-render measurement). */
  onDrawn: (() => void) | null = null;

  constructor(colours: string[]) {
    this.colours = colours.map(hexToRgba);
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
    this.countShown();
    this.posDirty = true;
    this.stateDirty = true;
    this.map?.triggerRepaint();
  }

  /** After changing `states` in place. */
  statesChanged(): void {
    this.countShown();
    this.stateDirty = true;
    this.map?.triggerRepaint();
  }

  private countShown(): void {
    let n = 0;
    const st = this.states;
    for (let i = 0; i < st.length; i++) if (st[i] !== HIDDEN) n++;
    this.shown = n;
  }

  /** Point diameter (CSS px): grows with zoom, but never much larger than the mean spacing of the shown cameras. */
  sizeAt(zoom: number): number {
    const worldPx = 512 * Math.pow(2, zoom);
    const area = Math.max(1, this.spanX * worldPx) * Math.max(1, this.spanY * worldPx);
    const spacing = Math.sqrt(area / Math.max(1, this.shown));
    return Math.min(this.pointSize(zoom), Math.max(2, spacing * 0.9));
  }

  onAdd(map: MlMap, gl: WebGLRenderingContext | WebGL2RenderingContext): void {
    this.map = map;
    this.gl = gl;
    const sh = (type: number, src: string) => {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`camera shader: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const p = gl.createProgram()!;
    gl.attachShader(p, sh(gl.VERTEX_SHADER, VS));
    gl.attachShader(p, sh(gl.FRAGMENT_SHADER, FS));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`camera program: ${gl.getProgramInfoLog(p)}`);
    this.prog = p;
    this.posBuf = gl.createBuffer();
    this.stateBuf = gl.createBuffer();
    this.posDirty = this.stateDirty = true;
  }

  onRemove(): void {
    const gl = this.gl;
    if (gl) {
      if (this.prog) gl.deleteProgram(this.prog);
      if (this.posBuf) gl.deleteBuffer(this.posBuf);
      if (this.stateBuf) gl.deleteBuffer(this.stateBuf);
    }
    this.map = null;
    this.gl = null;
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

  render(gl: WebGLRenderingContext | WebGL2RenderingContext, options: CustomRenderMethodInput): void {
    const n = this.states.length;
    if (!this.prog || n === 0 || !this.map) return;
    gl.useProgram(this.prog);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuf);
    if (this.posDirty) {
      gl.bufferData(gl.ARRAY_BUFFER, this.rel, gl.STATIC_DRAW);
      this.posDirty = false;
    }
    const aPos = gl.getAttribLocation(this.prog, "a_pos");
    gl.enableVertexAttribArray(aPos);
    gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.stateBuf);
    if (this.stateDirty) {
      gl.bufferData(gl.ARRAY_BUFFER, this.states, gl.DYNAMIC_DRAW);
      this.stateDirty = false;
    }
    const aState = gl.getAttribLocation(this.prog, "a_state");
    gl.enableVertexAttribArray(aState);
    gl.vertexAttribPointer(aState, 1, gl.UNSIGNED_BYTE, false, 0, 0);
    // u_matrix = MVP x translate(ox, oy), composed in float64 so the float32 uniform keeps street precision.
    // MapLibre 5: defaultProjectionData.mainMatrix maps mercator 0..1 to clip space (mercator projection).
    const m = options.defaultProjectionData.mainMatrix as unknown as ArrayLike<number>;
    const u = new Float32Array(16);
    for (let i = 0; i < 12; i++) u[i] = m[i];
    for (let i = 0; i < 4; i++) u[12 + i] = m[i] * this.ox + m[4 + i] * this.oy + m[12 + i];
    gl.uniformMatrix4fv(gl.getUniformLocation(this.prog, "u_matrix"), false, u);
    gl.uniform1f(gl.getUniformLocation(this.prog, "u_size"), this.sizeAt(this.map.getZoom()) * (window.devicePixelRatio || 1));
    this.colours.forEach((c, k) => gl.uniform4fv(gl.getUniformLocation(this.prog!, `u_c${k}`), c));
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.drawArrays(gl.POINTS, 0, n);
    gl.disableVertexAttribArray(aPos);
    gl.disableVertexAttribArray(aState);
    if (this.onDrawn) {
      const cb = this.onDrawn;
      this.onDrawn = null;
      requestAnimationFrame(() => cb());
    }
  }

  /** Index of the visible camera nearest to mercator point (x, y) within `radius` (mercator units), or -1. */
  nearest(x: number, y: number, radius: number): number {
    const rx = x - this.ox;
    const ry = y - this.oy;
    let best = -1;
    let bestD = radius * radius;
    const rel = this.rel;
    const st = this.states;
    for (let i = 0, n = st.length; i < n; i++) {
      if (st[i] === HIDDEN) continue;
      const dx = rel[2 * i] - rx;
      const dy = rel[2 * i + 1] - ry;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }
}
