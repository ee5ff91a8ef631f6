"""Audio tracks for the simulated cameras: a tone encoded once with ffmpeg (cached like the video clips), split into
RTP payloads as real cameras send them.

- AAC: MPEG4-GENERIC (RFC 3640, AAC-hbr), one access unit per packet, 32 kHz mono (1,024 samples per frame: a loop
  of a whole number of seconds holds a whole number of frames).
- G.711 A-law (PCMA, static payload type 8) and µ-law (PCMU, type 0): 8 kHz, 20 ms (160 bytes) per packet.
- Opus (RFC 7587): 48 kHz clock, 20 ms per packet, read out of the Ogg pages libopus writes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

AAC = "aac"
PCMA = "pcma"
PCMU = "pcmu"
OPUS = "opus"
AUDIO_CODECS = (AAC, PCMA, PCMU, OPUS)


@dataclass(frozen=True)
class AudioTrack:
    """One loop of encoded audio: its RTP payloads, the RTP clock step per payload and the SDP lines."""

    codec: str
    payload_type: int
    clock_rate: int
    samples_per_packet: int
    payloads: list[bytes]
    rtpmap: str
    fmtp: str = ""

    @property
    def packet_seconds(self) -> float:
        return self.samples_per_packet / self.clock_rate

    def sdp_lines(self, control: str) -> list[str]:
        lines = [f"m=audio 0 RTP/AVP {self.payload_type}", f"a=rtpmap:{self.payload_type} {self.rtpmap}"]
        if self.fmtp:
            lines.append(f"a=fmtp:{self.payload_type} {self.fmtp}")
        return [*lines, f"a=control:{control}"]


def _ffmpeg(args: list[str], out: Path) -> None:
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is not installed: run `make deps` (it installs Debian's ffmpeg)")
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=out.suffix, delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(tmp_path)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        tmp_path.replace(out)
    except subprocess.CalledProcessError as exc:
        tmp_path.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed to encode audio: {exc.stderr.decode(errors='replace')[-300:]}") from exc


def _tone(rate: int, seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration={seconds:.3f}", "-ac", "1"]


def _adts_frames(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 7 <= len(data):
        if data[pos] != 0xFF or (data[pos + 1] & 0xF0) != 0xF0:
            raise ValueError("not an ADTS stream")
        header = 7 if data[pos + 1] & 1 else 9  # protection_absent: no CRC
        length = ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        out.append(data[pos + header : pos + length])
        pos += length
    return out


def _ogg_packets(data: bytes) -> list[bytes]:
    packets, cur, pos = [], b"", 0
    while pos + 27 <= len(data):
        if data[pos : pos + 4] != b"OggS":
            raise ValueError("not an Ogg stream")
        n = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + n]
        body = pos + 27 + n
        for size in lacing:
            cur += data[body : body + size]
            body += size
            if size < 255:
                packets.append(cur)
                cur = b""
        pos = body
    return [p for p in packets if not p.startswith((b"OpusHead", b"OpusTags"))]


def load_audio(codec: str, seconds: float, cache_dir: Path) -> AudioTrack:
    """A tone of ``seconds`` (one video loop) in ``codec``, encoded once into ``cache_dir``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tag = f"tone-{codec}-{seconds:.3f}"
    if codec == AAC:
        path = cache_dir / f"{tag}.aac"
        if not path.exists():
            _ffmpeg([*_tone(32000, seconds), "-c:a", "aac", "-b:a", "32k", "-f", "adts"], path)
        frames = _adts_frames(path.read_bytes())
        # RFC 3640 AAC-hbr: a 16-bit AU-headers-length (16 bits of headers), then 13 bits size + 3 bits index.
        payloads = [b"\x00\x10" + bytes([len(f) >> 5, (len(f) & 0x1F) << 3]) + f for f in frames]
        fmtp = (
            "streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1288;"
            "sizeLength=13;indexLength=3;indexDeltaLength=3"  # config: AAC-LC, 32 kHz, mono
        )
        return AudioTrack(AAC, 97, 32000, 1024, payloads, "MPEG4-GENERIC/32000/1", fmtp)
    if codec in (PCMA, PCMU):
        path = cache_dir / f"{tag}.raw"
        fmt = "alaw" if codec == PCMA else "mulaw"
        if not path.exists():
            _ffmpeg([*_tone(8000, seconds), "-c:a", f"pcm_{fmt}", "-f", fmt], path)
        raw = path.read_bytes()
        payloads = [raw[i : i + 160] for i in range(0, len(raw) - 159, 160)]
        pt = 8 if codec == PCMA else 0
        return AudioTrack(codec, pt, 8000, 160, payloads, f"{codec.upper()}/8000")
    if codec == OPUS:
        path = cache_dir / f"{tag}.ogg"
        if not path.exists():
            _ffmpeg([*_tone(48000, seconds), "-c:a", "libopus", "-b:a", "24k", "-frame_duration", "20"], path)
        return AudioTrack(OPUS, 111, 48000, 960, _ogg_packets(path.read_bytes()), "opus/48000/2", "sprop-stereo=0")
    raise ValueError(f"unknown audio codec {codec!r}")
