// The player's audio handling (docs/design/audio.md) on segments the recorder writes (fixtures made by
// tests/media/test_audio.py::test_web_fixtures_are_what_the_recorder_writes).
import { describe, expect, it } from "vitest";
import fx from "./fixtures/audio-segments.json";
import { indexFragments, mimeFromInit } from "../src/mp4";
import { audioCodecOf, playableMime, withoutAudio } from "../src/mp4audio";
import { audioText, maySetAudio } from "../src/audio";

const load = (name: keyof typeof fx): ArrayBuffer => {
  const hex = fx[name];
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out.buffer;
};
const top = (buf: ArrayBuffer, type: string): Uint8Array[] => {
  const d = new DataView(buf);
  const out: Uint8Array[] = [];
  for (let o = 0; o + 8 <= d.byteLength; ) {
    const size = d.getUint32(o);
    const t = String.fromCharCode(...new Uint8Array(buf, o + 4, 4));
    if (t === type) out.push(new Uint8Array(buf, o, size));
    o += size;
  }
  return out;
};

describe("audio track of a segment", () => {
  it("names the codec for MSE", () => {
    expect(audioCodecOf(load("two-track-aac.mp4"))).toBe("mp4a.40.2");
    expect(audioCodecOf(load("two-track-pcma.mp4"))).toBe("alaw");
    expect(audioCodecOf(load("video-only.mp4"))).toBeNull();
  });

  it("without MSE support for the audio, plays the pictures only", () => {
    const p = playableMime(load("two-track-pcma.mp4"), "video/mp4");
    expect(p.dropAudio).toBe(true);
    expect(p.mime).toBe(mimeFromInit(load("video-only.mp4")));
  });

  it("drops the audio track down to the very boxes of the video-only file", () => {
    const av = withoutAudio(load("two-track-pcma.mp4"));
    const v = load("video-only.mp4");
    // The moov: the same but for mvhd's next_track_ID (3 in a two-track file), which players ignore.
    const sansNextId = (m: Uint8Array) => [...m.slice(0, 8 + 104), ...m.slice(8 + 108)];
    expect(top(av, "moov").map(sansNextId)).toEqual(top(v, "moov").map(sansNextId));
    expect(top(av, "moof")).toEqual(top(v, "moof")); // the video trun's data offset points at the same bytes
    expect(indexFragments(av)?.fragments.map((f) => [f.timeS, f.key])).toEqual(
      indexFragments(v)?.fragments.map((f) => [f.timeS, f.key]),
    );
    expect(withoutAudio(v)).toBe(v);
  });
});

describe("audio switch", () => {
  it("is offered to admins only", () => {
    expect(maySetAudio("admin")).toBe(true);
    for (const r of ["viewer", "operator", "supervisor", "auditor", null] as const) expect(maySetAudio(r)).toBe(false);
    expect(audioText(false)).toBe("sound not recorded");
  });
});
