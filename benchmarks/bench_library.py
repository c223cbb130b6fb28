"""The built-in motion library: generation time and naturalness figures per action, as JSON.

For each action, over ``--seeds`` seeds at ``--fps``: milliseconds per clip, the quality report's
verdict, and the figures of :mod:`usd_synth.motion.library.metrics` (min over seeds of the fraction of
frames moving faster than 5 degrees/s, max of the worst one-frame stop, min and max of the lowest body
point, min flight fraction). Acceptance (issue 12): moving >= 0.9, stop <= 120, lowest >= -0.01, run
flight >= 0.15, no rejections.

    python benchmarks/bench_library.py [--seeds 10] [--fps 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from usd_synth.motion.library import ACTIONS, make_motion  # noqa: E402
from usd_synth.motion.library.metrics import naturalness  # noqa: E402
from usd_synth.motion.quality import evaluate, rejection_reasons  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args()
    out: dict[str, dict] = {}
    for name in ACTIONS:
        figures, rejected, seconds = [], 0, 0.0
        for seed in range(args.seeds):
            start = time.perf_counter()
            m = make_motion(name, seed, fps=args.fps)
            seconds += time.perf_counter() - start
            figures.append(naturalness(m))
            rejected += bool(rejection_reasons(evaluate(m)))
        out[name] = {
            "ms_per_clip": round(1000 * seconds / args.seeds, 1),
            "rejected": rejected,
            "moving_fraction_min": round(min(f["moving_fraction"] for f in figures), 3),
            "worst_stop_deg_s_max": round(max(f["worst_stop_deg_s"] for f in figures), 1),
            "lowest_point_min_m": round(min(f["lowest_point_min_m"] for f in figures), 4),
            "lowest_point_max_m": round(max(f["lowest_point_max_m"] for f in figures), 4),
            "flight_fraction_min": round(min(f["flight_fraction"] for f in figures), 3),
        }
    print(json.dumps({"seeds": args.seeds, "fps": args.fps, "actions": out}, indent=2))


if __name__ == "__main__":
    main()
