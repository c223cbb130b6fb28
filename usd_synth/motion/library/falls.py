"""Losing balance and lying down: fall_forward, fall_backward, fall_sideways (and fall_down, which picks a
direction), stumble (balance lost and regained with quick steps) and lie_down (a voluntary lying down).

Falls are key poses too, but timed as falls are: the body gathers speed as it goes down and meets the
floor fast, then stops over a few frames as hands, knees, hips and back absorb the impact (the key at the
impact carries that speed, and the short settle after it decelerates without overshoot). The body ends
lying *on* the floor, the pelvis or hip on it (the lying poses are fitted to the body surface model,
:data:`~usd_synth.skeleton.JOINT_CLEARANCE`), and does not freeze: it breathes, a little deeper after the
shock, and after a moment stirs (lifts or turns the head, moves an arm, draws up a leg) as far as the
``stir`` parameter says.

The generators are public: the catalogue registers them, each ``(t, params, fps, life) -> (rotations,
root)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from usd_synth.motion.library.life import Life
from usd_synth.motion.library.oneshot import (
    argmin,
    arms,
    crouch,
    fit,
    gap,
    legs,
    other,
    perform,
    timeline,
    trunk,
)
from usd_synth.motion.library.pose import Pose, keyed, smoothstep, stand, velocity
from usd_synth.skeleton import JOINT_INDEX

_J = JOINT_INDEX

_Clip = tuple[np.ndarray, np.ndarray]
_SETTLE = 0.22  # s from the impact to rest
_PELVIS_REGION = (0, 1, 2, 3)  # pelvis, hips, spine1: what a body lying on the floor rests on
_HANDS = (20, 21, 22, 23)  # wrists and hands
_FEET = (7, 8, 10, 11)  # ankles and balls of the feet


def _bump(t: np.ndarray, start: float, rise: float, hold: float, fall: float) -> np.ndarray:
    """0 -> 1 over ``rise`` from ``start``, held for ``hold``, back to 0 over ``fall`` (C1)."""
    return smoothstep((t - start) / rise) * (1.0 - smoothstep((t - start - rise - hold) / fall))


def _impact(keys: list, t_impact: float, hit: Pose, rest: Pose, settle: float = _SETTLE) -> None:
    """Append the impact key (still moving fast: the speed that the settle can absorb without overshoot,
    2.4 times its mean) and the rest key ``settle`` seconds later. Joints that ``hit`` leaves as they are
    at rest are taken 15 % short of rest, coming from the previous key: the whole body, not just the
    trunk, is still moving when it lands."""
    before = keys[-1][1]
    hit = hit.copy()
    for attr in ("main", "pre"):
        h, r, b = getattr(hit, attr), getattr(rest, attr), getattr(before, attr)
        setattr(hit, attr, np.where(np.isclose(h, r), r + 0.15 * (b - r), h))
    keys.append((t_impact, hit, velocity(hit, rest, settle, gain=2.4)))
    keys.append((t_impact + settle, rest))


def _lying_life(tf: np.ndarray, t_down: float) -> dict[str, Any]:
    """Life levels for a body that goes down at ``t_down``: no sway once down, quieter arms and head,
    deeper and quicker breathing after the shock, easing back."""
    down = smoothstep((tf - t_down + 0.4) / 0.5)
    shock = down * (1.0 - 0.5 * smoothstep((tf - t_down - 1.5) / 2.0))
    return {
        "sway": 1.0 - down,
        "arms_level": 1.0 - 0.5 * down,
        "head_level": 1.0 - 0.5 * down,
        "breath": 1.0 + 0.8 * shock,
    }


def _rest_on_floor(make: Callable[[float], Pose], lo: float, hi: float) -> Pose:
    """The pose of ``make(x)`` (x in [lo, hi], degrees: a root pitch, a side bend) whose pelvis rests on the
    floor together with the rest of the body: the pelvis region's surface as close as it comes to the
    body's lowest point."""
    return make(argmin(make, _pelvis_gap, lo, hi))


def _pelvis_gap(pose: Pose) -> np.ndarray:
    """(T,) how far the pelvis region's surface is above the body's lowest point (m)."""
    return gap(pose, _PELVIS_REGION)


