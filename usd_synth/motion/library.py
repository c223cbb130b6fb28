"""The built-in procedural motion library: walk, run, jump, wave, squat, fall_down and more.

Each action is generated in three steps, so that every clip respects the ground without a physics engine:

1. *Local rotations* from joint-angle curves: periodic gait curves (phase-based, after Winter's
   biomechanics tables, scaled by the clip's parameters) for the loopable gaits, smooth key poses
   (monotone cubic, C1, no overshoot) for the one-shot actions, plus small overlays (breathing, sway).
   Angles are written in degrees per joint as extrinsic ``x, y, z`` rotations (``q = qx * qy * qz``) in
   SMPL's body frame (+x the body's left, +y up, +z forward), *for the left side*; the right side is the
   mirror image (y and z negated), so one number describes a symmetric pose. Useful signs: hip flexion
   (thigh forward) and shoulder flexion (arm forward) are negative x; knee flexion and ankle
   plantar-flexion (toes down) are positive x; lowering the arm from the T-pose is negative z; spine
   flexion (bending forward) is positive x; a positive root x pitches the whole body forward.
2. *Forward kinematics with the pelvis at the origin.*
3. *Root motion from the contacts*: the pelvis height puts the lowest joint, less its clearance
   (:data:`JOINT_CLEARANCE`: sole 8 cm under the ankle, 2 cm under the ball of the foot, the body's
   thickness elsewhere), on z = 0 (a soft minimum, so the height stays smooth where the support changes);
   the horizontal motion is minus the contact-weighted mean horizontal velocity of the joints touching the
   ground, so planted feet (or knees, hands, the back in a fall) do not slide; flight phases (run, jump)
   follow a ballistic arc joined C1 to the ground-driven height.

Parameters are drawn from ``numpy.random.default_rng(SeedSequence([seed, crc32(name)]))`` in a fixed order
(every parameter is drawn even when overridden, so overriding one leaves the others unchanged) and are
recorded in ``motion.source["params"]``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import REST_ROOT_QUAT, Motion, forward_kinematics
from usd_synth.rotations import (
    axis_angle_to_quat,
    quat_about,
    quat_apply,
    quat_conj,
    quat_mul,
    quat_to_axis_angle,
)
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, SMPL_PARENTS, template_offsets

GRAVITY = 9.81
_J = JOINT_INDEX

#: Distance from each joint to the surface it rests on (metres): the sole under the ankle (8 cm) and the
#: ball of the foot (2 cm), the body's half-thickness elsewhere. A joint touches the ground when its
#: height equals its clearance; none goes lower.
JOINT_CLEARANCE: np.ndarray = np.array(
    [
        0.10, 0.09, 0.09, 0.10, 0.06, 0.06,  # pelvis, hips, spine1, knees
        0.10, 0.08, 0.08, 0.10, 0.02, 0.02,  # spine2, ankles, spine3, feet
        0.06, 0.07, 0.07, 0.10, 0.06, 0.06,  # neck, collars, head, shoulders
        0.045, 0.045, 0.035, 0.035, 0.025, 0.025,  # elbows, wrists, hands
    ]
)  # fmt: skip

#: The foot joints (ankles and balls of the feet) that carry the body in the gaits.
FOOT_JOINTS: tuple[int, ...] = (_J["left_ankle"], _J["right_ankle"], _J["left_foot"], _J["right_foot"])

_SOFTMIN_TAU = 0.002  # m; smooths the support height where the lowest joint changes (adds < 3 mm)
_CONTACT_SIGMA = 0.006  # m; a joint this high above its clearance counts ~37 % as planted
_FLIGHT_EPS = 1e-4  # weight of the free (flight) velocity against the contact-weighted one
_MIRROR = np.array([1.0, -1.0, -1.0])
#: Pelvis, legs and spine: the joints that carry the body (for height-driven blends).
_BODY_JOINTS = tuple(
    _J[n]
    for n in (
        "pelvis",
        "left_hip",
        "right_hip",
        "spine1",
        "left_knee",
        "right_knee",
        "spine2",
        "left_ankle",
        "right_ankle",
        "spine3",
        "left_foot",
        "right_foot",
    )
)
_PAIRED = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist", "hand")


# ---------------------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Param:
    """One action parameter: drawn uniformly from ``draw`` (or among ``choices``), overridable within
    ``limits`` (the range that still looks human)."""

    draw: tuple[float, float] = (0.0, 0.0)
    limits: tuple[float, float] = (-math.inf, math.inf)
    choices: tuple[str, ...] = ()
    help: str = ""

    def sample(self, rng: np.random.Generator) -> float | str:
        if self.choices:
            return self.choices[int(rng.integers(len(self.choices)))]
        return float(rng.uniform(*self.draw))

    def check(self, action: str, name: str, value: Any) -> float | str:
        if self.choices:
            if value not in self.choices:
                raise UsdSynthError(
                    f"{action}: parameter {name}={value!r} must be one of {', '.join(self.choices)}"
                )
            return str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsdSynthError(f"{action}: parameter {name}={value!r} must be a number") from None
        lo, hi = self.limits
        if not (math.isfinite(number) and lo <= number <= hi):
            raise UsdSynthError(f"{action}: parameter {name}={value!r} must be a number in [{lo}, {hi}]")
        return number


_HEADING = _Param(
    (0.0, 0.0), (-360.0, 360.0), help="facing, degrees counter-clockwise from -Y (seen from above)"
)


@dataclass(frozen=True)
class _Action:
    description: str
    seconds: float
    params: dict[str, _Param]
    build: Callable[[np.ndarray, dict[str, Any], float], tuple[np.ndarray, np.ndarray]]


# ---------------------------------------------------------------------------------------------------------
# Rotation and pose helpers
# ---------------------------------------------------------------------------------------------------------
def _euler(deg: np.ndarray) -> np.ndarray:
    """Quaternions from extrinsic x, y, z angles in degrees (..., 3): ``qx * qy * qz`` (z applied first)."""
    r = np.radians(deg)
    qx = quat_about((1.0, 0.0, 0.0), r[..., 0])
    qy = quat_about((0.0, 1.0, 0.0), r[..., 1])
    qz = quat_about((0.0, 0.0, 1.0), r[..., 2])
    return quat_mul(qx, quat_mul(qy, qz))


def _qpow(q: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """``q`` raised to ``t`` (the slerp from identity): the same axis, ``t`` times the angle."""
    return axis_angle_to_quat(quat_to_axis_angle(q) * np.asarray(t)[..., None])


class _Pose:
    """Joint angles for frames or key poses: ``main`` (…, 24, 3) and ``pre`` (…, 24, 3), degrees.

    A joint's rotation is ``euler(main) * euler(pre)``: ``pre`` acts first, for the few cases where an
    extrinsic x-y-z order cannot say it (the upper-arm twist of a wave). Row 0 is the root's body-frame
    rotation (x pitch forward, y turn to the left, z roll to the right), applied after the heading and the
    rest rotation. Angles are given for the left side and mirrored for the right.
    """

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.main = np.zeros(shape + (NUM_JOINTS, 3))
        self.pre = np.zeros(shape + (NUM_JOINTS, 3))

    def copy(self) -> _Pose:
        out = _Pose()
        out.main, out.pre = self.main.copy(), self.pre.copy()
        return out

    def set(self, **spec: Any) -> _Pose:
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


def _stand() -> _Pose:
    """A relaxed standing pose: arms hanging with the elbows slightly bent."""
    return _Pose().set(shoulder=(2.0, 0.0, -74.0), elbow=(0.0, -14.0, 0.0), wrist=(0.0, 0.0, -5.0))


def _flat_feet(p: _Pose) -> _Pose:
    """Set the ankles' pitch so that the feet stay parallel to the ground (root + hip + knee + ankle = 0)."""
    for side in ("left", "right"):
        pitch = p.main[..., 0, 0] + p.main[..., _J[f"{side}_hip"], 0] + p.main[..., _J[f"{side}_knee"], 0]
        p.main[..., _J[f"{side}_ankle"], 0] = -pitch
    return p


