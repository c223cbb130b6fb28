"""Joint-angle poses: the :class:`Pose` container, key poses and their interpolation, Euler angles to
quaternions, and head stabilisation.

Angles are written in degrees per joint as extrinsic ``x, y, z`` rotations (``q = qx * qy * qz``) in SMPL's
body frame (+x the body's left, +y up, +z forward), *for the left side*; the right side is the mirror image
(y and z negated), so one number describes a symmetric pose. Useful signs: hip flexion (thigh forward) and
shoulder flexion (arm forward) are negative x; knee flexion and ankle plantar-flexion (toes down) are
positive x; lowering the arm from the T-pose is negative z; spine flexion (bending forward) is positive x; a
positive root x pitches the whole body forward. One-shot actions interpolate smooth key poses (monotone
cubic, C1, no overshoot).

Public (shared by the other library modules): :class:`Pose`, :func:`stand`, :func:`keyed` and
:func:`smoothstep` build the angle curves of both the gaits (:mod:`~usd_synth.motion.library.gait`) and the
one-shot actions (:mod:`~usd_synth.motion.library.actions`); :func:`rotations_from_pose` turns them into
quaternions for them and for the ground module's support-height search; :func:`stabilise_head` keeps the
gaze level in every action. Euler conversion and quaternion powers stay private.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

from usd_synth.kinematics import REST_ROOT_QUAT
from usd_synth.rotations import (
    quat_about,
    quat_conj,
    quat_mul,
    quat_pow,
)
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS

_J = JOINT_INDEX
_MIRROR = np.array([1.0, -1.0, -1.0])
_PAIRED = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist", "hand")


def _euler(deg: np.ndarray) -> np.ndarray:
    """Quaternions from extrinsic x, y, z angles in degrees (..., 3): ``qx * qy * qz`` (z applied first)."""
    r = np.radians(deg)
    qx = quat_about((1.0, 0.0, 0.0), r[..., 0])
    qy = quat_about((0.0, 1.0, 0.0), r[..., 1])
    qz = quat_about((0.0, 0.0, 1.0), r[..., 2])
    return quat_mul(qx, quat_mul(qy, qz))


class Pose:
    """Joint angles for frames or key poses: ``main`` (…, 24, 3) and ``pre`` (…, 24, 3), degrees.

    A joint's rotation is ``euler(main) * euler(pre)``: ``pre`` acts first, for the few cases where an
    extrinsic x-y-z order cannot say it (the upper-arm twist of a wave). Row 0 is the root's body-frame
    rotation (x pitch forward, y turn to the left, z roll to the right), applied after the heading and the
    rest rotation. Angles are given for the left side and mirrored for the right.
    """

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.main = np.zeros(shape + (NUM_JOINTS, 3))
        self.pre = np.zeros(shape + (NUM_JOINTS, 3))

    def copy(self) -> Pose:
        out = Pose()
        out.main, out.pre = self.main.copy(), self.pre.copy()
        return out

    def set(self, **spec: Any) -> Pose:
        """Set joints by name: ``hip=(x, y, z)`` sets both sides (mirrored), ``left_hip=`` / ``right_hip=``
        one side (written in left-side convention), ``pre_<name>`` the pre-rotation, ``root`` the root."""
        for key, value in spec.items():
            target = self.pre if key.startswith("pre_") else self.main
            name = key.removeprefix("pre_")
            v = np.asarray(value, dtype=np.float64)
            if name in _PAIRED:
                target[..., _J["left_" + name], :] = v
                target[..., _J["right_" + name], :] = v * _MIRROR
            elif name.startswith("right_"):
                target[..., _J[name], :] = v * _MIRROR
            elif name == "root":
                target[..., 0, :] = v
            else:
                target[..., _J[name], :] = v
        return self

    def add(self, joint: str, x: Any = 0.0, y: Any = 0.0, z: Any = 0.0, side_sign: float = 1.0) -> None:
        """Add per-frame angles to a joint (both sides for a paired name; ``side_sign`` -1 makes the
        right side move opposite to the left, e.g. contralateral swing, by negating its values)."""
        v = np.stack(np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (x, y, z))), axis=-1)
        if joint in _PAIRED:
            self.main[..., _J["left_" + joint], :] += v
            self.main[..., _J["right_" + joint], :] += side_sign * v * _MIRROR
        elif joint.startswith("right_"):
            self.main[..., _J[joint], :] += v * _MIRROR
        elif joint == "root":
            self.main[..., 0, :] += v
        else:
            self.main[..., _J[joint], :] += v


def stand() -> Pose:
    """A relaxed standing pose: arms hanging with the elbows slightly bent."""
    return Pose().set(shoulder=(2.0, 0.0, -74.0), elbow=(0.0, -14.0, 0.0), wrist=(0.0, 0.0, -5.0))


def keyed(t: np.ndarray, keys: Sequence[tuple[Any, ...]]) -> Pose:
    """Interpolate key poses at times ``t`` with quintic Hermite curves (C2): the slopes at the inner keys
    are the monotone (PCHIP) ones, so a joint does not overshoot a key it turns at, the slopes at the first
    and last key are zero. The angular acceleration is zero at the keys except where a joint turns back,
    which it does with the curvature of the neighbouring secants. A movement thus starts and ends as
    people move (a bell-shaped speed profile, as in minimum-jerk reaching): it eases in from rest and out
    into its held pose, and it turns back through a key without lingering there or stopping dead.

    A key is ``(time, pose)`` or ``(time, pose, velocity)``: ``velocity`` (a :class:`Pose` of degrees per
    second; NaN entries keep the automatic slope) overrides the slope there, e.g. a fall that is still
    fast when the body meets the ground.
    """
    times = np.array([k[0] for k in keys], dtype=np.float64)
    order = np.argsort(times, kind="stable")
    times = times[order]
    if np.any(np.diff(times) <= 0):
        # Coinciding keys: keep their order, make the times strictly increasing.
        times = times + np.arange(len(times)) * 1e-6
    out = Pose((len(t),))
    tt = np.clip(t, times[0], times[-1])
    seg = np.clip(np.searchsorted(times, tt, side="right") - 1, 0, max(len(times) - 2, 0))
    for attr in ("main", "pre"):
        values = np.stack([getattr(keys[i][1], attr) for i in order])
        if len(times) < 2:
            setattr(out, attr, np.broadcast_to(values[0], (len(t),) + values.shape[1:]).copy())
            continue
        slopes = PchipInterpolator(times, values, axis=0).derivative()(times)
        slopes[0] = slopes[-1] = 0.0
        # Where a joint turns back (the secants on either side have opposite signs) it does so with the
        # curvature of the two secants; elsewhere (holds, pass-throughs, the ends) with none.
        secant = np.diff(values, axis=0) / np.diff(times)[:, None, None]
        accel = np.zeros_like(values)
        curvature = 2 * (secant[1:] - secant[:-1]) / (times[2:] - times[:-2])[:, None, None]
        accel[1:-1] = np.where(secant[:-1] * secant[1:] < 0, curvature, 0.0)
        for rank, i in enumerate(order):
            if len(keys[i]) > 2 and keys[i][2] is not None:
                given = getattr(keys[i][2], attr)
                slopes[rank] = np.where(np.isnan(given), slopes[rank], given)
                accel[rank] = np.where(np.isnan(given), accel[rank], 0.0)
        span = (times[seg + 1] - times[seg])[:, None, None]
        s = ((tt - times[seg])[:, None, None] / span).clip(0.0, 1.0)
        s2, s3, s4, s5 = s**2, s**3, s**4, s**5
        h0 = 1 - 10 * s3 + 15 * s4 - 6 * s5
        h1 = s - 6 * s3 + 8 * s4 - 3 * s5
        h2 = 0.5 * s2 - 1.5 * s3 + 1.5 * s4 - 0.5 * s5
        h3 = -4 * s3 + 7 * s4 - 3 * s5
        h5 = 0.5 * s3 - s4 + 0.5 * s5
        curve = (
            h0 * values[seg]
            + (1 - h0) * values[seg + 1]
            + span * (h1 * slopes[seg] + h3 * slopes[seg + 1])
            + span**2 * (h2 * accel[seg] + h5 * accel[seg + 1])
        )
        setattr(out, attr, curve)
    return out


def velocity(a: Pose, b: Pose, seconds: float, gain: float = 1.0) -> Pose:
    """The constant angular velocity (a :class:`Pose` of degrees per second) that takes pose ``a`` to ``b`` in
    ``seconds``, times ``gain``: a key velocity for :func:`keyed`."""
    out = Pose()
    out.main = gain * (b.main - a.main) / seconds
    out.pre = gain * (b.pre - a.pre) / seconds
    return out


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 → 1 with zero slope at both ends (C1), clipped outside [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def rotations_from_pose(pose: Pose, heading: float) -> np.ndarray:
    """Local quaternions (T, 24, 4) of a pose; the root gets the heading and the rest (stand-up) rotation."""
    q = quat_mul(_euler(pose.main), _euler(pose.pre))
    yaw = quat_about((0.0, 0.0, 1.0), math.radians(heading))
    q[:, 0] = quat_mul(quat_mul(yaw, REST_ROOT_QUAT), q[:, 0])
    return q


def stabilise_head(q: np.ndarray, heading: float, strength: float) -> np.ndarray:
    """Turn the neck and head toward an upright, forward gaze (as people do: the eyes keep level while the
    trunk sways); ``strength`` 1 cancels the trunk's rotation fully, shared 40/60 by neck and head."""
    q = q.copy()
    target = quat_mul(quat_about((0.0, 0.0, 1.0), math.radians(heading)), REST_ROOT_QUAT)
    world = q[:, 0]
    for j in (_J["spine1"], _J["spine2"], _J["spine3"]):
        world = quat_mul(world, q[:, j])
    for j, share in ((_J["neck"], 0.4), (_J["head"], 1.0)):
        desired = quat_mul(quat_conj(world), np.broadcast_to(target, world.shape))
        desired = np.where(desired[:, 3:4] < 0, -desired, desired)
        correction = quat_pow(quat_mul(quat_conj(q[:, j]), desired), strength * share)
        q[:, j] = quat_mul(q[:, j], correction)
        world = quat_mul(world, q[:, j])
    return q
