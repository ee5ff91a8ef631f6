// H.265 cameras in browsers that cannot decode H.265 (docs/design/h265-for-viewers.md): such a browser asks the
// server for H.264 (live: ?codec=h264 on the socket; playback: ?codec=h264 on a segment), and every tile shows a
// badge saying which path its pictures take.
import { h } from "./dom";
import { t } from "./i18n";
import "./styles/h265.css";

export type VideoPath = "native" | "h264-transcode";

/** A common H.265 type (Main profile, level 3.1): what a browser that plays any H.265 camera plays. */
export const H265_PROBE = 'video/mp4; codecs="hvc1.1.6.L93.B0"';

type Probe = (mime: string) => boolean;

function mseSupports(mime: string): boolean {
  return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(mime);
}

/** True when this browser's MSE cannot play H.265, so H.265 must come as H.264 from the server. */
export function needsH264(probe: Probe = mseSupports): boolean {
  return !probe(H265_PROBE);
}

export function isH265(mime: string, codec = ""): boolean {
  return codec === "h265" || /hev1|hvc1/.test(mime);
}

/**
 * What a live tile does with a stream's codec message: "play" it, "ask-h264" (reconnect asking for H.264: the
 * stream is H.265 and this browser cannot decode it), or "undecodable" (the server's H.264 is not playable either).
 */
export function codecDecision(mime: string, codec: string, askedH264: boolean, probe: Probe = mseSupports): "play" | "ask-h264" | "undecodable" {
  if (probe(mime)) return "play";
  if (!askedH264 && isH265(mime, codec)) return "ask-h264";
  return "undecodable";
}

/** The live socket's query: the stream, and codec=h264 when this tile needs H.264. */
export function liveQuery(stream: "main" | "sub", h264: boolean): string {
  return `?stream=${stream}${h264 ? "&codec=h264" : ""}`;
}

/** A recorded segment's URL for this browser: H.265 segments as H.264 when it cannot decode H.265. */
export function segmentUrl(base: string, segCodec: string, probe: Probe = mseSupports): { url: string; path: VideoPath } {
  return segCodec === "h265" && needsH264(probe) ? { url: `${base}?codec=h264`, path: "h264-transcode" } : { url: base, path: "native" };
}

/** The empty badge of a tile (filled by setPath once the stream's codec is known). */
export function pathBadge(): HTMLElement {
  return h("span", { class: "tile-path", "data-testid": "tile-path" });
}

/** A codec's display name ("H.264", "H.265"), or its own id for another. */
export function codecName(codec: string): string {
  return codec === "h264" || codec === "h265" ? t(`h265.codec.${codec}`) : codec;
}

export function setPath(badge: HTMLElement, path: VideoPath, codec: string): void {
  badge.dataset.path = path;
  const transcode = path === "h264-transcode";
  badge.textContent = transcode ? t("h265.path.transcode") : t("h265.path.native", { codec: codecName(codec) });
  badge.title = transcode ? t("h265.path.transcode.title") : t("h265.path.native.title");
}
