"""ONVIF Replay service (ver10, Profile G) of a simulated camera: where its SD card is replayed over RTSP.

The replay URI is served by the simulator's RTSP server (:mod:`camgrid.sim.replay`): RTP over RTSP (TCP
interleaved) only, forward only, so the capabilities say so and other stream setups are refused.
"""

from __future__ import annotations

import asyncio

from camgrid.sim import replay as rtsp_replay
from camgrid.sim.onvif.search import RECORDING
from camgrid.sim.onvif.soap import NS, Call, SoapFault, operation

_HEAD = f'xmlns:trp="{NS["trp"]}" xmlns:tt="{NS["tt"]}"'
SESSION_TIMEOUT_S = 60


@operation("replay", "GetServiceCapabilities")
def get_service_capabilities(call: Call) -> str:
    return (
        f'<trp:GetServiceCapabilitiesResponse {_HEAD}><trp:Capabilities ReversePlayback="false" '
        f'SessionTimeoutRange="{SESSION_TIMEOUT_S} {SESSION_TIMEOUT_S}" RTP_RTSP_TCP="true"/>'
        f"</trp:GetServiceCapabilitiesResponse>"
    )


def replay_uri(call: Call) -> str:
    """``rtsp://<sim host>:<rtsp port>/replay/<camera>`` (the camera's own address when the sim listens on all)."""
    sim = call.server
    port = sim.server.sockets[0].getsockname()[1] if isinstance(sim.server, asyncio.Server) else 554
    host = sim.host if sim.host not in ("0.0.0.0", "", "::") else call.camera.spec.onvif_address
    return rtsp_replay.replay_url(host, int(port), call.camera.spec.id)


@operation("replay", "GetReplayUri")
def get_replay_uri(call: Call) -> str:
    if call.camera.card is None:
        raise SoapFault("ter:ActionNotSupported", "this camera has no recording", sender=False)
    if call.text("trp:RecordingToken") != RECORDING:
        raise SoapFault("ter:InvalidArgVal/ter:NoRecording", "no such recording")
    protocol = call.text("trp:StreamSetup/tt:Transport/tt:Protocol", "RTSP").upper()
    if protocol not in ("RTSP", "TCP"):
        raise SoapFault("ter:InvalidArgVal/ter:InvalidStreamSetup", "replay is RTP over RTSP (TCP) only")
    return f"<trp:GetReplayUriResponse {_HEAD}><trp:Uri>{replay_uri(call)}</trp:Uri></trp:GetReplayUriResponse>"


@operation("replay", "GetReplayConfiguration")
def get_replay_configuration(call: Call) -> str:
    return (
        f"<trp:GetReplayConfigurationResponse {_HEAD}><trp:Configuration><tt:SessionTimeout>PT{SESSION_TIMEOUT_S}S"
        f"</tt:SessionTimeout></trp:Configuration></trp:GetReplayConfigurationResponse>"
    )


@operation("replay", "SetReplayConfiguration")
def set_replay_configuration(call: Call) -> str:
    """Accepted and ignored: the session timeout is fixed (the capabilities' range has one value)."""
    return f"<trp:SetReplayConfigurationResponse {_HEAD}/>"
