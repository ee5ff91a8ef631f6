import { describe, expect, it } from "vitest";
import { CameraIndex } from "../src/camera-index";
import { groupCameras } from "../src/camera-tree";
import { syntheticColumns } from "../src/cameras";
import { tilesForApi } from "../src/layouts";
import { wantedTiles } from "../src/layouts";

const cols = {
  id: ["cam-1", "cam-2", "cam-3", "gate-9"],
  name: ["Bridge east", "Market gate", "cam-3", "Bagmati bridge"],
  district: ["D-01", "D-01", "D-02", "D-02"],
  site: ["S-1", "S-2", "S-3", "S-3"],
  street: [1, 0, 2, 2],
  streets: ["", "Tripureshwar Marg", "Kupondole Road"],
  site_names: { "S-3": "Patan bridge" },
  district_names: { "D-02": "Lalitpur" },
};

describe("camera search", () => {
  const ix = new CameraIndex(cols);
  const ids = (q: string) => ix.search(q).hits.map((i) => cols.id[i]);
  it("matches id, name, site, street and district, by name or by id, in any case", () => {
    expect(ids("CAM-2")).toEqual(["cam-2"]);
    expect(ids("market")).toEqual(["cam-2"]);
    expect(ids("patan")).toEqual(["cam-3", "gate-9"]);
    expect(ids("S-3")).toEqual(["cam-3", "gate-9"]);
    expect(ids("tripureshwar")).toEqual(["cam-1"]);
    expect(ids("lalitpur")).toEqual(["cam-3", "gate-9"]);
    expect(ids("D-01")).toEqual(["cam-1", "cam-2"]);
    expect(ids("")).toEqual([]);
  });
  it("needs every word, and puts ids and names that start with the query first", () => {
    expect(ids("bridge lalitpur")).toEqual(["cam-3", "gate-9"]);
    expect(ids("bagmati lalitpur")).toEqual(["gate-9"]);
    expect(ids("bridge")[0]).toBe("cam-1"); // its name starts with it; the others have it later or in the site
    expect(ids("ga")[0]).toBe("gate-9");
  });
  it("caps the answers and counts them all, fast at 62,000 cameras", () => {
    const big = new CameraIndex(syntheticColumns(62_000, [85.3, 27.6, 85.4, 27.7]));
    const t0 = performance.now();
    const r = big.search("syn", 50);
    const one = big.search("syn-61999");
    const ms = performance.now() - t0;
    expect(r.hits.length).toBe(50);
    expect(r.total).toBe(62_000);
    expect(one.hits[0]).toBe(61_999);
    expect(ms).toBeLessThan(200);
  });
});

describe("camera tree", () => {
  it("groups districts > sites > cameras, by name", () => {
    const g = groupCameras({ count: 4, cols: cols as never });
    expect(g.map((d) => d.label)).toEqual(["D-01", "Lalitpur"]);
    expect(g[1].children!.map((s) => [s.label, s.members.length])).toEqual([["Patan bridge", 2]]);
    expect(g[0].members.length).toBe(2);
  });
});

describe("wall tiles", () => {
  it("keeps empty tiles in place and leaves trailing ones out of a saved layout", () => {
    expect(wantedTiles("a,,c", 4)).toEqual(["a", "", "c"]);
    expect(wantedTiles("a,b,c", 1)).toEqual(["a"]);
    expect(wantedTiles(null, 4)).toEqual([]);
    expect(tilesForApi(["a", "", "c", "", ""])).toEqual(["a", null, "c"]);
  });
});
