"""Motion readers: one plugin per input format, found through the ``usd_synth.readers`` entry points.

A reader is a class with a ``name``, a one-line ``description``, ``retargets`` (whether it fits rotations
to joint positions), a ``sniff(path)`` that looks at the file's content cheaply (a header, a zip
listing) and a ``read(path, fps=None, refine=False)`` that returns a
:class:`~usd_synth.motion.model.Motion`; optionally ``takes_folder`` (True: the input is a folder, False: a
file; checked before ``read``). Third-party packages add a format by declaring an entry point in
that group; nothing in the core changes.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import zipfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.limits import Limits, check_fps, check_input_file, using
from usd_synth.motion.model import Motion, validate_motion

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


def _check_path(path: Path, reader: MotionReader | None = None) -> None:
    """The path exists, is not a loop, device or pipe, and is a file or folder as the reader expects."""
    if not path.exists():
        if path.is_symlink():
            raise UsdSynthError("is a broken link or a link loop", path)
        raise UsdSynthError("no such file or folder", path)
    takes_folder = getattr(reader, "takes_folder", None)
    if path.is_dir():
        if takes_folder is False:
            raise UsdSynthError(f"is a folder; {reader.name} input is a file", path)
        return
    if takes_folder:
        raise UsdSynthError(f"is a file; {reader.name} input is a folder", path)
    check_input_file(path)


def detect_format(path: Path) -> str:
    """Name of the reader whose ``sniff`` accepts ``path``; a UsdSynthError when none (or no file) does."""
    path = Path(path)
    _check_path(path)
    for name, reader in readers().items():
        try:
            found = reader.sniff(path)
        except Exception:  # sniff must never raise; a broken one must not hide the others
            found = False
        if found:
            return name
    known = ", ".join(readers())
    raise UsdSynthError(
        f"format: unknown motion format (none of the readers recognises it); use one of: {known}",
        path,
        field="format",
    )


#: Failures of a reader that mean "this content is not what the format says", not a bug in the caller.
_CONTENT_ERRORS = (
    ValueError, TypeError, IndexError, KeyError, AttributeError, OSError, EOFError, MemoryError,
    RecursionError, ArithmeticError, UnicodeError, zipfile.BadZipFile, np.linalg.LinAlgError,
)  # fmt: skip


def read_motion(path: str | Path, format: str | None = None, fps: float | None = None,
                refine: bool = False, limits: Limits | None = None, **options: Any) -> Motion:  # fmt: skip
    """Read a motion file (or folder) with the named reader, or the one its content matches.

    Every input passes the checks of :mod:`usd_synth.limits` (``limits`` replaces the limits in force for
    this read, e.g. ``Limits(min_stature_m=0.3)`` for a small child): file type and size before reading,
    shapes, finite values, frame rate, frame count, duration, stature and bone lengths of the result.

    ``options`` are reader-specific keywords (e.g. the BVH reader's ``joint_map``, ``unit``,
    ``target_fps``); one the chosen reader does not take is an error naming it, so a user who passes
    ``unit`` for a ``.npy`` learns it was ignored instead of wondering why nothing changed.
    """
    with using(limits) if limits is not None else contextlib.nullcontext():
        return _read_motion(Path(path), format, fps, refine, options)


def _read_motion(path: Path, format: str | None, fps: float | None, refine: bool, options: dict) -> Motion:
    if format is None:
        format = detect_format(path)
    elif format not in readers():
        raise UsdSynthError(f"unknown format {format!r}; known formats: {', '.join(readers())}", path)
    reader = readers()[format]
    _check_path(path, reader)
    if fps is not None:
        try:
            fps = check_fps(fps, path, "fps")
        except UsdSynthError as exc:
            raise UsdSynthError(exc.message, path, field="fps") from None
    if refine and not getattr(reader, "retargets", False):
        log.warning("refine has no effect on %s input: its rotations are taken as they are", format)
    options = {k: v for k, v in options.items() if v is not None}
    if options:
        accepted = inspect.signature(reader.read).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
        for key in options:
            if key not in accepted and not takes_any:
                raise UsdSynthError(f"{key} does not apply to {format} input", path, field=key)
    try:
        motion = reader.read(path, fps=fps, refine=refine, **options)
    except UsdSynthError:
        raise
    except _CONTENT_ERRORS as exc:
        log.debug("reader %s failed on %s", format, path, exc_info=True)
        text = " ".join(str(exc).split())[:160] or "no details"
        raise UsdSynthError(f"not readable as {format} input ({type(exc).__name__}: {text})", path) from None
    motion.source.setdefault("reader", format)
    motion.source.setdefault("file", path.name)
    return validate_motion(motion, path)
