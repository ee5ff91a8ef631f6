// Just enough ISO-BMFF to build the MSE codec string from a segment's own init (moov/.../stsd/avc1|hvc1).

function u32(d: DataView, o: number): number {
  return d.getUint32(o);
}

function fourcc(d: DataView, o: number): string {
  return String.fromCharCode(d.getUint8(o), d.getUint8(o + 1), d.getUint8(o + 2), d.getUint8(o + 3));
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** The top-level box [start, end) with this type, scanning at most until the first moof. */
function topBox(d: DataView, type: string): [number, number] | null {
  let o = 0;
  while (o + 8 <= d.byteLength) {
    let size = u32(d, o);
    const t = fourcc(d, o + 4);
    if (size === 1 && o + 16 <= d.byteLength) size = Number(d.getBigUint64(o + 8));
    else if (size === 0) size = d.byteLength - o;
    if (size < 8) return null;
    if (t === type) return [o, Math.min(d.byteLength, o + size)];
    if (t === "moof" || t === "mdat") return null;
    o += size;
  }
  return null;
}

function indexOf(d: DataView, from: number, to: number, s: string): number {
  const c = [...s].map((x) => x.charCodeAt(0));
  for (let i = from; i + 4 <= to; i++) {
    if (d.getUint8(i) === c[0] && d.getUint8(i + 1) === c[1] && d.getUint8(i + 2) === c[2] && d.getUint8(i + 3) === c[3]) return i;
  }
  return -1;
}

function reverseBits32(x: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) {
    r = (r << 1) | (x & 1);
    x >>>= 1;
  }
  return r >>> 0;
}

/** e.g. 'video/mp4; codecs="avc1.4d401f"' or 'video/mp4; codecs="hvc1.1.6.L93.B0"'; null if not found. */
export function mimeFromInit(buf: ArrayBuffer): string | null {
  const d = new DataView(buf);
  const moov = topBox(d, "moov");
  if (!moov) return null;
  const [a, b] = moov;
  for (const entry of ["avc1", "avc3"]) {
    const e = indexOf(d, a, b, entry);
    if (e < 0) continue;
    const c = indexOf(d, e, b, "avcC");
    if (c < 0 || c + 8 > b) continue;
    return `video/mp4; codecs="${entry}.${hex2(d.getUint8(c + 5))}${hex2(d.getUint8(c + 6))}${hex2(d.getUint8(c + 7))}"`;
  }
  for (const entry of ["hvc1", "hev1"]) {
    const e = indexOf(d, a, b, entry);
    if (e < 0) continue;
    const c = indexOf(d, e, b, "hvcC");
    if (c < 0 || c + 17 > b) continue;
    const p = c + 4; // payload after the type
    const b1 = d.getUint8(p + 1);
    const space = ["", "A", "B", "C"][b1 >> 6];
    const tier = (b1 >> 5) & 1 ? "H" : "L";
    const profile = b1 & 0x1f;
    const compat = reverseBits32(u32(d, p + 2)).toString(16);
    const cons: number[] = [];
    for (let i = 0; i < 6; i++) cons.push(d.getUint8(p + 6 + i));
    while (cons.length > 0 && cons[cons.length - 1] === 0) cons.pop();
    const level = d.getUint8(p + 12);
    const consStr = cons.map((x) => x.toString(16).toUpperCase()).join(".");
    return `video/mp4; codecs="${entry}.${space}${profile}.${compat}.${tier}${level}${consStr ? `.${consStr}` : ""}"`;
  }
  return null;
}

export interface Fragment {
  /** Byte range [start, end) of one moof (+ its mdat). */
  start: number;
  end: number;
  /** baseMediaDecodeTime / timescale, seconds from the file's media start. */
  timeS: number;
  /** First sample is a sync sample (keyframe); null when the file does not say. */
  key: boolean | null;
}

export interface FragmentIndex {
  /** End of the init part (ftyp + moov + anything before the first moof). */
  initEnd: number;
  timescale: number;
  fragments: Fragment[];
}

function findChild(d: DataView, from: number, to: number, type: string): [number, number] | null {
  let o = from;
  while (o + 8 <= to) {
    const size = u32(d, o);
    if (size < 8) return null;
    if (fourcc(d, o + 4) === type) return [o, Math.min(to, o + size)];
    o += size;
  }
  return null;
}