def _prone(turn: str) -> Pose:
    """Lying face down: legs long with the toes pointed, the upper arms out to the sides with the hands by
    the head (they broke the fall), the head turned to ``turn`` and resting on the cheek."""
    yaw = 75.0 if turn == "left" else -75.0

    def make(pitch: float) -> Pose:
        pose = stand()
        pose.set(root=(pitch, 0.0, 0.0), spine1=(-2.0, 0, 0), spine2=(-2.0, 0, 0), spine3=(-2.0, 0, 0))
        pose.set(hip=(-2.0, 0.0, 6.0), knee=(8.0, 0, 0), ankle=(55.0, 0, 0), foot=(-10.0, 0, 0))
        arms(pose, 90.0, 95.0, spread=-8.0)
        pose.set(neck=(-12.0, 0.4 * yaw, 0.0), head=(-10.0, 0.6 * yaw, 0.0))
        return pose

    return _rest_on_floor(make, 80.0, 95.0)


def _supine(knees: float) -> Pose:
    """Lying on the back, the arms out a little, the knees bent by ``knees`` degrees (feet on the floor)."""

    def make(pitch: float) -> Pose:
        pose = stand()
        pose.set(root=(-pitch, 0.0, 0.0))
        pose.set(hip=(-0.55 * knees, 0.0, 5.0), knee=(knees, 0, 0), ankle=(-0.3 * knees, 0, 0))
        arms(pose, 0.0, 25.0, spread=-45.0)
        pose.set(neck=(4.0, 0, 0), head=(4.0, 0, 0))
        return pose

    return _rest_on_floor(make, 80.0, 95.0)


def _on_side(side: str) -> Pose:
    """Lying on the ``side`` hip and shoulder, turned a little toward the front, the waist bending down to
    the floor between them, knees drawn up (the upper one further, in front), the lower arm out in front
    under the head, the upper one resting in front of the chest."""
    roll = 1.0 if side == "right" else -1.0  # root z > 0 rolls the body onto its right side
    up = other(side)

    def make(bend: float, spread: float = 0.0, reach: float = -60.0) -> Pose:
        pose = stand()
        pose.set(root=(10.0, 0.0, 90.0 * roll))
        for j in ("spine1", "spine2", "spine3"):
            pose.set(**{j: (0.0, 0.0, -bend * roll / 3)})  # side bend toward the upper side
        pose.set(
            **{f"{side}_hip": (-30.0, 0, spread), f"{side}_knee": (40.0, 0, 0), f"{side}_ankle": (5.0, 0, 0)}
        )
        pose.set(**{f"{up}_hip": (-60.0, 0, 8.0), f"{up}_knee": (75.0, 0, 0), f"{up}_ankle": (10.0, 0, 0)})
        arms(pose, 100.0, 70.0, side, spread=-60.0)
        pose.set(neck=(4.0, 0.0, 8.0 * roll), head=(4.0, 0.0, 8.0 * roll))
        return pose

    def upper_arm(spread: float) -> Pose:  # the upper hand comes to rest on the floor in front
        pose = make(bend, lower, reach)
        return arms(pose, 50.0, 60.0, up, spread=spread)

    def hand_gap(pose: Pose) -> np.ndarray:
        return gap(pose, (_J[f"{up}_hand"],))

    # The waist bends down between shoulder and hip, and the lower leg lies along the floor, not under it.
    bend, lower, reach = 10.0, 0.0, -60.0
    for _ in range(2):  # each settles the pelvis against a different part: shoulder, knee, elbow
        bend = argmin(lambda x, lo=lower, re=reach: make(x, lo, re), _pelvis_gap, -5.0, 45.0)
        lower = argmin(lambda x, be=bend, re=reach: make(be, x, re), _pelvis_gap, -20.0, 20.0)
        reach = argmin(lambda x, be=bend, lo=lower: make(be, lo, x), _pelvis_gap, -110.0, -20.0)
    return fit(upper_arm, hand_gap, 0.01, -150.0, -70.0)[1]


def _sitting_on_floor(lean: float) -> Pose:
    """Sitting on the floor, knees up and feet flat, leaning back by ``-lean`` degrees on the hands
    behind; the knees fitted so that the pelvis rests on the floor with the feet."""

    def make(knee: float) -> Pose:
        pose = trunk(stand(), lean, 0.6)
        legs(pose, 112.0, knee, 0.0)
        return arms(pose, -45.0, 5.0, spread=-60.0)

    return _rest_on_floor(make, 55.0, 120.0)


