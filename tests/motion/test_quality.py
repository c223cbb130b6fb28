"""Quality metrics on motions whose answer is known, the rejection thresholds, and contact clean-up."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.motion.library import ACTIONS, make_motion
from usd_synth.motion.model import Motion, rest_motion
from usd_synth.motion.quality import (
    GRAVITY,
    QualityThresholds,
    cleanup_contacts,
    evaluate,
    is_rejected,
    rejection_reasons,
)
from usd_synth.rotations import quat_about
from usd_synth.skeleton import JOINT_INDEX
from usd_synth.usd.motion_io import write_motion

FPS = 30.0


def standing(n: int = 60) -> Motion:
    return rest_motion(n, fps=FPS)


def moved(m: Motion, translation: np.ndarray) -> Motion:
    return Motion(m.fps, m.rotations, translation, m.offsets, m.label)


def test_standing_still_is_clean() -> None:
    r = evaluate(standing())
    assert r.foot_skate == 0 and r.ground_penetration < 1e-9 and r.floating == 0
    assert r.jerk < 1e-9 and r.joint_limit_violations == 0 and r.contact_fraction == 1.0
    assert not is_rejected(r)


def test_sliding_feet_skate_at_the_sliding_speed() -> None:
    m = standing()
    t = np.arange(m.num_frames) / FPS
    r = evaluate(moved(m, m.translation + np.stack([0.5 * t, 0.0 * t, 0.0 * t], -1)))
    assert r.foot_skate == pytest.approx(0.5, abs=1e-9)
    assert rejection_reasons(r) == ["foot_skate 0.5 > 0.2"]


def test_penetration_is_the_depth_below_the_ground() -> None:
    m = standing()
    r = evaluate(moved(m, m.translation - [0.0, 0.0, 0.07]))
    assert r.ground_penetration == pytest.approx(0.07, abs=1e-9)


def test_hovering_floats_but_a_ballistic_flight_does_not() -> None:
    m = standing(45)
    t = np.arange(45) / FPS
    assert evaluate(moved(m, m.translation + [0.0, 0.0, 0.3])).floating == 1.0
    # A jump: take off at frame 10 with 2.5 m/s, fly under gravity until back on the ground.
    tf = np.clip(t - 10 / FPS, 0.0, 2 * 2.5 / GRAVITY)
    arc = 2.5 * tf - 0.5 * GRAVITY * tf**2
    assert evaluate(moved(m, m.translation + np.stack([0 * t, 0 * t, arc], -1))).floating == 0.0
    # Rising, hovering for half a second and coming down is not ballistic: the frames off the ground float.
    hover = np.interp(t, np.array([10, 13, 28, 31]) / FPS, [0.0, 0.3, 0.3, 0.0])
    r = evaluate(moved(m, m.translation + np.stack([0 * t, 0 * t, hover], -1)))
    assert 0.3 < r.floating < 0.5


def test_jerk_of_a_cubic_path_is_six_times_its_coefficient() -> None:
    m = standing()
    t = np.arange(m.num_frames) / FPS
    path = m.translation + np.stack([0.2 * t**3, 0 * t, 0 * t], -1)
    assert evaluate(moved(m, path)).jerk == pytest.approx(6 * 0.2, rel=1e-6)


@pytest.mark.parametrize(
    ("joint", "axis", "degrees", "bad"),
    [
        ("left_knee", (1, 0, 0), 90.0, False),
        ("left_knee", (1, 0, 0), -30.0, True),  # hyperextension
        ("right_knee", (1, 0, 0), 170.0, True),
        ("right_knee", (0, 0, 1), 60.0, True),  # sideways
        ("left_elbow", (0, -1, 0), 120.0, False),
        ("left_elbow", (0, 1, 0), 30.0, True),  # hyperextension
        ("spine2", (1, 0, 0), 75.0, True),
        ("neck", (0, 1, 0), 45.0, False),
    ],
)
def test_joint_limits(joint: str, axis: tuple, degrees: float, bad: bool) -> None:
    m = standing(10)
    rot = m.rotations.copy()
    rot[4:8, JOINT_INDEX[joint]] = quat_about(axis, np.radians(degrees))
    r = evaluate(Motion(m.fps, rot, m.translation, m.offsets))
    assert r.joint_limit_violations == (0.4 if bad else 0.0)
    assert r.joint_limit_frames == ({joint: 4} if bad else {})


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_built_in_actions_pass_the_default_thresholds(name: str) -> None:
    r = evaluate(make_motion(name, seed=1, fps=30.0))
    assert not is_rejected(r), rejection_reasons(r)


def test_custom_thresholds() -> None:
    r = evaluate(make_motion("walk", seed=0))
    assert not is_rejected(r)
    assert is_rejected(r, QualityThresholds(jerk=1.0))


def test_cleanup_removes_skate_and_penetration() -> None:
    walk = make_motion("walk", seed=1)
    stretched = moved(walk, walk.translation * [1.5, 1.5, 1.0] - [0.0, 0.0, 0.04])
    before = evaluate(stretched)
    after = evaluate(cleanup_contacts(stretched))
    assert before.foot_skate > 0.3 and before.ground_penetration > 0.03
    assert after.foot_skate < evaluate(walk).foot_skate + 0.02
    assert after.ground_penetration < 1e-9
    np.testing.assert_array_equal(cleanup_contacts(stretched).rotations, stretched.rotations)


def test_quality_command(tmp_path) -> None:
    jump = make_motion("jump", seed=0)
    path = write_motion(jump, tmp_path / "jump.usd")
    r = CliRunner().invoke(cli, ["motion", "quality", str(path), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    for key in ("foot_skate", "ground_penetration", "floating", "jerk", "joint_limit_violations"):
        assert key in data
    assert data["rejected"] is False and data["frames"] == jump.num_frames
    r = CliRunner().invoke(cli, ["motion", "quality", str(path)])
    assert r.exit_code == 0 and "foot_skate:" in r.output
    r = CliRunner().invoke(cli, ["motion", "quality", str(tmp_path / "missing.usd")])
    assert r.exit_code == 2 and "no such file" in r.output