def _keyed(t: np.ndarray, keys: Sequence[tuple[float, _Pose]]) -> _Pose:
    """Interpolate key poses at times ``t`` with monotone cubics (C1, no overshoot past the keys)."""
    times = np.array([k[0] for k in keys])
    order = np.argsort(times, kind="stable")
    times = times[order]
    if np.any(np.diff(times) <= 0):
        # Coinciding keys: keep their order, make the times strictly increasing.
        times = times + np.arange(len(times)) * 1e-6
    out = _Pose((len(t),))
    for attr in ("main", "pre"):
        values = np.stack([getattr(keys[i][1], attr) for i in order])
        tt = np.clip(t, times[0], times[-1])
        setattr(out, attr, PchipInterpolator(times, values, axis=0)(tt))
    return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """0 → 1 with zero slope at both ends (C1), clipped outside [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _periodic(keys: Sequence[tuple[float, float]]) -> CubicSpline:
    """A periodic C2 curve through (phase, degrees) keys over one cycle; phase 1 repeats the first key."""
    ph = np.array([k[0] for k in keys] + [1.0])
    val = np.array([k[1] for k in keys] + [keys[0][1]])
    return CubicSpline(ph, val, bc_type="periodic")


def _rotations(pose: _Pose, heading: float) -> np.ndarray:
    """Local quaternions (T, 24, 4) of a pose; the root gets the heading and the rest (stand-up) rotation."""
    q = quat_mul(_euler(pose.main), _euler(pose.pre))
    yaw = quat_about((0.0, 0.0, 1.0), math.radians(heading))
    q[:, 0] = quat_mul(quat_mul(yaw, REST_ROOT_QUAT), q[:, 0])
    return q


def _stabilise_head(q: np.ndarray, heading: float, strength: float) -> np.ndarray:
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
        correction = _qpow(quat_mul(quat_conj(q[:, j]), desired), strength * share)
        q[:, j] = quat_mul(q[:, j], correction)
        world = quat_mul(world, q[:, j])
    return q


# ---------------------------------------------------------------------------------------------------------
# Root motion from the contacts
# ---------------------------------------------------------------------------------------------------------
def _softmin(h: np.ndarray, tau: float) -> np.ndarray:
    """Smooth minimum over the last axis (<= the minimum, by at most tau * log(n))."""
    m = h.min(axis=-1)
    return m - tau * np.log(np.exp(-(h - m[..., None]) / tau).sum(axis=-1))


def _flight_height(z: np.ndarray, t: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
    """Replace the ground-driven pelvis height inside each flight window by a ballistic arc (gravity)
    that meets it at both ends with the same height and vertical speed (a cubic correction keeps C1)."""
    z = z.copy()
    dt = t[1] - t[0]
    for t0, t1 in windows:
        span = t1 - t0
        inside = (t > t0) & (t < t1)
        if span <= dt or not inside.any():
            continue
        z0, z1 = np.interp(t0, t, z), np.interp(t1, t, z)
        # One-sided speeds: on the ground just before take-off and just after touch-down.
        v0 = (z0 - np.interp(t0 - dt, t, z)) / dt
        v1 = (np.interp(t1 + dt, t, z) - z1) / dt
        s = (t[inside] - t0) / span
        arc = z0 + (z1 - z0) * s + 0.5 * GRAVITY * span**2 * s * (1 - s)
        a0 = (z1 - z0) / span + 0.5 * GRAVITY * span  # the arc's own speeds at take-off and landing
        a1 = (z1 - z0) / span - 0.5 * GRAVITY * span
        h10, h11 = s**3 - 2 * s**2 + s, s**3 - s**2
        z[inside] = arc + span * ((v0 - a0) * h10 + (v1 - a1) * h11)
    return z


def _root_from_contacts(
    rot: np.ndarray,
    offsets: np.ndarray,
    fps: float,
    flights: Sequence[tuple[float, float]] = (),
    free_velocity: np.ndarray | None = None,
) -> np.ndarray:
    """Pelvis world positions (T, 3) that keep the body on the ground and its contacts planted.

    Height: the lowest joint (less its clearance) touches z = 0, except in ``flights`` (time windows).
    Horizontal: the pelvis moves by minus the contact-weighted horizontal velocity of the joints near the
    ground, so whatever supports the body does not slide; with nothing near the ground it moves at
    ``free_velocity`` (m/s, xy; default: the mean contact-driven velocity, i.e. keep going).
    """
    n = rot.shape[0]
    t = np.arange(n) / fps
    _, pos = forward_kinematics(rot, np.zeros((n, 3)), offsets)
    rel = pos[..., 2] - JOINT_CLEARANCE
    z = -_softmin(rel, _SOFTMIN_TAU)
    if flights:
        z = _flight_height(z, t, flights)
    height = np.maximum(rel + z[:, None], 0.0)
    w = np.exp(-((height / _CONTACT_SIGMA) ** 2))
    vel = np.gradient(pos[..., :2], 1.0 / fps, axis=0)
    planted = -(w[..., None] * vel).sum(axis=1)
    total = w.sum(axis=1)
    if free_velocity is None:
        free_velocity = planted.sum(axis=0) / max(total.sum(), 1e-9)
    v = (planted + _FLIGHT_EPS * np.asarray(free_velocity)) / (total + _FLIGHT_EPS)[:, None]
    xy = np.concatenate([np.zeros((1, 2)), np.cumsum(0.5 * (v[1:] + v[:-1]) / fps, axis=0)])
    return np.column_stack([xy, z])


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The shortest-arc quaternions turning vectors ``a`` into ``b`` (..., 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    q = np.concatenate([np.cross(a, b), 1.0 + np.sum(a * b, axis=-1, keepdims=True)], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _world_quats(q: np.ndarray, joints: Sequence[int]) -> dict[int, np.ndarray]:
    """World rotations of ``joints`` and all their ancestors (quaternions, T x 4)."""
    out: dict[int, np.ndarray] = {}

    def world(j: int) -> np.ndarray:
        if j not in out:
            parent = int(SMPL_PARENTS[j])
            out[j] = q[:, j] if parent < 0 else quat_mul(world(parent), q[:, j])
        return out[j]

    for j in joints:
        world(j)
    return out


def _lock_feet(
    q: np.ndarray, root: np.ndarray, offsets: np.ndarray, fps: float, tau: float = 0.08
) -> np.ndarray:
    """Pin the feet where they touch the ground (foot-skate clean-up, as done on motion capture).

    The contact-driven root already keeps the *mean* contact still; in double support the two feet can
    still drift apart a little, since joint-angle curves do not preserve their distance. Each foot gets a
    horizontal offset that accumulates its slide while in contact and relaxes (time constant ``tau``) in
    the air; a two-bone IK on hip and knee moves the ankle by it, and the ankle keeps the foot's world
    orientation. Returns corrected local rotations.
    """
    q = q.copy()
    _, pos = forward_kinematics(q, root, offsets)
    height = np.maximum(pos[..., 2] - JOINT_CLEARANCE, 0.0)
    w = np.exp(-((height / _CONTACT_SIGMA) ** 2))
    vel = np.gradient(pos[..., :2], 1.0 / fps, axis=0)
    dt = 1.0 / fps
    for side in ("left", "right"):
        hip, knee, ankle, ball = (_J[f"{side}_{n}"] for n in ("hip", "knee", "ankle", "foot"))
        wa, wb = w[:, ankle], w[:, ball]
        w_foot = np.clip(wa + wb, 0.0, 1.0)
        v_contact = (wa[:, None] * vel[:, ankle] + wb[:, None] * vel[:, ball]) / (wa + wb + 1e-9)[:, None]
        offset = np.zeros((len(q), 2))
        for f in range(1, len(q)):
            offset[f] = offset[f - 1] - dt * (
                w_foot[f] * v_contact[f] + (1 - w_foot[f]) * offset[f - 1] / tau
            )
        target = pos[:, ankle].copy()
        target[:, :2] += offset
        wq = _world_quats(q, (ankle,))
        parent_of_hip, w_hip, w_ankle = wq[0], wq[hip], wq[ankle]
        o1, o2 = offsets[knee], offsets[ankle]
        # Knee: solve |o1 + Rx(theta) o2| = |target - hip| for theta, near the current flexion.
        d2 = np.sum((target - pos[:, hip]) ** 2, axis=-1)
        a = o1[0] * o2[0]
        b = o1[1] * o2[1] + o1[2] * o2[2]
        c = o1[2] * o2[1] - o1[1] * o2[2]
        r, phi = math.hypot(b, c), math.atan2(c, b)
        cos_arg = np.clip((0.5 * (d2 - o1 @ o1 - o2 @ o2) - a) / r, -1.0, 1.0)
        theta = phi + np.arccos(cos_arg)
        current = 2 * np.arctan2(q[:, knee, 0], q[:, knee, 3])
        alt = phi - np.arccos(cos_arg)
        theta = np.where(np.abs(alt - current) < np.abs(theta - current), alt, theta)
        q_knee = quat_mul(quat_about((1.0, 0.0, 0.0), theta - current), q[:, knee])
        # Hip: turn the thigh so the hip-to-ankle vector points at the target.
        leg_now = quat_apply(w_hip, o1 + quat_apply(q_knee, np.broadcast_to(o2, (len(q), 3))))
        turn = _rotation_between(leg_now, target - pos[:, hip])
        new_w_hip = quat_mul(turn, w_hip)
        q[:, hip] = quat_mul(quat_conj(parent_of_hip), new_w_hip)
        q[:, knee] = q_knee
        new_w_knee = quat_mul(new_w_hip, q_knee)
        q[:, ankle] = quat_mul(quat_conj(new_w_knee), w_ankle)
    return q


# ---------------------------------------------------------------------------------------------------------
# Gaits
# ---------------------------------------------------------------------------------------------------------
# Sagittal angles over one gait cycle, phase 0 = heel strike of this leg (degrees): thigh flexion from the
# vertical, knee flexion, and the foot's pitch (toes up > 0) -- the ankle follows from the three, so the foot
# is flat on the ground through mid-stance by construction. After Winter's normal-walking data.
_WALK_HIP = _periodic([(0.0, 30), (0.12, 26), (0.3, 9), (0.5, -12), (0.6, -5), (0.72, 17), (0.87, 32)])
_WALK_KNEE = _periodic([(0.0, 4), (0.13, 17), (0.3, 8), (0.42, 6), (0.52, 14), (0.62, 40), (0.72, 62),
                        (0.84, 36), (0.95, 6)])  # fmt: skip
_WALK_FOOT = _periodic([(0.0, 18), (0.08, 0), (0.38, 0), (0.5, -12), (0.62, -38), (0.72, -22), (0.85, 4),
                        (0.94, 16)])  # fmt: skip
# Running: stance 0 .. 0.38 of the cycle (mid-foot strike), then flight, the other foot's stance, flight.
_RUN_STANCE = 0.38
_RUN_HIP = _periodic([(0.0, 32), (0.18, 12), (0.38, -14), (0.5, -6), (0.66, 28), (0.8, 48), (0.92, 42)])
_RUN_KNEE = _periodic([(0.0, 22), (0.15, 42), (0.38, 18), (0.5, 52), (0.68, 102), (0.84, 62), (0.95, 28)])
_RUN_FOOT = _periodic([(0.0, 5), (0.05, 0), (0.2, 0), (0.38, -40), (0.5, -40), (0.7, -5), (0.9, 10)])


def _gait(
    t: np.ndarray,
    p: dict[str, Any],
    hip: CubicSpline,
    knee: CubicSpline,
    foot: CubicSpline,
    cycle: float,
    running: bool,
) -> _Pose:
    """Per-frame angles of a walk or run: legs from the phase curves, pelvis rotation and list, trunk
    counter-rotation, contralateral arm swing (each arm swings with the opposite leg)."""
    phase = p["phase"] + t / cycle
    left, right = phase % 1.0, (phase + 0.5) % 1.0
    w = 2 * np.pi * phase
    pose = _Pose((len(t),))
    pose.main[:] = _stand().main
    sway = p["hip_sway"]
    tilt = (8.0 if running else 4.0) + 1.5 * np.sin(2 * w)  # anterior pelvic tilt, twice per cycle
    roll = sway * (2.5 if running else 4.0) * np.sin(w)  # the swing side drops
    yaw = -sway * (6.0 if running else 5.0) * np.cos(w)  # the pelvis turns with the forward leg
    pose.set(root=np.stack([tilt, yaw, roll], -1))
    for side, ph in (("left", left), ("right", right)):
        h_mean = float(hip(np.linspace(0, 1, 64, endpoint=False)).mean())
        thigh = h_mean + p["stride"] * (hip(ph) - h_mean)
        # Legs: hip angles are relative to the pelvis, so cancel the pelvis' own rotation (the same
        # local rotation for both legs: these are raw, not mirrored, values).
        pose.main[:, _J[f"{side}_hip"]] = np.stack([-thigh - tilt, -yaw, -roll], -1)
        flex = knee(ph) * p["knee_lift"]
        pose.main[:, _J[f"{side}_knee"], 0] = flex
        pose.main[:, _J[f"{side}_ankle"], 0] = thigh - flex - foot(ph)
        pose.main[:, _J[f"{side}_foot"], 0] = np.clip(foot(ph), None, 0.0) * 0.6  # toes stay down in push-off
    # Trunk: lean forward, cancel the pelvic tilt and list, counter-rotate the thorax.
    for j, share in (("spine1", 0.3), ("spine2", 0.35), ("spine3", 0.35)):
        pose.main[:, _J[j]] = np.stack(
            [share * (p["lean"] - tilt), -share * 1.6 * yaw, -share * 0.8 * roll], -1
        )
    # Arms: the left arm swings forward as the right leg does (left hip extends).
    swing = p["arm_swing"] * (26.0 if running else 16.0) * np.cos(w - 0.3)
    flex = p.get("elbow", 80.0 if running else 14.0)
    bend = (8.0 if running else 10.0) * p["arm_swing"]  # the elbow bends more as its arm swings forward
    elbow = flex + bend * np.maximum(-np.cos(w - 0.3), 0)
    elbow_r = flex + bend * np.maximum(np.cos(w - 0.3), 0)
    pose.main[:, _J["left_shoulder"], 0] = swing + (0.0 if running else 3.0)
    pose.main[:, _J["right_shoulder"], 0] = -swing + (0.0 if running else 3.0)
    pose.main[:, _J["left_elbow"], 1] = -elbow
    pose.main[:, _J["right_elbow"], 1] = elbow_r
    if running:
        pose.main[:, _J["left_shoulder"], 2] = -70.0
        pose.main[:, _J["right_shoulder"], 2] = 70.0
    return pose


def _gait_motion(
    t: np.ndarray, p: dict[str, Any], fps: float, running: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Rotations and root of a gait, computed with a second of margin on both sides (so flight arcs and
    support blends at the clip's edges are whole) and then cropped."""
    pad = int(round(fps))
    tt = np.arange(-pad, len(t) + pad) / fps
    cycle = 120.0 / p["cadence"]  # two steps per cycle
    if running:
        pose = _gait(tt, p, _RUN_HIP, _RUN_KNEE, _RUN_FOOT, cycle, True)
    else:
        pose = _gait(tt, p, _WALK_HIP, _WALK_KNEE, _WALK_FOOT, cycle, False)
    rot = _stabilise_head(_rotations(pose, p["heading"]), p["heading"], 0.8)
    flights: list[tuple[float, float]] = []
    if running:
        # A flight follows each toe-off (phase k/2 + stance) until the other foot strikes; the windows are
        # given on the padded clock, which starts at tt[0].
        first = math.floor((p["phase"] + tt[0] / cycle) * 2) - 1
        last = math.ceil((p["phase"] + tt[-1] / cycle) * 2) + 1
        for k in range(first, last):
            t0 = (k / 2 + _RUN_STANCE - p["phase"]) * cycle - tt[0]
            flights.append((t0, t0 + (0.5 - _RUN_STANCE) * cycle))
    offsets = template_offsets()
    root = _root_from_contacts(rot, offsets, fps, flights)
    rot = _lock_feet(rot, root, offsets, fps)
    root = root[pad : pad + len(t)]
    root[:, :2] -= root[0, :2]
    return rot[pad : pad + len(t)], root


