import { describe, expect, it } from "vitest";
import { districtsText, mayManageUsers, parseDistricts } from "../src/users";

describe("users screen", () => {
  it("is the admins' alone", () => {
    expect(mayManageUsers("admin")).toBe(true);
    for (const r of ["viewer", "operator", "supervisor", "auditor"] as const) expect(mayManageUsers(r)).toBe(false);
    expect(mayManageUsers(null)).toBe(false);
  });
  it("reads districts as the server takes them", () => {
    expect(parseDistricts(" D-01, D-02  D-01,")).toEqual(["D-01", "D-02"]);
    expect(parseDistricts("  ")).toEqual([]);
    expect(districtsText([])).toBe("all");
    expect(districtsText(["D-01", "D-02"])).toBe("D-01, D-02");
  });
});
