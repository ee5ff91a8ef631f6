"""H.264 / H.265 NAL units: splitting Annex B streams, types, and the few SPS fields a container needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

H264 = "h264"
H265 = "h265"

_START = re.compile(b"\x00\x00\x01")


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream, without start codes (trailing zero bytes trimmed)."""
    starts = [m.end() for m in _START.finditer(data)]
    nals = []
    for i, s in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        nal = data[s:end].rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals


def nal_type(codec: str, nal: bytes) -> int:
    return (nal[0] & 0x1F) if codec == H264 else (nal[0] >> 1) & 0x3F


def is_keyframe_nal(codec: str, t: int) -> bool:
    """IDR for H.264; IRAP (BLA/IDR/CRA) for H.265."""
    return t == 5 if codec == H264 else 16 <= t <= 21


# NAL unit types of the parameter sets, per codec: the one place these numbers are spelt (H.264 7.4.1.2: SPS 7,
# PPS 8; H.265 7.4.2.2: VPS 32, SPS 33, PPS 34). H.264 has no VPS.
H264_SPS, H264_PPS = 7, 8
H265_VPS, H265_SPS, H265_PPS = 32, 33, 34
PARAM_SET_TYPES: dict[str, dict[str, int]] = {
    H264: {"sps": H264_SPS, "pps": H264_PPS},
    H265: {"vps": H265_VPS, "sps": H265_SPS, "pps": H265_PPS},
}


def param_set_type(codec: str, kind: str) -> int:
    """The NAL type of parameter set ``kind`` ("vps", "sps", "pps") in ``codec``; KeyError for none (H.264 VPS)."""
    return PARAM_SET_TYPES[codec][kind]


def is_parameter_set(codec: str, t: int) -> bool:
    """True for a VPS, SPS or PPS NAL type of ``codec`` (the one test: segmenter, fMP4, RTP and clips use it)."""
    return t in PARAM_SET_TYPES[H264 if codec == H264 else H265].values()


def is_aud(codec: str, t: int) -> bool:
    return t == 9 if codec == H264 else t == 35


def is_vcl(codec: str, t: int) -> bool:
    return 1 <= t <= 5 if codec == H264 else t < 32


def first_slice_in_picture(codec: str, nal: bytes) -> bool:
    """True when this VCL NAL starts a new picture (first_mb_in_slice == 0 / first_slice_segment_in_pic_flag)."""
    if codec == H264:
        return len(nal) > 1 and bool(nal[1] & 0x80)  # ue(v) == 0 is the single bit '1'
    return len(nal) > 2 and bool(nal[2] & 0x80)


