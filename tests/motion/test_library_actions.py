"""Each built-in action does what its name says: seats at their height, falls that end lying on the floor
and breathing, reaches, kicks and punches that reach, idle that lives; and ``motion list --long``."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.motion.library import ACTIONS, JOINT_CLEARANCE, action_parameters, describe, make_motion
from usd_synth.motion.library.metrics import joint_angular_speed
from usd_synth.motion.model import Motion
from usd_synth.rotations import quat_angle
from usd_synth.skeleton import JOINT_INDEX as J

SEEDS = (0, 1)
PELVIS_REGION = [J["pelvis"], J["left_hip"], J["right_hip"], J["spine1"]]


@functools.cache
def _motion(name: str, seed: int, **params: object) -> Motion:
    return make_motion(name, seed, **params)


def _ground(m: Motion) -> np.ndarray:
    """(T, 24) height of each joint's body surface above the floor."""
    return m.joint_positions()[..., 2] - JOINT_CLEARANCE


# ------------------------------------------------------------------------------------------ seats ----
@pytest.mark.parametrize("height", [0.38, 0.45, 0.55])
def test_sit_down_rests_the_pelvis_on_the_seat(height: float) -> None:
    m = make_motion("sit_down", 2, seat_height=height)
    seat = m.source["seat"]
    assert seat["height"] == pytest.approx(height)
    end = m.joint_positions()[-1]
    pelvis_surface = end[J["pelvis"], 2] - JOINT_CLEARANCE[J["pelvis"]]
    assert abs(pelvis_surface - height) < 0.01  # the pelvis rests at seat height
    assert _ground(m)[-1].min() == pytest.approx(0.0, abs=0.01)  # feet on the floor
    np.testing.assert_allclose(seat["pelvis"], end[J["pelvis"]], atol=0.01)  # where a chair goes
    assert m.translation[0, 2] > 0.9  # it starts standing


@pytest.mark.parametrize("seed", SEEDS)
def test_stand_up_starts_seated_and_ends_standing(seed: int) -> None:
    m = _motion("stand_up", seed)
    pos = m.joint_positions()
    height = m.source["params"]["seat_height"]
    assert abs(pos[0, J["pelvis"], 2] - JOINT_CLEARANCE[J["pelvis"]] - height) < 0.01
    np.testing.assert_allclose(m.source["seat"]["pelvis"], pos[0, J["pelvis"]], atol=1e-6)
    assert pos[-1, J["head"], 2] > 1.4


# ------------------------------------------------------------------------------------------ falls ----
@pytest.mark.parametrize("name", ["fall_forward", "fall_backward", "fall_sideways", "lie_down"])
@pytest.mark.parametrize("seed", SEEDS)
def test_bodies_down_rest_on_the_floor_and_breathe(name: str, seed: int) -> None:
    m = _motion(name, seed)
    gh = _ground(m)
    last = slice(-30, None)  # the last second: lying
    assert gh[0, J["head"]] > 1.4  # starts standing
    assert np.all(np.abs(gh[last].min(axis=1)) < 0.01)  # the lowest point on the floor
    assert np.all(gh[last][:, PELVIS_REGION].min(axis=1) < 0.02)  # the hips rest on it, not hovering
    assert np.all(gh[last][:, [J["left_hand"], J["right_hand"]]] > -0.01)  # hands not through it
    assert m.joint_positions()[-1, J["head"], 2] < 0.45
    # Breathing: the chest keeps rising and falling while lying.
    chest = joint_angular_speed(m)[-45:, [J["spine2"], J["spine3"]]].max(axis=1)
    assert chest.mean() > 1.0 and chest.max() > 2.0


@pytest.mark.parametrize("seed", SEEDS)
def test_falls_go_their_way(seed: int) -> None:
    def travel(m: Motion) -> np.ndarray:
        pos = m.joint_positions()
        return pos[-1, J["head"], :2] - pos[0, J["head"], :2]

    assert travel(_motion("fall_forward", seed))[1] < -0.8  # toward the facing direction, -Y
    assert travel(_motion("fall_backward", seed))[1] > 0.8
    assert travel(make_motion("fall_sideways", seed, side="left"))[0] > 0.6  # the body's left is +X
    assert travel(make_motion("fall_sideways", seed, side="right"))[0] < -0.6


