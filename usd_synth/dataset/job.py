"""One job: a motion (a source, a blend, varied) on a sampled body in a randomized stage, rendered from
``cameras`` views, turned into the dataset's layouts, checksummed and moved into place.

:func:`run_job` is what every executor runs (a local process, a Ray worker, the calling thread); it depends
only on its :class:`JobContext` and :class:`~usd_synth.dataset.plan.Job`, so the same job gives the same
bytes anywhere. It works in ``DATASET/.work/<job id>-<pid>/``, then:

1. loads (per-worker cached) and mirrors the source motions;
2. blends them when the job is a mix (a blend the quality check rejects falls back to source A, or is kept
   and marked, per ``mixes.on_reject``);
3. draws the variation (tempo, amplitude, joint noise) and a window of ``render.frames`` frames from
   ``rng_for(seed, "job", job id)``;
4. composes a stage around it (body, room, props, lights, cameras from the job's seed) and renders each
   camera's clip;
5. lays the clips out (TAO frames, videos, skeleton npz, labels, contact sheets, optional passes and
   scenes), hashes every file, moves the files into place and, last, writes ``jobs/<job id>.json``: a job
   is complete exactly when that record exists and its checksums match.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from usd_synth.dataset.config import DatasetConfig
from usd_synth.dataset.plan import Job, SourceRef
from usd_synth.randomize.seeding import rng_for

WORK_DIR = ".work"
JOBS_DIR = "jobs"


@dataclass(frozen=True)
class JobContext:
    """What every job of a run shares: the config (as JSON: the scene schema's generated range classes do
    not pickle, and text travels to any worker), the dataset folder and the source table."""

    config_json: str
    out: str
    sources: dict[str, SourceRef]

    @classmethod
    def make(cls, config: DatasetConfig, out: str | Path, sources: dict[str, SourceRef]) -> JobContext:
        return cls(config.model_dump_json(), str(out), sources)

    @property
    def config(self) -> DatasetConfig:
        return _config_from_json(self.config_json)


@functools.lru_cache(maxsize=4)
def _config_from_json(text: str) -> DatasetConfig:
    """The config, validated once per worker process."""
    return DatasetConfig.model_validate_json(text)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------
# 1-3. the motion
# ---------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def load_source(ref: SourceRef):
    """A source motion, loaded once per worker process (built-ins are made from their seed)."""
    if ref.builtin is not None:
        from usd_synth.motion.library import make_motion

        return make_motion(ref.builtin, seed=ref.seed)
    from usd_synth.motion.readers import read_motion

    return read_motion(ref.path, format=ref.format)


def _quality_record(motion, thresholds) -> dict[str, Any]:
    """The clip's motion quality (what the report's histograms show) and whether it passes the limits."""
    from usd_synth.motion.quality import evaluate, rejection_reasons

    report = evaluate(motion)
    out = report.to_dict(digits=5)
    out.pop("joint_limit_frames", None)
    out["rejected"] = bool(rejection_reasons(report, thresholds))
    return out


def job_motion(ctx: JobContext, job: Job, rng: np.random.Generator):
    """The job's motion at the render frame rate, cut to its window, and a record of how it was made."""
    from usd_synth.compose.composer import cut, resample
    from usd_synth.dataset.variation import apply_variation, mirror, sample_variation
    from usd_synth.motion.blend import blend
    from usd_synth.motion.quality import QualityThresholds

    cfg = ctx.config
    # 1. sources, mirrored when the plan says so
    motions = [load_source(ctx.sources[s]).copy() for s in job.sources]
    if job.mirrored:
        motions = [mirror(m) for m in motions]
    # 2. the mix
    record: dict[str, Any] = {"mix": job.mix, "weight": job.weight}
    motion = motions[0]
    thresholds = QualityThresholds(**cfg.mixes.quality.model_dump())
    if job.mix != "single":
        mixed = blend(motions[0], motions[1], float(job.weight), align_method=cfg.mixes.alignment,
                      thresholds=thresholds)  # fmt: skip
        quality = mixed.source.get("quality", {})
        if quality.get("rejected") and cfg.mixes.on_reject == "fallback":
            record.update(mix="single", mix_planned=job.mix, rejected_blend=quality.get("reasons", []))
        else:
            motion = mixed
            if quality.get("rejected"):  # kept on request, and marked
                record["rejected_blend"] = quality.get("reasons", [])
    # 3. variation and window
    values = sample_variation(cfg.variation, rng)
    noise_rng = rng_for(job.seed, "job-noise")
    motion = apply_variation(motion, values, noise_rng)
    motion = resample(motion, cfg.render.fps)
    frames = min(cfg.render.frames, motion.num_frames)
    start = int(rng.integers(0, motion.num_frames - frames + 1))
    motion = cut(motion, start, frames)
    motion.label = job.cls
    quality = _quality_record(motion, thresholds)
    record.update(variation={**values, "mirrored": job.mirrored, "window_start": start}, quality=quality)
    return motion, record


