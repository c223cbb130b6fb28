"""Import throughput: joint positions -> SMPL-24 rotations (closed-form retargeting), on one CPU core.

Prints JSON: frames per second for the retargeting alone, for a whole HumanML3D ``.npy`` import (read,
check, convert, retarget) and for the import plus writing the motion USD, with the residual MPJPE.

    python benchmarks/bench_import.py [--frames 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import _single_core  # noqa: F401  (must come before numpy)
import numpy as np
from _timing import best_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from usd_synth.motion.library import make_motion  # noqa: E402
from usd_synth.motion.readers import read_motion  # noqa: E402
from usd_synth.motion.retarget import retarget_positions  # noqa: E402
from usd_synth.usd.motion_io import write_motion  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    walk = make_motion("walk", seed=0, seconds=args.frames / 20.0, fps=20.0)
    pos = walk.joint_positions()
    observed = np.zeros(24, bool)
    observed[:22] = True
    yup = np.stack([pos[..., 0], pos[..., 2], -pos[..., 1]], axis=-1)[:, :22]

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "walk.npy"
        np.save(src, yup)
        t_retarget = best_of(args.repeats, lambda: retarget_positions(pos, 20.0, observed=observed))
        t_import = best_of(args.repeats, lambda: read_motion(src))
        motion = read_motion(src)
        t_write = best_of(1, lambda: write_motion(motion, Path(tmp) / "walk.usd"))

    n = walk.num_frames
    print(
        json.dumps(
            {
                "benchmark": "import_retarget",
                "cpu_cores": 1,
                "machine": platform.processor() or platform.machine(),
                "frames": n,
                "retarget_frames_per_s": round(n / t_retarget),
                "import_npy_frames_per_s": round(n / t_import),
                "import_and_write_usd_frames_per_s": round(n / (t_import + t_write)),
                "residual_mpjpe_mm": round(1000 * motion.source["residual_mpjpe_m"], 3),
                "target_frames_per_s": 5000,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
