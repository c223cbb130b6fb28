"""Blend throughput: shortest-arc slerp of many pairs x weights x frames x joints, on one CPU core.

Prints JSON: joint-frames per second (one joint-frame = one blended joint rotation of one frame at one
weight) for the Warp kernel on CPU (end to end, with the host copies, and the launch alone), Warp on CUDA
when a GPU is present, the numpy reference (float64), a vectorized SciPy implementation (``Rotation``
composition ``a * exp(w log(a^-1 b))`` over all joint-frames at once, one call per weight) and a SciPy
``Slerp`` loop (one ``Slerp`` per pair, frame and joint, evaluated at all weights; timed on a subset);
and the speed-up of Warp CPU over vectorized SciPy. Also the whole library blend (alignment, root,
quality) of one pair at all weights, and with ``--dtw-frames N`` the time and peak memory (maximum
resident set size, in a fresh process) of one DTW blend of two N-frame motions (issue 11: the band-only
DTW keeps 20,000 frames under 0.5 GB where the full matrices needed about 13 GB).

    python benchmarks/bench_blend.py [--pairs 64] [--weights 9] [--frames 200] [--repeats 3]
                                     [--dtw-frames 20000]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import _single_core  # noqa: F401  (must come before numpy)
import numpy as np
from _timing import best_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scipy.spatial.transform import Rotation, Slerp  # noqa: E402

from usd_synth.kernels import blend as kb  # noqa: E402
from usd_synth.kernels.device import warp  # noqa: E402

JOINTS = 24


def scipy_vectorized(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Slerp through SciPy's Rotation: ``a * exp(w * log(a^-1 * b))`` over all joint-frames at once."""
    ra = Rotation.from_quat(a.reshape(-1, 4))
    rel = (ra.inv() * Rotation.from_quat(b.reshape(-1, 4))).as_rotvec()
    out = [(ra * Rotation.from_rotvec(w * rel)).as_quat() for w in weights]
    return np.stack(out).reshape((len(weights),) + a.shape)


def scipy_slerp_loop(a: np.ndarray, b: np.ndarray, weights: np.ndarray, items: int) -> int:
    """One SciPy ``Slerp`` per (pair, frame, joint), for the first ``items``; returns joint-frames done."""
    qa, qb = a.reshape(-1, 4), b.reshape(-1, 4)
    for i in range(items):
        Slerp([0.0, 1.0], Rotation.from_quat([qa[i], qb[i]]))(weights)
    return items * len(weights)


