"""Throughput of the fractal video generator: clips per second at the paper's settings.

Prints one JSON object per configuration (device, workers) on stdout. The clock covers the whole
``generate_dataset`` call (class filtering, rendering, tone mapping, emulation, mp4 encoding, manifest).
Each configuration runs ``--repeats`` times and reports the best and the median: the first run of a
fresh machine also compiles the kernel specialisations it meets (Warp caches them on disk), and shared
virtual machines are noisy. Also reports the plain chaos-game kernel alone on one clip, and the share
of clips whose class has a non-linear variation (those kernels cost 2-3x a plain one on CPU).

    python benchmarks/bench_fractal.py --variation-p 0     # affine systems only
    python benchmarks/bench_fractal.py                     # the CLI's default mix (20 % variations)
    python benchmarks/bench_fractal.py --workers 2 --classes 20 --emulate default
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from usd_synth.fractal.dataset import FractalDatasetSpec, generate_dataset
from usd_synth.fractal.emulation import load_emulation
from usd_synth.fractal.render import clip_times, framing_matrix, key_times, pixel_matrix
from usd_synth.fractal.system import sample_system
from usd_synth.kernels.device import resolve_device
from usd_synth.kernels.fractal import render_histograms, warm_up


def kernel_seconds(
    device: str, size: int, frames: int, points: int, iterations: int, repeats: int = 5
) -> float:
    """Best time of the chaos-game launch alone for one clip of a plain (no variation) system."""
    system = sample_system(np.random.default_rng(0), frames, variation_p=0.0)
    tau = clip_times(frames)
    maps, probs, _ = system.maps_at(tau)
    framing = framing_matrix(system, None, key_times(frames), 1)
    views = np.broadcast_to(pixel_matrix(size) @ framing, (frames, 1, 3, 3)).copy()
    times = []
    for r in range(repeats):
        t = time.perf_counter()
        render_histograms(maps, probs, views, size, size, 0, points, iterations, 20, r, device=device)
        times.append(time.perf_counter() - t)
    return float(np.min(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="all", help="cpu, cuda, or all (cpu, plus cuda when present)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--clips-per-class", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="run seed (decides the classes and their variations)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frames", type=int, default=18)
    ap.add_argument("--points", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=7500)
    ap.add_argument("--emulate", default="none", help="none (the paper's clips), default, or a JSON file")
    ap.add_argument("--variation-p", type=float, default=0.2)
    args = ap.parse_args()

    devices = ["cpu"]
    if args.device in ("cuda", "all"):
        try:
            devices.append(resolve_device("cuda"))
        except Exception:  # noqa: BLE001 - no GPU: CPU only
            if args.device == "cuda":
                raise
    if args.device == "cuda":
        devices = devices[1:]
    spec = FractalDatasetSpec(
        classes=args.classes,
        clips_per_class=args.clips_per_class,
        frames=args.frames,
        size=args.size,
        points=args.points,
        iterations=args.iterations,
        variation_p=args.variation_p,
        seed=args.seed,
        emulation=load_emulation(args.emulate),
    )
    n_clips = spec.classes * spec.clips_per_class
    for device in devices:
        warm_up(device)
        kernel = kernel_seconds(device, args.size, args.frames, args.points, args.iterations)
        # On CUDA, more than one worker overlaps one clip's host work (framing, tone mapping, encoding)
        # with another clip's kernel.
        for workers in args.workers:
            walls = []
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory() as tmp:
                    t = time.perf_counter()
                    manifest = generate_dataset(spec, Path(tmp) / "set", device=device, workers=workers)
                    walls.append(time.perf_counter() - t)
            varied = {c["class"] for c in manifest["classes"] if c["variation"] != "none"}
            best, median = min(walls), float(np.median(walls))
            print(json.dumps({
                "device": device,
                "workers": workers,
                "cpu_count": os.cpu_count(),
                "clips": n_clips,
                "seconds": [round(w, 3) for w in walls],
                "clips_per_second": round(n_clips / best, 3),
                "seconds_per_clip": round(best / n_clips, 4),
                "seconds_per_clip_median": round(median / n_clips, 4),
                "variation_share": round(sum(r["class"] in varied for r in manifest["clips"]) / n_clips, 3),
                "kernel_seconds_per_clip": round(kernel, 4),
                "settings": {"seed": args.seed, "size": args.size, "frames": args.frames,
                             "points": args.points, "iterations": args.iterations, "emulate": args.emulate,
                             "variation_p": args.variation_p, "format": "mp4"},
            }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
