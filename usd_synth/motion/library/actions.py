"""The non-gait actions: idle (standing with breathing, sway and glances) and the one-shot actions from
key poses, jump, wave, squat and fall_down.

A one-shot action is a sequence of key poses interpolated smoothly (plus small overlays such as the wave's
oscillation), computed over its whole key sequence and then cut to the clip or holding its last pose; the
root follows from the contacts (:mod:`~usd_synth.motion.library.ground`).

The generators :func:`idle`, :func:`jump`, :func:`wave`, :func:`squat` and :func:`fall_down` are public:
the catalogue (:mod:`~usd_synth.motion.library.catalogue`) registers them, each
``(t, params, fps) -> (rotations, root)``. The key-pose helpers stay private.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from usd_synth.motion.library.ground import (
    GRAVITY,
    drive_height,
    lock_feet,
    root_from_contacts,
    support_height,
)
from usd_synth.motion.library.pose import Pose, keyed, rotations_from_pose, smoothstep, stabilise_head, stand
from usd_synth.rotations import quat_about, quat_mul
from usd_synth.skeleton import JOINT_INDEX, template_offsets

_J = JOINT_INDEX


def _legs(pose: Pose, thigh: float, knee: float, foot_pitch: float = 0.0, side: str = "") -> Pose:
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
    pose: Pose, lean: float, pelvis_share: float = 0.35, twist: float = 0.0, side: float = 0.0
) -> Pose:
    """Lean the trunk forward by ``lean`` degrees (pelvis takes ``pelvis_share``, the spine the rest),
    turn it by ``twist`` to the left and bend it by ``side`` to the right, spread over the spine."""
    pose.main[0, 0] = pelvis_share * lean
    spine = (1 - pelvis_share) * lean / 3
    return pose.set(
        spine1=(spine, twist / 3, side / 3),
        spine2=(spine, twist / 3, side / 3),
        spine3=(spine, twist / 3, side / 3),
    )


def _crouch(knee: float, lean: float, arms: float) -> Pose:
    """A balanced crouch with the feet flat: the shins tilt up to 38 degrees, the thighs take the rest of
    the knee flexion; ``arms`` is the shoulders' flexion (negative: forward) relative to the trunk."""
    shin = min(0.33 * knee, 38.0)
    pose = _trunk(stand(), lean)
    pose.set(shoulder=(arms, 0.0, -74.0))
    return _legs(pose, knee - shin, knee)


