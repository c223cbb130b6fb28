"""Sitting down onto a seat and standing up from it, for a seat of a given height.

The seat is not part of the motion, but its place is: the seated pose is fitted so that the pelvis rests
on a seat whose top is ``seat_height`` metres above the floor (the pelvis joint one body thickness,
:data:`~usd_synth.skeleton.JOINT_CLEARANCE` of the pelvis, above it) with both feet flat on the floor,
and the clip records where that seat is in ``motion.source["seat"]``: ``height`` (m), ``pelvis`` (the
seated pelvis joint's world position, m) and ``heading`` (degrees, the way the sitter faces). A stage
puts a chair there: its seat top at ``height``, its front edge a little ahead of ``pelvis`` in the
facing direction.

The generators are public: the catalogue registers them, each ``(t, params, fps, life) -> (rotations,
root, extra)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from usd_synth.motion.library.life import Life
from usd_synth.motion.library.oneshot import arms, fit, legs, lowest, perform, timeline, trunk
from usd_synth.motion.library.pose import Pose, keyed, smoothstep, stand
from usd_synth.skeleton import FOOT_JOINTS, JOINT_CLEARANCE, JOINT_INDEX

_J = JOINT_INDEX
_PELVIS_CLEARANCE = float(JOINT_CLEARANCE[0])


def _seated(seat_height: float, lean: float = -3.0) -> tuple[float, Pose]:
    """The seated pose for a seat top at ``seat_height``: trunk upright (``lean``), shins a little forward
    of vertical, hands resting on the thighs; the thigh angle is fitted so the feet are flat on the floor
    with the pelvis at the seat. Returns the thigh angle and the pose."""

    def make(thigh: float) -> Pose:
        pose = trunk(stand(), lean, 0.1)
        legs(pose, thigh, thigh - 8.0, 0.0)
        arms(pose, 32.0, 22.0, spread=-82.0)
        return pose

    def pelvis_height(pose: Pose) -> np.ndarray:
        return -lowest(pose, FOOT_JOINTS)

    return fit(make, pelvis_height, seat_height + _PELVIS_CLEARANCE, 55.0, 125.0)


def _transfer(thigh: float, lean: float, arm_flex: float) -> Pose:
    """The moment the pelvis leaves (or reaches) the seat: trunk well forward over the feet, legs as
    seated."""
    pose = trunk(stand(), lean, 0.45)
    legs(pose, thigh, thigh - 8.0, 0.0)
    arms(pose, arm_flex, 30.0, spread=-72.0)
    return pose


def _seat_record(root: np.ndarray, frame: int, p: dict[str, Any]) -> dict[str, Any]:
    frame = int(np.clip(frame, 0, len(root) - 1))
    return {
        "height": round(float(p["seat_height"]), 6),
        "pelvis": [round(float(v), 6) for v in root[frame]],
        "heading": float(p["heading"]),
    }


def sit_down(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sit down on a seat behind: lean forward, bend the knees, lower the pelvis onto the seat, sit back
    upright, hands coming to rest on the thighs; then sit, breathing."""
    s, k = p["start"], p["speed"]
    thigh, seated = _seated(p["seat_height"])
    begin = legs(arms(trunk(stand(), 0.55 * p["lean"], 0.4), 25.0, 25.0, spread=-72.0), 25.0, 30.0)
    touch = _transfer(thigh, p["lean"], 35.0 * p["arms"])
    t_begin = s + 0.45 / k
    t_touch = s + 1.25 / k
    t_seated = t_touch + 0.6 / k
    keys = [(0.0, stand()), (s, stand()), (t_begin, begin), (t_touch, touch), (t_seated, seated),
            (t_seated + 0.8, seated)]  # fmt: skip
    tf = timeline(t, t_seated + 0.9, fps)
    down = smoothstep((tf - s) / (t_touch - s))
    rot, root = perform(tf, len(tf), keyed(tf, keys), p, fps, life, head=0.5, sway=1.0 - down)
    seat = _seat_record(root, int(round(t_seated * fps)), p)
    return rot[: len(t)], root[: len(t)], {"seat": seat}


def stand_up(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> tuple[np.ndarray, np.ndarray, dict]:
    """Stand up from a seat: sitting, lean the trunk forward (arms swinging forward), lift off the seat
    and straighten up over the feet; then stand, breathing."""
    s, k = p["start"], p["speed"]
    thigh, seated = _seated(p["seat_height"])
    lean = _transfer(thigh, p["lean"], 45.0 * p["arms"])
    rising = legs(
        arms(trunk(stand(), 0.5 * p["lean"], 0.4), 25.0 * p["arms"], 25.0, spread=-72.0), 30.0, 40.0
    )
    t_lean = s + 0.6 / k
    t_rise = t_lean + 0.75 / k
    t_up = t_rise + 0.6 / k
    keys = [
        (0.0, seated),
        (s, seated),
        (t_lean, lean),
        (t_rise, rising),
        (t_up, stand()),
        (t_up + 0.8, stand()),
    ]
    tf = timeline(t, t_up + 0.9, fps)
    up = smoothstep((tf - t_rise) / (t_up - t_rise))
    rot, root = perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.5, sway=up)
    return rot, root, {"seat": _seat_record(root, 0, p)}
