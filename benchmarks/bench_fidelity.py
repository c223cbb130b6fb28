"""Fidelity of posed bodies, as JSON: skin strain of the torso and collars, shoulder rise, grounding.

    python benchmarks/bench_fidelity.py [--seeds 10] [--shared ../shared/data] [--render docs/img]

* ``strain``: per built-in action (idle, walk, wave, squat) and region (``torso``: skin bound mainly to
  spine1-3 or the neck; ``collars``), the worst over seeds and frames of the per-frame 95th percentile of
  the relative edge-length change against the bind mesh (:func:`usd_synth.body.fidelity.region_edge_strain`),
  for the current rig, for the current rig with Anny's weights as mapped, before the shoulder refinement
  (``mapped_weights``, :func:`usd_synth.body.anny_body.refine_shoulder_weights`), and for the rig before
  that (every bone, torso included, swung onto SMPL's template direction: ``full_swing``);
  ``decomposition`` says which joint group causes what is left;
* ``shoulder_rise_cm``: mean height change of the collar skin relative to the pelvis on the idle motion;
* ``grounding``: for generated HumanML3D-format inputs (feet below / above the floor), a BVH whose origin is
  95 cm up, and the built-in walk and run: the largest distance of the lowest skinned vertex from the floor
  on planted frames (cm), checked against UsdSkel's own skinning on one actor; with ``--shared``, the same
  for the sample files in that folder;
* ``foot_slide``: for the same inputs and the built-in carry, push and jump, over the bodies: the worst
  extra slide of a planted foot joint per contact (how much farther it travels than the input's, scaled),
  as adapted before (stride scaled by pelvis joint heights, joint angles untouched) and now (stride
  scaled by leg length, feet pinned: :func:`usd_synth.body.actor.pin_planted_feet`), the largest pinning
  shift (cm) and the legs' peak angular speed against the input's;
* ``dual_quaternion``: per action (the four above and the deep bends sit_down and bend_pick_up), the
  worst over seeds of the region strain (torso, collars, hips: skin bound mainly to the pelvis or hips)
  and of the enclosed volume's change against the bind mesh (12 frames a clip), with linear blend
  skinning (what the actors use) and with dual quaternions (UsdSkel's other ``skel:skinningMethod``);
* ``relaxation_bound``: per action, on the worst torso frame found above, the region strain and the torso's
  creases (95th percentile of the fold angle's change across its edges, degrees:
  :func:`usd_synth.body.fidelity.crease_change`) after skin is moved freely to bring edge lengths back
  towards the bind mesh (:func:`usd_synth.body.fidelity.relaxed_points`): the torso, collar and shoulder
  skin held to its skinned position with weight 0.1 and 0.01, and the whole mesh held with 0.001 and its
  displacement kept smooth with weight 0, 0.1, 1 and 10; and how far that moves it (cm): what any
  corrective shape could reach at best, and how much it would crease the skin to get there;
* ``alternatives``: on each action's worst body and motion seed, the worst strain with changes to the
  motion (the head's rotation shared with the neck; the collars taking a third of an arm's raise) or to
  the weights (the neck's weight handed to the head gradually up the neck) that might have lowered it;
* ``--render DIR``: ``bind_vs_posed.png`` (bind mesh, posed with the previous rig, posed now) for a child and
  an adult; ``skin_weights.png`` and ``skin_strain.png`` (upper body, bind and the worst torso frame of idle,
  wave and squat, Anny's mapped weights against the refined ones; shaded, and coloured by edge strain);
  ``lbs_vs_dqs.png`` (the deepest squat frame skinned both ways, front and side); ``strain_target.png``
  (each action's worst torso frame skinned and relaxed as above, shaded and coloured by edge strain);
  ``foot_slide.png`` (the left ball of the foot's speed over a walk and a run: input, before, now).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.inputs import bvh_text, humanml3d_joints  # noqa: E402
from usd_synth.body import fidelity as fd  # noqa: E402
from usd_synth.body import make_body  # noqa: E402
from usd_synth.body.actor import ground_correction, make_actor  # noqa: E402
from usd_synth.body.anny_body import load_assets, mapped_weights  # noqa: E402
from usd_synth.body.model import PRIMARY_CHILD, Body, bind_rotations_from_joints, limit_influences  # noqa: E402
from usd_synth.kinematics import world_to_local  # noqa: E402
from usd_synth.motion.library import list_actions, make_motion  # noqa: E402
from usd_synth.motion.model import Motion  # noqa: E402
from usd_synth.motion.readers import read_motion  # noqa: E402
from usd_synth.rotations import (  # noqa: E402
    axis_angle_to_quat,
    matrix_to_quat,
    quat_angle,
    quat_apply,
    quat_conj,
    quat_mul,
    quat_pow,
)
from usd_synth.skeleton import JOINT_INDEX, LEG_JOINTS  # noqa: E402
from usd_synth.usd.authoring import open_stage  # noqa: E402
from usd_synth.usd.bake import usd_skinned_points  # noqa: E402
from usd_synth.usd.body_io import write_actor  # noqa: E402

ACTIONS = ("idle", "walk", "wave", "squat")


GROUPS = {
    "legs": ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"),
    "spine": ("spine1", "spine2", "spine3"),
    "neck_head": ("neck", "head"),
    "arms": ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"),
}


def full_swing(body: Body) -> Body:
    """The body rigged the previous way: every bone swung onto SMPL's template direction."""
    return dataclasses.replace(
        body, bind_rotations=bind_rotations_from_joints(body.joints, tuple(PRIMARY_CHILD))
    )