def _walk(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    return _gait_motion(t, p, fps, running=False)


def _run(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    return _gait_motion(t, p, fps, running=True)


# ---------------------------------------------------------------------------------------------------------
# One-shot actions from key poses
# ---------------------------------------------------------------------------------------------------------
def _legs(pose: _Pose, thigh: float, knee: float, foot_pitch: float = 0.0, side: str = "") -> _Pose:
    """Set leg angles from the thigh's flexion from the vertical, the knee flexion and the foot's pitch
    (toes up > 0), whatever the pelvis pitch: the ankle follows so that the foot has that pitch."""
    root_x = float(pose.main[0, 0])
    names = (f"{side}_hip", f"{side}_knee", f"{side}_ankle") if side else ("hip", "knee", "ankle")
    spec = {
        names[0]: (-thigh - root_x, 0.0, 0.0),
        names[1]: (knee, 0.0, 0.0),
        names[2]: (thigh - knee - foot_pitch, 0.0, 0.0),
    }
    return pose.set(**spec)


def _trunk(
    pose: _Pose, lean: float, pelvis_share: float = 0.35, twist: float = 0.0, side: float = 0.0
) -> _Pose:
    """Lean the trunk forward by ``lean`` degrees (pelvis takes ``pelvis_share``, the spine the rest),
    turn it by ``twist`` to the left and bend it by ``side`` to the right, spread over the spine."""
    pose.main[0, 0] = pelvis_share * lean
    spine = (1 - pelvis_share) * lean / 3
    return pose.set(
        spine1=(spine, twist / 3, side / 3),
        spine2=(spine, twist / 3, side / 3),
        spine3=(spine, twist / 3, side / 3),
    )


def _crouch(knee: float, lean: float, arms: float) -> _Pose:
    """A balanced crouch with the feet flat: the shins tilt up to 38 degrees, the thighs take the rest of
    the knee flexion; ``arms`` is the shoulders' flexion (negative: forward) relative to the trunk."""
    shin = min(0.33 * knee, 38.0)
    pose = _trunk(_stand(), lean)
    pose.set(shoulder=(arms, 0.0, -74.0))
    return _legs(pose, knee - shin, knee)


def _finish(
    t_full: np.ndarray,
    n: int,
    pose: _Pose,
    p: dict[str, Any],
    fps: float,
    head: float = 0.6,
    flights: Sequence[tuple[float, float]] = (),
    lock_feet: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Rotations and root of a keyed action computed over ``t_full`` (the whole action) and cut to ``n``;
    ``lock_feet`` pins sliding feet (for actions that stand on their feet; a fall rests on the body)."""
    rot = _rotations(pose, p["heading"])
    if head > 0:
        rot = _stabilise_head(rot, p["heading"], head)
    offsets = template_offsets()
    root = _root_from_contacts(rot, offsets, fps, flights, free_velocity=np.zeros(2))
    if lock_feet:
        rot = _lock_feet(rot, root, offsets, fps)
    return rot[:n], root[:n]


def _timeline(t: np.ndarray, needed: float, fps: float) -> np.ndarray:
    """Frame times covering both the clip and the action's whole key sequence."""
    return np.arange(max(len(t), int(math.ceil(needed * fps)) + 2)) / fps


def _idle(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Standing: breathing, a slow sway about the ankles with weight shifts, glances around."""
    pose = _Pose((len(t),))
    pose.main[:] = _stand().main
    w = 2 * np.pi * t
    ph = p["phase"] * 2 * np.pi
    roll = p["sway"] * (1.8 * np.sin(w / p["shift_period"] + ph) + 0.4 * np.sin(w * 0.31 + 2 * ph))
    pitch = p["sway"] * 0.8 * np.sin(w * 0.17 + ph)
    breath = np.sin(w * p["breathing"] + ph)
    pose.add("root", x=pitch, z=roll)
    for hip in ("left_hip", "right_hip"):  # raw values: the same local turn keeps both legs vertical
        pose.main[:, _J[hip], 0] -= pitch
        pose.main[:, _J[hip], 2] -= roll
    pose.add("spine3", x=0.8 * breath)
    pose.add("spine1", z=-0.5 * roll)
    pose.add("collar", z=0.8 * breath)
    pose.add("shoulder", x=1.5 * np.sin(w * 0.23 + ph), z=-1.0 * breath)
    rot = _rotations(pose, p["heading"])
    rot = _stabilise_head(rot, p["heading"], 0.7)
    look = p["look"] * np.sin(w * 0.09 + 3 * ph) ** 3  # mostly still, now and then a glance aside
    rot[:, _J["head"]] = quat_mul(rot[:, _J["head"]], quat_about((0.0, 1.0, 0.0), np.radians(look)))
    offsets = template_offsets()
    root = _root_from_contacts(rot, offsets, fps, free_velocity=np.zeros(2))
    return _lock_feet(rot, root, offsets, fps), root


def _support_height(pose: _Pose, heading: float) -> np.ndarray:
    """Pelvis height (T,) that puts the pose's lowest joint on the ground (as in _root_from_contacts)."""
    rot = _rotations(pose, heading)
    _, pos = forward_kinematics(rot, np.zeros(rot.shape[:1] + (3,)), template_offsets())
    return -_softmin(pos[..., 2] - JOINT_CLEARANCE, _SOFTMIN_TAU)


def _drive_height(
    pose: _Pose,
    t: np.ndarray,
    span: tuple[float, float],
    a: _Pose,
    b: _Pose,
    v_a: float,
    v_b: float,
    heading: float,
) -> None:
    """Blend from key pose ``a`` to ``b`` over ``span`` so that the supported pelvis height follows a cubic
    with vertical speeds ``v_a`` and ``v_b`` at the ends (in place).

    Key-pose interpolation slows down at every key, so a push-off would leave the ground with almost no
    speed; driving the blend by the height lets the legs extend exactly as fast as the take-off (or the
    landing) needs, with the feet staying on the ground.
    """
    alpha = np.linspace(0.0, 1.0, 65)
    table = _Pose((len(alpha),))
    table.main = a.main + alpha[:, None, None] * (b.main - a.main)
    table.pre = a.pre + alpha[:, None, None] * (b.pre - a.pre)
    heights = _support_height(table, heading)
    inside = (t >= span[0]) & (t <= span[1])
    duration = span[1] - span[0]
    s = (t[inside] - span[0]) / duration
    z = (
        (2 * s**3 - 3 * s**2 + 1) * heights[0]
        + (-2 * s**3 + 3 * s**2) * heights[-1]
        + duration * ((s**3 - 2 * s**2 + s) * v_a + (s**3 - s**2) * v_b)
    )
    order = np.argsort(heights)
    blend = np.interp(z, heights[order], alpha[order])[:, None, None]
    body = list(_BODY_JOINTS)  # the arms and head keep their own (smooth) key interpolation
    main, pre = pose.main[inside], pose.pre[inside]
    main[:, body] = (a.main + blend * (b.main - a.main))[:, body]
    pre[:, body] = (a.pre + blend * (b.pre - a.pre))[:, body]
    pose.main[inside], pose.pre[inside] = main, pre


def _jump(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """A countermovement jump: dip with the arms back, drive up swinging the arms, fly, land and absorb."""
    flight = 2.0 * math.sqrt(2.0 * p["height"] / GRAVITY)
    heading = p["heading"]
    t_dip = p["start"] + 0.45
    t_off = t_dip + 0.24
    t_land = t_off + flight
    t_absorb = t_land + 0.24
    crouch, tuck, arms = p["crouch"], p["tuck"], p["arm_swing"]
    dip = _crouch(crouch, 35.0, 50.0 * arms)
    takeoff = _legs(
        _trunk(_stand(), 5.0).set(shoulder=(-150 * arms, 0, -74), elbow=(0, -15, 0)), 3.0, 6.0, -40.0
    )
    apex = _trunk(_stand(), 8.0 * tuck).set(shoulder=(-130 * arms, 0, -74), elbow=(0, -25, 0))
    landing = _legs(
        _trunk(_stand(), 5.0).set(shoulder=(-80 * arms, 0, -74), elbow=(0, -20, 0)), 12.0, 16.0, -22.0
    )
    absorb = _crouch(0.75 * crouch, 28.0, -40.0 * arms)
    keys = [
        (0.0, _stand()),
        (p["start"], _stand()),
        (t_dip, dip),
        (t_off, takeoff),
        (t_off + 0.5 * flight, _legs(apex, 10.0 + 40.0 * tuck, 12.0 + 60.0 * tuck, -30.0)),
        (t_land, landing),
        (t_absorb, absorb),
        (t_absorb + 0.75, _stand()),
    ]
    tf = _timeline(t, t_absorb + 0.8, fps)
    pose = _keyed(tf, keys)
    # Ballistic speeds at take-off and touch-down for this flight time and these two support heights.
    z_off, z_land = (float(h) for h in _support_height(_keyed(np.array([t_off, t_land]), keys), heading))
    v_off = (z_land - z_off) / flight + 0.5 * GRAVITY * flight
    v_land = (z_land - z_off) / flight - 0.5 * GRAVITY * flight
    _drive_height(pose, tf, (t_dip, t_off), dip, takeoff, 0.0, v_off, heading)
    _drive_height(pose, tf, (t_land, t_absorb), landing, absorb, v_land, 0.0, heading)
    return _finish(tf, len(t), pose, p, fps, flights=[(t_off, t_land)])


def _wave(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Raise one hand above the head (upper arm out and up, forearm vertical) and wave it side to side."""
    side = p["hand"]
    end = max(t[-1] + 1.0 / fps, p["start"] + 2.0)
    up = _stand().set(
        **{
            f"{side}_shoulder": (0.0, 0.0, p["raise"]),
            f"pre_{side}_shoulder": (-90.0, 0.0, 0.0),
            f"{side}_elbow": (0.0, -70.0, 0.0),
            f"{side}_wrist": (0.0, 0.0, 0.0),
        }
    )
    _trunk(up, 0.0, side=4.0 if side == "left" else -4.0)
    keys = [
        (0.0, _stand()),
        (p["start"], _stand()),
        (p["start"] + 0.6, up),
        (end - 0.9, up),
        (end - 0.1, _stand()),
    ]
    tf = _timeline(t, end, fps)
    pose = _keyed(tf, keys)
    envelope = _smoothstep((tf - p["start"] - 0.45) / 0.3) * (1.0 - _smoothstep((tf - end + 1.0) / 0.3))
    osc = envelope * np.sin(2 * np.pi * p["rate"] * (tf - p["start"]))
    pose.add(f"{side}_elbow", y=-p["amplitude"] * osc)
    pose.add(f"{side}_wrist", z=-0.6 * p["amplitude"] * osc)
    pose.add("head", y=(8.0 if side == "left" else -8.0) * envelope)
    return _finish(tf, len(t), pose, p, fps, head=0.5)


def _squat(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Squats with the feet flat: hips back and down, trunk leaning over the feet, arms forward for
    balance; as many repetitions as fit in the clip."""
    tempo = p["tempo"]
    total = t[-1] + 1.0 / fps
    reps = max(1, int((total - p["start"]) // tempo))
    knee = p["depth"]
    lean = min(0.33 * knee, 38.0) + 8.0
    bottom = _crouch(knee, lean, -(80.0 + lean) * p["arms"])
    keys: list[tuple[float, _Pose]] = [(0.0, _stand())]
    for r in range(reps):
        t0 = p["start"] + r * tempo
        keys += [
            (t0, _stand()),
            (t0 + 0.45 * tempo, bottom),
            (t0 + 0.6 * tempo, bottom),
            (t0 + tempo, _stand()),
        ]
    tf = _timeline(t, p["start"] + reps * tempo, fps)
    return _finish(tf, len(t), _keyed(tf, keys), p, fps, head=0.6)


def _fall_down(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Lose balance and fall: forward (knees buckle, hands reach out, end prone), backward (sit back, roll
    onto the back) or sideways (buckle and topple onto one side); the body ends lying on the ground."""
    s, k = p["start"], p["speed"]
    direction = p["direction"]
    keys: list[tuple[float, _Pose]] = [(0.0, _stand()), (s, _stand())]
    if direction == "forward":
        buckle = _legs(_trunk(_stand(), 15.0).set(shoulder=(-40, 0, -60), elbow=(0, -30, 0)), 35.0, 60.0)
        kneel = _legs(_trunk(_stand(), 30.0).set(shoulder=(-75, 0, -60), elbow=(0, -20, 0)), 5.0, 90.0, -60.0)
        hands = _legs(
            _trunk(_stand(), 70.0, 0.6).set(shoulder=(-70, 0, -55), elbow=(0, -15, 0)), -10.0, 75.0, -70.0
        )
        prone = _stand().set(
            root=(90.0, 0.0, 0.0),
            hip=(-4.0, 0, 4),
            knee=(12.0, 0, 0),
            ankle=(40.0, 0, 0),
            shoulder=(-100, 0, -40),
            elbow=(0, -100, 0),
            head=(-25.0, 50.0, 0.0),
        )
        keys += [(s + 0.35 / k, buckle), (s + 0.7 / k, kneel), (s + 1.0 / k, hands), (s + 1.45 / k, prone)]
    elif direction == "backward":
        sit_back = _legs(_trunk(_stand(), 25.0).set(shoulder=(-50, 0, -70), elbow=(0, -30, 0)), 45.0, 70.0)
        seated = _legs(
            _trunk(_stand(), 10.0, 0.0).set(root=(-15.0, 0, 0), shoulder=(40, 0, -55)), 80.0, 95.0, 10.0
        )
        rolling = _legs(
            _trunk(_stand(), -5.0, 0.0).set(root=(-60.0, 0, 0), shoulder=(-20, 0, -40)), 40.0, 60.0
        )
        supine = _stand().set(
            root=(-90.0, 0, 0),
            hip=(-12.0, 0, 5),
            knee=(18.0, 0, 0),
            ankle=(25.0, 0, 0),
            shoulder=(0, 0, -35),
            elbow=(0, -20, 0),
            head=(10.0, 0, 0),
        )
        keys += [
            (s + 0.4 / k, sit_back),
            (s + 0.8 / k, seated),
            (s + 1.15 / k, rolling),
            (s + 1.5 / k, supine),
        ]
    else:
        roll = 1.0 if p["side"] == "right" else -1.0  # root z > 0 tips the body to its right
        down_arm, up_arm = ("right", "left") if roll > 0 else ("left", "right")
        buckle = _legs(_trunk(_stand(), 10.0, side=8.0 * roll).set(root=(0, 0, 10.0 * roll)), 30.0, 50.0)
        buckle.set(**{f"{down_arm}_shoulder": (-20, 0, -30)})
        tip = _legs(_trunk(_stand(), 15.0, side=15.0 * roll).set(root=(0, 0, 55.0 * roll)), 40.0, 70.0)
        tip.set(**{f"{down_arm}_shoulder": (-30, 0, 10)})
        lying = _legs(_trunk(_stand(), 10.0).set(root=(0, 0, 90.0 * roll)), 35.0, 50.0)
        lying.set(
            **{
                f"{down_arm}_shoulder": (-20, 0, 95),
                f"{down_arm}_elbow": (0, -20, 0),
                f"{up_arm}_shoulder": (-30, 0, -80),
                f"{up_arm}_elbow": (0, -40, 0),
                "head": (0, 0, -25.0 * roll),
            }
        )
        keys += [(s + 0.35 / k, buckle), (s + 0.85 / k, tip), (s + 1.3 / k, lying)]
    tf = _timeline(t, keys[-1][0] + 0.1, fps)
    keys.append((keys[-1][0] + 0.1, keys[-1][1]))
    return _finish(tf, len(t), _keyed(tf, keys), p, fps, head=0.0, lock_feet=False)


# ---------------------------------------------------------------------------------------------------------
# The catalogue and the public API
# ---------------------------------------------------------------------------------------------------------
_GAIT_COMMON = {
    "arm_swing": _Param((0.7, 1.3), (0.0, 2.0), help="arm swing, relative to typical"),
    "hip_sway": _Param((0.6, 1.4), (0.0, 2.5), help="pelvis rotation and list, relative to typical"),
    "knee_lift": _Param((0.92, 1.12), (0.7, 1.4), help="knee flexion, relative to typical"),
    "phase": _Param((0.0, 1.0), (0.0, 1.0), help="gait phase at the first frame (0: left heel strike)"),
    "heading": _HEADING,
}

_ACTIONS: dict[str, _Action] = {
    "walk": _Action(
        "walk forward at a natural pace, arms swinging opposite to the legs",
        4.0,
        {
            "cadence": _Param((100.0, 122.0), (70.0, 140.0), help="steps per minute"),
            "stride": _Param((0.95, 1.25), (0.6, 1.5), help="thigh swing, relative to typical (step length)"),
            "lean": _Param((0.0, 6.0), (-10.0, 20.0), help="trunk lean forward, degrees"),
            **_GAIT_COMMON,
        },
        _walk,
    ),
    "run": _Action(
        "run (jog to stride) with a flight phase, elbows bent",
        3.0,
        {
            "cadence": _Param((155.0, 180.0), (130.0, 200.0), help="steps per minute"),
            "stride": _Param((0.95, 1.2), (0.7, 1.4), help="thigh swing, relative to typical (step length)"),
            "lean": _Param((5.0, 12.0), (0.0, 25.0), help="trunk lean forward, degrees"),
            "elbow": _Param((75.0, 100.0), (40.0, 130.0), help="elbow flexion, degrees"),
            **_GAIT_COMMON,
        },
        _run,
    ),
    "jump": _Action(
        "countermovement jump in place: dip, swing the arms up, fly, land softly",
        3.0,
        {
            "height": _Param(
                (0.2, 0.45), (0.1, 0.8), help="apex of the flight arc, metres (sets the flight time)"
            ),
            "crouch": _Param(
                (65.0, 95.0), (40.0, 120.0), help="knee flexion at the bottom of the dip, degrees"
            ),
            "arm_swing": _Param((0.6, 1.0), (0.0, 1.2), help="arm swing, relative to full"),
            "tuck": _Param((0.0, 1.0), (0.0, 1.0), help="how far the knees tuck at the apex"),
            "start": _Param((0.3, 0.6), (0.0, 3.0), help="seconds of standing before the dip"),
            "heading": _HEADING,
        },
        _jump,
    ),
    "wave": _Action(
        "stand and wave one hand above the head",
        3.0,
        {
            "hand": _Param(choices=("left", "right"), help="which hand waves"),
            "raise": _Param((20.0, 55.0), (10.0, 80.0), help="upper arm above the horizontal, degrees"),
            "rate": _Param((1.5, 2.8), (0.5, 5.0), help="waves per second"),
            "amplitude": _Param((18.0, 32.0), (5.0, 45.0), help="forearm swing each side, degrees"),
            "start": _Param((0.1, 0.5), (0.0, 3.0), help="seconds before the arm rises"),
            "heading": _HEADING,
        },
        _wave,
    ),
    "squat": _Action(
        "squat down with the feet flat and stand up again, repeated",
        4.0,
        {
            "depth": _Param((90.0, 125.0), (60.0, 140.0), help="knee flexion at the bottom, degrees"),
            "tempo": _Param((1.6, 2.4), (1.0, 5.0), help="seconds per repetition"),
            "arms": _Param((0.0, 1.0), (0.0, 1.0), help="arms raised forward at the bottom (0: hanging)"),
            "start": _Param((0.1, 0.4), (0.0, 3.0), help="seconds of standing first"),
            "heading": _HEADING,
        },
        _squat,
    ),
    "fall_down": _Action(
        "lose balance and fall to the ground, ending lying down",
        3.0,
        {
            "direction": _Param(choices=("forward", "backward", "sideways"), help="which way the body falls"),
            "side": _Param(choices=("left", "right"), help="for a sideways fall: onto which side"),
            "speed": _Param((0.85, 1.2), (0.5, 2.0), help="pace of the fall, relative to typical"),
            "start": _Param((0.2, 0.6), (0.0, 3.0), help="seconds of standing first"),
            "heading": _HEADING,
        },
        _fall_down,
    ),
    "idle": _Action(
        "stand at ease: breathing, gentle sway and weight shifts, glancing around",
        4.0,
        {
            "sway": _Param((0.5, 1.5), (0.0, 3.0), help="body sway, relative to typical"),
            "breathing": _Param((0.2, 0.33), (0.1, 0.6), help="breaths per second"),
            "shift_period": _Param((3.0, 6.0), (1.0, 20.0), help="seconds per weight shift cycle"),
            "look": _Param((0.0, 30.0), (0.0, 60.0), help="how far the head turns to glance, degrees"),
            "phase": _Param((0.0, 1.0), (0.0, 1.0), help="where in the sway cycle the clip starts"),
            "heading": _HEADING,
        },
        _idle,
    ),
}

#: The built-in actions: name -> one-line description.
ACTIONS: dict[str, str] = {name: action.description for name, action in _ACTIONS.items()}


def list_actions() -> list[str]:
    """The names of the built-in actions, sorted."""
    return sorted(ACTIONS)


def action_parameters(name: str) -> dict[str, str]:
    """The parameters of one action with their help text (for ``--help`` listings and errors)."""
    return {key: param.help for key, param in _lookup(name).params.items()}


def _lookup(name: str) -> _Action:
    if name not in _ACTIONS:
        raise UsdSynthError(f"unknown action {name!r}; known actions: {', '.join(list_actions())}")
    return _ACTIONS[name]


def _draw_params(name: str, action: _Action, seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """Draw every parameter in a fixed order from the (seed, action) stream, then apply the overrides."""
    unknown = sorted(set(overrides) - set(action.params))
    if unknown:
        raise UsdSynthError(
            f"{name}: unknown parameter {', '.join(unknown)}; known parameters: {', '.join(action.params)}"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))]))
    params: dict[str, Any] = {}
    for key, spec in action.params.items():
        params[key] = spec.sample(rng)
        if key in overrides:
            params[key] = spec.check(name, key, overrides[key])
    return params


def make_motion(
    name: str, seed: int = 0, seconds: float | None = None, fps: float = 30.0, **params: Any
) -> Motion:
    """Generate the built-in action ``name`` as a :class:`Motion` on the template skeleton.

    ``seed`` selects the variation (parameters are drawn from a stream of their own per action, so the same
    seed gives the same clip on every machine); keyword ``params`` fix individual parameters (see
    :func:`action_parameters`). ``seconds`` defaults to the action's natural length; gaits loop, one-shot
    actions hold their last pose when the clip runs longer, and are cut when it is shorter.
    """
    action = _lookup(name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsdSynthError(f"{name}: seed must be a non-negative integer, got {seed!r}")
    seconds = action.seconds if seconds is None else seconds
    try:
        seconds, fps = float(seconds), float(fps)
    except (TypeError, ValueError):
        raise UsdSynthError(f"{name}: seconds and fps must be numbers, got {seconds!r} and {fps!r}") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsdSynthError(f"{name}: seconds must be a positive number, got {seconds}")
    if not (math.isfinite(fps) and fps > 0):
        raise UsdSynthError(f"{name}: fps must be a positive number, got {fps}")
    p = _draw_params(name, action, int(seed), params)
    n = max(1, int(round(seconds * fps)))
    t = np.arange(max(n, 2)) / fps  # the generators difference over time: give them two frames at least
    rotations, translation = action.build(t, p, fps)
    return Motion(
        fps=fps,
        rotations=rotations[:n],
        translation=translation[:n],
        offsets=template_offsets(),
        label=name,
        source={"reader": "builtin", "action": name, "seed": int(seed), "params": dict(p)},
    )
