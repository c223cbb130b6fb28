"""Retargeting 3D joint positions onto SMPL-24 rotations, in closed form (no per-frame optimizer).

For every joint we build an orthonormal frame from the data and the same frame in the rest pose; the
joint's world rotation is the rotation between the two, ``G = F_obs @ F_rest.T``:

* joints with several children in the data (pelvis: hips + spine; spine3: neck + collars) take their frame
  from the children's positions (left-right axis, then up);
* joints with one child take the bone direction as one axis and a *side* vector for the twist about it:
  for hips and shoulders the hinge axis of the limb (thigh x shin, upper arm x forearm), followed frame by
  frame in the parent's frame: the previous side is carried to the new bone direction without twist
  (parallel transport) and turned towards the hinge by the hinge's confidence (how bent the limb is), at
  most :data:`TWIST_RATE` degrees per second while the limb swings slowly. A straight limb keeps its twist,
  a noisy or flipping hinge cannot spin it, and the twist is continuous in time (no pops);
* joints whose child the input lacks keep their parent's orientation (identity local rotation), and
  joints the input lacks are placed from the template skeleton scaled to the person.

Bone lengths are measured once per sequence (median), so the skeleton is sized to the motion. The only
residual comes from bones whose length varies in the input; it is reported as MPJPE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import rest_positions_from_offsets, world_to_local
from usd_synth.motion.model import Motion, forward_kinematics
from usd_synth.rotations import matrix_to_quat
from usd_synth.skeleton import JOINT_INDEX as J
from usd_synth.skeleton import NUM_JOINTS, SMPL_PARENTS, template_offsets

_X = np.array([1.0, 0.0, 0.0])
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])

#: Hinged limbs: joint -> (child, grandchild, rest hinge axis). Elbows bend the forearm forward, knees
#: bend the shin backward; the hinge axis in the rest frame follows from that.
_HINGES = {
    J["left_hip"]: (J["left_knee"], J["left_ankle"], _X),
    J["right_hip"]: (J["right_knee"], J["right_ankle"], _X),
    J["left_knee"]: (J["left_ankle"], None, _X),
    J["right_knee"]: (J["right_ankle"], None, _X),
    J["left_shoulder"]: (J["left_elbow"], J["left_wrist"], -_Y),
    J["right_shoulder"]: (J["right_elbow"], J["right_wrist"], _Y),
    J["left_elbow"]: (J["left_wrist"], None, -_Y),
    J["right_elbow"]: (J["right_wrist"], None, _Y),
    J["left_wrist"]: (J["left_hand"], None, -_Y),
    J["right_wrist"]: (J["right_hand"], None, _Y),
}

#: Rest side vector of the other single-child joints (their twist follows a reference axis).
_SIDE = {
    J["spine1"]: _X,
    J["spine2"]: _X,
    J["spine3"]: _X,
    J["neck"]: _X,
    J["head"]: _X,
    J["left_ankle"]: _X,
    J["right_ankle"]: _X,
    J["left_collar"]: _Z,
    J["right_collar"]: _Z,
}


_TWIST_BEND_LOW = np.sin(np.radians(8.0))
_TWIST_BEND_HIGH = np.sin(np.radians(25.0))
#: deg/s: the fastest a hinged limb's twist follows its hinge while the limb turns slower than
#: :data:`TWIST_SWING_FREE`; a limb swinging faster may twist faster by the excess.
TWIST_RATE = 300.0
TWIST_SWING_FREE = 180.0

#: Joints whose frame comes from several children: joint -> (left child, right child, up child).
_MULTI = {
    J["pelvis"]: (J["left_hip"], J["right_hip"], J["spine1"]),
    J["spine3"]: (J["left_collar"], J["right_collar"], J["neck"]),
}


@dataclass
class RetargetResult:
    """A retargeted motion and how closely it reproduces its input."""

    motion: Motion
    mpjpe: float  #: mean per-joint position error (m) over the joints the input has
    per_joint: np.ndarray  #: (24,) mean error per joint, NaN for joints the input lacks


def _normalize(v: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def _orthonormal_frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Frames (..., 3, 3) whose columns are (primary, secondary made orthogonal, primary x secondary).

    With primary = a left-right axis and secondary = up, this is a body frame's (x, y, z).
    """
    a = _normalize(primary)
    s = secondary - np.sum(secondary * a, axis=-1, keepdims=True) * a
    s = _normalize(s)
    return np.stack([a, s, np.cross(a, s)], axis=-1)


