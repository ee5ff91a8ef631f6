"""Errors of the privacy package (kept apart so that importing them costs nothing)."""

from __future__ import annotations


class MaskError(ValueError):
    """An invalid mask or mask request; the message is safe to show."""
