"""Linear pose-corrective shapes, measured before building them: how much skin strain they take off.

    python benchmarks/bench_correctives.py [--seed 0] [--step 12] [--anchor 0.05] [--no-arms]

An experiment ahead of the feature (issue 10), printed as JSON. SMPL corrects linear blend skinning with pose
blend shapes: rest-space vertex offsets linear in the pose feature (R - I) of each joint's local rotation.
Here the offsets are learned for one Anny body (``--seed``) from what ``fidelity.relaxed_points`` does to the
skin of the torso, collars and shoulders (edge lengths brought back towards the bind mesh, held to the skinned
positions with weight ``--anchor``) on every ``--step``-th frame of all built-in actions at motion seeds 0
and 1, and (unless ``--no-arms``) every 8th frame of raised- and forward-arm actions at seeds 4-7, which a
first run without them showed the model needs:

1. per training frame, the relaxed points' displacement, taken back to the rest pose through each vertex's
   blended skinning rotation (so that the offset, added before skinning, gives that displacement);
2. features: (R - I) of spine1-3, neck, head, the collars and the shoulders (81 numbers) and a constant;
3. ridge regression of the offsets on the features (``--ridge``);
4. on held-out clips (motion seed 3) of idle, walk, wave, squat and reach_up: the worst 95th-percentile
   strain of the torso and collar skin with and without the learned offsets, the torso's worst creases (95th
   percentile of the fold angle's change across its edges, ``fidelity.crease_change``, degrees) and how far
   the offsets move the skin.

Nothing here is used by the actors yet; see docs/bodies.md for what the figures say.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from usd_synth.body import fidelity as fd  # noqa: E402
from usd_synth.body import make_body  # noqa: E402
from usd_synth.body.actor import make_actor  # noqa: E402
from usd_synth.body.model import Body  # noqa: E402
from usd_synth.motion.library import list_actions, make_motion  # noqa: E402
from usd_synth.rotations import quat_to_matrix  # noqa: E402
from usd_synth.skeleton import JOINT_INDEX  # noqa: E402

#: Joints whose local rotations drive the correctives.
DRIVERS = (
    "spine1",
    "spine2",
    "spine3",
    "neck",
    "head",
    "left_collar",
    "right_collar",
    "left_shoulder",
    "right_shoulder",
)
TEST_ACTIONS = ("idle", "walk", "wave", "squat", "reach_up")
#: Extra training clips with the arms raised or held forward: (actions, motion seeds, frame step).
ARM_CLIPS = (("wave", "reach_up", "punch", "carry"), (4, 5, 6, 7), 8)


def features(rotations: np.ndarray) -> np.ndarray:
    """(T, 9 * 9 + 1): (R - I) of the driver joints' local rotations (quaternions (T, 24, 4)), and 1."""
    r = quat_to_matrix(rotations[:, [JOINT_INDEX[j] for j in DRIVERS]]) - np.eye(3)
    return np.concatenate([r.reshape(len(r), -1), np.ones((len(r), 1))], axis=1)


def blended_rotations(body: Body, matrices: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """(T, V, 3, 3) each vertex's weight-blended skinning rotation: the map from a rest offset to posed."""
    return np.einsum("vj,tjab->tvab", body.dense_weights()[vertices], matrices[:, :, :3, :3])


def training_clips(step: int, arms: bool) -> list[tuple[str, int, int]]:
    """(action, motion seed, frame step) of the training clips."""
    clips = [(name, seed, step) for name in list_actions() for seed in (0, 1)]
    if arms:
        names, seeds, arm_step = ARM_CLIPS
        clips += [(name, seed, arm_step) for name in names for seed in seeds]
    return clips


def training_set(
    body: Body, moved: np.ndarray, clips: list[tuple[str, int, int]], anchor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, 82) and rest-space offsets (N, 3V) of the moved skin on the training frames."""
    rest = body.world_points()
    free = np.zeros(body.num_points, dtype=bool)
    free[moved] = True
    feats, offsets = [], []
    for name, seed, step in clips:
        motion = make_actor(make_motion(name, seed=seed), body).motion
        frames = np.arange(0, motion.num_frames, step)
        m = fd.skinning_matrices(motion, body)[frames]
        posed = fd.skin_all(body, m)
        blend = blended_rotations(body, m, moved)
        for k in range(len(frames)):
            relaxed = fd.relaxed_points(rest, posed[k], body.faces, free, anchor=anchor, iterations=60)
            shift = relaxed[moved] - posed[k][moved]
            offsets.append(np.linalg.solve(blend[k], shift[..., None])[..., 0].ravel())
        feats.append(features(motion.rotations[frames]))
    return np.concatenate(feats), np.array(offsets)


def evaluate(body: Body, moved: np.ndarray, weights: np.ndarray) -> dict:
    """Worst strain per region on held-out clips, skinned and with the learned correctives."""
    rest = body.world_points()
    regions = {
        "torso": fd.region_edges(body, fd.TORSO_JOINTS),
        "collars": fd.region_edges(body, fd.COLLAR_JOINTS),
    }
    out = {}
    for name in TEST_ACTIONS:
        motion = make_actor(make_motion(name, seed=3), body).motion
        m = fd.skinning_matrices(motion, body)
        posed = fd.skin_all(body, m)
        offsets = (features(motion.rotations) @ weights).reshape(len(m), len(moved), 3)
        corrected = posed.copy()
        corrected[:, moved] += np.einsum("tvab,tvb->tva", blended_rotations(body, m, moved), offsets)
        entry = {}
        for region, edges in regions.items():
            entry[region] = {
                "skinned": round(float(fd.edge_strain(rest, posed, edges).max()), 4),
                "corrected": round(float(fd.edge_strain(rest, corrected, edges).max()), 4),
            }
        entry["torso_crease_deg"] = {
            label: round(float(fd.crease_change(rest, pts, body.faces, regions["torso"]).max()), 2)
            for label, pts in (("skinned", posed), ("corrected", corrected))
        }
        entry["move_max_cm"] = round(float(np.linalg.norm(corrected - posed, axis=-1).max() * 100), 2)
        out[name] = entry
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0, help="the body's seed")
    ap.add_argument("--step", type=int, default=12, help="every step-th frame of a clip is a training frame")
    ap.add_argument("--anchor", type=float, default=0.05, help="relaxation's hold on the skinned positions")
    ap.add_argument("--ridge", type=float, nargs="+", default=[0.01, 1.0], help="ridge regression weights")
    ap.add_argument(
        "--no-arms", dest="arms", action="store_false", help="leave out the extra raised-arm clips"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    body = make_body("anny", args.seed)
    moved = fd.region_vertices(body, fd.CORRECTIVE_JOINTS)
    x, y = training_set(body, moved, training_clips(args.step, args.arms), args.anchor)
    result: dict = {
        "body_seed": args.seed,
        "stature_m": round(body.stature, 3),
        "moved_vertices": len(moved),
        "training_frames": len(x),
        "anchor": args.anchor,
        "raised_arm_clips": args.arms,
        "training_seconds": round(time.perf_counter() - t0, 1),
    }
    for ridge in args.ridge:
        weights = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)
        result[f"ridge_{ridge}"] = evaluate(body, moved, weights)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
