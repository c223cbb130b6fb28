"""Tests of the built-in procedural motion library: API contract, determinism, and that each action
looks like itself physically (feet on the ground, little foot skate, plausible speeds, the defining pose)."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.library import (
    ACTIONS,
    FOOT_JOINTS,
    JOINT_CLEARANCE,
    action_parameters,
    list_actions,
    make_motion,
)
from usd_synth.motion.model import Motion
from usd_synth.rotations import quat_angle
from usd_synth.skeleton import JOINT_INDEX as J

REQUIRED = ("walk", "run", "jump", "wave", "squat", "fall_down")
SEEDS = (0, 1, 2)
FEET = list(FOOT_JOINTS)


@functools.cache
def _motion(name: str, seed: int, **params: object) -> Motion:
    return make_motion(name, seed, **params)


@functools.cache
def _positions(name: str, seed: int) -> np.ndarray:
    return _motion(name, seed).joint_positions()


def _lowest_foot(pos: np.ndarray) -> np.ndarray:
    """Per frame, the lowest foot joint's height above its sole clearance (m)."""
    return (pos[:, FEET, 2] - JOINT_CLEARANCE[FEET]).min(axis=1)


def _contact_skate(m: Motion) -> float:
    """Worst over the foot joints of the mean horizontal speed (m/s) while in contact: within 1 cm of the
    ground and moving vertically slower than 10 cm/s."""
    pos = m.joint_positions()
    worst = 0.0
    for j in FEET:
        height = pos[:, j, 2] - JOINT_CLEARANCE[j]
        vz = np.gradient(pos[:, j, 2]) * m.fps
        vh = np.linalg.norm(np.gradient(pos[:, j, :2], axis=0) * m.fps, axis=-1)
        contact = (height < 0.01) & (np.abs(vz) < 0.1)
        assert contact.sum() > 3, f"joint {j} never in contact"
        worst = max(worst, float(vh[contact].mean()))
    return worst


def _speed(m: Motion) -> float:
    return float(np.linalg.norm(m.translation[-1, :2] - m.translation[0, :2]) / m.duration)


# ---------------------------------------------------------------------------------------------- API ----
def test_catalogue() -> None:
    assert set(REQUIRED) <= set(ACTIONS)
    assert list_actions() == sorted(ACTIONS)
    for name, description in ACTIONS.items():
        assert isinstance(description, str) and description and "\n" not in description
        assert action_parameters(name)


def test_unknown_action_names_it_and_lists_known() -> None:
    with pytest.raises(UsdSynthError) as err:
        make_motion("moonwalk")
    message = str(err.value)
    assert "moonwalk" in message and "walk" in message and "fall_down" in message and "\n" not in message


@pytest.mark.parametrize("seconds", [0, -1.0, float("nan"), float("inf"), "abc"])
def test_bad_seconds(seconds: object) -> None:
    with pytest.raises(UsdSynthError, match="seconds"):
        make_motion("walk", seconds=seconds)  # type: ignore[arg-type]


