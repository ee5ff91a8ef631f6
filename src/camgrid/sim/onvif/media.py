"""Media (ver10) and Media2 (ver20) of a simulated camera: its two profiles, their RTSP URIs, and a snapshot.

The profiles describe what the camera really sends (the clip's codec, size and keyframe interval, the sim's frame
rate) and the stream URIs are the simulator's own RTSP URLs, so a client that follows them plays the camera. H.265
exists only in Media2 (ver10's encoding enumeration stops at H.264): a ver10 profile of an H.265 camera carries no
encoder configuration, as on real cameras that keep Media1 for old clients.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from fractions import Fraction
from xml.sax.saxutils import escape

from camgrid.media.nal import H265
from camgrid.sim.clips import Clip
from camgrid.sim.onvif.soap import NS, Call, SoapFault, get_route, operation
from camgrid.sim.server import CameraState, SimServer

TRT = f'xmlns:trt="{NS["trt"]}" xmlns:tt="{NS["tt"]}"'
TR2 = f'xmlns:tr2="{NS["tr2"]}" xmlns:tt="{NS["tt"]}"'
SNAPSHOT_PATH = "/onvif/snapshot.jpg"
VIDEO_SOURCE = "vs0"
VIDEO_SOURCE_CONFIG = "vsc0"


@dataclass(frozen=True)
class Stream:
    """One of the camera's two profiles as it really is."""

    token: str
    name: str
    encoder: str
    encoding: str  # "H264" or "H265"
    width: int
    height: int
    fps: int
    gop: int
    bitrate_kbps: int
    sub: bool


def _stream(cam: CameraState, clip: Clip, fps: int, sub: bool) -> Stream:
    gop = next((i for i, k in enumerate(clip.keys[1:], start=1) if k), len(clip.keys))
    size = sum(len(n) for au in clip.frames for n in au)
    kbps = max(1, round(size * 8 * fps / max(1, len(clip.frames)) / 1000))
    encoding = "H265" if clip.codec == H265 else "H264"
    token, name = ("sub", "SubStream") if sub else ("main", "MainStream")
    return Stream(token, name, f"enc_{token}", encoding, clip.info.width, clip.info.height, fps, gop, kbps, sub)


def streams(cam: CameraState, fps: int) -> list[Stream]:
    out = [_stream(cam, cam.clip, fps, False)]
    if cam.sub_clip is not None:
        out.append(_stream(cam, cam.sub_clip, fps, True))
    return out


def _profile(call: Call, token: str) -> Stream:
    for s in streams(call.camera, call.server.fps):
        if s.token == token:
            return s
    raise SoapFault("ter:InvalidArgVal/ter:NoProfile", f"no profile {token[:64]!r}")


def rtsp_url(cam: CameraState, server: SimServer, sub: bool) -> str:
    """The simulator's real RTSP URL of the camera's main or sub stream."""
    port = server.server.sockets[0].getsockname()[1] if isinstance(server.server, asyncio.Server) else 554
    url = cam.spec.url(server.host, int(port))
    return url + "/sub" if sub else url


def _source_config(cam: CameraState) -> str:
    w, h = cam.clip.info.width, cam.clip.info.height
    return (
        f'token="{VIDEO_SOURCE_CONFIG}"><tt:Name>VideoSource</tt:Name><tt:UseCount>2</tt:UseCount>'
        f'<tt:SourceToken>{VIDEO_SOURCE}</tt:SourceToken><tt:Bounds x="0" y="0" width="{w}" height="{h}"/>'
    )


def _multicast() -> str:
    return (
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
        "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
    )


def _encoder10(s: Stream) -> str:
    return (
        f'<tt:VideoEncoderConfiguration token="{s.encoder}"><tt:Name>{s.name}</tt:Name><tt:UseCount>1</tt:UseCount>'
        f"<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{s.width}</tt:Width>"
        f"<tt:Height>{s.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>"
        f"<tt:RateControl><tt:FrameRateLimit>{s.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>"
        f"<tt:BitrateLimit>{s.bitrate_kbps}</tt:BitrateLimit></tt:RateControl>"
        f"<tt:H264><tt:GovLength>{s.gop}</tt:GovLength><tt:H264Profile>High</tt:H264Profile></tt:H264>"
        f"{_multicast()}<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>"
    )


