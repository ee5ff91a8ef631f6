// Which language a user sees before choosing one, and what the settings make of a stored choice.
import { describe, expect, it } from "vitest";
import { applyPrefs, dir, num, pickLang, t } from "../src/i18n";
import { resolvePrefs } from "../src/langprefs";

describe("language defaults", () => {
  it("a browser in one of our languages wins; English in the browser does not outrank the city's language", () => {
    expect(pickLang(["ps-AF", "en-US"], "fa-AF")).toBe("ps");
    expect(pickLang(["fa-IR"], "en")).toBe("fa-AF");
    expect(pickLang(["ne-NP"], null)).toBe("ne");
    expect(pickLang(["en-US", "en"], "fa-AF")).toBe("fa-AF");
    expect(pickLang(["en-US"], null)).toBe("en");
    expect(pickLang(["de-DE"], "fr")).toBe("en");
  });
  it("a stored choice wins; the calendar and digits default to the language's", () => {
    const city = { language: null, calendar: null, digits: null, city_language: "fa-AF" as const };
    expect(resolvePrefs(city, ["en-US"])).toEqual({ lang: "fa-AF", calendar: "persian", digits: "arabext" });
    expect(resolvePrefs({ ...city, language: "ne" }, ["en-US"])).toEqual({ lang: "ne", calendar: "gregory", digits: "deva" });
    expect(resolvePrefs({ ...city, language: "ps", digits: "latn" }, [])).toEqual({ lang: "ps", calendar: "persian", digits: "latn" });
  });
  it("switching applies direction, digits and strings at once, with English for a key a language lacks", () => {
    applyPrefs({ lang: "fa-AF", calendar: "persian", digits: "arabext" });
    expect(dir()).toBe("rtl");
    expect(t("users.credentials", { sessions: 2, tokens: 10 })).toBe("۲ نشست، ۱۰ توکن");
    expect(num(1405)).toBe("۱۴۰۵");
    expect(t("no.such.key")).toBe("no.such.key");
    applyPrefs({ lang: "ne", calendar: "gregory", digits: "deva" });
    expect(dir()).toBe("ltr");
    expect(t("incidents.openCount", { n: 3 })).toBe("(३ खुला)");
    applyPrefs({ lang: "en", calendar: "gregory", digits: "latn" });
    expect(t("incidents.openCount", { n: 3 })).toBe("(3 open)");
  });
});
