"""The catalogue of built-in actions (name, description, natural length, parameters, generator),
:func:`make_motion`, which draws an action's parameters and generates it as a :class:`Motion`, and
:func:`describe`, the long listing (``usd-synth motion list --long``) made from the same declarations."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.motion.library.actions import bend_pick_up, idle, jump, kick, punch, reach_up, squat, wave
from usd_synth.motion.library.falls import (
    fall_backward,
    fall_down,
    fall_forward,
    fall_sideways,
    lie_down,
    stumble,
)
from usd_synth.motion.library.gait import carry, push, run, walk
from usd_synth.motion.library.life import Life
from usd_synth.motion.library.params import HEADING, Param, draw_params
from usd_synth.motion.library.seated import sit_down, stand_up
from usd_synth.motion.model import Motion
from usd_synth.skeleton import template_offsets


@dataclass(frozen=True)
class _Action:
    description: str
    seconds: float
    params: dict[str, Param]
    build: Callable[..., tuple]
    alive: bool = True  #: the generator takes a :class:`Life` (the one-shot actions); gaits do not


def _speed(lo: float = 0.8, hi: float = 1.25) -> Param:
    return Param((lo, hi), (0.4, 2.5), help="pace, relative to typical (durations divide by it)")


def _start(lo: float = 0.2, hi: float = 0.6) -> Param:
    return Param((lo, hi), (0.0, 3.0), help="seconds before the action begins (standing, alive)")


_SIDE = Param(choices=("left", "right"), help="which side")
_STIR = Param((0.3, 1.0), (0.0, 1.0), help="how much the body moves once down (head, an arm, a leg)")

_GAIT_COMMON = {
    "hip_sway": Param((0.6, 1.4), (0.0, 2.5), help="pelvis rotation and list, relative to typical"),
    "knee_lift": Param((0.92, 1.12), (0.7, 1.4), help="knee flexion, relative to typical"),
    "phase": Param((0.0, 1.0), (0.0, 1.0), help="gait phase at the first frame (0: left heel strike)"),
    "heading": HEADING,
}
_ARM_SWING = {"arm_swing": Param((0.7, 1.3), (0.0, 2.0), help="arm swing, relative to typical")}

_FALL = {
    "side": Param(choices=("left", "right"), help="the way the head turns and the arm that stirs"),
    "speed": Param((0.85, 1.2), (0.5, 2.0), help="pace of the fall, relative to typical"),
    "start": _start(),
    "stir": _STIR,
    "heading": HEADING,
}

_ACTIONS: dict[str, _Action] = {
    "walk": _Action(
        "walk forward at a natural pace, arms swinging opposite to the legs",
        4.0,
        {
            "cadence": Param((100.0, 122.0), (70.0, 140.0), help="steps per minute"),
            "stride": Param((0.95, 1.25), (0.6, 1.5), help="thigh swing, relative to typical (step length)"),
            "lean": Param((0.0, 6.0), (-10.0, 20.0), help="trunk lean forward, degrees"),
            **_ARM_SWING,
            **_GAIT_COMMON,
        },
        walk,
        alive=False,
    ),
    "run": _Action(
        "run at 2.5-4 m/s with a flight phase after every step (both feet off the ground), elbows bent",
        3.0,
        {
            "cadence": Param((155.0, 180.0), (130.0, 200.0), help="steps per minute"),
            "stride": Param((0.95, 1.2), (0.7, 1.4), help="thigh swing, relative to typical (step length)"),
            "lean": Param((5.0, 12.0), (0.0, 25.0), help="trunk lean forward, degrees"),
            "elbow": Param((75.0, 100.0), (40.0, 130.0), help="elbow flexion, degrees"),
            **_ARM_SWING,
            **_GAIT_COMMON,
        },
        run,
        alive=False,
    ),
    "carry": _Action(
        "walk carrying a box in both hands in front, or a bag in one hand",
        4.0,
        {
            "style": Param(
                choices=("box", "bag_left", "bag_right"), help="what is carried, and in which hand"
            ),
            "load": Param((0.2, 1.0), (0.0, 1.0), help="how heavy it is (leaning against it, slower)"),
            "cadence": Param((92.0, 112.0), (70.0, 130.0), help="steps per minute"),
            "stride": Param((0.8, 1.05), (0.5, 1.3), help="thigh swing, relative to typical (step length)"),
            **_GAIT_COMMON,
        },
        carry,
        alive=False,
    ),
    "push": _Action(
        "push a trolley or cart: leaning into it, hands on the handle, short steps",
        4.0,
        {
            "force": Param((10.0, 28.0), (0.0, 40.0), help="trunk lean into the push, degrees"),
            "handle": Param((0.0, 1.0), (0.0, 1.0), help="handle height, 0 waist to 1 chest"),
            "cadence": Param((80.0, 104.0), (60.0, 120.0), help="steps per minute"),
            "stride": Param((0.7, 0.95), (0.5, 1.2), help="thigh swing, relative to typical (step length)"),
            **_GAIT_COMMON,
        },
        push,
        alive=False,
    ),
    "idle": _Action(
        "stand at ease: breathing, gentle sway and weight shifts, glancing around",
        4.0,
        {
            "sway": Param((0.5, 1.5), (0.0, 3.0), help="body sway and weight shifts, relative to typical"),
            "breathing": Param((0.2, 0.33), (0.1, 0.6), help="breaths per second"),
            "shift_period": Param((3.0, 6.0), (1.0, 20.0), help="seconds per weight shift cycle"),
            "look": Param((8.0, 35.0), (0.0, 60.0), help="how far the head turns to glance, degrees"),
            "phase": Param((0.0, 1.0), (0.0, 1.0), help="where in the sway cycle the clip starts"),
            "heading": HEADING,
        },
        idle,
    ),
    "jump": _Action(
        "countermovement jump in place: dip, swing the arms up, fly, land softly",
        3.0,
        {
            "height": Param(
                (0.2, 0.45), (0.1, 0.8), help="apex of the flight arc, metres (sets the flight time)"
            ),
            "crouch": Param(
                (65.0, 95.0), (40.0, 120.0), help="knee flexion at the bottom of the dip, degrees"
            ),
            "arm_swing": Param((0.6, 1.0), (0.0, 1.2), help="arm swing, relative to full"),
            "tuck": Param((0.0, 1.0), (0.0, 1.0), help="how far the knees tuck at the apex"),
            "start": Param((0.3, 0.6), (0.0, 3.0), help="seconds of standing before the dip"),
            "heading": HEADING,
        },
        jump,
    ),
    "wave": _Action(
        "stand and wave one hand above the head",
        3.0,
        {
            "hand": Param(choices=("left", "right"), help="which hand waves"),
            "raise": Param((20.0, 55.0), (10.0, 80.0), help="upper arm above the horizontal, degrees"),
            "rate": Param((1.5, 2.8), (0.5, 5.0), help="waves per second"),
            "amplitude": Param((18.0, 32.0), (5.0, 45.0), help="forearm swing each side, degrees"),
            "start": Param((0.1, 0.5), (0.0, 3.0), help="seconds before the arm rises"),
            "speed": _speed(),
            "heading": HEADING,
        },
        wave,
    ),
    "squat": _Action(
        "squat down with the feet flat and stand up again, repeated",
        4.0,
        {
            "depth": Param((90.0, 125.0), (60.0, 140.0), help="knee flexion at the bottom, degrees"),
            "tempo": Param((1.6, 2.4), (1.0, 5.0), help="seconds per repetition"),
            "arms": Param((0.0, 1.0), (0.0, 1.0), help="arms raised forward at the bottom (0: hanging)"),
            "start": Param((0.1, 0.4), (0.0, 3.0), help="seconds of standing first"),
            "heading": HEADING,
        },
        squat,
    ),
    "reach_up": _Action(
        "reach up to a high shelf (on tiptoe when high), take something down to the chest",
        3.5,
        {
            "hand": Param(choices=("left", "right", "both"), help="which hand reaches (or both)"),
            "reach": Param(
                (140.0, 172.0), (100.0, 180.0), help="arm raised forward-up, degrees from hanging"
            ),
            "tiptoe": Param((0.0, 1.0), (0.0, 1.0), help="how far the heels rise"),
            "hold": Param((0.3, 0.8), (0.0, 3.0), help="seconds reaching before taking hold"),
            "speed": _speed(),
            "start": _start(),
            "heading": HEADING,
        },
        reach_up,
    ),
    "bend_pick_up": _Action(
        "bend down, pick something up from the floor and straighten up holding it",
        3.5,
        {
            "style": Param(choices=("stoop", "squat"), help="bend from the hips, or squat down"),
            "hand": Param(choices=("left", "right", "both"), help="which hand picks up (or both)"),
            "speed": _speed(),
            "start": _start(),
            "heading": HEADING,
        },
        bend_pick_up,
    ),
    "punch": _Action(
        "raise the guard, throw straight punches with alternating hands, lower the guard",
        3.5,
        {
            "hand": Param(choices=("left", "right"), help="the hand of the first punch"),
            "punches": Param((1.0, 3.99), (1.0, 4.99), help="number of punches (whole part)"),
            "reach": Param((0.6, 1.0), (0.0, 1.0), help="how far the arm straightens"),
            "speed": _speed(),
            "start": _start(),
            "heading": HEADING,
        },
        punch,
    ),
    "kick": _Action(
        "front kick: weight onto one leg, chamber the knee, snap the foot out, set it down",
        3.0,
        {
            "side": Param(choices=("left", "right"), help="which leg kicks"),
            "height": Param((55.0, 85.0), (20.0, 95.0), help="thigh raised at the kick, degrees"),
            "speed": _speed(),
            "start": _start(),
            "heading": HEADING,
        },
        kick,
    ),
    "stumble": _Action(
        "trip or get pushed from behind, catch oneself with quick steps, recover",
        3.5,
        {
            "side": Param(choices=("left", "right"), help="the foot of the first catching step"),
            "steps": Param((2.0, 3.99), (1.0, 4.99), help="number of catching steps (whole part)"),
            "force": Param((0.2, 1.0), (0.0, 1.0), help="how hard the trip or push is"),
            "speed": _speed(0.9, 1.15),
            "start": _start(),
            "heading": HEADING,
        },
        stumble,
    ),
    "fall_forward": _Action(
        "trip or faint forward onto knees, hands and chest; lie face down, breathing, stirring",
        4.5,
        dict(_FALL),
        fall_forward,
    ),
    "fall_backward": _Action(
        "slip and fall backward onto the seat and back; lie on the back, breathing, stirring",
        4.5,
        dict(_FALL),
        fall_backward,
    ),
    "fall_sideways": _Action(
        "lose balance sideways onto hip and shoulder; lie on that side, breathing, stirring",
        4.5,
        {**_FALL, "side": Param(choices=("left", "right"), help="the side fallen onto")},
        fall_sideways,
    ),
    "fall_down": _Action(
        "lose balance and fall to the ground (forward, backward or sideways), ending lying down",
        4.5,
        {
            "direction": Param(choices=("forward", "backward", "sideways"), help="which way the body falls"),
            "side": Param(choices=("left", "right"), help="for a sideways fall: onto which side"),
            "speed": Param((0.85, 1.2), (0.5, 2.0), help="pace of the fall, relative to typical"),
            "start": _start(),
            "stir": _STIR,
            "heading": HEADING,
        },
        fall_down,
    ),
    "lie_down": _Action(
        "lie down on the floor: squat, sit, lower onto the elbows and the back; rest, breathing",
        5.0,
        {
            "side": Param(choices=("left", "right"), help="the hand that reaches back to the floor"),
            "knees": Param((0.0, 70.0), (0.0, 100.0), help="knee flexion lying down, degrees (0: legs long)"),
            "speed": _speed(0.95, 1.3),
            "start": _start(0.1, 0.4),
            "heading": HEADING,
        },
        lie_down,
    ),
    "sit_down": _Action(
        "sit down on a seat behind (seat top at seat_height; see motion.source['seat'])",
        3.5,
        {
            "seat_height": Param((0.4, 0.5), (0.3, 0.65), help="height of the seat top above the floor, m"),
            "lean": Param(
                (28.0, 42.0), (10.0, 55.0), help="trunk lean forward as the pelvis lowers, degrees"
            ),
            "arms": Param((0.0, 1.0), (0.0, 1.0), help="arms reaching forward for balance"),
            "speed": _speed(),
            "start": _start(),
            "heading": HEADING,
        },
        sit_down,
    ),
    "stand_up": _Action(
        "stand up from a seat (seat top at seat_height; see motion.source['seat'])",
        3.5,
        {
            "seat_height": Param((0.4, 0.5), (0.3, 0.65), help="height of the seat top above the floor, m"),
            "lean": Param((32.0, 45.0), (15.0, 55.0), help="trunk lean forward before rising, degrees"),
            "arms": Param((0.0, 1.0), (0.0, 1.0), help="arms swinging forward to help"),
            "speed": _speed(),
            "start": _start(0.3, 0.8),
            "heading": HEADING,
        },
        stand_up,
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


def describe(name: str) -> list[str]:
    """The long listing of one action: its name and description, then one line per parameter with its
    drawn range (or choices) and the range an override may take, from the :class:`Param` declarations."""
    action = _lookup(name)
    lines = [f"{name}: {action.description} ({action.seconds:g} s)"]
    for key, param in action.params.items():
        lines.append(f"  {key:<13} {param.describe():<34} {param.help}")
    return lines


def _lookup(name: str) -> _Action:
    if name not in _ACTIONS:
        raise UsdSynthError(f"unknown action {name!r}; known actions: {', '.join(list_actions())}")
    return _ACTIONS[name]


def make_motion(
    name: str, seed: int = 0, seconds: float | None = None, fps: float = 30.0, **params: Any
) -> Motion:
    """Generate the built-in action ``name`` as a :class:`Motion` on the template skeleton.

    ``seed`` selects the variation (parameters are drawn from a stream of their own per action, so the same
    seed gives the same clip on every machine; the small movements of :class:`Life` come next from the same
    stream); keyword ``params`` fix individual parameters (see :func:`action_parameters`). ``seconds``
    defaults to the action's natural length; gaits loop, one-shot actions hold their last pose (alive:
    breathing, swaying) when the clip runs longer, and are cut when it is shorter.
    """
    action = _lookup(name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsdSynthError(f"{name}: seed must be a non-negative integer, got {seed!r}", field="seed")
    seconds = action.seconds if seconds is None else seconds
    try:
        seconds, fps = float(seconds), float(fps)
    except (TypeError, ValueError):
        raise UsdSynthError(
            f"{name}: seconds and fps must be numbers, got {seconds!r} and {fps!r}",
            field="seconds",
            mentions=("fps",),
        ) from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsdSynthError(f"{name}: seconds must be a positive number, got {seconds}", field="seconds")
    if not (math.isfinite(fps) and fps > 0):
        raise UsdSynthError(f"{name}: fps must be a positive number, got {fps}", field="fps")
    p, rng = draw_params(name, action.params, int(seed), params)
    n = max(1, int(round(seconds * fps)))
    t = np.arange(max(n, 2)) / fps  # the generators difference over time: give them two frames at least
    out = action.build(t, p, fps, Life.draw(rng)) if action.alive else action.build(t, p, fps)
    rotations, translation = out[0], out[1]
    extra = out[2] if len(out) > 2 else {}
    return Motion(
        fps=fps,
        rotations=rotations[:n],
        translation=translation[:n],
        offsets=template_offsets(),
        label=name,
        source={"reader": "builtin", "action": name, "seed": int(seed), "params": dict(p), **extra},
    )
