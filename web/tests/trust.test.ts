import { describe, expect, it } from "vitest";
import { eventsAfter, nextTrust, reconnectDelayMs } from "../src/trust";

describe("trust", () => {
  it("keeps the first untrusted moment through down -> resyncing -> down, and forgets it when live", () => {
    let t = nextTrust({ state: "live", sinceMs: null }, "down", 1000);
    expect(t).toEqual({ state: "down", sinceMs: 1000 });
    t = nextTrust(t, "resyncing", 3000);
    expect(t).toEqual({ state: "resyncing", sinceMs: 1000 });
    t = nextTrust(t, "down", 4000);
    expect(t.sinceMs).toBe(1000);
    expect(nextTrust(t, "live", 5000)).toEqual({ state: "live", sinceMs: null });
  });

  it("applies on top of a snapshot only the later events, in the server's order", () => {
    const held = [{ eid: 12, id: "b" }, { eid: 10, id: "a" }, { eid: 11, id: "x" }, { eid: 13, id: "a" }];
    expect(eventsAfter(held, 11).map((e) => e.eid)).toEqual([12, 13]);
    expect(eventsAfter(held, 13)).toEqual([]);
    expect(eventsAfter(held, 9).map((e) => e.eid)).toEqual([10, 11, 12, 13]);
  });

  it("tries again within about a second however long the cut", () => {
    expect(reconnectDelayMs(0, 0)).toBe(500);
    expect(reconnectDelayMs(1, 0)).toBe(1000);
    for (const a of [2, 5, 50]) expect(reconnectDelayMs(a, 0.999)).toBeLessThanOrEqual(1250);
  });
});