def unescape(nal: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 -> 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3] if (self.pos >> 3) < len(self.data) else 0
            value = (value << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


@dataclass(frozen=True)
class StreamInfo:
    codec: str
    width: int
    height: int
    profile: int
    level: int
    # H.265 profile_tier_level bytes (12): what hvcC copies verbatim; empty for H.264.
    ptl: bytes = b""
    chroma_format: int = 1
    bit_depth_luma: int = 8
    bit_depth_chroma: int = 8
    # Pictures that may come before one they are shown after (B-frames): H.264 VUI max_num_reorder_frames (0 for
    # Baseline), H.265 sps_max_num_reorder_pics; None when the SPS does not say.
    reorder: int | None = None


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last, nxt = 8, 8
    for _ in range(size):
        if nxt:
            nxt = (last + r.se() + 256) % 256
        last = nxt or last


def parse_h264_sps(nal: bytes) -> StreamInfo:
    r = BitReader(unescape(nal[1:]))
    profile = r.u(8)
    r.u(8)
    level = r.u(8)
    r.ue()
    chroma = 1
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma = r.ue()
        if chroma == 3:
            r.u(1)
        r.ue()
        r.ue()
        r.u(1)
        if r.u(1):
            for i in range(8 if chroma != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    r.ue()
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()
    r.u(1)
    w_mbs = r.ue() + 1
    h_units = r.ue() + 1
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        r.u(1)
    r.u(1)
    crop = [0, 0, 0, 0]
    if r.u(1):
        crop = [r.ue(), r.ue(), r.ue(), r.ue()]
    sub_w = 1 if chroma in (0, 3) else 2
    sub_h = 2 if chroma == 1 else 1
    unit_y = (2 - frame_mbs_only) * (sub_h if chroma else 1)
    width = w_mbs * 16 - (crop[0] + crop[1]) * sub_w
    height = (2 - frame_mbs_only) * h_units * 16 - (crop[2] + crop[3]) * unit_y
    reorder = 0 if profile == 66 else None  # Baseline has no B-frames
    try:
        if r.u(1):
            reorder = _h264_vui_reorder(r, reorder)
    except ValueError:
        pass  # a VUI we cannot read (trailing bytes, Reolink): the reorder depth is learnt from the stream
    return StreamInfo(H264, width, height, profile, level, chroma_format=chroma, reorder=reorder)


def _h264_hrd(r: BitReader) -> None:
    count = r.ue() + 1
    r.u(8)
    for _ in range(count):
        r.ue()
        r.ue()
        r.u(1)
    r.u(20)


def _h264_vui_reorder(r: BitReader, default: int | None) -> int | None:
    """max_num_reorder_frames from an H.264 VUI (E.1.1), or ``default`` without bitstream_restriction."""
    if r.u(1) and r.u(8) == 255:
        r.u(32)
    if r.u(1):
        r.u(1)
    if r.u(1):
        r.u(4)
        if r.u(1):
            r.u(24)
    if r.u(1):
        r.ue()
        r.ue()
    if r.u(1):
        r.u(65)
    nal_hrd = r.u(1)
    if nal_hrd:
        _h264_hrd(r)
    vcl_hrd = r.u(1)
    if vcl_hrd:
        _h264_hrd(r)
    if nal_hrd or vcl_hrd:
        r.u(1)
    r.u(1)
    if not r.u(1):
        return default
    r.u(1)
    for _ in range(4):
        r.ue()
    return r.ue()


def parse_h265_sps(nal: bytes) -> StreamInfo:
    raw = unescape(nal[2:])
    r = BitReader(raw)
    r.u(4)
    max_sub_layers = r.u(3)
    r.u(1)
    ptl_start = r.pos // 8
    r.u(2)
    r.u(1)
    profile = r.u(5)
    r.u(32)
    r.u(48)
    level = r.u(8)
    ptl = raw[ptl_start : ptl_start + 12]
    sub_profile, sub_level = [], []
    for _ in range(max_sub_layers):
        sub_profile.append(r.u(1))
        sub_level.append(r.u(1))
    if max_sub_layers > 0:
        for _ in range(max_sub_layers, 8):
            r.u(2)
    for i in range(max_sub_layers):
        if sub_profile[i]:
            r.u(88)
        if sub_level[i]:
            r.u(8)
    r.ue()
    chroma = r.ue()
    if chroma == 3:
        r.u(1)
    width = r.ue()
    height = r.ue()
    if r.u(1):
        sub_w = 1 if chroma in (0, 3) else 2
        sub_h = 2 if chroma == 1 else 1
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        width -= (left + right) * sub_w
        height -= (top + bottom) * sub_h
    depth_luma = r.ue() + 8
    depth_chroma = r.ue() + 8
    reorder: int | None = None
    try:
        r.ue()
        ordering_all = r.u(1)
        for _ in range(0 if ordering_all else max_sub_layers, max_sub_layers + 1):
            r.ue()
            reorder = r.ue()  # the highest sub-layer's is the stream's
            r.ue()
    except ValueError:
        reorder = None
    return StreamInfo(H265, width, height, profile, level, ptl, chroma, depth_luma, depth_chroma, reorder)


def parse_sps(codec: str, nal: bytes) -> StreamInfo:
    return parse_h264_sps(nal) if codec == H264 else parse_h265_sps(nal)


def access_units(codec: str, nals: list[bytes]) -> list[list[bytes]]:
    """Group a NAL sequence into access units (AUD, parameter sets and SEI start a new one before a VCL)."""
    aus: list[list[bytes]] = []
    cur: list[bytes] = []
    has_vcl = False
    for nal in nals:
        t = nal_type(codec, nal)
        vcl = is_vcl(codec, t)
        starts_new = (vcl and has_vcl and first_slice_in_picture(codec, nal)) or (
            not vcl and has_vcl and (is_aud(codec, t) or is_parameter_set(codec, t) or t in (6, 39))
        )
        if starts_new and cur:
            aus.append(cur)
            cur, has_vcl = [], False
        cur.append(nal)
        has_vcl = has_vcl or vcl
    if cur:
        aus.append(cur)
    return aus


def codec_string(info: StreamInfo, sps: bytes) -> str:
    """RFC 6381 ``codecs`` value for Media Source Extensions (``avc1.4d401f``, ``hvc1.1.6.L93.B0``)."""
    if info.codec == H264:
        return "avc1." + bytes(sps[1:4]).hex()
    ptl = info.ptl.ljust(12, b"\x00")
    space = "ABC"[((ptl[0] >> 6) & 3) - 1] if (ptl[0] >> 6) & 3 else ""
    profile = ptl[0] & 0x1F
    compat = int.from_bytes(ptl[1:5], "big")
    rev = int(f"{compat:032b}"[::-1], 2)
    tier = "H" if ptl[0] & 0x20 else "L"
    constraints = list(ptl[5:11])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [f"hvc1.{space}{profile}", f"{rev:X}", f"{tier}{ptl[11]}"] + [f"{b:X}" for b in constraints]
    return ".".join(parts)
