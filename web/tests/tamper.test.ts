// Tamper incidents in the control room (src/tamper.ts, docs/design/tamper.md): which incidents are tamper incidents,
// what their kind says in each language, and where their stills are fetched from.
import { afterEach, describe, expect, it } from "vitest";
import { setLang } from "../src/i18n";
import { tamperApi, tamperKind, tamperText } from "../src/tamper";

afterEach(() => setLang("en"));

describe("tamper incidents", () => {
  it("are camera incidents whose reason starts with tamper", () => {
    expect(tamperKind({ kind: "camera", reason: "tamper: covered" })).toBe("covered");
    expect(tamperKind({ kind: "camera", reason: "tamper: camera" })).toBe("camera");
    expect(tamperKind({ kind: "camera", reason: "mask_unverified: polygon 1" })).toBeNull();
    expect(tamperKind({ kind: "power", reason: "tamper: covered" })).toBeNull();
    expect(tamperKind({ kind: "camera", reason: null })).toBeNull();
  });

  it("say their kind in the user's language, an unknown kind as it came", () => {
    expect(tamperText("turned")).toBe("Turned away from its view");
    setLang("ne");
    expect(tamperText("covered")).toBe("ढाकिएको वा कालो पारिएको");
    expect(tamperText("smudged")).toBe("smudged");
  });

  it("fetch their stills from the incident's still routes", () => {
    expect(tamperApi.still(42, "before")).toBe("/api/incidents/42/stills/before");
    expect(tamperApi.still(42, "after")).toBe("/api/incidents/42/stills/after");
  });
});
