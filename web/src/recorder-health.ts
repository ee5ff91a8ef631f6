// The recorder's own health (GET /api/recorder): a warning on every screen while camgrid itself is not recording,
// so that a quiet map or a frozen tile never passes for a healthy city. Polled; a failed poll is itself shown.
import type { RecorderHealth } from "./api";
import { t } from "./i18n";

/** The warning to show, or "" when the recorder is well (or this process records nothing and its threads run). */
export function recorderWarning(h: RecorderHealth | null): string {
  if (h === null) return t("common.recorder.unknown");
  const dead = h.threads.filter((t) => !t.running).map((t) => t.name);
  if (h.paused) return t("common.recorder.paused", { reason: t(`common.reason.${h.paused}`) });
  if (dead.length) return t("common.recorder.impaired", { threads: dead.join(", ") });
  if (h.present && !h.recording) return t("common.recorder.notRecording");
  return "";
}