function child(d: DataView, box: [number, number] | null, path: string[], headerExtra = 0): [number, number] | null {
  let cur = box;
  for (const t of path) {
    if (!cur) return null;
    cur = findChild(d, cur[0] + 8 + headerExtra, cur[1], t);
  }
  return cur;
}

function firstSampleKey(d: DataView, traf: [number, number]): boolean | null {
  const NON_SYNC = 0x10000;
  const trun = findChild(d, traf[0] + 8, traf[1], "trun");
  if (trun) {
    const flags = u32(d, trun[0] + 8) & 0xffffff;
    let o = trun[0] + 16;
    if (flags & 0x1) o += 4;
    if (flags & 0x4) return (u32(d, o) & NON_SYNC) === 0;
    if (flags & 0x400) {
      if (flags & 0x100) o += 4;
      if (flags & 0x200) o += 4;
      return (u32(d, o) & NON_SYNC) === 0;
    }
  }
  const tfhd = findChild(d, traf[0] + 8, traf[1], "tfhd");
  if (tfhd) {
    const flags = u32(d, tfhd[0] + 8) & 0xffffff;
    let o = tfhd[0] + 16;
    if (flags & 0x1) o += 8;
    if (flags & 0x2) o += 4;
    if (flags & 0x8) o += 4;
    if (flags & 0x10) o += 4;
    if (flags & 0x20) return (u32(d, o) & NON_SYNC) === 0;
  }
  return null;
}

/** Index a fragmented MP4 file: init end, timescale and each fragment's time and key flag. Null if not fMP4. */
export function indexFragments(buf: ArrayBuffer): FragmentIndex | null {
  const d = new DataView(buf);
  let timescale = 0;
  let initEnd = -1;
  const fragments: Fragment[] = [];
  let o = 0;
  while (o + 8 <= d.byteLength) {
    let size = u32(d, o);
    const t = fourcc(d, o + 4);
    if (size === 1 && o + 16 <= d.byteLength) size = Number(d.getBigUint64(o + 8));
    else if (size === 0) size = d.byteLength - o;
    if (size < 8) break;
    const end = Math.min(d.byteLength, o + size);
    if (t === "moov") {
      const mdhd = child(d, [o, end], ["trak", "mdia", "mdhd"]);
      if (mdhd) timescale = d.getUint8(mdhd[0] + 8) === 1 ? u32(d, mdhd[0] + 28) : u32(d, mdhd[0] + 20);
    } else if (t === "moof") {
      if (initEnd < 0) initEnd = o;
      const traf = findChild(d, o + 8, end, "traf");
      let dt = 0;
      let key: boolean | null = null;
      if (traf) {
        const tfdt = findChild(d, traf[0] + 8, traf[1], "tfdt");
        if (tfdt) dt = d.getUint8(tfdt[0] + 8) === 1 ? Number(d.getBigUint64(tfdt[0] + 12)) : u32(d, tfdt[0] + 12);
        key = firstSampleKey(d, traf);
      }
      fragments.push({ start: o, end, timeS: timescale ? dt / timescale : 0, key });
    } else if (t === "mdat" && fragments.length > 0) {
      fragments[fragments.length - 1].end = end;
    }
    o += size;
  }
  if (initEnd < 0 || !timescale) return null;
  return { initEnd, timescale, fragments };
}

/**
 * Split a segment file into appends ordered for a fast first picture at `targetS` (seconds into the file):
 * init + the fragments from the keyframe at or before the target to ~`aheadS` after it first, then the rest
 * after it, then what came before (which starts with the file's own first keyframe).
 */
export function seekOrder(idx: FragmentIndex, targetS: number, aheadS = 1.0): [number, number][] {
  const f = idx.fragments;
  if (f.length < 4) return [[0, f.length ? f[f.length - 1].end : idx.initEnd]];
  let k = 0;
  for (let i = 0; i < f.length; i++) {
    if (f[i].timeS > targetS) break;
    if (f[i].key !== false) k = i;
  }
  let m = k;
  while (m + 1 < f.length && f[m + 1].timeS <= targetS + aheadS) m++;
  const parts: [number, number][] = [];
  parts.push([f[k].start, f[m].end]);
  if (m + 1 < f.length) parts.push([f[m + 1].start, f[f.length - 1].end]);
  if (k > 0) parts.push([f[0].start, f[k - 1].end]);
  return parts;
}
