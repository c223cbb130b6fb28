"""Acceptance of the built-in library as training data (issue 12): every action, over seeds, at 30 fps.

A recognizer learns any artefact one class has as a shortcut for that class, so each clip must pass the
quality report (no skating while planted, nothing through the floor, nothing floating), never stop dead
(no joint's angular speed falls from above 120 degrees/s to below 10 within one frame), never freeze
(some joint turns faster than 5 degrees/s in at least 90 % of frames), and runs must fly (both feet off
the ground for at least 15 % of the clip). Ten seeds of every action, in the default run (about 10 s).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.motion.library import ACTIONS, make_motion
from usd_synth.motion.library.metrics import (
    flight_fraction,
    joint_angular_speed,
    lowest_point,
    moving_fraction,
    naturalness,
    worst_stop,
)
from usd_synth.motion.model import Motion
from usd_synth.motion.quality import evaluate, rejection_reasons

FPS = 30.0
SEEDS = tuple(range(10))


@functools.cache
def _clip(name: str, seed: int) -> Motion:
    return make_motion(name, seed, fps=FPS)


def _check(name: str, seed: int) -> None:
    m = _clip(name, seed)
    where = f"{name} seed {seed}"
    # The quality report passes: no skating while planted, nothing more than 1 cm below the floor.
    report = evaluate(m)
    assert not rejection_reasons(report), (where, rejection_reasons(report))
    assert report.ground_penetration <= 0.01, where
    low = lowest_point(m)
    assert low.min() > -0.01, where
    # No dead stops: a joint never drops from above 120 to below 10 degrees/s in one frame.
    assert worst_stop(m) <= 120.0, (where, worst_stop(m))
    speed = joint_angular_speed(m)
    assert not np.any((speed[:-1] > 120.0) & (speed[1:] < 10.0)), where
    # Never frozen: some joint moves faster than 5 degrees/s in at least 90 % of frames.
    assert moving_fraction(m) >= 0.9, (where, moving_fraction(m))
    # Always on the floor except in flight: the lowest point within 1 cm of it (jumps and runs fly).
    if name not in ("run", "jump"):
        assert low.max() < 0.01, (where, low.max())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_natural(name: str, seed: int) -> None:
    _check(name, seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_run_flies(seed: int) -> None:
    assert flight_fraction(_clip("run", seed)) >= 0.15


def test_run_flies_at_the_edges_of_its_parameters() -> None:
    """The flight does not depend on the drawn stride and cadence: both ends of their ranges fly."""
    for stride in (0.95, 1.2):
        for cadence in (155.0, 180.0):
            m = make_motion("run", 0, stride=stride, cadence=cadence, knee_lift=1.12)
            assert flight_fraction(m) >= 0.15, (stride, cadence)


def test_the_library_has_at_least_15_actions_and_the_cli_lists_them() -> None:
    assert len(ACTIONS) >= 15
    r = CliRunner().invoke(cli, ["motion", "list"])
    assert r.exit_code == 0, r.output
    names = r.output.split()
    assert len(names) >= 15 and set(names) == set(ACTIONS)


def test_metrics_on_known_motions() -> None:
    """The figures on hand-made motions: a dead stop is found, a frozen clip is not moving."""
    from usd_synth.motion.model import rest_motion
    from usd_synth.rotations import quat_about

    still = rest_motion(30, fps=FPS)
    assert moving_fraction(still) == 0.0 and worst_stop(still) == 0.0
    stop = still.copy()
    angle = np.radians(np.minimum(np.arange(30), 10) * 6.0)  # 180 degrees/s, then still from frame 10
    stop.rotations = stop.rotations.copy()
    stop.rotations[:, 18] = quat_about((0.0, 1.0, 0.0), angle)
    assert worst_stop(stop) == pytest.approx(180.0, abs=1e-6)
    assert 0.3 < moving_fraction(stop) < 0.35
    figures = naturalness(_clip("walk", 0))
    assert figures["moving_fraction"] == 1.0 and figures["flight_fraction"] == 0.0
