import { describe, expect, it } from "vitest";
import { completeRow, offsetText, parseAddresses, type Proposed } from "../src/discover";

const P: Proposed = {
  id: "camgrid-sim-CGS1", name: "Street #1", rtsp_url: "rtsp://10.0.0.1/main", sub_rtsp_url: "rtsp://10.0.0.1/sub",
  onvif_url: "http://10.0.0.1/onvif/device_service", username: "admin", maker: "m", model: "x", firmware: "1",
  serial: "s", hardware_id: "h", services: [], media: "media2", masks: true, events: true, profile_g: false,
  clock_offset_ms: 1500, clock_basis: "utc", snapshot_uri: "", streams: [], notes: "", known_as: null, error: "",
};
const FILL = { id: "cam-1", name: "Gate", site: "S-1", district: "D-1", feeder: "F-1", uplink: "U-1", lat: "27.7", lon: "85.3" };

describe("discover panel", () => {
  it("splits addresses on commas and spaces, without repeats", () => {
    expect(parseAddresses(" 10.0.0.1, 10.0.0.0/30;10.0.0.1\n10.0.0.9 ")).toEqual(["10.0.0.1", "10.0.0.0/30", "10.0.0.9"]);
  });
  it("shows a clock offset with its sign", () => {
    expect(offsetText(1500)).toBe("+1.5 s");
    expect(offsetText(-250)).toBe("-0.3 s");
    expect(offsetText(null)).toBe("unknown");
  });
  it("completes a row only when everything the import needs is there", () => {
    const row = completeRow(P, FILL, "pw");
    expect(row).toMatchObject({ id: "cam-1", lat: 27.7, lon: 85.3, site: "S-1", onvif_url: P.onvif_url, password: "pw" });
    for (const key of ["site", "district", "feeder", "uplink", "lat", "lon", "id"] as const)
      expect(completeRow(P, { ...FILL, [key]: "" }, "pw")).toBeNull();
    expect(completeRow(P, { ...FILL, lat: "north" }, "pw")).toBeNull();
  });
});
