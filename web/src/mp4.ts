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
