"""Motion readers: one plugin per input format, found through the ``usd_synth.readers`` entry points.

A reader is a class with a ``name``, a one-line ``description``, ``retargets`` (whether it fits rotations
to joint positions), a ``sniff(path)`` that looks at the file's content cheaply (a header, a zip
listing) and a ``read(path, fps=None, refine=False)`` that returns a
:class:`~usd_synth.motion.model.Motion`. Third-party packages add a format by declaring an entry point in
that group; nothing in the core changes.
"""

from __future__ import annotations

import functools
import logging
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "usd_synth.readers"


@runtime_checkable
class MotionReader(Protocol):
    """What a reader plugin provides."""

    name: str
    description: str

    def sniff(self, path: Path) -> bool:
        """True when the content at ``path`` looks like this format (must be cheap and never raise)."""
        ...

    #: True when the reader fits rotations to joint positions (so ``refine`` means something).
    retargets: bool

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        """Read ``path`` into a Motion; raise UsdSynthError naming the file for bad content.

        ``refine`` asks a retargeting reader to follow its closed form with the torch refinement.
        """
        ...


@functools.cache
def readers() -> dict[str, MotionReader]:
    """All registered readers by name, in a stable order (sniffing tries them in this order)."""
    found: dict[str, MotionReader] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            found[ep.name] = ep.load()()
        except Exception as exc:  # a broken third-party plugin must not break the others
            log.warning("reader plugin %s failed to load: %s", ep.name, exc)
    return found


def detect_format(path: Path) -> str:
    """Name of the reader whose ``sniff`` accepts ``path``; a UsdSynthError when none (or no file) does."""
    path = Path(path)
    if not path.exists():
        raise UsdSynthError("no such file or folder", path)
    if path.is_file() and path.stat().st_size == 0:
        raise UsdSynthError("file is empty", path)
    for name, reader in readers().items():
        if reader.sniff(path):
            return name
    known = ", ".join(readers())
    raise UsdSynthError(
        f"unknown motion format (none of the readers recognises it); use --format, one of: {known}", path
    )


def read_motion(path: str | Path, format: str | None = None, fps: float | None = None,
                refine: bool = False) -> Motion:  # fmt: skip
    """Read a motion file (or folder) with the named reader, or the one its content matches."""
    path = Path(path)
    if format is None:
        format = detect_format(path)
    elif format not in readers():
        raise UsdSynthError(f"unknown format {format!r}; known formats: {', '.join(readers())}", path)
    elif not path.exists():
        raise UsdSynthError("no such file or folder", path)
    elif path.is_file() and path.stat().st_size == 0:
        raise UsdSynthError("file is empty", path)
    if fps is not None and not (fps > 0 and fps < 10_000):
        raise UsdSynthError(f"--fps must be a positive frame rate, got {fps}", path)
    reader = readers()[format]
    if refine and not getattr(reader, "retargets", False):
        log.warning("--refine has no effect on %s input: its rotations are taken as they are", format)
    motion = reader.read(path, fps=fps, refine=refine)
    motion.source.setdefault("reader", format)
    motion.source.setdefault("file", path.name)
    return motion
