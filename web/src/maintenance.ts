// Maintenance mode in the camera panel: whether the camera is out of service for repair, since when, by whom and
// why, and for operators, supervisors and admins a button to take it out of (or back into) service with a note.
// A camera in maintenance opens no incident (docs/design/health-incidents.md, "Maintenance").
import { api, type CameraDetail, type Maintenance, type Role } from "./api";
import { h } from "./dom";
import { me } from "./session";
import { timeEl } from "./time";
import { t } from "./i18n";

export const NOTE_MAX = 500;
const MAY: readonly Role[] = ["operator", "supervisor", "admin"];

/** The server's permission cameras.maintenance (access/policy.py): field technicians are dispatched by operators. */
export function maySetMaintenance(role: Role | null | undefined): boolean {
  return role != null && MAY.includes(role);
}

/** One line for the panel: "in service", or who took the camera out and why (the time is shown beside it). */
export function maintenanceText(w: Maintenance | null | undefined): string {
  if (!w || !w.on) return t("maintenance.inService");
  return w.note ? t("maintenance.onWithNote", { user: w.by, note: w.note }) : t("maintenance.on", { user: w.by });
}

/** The note as the server takes it, or why not (the server checks too: this only saves a round trip). */
export function checkNote(note: string): string | null {
  return note.trim().length > NOTE_MAX ? t("maintenance.tooLong", { max: NOTE_MAX }) : null;
}

export function maintenanceControls(cam: CameraDetail, onChange: (w: Maintenance) => void): HTMLElement {
  let current = cam.maintenance ?? null;
  const text = h("span", { "data-testid": "maintenance-state" });
  const since = h("span", {});
  const note = h("input", { type: "text", maxlength: NOTE_MAX, placeholder: t("maintenance.notePlaceholder"), "data-testid": "maintenance-note" });
  const button = h("button", { "data-testid": "maintenance-toggle" });
  const error = h("div", { class: "error", "data-testid": "maintenance-error" });
  const render = () => {
    const on = current?.on === true;
    text.textContent = maintenanceText(current);
    text.className = on ? "state state-maintenance" : "";
    since.replaceChildren(on && current ? timeEl(current.since_ms, "since") : "");
    button.textContent = on ? t("maintenance.back") : t("maintenance.put");
  };
  button.addEventListener("click", () => {
    const bad = checkNote(note.value);
    error.textContent = bad ?? "";
    if (bad) return;
    button.disabled = true;
    api
      .setMaintenance(cam.id, !(current?.on === true), note.value.trim())
      .then((w) => {
        current = w.on ? w : null;
        note.value = "";
        render();
        onChange(w);
      })
      .catch((e) => (error.textContent = (e as Error).message))
      .finally(() => (button.disabled = false));
  });
  render();
  const may = maySetMaintenance(me()?.role);
  return h("div", { class: "maintenance" }, text, " ", since, may ? h("div", {}, note, button) : "", error);
}