def _stir(rest: Pose, kind: str, amount: float, side: str) -> Pose:
    """A moment after the fall: lift the head and draw a hand in by the head (prone), lift the head and
    draw up a knee (supine), lift the head and move the upper arm (on the side); ``amount`` 0..1."""
    pose = rest.copy()
    if kind == "prone":
        pose.main[_J["head"], 0] -= 14.0 * amount  # head up
        pose.main[_J["neck"], 0] -= 10.0 * amount
        arms(pose, 90.0, 95.0 + 35.0 * amount, side, spread=-8.0 + 18.0 * amount)
        pose.main[_J["head"], 1] *= 1.0 - 0.4 * amount  # and turns a little toward the floor
    elif kind == "supine":
        pose.main[_J["head"], 0] += 14.0 * amount  # head lifted toward the chest
        pose.main[_J["neck"], 0] += 10.0 * amount
        knee = float(pose.main[_J[f"{side}_knee"], 0]) + 50.0 * amount
        pose.set(**{f"{side}_hip": (-0.55 * knee, 0, 5.0), f"{side}_knee": (knee, 0, 0),
                    f"{side}_ankle": (-0.3 * knee, 0, 0)})  # fmt: skip
        arms(pose, 15.0 * amount, 25.0 + 70.0 * amount, other(side), spread=-45.0 + 10.0 * amount)
    else:
        pose.main[_J["head"], 2] += (12.0 if side == "left" else -12.0) * amount
        j = _J[f"{other(side)}_shoulder"]
        pose.main[j, 0] -= 25.0 * amount  # the upper arm reaches forward along the floor
    return pose


def _finish_lying(keys: list, t_rest: float, rest: Pose, kind: str, p: dict[str, Any], side: str) -> float:
    """Stir a moment after coming to rest and settle again; returns when it is done."""
    a = p["stir"]
    t1 = t_rest + 0.35
    t2 = t1 + 0.6 / max(p["speed"], 0.5)
    keys += [(t1, rest), (t2, _stir(rest, kind, a, side)), (t2 + 0.5, _stir(rest, kind, 0.8 * a, side)),
             (t2 + 1.2, rest)]  # fmt: skip
    return t2 + 1.2


def fall_forward(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Trip or faint forward: the knees buckle, the hands reach out, knees then hands meet the floor and
    the body goes down onto the chest; face down, head turned, breathing; stirs."""
    s, k = p["start"], p["speed"]
    side = p["side"]
    buckle = legs(arms(trunk(stand(), 20.0), 45.0, 30.0, spread=-62.0), 28.0, 40.0)
    # Kneeling: knees on the floor, shins rising a little behind them to heels up, toes on the floor.
    kneel = legs(arms(trunk(stand(), 38.0), 85.0, 15.0, spread=-62.0), 20.0, 118.0, -55.0)

    def on_hands(lean: float) -> Pose:  # the trunk leans until the hands, reaching down, meet the floor
        return legs(arms(trunk(stand(), lean, 0.6), lean + 5.0, 10.0, spread=-72.0), 45.0, 142.0, -40.0)

    hands = fit(on_hands, lambda pose: gap(pose, _HANDS), 0.005, 95.0, 50.0)[1]
    rest = _prone(side)
    hit = rest.copy()
    hit.main[0, 0] -= 10.0
    arms(hit, 90.0, 60.0, spread=-8.0)
    keys: list = [(0.0, stand()), (s, stand())]
    keys += [(s + 0.28 / k, buckle), (s + 0.55 / k, kneel), (s + 0.78 / k, hands)]
    t_hit = s + 1.02 / k
    _impact(keys, t_hit, hit, rest)
    end = _finish_lying(keys, t_hit + _SETTLE, rest, "prone", p, side)
    tf = timeline(t, end + 0.1, fps)
    return perform(
        tf, len(t), keyed(tf, keys), p, fps, life, head=0.0, pin_feet=False, **_lying_life(tf, t_hit)
    )


def fall_backward(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Slip and fall backward: the arms fly up, the body sits down hard, the hands reach back, the back
    and shoulders meet the floor, the head held off it; on the back, knees bent, breathing; stirs."""
    s, k = p["start"], p["speed"]
    side = p["side"]
    slip = legs(arms(trunk(stand(), -8.0), 70.0, 30.0, spread=-40.0), 25.0, 28.0, 10.0)
    sink = trunk(stand(), 10.0, 0.3)
    legs(sink, 80.0, 125.0, 0.0)
    arms(sink, 10.0, 20.0, spread=-55.0)

    seated = _sitting_on_floor(-25.0)
    rest = _supine(40.0 + 30.0 * p["stir"])
    back = rest.copy()  # the back meets the floor, the legs swinging up with the roll
    back.main[0, 0] += 16.0
    back.set(hip=(-75.0, 0.0, 5.0), knee=(65.0, 0, 0), ankle=(-10.0, 0, 0))
    back.main[_J["neck"], 0] += 12.0  # the chin tucked, the head held off the floor
    keys: list = [(0.0, stand()), (s, stand())]
    keys += [(s + 0.25 / k, slip), (s + 0.5 / k, sink)]
    t_sit = s + 0.7 / k
    keys.append((t_sit, seated, velocity(seated, back, 0.3 / k, gain=0.8)))
    t_back = t_sit + 0.3 / k
    _impact(keys, t_back, back, rest)
    end = _finish_lying(keys, t_back + _SETTLE, rest, "supine", p, side)
    tf = timeline(t, end + 0.1, fps)
    # The feet slip forward (they lose their grip from the slip until the seat lands) while the pelvis
    # drops nearly straight down.
    grip = np.ones((len(tf), 24))
    slipping = _bump(tf, s + 0.1 / k, 0.15 / k, t_sit - s - 0.25 / k, 0.1 / k)
    for j in _FEET:
        grip[:, j] = 1.0 - 0.35 * slipping
    return perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.0, pin_feet=False, grip=grip,
                   **_lying_life(tf, t_sit))  # fmt: skip


