"""Scene composition time: a randomized stage with 2 actors from motion files, bodies cached, one CPU core.

Prints JSON: seconds per scene (best and median over seeds), with what the time goes to. The goal is at most
1 s per scene. Motions are procedural (a walk and an in-place motion, 90 frames at 30 fps); the Anny body
cache is warmed first.

    python benchmarks/bench_compose.py [--scenes 5]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

import _single_core  # noqa: F401  (must come before numpy)
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from usd_synth.compose import compose_scene  # noqa: E402
from usd_synth.kinematics import REST_ROOT_QUAT  # noqa: E402
from usd_synth.motion.model import Motion  # noqa: E402
from usd_synth.rotations import axis_angle_to_quat, quat_mul  # noqa: E402
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS  # noqa: E402
from usd_synth.usd.motion_io import write_motion  # noqa: E402


def _motion(frames: int, walk: bool, seed: int) -> Motion:
    """A calm procedural motion: small joint swings, arms down, walking along -Y or in place."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / 30.0
    aa = 0.15 * np.sin(
        2 * np.pi * rng.uniform(0.3, 1.0, (1, NUM_JOINTS, 3)) * t + rng.uniform(0, 6, (1, NUM_JOINTS, 3))
    )
    rot = axis_angle_to_quat(aa)
    rot[:, 0] = quat_mul(REST_ROOT_QUAT, rot[:, 0])
    for joint, sign in (("left_shoulder", -1.0), ("right_shoulder", 1.0)):
        j = JOINT_INDEX[joint]
        down = np.broadcast_to(axis_angle_to_quat(np.array([0.0, 0.0, sign * 1.2])), rot[:, j].shape)
        rot[:, j] = quat_mul(down, rot[:, j])
    tt = t[:, 0, 0]
    trans = np.stack([0 * tt, (-0.9 if walk else 0.0) * tt, 0.9 + 0 * tt], axis=-1)
    return Motion(fps=30.0, rotations=rot, translation=trans, label="walk" if walk else "wave")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        a = write_motion(_motion(90, True, 1), tmp / "walk.usd")
        b = write_motion(_motion(90, False, 2), tmp / "wave.usd")
        compose_scene([a, b], tmp / "warm", 0)  # builds or loads the Anny cache, warms USD plugins
        times, templates = [], []
        for seed in range(1, args.scenes + 1):
            t0 = time.perf_counter()
            m = compose_scene([a, b], tmp / f"s{seed}", seed)
            times.append(time.perf_counter() - t0)
            templates.append(m["template"])
        prof = cProfile.Profile()
        prof.enable()
        compose_scene([a, b], tmp / "profiled", 1)
        prof.disable()
    stats = pstats.Stats(prof)
    top = {}
    for (file, _, func), (_, _, _, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "usd_synth" in file and ("compose" in file or "body" in file or "usd/" in file):
            top[f"{Path(file).stem}.{func}"] = round(cum, 3)
    top = dict(sorted(top.items(), key=lambda kv: -kv[1])[:8])
    print(
        json.dumps(
            {
                "benchmark": "compose",
                "actors": 2,
                "frames": 90,
                "scenes": args.scenes,
                "seconds_per_scene_best": round(min(times), 3),
                "seconds_per_scene_median": round(float(np.median(times)), 3),
                "goal_seconds": 1.0,
                "templates": templates,
                "cumulative_seconds_by_function": top,
                "cpu": platform.processor() or platform.machine(),
                "python": platform.python_version(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
