"""The device service of a simulated camera: who it is, its clock, its services and capabilities, its scopes."""

from __future__ import annotations

import hashlib
import inspect
from datetime import UTC, datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from lxml import etree

from camgrid.sim.layout import PROFILE_G
from camgrid.sim.onvif.soap import NS, OPERATIONS, SERVICE_NS, SERVICE_PATHS, Call, operation
from camgrid.sim.server import CameraState

MAKER = "camgrid-sim"
FIRMWARE = "1.0.0-sim"
VERSIONS = {"media2": (2, 60)}  # the rest announce 2.60 too; ver20 services start their own numbering
TDS = f'xmlns:tds="{NS["tds"]}" xmlns:tt="{NS["tt"]}"'


def serial(cam: CameraState) -> str:
    """Stable per camera and derived from its id (what an installer reads off the label)."""
    return "CGS" + hashlib.sha1(cam.spec.id.encode()).hexdigest()[:10].upper()


def scopes(cam: CameraState) -> list[str]:
    """The camera's ONVIF scopes (GetScopes and WS-Discovery ProbeMatches say the same)."""
    out = [
        "onvif://www.onvif.org/type/video_encoder",
        "onvif://www.onvif.org/Profile/Streaming",
        f"onvif://www.onvif.org/name/{quote(cam.spec.name, safe='')}",
        f"onvif://www.onvif.org/hardware/{quote(cam.onvif.model, safe='')}",
        f"onvif://www.onvif.org/location/district/{quote(cam.spec.district, safe='')}",
        f"onvif://www.onvif.org/location/site/{quote(cam.spec.site, safe='')}",
    ]
    if "media2" in cam.onvif.services:
        out.append("onvif://www.onvif.org/Profile/T")
    if cam.onvif.services >= PROFILE_G:
        out.append("onvif://www.onvif.org/Profile/G")
    return out


def xaddr(call: Call, service: str) -> str:
    return call.base_url + SERVICE_PATHS[service]


@operation("device", "GetDeviceInformation")
def get_device_information(call: Call) -> str:
    cam = call.camera
    return (
        f"<tds:GetDeviceInformationResponse {TDS}><tds:Manufacturer>{MAKER}</tds:Manufacturer>"
        f"<tds:Model>{escape(cam.onvif.model)}</tds:Model><tds:FirmwareVersion>{FIRMWARE}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{serial(cam)}</tds:SerialNumber>"
        f"<tds:HardwareId>{escape(cam.onvif.model)}-HW1</tds:HardwareId></tds:GetDeviceInformationResponse>"
    )


def camera_time(call: Call) -> datetime:
    """What the camera's clock says now: true time plus its offset (fault ``camera_clock_offset``)."""
    return datetime.fromtimestamp((call.now_ns + call.camera.clock_offset_ns) / 1e9, UTC)


def _datetime(tag: str, t: datetime) -> str:
    return (
        f"<tt:{tag}><tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
        f"<tt:Second>{t.second}</tt:Second></tt:Time><tt:Date><tt:Year>{t.year}</tt:Year>"
        f"<tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day></tt:Date></tt:{tag}>"
    )


