// The camera's audio in the camera panel (docs/design/audio.md): whether its sound is recorded, and for admins a
// switch. Off by default: many cities forbid recording sound; each change is audited on the server.
import { request, type CameraDetail, type Role } from "./api";
import type { components } from "./api-types";
import { h } from "./dom";
import { me } from "./session";
import { t } from "./i18n";

export type AudioState = components["schemas"]["AudioOut"];

/** The server's permission cameras.audio (access/policy.py): admins only. */
export function maySetAudio(role: Role | null | undefined): boolean {
  return role === "admin";
}

export function audioText(on: boolean): string {
  return on ? t("audio.on") : t("audio.off");
}

export function setAudio(id: string, enabled: boolean): Promise<AudioState> {
  return request<AudioState>("PUT", `/api/cameras/${encodeURIComponent(id)}/audio`, { enabled });
}

export function audioControls(cam: CameraDetail): HTMLElement {
  let on = cam.audio_enabled === true;
  const text = h("span", { "data-testid": "audio-state" });
  const button = h("button", { "data-testid": "audio-toggle" });
  const error = h("div", { class: "error", "data-testid": "audio-error" });
  const render = () => {
    text.textContent = audioText(on);
    button.textContent = on ? t("audio.stop") : t("audio.start");
  };
  button.addEventListener("click", () => {
    button.disabled = true;
    setAudio(cam.id, !on)
      .then((a) => {
        on = a.enabled;
        error.textContent = "";
        render();
      })
      .catch((e) => (error.textContent = (e as Error).message))
      .finally(() => (button.disabled = false));
  });
  render();
  return h("div", { class: "audio" }, text, " ", maySetAudio(me()?.role) ? button : "", error);
}