def with_mapped_weights(body: Body) -> Body:
    """The body with Anny's weights as mapped onto SMPL-24, without the shoulder refinement."""
    idx, w = limit_influences(mapped_weights(load_assets()), body.influences)
    return dataclasses.replace(body, joint_indices=idx, joint_weights=w)


def strain_of(body: Body, motion: Motion) -> dict[str, np.ndarray]:
    return fd.region_edge_strain(body, fd.skinning_matrices(motion, body))


def shoulder_rise(body: Body, motion: Motion) -> np.ndarray:
    idx = fd.region_vertices(body, fd.COLLAR_JOINTS)
    posed = fd.skin_all(body, fd.skinning_matrices(motion, body), idx)[..., 2]
    pelvis = motion.joint_positions()[:, 0, 2] - body.bind_world()[1][0, 2]
    return (posed - body.world_points()[idx, 2]).mean(axis=1) - pelvis


def decomposition(body: Body, motion: Motion, frame: int) -> dict[str, dict[str, float]]:
    """Strain of one frame with only one joint group posed (the others held in the bind pose)."""
    from usd_synth.skeleton import SMPL_JOINTS

    bind_q = matrix_to_quat(world_to_local(body.bind_rotations, body.joints)[0])
    out = {}
    for group, joints in GROUPS.items():
        m = motion.copy()
        m.rotations, m.translation = m.rotations[frame : frame + 1].copy(), m.translation[frame : frame + 1]
        for name in set(SMPL_JOINTS[1:]) - set(joints):
            m.rotations[0, JOINT_INDEX[name]] = bind_q[JOINT_INDEX[name]]
        out[group] = {k: round(float(v[0]), 4) for k, v in strain_of(body, m).items()}
    return out


def planted_error(body: Body, motion: Motion) -> tuple[float, float, int]:
    """(largest |lowest vertex z| on planted frames, lowest z over the clip, planted frames), metres."""
    low = fd.lowest_heights(body, fd.skinning_matrices(motion, body))["all"]
    planted = fd.planted_feet(motion.joint_positions(), motion.fps).any(axis=1)
    return (
        float(np.abs(low[planted]).max()) if planted.any() else float("nan"),
        float(low.min()),
        int(planted.sum()),
    )


def ground_inputs(tmp: Path) -> dict[str, Motion]:
    out = {}
    for name, shift, noise in (("walk", -0.06, 0.005), ("jump", 0.04, 0.0)):
        joints = humanml3d_joints(make_motion(name, seed=1), noise=noise, seed=1)
        joints[..., 1] += shift
        np.save(tmp / f"{name}.npy", joints)
        out[f"humanml3d_{name}_{'below' if shift < 0 else 'above'}"] = read_motion(
            tmp / f"{name}.npy", format="humanml3d"
        )
    walk = make_motion("walk", seed=2)
    walk.translation[:, 2] += 0.95
    (tmp / "walk.bvh").write_text(bvh_text(walk))
    out["bvh_origin_95cm_up"] = read_motion(tmp / "walk.bvh")
    out["walk"] = make_motion("walk", seed=3)
    out["run"] = make_motion("run", seed=3)
    return out


