"""Documented input limits: the one place that says how big, how fast and how tall an input may be.

Every motion reader checks its input against these limits *before* heavy work (loading a whole array,
decompressing an archive member, sampling a USD time range, fitting rotations), so a hostile or broken
file fails fast with one line naming the file, instead of hanging, exhausting memory or producing a
motion of absurd size.

=========================  ===============  ==========================================================
limit                      default          what it bounds
=========================  ===============  ==========================================================
``max_frames``             100,000          frames of one motion (55 min at 30 fps, 14 min at 120 fps;
                                            retargeting needs about 20 KB a frame, 2 GB at the limit)
``min_fps`` ``max_fps``    1 .. 1,000       frame rates, given or read from a file (BVH Frame Time,
                                            AMASS ``mocap_framerate``, USD ``timeCodesPerSecond``)
``max_duration_s``         14,400 (4 h)     frames / fps
``min_stature_m``          0.4              standing height of the skeleton (top of head to soles)
``max_stature_m``          2.6
``max_bone_fraction``      0.5              no single bone longer than this fraction of the stature
``max_coordinate_m``       10,000           any joint position or translation, in metres, from the origin
``max_rotation_deg``       1,000,000        any rotation value (BVH channel, axis-angle magnitude)
``max_file_bytes``         2 GiB            any input file
``max_text_bytes``         256 MiB          text formats parsed in memory (BVH, ``.usda``)
``max_array_bytes``        1 GiB            one array, from its ``.npy`` header, before it is read
``max_member_bytes``       1 GiB            one ``.npz`` member, declared uncompressed size
``max_pickle_bytes``       512 MiB          one pickle file (joints2smpl frames, SMPL models)
``max_joints``             1,024            joints of a BVH hierarchy
``max_text_values``        20,000,000       numbers in a text motion (BVH frames x channels; parsing
                                            costs about 60 bytes each)
=========================  ===============  ==========================================================

Widening. A real user may need more (a child of 0.35 m, a 3-hour capture, a 2,000 Hz system). Limits
can be widened (or narrowed) three ways, the later winning:

* the environment variable ``USD_SYNTH_LIMITS``, comma-separated ``name=value`` pairs, e.g.
  ``USD_SYNTH_LIMITS="min_stature_m=0.3,max_frames=500000"``;
* ``with usd_synth.limits.using(min_stature_m=0.3): ...`` in code (a context variable: threads and
  asyncio tasks see their own);
* ``read_motion(path, limits=Limits(min_stature_m=0.3))`` for one read.

:class:`~usd_synth.errors.UsdSynthError` messages about a limit name it (e.g. ``min_stature_m``) so a
user can tell which one to widen.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import errno
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usd_synth.errors import UsdSynthError

ENV_VAR = "USD_SYNTH_LIMITS"
GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """The input limits (see the module's table); every field can be widened."""

    max_frames: int = 100_000
    min_fps: float = 1.0
    max_fps: float = 1000.0
    max_duration_s: float = 4 * 3600.0
    min_stature_m: float = 0.4
    max_stature_m: float = 2.6
    max_bone_fraction: float = 0.5
    max_coordinate_m: float = 10_000.0
    max_rotation_deg: float = 1e6
    max_file_bytes: int = 2 * GIB
    max_text_bytes: int = 256 * MIB
    max_array_bytes: int = 1 * GIB
    max_member_bytes: int = 1 * GIB
    max_pickle_bytes: int = 512 * MIB
    max_joints: int = 1024
    max_text_values: int = 20_000_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise UsdSynthError(f"limit {f.name} must be a positive number, got {v!r}", field=f.name)
        if self.min_fps > self.max_fps:
            raise UsdSynthError("limit min_fps is above max_fps", field="min_fps")
        if self.min_stature_m > self.max_stature_m:
            raise UsdSynthError("limit min_stature_m is above max_stature_m", field="min_stature_m")

    def replace(self, **changes: float) -> Limits:
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise UsdSynthError(
                    f"unknown limit {key!r}; limits are: {', '.join(sorted(names))}", field=key
                )
        typed = {k: (int(v) if isinstance(getattr(self, k), int) else float(v)) for k, v in changes.items()}
        return dataclasses.replace(self, **typed)


def from_env(text: str | None = None) -> Limits:
    """Limits from ``USD_SYNTH_LIMITS`` (``name=value,...``) over the defaults."""
    text = os.environ.get(ENV_VAR, "") if text is None else text
    changes: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            changes[key.strip()] = float(value)
        except ValueError:
            raise UsdSynthError(
                f"{ENV_VAR}: {item!r} is not name=number (e.g. min_stature_m=0.3)", field=ENV_VAR
            ) from None
    try:
        return Limits().replace(**changes)
    except UsdSynthError as exc:
        raise UsdSynthError(f"{ENV_VAR}: {exc.message}", field=ENV_VAR) from None


_CURRENT: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("usd_synth_limits", default=None)


def current() -> Limits:
    """The limits in force: those set by :func:`using`, else the environment's, else the defaults."""
    found = _CURRENT.get()
    return found if found is not None else from_env()


@contextlib.contextmanager
def using(limits: Limits | None = None, **changes: float) -> Iterator[Limits]:
    """Apply ``limits`` (or the current ones with ``changes``) inside the ``with`` block."""
    chosen = (limits or current()).replace(**changes) if changes else (limits or current())
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


# ---------------------------------------------------------------------------------------------------------
# checks; each raises a one-line UsdSynthError naming ``path``
# ---------------------------------------------------------------------------------------------------------


def _num(v: float) -> str:
    return f"{v:.4g}"


def size_text(n: float) -> str:
    return f"{n / MIB:.0f} MiB" if n >= MIB else f"{int(n)} bytes"


def check_input_file(path: Path, max_bytes: int | None = None, what: str = "file") -> int:
    """A regular, readable file no bigger than ``max_bytes`` (default ``max_file_bytes``); its size."""
    lim = current()
    try:
        st = path.stat()
    except OSError as exc:
        reason = "a link that loops" if exc.errno == errno.ELOOP else (exc.strerror or "cannot be read")
        raise UsdSynthError(f"cannot open the {what}: {reason}", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise UsdSynthError(f"is a folder; a {what} is expected here", path)
    if not stat.S_ISREG(st.st_mode):
        raise UsdSynthError(f"is not a regular file (a device, pipe or socket); a {what} is expected", path)
    if st.st_size == 0:
        raise UsdSynthError("file is empty", path)
    cap = lim.max_file_bytes if max_bytes is None else min(max_bytes, lim.max_file_bytes)
    if st.st_size > cap:
        name = "max_file_bytes" if cap == lim.max_file_bytes else _cap_name(cap, lim)
        raise UsdSynthError(
            f"file is {size_text(st.st_size)}, more than the {size_text(cap)} limit ({name})",
            path,
            field=name,
        )
    return st.st_size


def _cap_name(cap: int, lim: Limits) -> str:
    for name in ("max_text_bytes", "max_pickle_bytes", "max_array_bytes", "max_member_bytes"):
        if getattr(lim, name) == cap:
            return name
    return "max_file_bytes"


def check_array_bytes(
    shape: tuple[int, ...], itemsize: int, path: Path, what: str, member: bool = False
) -> None:
    """Refuse an array whose declared size exceeds ``max_array_bytes`` (``max_member_bytes`` in an .npz)."""
    lim = current()
    nbytes = math.prod(int(s) for s in shape) * int(itemsize)
    cap, name = (
        (lim.max_member_bytes, "max_member_bytes") if member else (lim.max_array_bytes, "max_array_bytes")
    )
    if nbytes > cap:
        raise UsdSynthError(
            f"{what} declares shape {tuple(shape)} ({size_text(nbytes)}), more than the "
            f"{size_text(cap)} limit ({name})",
            path,
            field=name,
        )


def check_frames(n: int, path: Path | None, what: str = "motion") -> None:
    lim = current()
    if n > lim.max_frames:
        raise UsdSynthError(
            f"{what} has {n} frames, more than the {lim.max_frames} frame limit (max_frames)",
            path,
            field="max_frames",
        )


def check_text_values(n: int, path: Path | None, what: str) -> None:
    lim = current()
    if n > lim.max_text_values:
        raise UsdSynthError(
            f"{what} declares {n} values, more than the {lim.max_text_values} value limit (max_text_values)",
            path,
            field="max_text_values",
        )


def check_fps(fps: object, path: Path | None, what: str = "frame rate") -> float:
    """A frame rate within [min_fps, max_fps]; ``fps`` may be any object read from a file."""
    lim = current()
    try:
        arr = np.asarray(fps)
        if arr.dtype.kind not in "fiub" or arr.size != 1:
            raise TypeError
        value = float(arr.reshape(-1)[0])
    except (TypeError, ValueError):
        shown = repr(fps)[:40]
        raise UsdSynthError(f"{what} must be a number, got {shown}", path) from None
    if not math.isfinite(value) or value <= 0:
        raise UsdSynthError(f"{what} must be a positive number, got {_num(value)}", path)
    if not lim.min_fps <= value <= lim.max_fps:
        name = "max_fps" if value > lim.max_fps else "min_fps"
        raise UsdSynthError(
            f"{what} {_num(value)} is outside {_num(lim.min_fps)}..{_num(lim.max_fps)} fps ({name})",
            path,
            field=name,
        )
    return value


def check_duration(frames: int, fps: float, path: Path | None) -> None:
    lim = current()
    check_frames(frames, path)
    if frames / fps > lim.max_duration_s:
        raise UsdSynthError(
            f"motion lasts {frames / fps:.0f} s ({frames} frames at {_num(fps)} fps), more than the "
            f"{lim.max_duration_s:.0f} s limit (max_duration_s)",
            path,
            field="max_duration_s",
        )


def check_finite(arr: np.ndarray, path: Path | None, what: str, max_abs: float | None = None,
                 unit: str = "m", limit_name: str = "max_coordinate_m") -> None:  # fmt: skip
    """No NaN or infinity (the first bad frame named) and ``|value| <= max_abs``."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise UsdSynthError(f"{what} contains NaN or infinite values (first at frame {frame})", path)
    if max_abs is not None:
        big = float(np.abs(arr).max())
        if big > max_abs:
            frame = int(np.argwhere(np.abs(arr) > max_abs)[0][0]) if arr.ndim else 0
            raise UsdSynthError(
                f"{what}: a value of {_num(big)} {unit} (first at frame {frame}) is beyond the "
                f"{_num(max_abs)} {unit} limit ({limit_name}); wrong units or a corrupt file?",
                path,
                field=limit_name,
            )


def check_coordinates(arr: np.ndarray, path: Path | None, what: str) -> None:
    check_finite(arr, path, what, current().max_coordinate_m)


def check_rotations_deg(arr: np.ndarray, path: Path | None, what: str, radians: bool = False) -> None:
    lim = current()
    cap = math.radians(lim.max_rotation_deg) if radians else lim.max_rotation_deg
    check_finite(arr, path, what, cap, "rad" if radians else "degrees", "max_rotation_deg")


def check_stature(stature: float, path: Path | None, what: str = "the skeleton") -> None:
    """A standing height within [min_stature_m, max_stature_m]."""
    lim = current()
    if not math.isfinite(stature) or not lim.min_stature_m <= stature <= lim.max_stature_m:
        name = "max_stature_m" if math.isfinite(stature) and stature > lim.max_stature_m else "min_stature_m"
        shown = f"{stature:.3g} m" if math.isfinite(stature) else "not a number"
        raise UsdSynthError(
            f"{what} is {shown} tall, outside the plausible "
            f"{_num(lim.min_stature_m)}..{_num(lim.max_stature_m)} m ({name}; wrong units, normalised data "
            "or degenerate joints?)",
            path,
            field=name,
        )


def check_bones(
    lengths: np.ndarray, stature: float, path: Path | None, names: list[str] | None = None
) -> None:
    """No bone longer than ``max_bone_fraction`` of the stature."""
    lim = current()
    lengths = np.asarray(lengths, dtype=np.float64)
    cap = lim.max_bone_fraction * stature
    if lengths.size and float(lengths.max()) > cap:
        k = int(np.argmax(lengths))
        name = names[k] if names else f"bone {k}"
        raise UsdSynthError(
            f"the bone to {name} is {lengths[k]:.3g} m long, more than {lim.max_bone_fraction:g} of the "
            f"{stature:.3g} m stature (max_bone_fraction); a misplaced joint?",
            path,
            field="max_bone_fraction",
        )
