"""Picture transforms: a camera's pictures rewritten before storage, live view or anything else sees them.

The recorder knows only this protocol; privacy masks (``camgrid.privacy``, a higher layer) implement it and are
installed by the command that runs the recorder. A transform runs its own thread: ``submit`` and ``drain`` are
called on the ingest thread and must not block.
"""

from __future__ import annotations

from typing import Protocol

from camgrid.media.rtp import AccessUnit


class PictureTransform(Protocol):
    def submit(self, au: AccessUnit, ext: int, jump: bool) -> None:
        """Take a picture as received (it must not be kept beyond the transform's own memory)."""
        ...

    def drain(self) -> list[tuple[AccessUnit, int, bool]]:
        """Pictures ready since the last call, with their original timing."""
        ...

    def reset(self) -> None:
        """The camera's session ended: the next picture out must be a keyframe."""
        ...

    def close(self) -> None:
        """Stop the transform's thread."""
        ...