def draw_body(ax, pts, faces, side, color, height, top: float = 1.04) -> None:
    """A shaded mesh, front (``side`` False) or side view, on a floor line, up to ``top`` x height."""
    from matplotlib.collections import PolyCollection

    u, v, depth = (-pts[:, 1], pts[:, 2], pts[:, 0]) if side else (pts[:, 0], pts[:, 2], -pts[:, 1])
    n = np.cross(pts[faces[:, 1]] - pts[faces[:, 0]], pts[faces[:, 2]] - pts[faces[:, 0]])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    cam = np.array([1.0, 0, 0]) if side else np.array([0, -1.0, 0])
    facing = n @ cam
    key = cam + np.array([0.0, 0.0, 0.7]) + (np.array([0, -0.4, 0]) if side else np.array([0.4, 0, 0]))
    light = np.clip(n @ (key / np.linalg.norm(key)), 0, 1) * 0.75 + 0.25
    order = np.argsort(depth[faces].mean(axis=1))
    order = order[facing[order] > 0]
    tri = np.stack([u, v], axis=1)[faces[order]]
    rgb = np.clip(np.outer(light[order], color), 0, 1)
    ax.add_collection(PolyCollection(tri, facecolors=rgb, edgecolors=rgb, linewidths=0.15, antialiased=False))
    ax.set_xlim(-0.42 * height, 0.42 * height)
    ax.set_ylim(-0.03, top * height)
    ax.axhline(0.0, color="0.3", lw=0.6)
    ax.set_aspect("equal")
    ax.axis("off")


def render(path: Path, seeds: tuple[int, ...]) -> None:
    """Bind mesh, previous rig and current rig on one idle frame, front and side, for each seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(seeds), 6, figsize=(12, 3.2 * len(seeds)))
    for row, seed in enumerate(seeds):
        body = make_body("anny", seed)
        motion = make_motion("idle", seed=seed)
        frame = motion.num_frames // 2
        shapes = [("bind mesh", body.world_points())]
        for label, b in (("previous rig (shrug)", full_swing(body)), ("this rig", body)):
            m = make_actor(motion, b).motion
            p = fd.skin_all(b, fd.skinning_matrices(m, b)[frame : frame + 1])[0]
            shapes.append((label, p))
        for col, (label, pts) in enumerate(shapes):
            pts = pts - [pts[:, 0].mean(), pts[:, 1].mean(), 0.0]
            for k, side in enumerate((False, True)):
                ax = axes[row, 2 * col + k]
                draw_body(ax, pts, body.faces, side, np.array(body.color), body.stature)
                ax.set_title(f"{label}{' (side)' if side else ''}\n{body.stature:.2f} m", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=62)


def face_strain(rest: np.ndarray, posed: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per triangle, the largest relative length change of its three edges against ``rest``."""
    out = np.zeros(len(faces))
    for a, b in ((0, 1), (1, 2), (2, 0)):
        r = np.linalg.norm(rest[faces[:, a]] - rest[faces[:, b]], axis=1)
        p = np.linalg.norm(posed[faces[:, a]] - posed[faces[:, b]], axis=1)
        out = np.maximum(out, np.abs(p / r - 1.0))
    return out


