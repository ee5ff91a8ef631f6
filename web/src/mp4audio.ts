// The audio track of camgrid's segments (docs/design/audio.md): its MSE codec ("mp4a.40.2", "opus"), and the file
// without it for a browser that cannot play it (G.711 A-law/µ-law in every browser's MSE), so the pictures play.
import { mimeFromInit } from "./mp4";

type Box = [type: string, start: number, end: number];

function boxes(d: DataView, from: number, to: number): Box[] {
  const out: Box[] = [];
  let o = from;
  while (o + 8 <= to) {
    const size = d.getUint32(o);
    if (size < 8 || o + size > to) break;
    out.push([String.fromCharCode(d.getUint8(o + 4), d.getUint8(o + 5), d.getUint8(o + 6), d.getUint8(o + 7)), o, o + size]);
    o += size;
  }
  return out;
}

function find(d: DataView, box: Box, path: string[], skip = 8): Box | null {
  let cur: Box | null = box;
  for (const t of path) {
    if (!cur) return null;
    const found: Box | undefined = boxes(d, cur[1] + (cur === box ? skip : 8), cur[2]).find((b) => b[0] === t);
    cur = found ?? null;
  }
  return cur;
}

function isSound(d: DataView, trak: Box): boolean {
  const hdlr = find(d, trak, ["mdia", "hdlr"]);
  return hdlr !== null && d.getUint32(hdlr[1] + 16) === 0x736f756e; // 'soun'
}

function trackId(d: DataView, trak: Box): number {
  const tkhd = find(d, trak, ["tkhd"]);
  return tkhd ? d.getUint32(tkhd[1] + (d.getUint8(tkhd[1] + 8) === 1 ? 28 : 20)) : 0;
}

function soundTrak(d: DataView): Box | null {
  const moov = boxes(d, 0, d.byteLength).find((b) => b[0] === "moov");
  if (!moov) return null;
  return boxes(d, moov[1] + 8, moov[2]).find((b) => b[0] === "trak" && isSound(d, b)) ?? null;
}

/** The audio track's RFC 6381 codec ("mp4a.40.2", "opus", "alaw", "ulaw"), or null for a video-only file. */
export function audioCodecOf(buf: ArrayBuffer): string | null {
  const d = new DataView(buf);
  const trak = soundTrak(d);
  if (!trak) return null;
  const stsd = find(d, trak, ["mdia", "minf", "stbl", "stsd"]);
  if (!stsd) return null;
  const entry = boxes(d, stsd[1] + 16, stsd[2])[0];
  if (!entry) return null;
  if (entry[0] === "Opus") return "opus";
  if (entry[0] === "alaw" || entry[0] === "ulaw") return entry[0];
  if (entry[0] !== "mp4a") return entry[0];
  const esds = boxes(d, entry[1] + 36, entry[2]).find((b) => b[0] === "esds");
  if (!esds) return "mp4a.40.2";
  // ES_Descriptor (3) > DecoderConfigDescriptor (4) > DecoderSpecificInfo (5): the object type is its first 5 bits.
  let o = esds[1] + 12;
  const len = () => {
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const b = d.getUint8(o++);
      n = (n << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return n;
  };
  while (o < esds[2]) {
    const tag = d.getUint8(o++);
    const n = len();
    if (tag === 3) o += 3;
    else if (tag === 4) o += 13;
    else if (tag === 5) return `mp4a.40.${d.getUint8(o) >> 3}`;
    else o += n;
  }
  return "mp4a.40.2";
}

/** The MSE type to play a segment with, and whether its audio must be dropped first (a codec the browser lacks). */
export function playableMime(buf: ArrayBuffer, fallback: string): { mime: string; dropAudio: boolean } {
  const video = mimeFromInit(buf) ?? fallback;
  const audio = audioCodecOf(buf);
  if (!audio) return { mime: video, dropAudio: false };
  const both = video.replace(/"$/, `,${audio}"`);
  if (typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(both)) return { mime: both, dropAudio: false };
  return { mime: video, dropAudio: true };
}

function wrap(head: Uint8Array, pieces: Uint8Array[]): Uint8Array {
  const size = 8 + pieces.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  out.set(head.subarray(0, 8), 0);
  new DataView(out.buffer).setUint32(0, size);
  let o = 8;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The file without its audio track: the trak and trex in the moov, the audio traf in each moof (its bytes stay
 * unreferenced in the mdat; the other trafs' data offsets, relative to their moof, move by what was cut). */
export function withoutAudio(buf: ArrayBuffer): ArrayBuffer {
  const d = new DataView(buf);
  const trak = soundTrak(d);
  if (!trak) return buf;
  const id = trackId(d, trak);
  const src = new Uint8Array(buf);
  const bytes = (b: Box) => src.subarray(b[1], b[2]);
  const parts: Uint8Array[] = [];
  for (const top of boxes(d, 0, d.byteLength)) {
    if (top[0] === "moov") {
      const pieces: Uint8Array[] = [];
      for (const b of boxes(d, top[1] + 8, top[2])) {
        if (b[0] === "trak" && b[1] === trak[1]) continue;
        if (b[0] === "mvex") {
          const trex = boxes(d, b[1] + 8, b[2]).filter((x) => !(x[0] === "trex" && d.getUint32(x[1] + 12) === id));
          pieces.push(wrap(bytes(b), trex.map(bytes)));
        } else pieces.push(bytes(b));
      }
      parts.push(wrap(bytes(top), pieces));
    } else if (top[0] === "moof") {
      const keep = boxes(d, top[1] + 8, top[2]).filter((b) => {
        const tfhd = b[0] === "traf" ? find(d, b, ["tfhd"]) : null;
        return !(tfhd && d.getUint32(tfhd[1] + 12) === id);
      });
      const moof = wrap(bytes(top), keep.map(bytes));
      const cut = top[2] - top[1] - moof.length;
      const od = new DataView(moof.buffer);
      for (const traf of boxes(od, 8, moof.length)) {
        if (traf[0] !== "traf") continue;
        for (const trun of boxes(od, traf[1] + 8, traf[2])) {
          if (trun[0] === "trun" && od.getUint32(trun[1] + 8) & 0x1) od.setInt32(trun[1] + 16, od.getInt32(trun[1] + 16) - cut);
        }
      }
      parts.push(moof);
    } else parts.push(bytes(top));
  }
  return wrap(new Uint8Array(8), parts).slice(8).buffer;
}
