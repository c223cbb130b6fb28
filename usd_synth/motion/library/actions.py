"""The standing actions: idle, and the one-shot actions jump, wave, squat, reach_up, bend_pick_up, punch
and kick, each a sequence of key poses (:mod:`~usd_synth.motion.library.oneshot`) with life laid over it.

The generators are public: the catalogue (:mod:`~usd_synth.motion.library.catalogue`) registers them,
each ``(t, params, fps, life) -> (rotations, root)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from usd_synth.motion.library.ground import GRAVITY, drive_height, drive_velocity, support_height
from usd_synth.motion.library.life import Life
from usd_synth.motion.library.oneshot import (
    arms,
    crouch,
    fit,
    legs,
    other,
    perform,
    positions,
    timeline,
    trunk,
)
from usd_synth.motion.library.pose import Pose, keyed, smoothstep, stand
from usd_synth.skeleton import JOINT_CLEARANCE, JOINT_INDEX

_J = JOINT_INDEX
_Clip = tuple[np.ndarray, np.ndarray]


def _bump(t: np.ndarray, start: float, rise: float, hold: float, fall: float) -> np.ndarray:
    """0 -> 1 over ``rise`` from ``start``, held for ``hold``, back to 0 over ``fall`` (C1)."""
    up = smoothstep((t - start) / rise)
    down = smoothstep((t - start - rise - hold) / fall)
    return up * (1.0 - down)


def idle(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Standing at ease: breathing, sway over the ankles, weight shifts from leg to leg (the other knee
    relaxing), glances aside now and then, hands never quite still."""
    n = len(t)
    pose = Pose((n,))
    pose.main[:] = stand().main
    ph = p["phase"]
    # Weight shift: the pelvis moves over one leg and dwells there, then over the other.
    x = np.sin(2 * np.pi * (t / p["shift_period"] + ph))
    s = np.tanh(2.0 * x) / np.tanh(2.0)  # +1: weight on the right leg
    tilt = 2.2 * p["sway"] * s  # degrees the legs lean (both the same: a parallelogram)
    for hip in ("left_hip", "right_hip"):  # raw values: the same local turn for both legs
        pose.main[:, _J[hip], 2] += tilt
    drop = 2.5 * p["sway"] * s  # the unloaded side of the pelvis drops; the legs stay as they were
    pose.main[:, 0, 2] -= drop
    for hip in ("left_hip", "right_hip"):
        pose.main[:, _J[hip], 2] += drop
    pose.add("spine1", z=0.6 * drop)  # the trunk rights itself
    pose.add("spine2", z=0.5 * drop)
    for side, load in (("left", np.clip(s, 0, 1)), ("right", np.clip(-s, 0, 1))):  # the unloaded leg relaxes
        pose.main[:, _J[f"{side}_knee"], 0] += 9.0 * load * p["sway"]
        pose.main[:, _J[f"{side}_hip"], 0] -= 4.0 * load * p["sway"]
        pose.main[:, _J[f"{side}_ankle"], 0] += 2.0 * load * p["sway"]
    # Glances: now to one side, now to the other, held a moment; amplitudes and times from the phase.
    look = np.zeros(n)
    golden = 0.618034
    k, when = 0, 0.4 + 1.5 * ((ph * 7.3) % 1.0)
    while when < t[-1] + 1.0:
        frac = (ph * 3.1 + golden * (k + 1)) % 1.0
        sign = 1.0 if (k + int(ph * 10)) % 2 == 0 else -1.0
        look += sign * p["look"] * (0.55 + 0.45 * frac) * _bump(t, when, 0.45, 0.5 + 0.8 * frac, 0.55)
        when += 1.9 + 1.4 * frac
        k += 1
    return perform(t, n, pose, p, fps, life, head=0.7, sway=p["sway"], breath_rate=p["breathing"],
                   head_turn=look)  # fmt: skip


