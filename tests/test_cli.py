"""The usd-synth command line: outputs, summaries, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

from .conftest import smooth_random_motion
from .inputs import humanml3d_joints


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def t2m_file(tmp_path):
    path = tmp_path / "in" / "t2m.npy"
    path.parent.mkdir()
    np.save(path, humanml3d_joints(smooth_random_motion(num_frames=40, fps=20)))
    return path


def test_import_info_validate(tmp_path, t2m_file):
    out = tmp_path / "out" / "m.usda"
    r = run("motion", "import", t2m_file, "-o", out, "--label", "wave")
    assert r.exit_code == 0, r.output
    assert "40 frames at 20 fps" in r.output and "residual MPJPE" in r.output
    r = run("motion", "info", out, "--json")
    info = json.loads(r.output)
    assert info["label"] == "wave" and info["frames"] == 40 and info["source"]["reader"] == "humanml3d"
    r = run("validate", out)
    assert r.exit_code == 0 and "0 error(s)" in r.output


def test_validate_exits_1_on_errors(tmp_path):
    bad = tmp_path / "bad.usda"
    bad.write_text('#usda 1.0\ndef Xform "A" {}\n')  # no defaultPrim, upAxis or metersPerUnit
    r = run("validate", "--no-omni", bad)
    assert r.exit_code == 1 and "error" in r.output


def test_formats_lists_the_readers():
    r = run("motion", "formats")
    assert r.exit_code == 0 and "strided" in r.output and "amass" in r.output


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty"),
        (None, "contains NaN"),
        ("shape", "unknown motion format"),
        ("truncate", "truncated"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(tmp_path, t2m_file, content, message):
    src = tmp_path / "bad.npy"
    if content is None:
        arr = np.load(t2m_file)
        arr[2, 2, 2] = np.nan
        np.save(src, arr)
    elif content == "shape":
        np.save(src, np.zeros((5, 23, 3)))
    elif content == "truncate":
        src.write_bytes(t2m_file.read_bytes()[:300])
    else:
        src.write_bytes(content)
    out_dir = tmp_path / "out"
    r = run("motion", "import", src, "-o", out_dir / "m.usd")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(src) in lines[0]
    assert "Traceback" not in r.output
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_bad_output_name_and_format(tmp_path, t2m_file):
    r = run("motion", "import", t2m_file, "-o", tmp_path / "m.txt")
    assert r.exit_code == 2 and "must end in one of" in r.stderr
    r = run("motion", "import", t2m_file, "-o", tmp_path / "m.usd", "--format", "nope")
    assert r.exit_code == 2 and "unknown format 'nope'" in r.stderr
    r = run("motion", "import", t2m_file, "-o", tmp_path / "m.usd", "--fps", "-3")
    assert r.exit_code == 2 and "--fps" in r.stderr


def test_console_script_no_traceback(tmp_path):
    """The installed entry point itself: one line on stderr, exit 2."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "usd_synth.cli.main",
            "motion",
            "import",
            str(tmp_path / "missing.npy"),
            "-o",
            str(tmp_path / "x.usd"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"usd-synth: error: {tmp_path / 'missing.npy'}: no such file or folder"
    assert not (tmp_path / "x.usd").exists()


def test_motion_list_and_builtin(tmp_path):
    r = run("motion", "list")
    names = r.output.split()
    assert r.exit_code == 0 and {"walk", "run", "jump", "wave", "squat", "fall_down"} <= set(names)
    out = tmp_path / "walk.usd"
    r = run("motion", "builtin", "walk", "-o", out, "--seed", "3", "--seconds", "2")
    assert r.exit_code == 0 and "60 frames" in r.output
    info = json.loads(run("motion", "info", out, "--json").output)
    assert info["label"] == "walk" and info["source"]["seed"] == 3
    r = run("motion", "builtin", "moonwalk", "-o", tmp_path / "x.usd")
    assert r.exit_code == 2 and "moonwalk" in r.stderr and not (tmp_path / "x.usd").exists()
    r = run("motion", "builtin", "walk", "-o", tmp_path / "y.usd", "--seconds", "-1")
    assert r.exit_code == 2 and not (tmp_path / "y.usd").exists()


def test_demo_writes_valid_files(tmp_path):
    r = run("demo", "-o", tmp_path / "demo")
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    kinds = [row["kind"] for row in summary["files"]]
    assert kinds.count("motion") >= 6 and kinds.count("actor") >= 6 and kinds.count("blend") == 3
    assert all(row["errors"] == 0 for row in summary["files"])
    assert all((tmp_path / "demo" / row["file"]).is_file() for row in summary["files"])
    assert summary["fractal"]["clips"] == 6
    assert len(list((tmp_path / "demo" / "fractal" / "videos").rglob("*.mp4"))) == 6


def test_demo_is_deterministic(tmp_path):
    from usd_synth.demo import run_demo

    run_demo(tmp_path / "a", fractal=False)
    run_demo(tmp_path / "b", fractal=False)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".usd"]) >= 15
    # the stage, the rendered clips and their labels too: every file, byte for byte
    assert any(f.name == "rgb.mp4" for f in files) and any(f.name == "labels.json" for f in files)
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


