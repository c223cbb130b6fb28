"""Plausibility metrics for any motion, the thresholds that reject a blend, and foot-contact clean-up.

All metrics are computed from the world joint positions (forward kinematics), in metres and seconds, on a
Z-up world with the ground at z = 0. Joints sit inside the body, so each has a *clearance*, the distance
from the joint to the surface it rests on (:data:`JOINT_CLEARANCE`, template skeleton, scaled by the
skeleton's leg length): 8 cm from the ankle to the sole, 2 cm from the ball of the foot (``*_foot``) to
the sole, the body's half-thickness elsewhere. A joint's *ground height* is its z minus its clearance.

Metrics (the keys of :meth:`QualityReport.to_dict`):

``foot_skate`` (m/s)
    Mean horizontal speed of the foot joints (ankles and balls of the feet) over the (joint, frame) samples
    in contact. A foot joint is in contact when its ground height is below :data:`CONTACT_HEIGHT` and its
    vertical speed below :data:`CONTACT_VERTICAL_SPEED`. Speeds are central differences. 0 without contacts.
``ground_penetration`` (m)
    Largest depth of any joint's surface below the ground over the clip (0 when nothing goes below).
``floating`` (fraction of frames)
    Frames where the lowest point of the body (smallest ground height of any joint) is more than
    :data:`FLOAT_HEIGHT` above the ground, *outside ballistic phases*. A run of such frames, extended by a
    frame on each side, is ballistic (a jump or a running stride's flight) when a parabola fitted to the
    pelvis height has a downward acceleration between :data:`BALLISTIC_ACCEL` times g, or when it lasts
    at most :data:`SHORT_FLIGHT` seconds (too short to tell, and a stride's flight is that short).
``jerk`` (m/s^3)
    Mean magnitude of the third time derivative of the joint positions (finite differences), over joints
    and frames; 0 for clips under four frames. Sensitive to noise and to timing kinks.
``joint_limit_violations`` (fraction of frames)
    Frames where at least one joint leaves its anatomical range in :data:`JOINT_LIMITS`
    (``joint_limit_frames`` gives the count per joint).

``is_rejected(report, thresholds)`` compares the metrics with :class:`QualityThresholds`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from usd_synth.motion.model import Motion
from usd_synth.rotations import quat_mul
from usd_synth.skeleton import FOOT_JOINTS, JOINT_CLEARANCE, JOINT_INDEX, SMPL_JOINTS, template_offsets

GRAVITY = 9.81
_J = JOINT_INDEX


CONTACT_HEIGHT = 0.03  #: m; a foot joint's ground height below this may be in contact
CONTACT_VERTICAL_SPEED = 0.2  #: m/s; ... and its vertical speed below this
FLOAT_HEIGHT = 0.05  #: m; the lowest point of the body above this counts as off the ground
BALLISTIC_ACCEL = (0.5, 1.6)  #: a flight's fitted downward pelvis acceleration within these multiples of g
SHORT_FLIGHT = 0.2  #: s; flights this short count as ballistic without a fit

#: Anatomical ranges of the local joint rotations (SMPL body frame: +x left, +y up, +z forward).
#: ``("hinge", axis, min_deg, max_deg, max_off_axis_deg)``: the flexion angle about ``axis`` (the twist of
#: the rotation about it) must lie in [min, max] and the rest of the rotation (swing off the hinge axis,
#: which for the elbow includes forearm pronation) must stay under the last figure.
#: ``("cone", max_deg)``: the total rotation angle must stay under the figure. Shoulders, hands and the
#: pelvis are not limited (their range is too large to judge from one angle).
JOINT_LIMITS: dict[str, tuple] = {
    "left_knee": ("hinge", (1.0, 0.0, 0.0), -10.0, 160.0, 45.0),
    "right_knee": ("hinge", (1.0, 0.0, 0.0), -10.0, 160.0, 45.0),
    "left_elbow": ("hinge", (0.0, -1.0, 0.0), -10.0, 160.0, 100.0),
    "right_elbow": ("hinge", (0.0, 1.0, 0.0), -10.0, 160.0, 100.0),
    "left_hip": ("cone", 140.0),
    "right_hip": ("cone", 140.0),
    "spine1": ("cone", 60.0),
    "spine2": ("cone", 60.0),
    "spine3": ("cone", 60.0),
    "neck": ("cone", 60.0),
    "head": ("cone", 60.0),
    "left_collar": ("cone", 45.0),
    "right_collar": ("cone", 45.0),
    "left_ankle": ("cone", 80.0),
    "right_ankle": ("cone", 80.0),
    "left_foot": ("cone", 70.0),
    "right_foot": ("cone", 70.0),
    "left_wrist": ("cone", 100.0),
    "right_wrist": ("cone", 100.0),
}

_TEMPLATE_LEG = float(template_offsets()[0, 1])


@dataclass(frozen=True)
class QualityThresholds:
    """Limits above which a motion is rejected (defaults suit blends of everyday actions)."""

    foot_skate: float = 0.2  #: m/s (built-in walks: 0.03-0.06, a 20 fps run: 0.16)
    ground_penetration: float = 0.04  #: m
    floating: float = 0.1  #: fraction of frames
    jerk: float = 2000.0  #: m/s^3 (a 30 fps run has about 700)
    joint_limit_violations: float = 0.05  #: fraction of frames


@dataclass
class QualityReport:
    """The metrics of one motion (see the module docstring for their definitions)."""

    foot_skate: float
    ground_penetration: float
    floating: float
    jerk: float
    joint_limit_violations: float
    joint_limit_frames: dict[str, int] = field(default_factory=dict)
    contact_fraction: float = 0.0  #: share of foot-joint samples in contact
    frames: int = 0
    fps: float = 0.0

    def to_dict(self, digits: int = 6) -> dict[str, Any]:
        """JSON-friendly, rounded (stable text in USD metadata and CLI output)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, digits)
        return out