def fall_sideways(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Lose balance to one side: the knees give, the body tips over, the arm on that side reaches out, hip
    and shoulder meet the floor; lying on that side, knees drawn up, breathing; stirs."""
    s, k = p["start"], p["speed"]
    side = p["side"]
    roll = 1.0 if side == "right" else -1.0
    up = other(side)
    buckle = legs(trunk(stand(), 12.0, side=6.0 * roll).set(root=(4.0, 0.0, 8.0 * roll)), 30.0, 50.0)
    arms(buckle, 25.0, 25.0, side, spread=-45.0)
    arms(buckle, 30.0, 40.0, up, spread=-55.0)
    # The knees give way and the pelvis drops toward the floor, tipping to the side, the arm reaching.
    drop = legs(trunk(stand(), 18.0, side=-6.0 * roll).set(root=(8.0, 0.0, 28.0 * roll)), 62.0, 105.0)
    arms(drop, 35.0, 10.0, side, spread=-25.0)
    arms(drop, 45.0, 50.0, up, spread=-60.0)
    # The hip meets the floor, the trunk still above it, bending up.
    hip = stand().set(root=(12.0, 0.0, 68.0 * roll))
    for j in ("spine1", "spine2", "spine3"):
        hip.set(**{j: (4.0, 0.0, -8.0 * roll)})
    hip.set(**{f"{side}_hip": (-45.0, 0, 0), f"{side}_knee": (70.0, 0, 0), f"{up}_hip": (-60.0, 0, 6.0),
               f"{up}_knee": (85.0, 0, 0)})  # fmt: skip
    arms(hip, 60.0, 15.0, side, spread=-35.0)
    arms(hip, 50.0, 60.0, up, spread=-70.0)
    rest = _on_side(side)
    hit = rest.copy()
    hit.main[0, 2] -= 10.0 * roll
    keys: list = [(0.0, stand()), (s, stand())]
    keys += [(s + 0.3 / k, buckle), (s + 0.58 / k, drop), (s + 0.78 / k, hip)]
    t_hit = s + 0.98 / k
    _impact(keys, t_hit, hit, rest)
    end = _finish_lying(keys, t_hit + _SETTLE, rest, "side", p, side)
    tf = timeline(t, end + 0.1, fps)
    return perform(
        tf, len(t), keyed(tf, keys), p, fps, life, head=0.0, pin_feet=False, **_lying_life(tf, t_hit)
    )


def fall_down(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """A fall in the given ``direction`` (forward, backward or sideways onto ``side``)."""
    fall = {"forward": fall_forward, "backward": fall_backward, "sideways": fall_sideways}[p["direction"]]
    return fall(t, p, fps, life)


def stumble(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Trip (or be pushed from behind): the body pitches forward, the arms fly out, two or three quick
    steps catch it, and the person straightens up, a little shaken."""
    s, k = p["start"], p["speed"]
    first = p["side"]
    second = other(first)
    steps = int(p["steps"])
    lurch = 10.0 + 12.0 * p["force"]
    keys: list = [(0.0, stand()), (s, stand())]
    trip = trunk(stand(), lurch * 0.6)
    legs(trip, -6.0, 6.0, side=first)
    legs(trip, 4.0, 10.0, side=second)
    arms(trip, 35.0, 30.0, spread=-40.0)
    t_now = s + 0.18 / k
    keys.append((t_now, trip))
    stance, swing = second, first
    for i in range(steps):
        pitch = lurch * (1.0 - 0.28 * i)
        length = (30.0 + 8.0 * p["force"]) * (1.0 - 0.22 * i)
        lift = trunk(stand(), pitch)
        legs(lift, 0.6 * length, 55.0, -5.0, side=swing)
        legs(lift, -0.5 * length, 24.0, -12.0, side=stance)
        arms(lift, 50.0 - 10.0 * i, 30.0, swing, spread=-35.0)
        arms(lift, 20.0, 40.0, stance, spread=-30.0)
        land = trunk(stand(), pitch * 0.85)
        legs(land, length, 12.0, 2.0, side=swing)
        legs(land, -0.6 * length, 14.0, -25.0, side=stance)
        arms(land, 40.0 - 10.0 * i, 30.0, swing, spread=-40.0)
        arms(land, 15.0, 35.0, stance, spread=-35.0)
        dt = (0.24 + 0.03 * i) / k
        keys += [(t_now + dt, lift), (t_now + 2 * dt, land)]
        t_now += 2 * dt
        stance, swing = swing, stance
    # Bring the trailing foot up beside the other and straighten up.
    gather = trunk(stand(), 8.0)
    legs(gather, 10.0, 40.0, -5.0, side=swing)
    legs(gather, 0.0, 10.0, side=stance)
    arms(gather, 20.0, 30.0, spread=-55.0)
    settle = legs(trunk(stand(), 4.0), 6.0, 12.0)
    keys += [(t_now + 0.3 / k, gather), (t_now + 0.75 / k, settle), (t_now + 1.5, stand())]
    end = t_now + 1.6
    tf = timeline(t, end, fps)
    shaken = 1.0 + 0.7 * smoothstep((tf - s) / 0.6)
    return perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.4, breath=shaken,
                   breath_rate=life.breath_rate * shaken, sway=0.0)  # fmt: skip


