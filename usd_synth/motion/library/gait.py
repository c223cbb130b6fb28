"""The loopable gaits, walk and run: periodic joint-angle curves over the gait cycle (phase-based, after
Winter's biomechanics tables, scaled by the clip's parameters), pelvis, trunk and arm motion, and the root
from the feet's contacts with a flight phase for the run.

:func:`walk` and :func:`run` are public: they are the generators the catalogue
(:mod:`~usd_synth.motion.library.catalogue`) registers, ``(t, params, fps) -> (rotations, root)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from usd_synth.motion.library.ground import lock_feet, root_from_contacts
from usd_synth.motion.library.pose import Pose, rotations_from_pose, stabilise_head, stand
from usd_synth.skeleton import JOINT_INDEX, template_offsets

_J = JOINT_INDEX


def _periodic(keys: Sequence[tuple[float, float]]) -> CubicSpline:
    """A periodic C2 curve through (phase, degrees) keys over one cycle; phase 1 repeats the first key."""
    ph = np.array([k[0] for k in keys] + [1.0])
    val = np.array([k[1] for k in keys] + [keys[0][1]])
    return CubicSpline(ph, val, bc_type="periodic")


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
) -> Pose:
    """Per-frame angles of a walk or run: legs from the phase curves, pelvis rotation and list, trunk
    counter-rotation, contralateral arm swing (each arm swings with the opposite leg)."""
    phase = p["phase"] + t / cycle
    left, right = phase % 1.0, (phase + 0.5) % 1.0
    w = 2 * np.pi * phase
    pose = Pose((len(t),))
    pose.main[:] = stand().main
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
    rot = stabilise_head(rotations_from_pose(pose, p["heading"]), p["heading"], 0.8)
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
    root = root_from_contacts(rot, offsets, fps, flights)
    rot = lock_feet(rot, root, offsets, fps)
    root = root[pad : pad + len(t)]
    root[:, :2] -= root[0, :2]
    return rot[pad : pad + len(t)], root


def walk(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The walk generator: local rotations (T, 24, 4) and root positions (T, 3) at times ``t``."""
    return _gait_motion(t, p, fps, running=False)


def run(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The run generator (with flight phases): local rotations (T, 24, 4) and root positions (T, 3)."""
    return _gait_motion(t, p, fps, running=True)
