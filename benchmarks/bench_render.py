"""Rendering speed: one actor in a room at 320x240, rgb + depth + instance (+ keypoint labels), pyrender.

Prints JSON: frames per second of the frame loop (start-up excluded: reading the stage, the GL context,
uploading the scene and compiling the shaders are reported apart), and where a frame's time goes:
skinning (Warp LBS), upload (rewriting the actor's vertex buffers), rendering (the colour pass with the
key light's shadow map; depth and instance ids come out of the same pass), labels (``frame_labels``:
keypoints, boxes, visibility) and encoding (``ClipWriter``: PNG frames, H.264, labels.json, COCO,
contact sheet). The goal is 25 frames/s on a 2-core CPU (Mesa llvmpipe through EGL). The machine's load
average is printed too: other work on the cores slows the rasterizer.

    python benchmarks/bench_render.py [--frames 60] [--repeat 1] [--resolution 320x240] [--template NAME]

``frames_per_second`` is the median over ``--repeat`` runs of the clip in one session (each run listed in
``frames_per_second_runs``); the split is the mean over all runs.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_compose import _motion  # noqa: E402

from usd_synth.compose import compose_scene  # noqa: E402
from usd_synth.compose.config import SceneConfig  # noqa: E402
from usd_synth.usd.motion_io import write_motion  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--resolution", default="320x240")
    ap.add_argument("--template", default="living_room")
    ap.add_argument("--no-labels", action="store_true", help="Leave out labels (keypoints).")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Run the clip this many times (the median is reported: the speed "
        "of a shared 2-core machine drifts by up to a third from minute to minute).",
    )
    args = ap.parse_args()
    width, height = (int(v) for v in args.resolution.split("x"))
    load_before = os.getloadavg()
    from usd_synth.render import labels as labels_mod
    from usd_synth.render.registry import get_renderer
    from usd_synth.render.writers import ClipWriter

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        walk = write_motion(_motion(args.frames, True, 1), tmp / "walk.usd")
        config = SceneConfig.model_validate({"cameras": {"count": 1}, "clip": {"frames": args.frames}})
        compose_scene([walk], tmp / "scene", 0, args.template, config)
        scene = tmp / "scene" / "scene.usda"

        t0 = time.perf_counter()
        session = get_renderer("pyrender").open(scene, None, (width, height), ("rgb", "depth", "instance"))
        startup = time.perf_counter() - t0
        stage = session.desc.stage
        rigs = labels_mod.cached_actor_rigs(stage)
        session.render(0)  # the first frame: shader variants, caches
        for k in session.timings:
            session.timings[k] = 0.0
        passes = ("rgb", "depth", "instance", *(() if args.no_labels else ("keypoints",)))
        split = {"labels": 0.0, "encoding": 0.0}
        runs = []
        for run in range(args.repeat):
            writer = ClipWriter(
                tmp / f"clip{run}", stage.GetTimeCodesPerSecond(), passes=passes, instances=session.instances
            )
            t_loop = time.perf_counter()
            for f in range(args.frames):
                layers = session.render(f)
                t1 = time.perf_counter()
                labels = None
                if not args.no_labels:
                    labels = labels_mod.frame_labels(
                        stage, session.camera(f), f, layers, session.instances, rigs=rigs
                    )
                t2 = time.perf_counter()
                writer.add(f, layers, labels)
                split["labels"] += t2 - t1
                split["encoding"] += time.perf_counter() - t2
            t3 = time.perf_counter()
            writer.close()
            split["encoding"] += time.perf_counter() - t3
            runs.append(time.perf_counter() - t_loop)
        session.close()
    n = args.frames * args.repeat
    loop = sum(runs)
    fps_runs = sorted(args.frames / r for r in runs)
    per_frame = {
        "skinning": session.timings["skinning"] / n,
        "upload": session.timings["upload"] / n,
        "rendering": session.timings["render"] / n,
        "labels": split["labels"] / n,
        "encoding": split["encoding"] / n,
    }
    per_frame["other"] = loop / n - sum(per_frame.values())
    print(
        json.dumps(
            {
                "benchmark": "render",
                "backend": "pyrender",
                "resolution": [width, height],
                "passes": list(passes),
                "actors": 1,
                "template": args.template,
                "frames": n,
                "frames_per_second": round(float(np.median(fps_runs)), 2),
                "frames_per_second_runs": [round(v, 2) for v in fps_runs],
                "goal_frames_per_second": 25,
                "ms_per_frame": {k: round(v * 1000, 2) for k, v in per_frame.items()},
                "startup_seconds": round(startup, 2),
                "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
                "cpu_count": os.cpu_count(),
                "gl": os.environ.get("PYOPENGL_PLATFORM", "egl"),
                "cpu": platform.processor() or platform.machine(),
                "python": platform.python_version(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