# ---------------------------------------------------------------------------------------------------------
# 4. stage and clips
# ---------------------------------------------------------------------------------------------------------


def _scene_record(manifest: dict[str, Any], camera: dict[str, Any]) -> dict[str, Any]:
    """The sampled scene values worth a row: template, body, surfaces, lights, props, this camera."""
    actor = manifest["actors"][0]
    return {
        "template": manifest["template"],
        "body": actor.get("body"),
        "actor": {k: v for k, v in actor.items() if k not in ("body",)},
        "surfaces": manifest.get("surfaces"),
        "materials": manifest.get("materials"),
        "lights": manifest.get("lights"),
        "props": [
            {k: p[k] for k in ("class", "material", "translation") if k in p}
            for p in manifest.get("props", [])
        ],  # fmt: skip
        "camera": camera,
    }


def _render_clips(ctx: JobContext, job: Job, motion, work: Path) -> list[tuple[dict, Path, dict]]:
    from usd_synth.compose import compose_scene
    from usd_synth.render.clip import render_clip
    from usd_synth.usd.motion_io import write_motion

    cfg = ctx.config
    motion_file = write_motion(motion, work / "motion.usd")
    manifest = compose_scene([motion_file], work / "scene", job.seed, config=cfg.scene_config())
    w, h = (int(v) for v in cfg.render.resolution.split("x"))
    png = "tao" in cfg.outputs.layouts
    out = []
    for k, cam in enumerate(manifest["cameras"][: job.cameras]):
        clip_dir = work / f"clip{k}"
        render_clip(work / "scene" / "scene.usda", clip_dir, backend=cfg.render.backend, camera=cam["name"],
                    resolution=(w, h), passes=cfg.render.passes, effects=cfg.render.effects,
                    seed=job.seed, png_frames=png)  # fmt: skip
        out.append((cam, clip_dir, manifest))
    return out


# ---------------------------------------------------------------------------------------------------------
# 5. layouts
# ---------------------------------------------------------------------------------------------------------


def video_id(job: Job, k: int) -> str:
    return f"{job.cls}-{job.id}-c{k}"


def skeleton_arrays(labels: dict[str, Any]) -> dict[str, np.ndarray]:
    """A clip's skeleton sequence for skeleton-based recognizers (one actor)."""
    frames = labels["frames"]

    def actor(f):
        return f["actors"][0] if f["actors"] else None

    def stack(key, shape):
        return np.array(
            [actor(f)[key] if actor(f) and actor(f).get(key) is not None else np.full(shape, np.nan)
             for f in frames], dtype=np.float32)  # fmt: skip

    coco = np.array([np.reshape(actor(f)["coco_keypoints"], (17, 3)) if actor(f) else np.full((17, 3), np.nan)
                     for f in frames], dtype=np.float32)  # fmt: skip
    return {
        "keypoints_2d": stack("keypoints_2d", (24, 3)),
        "joints_3d_camera": stack("joints_3d_camera", (24, 3)),
        "coco_keypoints": coco,
        "bbox": stack("bbox", (4,)),
        "K": np.array([f["camera"]["K"] for f in frames], dtype=np.float64),
        "world_to_camera": np.array([f["camera"]["world_to_camera"] for f in frames], dtype=np.float64),
        "frame": np.array([f["frame"] for f in frames], dtype=np.int32),
        "fps": np.float64(labels["clip"]["fps"]),
        "image_size": np.array([labels["clip"]["width"], labels["clip"]["height"]], dtype=np.int32),
        "label": np.array(
            labels["frames"][0]["actors"][0]["label"] if frames and frames[0]["actors"] else ""
        ),
    }