def dtw_blend_memory(frames: int) -> dict[str, float]:
    """Seconds and peak resident memory (MB) of one DTW blend of two ``frames``-long motions (not gaits,
    so the band DTW runs), measured in a fresh process."""
    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from tests.conftest import smooth_random_motion\n"
        "from usd_synth.motion.blend import blend\n"
        f"a = smooth_random_motion(num_frames={frames}, seed=1)\n"
        f"b = smooth_random_motion(num_frames={frames}, seed=2)\n"
        "t = time.perf_counter()\n"
        "blend(a, b, 0.5, device='numpy', gait=False)\n"
        # VmHWM: this process's own peak (ru_maxrss would include the parent's, carried over the exec)
        "hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(time.perf_counter() - t, hwm)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    seconds, rss_kb = out.stdout.split()[-2:]
    return {"frames": frames, "seconds": round(float(seconds), 2), "peak_rss_mb": round(int(rss_kb) / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--weights", type=int, default=9)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slerp-items", type=int, default=2000, help="joint-frames for the Slerp loop")
    parser.add_argument("--dtw-frames", type=int, default=0, help="also measure a DTW blend this long")
    args = parser.parse_args()

    rng = np.random.default_rng(np.random.SeedSequence([2024, 4]))
    shape = (args.pairs, args.frames, JOINTS, 4)
    a = rng.normal(size=shape)
    b = rng.normal(size=shape)
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    weights = np.linspace(0.1, 0.9, args.weights)
    count = args.pairs * args.weights * args.frames * JOINTS
    results: dict[str, object] = {
        "batch": {"pairs": args.pairs, "weights": args.weights, "frames": args.frames, "joints": JOINTS},
        "joint_frames": count,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    rates: dict[str, float] = {}

    wp = warp()
    kb.warm_up("cpu")  # compile or load the cached module before timing
    rates["warp_cpu"] = count / best_of(args.repeats, lambda: kb.blend_rotations(a, b, weights, device="cpu"))

    # The launch alone, with the arrays already on the device.
    def launch_only(device: str) -> float:
        da = wp.array(a.astype(np.float32), dtype=wp.quat, device=device)
        db = wp.array(b.astype(np.float32), dtype=wp.quat, device=device)
        w32 = np.broadcast_to(weights, (args.pairs, args.weights)).astype(np.float32)
        dw = wp.array(w32, dtype=float, device=device)
        out = wp.empty((args.pairs, args.weights, args.frames, JOINTS), dtype=wp.quat, device=device)
        kernel = kb.slerp_pairs_kernel(device=device)

        def go() -> None:
            wp.launch(
                kernel,
                dim=(args.pairs, args.frames, JOINTS),
                inputs=[da, db, dw],
                outputs=[out],
                device=device,
            )
            wp.synchronize_device(device)

        go()
        return count / best_of(args.repeats, go)

    rates["warp_cpu_launch_only"] = launch_only("cpu")
    if wp.get_cuda_device_count() > 0:
        kb.warm_up("cuda:0")
        rates["warp_cuda"] = count / best_of(
            args.repeats, lambda: kb.blend_rotations(a, b, weights, device="cuda:0")
        )
        rates["warp_cuda_launch_only"] = launch_only("cuda:0")
    rates["numpy_reference"] = count / best_of(args.repeats, lambda: kb.blend_rotations_np(a, b, weights))
    rates["scipy_vectorized"] = count / best_of(1, lambda: scipy_vectorized(a, b, weights))
    items = min(args.slerp_items // args.weights + 1, args.pairs * args.frames * JOINTS)
    start = time.perf_counter()
    done = scipy_slerp_loop(a, b, weights, items)
    rates["scipy_slerp_loop"] = done / (time.perf_counter() - start)

    # Agreement of the fast paths with the reference on the first pair (a sanity check of what was timed).
    ref = kb.blend_rotations_np(a[:1], b[:1], weights)
    sci = scipy_vectorized(a[:1], b[:1], weights).transpose(1, 0, 2, 3, 4)
    results["max_abs_error"] = {
        "warp_cpu_vs_numpy": float(
            np.abs(kb.blend_rotations(a[:1], b[:1], weights, device="cpu") - ref).max()
        ),
        "scipy_vs_numpy_sign_free": float(np.minimum(np.abs(sci - ref), np.abs(sci + ref)).max()),
    }

    # The whole library path: DTW alignment, kernel, root integration and quality for one pair at all weights.
    from usd_synth.motion.blend import blend_motions
    from usd_synth.motion.library import make_motion

    ma = make_motion("walk", seed=0, fps=30.0, seconds=args.frames / 30.0)
    mb = make_motion("walk", seed=3, fps=20.0, seconds=args.frames / 30.0)
    blend_motions(ma, mb, weights, device="cpu")
    results["library_blend_one_pair_all_weights_s"] = round(
        best_of(args.repeats, lambda: blend_motions(ma, mb, weights, device="cpu")), 4
    )

    if args.dtw_frames:
        results["dtw_blend"] = dtw_blend_memory(args.dtw_frames)
    results["joint_frames_per_s"] = {k: round(v) for k, v in rates.items()}
    results["speedup_warp_cpu_over_scipy_vectorized"] = round(
        rates["warp_cpu"] / rates["scipy_vectorized"], 2
    )
    if "warp_cuda" in rates:
        results["speedup_warp_cuda_over_scipy_vectorized"] = round(
            rates["warp_cuda"] / rates["scipy_vectorized"], 2
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