def lie_down(t: np.ndarray, p: dict[str, Any], fps: float, life: Life) -> _Clip:
    """Lie down on the floor: squat, reach back with one hand, sit, lower onto the elbows and then the
    back; resting supine, breathing, legs stretched or knees up."""
    s, k = p["start"], p["speed"]
    side = p["side"]
    low = crouch(105.0, 30.0, 30.0)
    reach = crouch(118.0, 22.0, 10.0)
    arms(reach, -35.0, 10.0, side, spread=-60.0)
    sit = _sitting_on_floor(-20.0)

    def on_elbows(knee: float, flex: float = -40.0) -> Pose:  # reclining on the forearms, knees still up
        pose = trunk(stand(), -62.0, 0.8)
        legs(pose, 112.0, knee, 0.0)
        return arms(pose, flex, 100.0, spread=-72.0)

    knee = argmin(on_elbows, _pelvis_gap, 60.0, 120.0)
    elbows = fit(lambda f: on_elbows(knee, f), lambda pose: gap(pose, (18, 19)), 0.005, -100.0, 0.0)[1]
    rest = _supine(p["knees"])
    keys: list = [(0.0, stand()), (s, stand())]
    keys += [(s + 0.7 / k, low), (s + 1.2 / k, reach), (s + 1.7 / k, sit), (s + 2.4 / k, elbows)]
    t_rest = s + 3.1 / k
    keys += [(t_rest, rest), (t_rest + 1.0, rest)]
    tf = timeline(t, t_rest + 1.1, fps)
    down = smoothstep((tf - s - 1.2 / k) / 0.8)
    return perform(tf, len(t), keyed(tf, keys), p, fps, life, head=0.3 * (1 - down), pin_feet=False,
                   sway=1.0 - down, arms_level=1.0 - 0.5 * down, breath=1.0 + 0.6 * down)  # fmt: skip
