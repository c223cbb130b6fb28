"""Motion readers: one plugin per input format, found through the ``usd_synth.readers`` entry points.

A reader is a class with a ``name``, a one-line ``description``, ``retargets`` (whether it fits rotations
to joint positions), a ``sniff(path)`` that looks at the file's content cheaply (a header, a zip
listing) and a ``read(path, fps=None, refine=False)`` that returns a
:class:`~usd_synth.motion.model.Motion`. Third-party packages add a format by declaring an entry point in
that group; nothing in the core changes.
"""

from __future__ import annotations

import functools
import inspect
import logging
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

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
        f"format: unknown motion format (none of the readers recognises it); use one of: {known}",
        path,
        field="format",
    )


def read_motion(path: str | Path, format: str | None = None, fps: float | None = None,
                refine: bool = False, **options: Any) -> Motion:  # fmt: skip
    """Read a motion file (or folder) with the named reader, or the one its content matches.

    ``options`` are reader-specific keywords (e.g. the BVH reader's ``joint_map``, ``unit``,
    ``target_fps``); one the chosen reader does not take is an error naming it, so a user who passes
    ``unit`` for a ``.npy`` learns it was ignored instead of wondering why nothing changed.
    """
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
        raise UsdSynthError(f"fps must be a positive frame rate, got {fps}", path, field="fps")
    reader = readers()[format]
    if refine and not getattr(reader, "retargets", False):
        log.warning("refine has no effect on %s input: its rotations are taken as they are", format)
    options = {k: v for k, v in options.items() if v is not None}
    if options:
        accepted = inspect.signature(reader.read).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
        for key in options:
            if key not in accepted and not takes_any:
                raise UsdSynthError(f"{key} does not apply to {format} input", path, field=key)
    motion = reader.read(path, fps=fps, refine=refine, **options)
    motion.source.setdefault("reader", format)
    motion.source.setdefault("file", path.name)
    return motion
