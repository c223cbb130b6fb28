"""Feet that stay where they stand: two-bone leg IK and foot pinning, on any SMPL-24 skeleton.

Two places need them. The built-in library (:mod:`usd_synth.motion.library.ground`) pins the feet of its
generated motions where they touch the ground. Binding a motion to a body (:mod:`usd_synth.body.actor`)
gives it other bone lengths and proportions under the same joint angles, so a foot that stood still in the
source would slide in the actor (before the stride was scaled by leg length and the feet pinned: up to
7 cm more per step than the source's on a walk, 5 cm on a run, over bodies of seeds 0-9). Both pin the
feet the same way (:func:`pin_feet`):

1. per foot, a contact weight per frame (how firmly the ankle and the ball of the foot are planted) and
   the velocity the planted joints *should* have (zero on the ground; the source's, scaled, for an actor);
2. a horizontal offset that cancels the difference while the foot is planted. The library's
   (:func:`pin_offsets`, soft contacts from joint heights) relaxes to zero in the air with a time constant
   and is smoothed over a few frames; an actor's (:func:`hold_offsets`, contacts from its source) takes up
   every step exactly and returns to zero in the air along a cubic that leaves and lands with the
   offset's own speed;
3. a two-bone IK on hip and knee moves the ankle by that offset at its own height; the ankle keeps the
   foot's world orientation (:func:`leg_ik`).

Only the legs below the pelvis change; the pelvis path, the joint heights the IK is asked for and every
other joint stay as they were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

from usd_synth.kinematics import local_to_world
from usd_synth.motion.model import forward_kinematics
from usd_synth.rotations import matrix_to_quat, quat_about, quat_apply, quat_conj, quat_mul, quat_to_matrix
from usd_synth.skeleton import JOINT_INDEX, SMPL_PARENTS

#: The sides, in the order of the contact arrays' side axis (each: ankle, then ball of the foot).
SIDES = ("left", "right")
#: s; time constant with which a pin relaxes once the foot is in the air.
PIN_RELAX = 0.08
#: s; the pin's offset is smoothed over this (a Gaussian's sigma), so it eases in and out.
PIN_SMOOTH = 0.03
#: s; longest a held foot's offset takes to ease out in the air when no touch-down follows.
HOLD_EASE = 0.3
#: Softness of the leg IK's reach limit (in the cosine of the knee angle).
IK_SOFT = 0.0035


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The shortest-arc quaternions turning vectors ``a`` into ``b`` (..., 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    q = np.concatenate([np.cross(a, b), 1.0 + np.sum(a * b, axis=-1, keepdims=True)], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def world_quats(q: np.ndarray, joints: Sequence[int]) -> dict[int, np.ndarray]:
    """World rotations (quaternions, T x 4) of ``joints`` and all their ancestors, from the project's one
    kinematic chain (:func:`usd_synth.kinematics.local_to_world`)."""
    world_r, _ = local_to_world(quat_to_matrix(q), np.zeros((len(SMPL_PARENTS), 3)))
    needed: set[int] = set()
    for j in joints:
        while j >= 0 and j not in needed:
            needed.add(j)
            j = int(SMPL_PARENTS[j])
    return {j: matrix_to_quat(world_r[:, j]) for j in sorted(needed)}


def leg_ik(
    q: np.ndarray,
    pos: np.ndarray,
    offsets: np.ndarray,
    side: str,
    target: np.ndarray,
    relative: bool = False,
) -> np.ndarray:
    """Two-bone IK: turn hip and knee so that the ankle reaches ``target`` (T, 3, world), the knee bending
    forward (never hyperextended), and keep the ankle's world orientation (the foot keeps its pitch).

    ``pos`` are the world joint positions of ``q``; returns corrected local rotations (a copy). With
    ``relative`` the knee turns by the *change* of flexion the new target asks for (solved for the target
    and for the ankle where it is, through the same soft reach limit), so a target where the ankle already
    is changes nothing, even on a straight knee: for motions whose knees must keep their angles wherever
    the feet need no correction (an actor's), where the absolute solve would move every near-straight knee
    (the reach limit keeps it up to 4 degrees short of straight). In that mode the knee also never
    straightens past its rest angle (SMPL's straight knee, flexion 0) unless it already was.
    """
    q = q.copy()
    hip, knee, ankle = (JOINT_INDEX[f"{side}_{n}"] for n in ("hip", "knee", "ankle"))
    wq = world_quats(q, (ankle,))
    parent_of_hip, w_hip, w_ankle = wq[0], wq[hip], wq[ankle]
    o1, o2 = offsets[knee], offsets[ankle]
    # Knee: solve |o1 + Rx(theta) o2| = |target - hip| for theta, near the current flexion.
    a = o1[0] * o2[0]
    b = o1[1] * o2[1] + o1[2] * o2[2]
    c = o1[2] * o2[1] - o1[1] * o2[2]
    r, phi = math.hypot(b, c), math.atan2(c, b)

    def flexion(reach: np.ndarray) -> np.ndarray:
        d2 = np.sum(reach**2, axis=-1)
        cos_arg = np.clip((0.5 * (d2 - o1 @ o1 - o2 @ o2) - a) / r, -1.0, None)
        # A target out of reach straightens the knee smoothly to about 4 degrees short of straight (a soft
        # ceiling under 1, so the knee never snaps straight and back), and the knee always bends forward.
        cos_arg = 1.0 - IK_SOFT * np.logaddexp(0.0, (1.0 - cos_arg) / IK_SOFT)
        return phi + np.arccos(cos_arg)

    theta = flexion(target - pos[:, hip])
    current = 2 * np.arctan2(q[:, knee, 0], q[:, knee, 3])
    if relative:
        change = theta - flexion(pos[:, ankle] - pos[:, hip])
        # A knee never straightens past its rest angle (SMPL's straight knee), nor past where it already is
        # if that is further; the flexion is read from the quaternion in either sign (wrapped to a half turn).
        current = np.mod(current + np.pi, 2 * np.pi) - np.pi
        change = np.maximum(change, np.minimum(current, 0.0) - current)
    else:
        change = theta - current
    q_knee = quat_mul(quat_about((1.0, 0.0, 0.0), change), q[:, knee])
    # Hip: turn the thigh so the hip-to-ankle vector points at the target.
    leg_now = quat_apply(w_hip, o1 + quat_apply(q_knee, np.broadcast_to(o2, (len(q), 3))))
    turn = rotation_between(leg_now, target - pos[:, hip])
    new_w_hip = quat_mul(turn, w_hip)
    q[:, hip] = quat_mul(quat_conj(parent_of_hip), new_w_hip)
    q[:, knee] = q_knee
    new_w_knee = quat_mul(new_w_hip, q_knee)
    q[:, ankle] = quat_mul(quat_conj(new_w_knee), w_ankle)
    return q


def pin_offsets(
    velocity: np.ndarray,
    weight: np.ndarray,
    fps: float,
    tau: float = PIN_RELAX,
    smooth: float = PIN_SMOOTH,
) -> np.ndarray:
    """(T, 2) horizontal offsets that cancel a foot's unwanted slide: ``velocity`` (T, 2) is how fast the
    planted joints move beyond what they should, ``weight`` (T,) in [0, 1] how firmly the foot is planted.
    The offset accumulates minus the slide while planted and relaxes with time constant ``tau`` otherwise;
    then it is smoothed (a Gaussian of ``smooth`` seconds) so it starts and stops without a jerk."""
    dt = 1.0 / fps
    offset = np.zeros((len(velocity), 2))
    for f in range(1, len(velocity)):
        offset[f] = offset[f - 1] - dt * (weight[f] * velocity[f] + (1 - weight[f]) * offset[f - 1] / tau)
    return gaussian_filter1d(offset, smooth * fps, axis=0, mode="nearest") if smooth > 0 else offset


def hold_offsets(
    step: np.ndarray, planted: np.ndarray, fps: float, longest_ease: float = HOLD_EASE
) -> np.ndarray:
    """(T, 2) horizontal offsets that hold a foot exactly: ``step`` (T, 2) is how far its planted joints
    moved since the previous frame beyond what they should, ``planted`` (T,) whether the foot is down.

    While the foot is down the offset takes up every step, so the foot moves exactly as it should; it is
    zero on the frame the foot lands. In the air it goes from its value at lift-off to zero at the next
    touch-down along a cubic (Hermite) curve that leaves with the offset's speed at lift-off and arrives
    with its speed after touch-down, so the legs' motion has no kink at either instant; with no touch-down
    to come it eases to zero within ``longest_ease`` seconds.
    """
    n = len(step)
    offset = np.zeros((n, 2))
    down = np.asarray(planted, dtype=bool)
    f = 0
    while f < n:
        if down[f]:
            offset[f] = offset[f - 1] - step[f] if f > 0 and down[f - 1] else 0.0
            f += 1
            continue
        # an interval in the air, frames f .. end - 1: from (value, speed) at lift-off (frame f - 1) to
        # (0, speed of the first held step) at touch-down (frame end)
        end = f
        while end < n and not down[end]:
            end += 1
        value = offset[f - 1] if f > 0 else np.zeros(2)
        leave = offset[f - 1] - offset[f - 2] if f > 1 and down[f - 2] else np.zeros(2)
        arrive = -step[end + 1] if end + 1 < n and down[end + 1] else np.zeros(2)
        if end >= n:  # no touch-down: ease out, arriving at rest
            span, arrive = min(end - f + 1, max(int(round(longest_ease * fps)), 1)), np.zeros(2)
        else:
            span = end - f + 1
        u = np.clip(np.arange(1, end - f + 1) / span, 0.0, 1.0)[:, None]
        h00, h10, h11 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u, u**3 - u**2
        offset[f:end] = h00 * value + span * (h10 * leave + h11 * arrive)
        f = end
    return offset


def pin_feet(
    q: np.ndarray,
    root: np.ndarray,
    offsets: np.ndarray,
    fps: float,
    planted: np.ndarray,
    wanted_velocity: np.ndarray | None = None,
    hold: bool = False,
    tau: float = PIN_RELAX,
) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (T, 24, 4) with the feet pinned, and the (T, 2, 2) offsets applied to each ankle.

    ``planted`` (T, 2, 2): per side (left, right) and joint (ankle, ball of the foot), how firmly it is
    planted, 0..1. ``wanted_velocity`` (T, 2, 2, 2): the horizontal velocity each planted joint should
    have (default zero: standing still; with ``hold``, as a backward difference: frame f's is the step
    from frame f - 1, times ``fps``). A foot's slide is the contact-weighted velocity of its planted
    joints beyond the wanted one, and :func:`leg_ik` moves the ankle by the offset that cancels it, at its
    own height. Two ways to build that offset:

    * default (generated motions, soft contacts from joint heights): :func:`pin_offsets`, relaxing with
      ``tau`` in the air and smoothed; the IK solves the knee outright;
    * ``hold`` (an actor: contacts from its source, a motion whose feet already move as they should):
      :func:`hold_offsets` from frame-to-frame steps, so planted joints move exactly as wanted, and the IK
      turns the knee only by the change the offset asks for (``relative``), leaving every frame that needs
      no offset as it was.
    """
    q = np.array(q, dtype=np.float64)
    n = len(q)
    applied = np.zeros((n, 2, 2))
    if n < 2:
        return q, applied
    planted = np.asarray(planted, dtype=np.float64)
    if wanted_velocity is None:
        wanted_velocity = np.zeros((n, 2, 2, 2))
    _, pos = forward_kinematics(q, root, offsets)
    if hold:  # the step from the previous frame, as a velocity (none for the first frame)
        vel = np.diff(pos[..., :2], axis=0, prepend=pos[:1, :, :2]) * fps
    else:
        vel = np.gradient(pos[..., :2], 1.0 / fps, axis=0)
    for s, side in enumerate(SIDES):
        joints = [JOINT_INDEX[f"{side}_ankle"], JOINT_INDEX[f"{side}_foot"]]
        w = planted[:, s]  # (T, 2)
        slide = vel[:, joints] - wanted_velocity[:, s]  # (T, 2 joints, 2)
        total = w.sum(axis=1)
        v = (w[..., None] * slide).sum(axis=1) / (total + 1e-9)[:, None]
        if hold:
            offset = hold_offsets(v / fps, total > 0, fps)
        else:
            offset = pin_offsets(v, np.clip(total, 0.0, 1.0), fps, tau)
        target = pos[:, joints[0]].copy()
        target[:, :2] += offset
        q = leg_ik(q, pos, offsets, side, target, relative=hold)
        applied[:, s] = offset
    return q, applied