def skeleton_scale(motion: Motion) -> float:
    """Size of the motion's skeleton relative to the template: its rest pelvis height over the template's
    (scales the joints' ground clearances; strides scale by :func:`usd_synth.skeleton.leg_length`)."""
    return float(motion.offsets[0, 1]) / _TEMPLATE_LEG


def ground_heights(positions: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(T, 24) height of each joint's surface above the ground: z minus its (scaled) clearance."""
    return positions[..., 2] - scale * JOINT_CLEARANCE


def foot_contacts(positions: np.ndarray, fps: float, scale: float = 1.0) -> np.ndarray:
    """(T, 4) contact flags of :data:`FOOT_JOINTS`: low and not moving vertically."""
    feet = list(FOOT_JOINTS)
    height = ground_heights(positions, scale)[:, feet]
    vz = np.gradient(positions[:, feet, 2], axis=0) * fps if len(positions) > 1 else np.zeros_like(height)
    return (height < CONTACT_HEIGHT) & (np.abs(vz) < CONTACT_VERTICAL_SPEED)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D mask."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def floating_frames(positions: np.ndarray, fps: float, scale: float = 1.0) -> np.ndarray:
    """(T,) frames off the ground outside ballistic phases (see the module docstring)."""
    lowest = ground_heights(positions, scale).min(axis=1)
    airborne = lowest > FLOAT_HEIGHT
    out = airborne.copy()
    pelvis_z = positions[:, 0, 2]
    for start, stop in _runs(airborne):
        if (stop - start) / fps <= SHORT_FLIGHT:
            out[start:stop] = False
            continue
        lo, hi = max(start - 1, 0), min(stop + 1, len(positions))
        t = np.arange(lo, hi) / fps
        accel = 2.0 * np.polyfit(t - t.mean(), pelvis_z[lo:hi], 2)[0]
        if BALLISTIC_ACCEL[0] * GRAVITY <= -accel <= BALLISTIC_ACCEL[1] * GRAVITY:
            out[start:stop] = False
    return out


def _twist_angle(q: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed twist angle about ``axis`` and the remaining swing angle (degrees) of quaternions (..., 4)."""
    q = np.where(q[..., 3:4] < 0, -q, q)
    along = q[..., :3] @ axis
    twist_angle = 2.0 * np.arctan2(along, q[..., 3])
    twist_angle = np.angle(np.exp(1j * twist_angle))
    norm = np.sqrt(along**2 + q[..., 3] ** 2)
    twist = (
        np.concatenate([along[..., None] * axis, q[..., 3:4]], axis=-1) / np.maximum(norm, 1e-12)[..., None]
    )
    twist_inv = twist * np.array([-1.0, -1.0, -1.0, 1.0])
    swing = quat_mul(q, twist_inv)
    swing_angle = 2.0 * np.arccos(np.clip(np.abs(swing[..., 3]), 0.0, 1.0))
    return np.degrees(twist_angle), np.degrees(swing_angle)


def joint_limit_frames(rotations: np.ndarray) -> dict[str, np.ndarray]:
    """Per limited joint, the (T,) mask of frames outside its range in :data:`JOINT_LIMITS`."""
    out: dict[str, np.ndarray] = {}
    for name, spec in JOINT_LIMITS.items():
        q = rotations[:, _J[name]]
        if spec[0] == "hinge":
            _, axis, lo, hi, off = spec
            flex, swing = _twist_angle(q, np.asarray(axis))
            bad = (flex < lo) | (flex > hi) | (swing > off)
        else:
            angle = np.degrees(2.0 * np.arccos(np.clip(np.abs(q[:, 3]), 0.0, 1.0)))
            bad = angle > spec[1]
        out[name] = bad
    return out


def evaluate(motion: Motion) -> QualityReport:
    """Compute every metric of ``motion`` (see the module docstring)."""
    pos = motion.joint_positions()
    fps = motion.fps
    scale = skeleton_scale(motion)
    n = motion.num_frames
    contacts = foot_contacts(pos, fps, scale)
    feet = pos[:, list(FOOT_JOINTS), :2]
    if n > 1:
        speed = np.linalg.norm(np.gradient(feet, axis=0), axis=-1) * fps
        skate = float(speed[contacts].mean()) if contacts.any() else 0.0
    else:
        skate = 0.0
    depth = float(max(0.0, -ground_heights(pos, scale).min()))
    floating = float(floating_frames(pos, fps, scale).mean())
    jerk = float(np.linalg.norm(np.diff(pos, 3, axis=0), axis=-1).mean() * fps**3) if n >= 4 else 0.0
    limits = joint_limit_frames(motion.rotations)
    any_bad = np.zeros(n, bool)
    for bad in limits.values():
        any_bad |= bad
    return QualityReport(
        foot_skate=skate,
        ground_penetration=depth,
        floating=floating,
        jerk=jerk,
        joint_limit_violations=float(any_bad.mean()),
        joint_limit_frames={k: int(v.sum()) for k, v in limits.items() if v.any()},
        contact_fraction=float(contacts.mean()),
        frames=n,
        fps=fps,
    )


def rejection_reasons(report: QualityReport, thresholds: QualityThresholds | None = None) -> list[str]:
    """The metrics over their thresholds, as short texts such as ``"foot_skate 0.21 > 0.15"``."""
    thresholds = thresholds or QualityThresholds()
    reasons = []
    for key, limit in asdict(thresholds).items():
        value = getattr(report, key)
        if value > limit:
            reasons.append(f"{key} {value:.4g} > {limit:g}")
    return reasons


def is_rejected(report: QualityReport, thresholds: QualityThresholds | None = None) -> bool:
    """True when any metric exceeds its threshold (defaults: :class:`QualityThresholds`)."""
    return bool(rejection_reasons(report, thresholds))


def cleanup_contacts(motion: Motion) -> Motion:
    """Remove foot skate and ground penetration by adjusting the root translation only (a new Motion).

    Vertical first: at frames with a contact, the root moves so that the lowest contacting foot touches
    the ground; between contacts the correction is interpolated linearly (which keeps a flight's parabola
    a parabola), and no joint may end below the ground. Then horizontal, with the contacts found again:
    on every step between two frames, the mean horizontal displacement of the foot joints in contact at
    both frames is subtracted from the root's (so a planted foot stays put) and the root path is
    integrated again from its first frame. Joint rotations, and so the pose and the bone lengths, are not
    changed.
    """
    scale = skeleton_scale(motion)
    feet = list(FOOT_JOINTS)
    n = motion.num_frames
    frames = np.arange(n)
    trans = motion.translation.copy()
    # Height first, so the horizontal pass sees the contacts of a body standing on the ground.
    pos = motion.joint_positions()
    heights = ground_heights(pos, scale)
    contact_low = np.where(foot_contacts(pos, motion.fps, scale), heights[:, feet], np.inf).min(axis=1)
    has = np.isfinite(contact_low)
    dz = np.interp(frames, frames[has], -contact_low[has]) if has.any() else np.zeros(n)
    dz = np.maximum(dz, -heights.min(axis=1))
    trans[:, 2] += dz
    pos[..., 2] += dz[:, None]
    if n > 1:
        contacts = foot_contacts(pos, motion.fps, scale)
        step = np.diff(pos[:, feet, :2], axis=0)  # (T-1, 4, 2)
        both = (contacts[1:] & contacts[:-1]).astype(np.float64)
        count = both.sum(axis=1)
        slide = np.einsum("tf,tfk->tk", both, step) / np.maximum(count, 1.0)[:, None]
        trans[1:, :2] -= np.cumsum(slide, axis=0)
    out = motion.copy()
    out.translation = trans
    out.source = dict(motion.source, cleanup="foot_contacts")
    return out


def joint_names_with_limits() -> list[str]:
    """The joints :data:`JOINT_LIMITS` checks, in SMPL order (for documentation and listings)."""
    return [n for n in SMPL_JOINTS if n in JOINT_LIMITS]
