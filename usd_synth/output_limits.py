"""Documented output limits: what a command may be asked to *make*, checked before any large allocation.

Input limits (what a file may hold) live in :mod:`usd_synth.limits`; these bound the outputs a user asks
for with flags, so a typo (``--size 100000``, ``--clips-per-class 1000000000``) fails at once with one line
instead of allocating 80 GB or filling the disk.

=====================  ===============  ================================================================
limit                  default          what it bounds
=====================  ===============  ================================================================
``max_image_size``     8,192            fractal frame width and height, pixels
``max_clip_frames``    10,000           frames of one fractal clip
``max_points``         1,000,000        chaos-game points per frame
``max_iterations``     1,000,000        map applications per point
``max_clips``          1,000,000        clips of one fractal set
``max_workers``        256              parallel workers
``max_work_bytes``     8 GiB            estimated working memory of the clips rendered at once
``disk_margin``        1.0              the estimated output must fit the free space times this
=====================  ===============  ================================================================

Motion lengths written by ``motion builtin`` follow the input limits (``max_frames``, ``max_fps``,
``max_duration_s``), since a motion written today is read tomorrow.

Widen them with ``USD_SYNTH_OUTPUT_LIMITS="max_image_size=16384,max_work_bytes=3.4e10"``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from usd_synth.errors import UsdSynthError

ENV_VAR = "USD_SYNTH_OUTPUT_LIMITS"
GIB = 1 << 30


@dataclass(frozen=True)
class OutputLimits:
    max_image_size: int = 8192
    max_clip_frames: int = 10_000
    max_points: int = 1_000_000
    max_iterations: int = 1_000_000
    max_clips: int = 1_000_000
    max_workers: int = 256
    max_work_bytes: int = 8 * GIB
    disk_margin: float = 1.0


def current() -> OutputLimits:
    """The defaults, widened or narrowed by ``USD_SYNTH_OUTPUT_LIMITS`` (``name=value,...``)."""
    changes: dict[str, float] = {}
    names = {f.name: f for f in dataclasses.fields(OutputLimits)}
    for item in filter(None, (s.strip() for s in os.environ.get(ENV_VAR, "").split(","))):
        key, _, value = item.partition("=")
        key = key.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if key not in names or not math.isfinite(number) or number <= 0:
            raise UsdSynthError(f"{ENV_VAR}: {item!r} is not limit=positive number", field=ENV_VAR)
        changes[key] = int(number) if names[key].type in (int, "int") else number
    return dataclasses.replace(OutputLimits(), **changes)


def _fmt_bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"


def _cap(value: int, limit: int, field: str, what: str, name: str) -> None:
    if value > limit:
        raise UsdSynthError(
            f"{field} {value} is more {what} than the {limit:,} limit ({name}; {ENV_VAR} widens it)",
            field=field,
        )


def free_bytes(path: str | Path) -> int | None:
    """Free space of the file system that ``path`` (or its nearest existing folder) is on."""
    p = Path(path).absolute()
    for candidate in [p, *p.parents]:
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def check_disk(path: str | Path, estimate: float, field: str = "out") -> None:
    """Refuse when the estimated output does not fit in the free space at ``path``."""
    free = free_bytes(path)
    margin = current().disk_margin
    if free is not None and estimate > free * margin:
        raise UsdSynthError(
            f"the output needs about {_fmt_bytes(estimate)} but only {_fmt_bytes(free)} is free there",
            path,
            field=field,
        )


def fractal_estimate(
    clips: int, frames: int, size: int, points: int, color: bool, video_format: str, workers: int
) -> dict[str, float]:
    """Rough sizes of a fractal set: ``work_bytes`` (memory of the clips rendered at once: accumulation
    buffers, 8-bit frames, point buffers) and ``output_bytes`` (PNG frames hardly compress these
    images; mp4 about ten times better)."""
    channels = 3 if color else 1
    per_clip = frames * size * size * (4 * (1 + 3 * color) + 2 * channels) + frames * points * 32
    raw = clips * frames * size * size * channels
    return {
        "work_bytes": float(min(workers, max(clips, 1)) * per_clip),
        "output_bytes": float(raw * (0.5 if video_format == "png" else 0.1)),
    }


def check_fractal(
    *,
    clips: int,
    frames: int,
    size: int,
    points: int,
    iterations: int,
    color: bool,
    video_format: str,
    workers: int,
    out: str | Path,
    clips_field: str = "clips_per_class",
) -> dict[str, float]:
    """Check a fractal set's counts and estimated sizes against the limits; return the estimate."""
    lim = current()
    _cap(size, lim.max_image_size, "size", "pixels", "max_image_size")
    _cap(frames, lim.max_clip_frames, "frames", "frames", "max_clip_frames")
    _cap(points, lim.max_points, "points", "points", "max_points")
    _cap(iterations, lim.max_iterations, "iterations", "iterations", "max_iterations")
    _cap(workers, lim.max_workers, "workers", "workers", "max_workers")
    if clips > lim.max_clips:
        raise UsdSynthError(
            f"{clips_field} asks for {clips:,} clips in all, more than the {lim.max_clips:,} limit "
            f"(max_clips; {ENV_VAR} widens it)",
            field=clips_field,
        )
    est = fractal_estimate(clips, frames, size, points, color, video_format, workers)
    if est["work_bytes"] > lim.max_work_bytes:
        raise UsdSynthError(
            f"size {size} with {frames} frames per clip needs about {_fmt_bytes(est['work_bytes'])} "
            f"of memory ({workers} worker(s)), more than the {_fmt_bytes(lim.max_work_bytes)} limit "
            f"(max_work_bytes; {ENV_VAR} widens it)",
            field="size",
        )
    check_disk(out, est["output_bytes"])
    return est


def check_motion_length(seconds: float, fps: float) -> int:
    """Frames of a generated motion of ``seconds`` at ``fps``, within the motion limits (``max_fps``,
    ``max_frames``, ``max_duration_s`` of :mod:`usd_synth.limits`)."""
    from usd_synth import limits

    lim = limits.current()
    if not lim.min_fps <= fps <= lim.max_fps:
        raise UsdSynthError(
            f"fps {fps:g} is outside {lim.min_fps:g}..{lim.max_fps:g} (min_fps, max_fps; "
            f"{limits.ENV_VAR} widens them)",
            field="fps",
        )
    frames = math.ceil(seconds * fps)
    if seconds > lim.max_duration_s or frames > lim.max_frames:
        raise UsdSynthError(
            f"seconds {seconds:g} at {fps:g} fps is {frames:,} frames; the limits are {lim.max_frames:,} "
            f"frames and {lim.max_duration_s:g} s (max_frames, max_duration_s; {limits.ENV_VAR} widens them)",
            field="seconds",
        )
    return frames
