// The recorder's own health (GET /api/recorder): a warning on every screen while camgrid itself is not recording,
// so that a quiet map or a frozen tile never passes for a healthy city. Polled; a failed poll is itself shown.
import type { RecorderHealth } from "./api";

/** The warning to show, or "" when the recorder is well (or this process records nothing and its threads run). */
export function recorderWarning(h: RecorderHealth | null): string {
  if (h === null) return "recorder status unknown: the server did not answer";
  const dead = h.threads.filter((t) => !t.running).map((t) => t.name);
  if (h.paused) return `recording paused: ${h.paused.replace(/_/g, " ")}`;
  if (dead.length) return `recorder impaired: ${dead.join(", ")} not running (restarting)`;
  if (h.present && !h.recording) return "the recorder is not recording";
  return "";
}
