"""The catalogue of built-in actions (name, description, natural length, parameters, generator) and
:func:`make_motion`, which draws an action's parameters and generates it as a :class:`Motion`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.motion.library.actions import fall_down, idle, jump, squat, wave
from usd_synth.motion.library.gait import run, walk
from usd_synth.motion.library.params import HEADING, Param, draw_params
from usd_synth.motion.model import Motion
from usd_synth.skeleton import template_offsets


@dataclass(frozen=True)
class _Action:
    description: str
    seconds: float
    params: dict[str, Param]
    build: Callable[[np.ndarray, dict[str, Any], float], tuple[np.ndarray, np.ndarray]]


_GAIT_COMMON = {
    "arm_swing": Param((0.7, 1.3), (0.0, 2.0), help="arm swing, relative to typical"),
    "hip_sway": Param((0.6, 1.4), (0.0, 2.5), help="pelvis rotation and list, relative to typical"),
    "knee_lift": Param((0.92, 1.12), (0.7, 1.4), help="knee flexion, relative to typical"),
    "phase": Param((0.0, 1.0), (0.0, 1.0), help="gait phase at the first frame (0: left heel strike)"),
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
            **_GAIT_COMMON,
        },
        walk,
    ),
    "run": _Action(
        "run (jog to stride) with a flight phase, elbows bent",
        3.0,
        {
            "cadence": Param((155.0, 180.0), (130.0, 200.0), help="steps per minute"),
            "stride": Param((0.95, 1.2), (0.7, 1.4), help="thigh swing, relative to typical (step length)"),
            "lean": Param((5.0, 12.0), (0.0, 25.0), help="trunk lean forward, degrees"),
            "elbow": Param((75.0, 100.0), (40.0, 130.0), help="elbow flexion, degrees"),
            **_GAIT_COMMON,
        },
        run,
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
    "fall_down": _Action(
        "lose balance and fall to the ground, ending lying down",
        3.0,
        {
            "direction": Param(choices=("forward", "backward", "sideways"), help="which way the body falls"),
            "side": Param(choices=("left", "right"), help="for a sideways fall: onto which side"),
            "speed": Param((0.85, 1.2), (0.5, 2.0), help="pace of the fall, relative to typical"),
            "start": Param((0.2, 0.6), (0.0, 3.0), help="seconds of standing first"),
            "heading": HEADING,
        },
        fall_down,
    ),
    "idle": _Action(
        "stand at ease: breathing, gentle sway and weight shifts, glancing around",
        4.0,
        {
            "sway": Param((0.5, 1.5), (0.0, 3.0), help="body sway, relative to typical"),
            "breathing": Param((0.2, 0.33), (0.1, 0.6), help="breaths per second"),
            "shift_period": Param((3.0, 6.0), (1.0, 20.0), help="seconds per weight shift cycle"),
            "look": Param((0.0, 30.0), (0.0, 60.0), help="how far the head turns to glance, degrees"),
            "phase": Param((0.0, 1.0), (0.0, 1.0), help="where in the sway cycle the clip starts"),
            "heading": HEADING,
        },
        idle,
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
    p = draw_params(name, action.params, int(seed), params)
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