def test_fall_down_is_any_of_the_falls() -> None:
    for direction in ("forward", "backward", "sideways"):
        m = make_motion("fall_down", 3, direction=direction)
        assert m.source["params"]["direction"] == direction
        assert _ground(m)[-30:, PELVIS_REGION].min(axis=1).max() < 0.02


@pytest.mark.parametrize("seed", SEEDS)
def test_stumble_catches_itself(seed: int) -> None:
    m = _motion("stumble", seed)
    pos = m.joint_positions()
    assert np.linalg.norm(m.translation[-1, :2] - m.translation[0, :2]) > 0.3  # steps forward ...
    assert pos[-1, J["head"], 2] > 1.4  # ... and ends standing
    pitch = pos[:, J["head"], 1] - pos[:, J["pelvis"], 1]  # head ahead (-Y) of the pelvis: pitched
    assert pitch.min() < -0.15


# ------------------------------------------------------------------------------------- standing ----
@pytest.mark.parametrize("seed", SEEDS)
def test_idle_lives(seed: int) -> None:
    m = _motion("idle", seed)
    pos = m.joint_positions()
    assert np.ptp(pos[:, J["pelvis"], 0]) > 0.01  # weight shifts sideways
    head = m.rotations[:, J["head"]]
    assert np.degrees(quat_angle(head, head[:1])).max() > 5.0  # the head turns and tilts
    assert np.percentile(joint_angular_speed(m).max(axis=1), 10) > 5.0


@pytest.mark.parametrize("side", ["left", "right"])
def test_kick_raises_the_kicking_foot(side: str) -> None:
    m = make_motion("kick", 1, side=side)
    gh = _ground(m)
    kicking, standing = J[f"{side}_ankle"], J[f"{'right' if side == 'left' else 'left'}_ankle"]
    assert gh[:, kicking].max() > 0.3
    assert gh[:, standing].max() < 0.02  # the standing foot stays down


@pytest.mark.parametrize("hand", ["left", "right"])
def test_punch_reaches_forward(hand: str) -> None:
    m = make_motion("punch", 2, hand=hand)
    pos = m.joint_positions()
    reach = pos[:, J["spine3"], 1] - pos[:, J[f"{hand}_wrist"], 1]  # forward is -Y
    assert reach.max() > 0.45


@pytest.mark.parametrize("hand", ["left", "right", "both"])
def test_reach_up_and_pick_up(hand: str) -> None:
    up = make_motion("reach_up", 4, hand=hand).joint_positions()
    down = make_motion("bend_pick_up", 4, hand=hand).joint_positions()
    sides = ["left", "right"] if hand == "both" else [hand]
    for side in sides:
        w = J[f"{side}_wrist"]
        assert (up[:, w, 2] - up[:, J["head"], 2]).max() > 0.25
        assert (down[:, w, 2] - JOINT_CLEARANCE[w]).min() < 0.2


def test_carry_and_push_walk() -> None:
    for name in ("carry", "push"):
        m = _motion(name, 0)
        speed = np.linalg.norm(m.translation[-1, :2] - m.translation[0, :2]) / m.duration
        assert 0.4 < speed < 1.6, (name, speed)
    box = make_motion("carry", 0, style="box").joint_positions()
    assert np.all(box[:, J["left_wrist"], 2] > box[:, J["pelvis"], 2])  # the box is held up in front


# ------------------------------------------------------------------------------------ listing ----
def test_describe_comes_from_the_declarations() -> None:
    for name in ACTIONS:
        lines = describe(name)
        assert lines[0].startswith(f"{name}: {ACTIONS[name]}")
        params = action_parameters(name)
        assert len(lines) == 1 + len(params)
        for line, (key, help_text) in zip(lines[1:], params.items(), strict=True):
            assert line.split()[0] == key and line.endswith(help_text)


def test_motion_list_long() -> None:
    short = CliRunner().invoke(cli, ["motion", "list"])
    assert short.exit_code == 0 and short.output.split() == list(ACTIONS)
    long = CliRunner().invoke(cli, ["motion", "list", "--long"])
    assert long.exit_code == 0, long.output
    text = long.output
    assert "seat_height" in text and "0.4..0.5 (allowed 0.3..0.65)" in text
    assert "one of left|right" in text
    assert sum(1 for line in text.splitlines() if not line.startswith(" ")) == len(ACTIONS)
