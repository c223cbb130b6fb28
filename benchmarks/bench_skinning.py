"""Skinning throughput and baking speed, printed as JSON.

1. Linear blend skinning throughput, in vertex-frames per second, of one body (Anny, 13,718 vertices,
   4 influences) over a batch of frames: the Warp kernel on CPU and on CUDA when there is a GPU (points
   only, and points + normals), the numpy reference, a torch implementation (CPU), and USD's C++
   ``UsdSkel.SkinPointsLBS`` called per frame. On CUDA the achieved write bandwidth (12 bytes of points
   per vertex-frame) is reported against the device's peak when it is known.
2. End-to-end baking of a 2,000-frame actor file: ``usd-synth bake`` (open, evaluate joints, skin with Warp
   on CPU, write a crate file) against ``UsdSkel.BakeSkinning`` on the same file (open, bake, export).

    python benchmarks/bench_skinning.py [--frames 2000] [--batch 256] [--repeats 3] [--no-bake]

Nothing is pinned: USD's baking may use every core, Warp's CPU kernels use one.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import best_of  # noqa: E402

from usd_synth.body import make_body  # noqa: E402
from usd_synth.body.actor import make_actor  # noqa: E402
from usd_synth.kernels.device import warp  # noqa: E402
from usd_synth.kernels.skinning import Skin, WarpSkinner, skin_numpy  # noqa: E402
from usd_synth.usd.authoring import open_stage  # noqa: E402
from usd_synth.usd.bake import bake_file, collect_bake_targets  # noqa: E402
from usd_synth.usd.body_io import write_actor  # noqa: E402

#: Peak memory bandwidth (bytes/s) of GPUs we may be lent, by a substring of the device name.
PEAK_BANDWIDTH = {"H200": 4.8e12, "H100 PCIe": 2.0e12, "H100 NVL": 3.9e12, "H100": 3.35e12, "A100": 2.0e12}


def motion_of(frames: int):
    try:
        from usd_synth.motion.library import make_motion

        return make_motion("walk", seed=0, seconds=frames / 30.0, fps=30.0)
    except ImportError:  # a checkout without the motion library
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from conftest import smooth_random_motion

        return smooth_random_motion(frames)


def torch_lbs(points, indices, weights, mats):
    import torch

    blended = torch.einsum("vk,fvkij->fvij", weights, mats[:, indices, :3, :])
    return torch.einsum("fvij,vj->fvi", blended[..., :3], points) + blended[..., 3]


def throughput(skin: Skin, table: np.ndarray, repeats: int) -> dict:
    frames, v = table.shape[0], skin.num_points
    out: dict = {"vertices": v, "frames_per_batch": frames, "influences": skin.influences}
    wp = warp()
    devices = ["cpu"] + (["cuda:0"] if wp.get_cuda_device_count() > 0 else [])
    points_only = Skin(skin.points, skin.indices, skin.weights, None)
    for dev in devices:
        for name, s in (("points", points_only), ("points_normals", skin)):
            skinner = WarpSkinner(s, dev)
            mats = wp.array(table, dtype=wp.mat44f, device=dev)
            skinner.launch(mats)
            wp.synchronize_device(dev)

            def run(skinner=skinner, mats=mats, dev=dev):
                skinner.launch(mats)
                wp.synchronize_device(dev)

            t = best_of(repeats, run)
            key = f"warp_{dev.split(':')[0]}_{name}"
            out[key] = {"vertex_frames_per_s": frames * v / t, "seconds": t}
            if dev.startswith("cuda") and name == "points":
                bw = 12.0 * frames * v / t
                gpu = wp.get_device(dev).name
                peak = next((b for k, b in PEAK_BANDWIDTH.items() if k in gpu), None)
                out[key].update({"device": gpu, "write_bandwidth_GBps": bw / 1e9})
                if peak:
                    out[key]["fraction_of_peak_bandwidth"] = bw / peak
            t_host = best_of(repeats, lambda skinner=skinner: skinner.skin(table))
            out[key]["vertex_frames_per_s_with_host_copies"] = frames * v / t_host
    small = table[: max(1, frames // 8)]
    t = best_of(repeats, lambda: skin_numpy(points_only, small))
    out["numpy"] = {"vertex_frames_per_s": small.shape[0] * v / t}
    try:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
        tp = torch.as_tensor(skin.points.copy())
        ti = torch.as_tensor(skin.indices.astype(np.int64))
        tw = torch.as_tensor(skin.weights.copy())
        tm = torch.as_tensor(table)
        with torch.no_grad():
            t = best_of(repeats, lambda: torch_lbs(tp, ti, tw, tm))
        out["torch_cpu"] = {"vertex_frames_per_s": frames * v / t, "threads": torch.get_num_threads()}
    except ImportError:
        out["torch_cpu"] = None
    from pxr import Gf, UsdSkel, Vt

    rest = Vt.Vec3fArray.FromNumpy(skin.points)
    idx = Vt.IntArray.FromNumpy(skin.indices.reshape(-1))
    wts = Vt.FloatArray.FromNumpy(skin.weights.reshape(-1))
    usd_tables = [Vt.Matrix4dArray.FromNumpy(np.swapaxes(m, -1, -2).astype(np.float64)) for m in small]

    def usd_run():
        for m in usd_tables:
            pts = Vt.Vec3fArray(rest)
            UsdSkel.SkinPointsLBS(Gf.Matrix4d(1.0), m, idx, wts, skin.influences, pts)

    t = best_of(repeats, usd_run)
    out["usd_SkinPointsLBS"] = {"vertex_frames_per_s": len(usd_tables) * v / t}
    return out


def bake_comparison(actor_path: Path, tmp: Path, repeats: int) -> dict:
    """Alternate the two bakes (so both see the same machine load); best and median of each."""
    from pxr import Usd, UsdSkel

    ours = tmp / "baked_usd_synth.usd"
    theirs = tmp / "baked_usdskel.usd"

    def usd_bake():
        stage = Usd.Stage.Open(str(actor_path))
        if not UsdSkel.BakeSkinning(stage.Traverse()):
            raise RuntimeError("UsdSkel.BakeSkinning failed")
        stage.GetRootLayer().Export(str(theirs))
        return stage

    bake_file(actor_path, ours, "cpu")  # compile the kernels outside the timing
    t_ours, t_usd = [], []
    for _ in range(repeats):
        t_ours.append(best_of(1, lambda: bake_file(actor_path, ours, "cpu")))
        t0 = time.perf_counter()
        stage = usd_bake()
        t_usd.append(time.perf_counter() - t0)
        stage.GetRootLayer().Reload(True)  # the bake edited the layer in memory: drop that
    return {
        "usd_synth_bake_s": {"best": min(t_ours), "median": float(np.median(t_ours))},
        "usdskel_BakeSkinning_s": {"best": min(t_usd), "median": float(np.median(t_usd))},
        "speedup_best": min(t_usd) / min(t_ours),
        "speedup_median": float(np.median(t_usd) / np.median(t_ours)),
        "output_MB": {"usd_synth": ours.stat().st_size / 1e6, "usdskel": theirs.stat().st_size / 1e6},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="frames of the baked actor")
    parser.add_argument("--batch", type=int, default=256, help="frames per skinning launch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-bake", action="store_true", help="skip the end-to-end bake comparison")
    args = parser.parse_args()
    body = make_body("anny", 0)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        actor_path = write_actor(make_actor(motion_of(args.frames), body), tmp / "actor.usd")
        targets, _ = collect_bake_targets(open_stage(actor_path))
        skin, table = targets[0].skin, targets[0].matrices[: args.batch].astype(np.float32)
        result = {
            "machine": {
                "cpu": platform.processor() or platform.machine(),
                "python": platform.python_version(),
            },
            "skinning": throughput(skin, table, args.repeats),
        }
        if not args.no_bake:
            result["bake"] = {"frames": args.frames, **bake_comparison(actor_path, tmp, args.repeats)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
