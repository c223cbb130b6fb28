"""Interrupted runs: SIGKILL, SIGTERM or SIGINT at a random moment of ``fractal``, ``bake``, ``blend`` and
``demo``, then the same command again. The final output equals a clean run's, no temporary file or folder
remains, and a SIGTERM or SIGINT leaves nothing partial even before the rerun.

Two trials per command by default (the demo, about 25 s a run, is interrupted twice without the clean
comparison run); ``-m slow`` (or ``python benchmarks/kill_trials.py``) runs 20 full trials each.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time

import pytest

from .killing import commands, leftovers, make_inputs, trials


@pytest.fixture(scope="module")
def kill_inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("kill"))


def _check(counts: dict) -> None:
    assert counts["problems"] == [], counts
    assert counts["identical_after_rerun"] == counts["trials"]
    assert counts["temps_left_after_sigterm_or_sigint"] == 0 and counts["temps_left_after_rerun"] == 0


@pytest.mark.parametrize("name", ["fractal", "bake", "blend"])
def test_interrupted_then_rerun_equals_clean(name, kill_inputs, tmp_path) -> None:
    _check(trials(name, commands(kill_inputs)[name], tmp_path, n=2, seed=1))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "n"), [("fractal", 20), ("bake", 20), ("blend", 20), ("demo", 3)])
def test_many_kill_trials(name, n, kill_inputs, tmp_path) -> None:
    """20 trials each; the demo (about a minute a trial since it renders) gets 3 here and its 20 in
    ``benchmarks/kill_trials.py``."""
    _check(trials(name, commands(kill_inputs)[name], tmp_path, n=n, seed=2))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_demo_leaves_nothing(sig, kill_inputs, tmp_path) -> None:
    """SIGTERM or SIGINT while the demo works: one line on stderr, no folder, no temporary left."""
    argv = commands(kill_inputs)["demo"](tmp_path / "out")
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(random.Random(sig.value).uniform(2.0, 5.0))
    assert proc.poll() is None, "the demo ended before the signal"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("usd-synth: error: "), err
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []
