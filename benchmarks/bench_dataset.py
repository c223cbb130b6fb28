"""Dataset builder throughput: clips per hour per core for a fixed config (48 frames at 320x240, one actor,
one camera, rgb + depth + instance + keypoints, every layout), through ``usd_synth.dataset.builder.generate``.

The target is 500 clips/hour/core on a 2-core CPU (Mesa llvmpipe through EGL). Start-up (imports, the
first GL context, the Anny cache) is included, as a user pays it; the figure per clip is also given from
the job records (``jobs/*.json``, each job's own wall time). The load average is printed: other work on the
cores slows the rasterizer.

    python benchmarks/bench_dataset.py [--clips 12] [--workers 1] [--executor processes|serial|ray]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from usd_synth.dataset.builder import generate  # noqa: E402
from usd_synth.dataset.config import dataset_config  # noqa: E402


def bench_config(clips: int) -> dict:
    half = max(1, clips // 2)
    return {
        "seed": 0,
        "classes": {
            "walk": {"sources": [{"builtin": "walk", "count": 4}]},
            "wave": {"sources": [{"builtin": "wave", "count": 4}]},
        },
        "balance": {"target": half},
        "mixes": {"real_mix": 0.5, "synthetic_mix": 0.0},
        "render": {
            "resolution": "320x240",
            "frames": 48,
            "cameras_per_clip": 1,
            "passes": ["rgb", "depth", "instance", "keypoints"],
        },  # fmt: skip
        "split": {"train": 0.5, "val": 0.25, "test": 0.25},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--executor", default="processes", choices=["processes", "serial", "ray"])
    args = ap.parse_args()
    cfg = dataset_config(bench_config(args.clips))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ds"
        t0 = time.perf_counter()
        summary = generate(cfg, out, workers=args.workers, executor=args.executor)
        wall = time.perf_counter() - t0
        records = sorted((out / "jobs").glob("*.json"))
        per_job = [json.loads(p.read_text())["timing"]["seconds"] for p in records]
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    clips = summary["clips_in_manifest"]
    print(json.dumps({
        "clips": clips,
        "failed": len(summary["failed"]),
        "workers": args.workers,
        "executor": args.executor,
        "wall_s": round(wall, 2),
        "clips_per_hour_per_core": round(clips / wall * 3600 / args.workers, 1),
        "seconds_per_clip_in_job_median": round(sorted(per_job)[len(per_job) // 2], 3) if per_job else None,
        "clips_per_hour_per_core_in_jobs": round(3600 * len(per_job) / sum(per_job), 1) if per_job else None,
        "bytes_per_clip": int(size / max(clips, 1)),
        "target_clips_per_hour_per_core": 500,
        "load_average_before": [round(x, 2) for x in load_before],
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
