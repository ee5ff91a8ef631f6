// Who is signed in (set by main.ts from login or /api/auth/me); screens read it to offer role-specific actions.
import type { Me } from "./api";

let current: Me | null = null;

export function setMe(me: Me | null): void {
  current = me;
}

export function me(): Me | null {
  return current;
}
