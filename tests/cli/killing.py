"""Kill trials: start a command, send SIGKILL, SIGTERM or SIGINT at a random moment, run it again, and check
that the final output equals a clean run's and that no temporary file or folder remains.

Used by ``tests/cli/test_signals.py`` (a couple of trials per command) and ``benchmarks/kill_trials.py``
(20 per command, JSON counts).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
TMP_MARKS = (".usd-synth-tmp-", ".usd-synth-old-")
#: JSON keys that may differ between two runs of the same command (none today; kept for timings).
VOLATILE_KEYS = {"elapsed_s", "time_s", "timings", "wall_s"}


def usd_synth(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "usd_synth.cli.main", *map(str, args)]


def make_inputs(root: Path, need_actor: bool = True) -> Path:
    """Motions (and an actor) for the commands, made with the library."""
    from usd_synth.usd.motion_io import write_motion

    from ..conftest import smooth_random_motion

    d = root / "in"
    d.mkdir(parents=True, exist_ok=True)
    walk = smooth_random_motion(120, seed=0)
    write_motion(walk, d / "walk.usd")
    write_motion(smooth_random_motion(90, seed=1), d / "run.usd")
    if need_actor:
        from usd_synth.body import make_body
        from usd_synth.body.actor import make_actor
        from usd_synth.usd.body_io import write_actor

        write_actor(make_actor(walk, make_body("anny", 0)), d / "actor.usd")
    return d


#: name -> (argv for an output target, target name inside the trial folder)
def commands(inputs: Path) -> dict[str, Callable[[Path], list[str]]]:
    return {
        "fractal": lambda out: usd_synth(
            "fractal",
            "-o",
            out,
            "--classes",
            "3",
            "--clips-per-class",
            "2",
            "--size",
            "48",
            "--frames",
            "6",
            "--points",
            "64",
            "--iterations",
            "1500",
            "--overwrite",
        ),  # fmt: skip
        "bake": lambda out: usd_synth("bake", inputs / "actor.usd", "-o", out / "baked.usd"),
        "blend": lambda out: usd_synth(
            "blend",
            inputs / "walk.usd",
            inputs / "run.usd",
            "-o",
            out,
            "--weights",
            "0.2,0.5,0.8",
            "--device",
            "cpu",
            "--overwrite",
        ),  # fmt: skip
        "demo": lambda out: usd_synth("demo", "-o", out, "--seed", "0"),
    }


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def contents(path: Path) -> dict[str, object]:
    """Relative name -> bytes (JSON files: their parsed content without volatile keys)."""
    if not path.exists():
        return {}
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    files = [f for f in files if not any(m in part for part in f.parts for m in TMP_MARKS)]
    out: dict[str, object] = {}
    for f in files:
        rel = f.name if path.is_file() else str(f.relative_to(path))
        data = f.read_bytes()
        out[rel] = _strip(json.loads(data)) if f.suffix == ".json" else data
    return out


def leftovers(root: Path) -> list[str]:
    """Temporary files or folders anywhere under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if any(m in p.name for m in TMP_MARKS))


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def trials(name: str, argv_for: Callable[[Path], list[str]], work: Path, n: int, seed: int = 0) -> dict:
    """Run ``n`` kill trials of one command in ``work``; return counts (see the module docstring)."""
    rng = random.Random(f"{name}:{seed}")
    runs = 0

    def clean_run() -> tuple[dict, float]:
        nonlocal runs
        runs += 1
        ref_dir = work / f"{name}-clean-{runs}"
        ref_dir.mkdir(parents=True)
        t0 = time.monotonic()
        done = _run(argv_for(ref_dir / "out"), ref_dir)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: the clean run failed: {done.stderr.strip()[-500:]}")
        found = contents(ref_dir / "out")
        shutil.rmtree(ref_dir)
        return found, time.monotonic() - t0

    reference, clean_s = clean_run()

    trial_dir = work / f"{name}-trials"
    trial_dir.mkdir()
    out = trial_dir / "out"
    counts = {
        "trials": n,
        "clean_run_s": round(clean_s, 2),
        "killed_before_end": 0,
        "signals": {s.name: 0 for s in SIGNALS},
        "partial_output_after_signal": 0,
        "temps_left_after_sigterm_or_sigint": 0,
        "stale_temps_after_sigkill": 0,
        "rerun_failed": 0,
        "identical_after_rerun": 0,
        "temps_left_after_rerun": 0,
        "clean_reference_rerun": 0,
    }
    problems: list[str] = []
    for i in range(n):
        sig = rng.choice(SIGNALS)
        counts["signals"][sig.name] += 1
        delay = rng.uniform(0.05, clean_s * 1.05)
        proc = subprocess.Popen(
            argv_for(out), cwd=trial_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(delay)
        if proc.poll() is None:
            counts["killed_before_end"] += 1
            proc.send_signal(sig)
        try:
            proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            problems.append(f"trial {i}: no exit within 120 s after {sig.name}")
        state = contents(out)
        left = leftovers(trial_dir)
        if left and sig != signal.SIGKILL:
            counts["temps_left_after_sigterm_or_sigint"] += 1
            problems.append(f"trial {i}: {sig.name} at {delay:.2f} s left {left}")
        elif left:
            counts["stale_temps_after_sigkill"] += 1
        again = _run(argv_for(out), trial_dir)
        if again.returncode != 0:
            counts["rerun_failed"] += 1
            problems.append(f"trial {i}: rerun failed: {again.stderr.strip()[-300:]}")
        final = contents(out)
        if final != reference:
            # Other people may change the code while the trials run: compare with a clean run made now.
            counts["clean_reference_rerun"] += 1
            reference, _ = clean_run()
        if final == reference:
            counts["identical_after_rerun"] += 1
        else:
            problems.append(f"trial {i}: output differs from the clean run after {sig.name} at {delay:.2f} s")
        if state and state != reference and state != final:
            counts["partial_output_after_signal"] += 1
            differ = sorted(k for k in set(state) | set(reference) if state.get(k) != reference.get(k))
            problems.append(f"trial {i}: partial output after {sig.name} at {delay:.2f} s: {differ[:5]}")
        if leftovers(trial_dir):
            counts["temps_left_after_rerun"] += 1
            problems.append(f"trial {i}: temporaries remain after the rerun: {leftovers(trial_dir)}")
    shutil.rmtree(trial_dir, ignore_errors=True)
    counts["problems"] = problems
    return counts