# ------------------------------------------------------------------ library fields told as flags ----
@pytest.mark.parametrize(
    ("args", "told"),
    [
        (["fractal", "--classes", "2", "--size", "8"], "--size must be at least 16 pixels (got 8)"),
        (["fractal", "--classes", "2", "--workers", "0"], "--workers must be at least 1 (got 0)"),
        (["fractal", "--classes", "2", "--format", "gif"], "--format must be mp4 or png (got gif)"),
        (["fractal", "--classes", "2", "--clips-per-class", "0"], "--clips-per-class must be at least 1"),
        (["fractal", "--unlabelled", "--classes", "2", "--clips", "3"],
         "--unlabelled and --classes exclude each other"),
        (["body", "--model", "smpl"], "--model smpl needs --smpl-dir"),
        (["body", "--set", "age"], "--set 'age': expected key=value"),
        (["motion", "builtin", "walk", "--seconds", "-1"], "walk: --seconds must be a positive number"),
    ],
)  # fmt: skip
def test_library_fields_are_told_as_flags(tmp_path, args, told):
    out = tmp_path / "out"
    r = run(*args, "-o", out if args[0] == "fractal" else out / "x.usd")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usd-synth: error: ") and told in lines[0], r.stderr
    assert "Traceback" not in r.output
    assert not out.exists()


def test_a_full_output_folder_names_output_and_overwrite(tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    r = run("fractal", "-o", out, "--classes", "1", "--size", "32", "--frames", "4")
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"usd-synth: error: {out}: --output: the folder is not empty; pass --overwrite to replace it"
    )


def test_choices_are_the_librarys_constants():
    from usd_synth.cli.blend import blend
    from usd_synth.cli.body import body

    from usd_synth.body import MODELS
    from usd_synth.motion.align import ALIGN_METHODS
    from usd_synth.motion.blend import DURATIONS, FORMULAS

    types = {p.name: p.type for p in (*blend.params, *body.params)}
    assert types["align_method"].choices == ALIGN_METHODS
    assert types["formula"].choices == FORMULAS and types["duration"].choices == DURATIONS
    assert types["model"].choices == MODELS


def _leaf_commands():
    from usd_synth.cli.main import cli

    ctx = click.Context(cli)
    stack = [cli.get_command(ctx, name) for name in cli.list_commands(ctx)]
    while stack:
        command = stack.pop()
        if isinstance(command, click.Group):
            stack.extend(command.get_command(ctx, n) for n in command.list_commands(ctx))
        else:
            yield command


def test_shared_options_are_declared_alike():
    """``-o/--output``, ``--seed``, ``--device``, ``--workers``, ``--overwrite``: one spelling everywhere."""
    seen = {}
    for command in _leaf_commands():
        for param in command.params:
            if {"--output", "--seed", "--device", "--workers", "--overwrite"} & set(param.opts):
                kind = type(param.type).__name__
                seen.setdefault(param.opts[-1], set()).add((tuple(param.opts), param.name, kind))
    assert seen["--output"] == {(("-o", "--output"), "out", "Path")}
    for flag in ("--seed", "--device", "--workers", "--overwrite"):
        assert len(seen[flag]) == 1, seen[flag]


def test_listing_the_commands_imports_no_library_module():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from usd_synth.cli.main import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "library = [m for m in sys.modules if m.startswith('usd_synth.') and m != 'usd_synth.errors']\n"
        "print(sorted(m for m in library if not m.startswith('usd_synth.cli')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