def _finish(
    t_full: np.ndarray,
    n: int,
    pose: Pose,
    p: dict[str, Any],
    fps: float,
    head: float = 0.6,
    flights: Sequence[tuple[float, float]] = (),
    pin_feet: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Rotations and root of a keyed action computed over ``t_full`` (the whole action) and cut to ``n``;
    ``pin_feet`` pins sliding feet (for actions that stand on their feet; a fall rests on the body)."""
    rot = rotations_from_pose(pose, p["heading"])
    if head > 0:
        rot = stabilise_head(rot, p["heading"], head)
    offsets = template_offsets()
    root = root_from_contacts(rot, offsets, fps, flights, free_velocity=np.zeros(2))
    if pin_feet:
        rot = lock_feet(rot, root, offsets, fps)
    return rot[:n], root[:n]


def _timeline(t: np.ndarray, needed: float, fps: float) -> np.ndarray:
    """Frame times covering both the clip and the action's whole key sequence."""
    return np.arange(max(len(t), int(math.ceil(needed * fps)) + 2)) / fps


def idle(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Standing: breathing, a slow sway about the ankles with weight shifts, glances around."""
    pose = Pose((len(t),))
    pose.main[:] = stand().main
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
    rot = rotations_from_pose(pose, p["heading"])
    rot = stabilise_head(rot, p["heading"], 0.7)
    look = p["look"] * np.sin(w * 0.09 + 3 * ph) ** 3  # mostly still, now and then a glance aside
    rot[:, _J["head"]] = quat_mul(rot[:, _J["head"]], quat_about((0.0, 1.0, 0.0), np.radians(look)))
    offsets = template_offsets()
    root = root_from_contacts(rot, offsets, fps, free_velocity=np.zeros(2))
    return lock_feet(rot, root, offsets, fps), root


def jump(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
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
        _trunk(stand(), 5.0).set(shoulder=(-150 * arms, 0, -74), elbow=(0, -15, 0)), 3.0, 6.0, -40.0
    )
    apex = _trunk(stand(), 8.0 * tuck).set(shoulder=(-130 * arms, 0, -74), elbow=(0, -25, 0))
    landing = _legs(
        _trunk(stand(), 5.0).set(shoulder=(-80 * arms, 0, -74), elbow=(0, -20, 0)), 12.0, 16.0, -22.0
    )
    absorb = _crouch(0.75 * crouch, 28.0, -40.0 * arms)
    keys = [
        (0.0, stand()),
        (p["start"], stand()),
        (t_dip, dip),
        (t_off, takeoff),
        (t_off + 0.5 * flight, _legs(apex, 10.0 + 40.0 * tuck, 12.0 + 60.0 * tuck, -30.0)),
        (t_land, landing),
        (t_absorb, absorb),
        (t_absorb + 0.75, stand()),
    ]
    tf = _timeline(t, t_absorb + 0.8, fps)
    pose = keyed(tf, keys)
    # Ballistic speeds at take-off and touch-down for this flight time and these two support heights.
    z_off, z_land = (float(h) for h in support_height(keyed(np.array([t_off, t_land]), keys), heading))
    v_off = (z_land - z_off) / flight + 0.5 * GRAVITY * flight
    v_land = (z_land - z_off) / flight - 0.5 * GRAVITY * flight
    drive_height(pose, tf, (t_dip, t_off), dip, takeoff, 0.0, v_off, heading)
    drive_height(pose, tf, (t_land, t_absorb), landing, absorb, v_land, 0.0, heading)
    return _finish(tf, len(t), pose, p, fps, flights=[(t_off, t_land)])


def wave(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Raise one hand above the head (upper arm out and up, forearm vertical) and wave it side to side."""
    side = p["hand"]
    end = max(t[-1] + 1.0 / fps, p["start"] + 2.0)
    up = stand().set(
        **{
            f"{side}_shoulder": (0.0, 0.0, p["raise"]),
            f"pre_{side}_shoulder": (-90.0, 0.0, 0.0),
            f"{side}_elbow": (0.0, -70.0, 0.0),
            f"{side}_wrist": (0.0, 0.0, 0.0),
        }
    )
    _trunk(up, 0.0, side=4.0 if side == "left" else -4.0)
    keys = [
        (0.0, stand()),
        (p["start"], stand()),
        (p["start"] + 0.6, up),
        (end - 0.9, up),
        (end - 0.1, stand()),
    ]
    tf = _timeline(t, end, fps)
    pose = keyed(tf, keys)
    envelope = smoothstep((tf - p["start"] - 0.45) / 0.3) * (1.0 - smoothstep((tf - end + 1.0) / 0.3))
    osc = envelope * np.sin(2 * np.pi * p["rate"] * (tf - p["start"]))
    pose.add(f"{side}_elbow", y=-p["amplitude"] * osc)
    pose.add(f"{side}_wrist", z=-0.6 * p["amplitude"] * osc)
    pose.add("head", y=(8.0 if side == "left" else -8.0) * envelope)
    return _finish(tf, len(t), pose, p, fps, head=0.5)


def squat(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Squats with the feet flat: hips back and down, trunk leaning over the feet, arms forward for
    balance; as many repetitions as fit in the clip."""
    tempo = p["tempo"]
    total = t[-1] + 1.0 / fps
    reps = max(1, int((total - p["start"]) // tempo))
    knee = p["depth"]
    lean = min(0.33 * knee, 38.0) + 8.0
    bottom = _crouch(knee, lean, -(80.0 + lean) * p["arms"])
    keys: list[tuple[float, Pose]] = [(0.0, stand())]
    for r in range(reps):
        t0 = p["start"] + r * tempo
        keys += [
            (t0, stand()),
            (t0 + 0.45 * tempo, bottom),
            (t0 + 0.6 * tempo, bottom),
            (t0 + tempo, stand()),
        ]
    tf = _timeline(t, p["start"] + reps * tempo, fps)
    return _finish(tf, len(t), keyed(tf, keys), p, fps, head=0.6)


def fall_down(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Lose balance and fall: forward (knees buckle, hands reach out, end prone), backward (sit back, roll
    onto the back) or sideways (buckle and topple onto one side); the body ends lying on the ground."""
    s, k = p["start"], p["speed"]
    direction = p["direction"]
    keys: list[tuple[float, Pose]] = [(0.0, stand()), (s, stand())]
    if direction == "forward":
        buckle = _legs(_trunk(stand(), 15.0).set(shoulder=(-40, 0, -60), elbow=(0, -30, 0)), 35.0, 60.0)
        kneel = _legs(_trunk(stand(), 30.0).set(shoulder=(-75, 0, -60), elbow=(0, -20, 0)), 5.0, 90.0, -60.0)
        hands = _legs(
            _trunk(stand(), 70.0, 0.6).set(shoulder=(-70, 0, -55), elbow=(0, -15, 0)), -10.0, 75.0, -70.0
        )
        prone = stand().set(
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
        sit_back = _legs(_trunk(stand(), 25.0).set(shoulder=(-50, 0, -70), elbow=(0, -30, 0)), 45.0, 70.0)
        seated = _legs(
            _trunk(stand(), 10.0, 0.0).set(root=(-15.0, 0, 0), shoulder=(40, 0, -55)), 80.0, 95.0, 10.0
        )
        rolling = _legs(
            _trunk(stand(), -5.0, 0.0).set(root=(-60.0, 0, 0), shoulder=(-20, 0, -40)), 40.0, 60.0
        )
        supine = stand().set(
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
        buckle = _legs(_trunk(stand(), 10.0, side=8.0 * roll).set(root=(0, 0, 10.0 * roll)), 30.0, 50.0)
        buckle.set(**{f"{down_arm}_shoulder": (-20, 0, -30)})
        tip = _legs(_trunk(stand(), 15.0, side=15.0 * roll).set(root=(0, 0, 55.0 * roll)), 40.0, 70.0)
        tip.set(**{f"{down_arm}_shoulder": (-30, 0, 10)})
        lying = _legs(_trunk(stand(), 10.0).set(root=(0, 0, 90.0 * roll)), 35.0, 50.0)
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
    return _finish(tf, len(t), keyed(tf, keys), p, fps, head=0.0, pin_feet=False)