def _kabsch(local: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) that best map the rest vectors ``local`` (C, 3) onto ``world`` (T, C, 3)."""
    h = np.einsum("ci,tcj->tij", local, world)  # cross-covariance, rest x world
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, 1, 2) @ np.swapaxes(u, 1, 2)))
    vt[:, 2] *= d[:, None]  # no reflections
    return np.swapaxes(vt, 1, 2) @ np.swapaxes(u, 1, 2)


def _hold_hinge(
    hinge: np.ndarray, weight: np.ndarray, parent_world: np.ndarray, rest_side: np.ndarray
) -> np.ndarray:
    """Hinge axis for frames where the limb is too straight to define one.

    The hinge is expressed in the parent's frame, and frames where it is unreliable take it interpolated
    in time from the nearest reliable frames (held at the ends). So a limb that straightens keeps the
    twist it had rather than snapping to a default; with no reliable frame at all, the rest side is used.
    """
    reliable = weight > 0.5
    if not reliable.any():
        return parent_world @ rest_side
    local = np.einsum("tji,tj->ti", parent_world, hinge)  # parent_world^T @ hinge
    if not reliable.all():
        frames = np.arange(len(weight))
        known = frames[reliable]
        local = np.stack([np.interp(frames, known, local[reliable, k]) for k in range(3)], axis=-1)
        local = _normalize(local + 1e-9 * rest_side)
    return np.einsum("tij,tj->ti", parent_world, local)


def _continuous_side(
    bone: np.ndarray,
    hinge: np.ndarray,
    weight: np.ndarray,
    held: np.ndarray,
    parent_world: np.ndarray,
    fps: float,
) -> np.ndarray:
    """(T, 3) side vector of a hinged limb whose twist is continuous in time.

    Works in the parent's frame, frame by frame: the previous side is carried to the new bone direction by
    the smallest rotation (parallel transport, which adds no twist), then turned about the bone towards
    the hinge axis (whichever of its two signs is nearer) by the hinge's confidence ``weight`` times the
    angle between them, but never faster than :data:`TWIST_RATE` (plus, for a limb swinging faster than
    :data:`TWIST_SWING_FREE`, the excess of its swing).
    A straight or noisy hinge therefore cannot spin the limb, and a clearly bent limb follows its hinge.
    ``held`` (:func:`_hold_hinge`) gives the first frame's side.
    """
    to_local = np.swapaxes(parent_world, -1, -2)
    b = _normalize(np.einsum("tij,tj->ti", to_local, bone))
    h = _normalize(np.einsum("tij,tj->ti", to_local, hinge))
    s0 = np.einsum("ij,j->i", to_local[0], held[0])
    step_limit = float(np.radians(TWIST_RATE) / fps)
    swing_free = float(np.radians(TWIST_SWING_FREE) / fps)
    conf = [float(x) for x in weight]
    # Plain floats: this loop runs once per frame and limb, where numpy's per-call overhead would dominate.
    out = []
    sx, sy, sz = (float(x) for x in s0)
    px, py, pz = (float(x) for x in b[0])
    for (vx, vy, vz), (hx, hy, hz), wt in zip(b.tolist(), h.tolist(), conf, strict=True):
        c = px * vx + py * vy + pz * vz
        if c > -0.99:  # transport: the smallest rotation taking the previous bone onto this one
            kx, ky, kz = py * vz - pz * vy, pz * vx - px * vz, px * vy - py * vx
            ax, ay, az = ky * sz - kz * sy, kz * sx - kx * sz, kx * sy - ky * sx  # k x s
            bx, by, bz = ky * az - kz * ay, kz * ax - kx * az, kx * ay - ky * ax  # k x (k x s)
            f = 1.0 / (1.0 + c)
            sx, sy, sz = sx + ax + bx * f, sy + ay + by * f, sz + az + bz * f
        d = sx * vx + sy * vy + sz * vz
        sx, sy, sz = sx - d * vx, sy - d * vy, sz - d * vz
        n = max(math.sqrt(sx * sx + sy * sy + sz * sz), 1e-12)
        sx, sy, sz = sx / n, sy / n, sz / n
        if wt > 0.0:
            if hx * sx + hy * sy + hz * sz < 0.0:
                hx, hy, hz = -hx, -hy, -hz
            # v x s, the direction the side turns in about the bone
            cx, cy, cz = vy * sz - vz * sy, vz * sx - vx * sz, vx * sy - vy * sx
            angle = math.atan2(cx * hx + cy * hy + cz * hz, sx * hx + sy * hy + sz * hz)
            limit = step_limit + max(0.0, math.acos(min(max(c, -1.0), 1.0)) - swing_free)
            delta = min(max(wt * angle, -limit), limit)
            cd, sd = math.cos(delta), math.sin(delta)
            sx, sy, sz = cd * sx + sd * cx, cd * sy + sd * cy, cd * sz + sd * cz
        out.append((sx, sy, sz))
        px, py, pz = vx, vy, vz
    out = np.array(out)
    return np.einsum("tij,tj->ti", parent_world, out)


def _bend_weight(bone: np.ndarray, child_bone: np.ndarray) -> np.ndarray:
    """0 for a straight limb (hinge axis undefined), 1 once it is clearly bent, smooth in between."""
    s = np.linalg.norm(np.cross(_normalize(bone), _normalize(child_bone)), axis=-1)
    t = np.clip((s - _TWIST_BEND_LOW) / (_TWIST_BEND_HIGH - _TWIST_BEND_LOW), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def retarget_positions(
    positions: np.ndarray,
    fps: float,
    observed: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    end_sites: dict[int, np.ndarray] | None = None,
    label: str = "",
    source: dict | None = None,
    refine: bool = False,
) -> RetargetResult:
    """Fit SMPL-24 rotations, root translation and bone lengths to world joint positions.

    Args:
        positions: (T, 24, 3) joint positions in the Z-up world, metres; rows of missing joints ignored.
        fps: frame rate of the input.
        observed: (24,) bool, which joints have data (default: all). Missing joints get template offsets
            scaled to the person and identity local rotations.
        measured: (24,) bool, joints whose positions are real measurements and count in the residual
            (default: ``observed``); joints synthesized by a reader from others are observed, not measured.
        end_sites: joint -> (T, 3) positions of a point fixed to a leaf joint (e.g. the top of the head);
            it orients the leaf and counts in the residual.
        label, source: carried into the Motion.
        refine: follow the closed form with a torch refinement (:mod:`usd_synth.motion.refine`).
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[1:] != (NUM_JOINTS, 3):
        raise UsdSynthError(f"retargeting needs (T, 24, 3) positions, got {pos.shape}")
    t_len = pos.shape[0]
    if t_len == 0:
        raise UsdSynthError("motion has no frames")
    obs = np.ones(NUM_JOINTS, bool) if observed is None else np.asarray(observed, bool)
    meas = obs.copy() if measured is None else np.asarray(measured, bool) & obs
    end_sites = end_sites or {}
    if not obs[0]:
        raise UsdSynthError("retargeting needs the pelvis")
    for j in range(1, NUM_JOINTS):
        if obs[j] and not obs[SMPL_PARENTS[j]]:
            raise UsdSynthError(f"joint {j} is present but its parent {SMPL_PARENTS[j]} is not")
    if not np.all(np.isfinite(pos[:, obs])):
        raise UsdSynthError("joint positions contain NaN or infinite values")

    tmpl = template_offsets()
    offsets = tmpl.copy()
    has_offset = np.zeros(NUM_JOINTS, bool)
    kids_of = {j: [int(c) for c in np.nonzero(j == SMPL_PARENTS)[0] if obs[c]] for j in range(NUM_JOINTS)}
    multi = {j: k for j, k in _MULTI.items() if all(obs[c] for c in k)}
    if J["pelvis"] not in multi:
        raise UsdSynthError("retargeting needs both hips and the spine to orient the pelvis")

    # 1. The per-sequence skeleton. Single bones: median length along the template's rest direction.
    #    Joints with several children: their children's mean positions in the joint's own fitted frame.
    multi_points: dict[int, list[int]] = {}  # points that orient each multi-child joint
    multi_local: dict[int, np.ndarray] = {}  # their mean positions in the joint's rest frame
    across: dict[int, np.ndarray] = {}  # (T, 3) left-to-right axis of each multi-child joint
    rest_tmpl = rest_positions_from_offsets(tmpl)
    for j in range(NUM_JOINTS):
        if j in multi:
            left, right, up = multi[j]
            points = [left, right, up]
            side_l, side_r = left, right
            width = np.median(np.linalg.norm(pos[:, left] - pos[:, right], axis=-1))
            height = np.median(np.linalg.norm(pos[:, up] - pos[:, j], axis=-1))
            if width < 0.3 * height and kids_of[left] and kids_of[right]:
                # Left and right children (e.g. collars drawn at the neck base, as some mocap rigs do)
                # are too close to give a left-right axis: their children (the shoulders) give it.
                side_l, side_r = kids_of[left][0], kids_of[right][0]
                points += [side_l, side_r]
            across[j] = pos[:, side_l] - pos[:, side_r]
            d = np.stack([pos[:, c] - pos[:, j] for c in points], axis=1)
            f_obs = _orthonormal_frame(across[j], d[:, 2])
            f_rest = _orthonormal_frame(rest_tmpl[side_l] - rest_tmpl[side_r], tmpl[up])
            g = f_obs @ f_rest.T
            for _ in range(3):  # alternate: offsets in the frame, then the best frame for the offsets
                local_d = np.einsum("tji,tcj->tci", g, d).mean(axis=0)
                g = _kabsch(local_d, d)
            local_d = np.einsum("tji,tcj->tci", g, d).mean(axis=0)
            multi_points[j], multi_local[j] = points, local_d
            for c, off in zip(points[:3], local_d[:3], strict=True):
                offsets[c] = off
                has_offset[c] = True
        elif obs[j] and j not in end_sites and len(kids_of[j]) == 1:
            c = kids_of[j][0]
            offsets[c] = _normalize(tmpl[c]) * np.median(np.linalg.norm(pos[:, c] - pos[:, j], axis=-1))
            has_offset[c] = True
    # Joints the input lacks: template offsets scaled to the person (ratio of measured to template lengths).
    fitted = [j for j in range(1, NUM_JOINTS) if has_offset[j]]
    scale = float(
        np.linalg.norm(offsets[fitted], axis=-1).sum() / np.linalg.norm(tmpl[fitted], axis=-1).sum()
    )
    for j in range(1, NUM_JOINTS):
        if not has_offset[j]:
            offsets[j] = tmpl[j] * scale
    offsets[0] = 0.0
    rest = rest_positions_from_offsets(offsets)
    offsets[0] = [0.0, -min(rest[J["left_foot"], 1], rest[J["right_foot"], 1]) + 0.02 * scale, 0.0]
    site_rest = {j: _Y * np.median(np.linalg.norm(s - pos[:, j], axis=-1)) for j, s in end_sites.items()}

    # 2. World rotations, root to leaves. Each bone aims from the *reconstructed* parent position at the
    #    observed child, so an error at one joint is corrected at the next instead of accumulating. This is
    #    a solve down the tree, not forward kinematics: a joint's rotation is only known once its
    #    position is, so the chain (kinematics.local_to_world) runs afterwards, on the result.
    world = np.empty((t_len, NUM_JOINTS, 3, 3))
    fk = np.empty_like(pos)
    fk[:, 0] = pos[:, 0]
    for j in range(NUM_JOINTS):
        if j > 0:
            p = SMPL_PARENTS[j]
            fk[:, j] = fk[:, p] + world[:, p] @ offsets[j]
        parent_world = world[:, SMPL_PARENTS[j]] if j > 0 else None
        if j in multi:
            d = np.stack([pos[:, c] - fk[:, j] for c in multi_points[j]], axis=1)
            world[:, j] = _kabsch(multi_local[j], d)
            continue
        if j in end_sites and obs[j]:
            target, rest_dir = end_sites[j] - fk[:, j], _Y
        elif len(kids_of[j]) == 1 and obs[j]:
            c = kids_of[j][0]
            target, rest_dir = pos[:, c] - fk[:, j], _normalize(tmpl[c])
        else:
            world[:, j] = parent_world  # leaf or child missing: keep the parent's orientation
            continue
        if j in _HINGES:
            child, grandchild, rest_side = _HINGES[j]
            if grandchild is not None and obs[grandchild]:
                limb_next = pos[:, grandchild] - pos[:, child]
                hinge = _normalize(np.cross(target, limb_next))
                w = _bend_weight(target, limb_next)
                held = _hold_hinge(hinge, w, parent_world, rest_side)
                side = _continuous_side(target, hinge, w, held, parent_world, fps)
            else:
                # Knees, elbows and wrists share the hinge axis found at their parent.
                side = parent_world @ rest_side
        else:
            rest_side = _SIDE.get(j, _X)
            if j in (J["spine1"], J["spine2"]) and J["spine3"] in multi:
                # Spread the twist between pelvis and chest over the two lower spine joints.
                chest = _orthonormal_frame(across[J["spine3"]], pos[:, J["neck"]] - pos[:, J["spine3"]])
                k = 1.0 / 3.0 if j == J["spine1"] else 2.0 / 3.0
                side = (1 - k) * (world[:, 0] @ _X) + k * chest[..., 0]
            else:
                side = parent_world @ rest_side
        # Guard against a side vector parallel to the bone (degenerate twist): nudge with the parent's z.
        side = side + 1e-6 * (parent_world @ _Z)
        f_obs = _orthonormal_frame(target, side)
        f_rest = _orthonormal_frame(rest_dir[None], rest_side[None])[0]
        world[:, j] = f_obs @ f_rest.T

    local, _ = world_to_local(world, fk)
    quats = matrix_to_quat(local)
    motion = Motion(
        fps=fps,
        rotations=quats,
        translation=pos[:, 0].copy(),
        offsets=offsets,
        label=label,
        source=dict(source or {}),
    )

    world_r, fk = forward_kinematics(motion.rotations, motion.translation, motion.offsets)
    err = np.linalg.norm(fk - pos, axis=-1)
    per_joint = np.full(NUM_JOINTS, np.nan)
    per_joint[meas] = err[:, meas].mean(axis=0)
    errors = [err[:, meas]]
    for j, site in end_sites.items():
        errors.append(np.linalg.norm(fk[:, j] + world_r[:, j] @ site_rest[j] - site, axis=-1)[:, None])
    mpjpe = float(np.mean(np.concatenate(errors, axis=1)))
    motion.source["residual_mpjpe_m"] = round(mpjpe, 6)
    if refine:
        from usd_synth.motion.refine import refine_retarget

        motion, mpjpe = refine_retarget(motion, pos, meas, end_sites)
        err = np.linalg.norm(motion.joint_positions() - pos, axis=-1)
        per_joint[meas] = err[:, meas].mean(axis=0)
    return RetargetResult(motion=motion, mpjpe=mpjpe, per_joint=per_joint)
