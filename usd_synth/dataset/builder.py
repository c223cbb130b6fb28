"""The dataset builder: plan, check the folder, run the jobs on an executor, assemble the dataset.

:func:`generate` is what ``usd-synth generate`` calls:

1. load the config and plan the jobs (:mod:`usd_synth.dataset.plan`); read every motion file once, so a
   bad file is an error before anything is written;
2. check the folder: a folder made with another config is refused unless ``overwrite``; one made with this
   config needs ``resume`` (jobs whose record and checksums verify are skipped);
3. run the remaining jobs on the executor (local processes, Ray, or this thread), at most ``2 x workers`` in
   flight; a failing job is recorded in ``failures.jsonl`` and the run goes on until ``max_failures``;
4. assemble, from the job records in plan order: ``manifest.jsonl``, COCO keypoints per split, the TAO split
   lists, ``report.html`` and ``dataset.json``; files in the layout folders that no record names (left by
   a killed run) are removed.

The manifest depends only on the config: the same with 1 or 8 workers, processes or Ray, in one run or
resumed after a kill. Timings live in ``dataset.json`` and the job records, never in the manifest.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from usd_synth.dataset.config import SPLITS, ConfigErrors, DatasetConfig, config_base, load_dataset_config
from usd_synth.dataset.job import (
    JOBS_DIR,
    WORK_DIR,
    JobContext,
    load_source,
    record_path,
    run_job,
    sha256_file,
)
from usd_synth.dataset.plan import Plan, plan_jobs
from usd_synth.errors import UsdSynthError
from usd_synth.executors import check_workers
from usd_synth.fileio import write_json

DATASET_FILE = "dataset.json"
MANIFEST = "manifest.jsonl"
FAILURES = "failures.jsonl"
#: Folders the jobs write into (checked for orphans at the end).
LAYOUT_DIRS = ("videos", "tao", "skeletons", "labels", "passes", "sheets", "scenes")
EXECUTORS = ("processes", "ray", "serial")

#: Rough cost model for ``--dry-run``: seconds per clip = fixed + per megapixel-frame, on one core of a
#: 2-core laptop-class CPU (measured with ``benchmarks/bench_dataset.py``: 3.2 s for 48 frames at 320x240).
SECONDS_FIXED = 1.5
SECONDS_PER_MEGAPIXEL_FRAME = 0.46
BYTES_PER_PIXEL_FRAME = 1.0  # PNG frames + video + labels (3.5 MB for 48 frames at 320x240)
#: The same without pixels (keypoint labels only): stage composition dominates.
SECONDS_FIXED_LABELS = 0.5
SECONDS_PER_LABELLED_FRAME = 0.008
BYTES_PER_LABELLED_FRAME = 9_000


# ---------------------------------------------------------------------------------------------------------
# 1. plan
# ---------------------------------------------------------------------------------------------------------


def check_sources(plan: Plan) -> None:
    """Read every file source once (the planning process's cache then serves a serial run)."""
    problems = []
    for ref in plan.sources.values():
        if ref.path is None:
            continue
        try:
            load_source(ref)
        except UsdSynthError as exc:
            problems.append(f"classes.{ref.cls}: {ref.path}: {exc.message}")
    if problems:
        raise ConfigErrors(problems)


def estimate(cfg: DatasetConfig, plan: Plan) -> dict[str, float]:
    """Time (one worker) and disk of a plan, from the cost model above."""
    w, h = (int(v) for v in cfg.render.resolution.split("x"))
    mp_frames = w * h / 1e6 * cfg.render.frames
    clips = plan.clips
    if "rgb" not in cfg.render.passes:  # labels only (the geometry backend): no pixels to make or store
        per_clip, size = (
            SECONDS_FIXED_LABELS + SECONDS_PER_LABELLED_FRAME * cfg.render.frames,
            BYTES_PER_LABELLED_FRAME,
        )
        return {"clips": clips, "seconds_one_worker": round(clips * per_clip, 1),
                "bytes": int(clips * cfg.render.frames * size)}  # fmt: skip
    return {
        "clips": clips,
        "seconds_one_worker": round(clips * (SECONDS_FIXED + SECONDS_PER_MEGAPIXEL_FRAME * mp_frames), 1),
        "bytes": int(clips * w * h * cfg.render.frames * BYTES_PER_PIXEL_FRAME),
    }


def describe_plan(cfg: DatasetConfig, plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    mixes: dict[str, dict[str, int]] = {}
    for j in plan.jobs:
        mixes.setdefault(j.cls, {}).setdefault(j.mix, 0)
        mixes[j.cls][j.mix] += j.cameras
    return {
        "jobs": len(plan.jobs),
        "clips": plan.clips,
        "counts": counts,
        "splits": plan.splits,
        "mixes": mixes,
        "source_splits": plan.source_splits,
        "estimate": estimate(cfg, plan),
        "notes": plan.notes,
    }


# ---------------------------------------------------------------------------------------------------------
# 2. the folder
# ---------------------------------------------------------------------------------------------------------


def prepare_folder(out: Path, cfg: DatasetConfig, resume: bool, overwrite: bool) -> None:
    """Refuse a folder made with another config (unless ``overwrite``), or one of this config without
    ``resume``."""
    if out.exists() and not out.is_dir():
        raise UsdSynthError("the output is a file, not a folder", out, field="out")
    from usd_synth.fileio import check_output_dir

    check_output_dir(out, overwrite=True, field="out")  # never /, the home or working folder, a bad name
    if out.is_dir() and any(out.iterdir()):
        info_path = out / DATASET_FILE
        same = False
        if info_path.is_file():
            try:
                same = json.loads(info_path.read_text()).get("fingerprint") == cfg.fingerprint()
            except (OSError, ValueError):
                same = False
        if overwrite:
            shutil.rmtree(out)
        elif not same:
            what = "a dataset made with a different config" if info_path.is_file() else "other files"
            raise UsdSynthError(f"the output folder holds {what}; pass overwrite to replace it", out,
                                field="out", mentions=("overwrite",))  # fmt: skip
        elif not resume:
            raise UsdSynthError("the output folder holds a dataset of this config; pass resume to finish it "
                                "or overwrite to start again", out, field="out",
                                mentions=("resume", "overwrite"))  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / WORK_DIR, ignore_errors=True)


def verified(out: Path, jid: str) -> dict[str, Any] | None:
    """A job's record when it exists and every file it names has its checksum; else None."""
    path = record_path(out, jid)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for row in record.get("rows", []):
        for rel, digest in row.get("files", {}).items():
            p = out / rel
            if not p.is_file() or sha256_file(p) != digest:
                return None
    return record if record.get("rows") else None


# ---------------------------------------------------------------------------------------------------------
# 3. run
# ---------------------------------------------------------------------------------------------------------


def check_executor(kind: str, address: str | None = None) -> None:
    """Refuse an unknown executor, an address without Ray, or a missing Ray, before anything is written."""
    import importlib.util

    if kind not in EXECUTORS:
        raise UsdSynthError(f"executor must be one of {', '.join(EXECUTORS)}, got {kind!r}", field="executor")
    if address is not None and kind != "ray":
        raise UsdSynthError("address is for the ray executor", field="address", mentions=("executor",))
    if kind == "ray" and importlib.util.find_spec("ray") is None:
        raise UsdSynthError("the ray executor needs Ray: pip install 'usd-synth[ray]'", field="executor")


def make_run_executor(kind: str, workers: int, address: str | None = None):
    """An executor of ``kind`` (``processes``, ``ray`` or ``serial``) with ``workers`` workers."""
    check_executor(kind, address)
    if kind == "ray":
        from usd_synth.ray_executor import RayExecutor

        return RayExecutor(workers, address=address)
    from usd_synth.executors import make_executor

    return make_executor(workers, "serial" if kind == "serial" else "processes", name="usd-synth-generate")


def _run(ctx: JobContext, jobs, executor, max_failures: int | None, progress) -> tuple[int, list[dict]]:
    """Run ``jobs`` with at most 2 x workers in flight; returns (clips made, failures)."""
    out = Path(ctx.out)
    failures: list[dict] = []
    made = 0
    pending = list(jobs)[::-1]
    in_flight: dict[concurrent.futures.Future, Any] = {}
    limit = max(1, 2 * int(getattr(executor, "workers", 1)))
    done = 0
    total = len(pending)
    stopped = False
    while pending or in_flight:
        while pending and len(in_flight) < limit and not stopped:
            job = pending.pop()
            in_flight[executor.submit(run_job, ctx, job)] = job
        if not in_flight:
            break
        finished, _ = concurrent.futures.wait(list(in_flight), return_when=concurrent.futures.FIRST_COMPLETED)
        for fut in finished:
            job = in_flight.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died (killed, out of memory)
                result = {"job": job.id, "class": job.cls, "error": f"{type(exc).__name__}: {exc}"[:500]}
            done += 1
            if "error" in result:
                failures.append(
                    {"job": job.id, "class": job.cls, "split": job.split, "error": result["error"]}
                )
                with open(out / FAILURES, "a") as fh:
                    fh.write(json.dumps(failures[-1]) + "\n")
                if max_failures is not None and len(failures) > max_failures:
                    stopped = True
                    pending.clear()
            else:
                made += len(result["rows"])
            if progress is not None:
                progress(done, total)
    return made, failures


# ---------------------------------------------------------------------------------------------------------
# 4. assemble
# ---------------------------------------------------------------------------------------------------------


def _coco_for_split(out: Path, rows: list[dict]) -> dict[str, Any]:
    """One COCO keypoints document for a split, from the clips' own COCO files; images point at the TAO
    frames (``tao/<class>/<video>/rgb/NNNNNN.png``)."""
    images, annotations, categories, info = [], [], None, None
    for row in rows:
        rel = next((r for r in row["files"] if r.endswith(".coco.json")), None)
        if rel is None:
            continue
        doc = json.loads((out / rel).read_text())
        categories = categories or doc.get("categories")
        info = info or doc.get("info")
        remap = {}
        for k, img in enumerate(doc.get("images", [])):
            new = {**img, "id": len(images) + 1, "video_id": row["id"], "action": row["class"],
                   "file_name": f"tao/{row['class']}/{row['id']}/rgb/{k:06d}.png",
                   "video": f"videos/{row['split']}/{row['class']}/{row['id']}.mp4"}  # fmt: skip
            remap[img["id"]] = new["id"]
            images.append(new)
        for ann in doc.get("annotations", []):
            annotations.append({**ann, "id": len(annotations) + 1, "image_id": remap[ann["image_id"]]})
    return {
        "info": {**(info or {}), "description": "usd-synth dataset (keypoints per split)"},
        "images": images,
        "annotations": annotations,
        "categories": categories or [],
    }


def _remove_orphans(out: Path, keep: set[str]) -> int:
    removed = 0
    for top in LAYOUT_DIRS:
        root = out / top
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*"), reverse=True):
            rel = p.relative_to(out).as_posix()
            if p.is_file() and p.parent != root and rel not in keep:  # top-level files are indexes
                p.unlink()
                removed += 1
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()
    return removed


def assemble(out: Path, cfg: DatasetConfig, plan: Plan, summary: dict[str, Any]) -> list[dict]:
    """Write the manifest, COCO per split, TAO split lists and the report from the verified job records."""
    from usd_synth.dataset.report import write_report

    rows: list[dict] = []
    for job in plan.jobs:
        path = record_path(out, job.id)
        if path.is_file():
            rows.extend(json.loads(path.read_text())["rows"])
    keep = {rel for row in rows for rel in row["files"]}
    summary["orphans_removed"] = _remove_orphans(out, keep)
    from usd_synth.fileio import atomic_path

    with atomic_path(out / MANIFEST) as tmp:
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    layouts = set(cfg.outputs.layouts)
    for split in SPLITS:
        split_rows = [r for r in rows if r["split"] == split]
        if "coco" in layouts:
            write_json(out / "coco" / f"{split}.json", _coco_for_split(out, split_rows))
        if "tao" in layouts:
            path = out / "tao" / f"{split}.txt"
            with atomic_path(path) as tmp:
                tmp.write_text("".join(f"{r['class']}/{r['id']}\n" for r in split_rows))
    if "tao" in layouts:
        with atomic_path(out / "tao" / "classes.txt") as tmp:
            tmp.write_text("".join(f"{c}\n" for c in cfg.classes))
    write_report(out, rows, summary)
    return rows


# ---------------------------------------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------------------------------------


def generate(
    config: str | Path | DatasetConfig,
    out: str | Path,
    workers: int = 1,
    executor: str = "processes",
    address: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    max_failures: int | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    base: str | Path | None = None,
) -> dict[str, Any]:
    """Build (or, with ``dry_run``, only plan) the dataset of ``config`` in ``out``; returns the summary.

    ``base``: the folder a config object's relative paths are resolved against (a config file's own folder
    by default). Raises :class:`UsdSynthError` for bad input (nothing written) and when more than
    ``max_failures`` jobs fail (the finished jobs stay; ``resume`` continues).
    """
    t0 = time.perf_counter()
    config_name = None
    if isinstance(config, DatasetConfig):
        cfg, root = config, Path(base) if base is not None else Path.cwd()
    else:
        cfg, root, config_name = load_dataset_config(config), config_base(config), Path(config).name
    check_workers(workers)
    if max_failures is not None and max_failures < 0:
        raise UsdSynthError("max_failures must be at least 0", field="max_failures")
    # 1. plan
    plan = plan_jobs(cfg, root)
    check_sources(plan)
    described = describe_plan(cfg, plan)
    fingerprint = cfg.fingerprint()
    summary: dict[str, Any] = {"config": config_name, "fingerprint": fingerprint, "seed": cfg.seed,
                               **described}  # fmt: skip
    if dry_run:
        summary["plan"] = [j.to_dict() for j in plan.jobs]
        return summary
    check_executor(executor, address)
    # 2. the folder
    out = Path(out)
    from usd_synth.output_limits import check_disk

    check_disk(out, described["estimate"]["bytes"])
    prepare_folder(out, cfg, resume, overwrite)
    write_json(out / DATASET_FILE, {"fingerprint": fingerprint, "config": cfg.model_dump(mode="json"),
                                     "complete": False})  # fmt: skip
    (out / FAILURES).unlink(missing_ok=True)
    (out / JOBS_DIR).mkdir(exist_ok=True)
    todo = [j for j in plan.jobs if not (resume and verified(out, j.id))]
    skipped = len(plan.jobs) - len(todo)
    for job in todo:  # an unverified record must not reach the manifest if its job now fails
        record_path(out, job.id).unlink(missing_ok=True)
    # 3. run
    ctx = JobContext.make(cfg, out.resolve(), plan.sources)
    with make_run_executor(executor, workers, address) as ex:
        made, failures = _run(ctx, todo, ex, max_failures, progress)
    # 4. assemble
    summary.update(made=made, failed=failures, skipped=skipped, executor=executor, workers=workers,
                   seconds=round(time.perf_counter() - t0, 2))  # fmt: skip
    rows = assemble(out, cfg, plan, summary)
    complete = len(rows) == plan.clips
    summary["complete"] = complete
    summary["clips_in_manifest"] = len(rows)
    write_json(out / DATASET_FILE, {"fingerprint": fingerprint, "config": cfg.model_dump(mode="json"),
                                     "complete": complete, "summary": summary})  # fmt: skip
    shutil.rmtree(out / WORK_DIR, ignore_errors=True)
    if max_failures is not None and len(failures) > max_failures:
        raise UsdSynthError(
            f"stopped after {len(failures)} failed jobs (max_failures {max_failures}); see {out / FAILURES}; "
            "the finished clips are kept (resume continues)",
            field="max_failures",
            mentions=("resume",),
        )
    return summary
