"""Atomic outputs, temporary names, protected folders, non-finite values and stderr hygiene."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pxr import Sdf, UsdGeom
from usd_synth.cli.main import _warnings_to_log, cli

from usd_synth.errors import UsdSynthError
from usd_synth.fileio import (
    atomic_dir,
    atomic_path,
    check_output_dir,
    check_output_file,
    remove_stale,
)
from usd_synth.usd.authoring import authoring_stage, nonfinite_values, open_stage, samples_path
from usd_synth.usd.motion_io import write_motion

from ..conftest import smooth_random_motion


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ---------------------------------------------------------------------------------- atomic outputs ----
def test_sidecar_is_renamed_before_the_text_layer(tmp_path, monkeypatch) -> None:
    order: list[str] = []
    real = os.replace

    def spy(src, dst):
        order.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_motion(smooth_random_motion(10), tmp_path / "m.usda")
    assert order == ["m.anim.usdc", "m.usda"]
    assert names(tmp_path) == ["m.anim.usdc", "m.usda"]
    stage = open_stage(tmp_path / "m.usda")
    assert stage.GetRootLayer().GetCompositionAssetDependencies() == ["./m.anim.usdc"]


def test_a_failed_write_leaves_nothing(tmp_path) -> None:
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.usd") as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert names(tmp_path) == []
    with pytest.raises(KeyboardInterrupt), atomic_dir(tmp_path / "set") as tmp:
        (tmp / "a.txt").write_text("half")
        raise KeyboardInterrupt
    assert names(tmp_path) == []


def test_temporary_names_are_predictable_and_stale_ones_go(tmp_path) -> None:
    target = tmp_path / "set"
    gone = dead_pid()
    (tmp_path / f".set.usd-synth-tmp-{gone}").mkdir()
    (tmp_path / f".set.usd-synth-tmp-{gone}" / "clip.mp4").write_bytes(b"half")
    (tmp_path / f".set.usd-synth-old-{gone}-1").mkdir()
    alive = f".set.usd-synth-tmp-{os.getppid()}"
    (tmp_path / alive).mkdir()  # a run still going: kept
    other = f".other.usd-synth-tmp-{gone}"
    (tmp_path / other).mkdir()  # another target's: kept
    with atomic_dir(target) as tmp:
        assert tmp.name == f".set.usd-synth-tmp-{os.getpid()}"
        (tmp / "a.txt").write_text("done")
    assert names(tmp_path) == sorted([alive, other, "set"])
    assert remove_stale(tmp_path / "other") == [tmp_path / other]


def test_a_killed_write_is_cleaned_by_the_next(tmp_path) -> None:
    gone = dead_pid()
    stale = tmp_path / f".m.usd.usd-synth-tmp-{gone}"
    (stale / "0").mkdir(parents=True)
    (stale / "0" / "m.usd").write_bytes(b"PXR-USDC half")
    write_motion(smooth_random_motion(10), tmp_path / "m.usd")
    assert names(tmp_path) == ["m.usd"]


def test_folders_that_are_never_replaced(tmp_path, monkeypatch) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "x").write_text("x")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "a"))
    for target in (".", "..", str(work), str(tmp_path / "a"), "/"):
        with pytest.raises(UsdSynthError, match="never replaced"):
            check_output_dir(target, overwrite=True)
    with pytest.raises(UsdSynthError, match="never replaced"), atomic_dir(work, overwrite=True):
        pass
    assert names(work) == ["x"]


def test_non_empty_folders_need_overwrite(tmp_path) -> None:
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "mine.txt").write_text("mine")
    with pytest.raises(UsdSynthError, match="not empty"), atomic_dir(tmp_path / "set", overwrite=False):
        pass
    with atomic_dir(tmp_path / "set", overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert names(tmp_path / "set") == ["new.txt"]
    assert names(tmp_path) == ["set"]
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "summary.json").write_text("{}")
    check_output_dir(tmp_path / "own", replaceable=("summary.json", "motions"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("dir", "is a folder"),
        ("file/x.usd", "not a folder"),
        ("a" * 300 + ".usd", "too long"),
        (".", "folder"),
    ],
)
def test_output_file_names_refused_before_work(tmp_path, name, message) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsdSynthError, match=message):
        check_output_file(tmp_path / name if name != "." else Path("."))


# ----------------------------------------------------------------------------- non-finite values ----
def test_writers_refuse_non_finite_values(tmp_path) -> None:
    for suffix in (".usd", ".usda"):
        path = tmp_path / f"x{suffix}"
        with pytest.raises(UsdSynthError, match="non-finite"), authoring_stage(path, 30.0, 2) as a:
            mesh = UsdGeom.Mesh.Define(a.stage, "/M")
            a.stage.SetDefaultPrim(mesh.GetPrim())
            mesh.CreateExtentAttr().Set([(0, 0, 0), (1, 1, 1)], 0)
            mesh.GetExtentAttr().Set([(0, 0, 0), (np.inf, 1, 1)], 1)
        assert not path.exists() and not samples_path(path).exists()
    assert names(tmp_path) == []


def test_validate_reports_non_finite_time_samples(tmp_path) -> None:
    path = tmp_path / "inf.usda"
    layer = Sdf.Layer.CreateNew(str(path))
    layer.ImportFromString(
        '#usda 1.0\n(\n defaultPrim = "A"\n upAxis = "Z"\n metersPerUnit = 1\n)\n'
        'def SkelAnimation "A"\n{\n float3[] translations.timeSamples = { 0: [(0,0,0)], 1: [(inf,0,0)] }\n'
        " quatf[] rotations.timeSamples = { 0: [(1,0,0,0)], 1: [(nan,0,0,0)] }\n}\n"
    )
    layer.Save()
    assert nonfinite_values(open_stage(path)) == ["/A.rotations at time 1", "/A.translations at time 1"]
    r = CliRunner().invoke(cli, ["validate", "--no-omni", str(path)])
    assert r.exit_code == 1
    assert "/A.translations at time 1 has non-finite values" in r.output
    assert "2 error(s)" in r.output


def test_a_clean_file_has_no_non_finite_findings(tmp_path) -> None:
    write_motion(smooth_random_motion(10), tmp_path / "m.usda")
    assert nonfinite_values(open_stage(tmp_path / "m.usda")) == []


# ------------------------------------------------------------------------------------------ stderr ----
def test_python_warnings_go_to_the_log(caplog) -> None:
    with caplog.at_level("INFO", logger="usd_synth.cli"), _warnings_to_log(), np.errstate(all="warn"):
        np.log(np.zeros(1))
        warnings.warn("something odd", UserWarning, stacklevel=1)
    messages = [r.getMessage() for r in caplog.records]
    assert any("divide by zero" in m for m in messages) and any("something odd" in m for m in messages)


def test_usd_warnings_stay_off_stderr(tmp_path) -> None:
    """USD prints ``Warning:`` lines from C++ (a missing reference here); the console script keeps them
    for ``-v`` (a subprocess: only the real file descriptor 2 shows them)."""
    path = tmp_path / "ref.usda"
    path.write_text(
        '#usda 1.0\n(\n defaultPrim = "A"\n)\ndef Xform "A" (references = @missing.usda@)\n{\n}\n'
    )
    argv = [sys.executable, "-m", "usd_synth.cli.main", "motion", "info", str(path)]
    quiet = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 2 and len(quiet.stderr.strip().splitlines()) == 1, quiet.stderr
    assert "Warning:" not in quiet.stderr and quiet.stderr.startswith("usd-synth: error: ")
    loud = subprocess.run(argv[:3] + ["-v"] + argv[3:], capture_output=True, text=True, timeout=60)
    assert "native: Warning:" in loud.stderr


def test_usage_errors_are_one_line() -> None:
    r = CliRunner().invoke(cli, ["fractal", "--sise", "3"])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "usd-synth: error: No such option '--sise'. (Did you mean one of: '--classes', '--seed', '--size'?) "
        "(see 'usd-synth fractal --help')"
    ]


def test_the_demo_command_knows_the_demos_own_outputs() -> None:
    from usd_synth.cli.demo import DEMO_OUTPUTS as told

    from usd_synth.demo import DEMO_OUTPUTS

    assert told == DEMO_OUTPUTS
