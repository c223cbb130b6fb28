"""Naturalness figures of a clip, beside the quality report (:mod:`usd_synth.motion.quality`): how the joints
move over time, which the quality report does not look at, and where the body meets the ground.

A recognizer learns any artefact that one class has and the others lack (a dead stop at the end of every
wave, a motionless second half of every fall), so the library is held to these figures (tests and
``benchmarks/bench_library.py``):

``joint_angular_speed`` (degrees/s, (T-1, 24))
    For every joint, the root's orientation included, the rotation angle between consecutive frames'
    *local* rotations, times the frame rate.
``moving_fraction``
    Share of frames in which some joint turns faster than ``threshold`` (5 degrees/s): a living body is
    never frozen (breathing, sway and small head turns keep some joint moving).
``worst_stop``
    The highest joint speed (degrees/s) from which a joint drops below ``rest`` (10 degrees/s) within one
    frame: a *dead stop* when large (the acceptance limit is 120 degrees/s at 30 fps).
``flight_fraction``
    Share of frames with both feet off the ground: every foot joint (ankles and balls of the feet) more
    than ``margin`` (1 cm) above its contact height (its :data:`~usd_synth.skeleton.JOINT_CLEARANCE`).
``lowest_point``
    Per frame, the height of the body's lowest surface point above the floor (joint height less its
    clearance, the body surface model of the quality report).
"""

from __future__ import annotations

import numpy as np

from usd_synth.motion.model import Motion
from usd_synth.rotations import quat_angle
from usd_synth.skeleton import FOOT_JOINTS, JOINT_CLEARANCE


def joint_angular_speed(motion: Motion) -> np.ndarray:
    """(T-1, 24) angle between consecutive frames' local rotations times the frame rate, degrees/s."""
    q = motion.rotations
    return np.degrees(quat_angle(q[1:], q[:-1])) * motion.fps


def moving_fraction(motion: Motion, threshold: float = 5.0) -> float:
    """Share of frame steps in which the fastest joint turns faster than ``threshold`` degrees/s."""
    speed = joint_angular_speed(motion)
    return float(np.mean(speed.max(axis=1) > threshold)) if len(speed) else 1.0


def worst_stop(motion: Motion, rest: float = 10.0) -> float:
    """The largest joint speed (degrees/s) followed, one frame later, by one below ``rest`` (0 if none)."""
    speed = joint_angular_speed(motion)
    if len(speed) < 2:
        return 0.0
    before, after = speed[:-1], speed[1:]
    stops = before[after < rest]
    return float(stops.max()) if stops.size else 0.0


def lowest_point(motion: Motion) -> np.ndarray:
    """(T,) height of the lowest body surface point above the floor (joint height less its clearance)."""
    return (motion.joint_positions()[..., 2] - JOINT_CLEARANCE).min(axis=1)


def airborne(motion: Motion, margin: float = 0.01) -> np.ndarray:
    """(T,) frames with every foot joint more than ``margin`` above its contact height."""
    feet = list(FOOT_JOINTS)
    height = motion.joint_positions()[:, feet, 2] - JOINT_CLEARANCE[feet]
    return np.all(height > margin, axis=1)


def flight_fraction(motion: Motion, margin: float = 0.01) -> float:
    """Share of frames with both feet off the ground (see :func:`airborne`)."""
    return float(airborne(motion, margin).mean())


def naturalness(motion: Motion) -> dict[str, float]:
    """The figures of one clip: moving fraction, worst stop, lowest point (min, max), flight fraction."""
    low = lowest_point(motion)
    return {
        "moving_fraction": moving_fraction(motion),
        "worst_stop_deg_s": worst_stop(motion),
        "lowest_point_min_m": float(low.min()),
        "lowest_point_max_m": float(low.max()),
        "flight_fraction": flight_fraction(motion),
    }