def _encoder20(s: Stream) -> str:
    profile = "Main" if s.encoding == "H265" else "High"
    return (
        f'token="{s.encoder}" GovLength="{s.gop}" Profile="{profile}"><tt:Name>{s.name}</tt:Name>'
        f"<tt:UseCount>1</tt:UseCount><tt:Encoding>{s.encoding}</tt:Encoding><tt:Resolution>"
        f"<tt:Width>{s.width}</tt:Width><tt:Height>{s.height}</tt:Height></tt:Resolution>"
        f'<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>{s.fps}</tt:FrameRateLimit>'
        f"<tt:BitrateLimit>{s.bitrate_kbps}</tt:BitrateLimit></tt:RateControl><tt:Quality>5</tt:Quality>"
    )


# Media (ver10) ---------------------------------------------------------------------------------------------------
def _profile10(cam: CameraState, s: Stream) -> str:
    enc = _encoder10(s) if s.encoding == "H264" else ""
    return (
        f'<trt:Profiles token="{s.token}" fixed="true"><tt:Name>{s.name}</tt:Name>'
        f"<tt:VideoSourceConfiguration {_source_config(cam)}</tt:VideoSourceConfiguration>{enc}</trt:Profiles>"
    )


@operation("media", "GetProfiles")
def get_profiles(call: Call) -> str:
    items = "".join(_profile10(call.camera, s) for s in streams(call.camera, call.server.fps))
    return f"<trt:GetProfilesResponse {TRT}>{items}</trt:GetProfilesResponse>"


@operation("media", "GetProfile")
def get_profile(call: Call) -> str:
    s = _profile(call, call.text("trt:ProfileToken"))
    profile = _profile10(call.camera, s).replace("trt:Profiles", "trt:Profile")
    return f"<trt:GetProfileResponse {TRT}>{profile}</trt:GetProfileResponse>"


def _media_uri(uri: str) -> str:
    return (
        f"<trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
    )


@operation("media", "GetStreamUri")
def get_stream_uri(call: Call) -> str:
    s = _profile(call, call.text("trt:ProfileToken"))
    uri = rtsp_url(call.camera, call.server, s.sub)
    return f"<trt:GetStreamUriResponse {TRT}>{_media_uri(uri)}</trt:GetStreamUriResponse>"


@operation("media", "GetSnapshotUri")
def get_snapshot_uri(call: Call) -> str:
    _profile(call, call.text("trt:ProfileToken"))
    uri = call.base_url + SNAPSHOT_PATH
    return f"<trt:GetSnapshotUriResponse {TRT}>{_media_uri(uri)}</trt:GetSnapshotUriResponse>"


@operation("media", "GetVideoSources")
def get_video_sources(call: Call) -> str:
    info = call.camera.clip.info
    return (
        f'<trt:GetVideoSourcesResponse {TRT}><trt:VideoSources token="{VIDEO_SOURCE}">'
        f"<tt:Framerate>{call.server.fps}</tt:Framerate><tt:Resolution><tt:Width>{info.width}</tt:Width>"
        f"<tt:Height>{info.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>"
    )


@operation("media", "GetServiceCapabilities")
def get_media_capabilities(call: Call) -> str:
    return (
        f'<trt:GetServiceCapabilitiesResponse {TRT}><trt:Capabilities SnapshotUri="true" Rotation="false"'
        ' VideoSourceMode="false" OSD="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="2"/>'
        '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"'
        ' NonAggregateControl="false" NoRTSPStreaming="false"/></trt:Capabilities></trt:GetServiceCapabilitiesResponse>'
    )


# Media2 (ver20) --------------------------------------------------------------------------------------------------
def _profile20(cam: CameraState, s: Stream, types: set[str]) -> str:
    every = "All" in types
    parts = []
    if every or "VideoSource" in types:
        parts.append(f"<tr2:VideoSource {_source_config(cam)}</tr2:VideoSource>")
    if every or "VideoEncoder" in types:
        parts.append(f"<tr2:VideoEncoder {_encoder20(s)}</tr2:VideoEncoder>")
    configs = f"<tr2:Configurations>{''.join(parts)}</tr2:Configurations>" if parts else ""
    return f'<tr2:Profiles token="{s.token}" fixed="true"><tr2:Name>{s.name}</tr2:Name>{configs}</tr2:Profiles>'


@operation("media2", "GetProfiles")
def get_profiles2(call: Call) -> str:
    """Configurations come with a profile only when ``Type`` asks for them (``All`` or by name), as ONVIF says."""
    token = call.text("tr2:Token")
    types = {(t.text or "").strip() for t in call.body.findall("tr2:Type", NS)}
    chosen = [s for s in streams(call.camera, call.server.fps) if not token or s.token == token]
    if token and not chosen:
        raise SoapFault("ter:InvalidArgVal/ter:NoProfile", f"no profile {token[:64]!r}")
    items = "".join(_profile20(call.camera, s, types) for s in chosen)
    return f"<tr2:GetProfilesResponse {TR2}>{items}</tr2:GetProfilesResponse>"