def test_bad_fps_seed_and_params() -> None:
    with pytest.raises(UsdSynthError, match="fps"):
        make_motion("walk", fps=0)
    with pytest.raises(UsdSynthError, match="seed"):
        make_motion("walk", seed=-1)
    with pytest.raises(UsdSynthError, match="speedd") as err:
        make_motion("walk", speedd=1.0)
    assert "cadence" in str(err.value)  # lists the known parameters
    with pytest.raises(UsdSynthError, match="hand"):
        make_motion("wave", hand="both")
    with pytest.raises(UsdSynthError, match="cadence"):
        make_motion("walk", cadence=float("nan"))
    with pytest.raises(UsdSynthError, match="cadence"):
        make_motion("walk", cadence=1000)


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_contract(name: str, seed: int) -> None:
    m = _motion(name, seed)
    assert m.label == name
    assert m.rotations.shape == (m.num_frames, 24, 4) and m.translation.shape == (m.num_frames, 3)
    assert np.all(np.isfinite(m.rotations)) and np.all(np.isfinite(m.translation))
    np.testing.assert_allclose(np.linalg.norm(m.rotations, axis=-1), 1.0, atol=1e-9)
    src = json.loads(json.dumps(m.source))  # JSON-serialisable
    assert src["reader"] == "builtin" and src["action"] == name and src["seed"] == seed
    assert set(src["params"]) == set(action_parameters(name))
    # Deterministic: a fresh call (no cache) gives identical arrays.
    again = make_motion(name, seed)
    np.testing.assert_array_equal(again.rotations, m.rotations)
    np.testing.assert_array_equal(again.translation, m.translation)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_params_follow_the_project_seeding_rule(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An action's parameters are drawn from ``rng_for(seed, "motion", name)`` (the project's one rule)."""
    from usd_synth.motion.library import params
    from usd_synth.randomize.seeding import rng_for

    keys = []

    def spy(seed: int, *key: object) -> np.random.Generator:
        keys.append((seed, *key))
        return rng_for(seed, *key)

    monkeypatch.setattr(params, "rng_for", spy)
    drawn = make_motion(name, 4, seconds=0.1).source["params"]
    assert keys == [(4, "motion", name)]
    assert drawn == _motion(name, 4).source["params"]


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_seeds_differ(name: str) -> None:
    a, b = _motion(name, 0), _motion(name, 1)
    assert a.source["params"] != b.source["params"]
    assert a.num_frames != b.num_frames or not np.allclose(a.rotations, b.rotations)


def test_seconds_fps_and_overrides() -> None:
    m = make_motion("walk", 3, seconds=1.5, fps=24)
    assert m.num_frames == 36 and m.fps == 24
    assert make_motion("jump", seconds=0.01).num_frames == 1
    assert make_motion("fall_down", seconds=6.0).num_frames == 180  # one-shot actions hold the last pose
    base = _motion("walk", 5)
    fixed = make_motion("walk", 5, cadence=100)
    assert fixed.source["params"]["cadence"] == 100
    others = {k: v for k, v in fixed.source["params"].items() if k != "cadence"}
    assert others == {k: v for k, v in base.source["params"].items() if k != "cadence"}
    assert make_motion("fall_down", 0, direction="backward").source["params"]["direction"] == "backward"


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_default_durations(name: str) -> None:
    assert 2.0 <= _motion(name, 0).duration <= 5.0


# ---------------------------------------------------------------------------------------- physics ----
@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_nothing_below_ground(name: str, seed: int) -> None:
    pos = _positions(name, seed)
    assert (pos[..., 2] - JOINT_CLEARANCE).min() > -0.003


@pytest.mark.parametrize("name", ["walk", "idle", "wave", "squat"])
@pytest.mark.parametrize("seed", SEEDS)
def test_always_supported_feet_touch(name: str, seed: int) -> None:
    """Actions that never leave the ground keep a foot on it in every frame (no floating)."""
    low = _lowest_foot(_positions(name, seed))
    assert low.min() > -0.003 and low.max() < 0.005


@pytest.mark.parametrize("seed", SEEDS)
def test_run_has_support_and_flight(seed: int) -> None:
    low = _lowest_foot(_positions("run", seed))
    assert np.mean(low < 0.005) > 0.4  # mostly one foot down ...
    # ... with short flights in between: a real run's (issue 12), the lower foot up to ~8 cm at mid-flight
    # (it was under 6 cm when the run was a jog).
    assert 0.01 < low.max() < 0.12


@pytest.mark.parametrize("name", ["walk", "run"])
@pytest.mark.parametrize("seed", SEEDS)
def test_gait_foot_skate(name: str, seed: int) -> None:
    # Measured over seeds 0..9: walk 2.6-3.8 cm/s, run 6.4-8.6 cm/s (touch-down and toe-off frames).
    limit = 0.05 if name == "walk" else 0.10
    assert _contact_skate(_motion(name, seed)) < limit


@pytest.mark.parametrize("seed", SEEDS)
def test_walk_speed_direction_and_run_faster(seed: int) -> None:
    walk, run = _motion("walk", seed), _motion("run", seed)
    assert 0.8 < _speed(walk) < 1.8
    d = walk.translation[-1] - walk.translation[0]
    assert d[1] < 0 and abs(d[0]) < 0.1 * abs(d[1])  # faces and advances along -Y
    assert _speed(run) > _speed(walk) + 0.4


def test_heading_turns_the_walk() -> None:
    m = make_motion("walk", 0, heading=90.0)
    d = m.translation[-1] - m.translation[0]
    assert d[0] > 3.0 and abs(d[1]) < 0.3  # 90 degrees counter-clockwise from -Y is +X


def test_gait_loops() -> None:
    """At 120 steps per minute the cycle is one second: the pose repeats every 30 frames."""
    m = make_motion("walk", 0, seconds=3.0, cadence=120)
    angles = np.degrees(quat_angle(m.rotations[30:60, 1:], m.rotations[60:90, 1:]))
    assert angles.max() < 1.0


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_smooth(name: str, seed: int) -> None:
    """No pops: bounded joint accelerations and per-frame rotation steps at 30 fps."""
    m = _motion(name, seed)
    pos = _positions(name, seed)
    accel = np.abs(np.diff(pos, 2, axis=0)).max() * m.fps**2
    step = np.degrees(quat_angle(m.rotations[1:], m.rotations[:-1])).max()
    assert accel < 300.0  # m/s^2 (a jump's arm swing peaks near 250)
    assert step < 45.0


# ---------------------------------------------------------------------------------------- actions ----
@pytest.mark.parametrize("seed", SEEDS)
def test_jump_leaves_the_ground(seed: int) -> None:
    low = _lowest_foot(_positions("jump", seed))
    assert low.max() > 0.10  # all feet well above the ground at the apex
    assert low[0] < 0.005 and low[-1] < 0.005  # standing before, landed after


@pytest.mark.parametrize("seed", SEEDS)
def test_squat_lowers_the_pelvis(seed: int) -> None:
    z = _motion("squat", seed).translation[:, 2]
    assert z[0] - z.min() > 0.20


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("hand", ["left", "right"])
def test_wave_raises_the_hand(seed: int, hand: str) -> None:
    pos = make_motion("wave", seed, hand=hand).joint_positions()
    other = "right" if hand == "left" else "left"
    above = pos[:, J[f"{hand}_wrist"], 2] - pos[:, J["head"], 2]
    assert np.mean(above > 0.05) > 0.3
    assert np.all(pos[:, J[f"{other}_wrist"], 2] < pos[:, J["pelvis"], 2] + 0.1)  # the other hand hangs
    side = pos[:, J[f"{hand}_wrist"], 0] - pos[:, J["pelvis"], 0]
    assert np.all((side[above > 0.05] > 0) == (hand == "left"))  # the body's left is +X


@pytest.mark.parametrize("direction", ["forward", "backward", "sideways"])
@pytest.mark.parametrize("seed", SEEDS)
def test_fall_down_ends_lying(direction: str, seed: int) -> None:
    pos = make_motion("fall_down", seed, direction=direction).joint_positions()
    assert pos[0, J["head"], 2] > 1.4  # starts standing
    assert pos[-1, J["pelvis"], 2] < 0.3 and pos[-1, J["head"], 2] < 0.4
    assert (pos[..., 2] - JOINT_CLEARANCE).min() > -0.003
    travel = pos[-1, J["head"], :2] - pos[0, J["head"], :2]
    if direction == "forward":
        assert travel[1] < -0.8  # fell toward the facing direction, -Y
    elif direction == "backward":
        assert travel[1] > 0.8
    else:
        assert abs(travel[0]) > 0.6
