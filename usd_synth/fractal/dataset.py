"""Generate a fractal video pre-training set: classes, clips, files, manifest and preview.

Layout (labelled)::

    DIR/params/class_0000.npz            class parameters (FractalSystem.to_arrays)
    DIR/videos/<split>/class_0000/0000.mp4   (or 0000/00000.png ... with format "png")
    DIR/manifest.json                    settings and one record per clip
    DIR/preview.png                      middle frame of the first clip of up to 64 classes

Unlabelled mode writes ``params/clip_0000.npz`` and ``videos/<split>/0000.mp4``: every clip has its own
system. Every random choice comes from a generator made by the project's seeding rule
(:func:`usd_synth.randomize.rng_for`) from the run seed and a key naming the job (``"fractal", "class",
class`` for a class system, ``"fractal", "clip", class, clip`` for a clip), so the output does not depend
on the number of workers or on the order clips finish in. Classes and clips run on an executor
(:func:`usd_synth.executors.make_executor`, threads).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.executors import Executor, make_executor
from usd_synth.fileio import atomic_dir, check_finite
from usd_synth.fractal.emulation import EmulationConfig, default_config, none_config, sample_emulation
from usd_synth.fractal.quality import LIT_RANGE, degeneracy, frame_changes, lit_fractions
from usd_synth.fractal.render import RenderSettings, render_clip
from usd_synth.fractal.system import FractalSystem, sample_perturbation, sample_system, save_npz
from usd_synth.fractal.video_io import preview_grid, write_mp4, write_png_frames
from usd_synth.randomize import rng_for

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Seed keys (after the run seed): keep class, clip and unlabelled draws independent of each other.
_KEY_CLASS = ("fractal", "class")
_KEY_CLIP = ("fractal", "clip")
_KEY_UNLABELLED_SYSTEM = ("fractal", "unlabelled-system")
_KEY_UNLABELLED_CLIP = ("fractal", "unlabelled-clip")

#: Redraws of a class system (and of a clip's perturbation and emulation) before giving up.
MAX_CLASS_ATTEMPTS = 200
MAX_CLIP_ATTEMPTS = 12
#: The class filter renders the first, middle and last frames at this size with the same point density as
#: the final clips, and asks for a stricter lit range than the clip check (coarse pixels look fuller).
FILTER_SIZE = 64
FILTER_LIT_RANGE = (0.02, 0.6)
FILTER_MIN_CHANGE = 0.02
#: The second, full-size look of the class filter (see :func:`sample_class`): lit range on every frame,
#: and the fraction of the clips' points it renders with. With a quarter of the points the upper bound
#: 0.8 let flooding classes through (their clips needed up to 8 redraws); 0.6 does not.
FULL_FILTER_LIT_RANGE = (0.01, 0.6)
FULL_FILTER_POINT_DIVISOR = 4
PREVIEW_TILES = 64


@dataclass(frozen=True)
class FractalDatasetSpec:
    """Everything that decides the output; two equal specs give byte-identical datasets."""

    classes: int = 0
    clips_per_class: int = 0
    unlabelled_clips: int = 0  # > 0 selects unlabelled mode
    frames: int = 18
    size: int = 256
    fps: int = 12
    points: int = 128
    iterations: int = 7500
    burn_in: int = 20
    color: bool = False
    video_format: str = "mp4"
    val_fraction: float = 0.0
    variation_p: float = 0.2
    instance_jitter: float = 1.0
    seed: int = 0
    emulation: EmulationConfig = field(default_factory=default_config)

    @property
    def unlabelled(self) -> bool:
        return self.unlabelled_clips > 0

    def validate(self) -> None:
        """Raise :class:`UsdSynthError` naming the first bad field."""

        def bad(message: str, name: str, mentions: tuple[str, ...] = ()) -> UsdSynthError:
            return UsdSynthError(message, field=name, mentions=mentions)

        if self.unlabelled:
            if self.classes:
                raise bad("unlabelled_clips and classes exclude each other", "classes", ("unlabelled_clips",))
        else:
            if self.classes < 1:
                raise bad(f"classes must be at least 1 (got {self.classes})", "classes")
            if self.clips_per_class < 1:
                raise bad(
                    f"clips_per_class must be at least 1 (got {self.clips_per_class})", "clips_per_class"
                )
        if self.size < 16:
            raise bad(f"size must be at least 16 pixels (got {self.size})", "size")
        if self.video_format == "mp4" and self.size % 2:
            raise bad(
                f"size must be even for yuv420p mp4 (got {self.size}); or use video_format png",
                "size",
                ("video_format",),
            )
        if self.video_format not in ("mp4", "png"):
            raise bad(f"video_format must be mp4 or png (got {self.video_format})", "video_format")
        if self.frames < 2:
            raise bad(f"frames must be at least 2 (got {self.frames})", "frames")
        if self.fps < 1:
            raise bad(f"fps must be at least 1 (got {self.fps})", "fps")
        if self.points < 1:
            raise bad(f"points must be at least 1 (got {self.points})", "points")
        if self.iterations < 1:
            raise bad(f"iterations must be at least 1 (got {self.iterations})", "iterations")
        if not 0 <= self.burn_in < self.iterations:
            raise bad(f"burn_in must be in [0, iterations) (got {self.burn_in})", "burn_in", ("iterations",))
        if not 0.0 <= self.val_fraction < 1.0:
            raise bad(f"val_fraction must be in [0, 1) (got {self.val_fraction})", "val_fraction")
        if not 0.0 <= self.variation_p <= 1.0:
            raise bad(f"variation_p must be in [0, 1] (got {self.variation_p})", "variation_p")
        if self.instance_jitter < 0:
            raise bad(f"instance_jitter must not be negative (got {self.instance_jitter})", "instance_jitter")
        if self.seed < 0:
            raise bad(f"seed must not be negative (got {self.seed})", "seed")

    def render_settings(self, device: str) -> RenderSettings:
        return RenderSettings(
            size=self.size,
            frames=self.frames,
            points=self.points,
            iterations=self.iterations,
            burn_in=self.burn_in,
            color=self.color,
            device=device,
        )

    def to_json(self) -> dict:
        out = asdict(self)
        out["emulation"] = {"source": self.emulation.source, **self.emulation.to_json()}
        return out


# ---------------------------------------------------------------------------------------------------------
# classes
# ---------------------------------------------------------------------------------------------------------


def sample_class(
    spec: FractalDatasetSpec, rng: np.random.Generator, device: str
) -> tuple[FractalSystem, int]:
    """Draw systems until one passes the degeneracy filter; returns it and the number of attempts.

    The filter renders the class without perturbation or emulation, first on its first, middle and last
    frames at :data:`FILTER_SIZE` with the clips' point density (cheap; checks lit area and visible
    motion), then, for a system that passes and clips larger than that, on every frame at the clips'
    size with a quarter of their points against :data:`FULL_FILTER_LIT_RANGE`. The second look is
    needed because lit area depends on resolution and a motion can collapse the fractal between the
    key frames: such a class (thin curves mid-clip: 2 % of 64 px pixels, 0.3 % of 256 px ones) had
    every clip redrawn 12 times and kept degenerate. Fewer points light fewer pixels, so the lower
    bound errs on the safe side; the upper bound is tightened to make up for it.
    """
    size = min(FILTER_SIZE, spec.size)
    density = spec.points * (spec.iterations - spec.burn_in) / spec.size**2
    iterations = max(64, int(density * size**2 / 64) + spec.burn_in)
    coarse = RenderSettings(
        size=size, frames=3, points=64, iterations=iterations, burn_in=spec.burn_in, device=device
    )
    full = replace(
        spec.render_settings(device), points=max(16, spec.points // FULL_FILTER_POINT_DIVISOR), color=False
    )
    still = none_config()
    emu = sample_emulation(still, rng)
    best: FractalSystem | None = None
    for attempt in range(1, MAX_CLASS_ATTEMPTS + 1):
        system = sample_system(rng, spec.frames, spec.variation_p)
        best = best or system
        # Curves live in normalised time, so a 3-frame clip shows the first, middle and last frames.
        frames = render_clip(system, None, emu, coarse, int(rng.integers(2**32)))
        if frames is None:
            continue
        if degeneracy(frames, FILTER_LIT_RANGE, 0.0) is not None:
            continue
        if frame_changes(frames[[0, -1]]).mean() < FILTER_MIN_CHANGE and frame_changes(frames).max() < 0.02:
            continue
        if spec.size > size:
            frames = render_clip(system, None, emu, full, int(rng.integers(2**32)))
            if frames is None or degeneracy(frames, FULL_FILTER_LIT_RANGE, 0.0) is not None:
                continue
        return system, attempt
    log.warning("no class system passed the filter in %d attempts; keeping the first", MAX_CLASS_ATTEMPTS)
    assert best is not None
    return best, MAX_CLASS_ATTEMPTS


# ---------------------------------------------------------------------------------------------------------
# clips
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipJob:
    """One clip to render and write (self-contained, so a worker needs nothing else)."""

    spec: FractalDatasetSpec
    device: str
    root: str  # the temporary output folder
    rel_path: str  # relative path of the mp4 (or PNG folder)
    system_path: str  # params file of the system (class or clip)
    class_id: int | None
    clip_id: int
    split: str
    want_preview: bool


def _clip_key(spec: FractalDatasetSpec, class_id: int | None, clip_id: int) -> list[int | str]:
    """The seed key of a clip, run seed first (recorded in the manifest as ``seed``)."""
    if class_id is None:
        return [spec.seed, *_KEY_UNLABELLED_CLIP, clip_id]
    return [spec.seed, *_KEY_CLIP, class_id, clip_id]


def run_clip(job: ClipJob) -> dict:
    """Render, check and write one clip; return its manifest record (plus a preview frame if wanted)."""
    spec = job.spec
    with np.load(Path(job.root) / job.system_path) as arrays:
        system = FractalSystem.from_arrays(arrays)
    key = _clip_key(spec, job.class_id, job.clip_id)
    rng = rng_for(*key)
    settings = spec.render_settings(job.device)
    frames = None
    reason = "not rendered"
    record_emulation: dict = {}
    attempts = 0
    for attempts in range(1, MAX_CLIP_ATTEMPTS + 1):  # noqa: B007 - attempts is reported
        perturbation = sample_perturbation(system.n_maps, rng, spec.instance_jitter)
        emulation = sample_emulation(spec.emulation, rng)
        background = sample_system(rng, spec.frames, spec.variation_p) if emulation.background else None
        kernel_seed = int(rng.integers(2**32))
        candidate = render_clip(system, perturbation, emulation, settings, kernel_seed, background)
        if candidate is None:
            reason = "system cannot be framed"
            continue
        frames, record_emulation = candidate, emulation.applied
        reason = degeneracy(frames)
        if reason is None:
            break
    if frames is None:
        raise RuntimeError(f"clip {job.rel_path}: {reason}")
    if reason is not None:
        log.warning("%s: kept after %d attempts although %s", job.rel_path, attempts, reason)
    target = Path(job.root) / job.rel_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if spec.video_format == "mp4":
        write_mp4(target, frames, spec.fps)
    else:
        write_png_frames(target, frames)
    lit = lit_fractions(frames)
    record = {
        "path": job.rel_path,
        "class": job.class_id,
        "clip": job.clip_id,
        "split": job.split,
        "seed": key,
        "frames": int(frames.shape[0]),
        "size": [int(frames.shape[2]), int(frames.shape[1])],
        "fps": spec.fps,
        "params": job.system_path,
        "emulation": record_emulation,
        "attempts": attempts,
        "lit_area": [round(float(lit.min()), 4), round(float(lit.max()), 4)],
        "frame_change": round(float(frame_changes(frames).mean()), 5),
        "degenerate": reason,
    }
    if job.want_preview:
        record["_preview"] = frames[len(frames) // 2]
    return record


# ---------------------------------------------------------------------------------------------------------
# the whole set
# ---------------------------------------------------------------------------------------------------------


def _split_of(index: int, count: int, val_fraction: float) -> str:
    n_val = int(round(count * val_fraction))
    return "val" if index >= count - n_val else "train"


#: Executor kind for classes and clips. Threads, not processes: the chaos-game launch, numpy's large array
#: operations and the video encoder all release the GIL, so threads run clips in parallel without a worker
#: start-up (importing scipy and Warp took about a second per spawned process, a quarter of the CPU time
#: of a 24-clip benchmark on two cores).
EXECUTOR_KIND = "threads"


def _run_all(
    executor: Executor, fn: Callable[[T], R], items: Iterable[T], on_done: Callable[[], None]
) -> list[R]:
    """Ordered results of ``fn`` over ``items`` on ``executor``, calling ``on_done`` as each one arrives."""
    results = []
    for result in executor.map(fn, items):
        results.append(result)
        on_done()
    return results


@dataclass(frozen=True)
class _ClassJob:
    spec: FractalDatasetSpec
    device: str
    root: str
    class_id: int


def _run_class(job: _ClassJob) -> dict:
    rng = rng_for(job.spec.seed, *_KEY_CLASS, job.class_id)
    system, attempts = sample_class(job.spec, rng, job.device)
    rel = f"params/class_{job.class_id:04d}.npz"
    save_npz(Path(job.root) / rel, _finite(system.to_arrays(), rel))
    name = f"class_{job.class_id:04d}"
    return {"class": job.class_id, "name": name, "params": rel, "attempts": attempts, **system.describe()}


def _run_unlabelled_system(job: _ClassJob) -> dict:
    rng = rng_for(job.spec.seed, *_KEY_UNLABELLED_SYSTEM, job.class_id)
    system, attempts = sample_class(job.spec, rng, job.device)
    rel = f"params/clip_{job.class_id:04d}.npz"
    save_npz(Path(job.root) / rel, _finite(system.to_arrays(), rel))
    return {"params": rel, "attempts": attempts, **system.describe()}


def generate_dataset(
    spec: FractalDatasetSpec,
    out_dir: str | Path,
    device: str = "cpu",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> dict:
    """Write the whole set to ``out_dir`` atomically and return the manifest.

    ``progress(done, total)`` is called after every class system and every clip.
    """
    spec.validate()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsdSynthError(f"workers must be at least 1 (got {workers!r})", field="workers")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsdSynthError("exists and is not a folder", path=out_dir, field="out_dir")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise UsdSynthError(
            "the folder is not empty; pass overwrite to replace it",
            path=out_dir,
            field="out_dir",
            mentions=("overwrite",),
        )

    n_systems = spec.unlabelled_clips if spec.unlabelled else spec.classes
    n_clips = spec.unlabelled_clips if spec.unlabelled else spec.classes * spec.clips_per_class
    total = n_systems + n_clips
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    if workers > 1:
        from usd_synth.kernels.fractal import warm_up

        warm_up(device)  # the plain kernel, before the threads start; others load on first use, under a lock

    # The executor is inside the temporary folder's scope: on an error its workers stop before the folder
    # is removed.
    with atomic_dir(out_dir) as tmp, make_executor(workers, EXECUTOR_KIND, "usd-synth-fractal") as executor:
        (tmp / "params").mkdir()
        root = str(tmp)
        if spec.unlabelled:
            jobs = [_ClassJob(spec, device, root, i) for i in range(n_systems)]
            systems = _run_all(executor, _run_unlabelled_system, jobs, tick)
            clip_jobs = []
            for i in range(n_clips):
                split = _split_of(i, n_clips, spec.val_fraction)
                path = _clip_path(spec, None, i, split)
                clip_jobs.append(
                    ClipJob(spec, device, root, path, systems[i]["params"], None, i, split, i < PREVIEW_TILES)
                )
            classes_json = None
        else:
            jobs = [_ClassJob(spec, device, root, c) for c in range(spec.classes)]
            classes_json = _run_all(executor, _run_class, jobs, tick)
            clip_jobs = []
            for c in range(spec.classes):
                for n in range(spec.clips_per_class):
                    split = _split_of(n, spec.clips_per_class, spec.val_fraction)
                    path = _clip_path(spec, c, n, split)
                    preview = n == 0 and c < PREVIEW_TILES
                    clip_jobs.append(
                        ClipJob(spec, device, root, path, classes_json[c]["params"], c, n, split, preview)
                    )
        records = _run_all(executor, run_clip, clip_jobs, tick)
        tiles = [r.pop("_preview") for r in records if "_preview" in r]
        if tiles:
            import imageio.v3 as iio

            iio.imwrite(tmp / "preview.png", preview_grid(tiles))
        manifest = {
            "generator": "usd-synth fractal",
            "settings": spec.to_json(),
            "classes": classes_json,
            "clips": records,
            "degenerate_clips": sum(r["degenerate"] is not None for r in records),
            "lit_range": list(LIT_RANGE),
        }
        try:  # never write NaN or infinity (JSON has no such numbers)
            text = json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False)
        except ValueError:
            message = "manifest.json would hold NaN or infinity; nothing was written"
            raise UsdSynthError(message, out_dir) from None
        (tmp / "manifest.json").write_text(text + "\n")
    return manifest


def _finite(arrays: dict[str, np.ndarray], rel: str) -> dict[str, np.ndarray]:
    for name, values in arrays.items():
        check_finite(values, f"{rel} {name}")
    return arrays


def _clip_path(spec: FractalDatasetSpec, class_id: int | None, clip_id: int, split: str) -> str:
    name = f"{clip_id:04d}" + (".mp4" if spec.video_format == "mp4" else "")
    if class_id is None:
        return f"videos/{split}/{name}"
    return f"videos/{split}/class_{class_id:04d}/{name}"