def _stage_clip(
    ctx: JobContext, job: Job, k: int, clip_dir: Path, staging: Path
) -> tuple[str, dict, list[str]]:
    """Move one rendered clip's files into ``staging`` in the dataset's layout; its video id, stats and the
    paths it staged (relative to the dataset folder)."""
    cfg = ctx.config
    layouts = set(cfg.outputs.layouts)
    vid = video_id(job, k)
    rel = Path(job.split) / job.cls
    from usd_synth.render.writers import labels_json

    labels = json.loads((clip_dir / "labels.json").read_text())
    labels["clip"]["scene"] = f"scenes/{job.id}/scene.usda" if cfg.outputs.keep_scenes else None
    labels["clip"]["video_id"] = vid
    staged: list[str] = []

    def put(src: Path | None, dst: Path, data: bytes | None = None) -> None:
        dst = staging / dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            os.replace(src, dst)
        else:
            dst.write_bytes(data)
        staged.append(dst.relative_to(staging).as_posix())

    if "videos" in layouts:
        put(clip_dir / "rgb.mp4", Path("videos") / rel / f"{vid}.mp4")
    if "tao" in layouts:
        for i, f in enumerate(sorted((clip_dir / "rgb").glob("*.png"))):
            put(f, Path("tao") / job.cls / vid / "rgb" / f"{i:06d}.png")
    if "skeletons" in layouts:
        buf = io.BytesIO()
        np.savez_compressed(buf, **skeleton_arrays(labels))
        put(None, Path("skeletons") / rel / f"{vid}.npz", buf.getvalue())
    if "coco" in layouts:
        put(clip_dir / "coco.json", Path("labels") / rel / f"{vid}.coco.json")
    if "passes" in layouts:
        for name in ("depth", "instance", "semantic", "normals"):
            for f in sorted((clip_dir / name).glob("*.png")) if (clip_dir / name).is_dir() else []:
                put(f, Path("passes") / rel / vid / name / f.name)
    if (clip_dir / "contact_sheet.png").is_file():
        put(clip_dir / "contact_sheet.png", Path("sheets") / rel / f"{vid}.png")
    put(None, Path("labels") / rel / f"{vid}.json", labels_json(labels).encode())
    vis = [kp[2] for f in labels["frames"] for a in f["actors"] for kp in a["keypoints_2d"]]
    stats = {"frames": labels["clip"]["frames"], "visibility": round(float(np.mean(vis)), 4) if vis else 0.0}
    return vid, stats, staged


def _move_into_place(staging: Path, out: Path, files: dict[str, str]) -> None:
    for rel in files:
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, dst)


def _row(ctx: JobContext, job: Job, record: dict, cam: dict, manifest: dict, vid: str, stats: dict,
         files: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    """One manifest row: what the clip is, how it was made (every sampled value), and its files."""
    mixed = record["mix"] != "single"
    return {
        "id": vid,
        "job": job.id,
        "class": job.cls,
        "split": job.split,
        "mix": record["mix"],
        "weight": job.weight if mixed else None,
        "sources": list(job.sources if mixed else job.sources[:1]),
        "seed": job.seed,
        "camera": cam["name"],
        **{k: v for k, v in record.items() if k not in ("mix", "weight")},
        "frames": stats["frames"],
        "fps": ctx.config.render.fps,
        "resolution": [int(v) for v in ctx.config.render.resolution.split("x")],
        "visibility": stats["visibility"],
        "scene": _scene_record(manifest, cam),
        "files": files,
    }


def record_path(out: Path, jid: str) -> Path:
    return out / JOBS_DIR / f"{jid}.json"


def run_job(ctx: JobContext, job: Job) -> dict[str, Any]:
    """Make one job's clips (see the module docstring); returns ``{"job", "rows"}`` or ``{"job", "error"}``.

    Errors are returned, not raised, so one bad job never stops the others; the builder records them.
    """
    t0 = time.perf_counter()
    out = Path(ctx.out)
    # per process: a worker orphaned by a killed run may still finish this job while a resumed run redoes
    # it; their staging must not mix (the files they move into place are the same bytes)
    work = out / WORK_DIR / f"{job.id}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        rng = rng_for(ctx.config.seed, "job", job.id)
        motion, record = job_motion(ctx, job, rng)
        clips = _render_clips(ctx, job, motion, work)
        staging = work / "staging"
        rows = []
        for k, (cam, clip_dir, manifest) in enumerate(clips):
            vid, stats, staged = _stage_clip(ctx, job, k, clip_dir, staging)
            if k == 0 and ctx.config.outputs.keep_scenes:
                shutil.copytree(work / "scene", staging / "scenes" / job.id)
                scene_files = (staging / "scenes" / job.id).rglob("*")
                staged += sorted(p.relative_to(staging).as_posix() for p in scene_files if p.is_file())
            files = {r: sha256_file(staging / r) for r in sorted(staged)}
            rows.append(_row(ctx, job, record, cam, manifest, vid, stats, files))
        _move_into_place(staging, out, {r: h for row in rows for r, h in row["files"].items()})
        seconds = round(time.perf_counter() - t0, 3)
        result = {"job": job.id, "rows": rows, "timing": {"seconds": seconds}}
        from usd_synth.fileio import write_json

        write_json(record_path(out, job.id), result)
        return result
    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on (--max-failures stops it)
        message = " ".join(str(exc).split())[:500] or type(exc).__name__
        return {"job": job.id, "error": f"{type(exc).__name__}: {message}", "class": job.cls}
    finally:
        shutil.rmtree(work, ignore_errors=True)
