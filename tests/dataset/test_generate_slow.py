"""Acceptance of the dataset builder on examples/tiny.yaml: the same manifest with 1 worker, 2 local
processes and 2 Ray workers (a real local Ray instance), and after a SIGKILL half-way plus ``--resume``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from usd_synth.dataset.builder import generate
from usd_synth.dataset.job import sha256_file

pytestmark = pytest.mark.slow

TINY = Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml"


def manifest_rows(folder: Path) -> list[dict]:
    """The manifest without timing fields (there are none today; kept so the comparison says so)."""
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("timing", None)
    return rows


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "one"
    generate(TINY, out, workers=1, executor="serial")
    return out


def check_dataset(out: Path) -> None:
    rows = manifest_rows(out)
    assert rows
    split_of: dict[str, set[str]] = {}
    for r in rows:
        for rel, digest in r["files"].items():
            assert sha256_file(out / rel) == digest, rel
        frames = sorted((out / "tao" / r["class"] / r["id"] / "rgb").glob("*.png"))
        assert len(frames) == r["frames"]
        for s in r["sources"]:
            split_of.setdefault(s, set()).add(r["split"])
    assert all(len(v) == 1 for v in split_of.values())


def test_tiny_reference_is_a_complete_dataset(reference) -> None:
    check_dataset(reference)
    assert len(manifest_rows(reference)) == 8


def test_two_processes_give_the_same_manifest(reference, tmp_path) -> None:
    generate(TINY, tmp_path / "two", workers=2, executor="processes")
    assert manifest_rows(tmp_path / "two") == manifest_rows(reference)


def test_ray_gives_the_same_manifest(reference, tmp_path) -> None:
    pytest.importorskip("ray")
    generate(TINY, tmp_path / "ray", workers=2, executor="ray")
    assert manifest_rows(tmp_path / "ray") == manifest_rows(reference)
    import ray

    assert not ray.is_initialized()  # the local instance was shut down


def test_sigkill_half_way_then_resume_equals_a_clean_run(reference, tmp_path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "usd_synth.cli.main", "generate", str(TINY), "-o", str(out)]
    cmd += ["--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "jobs").glob("*.json"))) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = len(list((out / "jobs").glob("*.json")))
    assert 3 <= done < 8
    assert not (out / "manifest.jsonl").exists()
    time.sleep(0.5)  # let orphaned pool workers notice their parent is gone
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "jobs skipped" in resumed.stdout
    assert manifest_rows(out) == manifest_rows(reference)
    check_dataset(out)
    listed = {rel for r in manifest_rows(out) for rel in r["files"]}
    for top in ("videos", "tao", "skeletons", "labels", "sheets"):
        for p in (out / top).rglob("*"):
            if p.is_file() and p.parent != out / top:
                assert p.relative_to(out).as_posix() in listed, p  # no duplicate or stray output
    assert not (out / ".work").exists()
    assert not [p for p in out.rglob("*") if ".usd-synth-tmp-" in p.name]
