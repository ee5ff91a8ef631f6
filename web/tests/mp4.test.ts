import { describe, expect, it } from "vitest";
import { indexFragments, mimeFromInit, seekOrder } from "../src/mp4";

function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const len = 8 + parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(len);
  const d = new DataView(out.buffer);
  d.setUint32(0, len);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u32s(...xs: number[]): Uint8Array {
  const out = new Uint8Array(4 * xs.length);
  const d = new DataView(out.buffer);
  xs.forEach((x, i) => d.setUint32(4 * i, x >>> 0));
  return out;
}

const bytes = (...xs: number[]) => Uint8Array.from(xs);

// mdhd v0: version/flags, creation, modification, timescale, duration, lang+pre
const mdhd = (ts: number) => box("mdhd", u32s(0, 0, 0, ts, 0, 0));
// A visual sample entry: 78 bytes of fields then the config box.
const avc1 = box("avc1", new Uint8Array(78), box("avcC", bytes(1, 0x4d, 0x40, 0x1f, 0xff)));
const hvcC = box(
  "hvcC",
  bytes(1, 0x01, 0x60, 0x00, 0x00, 0x00, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 93),
  new Uint8Array(10),
);
const hvc1 = box("hvc1", new Uint8Array(78), hvcC);
const moov = (entry: Uint8Array, ts = 90000) =>
  box("moov", box("trak", box("mdia", mdhd(ts), box("minf", box("stbl", box("stsd", u32s(0, 1), entry))))));

function moof(decode: number, key: boolean): Uint8Array {
  const tfhd = box("tfhd", u32s(0x20, 1, key ? 0x02000000 : 0x01010000)); // default_sample_flags
  const tfdt = box("tfdt", u32s(0, decode));
  const trun = box("trun", u32s(0x1, 1, 0));
  return box("moof", box("traf", tfhd, tfdt, trun));
}

function file(frags: [number, boolean][]): ArrayBuffer {
  const parts = [box("ftyp", bytes(0x69, 0x73, 0x6f, 0x6d)), moov(avc1)];
  for (const [t, k] of frags) parts.push(moof(t, k), box("mdat", new Uint8Array(16)));
  const len = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.buffer;
}

describe("codec string from the init segment", () => {
  it("reads avcC profile/compat/level", () => {
    expect(mimeFromInit(file([]))).toBe('video/mp4; codecs="avc1.4d401f"');
  });
  it("reads hvcC into an hvc1 string", () => {
    const m = moov(hvc1);
    expect(mimeFromInit(m.slice().buffer)).toBe('video/mp4; codecs="hvc1.1.6.L93.B0"');
  });
  it("returns null without a moov", () => {
    expect(mimeFromInit(box("ftyp", bytes(1, 2, 3, 4)).slice().buffer)).toBeNull();
  });
});

describe("fragment index and seek order", () => {
  // 10 fragments of 0.5 s, keyframe every 4th.
  const frags: [number, boolean][] = Array.from({ length: 10 }, (_, i) => [i * 45000, i % 4 === 0]);
  const buf = file(frags);
  const idx = indexFragments(buf)!;
  it("indexes times and key flags", () => {
    expect(idx.timescale).toBe(90000);
    expect(idx.fragments.map((f) => f.timeS)).toEqual(frags.map(([t]) => t / 90000));
    expect(idx.fragments.map((f) => f.key)).toEqual(frags.map(([, k]) => k));
    expect(idx.fragments[0].start).toBe(idx.initEnd);
    expect(idx.fragments[9].end).toBe(buf.byteLength);
  });
  it("starts at the keyframe before the target, then the rest after, then the part before", () => {
    const parts = seekOrder(idx, 3.2, 1.0); // keyframes at 0, 2, 4 s -> start at 2 s (fragment 4)
    const f = idx.fragments;
    expect(parts[0][0]).toBe(f[4].start);
    expect(parts[0][1]).toBe(f[8].end); // up to 4.2 s
    expect(parts[1]).toEqual([f[9].start, f[9].end]);
    expect(parts[2]).toEqual([f[0].start, f[3].end]);
    const covered = parts.reduce((a, [x, y]) => a + (y - x), 0);
    expect(covered).toBe(buf.byteLength - idx.initEnd);
  });
  it("target at the start needs no 'before' part", () => {
    const parts = seekOrder(idx, 0, 1.0);
    expect(parts).toHaveLength(2);
    expect(parts[0][0]).toBe(idx.fragments[0].start);
  });
});