@operation("device", "GetSystemDateAndTime")
def get_system_date_and_time(call: Call) -> str:
    t = camera_time(call)
    kind = "NTP" if call.camera.clock_offset_ns == 0 else "Manual"
    return (
        f"<tds:GetSystemDateAndTimeResponse {TDS}><tds:SystemDateAndTime>"
        f"<tt:DateTimeType>{kind}</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        f"<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>{_datetime('UTCDateTime', t)}{_datetime('LocalDateTime', t)}"
        f"</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


async def _service_capabilities(call: Call, service: str) -> str:
    """The ``Capabilities`` element the service's own GetServiceCapabilities answers (or nothing)."""
    handler = OPERATIONS.get((service, "GetServiceCapabilities"))
    if handler is None:
        return ""
    out = handler(call)
    if inspect.isawaitable(out):
        out = await out
    root = etree.fromstring(str(out).encode())
    caps = next((el for el in root if isinstance(el.tag, str)), None)
    return etree.tostring(caps).decode() if caps is not None else ""


@operation("device", "GetServices")
async def get_services(call: Call) -> str:
    include = call.text("tds:IncludeCapability").lower() in ("true", "1")
    items = []
    for service in SERVICE_PATHS:
        if service not in call.camera.onvif.services or service not in SERVICE_NS:
            continue
        caps = await _service_capabilities(call, service) if include else ""
        major, minor = VERSIONS.get(service, (2, 60))
        items.append(
            f"<tds:Service><tds:Namespace>{SERVICE_NS[service]}</tds:Namespace>"
            f"<tds:XAddr>{xaddr(call, service)}</tds:XAddr>"
            + (f"<tds:Capabilities>{caps}</tds:Capabilities>" if caps else "")
            + f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version></tds:Service>"
        )
    return f"<tds:GetServicesResponse {TDS}>{''.join(items)}</tds:GetServicesResponse>"


@operation("device", "GetServiceCapabilities")
def get_service_capabilities(call: Call) -> str:
    return (
        f"<tds:GetServiceCapabilitiesResponse {TDS}><tds:Capabilities>"
        '<tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false" NTP="0"/>'
        '<tds:Security TLS1.2="false" UsernameToken="true" HttpDigest="false"/>'
        '<tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" SystemBackup="false"'
        ' SystemLogging="false" FirmwareUpgrade="false"/>'
        "</tds:Capabilities></tds:GetServiceCapabilitiesResponse>"
    )


@operation("device", "GetCapabilities")
def get_capabilities(call: Call) -> str:
    have = call.camera.onvif.services
    parts = [f"<tt:Device><tt:XAddr>{xaddr(call, 'device')}</tt:XAddr></tt:Device>"]
    if "events" in have:
        parts.append(
            f"<tt:Events><tt:XAddr>{xaddr(call, 'events')}</tt:XAddr>"
            "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
            "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>"
            "</tt:Events>"
        )
    if "media" in have:
        parts.append(
            f"<tt:Media><tt:XAddr>{xaddr(call, 'media')}</tt:XAddr><tt:StreamingCapabilities>"
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
            "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        )
    ext = []
    if "recording" in have:
        ext.append(
            f"<tt:Recording><tt:XAddr>{xaddr(call, 'recording')}</tt:XAddr>"
            "<tt:ReceiverSource>false</tt:ReceiverSource><tt:MediaProfileSource>true</tt:MediaProfileSource>"
            "<tt:DynamicRecordings>false</tt:DynamicRecordings><tt:DynamicTracks>false</tt:DynamicTracks>"
            "<tt:MaxStringLength>64</tt:MaxStringLength></tt:Recording>"
        )
    if "search" in have:
        ext.append(
            f"<tt:Search><tt:XAddr>{xaddr(call, 'search')}</tt:XAddr>"
            "<tt:MetadataSearch>false</tt:MetadataSearch></tt:Search>"
        )
    if "replay" in have:
        ext.append(f"<tt:Replay><tt:XAddr>{xaddr(call, 'replay')}</tt:XAddr></tt:Replay>")
    if ext:
        parts.append(f"<tt:Extension>{''.join(ext)}</tt:Extension>")
    caps = "".join(parts)
    return (
        f"<tds:GetCapabilitiesResponse {TDS}><tds:Capabilities>{caps}</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


@operation("device", "GetScopes")
def get_scopes(call: Call) -> str:
    items = "".join(
        f"<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>{escape(s)}</tt:ScopeItem></tds:Scopes>"
        for s in scopes(call.camera)
    )
    return f"<tds:GetScopesResponse {TDS}>{items}</tds:GetScopesResponse>"


@operation("device", "GetHostname")
def get_hostname(call: Call) -> str:
    return (
        f"<tds:GetHostnameResponse {TDS}><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>"
        f"<tt:Name>{escape(call.camera.spec.id)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>"
    )


def mac(cam: CameraState) -> str:
    """A locally administered MAC address derived from the camera's index."""
    i = cam.spec.index
    return f"02:c6:00:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"


@operation("device", "GetNetworkInterfaces")
def get_network_interfaces(call: Call) -> str:
    address = call.base_url.split("//", 1)[1].rsplit(":", 1)[0]
    return (
        f'<tds:GetNetworkInterfacesResponse {TDS}><tds:NetworkInterfaces token="eth0"><tt:Enabled>true</tt:Enabled>'
        f"<tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>{mac(call.camera)}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
        f"<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual><tt:Address>{address}</tt:Address>"
        "<tt:PrefixLength>8</tt:PrefixLength></tt:Manual><tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>"
        "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
    )