@operation("media2", "GetStreamUri")
def get_stream_uri2(call: Call) -> str:
    s = _profile(call, call.text("tr2:ProfileToken"))
    protocol = call.text("tr2:Protocol", "RTSP")
    if protocol not in ("RTSP", "RtspUnicast", "RtspOverHttp", "RTP-Unicast"):
        raise SoapFault("ter:InvalidArgVal/ter:InvalidStreamSetup", f"protocol {protocol[:32]!r} is not offered")
    uri = rtsp_url(call.camera, call.server, s.sub)
    return f"<tr2:GetStreamUriResponse {TR2}><tr2:Uri>{escape(uri)}</tr2:Uri></tr2:GetStreamUriResponse>"


@operation("media2", "GetSnapshotUri")
def get_snapshot_uri2(call: Call) -> str:
    _profile(call, call.text("tr2:ProfileToken"))
    uri = call.base_url + SNAPSHOT_PATH
    return f"<tr2:GetSnapshotUriResponse {TR2}><tr2:Uri>{escape(uri)}</tr2:Uri></tr2:GetSnapshotUriResponse>"


@operation("media2", "GetVideoSourceConfigurations")
def get_video_source_configurations2(call: Call) -> str:
    return (
        f"<tr2:GetVideoSourceConfigurationsResponse {TR2}><tr2:Configurations {_source_config(call.camera)}"
        "</tr2:Configurations></tr2:GetVideoSourceConfigurationsResponse>"
    )


@operation("media2", "GetVideoEncoderConfigurations")
def get_video_encoder_configurations2(call: Call) -> str:
    items = "".join(
        f"<tr2:Configurations {_encoder20(s)}</tr2:Configurations>" for s in streams(call.camera, call.server.fps)
    )
    return f"<tr2:GetVideoEncoderConfigurationsResponse {TR2}>{items}</tr2:GetVideoEncoderConfigurationsResponse>"


@operation("media2", "GetServiceCapabilities")
def get_media2_capabilities(call: Call) -> str:
    mask = "true" if call.camera.onvif.masks else "false"
    return (
        f'<tr2:GetServiceCapabilitiesResponse {TR2}><tr2:Capabilities SnapshotUri="true" Rotation="false"'
        f' VideoSourceMode="false" OSD="false" Mask="{mask}" SourceMask="false">'
        '<tr2:ProfileCapabilities MaximumNumberOfProfiles="2" ConfigurationsSupported="VideoSource VideoEncoder"/>'
        '<tr2:StreamingCapabilities RTSPStreaming="true" RTPMulticast="false" RTP_RTSP_TCP="true"'
        ' NonAggregateControl="false"/></tr2:Capabilities></tr2:GetServiceCapabilitiesResponse>'
    )


# the snapshot ----------------------------------------------------------------------------------------------------
_snapshots: dict[str, bytes] = {}
_snapshot_lock = threading.Lock()


def snapshot_jpeg(cam: CameraState) -> bytes:
    """A JPEG of the camera's picture: its clip's first keyframe, decoded once with PyAV and kept."""
    with _snapshot_lock:
        if cam.spec.id not in _snapshots:
            _snapshots[cam.spec.id] = _encode_jpeg(cam.clip)
        return _snapshots[cam.spec.id]


def _encode_jpeg(clip: Clip) -> bytes:
    import av  # lazy: only a snapshot needs the decoder

    start = b"\x00\x00\x00\x01"
    first = clip.keys.index(True)
    data = b"".join(start + n for n in clip.params) + b"".join(start + n for n in clip.frames[first])
    decoder = av.CodecContext.create("hevc" if clip.codec == H265 else "h264", "r")
    frames = list(decoder.decode(av.Packet(data)))
    frames.extend(decoder.decode(None))
    if not frames:
        raise RuntimeError("the clip's keyframe did not decode")
    picture = frames[0].reformat(format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = picture.width, picture.height, "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    out = b"".join(bytes(p) for p in encoder.encode(picture))
    out += b"".join(bytes(p) for p in encoder.encode(None))
    return out


@get_route(SNAPSHOT_PATH)
def snapshot(cam: CameraState, server: SimServer) -> tuple[str, bytes]:
    return "image/jpeg", snapshot_jpeg(cam)
