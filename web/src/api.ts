// Thin client for the control-room API (docs/design/control-room-api.md). Every call goes to the same origin;
// a 401 anywhere sends the operator back to the login screen.

// Every body's type is generated from the server's OpenAPI document (api-types.ts, `npm run gen:api`): a field the
// server renames or a status it stops sending breaks the build here, not the screen at run time.
import type { components } from "./api-types";
import { t } from "./i18n";

type Schemas = components["schemas"];
export type Me = Schemas["Me"];
export type SecondFactorAsked = Schemas["SecondFactorAsked"];
export type Enrolment = Schemas["EnrolmentOut"];
export type Role = Schemas["Role"];
export type City = Schemas["City"];
export type District = Schemas["DistrictOut"];
export type CamerasColumns = Schemas["CameraColumns"];
export type CameraDetail = Schemas["CameraOut"];
export type CameraState = Schemas["CameraState"];
export type GapReason = Schemas["GapReason"];
export type SegmentInfo = Schemas["SegmentOut"];
export type GapInfo = Schemas["GapOut"];
export type Timeline = Schemas["Timeline"];
export type ActivityInfo = Schemas["ActivityOut"];
export type CameraEventInfo = Schemas["CameraEventOut"];
export type CameraEventKind = Schemas["CameraEventKind"];
export type OnvifHealth = Schemas["OnvifHealthOut"];
export type ExportFile = Schemas["ExportFile"];
export type ExportInfo = Schemas["ExportOut"];
export type ExportStatus = Schemas["ExportStatus"];
export type FeatureCollection = Schemas["FeatureCollection"];
export type PlanInfo = Schemas["PlanInfo"];
export type MaskOut = Schemas["MaskOut"];
export type Maintenance = Schemas["MaintenanceOut"];
export type Incident = Schemas["IncidentView"];
export type Suggestion = Schemas["SuggestionOut"];
export type IncidentEvent = Schemas["IncidentEvent"];
export type CameraEvent = Schemas["CameraEvent"];
export type EventsMessage = CameraEvent | IncidentEvent | Schemas["Hello"];
export type AvailabilityReport = Schemas["AvailabilityReport"];
export type AvailabilityRow = Schemas["AvailabilityRow"];
export type SeriesReport = Schemas["SeriesReport"];
export type PowerCutReport = Schemas["PowerCutReport"];
export type RecorderHealth = Schemas["RecorderHealth"];
export type LiveMessage = Schemas["LiveCodec"] | Schemas["LiveOrigin"] | Schemas["LiveOffline"] | Schemas["LiveTranscodeLimit"];

export class ApiError extends Error {
  constructor(
    public status: number,
    public detail: string,
    public body: Record<string, unknown> = {},
  ) {
    super(`${status}: ${detail}`);
  }
}

let onUnauthorised: () => void = () => {};

export function setUnauthorisedHandler(fn: () => void): void {
  onUnauthorised = fn;
}

function detailOf(body: unknown, fallback: string): string {
  if (body && typeof body === "object" && "detail" in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) {
      // FastAPI validation errors: [{loc: [...], msg: "..."}]
      return d
        .map((e) => (e && typeof e === "object" && "msg" in e ? `${(e as { loc?: unknown[] }).loc?.slice(-1)[0] ?? ""}: ${(e as { msg: string }).msg}` : String(e)))
        .join("; ");
    }
    return JSON.stringify(d);
  }
  return fallback;
}

export async function request<T>(method: string, path: string, body?: unknown, opts: { noRedirect?: boolean } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body !== undefined ? { "Content-Type": "application/json" } : undefined,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, t("common.error.unreachable", { why: (e as Error).message }));
  }
  if (res.status === 204) return undefined as T;
  let parsed: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.noRedirect) onUnauthorised();
    throw new ApiError(res.status, detailOf(parsed, res.statusText || t("common.error.http", { status: String(res.status) })), (parsed ?? {}) as Record<string, unknown>);
  }
  return parsed as T;
}

export const api = {
  login: (username: string, password: string) =>
    request<Me | SecondFactorAsked>("POST", "/api/auth/login", { username, password }, { noRedirect: true }),
  // The second step of a login (docs/design/sign-in.md): a code for the ticket the password step gave.
  loginTotp: (ticket: string, code: string) => request<Me>("POST", "/api/auth/login/totp", { ticket, code }, { noRedirect: true }),
  loginEnrol: (ticket: string) => request<Enrolment>("POST", "/api/auth/login/enrol", { ticket }, { noRedirect: true }),
  logout: () => request<void>("POST", "/api/auth/logout", undefined, { noRedirect: true }),
  me: () => request<Me>("GET", "/api/auth/me", undefined, { noRedirect: true }),
  city: () => request<City>("GET", "/api/city"),
  recorder: () => request<RecorderHealth>("GET", "/api/recorder"),
  // GeoJSON as MapLibre types it (the server declares the same RFC 7946 shape: FeatureCollection).
  base: () => request<GeoJSON.FeatureCollection>("GET", "/api/map/base"),
  districts: () => request<District[]>("GET", "/api/districts"),
  cameras: () => request<CamerasColumns>("GET", "/api/cameras"),
  camera: (id: string) => request<CameraDetail>("GET", `/api/cameras/${encodeURIComponent(id)}`),
  timeline: (id: string, fromMs: number, toMs: number) =>
    request<Timeline>(
      "GET",
      `/api/cameras/${encodeURIComponent(id)}/timeline?from_ms=${Math.floor(fromMs)}&to_ms=${Math.ceil(toMs)}`,
    ),
  activity: (id: string, fromMs: number, toMs: number) =>
    request<ActivityInfo>(
      "GET",
      `/api/cameras/${encodeURIComponent(id)}/activity?from_ms=${Math.floor(fromMs)}&to_ms=${Math.ceil(toMs)}`,
    ),
  setMaintenance: (id: string, on: boolean, note: string) =>
    request<Maintenance>("POST", `/api/cameras/${encodeURIComponent(id)}/maintenance`, { on, note }),
  exports: () => request<ExportInfo[]>("GET", "/api/exports"),
  exportOne: (id: string | number) => request<ExportInfo>("GET", `/api/exports/${encodeURIComponent(String(id))}`),
  createExport: (camera: string, fromMs: number, toMs: number, reason: string) =>
    request<ExportInfo>("POST", "/api/exports", { camera, from_ms: fromMs, to_ms: toMs, reason }),
  decideExport: (id: string | number, decision: "approve" | "refuse", reason: string) =>
    request<ExportInfo>("POST", `/api/exports/${encodeURIComponent(String(id))}/${decision}`, { reason }),
};

export function segmentMediaUrl(id: string | number): string {
  return `/api/segments/${encodeURIComponent(String(id))}/media`;
}

export function exportFileUrl(id: string | number, name: string): string {
  return `/api/exports/${encodeURIComponent(String(id))}/files/${encodeURIComponent(name)}`;
}

export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}
