"""Codec and container plumbing shared by the simulator and the recorder: NAL units, RTP payloads, fMP4.

Written by hand, not taken from libav or GStreamer, because the recorder's per-packet budget is a few
microseconds of Python: see docs/design/packet-path.md.
"""