def jump(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """A countermovement jump: dip with the arms back, drive up swinging the arms, fly, land and absorb."""
    flight = 2.0 * math.sqrt(2.0 * p["height"] / GRAVITY)
    heading = p["heading"]
    t_dip = p["start"] + 0.5
    t_off = t_dip + 0.26
    t_land = t_off + flight
    t_absorb = t_land + 0.26
    crouch_knee, tuck, swing = p["crouch"], p["tuck"], p["arm_swing"]
    dip = crouch(crouch_knee, 35.0)
    arms(dip, -50.0 * swing, 14.0)
    takeoff = legs(arms(trunk(stand(), 5.0), 150 * swing, 15.0), 3.0, 6.0, -40.0)
    apex = arms(trunk(stand(), 8.0 * tuck), 130 * swing, 25.0)
    landing = legs(arms(trunk(stand(), 5.0), 80 * swing, 20.0), 12.0, 16.0, -22.0)
    absorb = crouch(0.75 * crouch_knee, 28.0, 40.0 * swing)
    keys: list = [
        (0.0, stand()),
        (p["start"], stand()),
        (t_dip, dip),
        (t_off, takeoff),
        (t_off + 0.5 * flight, legs(apex, 10.0 + 40.0 * tuck, 12.0 + 60.0 * tuck, -30.0)),
        (t_land, landing),
        (t_absorb, absorb),
        (t_absorb + 0.8, stand()),
    ]
    # Ballistic speeds at take-off and touch-down for this flight time and these two support heights.
    z_off, z_land = (float(h) for h in support_height(keyed(np.array([t_off, t_land]), keys), heading))
    v_off = (z_land - z_off) / flight + 0.5 * GRAVITY * flight
    v_land = (z_land - z_off) / flight - 0.5 * GRAVITY * flight
    # The legs leave the ground extending and meet it flexing: the keys around the flight carry part of
    # the driven spans' speeds, so the joints slow down through take-off and landing without a dead stop.
    keys[3] = (t_off, takeoff, drive_velocity(dip, takeoff, v_off, heading, 1.0, 0.3))
    keys[5] = (t_land, landing, drive_velocity(landing, absorb, v_land, heading, 0.0, 0.5))
    tf = timeline(t, t_absorb + 0.9, fps)
    pose = keyed(tf, keys)
    drive_height(pose, tf, (t_dip, t_off), dip, takeoff, 0.0, v_off, heading)
    drive_height(pose, tf, (t_land, t_absorb), landing, absorb, v_land, 0.0, heading)
    # Catching one's breath after landing.
    pant = 1.0 + 0.8 * smoothstep((tf - t_land) / 0.5)
    return perform(tf, len(t), pose, p, fps, life, flights=[(t_off, t_land)], breath=pant,
                   breath_rate=life.breath_rate * pant)  # fmt: skip


def wave(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
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
    trunk(up, 0.0, side=4.0 if side == "left" else -4.0)
    rise = 0.6 / p["speed"]
    keys = [
        (0.0, stand()),
        (p["start"], stand()),
        (p["start"] + rise, up),
        (end - 1.0, up),
        (end - 0.15, stand()),
    ]
    tf = timeline(t, end, fps)
    pose = keyed(tf, keys)
    envelope = smoothstep((tf - p["start"] - 0.6 * rise) / 0.35) * (1.0 - smoothstep((tf - end + 1.1) / 0.35))
    osc = envelope * np.sin(2 * np.pi * p["rate"] * (tf - p["start"]))
    pose.add(f"{side}_elbow", y=-p["amplitude"] * osc)
    pose.add(f"{side}_wrist", z=-0.6 * p["amplitude"] * osc)
    turn = (10.0 if side == "left" else -10.0) * envelope  # looking toward whom one waves at
    arms_level = 1.0 - 0.8 * envelope
    return perform(tf, len(t), pose, p, fps, life, head=0.5, head_turn=turn, arms_level=arms_level)


def squat(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Squats with the feet flat: hips back and down, trunk leaning over the feet, arms forward for
    balance; as many repetitions as fit in the clip, then standing, catching one's breath."""
    tempo = p["tempo"]
    total = t[-1] + 1.0 / fps
    reps = max(1, int((total - p["start"] - 0.4) // tempo))
    knee = p["depth"]
    lean = min(0.33 * knee, 38.0) + 8.0
    bottom = crouch(knee, lean, (80.0 + lean) * p["arms"])
    keys: list[tuple[float, Pose]] = [(0.0, stand())]
    for r in range(reps):
        t0 = p["start"] + r * tempo
        keys += [
            (t0, stand()),
            (t0 + 0.45 * tempo, bottom),
            (t0 + 0.6 * tempo, bottom),
            (t0 + tempo, stand()),
        ]
    end = p["start"] + reps * tempo
    tf = timeline(t, end + 0.3, fps)
    pant = 1.0 + 0.5 * smoothstep((tf - p["start"]) / max(end - p["start"], 0.5))
    return perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.6, breath=pant,
                   breath_rate=life.breath_rate * pant)  # fmt: skip


def _hand_height(pose: Pose, hands: list[int]) -> np.ndarray:
    """(T,) height of the lower hand's surface above the lower sole (m)."""
    gh = positions(pose)[..., 2] - JOINT_CLEARANCE
    feet = [_J[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    return gh[:, hands].min(axis=1) - gh[:, feet].min(axis=1)


def reach_up(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Reach up to a high shelf, on tiptoe when it is high, take something and bring it down to the
    chest; with one hand or both."""
    sides = ("left", "right") if p["hand"] == "both" else (p["hand"],)
    k = p["speed"]
    t0 = p["start"]
    t_up = t0 + 0.8 / k
    t_grasp = t_up + p["hold"]
    t_chest = t_grasp + 0.75 / k
    t_end = t_chest + 0.5
    heel = -22.0 * p["tiptoe"]  # foot pitch: heels up, standing on the balls of the feet
    reach = stand()
    trunk(
        reach,
        -4.0 - 3.0 * p["tiptoe"],
        side=0.0 if len(sides) == 2 else (4.0 if sides[0] == "left" else -4.0),
    )
    legs(reach, 0.0, 0.0, heel)
    reach.set(neck=(-8.0, 0, 0), head=(-14.0, 0, 0))
    grasp = reach.copy()
    down = stand()
    for side in sides:
        arms(reach, p["reach"], 6.0, side, spread=-80.0)
        reach.set(**{f"{side}_wrist": (0.0, 0.0, 15.0)})
        arms(grasp, p["reach"] - 8.0, 14.0, side, spread=-80.0)
        grasp.set(**{f"{side}_wrist": (0.0, 0.0, -10.0), f"{side}_hand": (0.0, 0.0, -25.0)})
        arms(down, 38.0, 105.0 if len(sides) == 2 else 95.0, side, spread=-82.0)
        down.set(**{f"{side}_hand": (0.0, 0.0, -25.0)})
    keys = [
        (0.0, stand()),
        (t0, stand()),
        (t0 + 0.55 * (t_up - t0), _mix(stand(), reach, 0.6)),
        (t_up, reach),
        (t_grasp, grasp),
        (t_chest, down),
        (t_end, down),
    ]
    tf = timeline(t, t_end + 0.2, fps)
    pose = keyed(tf, keys)
    busy = _bump(tf, t0, 0.5, t_chest - t0, 0.5)
    return perform(tf, len(t), pose, p, fps, life, head=0.3, arms_level=1.0 - 0.7 * busy)


def _mix(a: Pose, b: Pose, w: float) -> Pose:
    """A key pose between ``a`` (w = 0) and ``b`` (w = 1), angle by angle."""
    out = a.copy()
    out.main = (1 - w) * a.main + w * b.main
    out.pre = (1 - w) * a.pre + w * b.pre
    return out


def bend_pick_up(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Bend down (from the hips with the knees soft, or squatting), take something from the floor with one
    hand or both, and straighten up holding it."""
    sides = ("left", "right") if p["hand"] == "both" else (p["hand"],)
    hands = [_J[f"{s}_hand"] for s in sides]
    k = p["speed"]
    t0 = p["start"]
    t_down = t0 + 1.0 / k
    t_grasp = t_down + 0.35
    t_up = t_grasp + 1.0 / k
    t_end = t_up + 0.5
    target = 0.06  # the hand's surface this far above the floor: it takes hold of an object there

    def bent(x: float) -> Pose:  # x 0..1: how far down (trunk lean and knee bend together)
        if p["style"] == "squat":
            lean = 25.0 + 35.0 * x
            pose = crouch(100.0 + 40.0 * x, lean)
        else:
            lean = 60.0 + 55.0 * x
            pose = trunk(stand(), lean, 0.55)
            legs(pose, 25.0 + 20.0 * x, 30.0 + 35.0 * x)
        for side in sides:  # the arms hang straight down to the floor
            arms(pose, lean - 8.0, 10.0, side, spread=-82.0)
            pose.set(**{f"{side}_hand": (0.0, 0.0, -20.0)})
        if len(sides) == 1:  # the free hand steadies itself on the thigh
            arms(pose, 0.6 * lean, 35.0, other(sides[0]), spread=-70.0)
        return pose

    _, down = fit(bent, lambda pose: _hand_height(pose, hands), target, 1.0, 0.0)
    holding = stand()
    for side in sides:
        if len(sides) == 2:
            arms(holding, 30.0, 80.0, side, spread=-84.0)
        else:
            arms(holding, 5.0, 25.0, side, spread=-76.0)
        holding.set(**{f"{side}_hand": (0.0, 0.0, -25.0)})
    if len(sides) == 2:
        trunk(holding, -3.0)
    else:
        trunk(holding, 0.0, side=(4.0 if sides[0] == "right" else -4.0))  # leaning away from the load
    grasp = down.copy()
    for side in sides:
        grasp.set(**{f"{side}_hand": (0.0, 0.0, -35.0)})
    keys = [
        (0.0, stand()),
        (t0, stand()),
        (t_down, down),
        (t_grasp, grasp),
        (t_up, holding),
        (t_end, holding),
    ]
    tf = timeline(t, t_end + 0.2, fps)
    busy = _bump(tf, t0, 0.4, t_up - t0, 0.4)
    return perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.3, arms_level=1.0 - 0.7 * busy)


def punch(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Raise the guard, throw one to four straight punches (alternating hands, starting with ``hand``),
    drop the guard."""
    k = p["speed"]
    count = int(p["punches"])
    lead = p["hand"]
    guard = trunk(stand(), 6.0)
    legs(guard, 10.0, 18.0)
    for side in ("left", "right"):
        arms(guard, 45.0, 125.0, side, spread=-62.0)
        guard.set(**{f"{side}_wrist": (0.0, 0.0, -15.0)})
    guard.set(neck=(6.0, 0, 0), head=(4.0, 0, 0))
    t_guard = p["start"] + 0.55
    keys: list[tuple[float, Pose]] = [(0.0, stand()), (p["start"], stand()), (t_guard, guard)]
    when = t_guard + 0.25
    side = lead
    for i in range(count):
        out = guard.copy()
        sign = 1.0 if side == "right" else -1.0  # twisting left brings the right shoulder forward
        trunk(out, 8.0, twist=18.0 * sign)
        legs(out, 10.0, 18.0)
        arms(out, 86.0, 8.0 + 30.0 * (1.0 - p["reach"]), side, spread=-84.0)
        out.set(**{f"{side}_wrist": (0.0, 0.0, 0.0)})
        reach = 0.22 / k
        keys += [(when, guard), (when + reach, out), (when + reach + 0.3 / k, guard)]
        when += reach + 0.3 / k + 0.18 + 0.12 * ((i * 0.618 + p["reach"]) % 1.0)
        side = other(side)
    t_end = when + 0.1
    keys += [(t_end, guard), (t_end + 0.7, stand())]
    tf = timeline(t, t_end + 0.8, fps)
    busy = _bump(tf, p["start"], 0.4, t_end - p["start"], 0.6)
    pose = keyed(tf, keys)
    # The guard is never still: the fists circle a little (the shoulder in quadrature, the elbow with it).
    w = 2 * np.pi * 1.3 * tf
    for side, lag in (("left", 0.0), ("right", 2.1)):
        pose.add(f"{side}_shoulder", x=3.0 * busy * np.sin(w + lag), z=2.5 * busy * np.cos(w + lag))
        pose.add(f"{side}_elbow", y=-5.0 * busy * np.sin(w + lag + 0.7))
    return perform(tf, len(t), pose, p, fps, life, head=0.6, arms_level=1.0 - 0.8 * busy)


def kick(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """A front kick: shift the weight onto the standing leg, chamber the knee, snap the foot out, pull it
    back and set it down; the arms balance."""
    side = p["side"]
    stance = other(side)
    k = p["speed"]
    height = p["height"]
    prep = trunk(stand(), -3.0, side=(3.0 if side == "left" else -3.0))
    legs(prep, 0.0, 10.0, side=stance)
    legs(prep, 6.0, 14.0, 0.0, side=side)
    for s in ("left", "right"):
        arms(prep, 25.0, 60.0, s, spread=-55.0)
    chamber = prep.copy()
    trunk(chamber, -8.0, side=(4.0 if side == "left" else -4.0))
    legs(chamber, 4.0, 14.0, side=stance)
    legs(chamber, height, 105.0, -10.0, side=side)
    arms(chamber, 40.0, 70.0, side, spread=-45.0)
    arms(chamber, 20.0, 80.0, stance, spread=-50.0)
    out = chamber.copy()
    trunk(out, -14.0, side=(4.0 if side == "left" else -4.0))
    legs(out, 4.0, 14.0, side=stance)
    legs(out, height + 6.0, 6.0, height - 20.0, side=side)
    back = chamber.copy()
    down = prep.copy()
    t0 = p["start"]
    t_prep = t0 + 0.4
    t_chamber = t_prep + 0.3 / k
    t_out = t_chamber + 0.2 / k
    t_back = t_out + 0.22 / k
    t_down = t_back + 0.35 / k
    keys = [
        (0.0, stand()),
        (t0, stand()),
        (t_prep, prep),
        (t_chamber, chamber),
        (t_out, out),
        (t_back, back),
        (t_down, down),
        (t_down + 0.6, stand()),
    ]
    tf = timeline(t, t_down + 0.7, fps)
    busy = _bump(tf, t0, 0.3, t_down - t0, 0.5)
    return perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.6, arms_level=1.0 - 0.7 * busy,
                   sway=1.0 - busy)  # fmt: skip