def draw_upper(
    ax: Any,
    pts: np.ndarray,
    faces: np.ndarray,
    strain: np.ndarray | None,
    crop: tuple[tuple[float, float], tuple[float, float]],
    side: bool = False,
) -> None:
    """A front (or, with ``side``, left-side) view of ``pts`` cropped to ``crop`` ((u0, u1), (v0, v1)):
    shaded skin, or each triangle coloured by ``strain``, black 0 to yellow 40 % or more."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    n = np.cross(pts[faces[:, 1]] - pts[faces[:, 0]], pts[faces[:, 2]] - pts[faces[:, 0]])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    cam = np.array([1.0, 0.0, 0.0]) if side else np.array([0.0, -1.0, 0.0])
    key = cam + np.array([0.3, 0.0, 0.7] if not side else [0.0, -0.3, 0.7])
    light = np.clip(n @ (key / np.linalg.norm(key)), 0, 1) * 0.75 + 0.25
    depth = pts[faces] @ cam
    order = np.argsort(depth.mean(axis=1))
    order = order[n[order] @ cam > 0]
    uv = np.stack([-pts[:, 1], pts[:, 2]], axis=1) if side else pts[:, [0, 2]]
    tri = uv[faces[order]]
    if strain is None:
        rgb = np.clip(np.outer(light[order], [0.8, 0.6, 0.5]), 0, 1)
    else:
        c = plt.cm.inferno(np.clip(strain[order] / 0.4, 0, 1))[:, :3]
        rgb = np.clip(c * (0.5 + 0.5 * light[order, None]), 0, 1)
    ax.add_collection(PolyCollection(tri, facecolors=rgb, edgecolors=rgb, linewidths=0.1, antialiased=False))
    ax.set_xlim(*crop[0])
    ax.set_ylim(*crop[1])
    ax.set_aspect("equal")
    ax.axis("off")


def render_target(path: Path, shapes: dict) -> None:
    """Each action's worst torso frame as skinned and with the whole mesh relaxed (:data:`DRAWN_RUNS`: free
    to fold, and with a smooth displacement): shaded, and coloured by edge strain; front, and the side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [("skinned", None)] + [(f"relaxed, {k}", k) for k in next(iter(shapes.values()))[3]]
    cols = [(label, key, coloured, False) for label, key in runs for coloured in (False, True)]
    cols += [(label, key, False, True) for label, key in runs]
    fig, axes = plt.subplots(len(shapes), len(cols), figsize=(1.9 * len(cols), 2.6 * len(shapes)))
    for row, (name, (body, rest, posed, drawn)) in enumerate(shapes.items()):
        neck = fd.region_vertices(body, ("neck",))
        for col, (label, key, coloured, side) in enumerate(cols):
            pts = posed if key is None else drawn[key]
            ctr, h = pts[neck].mean(axis=0), body.stature
            u = -ctr[1] if side else ctr[0]
            crop = ((u - 0.25 * h, u + 0.25 * h), (ctr[2] - 0.4 * h, ctr[2] + 0.1 * h))
            strain = face_strain(rest, pts, body.faces) if coloured else None
            draw_upper(axes[row, col], pts, body.faces, strain, crop, side)
            title = f"{label}{': strain' if coloured else ''}{' (side)' if side else ''}"
            axes[row, col].set_title(f"{name}\n{title}", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def render_weights(folder: Path, seeds: tuple[int, ...]) -> None:
    """Upper bodies: bind and the worst torso frame of idle, wave, squat; Anny's mapped weights against the
    refined ones; shaded (``skin_weights.png``) and coloured by the largest edge strain of each triangle,
    0 (black) to 40 % or more (yellow) (``skin_strain.png``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shows = ("bind", "idle", "wave", "squat")
    for file, coloured in (("skin_weights.png", False), ("skin_strain.png", True)):
        fig, axes = plt.subplots(2 * len(seeds), len(shows), figsize=(2.6 * len(shows), 3.0 * 2 * len(seeds)))
        for i, seed in enumerate(seeds):
            body = make_body("anny", seed)
            for k, (label, b) in enumerate(
                (("Anny's weights, mapped", with_mapped_weights(body)), ("refined", body))
            ):
                rest = b.world_points()
                neck = fd.region_vertices(body, ("neck",))
                for col, name in enumerate(shows):
                    if name == "bind":
                        pts = rest
                    else:
                        m = fd.skinning_matrices(make_actor(make_motion(name, seed=seed), body).motion, body)
                        frame = int(np.argmax(fd.region_edge_strain(body, m)["torso"]))
                        pts = fd.skin_all(b, m[frame : frame + 1])[0]
                    ctr, h = pts[neck].mean(axis=0), body.stature
                    crop = ((ctr[0] - 0.25 * h, ctr[0] + 0.25 * h), (ctr[2] - 0.33 * h, ctr[2] + 0.1 * h))
                    ax = axes[2 * i + k, col]
                    draw_upper(ax, pts, b.faces, face_strain(rest, pts, b.faces) if coloured else None, crop)
                    ax.set_title(f"{label}: {name}\n{body.stature:.2f} m", fontsize=8)
        fig.tight_layout()
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / file, dpi=62)
        plt.close(fig)


DQ_ACTIONS = ("idle", "walk", "wave", "squat", "sit_down", "bend_pick_up")
DQ_REGIONS = {
    "torso": fd.TORSO_JOINTS,
    "collars": fd.COLLAR_JOINTS,
    "hips": ("pelvis", "left_hip", "right_hip"),
}


def dual_quaternion_report(bodies: dict[int, Body]) -> dict:
    """Strain and volume change, linear blend against dual-quaternion skinning (see the docstring)."""
    out: dict = {}
    for name in (a for a in DQ_ACTIONS if a in list_actions()):
        entry: dict = {"strain_p95": {r: {"lbs": 0.0, "dqs": 0.0} for r in DQ_REGIONS}}
        entry["volume_change_min"] = {"lbs": 0.0, "dqs": 0.0}
        for seed, body in bodies.items():
            m = fd.skinning_matrices(make_actor(make_motion(name, seed=seed), body).motion, body)
            v0 = fd.mesh_volume(body.world_points(), body.faces)
            picks = np.linspace(0, len(m) - 1, 12).round().astype(int)
            for method, skin in (("lbs", fd.skin_all), ("dqs", fd.dual_quaternion_skin)):
                strain = fd.region_edge_strain(body, m, DQ_REGIONS, skin=skin)
                for r, values in strain.items():
                    worst = round(float(values.max()), 4)
                    entry["strain_p95"][r][method] = max(entry["strain_p95"][r][method], worst)
                change = float((fd.mesh_volume(skin(body, m[picks]), body.faces) / v0 - 1.0).min())
                entry["volume_change_min"][method] = min(entry["volume_change_min"][method], round(change, 4))
        out[name] = entry
    return out


#: Relaxation settings, (skin moved, anchor, smooth): the skin a torso corrective would move, held to its
#: skinned position with weight ``anchor`` (smaller: freer), and every vertex of the body, held loosely,
#: with its displacement kept smooth by ``smooth`` (larger: fewer folds); see fidelity.relaxed_points.
RELAX_RUNS = (
    ("corrective_skin", 0.1, 0.0),
    ("corrective_skin", 0.01, 0.0),
    ("whole_mesh", 0.001, 0.0),
    ("whole_mesh", 0.001, 0.1),
    ("whole_mesh", 0.001, 1.0),
    ("whole_mesh", 0.001, 10.0),
)
#: The runs drawn in strain_target.png.
DRAWN_RUNS = (("whole_mesh", 0.001, 0.0), ("whole_mesh", 0.001, 1.0))


def shape_measures(body: Body, rest: np.ndarray, pts: np.ndarray, edges: dict[str, np.ndarray]) -> dict:
    """95th-percentile edge strain of each region's ``edges`` and fold-angle change of the torso's (degrees)
    of one posed frame ``pts`` against ``rest``."""
    out = {r: round(float(fd.edge_strain(rest, pts[None], e)[0]), 4) for r, e in edges.items()}
    crease = fd.crease_change(rest, pts[None], body.faces, edges["torso"])[0]
    return {**out, "torso_crease_deg": round(float(crease), 2)}


def relaxation_bound(bodies: dict[int, Body], strain: dict) -> tuple[dict, dict]:
    """The region strain and torso creases on each action's worst torso frame with skin moved to bring
    edge lengths back (see the docstring): what pose-corrective shapes could reach at best, and what it
    costs in folds. Also returns, per action, the body, its rest and skinned points and the points of
    :data:`DRAWN_RUNS` (for ``strain_target.png``)."""
    out: dict = {}
    shapes: dict = {}
    for name, entry in strain.items():
        seed, frame = entry["worst_torso"]["seed"], entry["worst_torso"]["frame"]
        body = bodies[seed]
        m = fd.skinning_matrices(make_actor(make_motion(name, seed=seed), body).motion, body)
        rest, posed = body.world_points(), fd.skin_all(body, m[frame : frame + 1])[0]
        edges = {
            r: fd.region_edges(body, j)
            for r, j in (("torso", fd.TORSO_JOINTS), ("collars", fd.COLLAR_JOINTS))
        }
        result: dict = {"seed": seed, "frame": frame, "skinned": shape_measures(body, rest, posed, edges)}
        drawn: dict = {}
        for moved, anchor, smooth in RELAX_RUNS:
            free = np.ones(body.num_points, dtype=bool)
            if moved == "corrective_skin":
                free[:] = False
                free[fd.region_vertices(body, fd.CORRECTIVE_JOINTS)] = True
            pts = fd.relaxed_points(
                rest, posed, body.faces, free, anchor=anchor, iterations=100, smooth=smooth
            )
            move = np.linalg.norm(pts - posed, axis=1)[free] * 100
            result.setdefault(moved, {"vertices": int(free.sum())})[f"anchor_{anchor}_smooth_{smooth}"] = {
                **shape_measures(body, rest, pts, edges),
                "move_max_cm": round(float(move.max()), 2),
                "move_p95_cm": round(float(np.percentile(move, 95)), 2),
            }
            if (moved, anchor, smooth) in DRAWN_RUNS:
                drawn[f"smooth {smooth}"] = pts
        shapes[name] = (body, rest, posed, drawn)
        out[name] = result
    return out, shapes


def share_head_with_neck(motion: Motion, share: float = 0.5) -> Motion:
    """The motion with ``share`` of each frame's head rotation moved onto the neck (the head's world
    orientation kept): the cervical spine taking part in a head turn, as the lower neck does."""
    m = motion.copy()
    head, neck = JOINT_INDEX["head"], JOINT_INDEX["neck"]
    q = m.rotations[:, head]
    m.rotations[:, neck] = quat_mul(m.rotations[:, neck], quat_pow(q, share))
    m.rotations[:, head] = quat_pow(q, 1.0 - share)
    return m


def shoulder_rhythm(motion: Motion, share: float = 1 / 3, start_deg: float = 30.0) -> Motion:
    """The motion with each collar turning by ``share`` of its arm's elevation above ``start_deg`` (the
    upper arm's angle from hanging straight down), about the same axis, and the shoulder by the rest, so
    the upper arm points where it did: the scapulo-humeral rhythm (the shoulder blade taking about a third
    of an arm's raise), a change of the motion rather than of the skin."""
    m = motion.copy()
    hang = np.array([0.0, -1.0, 0.0])
    for side, out_x in (("left", 1.0), ("right", -1.0)):
        s, c = JOINT_INDEX[f"{side}_shoulder"], JOINT_INDEX[f"{side}_collar"]
        q = m.rotations[:, s]
        arm = quat_apply(q, np.broadcast_to([out_x, 0.0, 0.0], q.shape[:-1] + (3,)))
        elevation = np.arccos(np.clip(arm @ hang, -1.0, 1.0))
        axis = np.cross(hang, arm)
        norm = np.linalg.norm(axis, axis=-1, keepdims=True)
        axis = np.where(norm > 1e-6, axis / np.maximum(norm, 1e-9), [0.0, 0.0, out_x])
        soft = 0.1 * np.logaddexp(0.0, (elevation - np.radians(start_deg)) / 0.1)  # smooth max(0, .)
        turn = axis_angle_to_quat(axis * (share * soft)[:, None])
        m.rotations[:, c] = quat_mul(m.rotations[:, c], turn)
        m.rotations[:, s] = quat_mul(quat_conj(turn), q)
    return m


def neck_weight_gradient(body: Body, top: float = 0.8) -> Body:
    """The body with the neck skin's weight handed to the head gradually up the neck (none at the neck
    joint, all of it ``top`` of the way to the head joint), so a head turn twists the whole neck."""
    dense = body.dense_weights()
    joints = body.bind_world()[1]
    neck, head = JOINT_INDEX["neck"], JOINT_INDEX["head"]
    up = np.clip(
        (body.world_points()[:, 2] - joints[neck, 2]) / (top * (joints[head, 2] - joints[neck, 2])), 0, 1
    )
    moved = dense[:, neck] * up * up * (3.0 - 2.0 * up)
    dense[:, neck] -= moved
    dense[:, head] += moved
    idx, w = limit_influences(dense, body.influences)
    return dataclasses.replace(body, joint_indices=idx, joint_weights=w)


def alternatives(bodies: dict[int, Body], strain: dict) -> dict:
    """Worst torso / collar strain over the clip of each action's worst body and motion seed, as it is and
    with changes to the motion or the weights that might have lowered it (measured, none kept)."""
    out: dict = {}
    for name, entry in strain.items():
        seed = entry["worst_torso"]["seed"]
        body, motion = bodies[seed], make_motion(name, seed=seed)
        variants = {
            "as_is": (body, motion),
            "head_shared_with_neck": (body, share_head_with_neck(motion)),
            "shoulder_rhythm": (body, shoulder_rhythm(motion)),
            "neck_weight_gradient": (neck_weight_gradient(body), motion),
        }
        out[name] = {"seed": seed}
        for label, (b, mo) in variants.items():
            s = strain_of(b, make_actor(mo, b).motion)
            out[name][label] = {r: round(float(v.max()), 4) for r, v in s.items()}
    return out


def render_dqs(path: Path, seed: int) -> None:
    """The deepest frame of a squat (lowest pelvis), linear blend and dual-quaternion skinning, front and
    side, shaded like ``bind_vs_posed.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    body = make_body("anny", seed)
    m = fd.skinning_matrices(make_actor(make_motion("squat", seed=seed), body).motion, body)
    frame = int(np.argmin(m[:, 0, 2, 3]))
    shapes = (
        ("linear blend", fd.skin_all(body, m[frame : frame + 1])[0]),
        ("dual quaternion", fd.dual_quaternion_skin(body, m[frame : frame + 1])[0]),
    )
    fig, axes = plt.subplots(1, 4, figsize=(9, 3.4))
    for col, (label, pts) in enumerate(shapes):
        pts = pts - [pts[:, 0].mean(), pts[:, 1].mean(), 0.0]
        for k, side in enumerate((False, True)):
            ax = axes[2 * col + k]
            draw_body(ax, pts, body.faces, side, np.array(body.color), body.stature, top=0.8)
            ax.set_title(f"{label}{' (side)' if side else ''}", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def previous_adaptation(motion: Motion, body: Body) -> Motion:
    """The actor's motion as adapted before the feet were pinned: the stride scaled by the ratio of pelvis
    joint heights, the joint angles untouched, the soles put on the floor."""
    scale = float(body.offsets()[0, 1] / motion.offsets[0, 1])
    trans = motion.translation.copy()
    trans[:, :2] = trans[0, :2] + scale * (trans[:, :2] - trans[0, :2])
    trans[:, 2] *= scale
    adapted = Motion(fps=motion.fps, rotations=motion.rotations, translation=trans, offsets=body.offsets())
    adapted.translation[:, 2] += ground_correction(adapted, body)[0]
    return adapted


def leg_speed(motion: Motion) -> float:
    """Peak angular speed of the hips, knees and ankles (degrees per second)."""
    r = motion.rotations[:, list(LEG_JOINTS)]
    return float(np.degrees(quat_angle(r[1:], r[:-1])).max() * motion.fps)


def foot_slide(inputs: dict[str, Motion], bodies: dict[int, Body]) -> dict:
    """Per input, over bodies: the worst extra slide of a planted foot joint per contact as adapted before
    (pelvis-height stride, no pinning) and now, the largest pinning shift, and the legs' peak angular speed
    against the input's."""
    out = {}
    for name, motion in inputs.items():
        before, now, pin, speed = [], [], [], []
        for body in bodies.values():
            old_scale = float(body.offsets()[0, 1] / motion.offsets[0, 1])
            old = previous_adaptation(motion, body)
            before.append(100 * fd.contact_slides(motion, old, old_scale).max(initial=0))
            actor = make_actor(motion, body)
            slides = fd.contact_slides(motion, actor.motion, actor.adaptation["scale"])
            now.append(100 * slides.max(initial=0))
            pin.append(100 * actor.adaptation["max_foot_pin_m"])
            speed.append(leg_speed(actor.motion) / max(leg_speed(motion), 1e-9))
        out[name] = {
            "contacts": int(len(fd.contact_slides(motion, motion))),
            "extra_slide_before_cm": round(float(max(before)), 2),
            "extra_slide_now_cm": round(float(max(now)), 3),
            "pin_max_cm": round(float(max(pin)), 2),
            "leg_speed_vs_input_max": round(float(max(speed)), 3),
        }
    return out


def render_feet(path: Path, body: Body) -> None:
    """Horizontal speed of the left ball of the foot over a walk and a run: the input (scaled to the body),
    the actor as adapted before, and now; the input's contacts shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.0))
    j = JOINT_INDEX["left_foot"]
    for ax, name in zip(axes, ("walk", "run"), strict=True):
        motion = make_motion(name, seed=3)
        actor = make_actor(motion, body)
        t = np.arange(motion.num_frames) / motion.fps
        planted = fd.planted_joints(motion.joint_positions(), motion.fps)[:, 0, 1]
        ax.fill_between(t, 0, 1, where=planted, color="0.9", transform=ax.get_xaxis_transform(), step="mid")
        shown = (
            ("input, scaled", motion, actor.adaptation["scale"], "0.2", "-"),
            ("before: pelvis-height stride", previous_adaptation(motion, body), 1.0, "tab:red", "-"),
            ("now: leg-length stride, feet pinned", actor.motion, 1.0, "tab:blue", "--"),
        )
        for label, m, k, color, style in shown:
            v = k * np.linalg.norm(np.gradient(m.joint_positions()[:, j, :2], axis=0), axis=1) * m.fps
            ax.plot(t, v, color=color, ls=style, lw=1.2, label=label)
        ax.set_ylim(0, 1.2)
        ax.set_xlabel("s")
        ax.set_ylabel("left ball of the foot, m/s")
        ax.set_title(f"{name}, {body.stature:.2f} m body (grey: the input's foot is planted)", fontsize=9)
    axes[0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--shared", type=Path, default=None, help="folder with humanml3d_joints_195f.npy etc.")
    ap.add_argument("--render", type=Path, default=None, help="write bind_vs_posed.png here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    actions = [a for a in ACTIONS if a in list_actions()]
    bodies = {seed: make_body("anny", seed) for seed in range(args.seeds)}
    result: dict = {"seeds": args.seeds, "statures_m": [round(b.stature, 3) for b in bodies.values()]}
    strain: dict = {}
    rigs = ("now", "mapped_weights", "full_swing")
    rise: dict = dict.fromkeys(rigs, 0.0)
    for name in actions:
        entry = {region: dict.fromkeys(rigs, 0.0) for region in ("torso", "collars")}
        worst = (-1.0, 0, 0)
        for seed, body in bodies.items():
            motion = make_motion(name, seed=seed)
            variants = (body, with_mapped_weights(body), full_swing(body))
            for rig, b in zip(rigs, variants, strict=True):
                adapted = make_actor(motion, b).motion
                s = strain_of(b, adapted)
                for region, values in s.items():
                    entry[region][rig] = max(entry[region][rig], round(float(values.max()), 4))
                if rig == "now" and s["torso"].max() > worst[0]:
                    worst = (float(s["torso"].max()), seed, int(np.argmax(s["torso"])))
                if name == "idle":
                    rise[rig] = max(rise[rig], round(100 * float(np.abs(shoulder_rise(b, adapted)).max()), 2))
        seed, frame = worst[1], worst[2]
        entry["worst_torso"] = {"seed": seed, "frame": frame}
        entry["decomposition"] = decomposition(
            bodies[seed], make_actor(make_motion(name, seed=seed), bodies[seed]).motion, frame
        )
        strain[name] = entry
    result["strain_p95"] = strain
    result["shoulder_rise_cm"] = rise
    grounding: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = ground_inputs(Path(tmp))
        if args.shared is not None:
            for file in sorted(args.shared.glob("*.npy")) + sorted(args.shared.glob("*.bvh")):
                inputs[f"shared:{file.name}"] = read_motion(file)
        for name, motion in inputs.items():
            errs, lows, planted = [], [], []
            for body in bodies.values():
                e, low, n = planted_error(body, make_actor(motion, body).motion)
                errs.append(e)
                lows.append(low)
                planted.append(n)
            grounding[name] = {
                "planted_max_abs_cm": round(100 * float(np.nanmax(errs)), 3),
                "lowest_over_clip_cm": round(100 * float(np.min(lows)), 3),
                "planted_frames_min": int(min(planted)),
            }
        # UsdSkel's own skinning on one actor.
        body = bodies[0]
        actor = make_actor(inputs["humanml3d_walk_below"], body)
        stage = open_stage(write_actor(actor, Path(tmp) / "actor.usd"))
        planted = np.flatnonzero(
            fd.planted_feet(actor.motion.joint_positions(), actor.motion.fps).any(axis=1)
        )
        usd_low = [usd_skinned_points(stage, "/Actor/Mesh", int(f))[:, 2].min() for f in planted]
        grounding["usd_check_humanml3d_walk_below_seed0_cm"] = round(100 * float(np.abs(usd_low).max()), 3)
        for extra in ("carry", "push", "jump"):
            inputs[extra] = make_motion(extra, seed=3)
        result["foot_slide"] = foot_slide(inputs, bodies)
    result["grounding"] = grounding
    result["dual_quaternion"] = dual_quaternion_report(bodies)
    result["relaxation_bound"], shapes = relaxation_bound(bodies, strain)
    result["alternatives"] = alternatives(bodies, strain)
    if args.render is not None:
        render(args.render / "bind_vs_posed.png", (8, 0))
        render_weights(args.render, (8, 0))
        render_dqs(args.render / "lbs_vs_dqs.png", 7)
        render_target(args.render / "strain_target.png", shapes)
        render_feet(args.render / "foot_slide.png", bodies[0])
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
