"""Hooks: declared external commands (fake estimators and generators) whose outputs the readers read."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.hooks import get_hook, load_hooks, motion_from_hook, parse_hook

from ..conftest import smooth_random_motion
from ..inputs import h36m_camera_joints, humanml3d_joints

PY = sys.executable


def _fake_generator(tmp_path: Path) -> Path:
    """A stand-in for a text-to-motion repository: writes HumanML3D joints (T, 22, 3) into --out."""
    joints = humanml3d_joints(smooth_random_motion(num_frames=40, fps=20.0))
    np.save(tmp_path / "template.npy", joints)
    script = tmp_path / "t2m.py"
    script.write_text(
        textwrap.dedent(f"""
        import argparse, pathlib, shutil, sys
        ap = argparse.ArgumentParser()
        ap.add_argument("--text"); ap.add_argument("--out"); ap.add_argument("--seed", type=int)
        a = ap.parse_args()
        if "fail" in a.text:
            print("CUDA out of memory: tried to allocate 9 GiB", file=sys.stderr)
            sys.exit(3)
        out = pathlib.Path(a.out) / "results"
        out.mkdir()
        (out / "prompt.txt").write_text(a.text)
        shutil.copy({str(tmp_path / "template.npy")!r}, out / "sample00.npy")
    """)
    )
    return script


def _fake_estimator(tmp_path: Path) -> Path:
    """A stand-in for StridedTransformer's demo: writes output_3D/output_keypoints_3d.npz."""
    joints = h36m_camera_joints(smooth_random_motion(num_frames=30)).astype(np.float32)
    np.save(tmp_path / "h36m.npy", joints)
    script = tmp_path / "vis.py"
    script.write_text(
        textwrap.dedent(f"""
        import pathlib, sys, numpy as np
        video, out = sys.argv[1], pathlib.Path(sys.argv[2])
        assert pathlib.Path(video).is_file(), video
        (out / "output_3D").mkdir(parents=True)
        joints = np.load({str(tmp_path / "h36m.npy")!r})
        np.savez(out / "output_3D" / "output_keypoints_3d.npz", reconstruction=joints)
    """)
    )
    return script


def _hooks_file(tmp_path: Path, **extra) -> Path:
    gen, est = _fake_generator(tmp_path), _fake_estimator(tmp_path)
    text = textwrap.dedent(f"""
        hooks:
          t2m:
            kind: text
            command: {PY} {gen} --text {{text}} --out {{out_dir}} --seed {{seed}}
            output: "results/*.npy"
            format: humanml3d
            timeout: {extra.get("timeout", 60)}
          strided:
            kind: video
            command: [{PY}, {est}, "{{video}}", "{{out_dir}}"]
            output: "**/*.npz"
            fps: 25
          slow:
            kind: text
            command: {PY} -c "import time; time.sleep(30)" {{text}} {{out_dir}}
            timeout: 1
    """)
    path = tmp_path / "hooks.yaml"
    path.write_text(text)
    return path


def test_text_hook_reads_back_humanml3d(tmp_path):
    hooks = load_hooks(_hooks_file(tmp_path))
    assert sorted(hooks) == ["slow", "strided", "t2m"]
    prompt = 'a person slips; and "falls" backwards $(rm -rf /)'
    motion = motion_from_hook(hooks["t2m"], tmp_path / "work", text=prompt, seed=7, label="fall")
    assert motion.num_frames == 40 and motion.fps == 20.0 and motion.label == "fall"
    assert motion.source["hook"] == "t2m" and motion.source["reader"] == "humanml3d"
    # The prompt reached the command as one argument, not through a shell.
    assert (tmp_path / "work" / "results" / "prompt.txt").read_text() == prompt
    assert (tmp_path / "work" / "hook.log").is_file()


def test_video_hook_reads_back_strided(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 16)
    hook = get_hook("strided", _hooks_file(tmp_path))
    motion = motion_from_hook(hook, tmp_path / "work", video=video)
    assert motion.num_frames == 30 and motion.fps == 25.0
    assert motion.source["reader"] == "strided" and motion.source["video"] == "clip.mp4"


def test_failing_hook_quotes_stderr_tail(tmp_path):
    hook = get_hook("t2m", _hooks_file(tmp_path))
    with pytest.raises(UsdSynthError, match=r"'t2m' failed with exit code 3; stderr: CUDA out of memory"):
        motion_from_hook(hook, tmp_path / "work", text="please fail")


def test_timeout_kills_the_command(tmp_path):
    hook = get_hook("slow", _hooks_file(tmp_path))
    start = time.monotonic()
    with pytest.raises(UsdSynthError, match="timed out after 1 s"):
        motion_from_hook(hook, tmp_path / "work", text="x")
    assert time.monotonic() - start < 10


def test_missing_output_and_missing_video(tmp_path):
    hook = parse_hook("noop", {"command": f"{PY} -c pass {{text}} {{out_dir}}", "output": "*.npy"})
    with pytest.raises(UsdSynthError, match="wrote no file matching"):
        motion_from_hook(hook, tmp_path / "w", text="walk")
    est = get_hook("strided", _hooks_file(tmp_path))
    with pytest.raises(UsdSynthError, match="no such video file"):
        motion_from_hook(est, tmp_path / "w2", video=tmp_path / "none.mp4")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"command": "gen {text}"}, "must pass {out_dir}"),
        ({"command": "gen {out_dir}"}, "must use {text}"),
        ({"kind": "video", "command": "est {text} {out_dir}"}, "must use {video}"),
        ({"command": "gen {text} {out_dir} {model}"}, "unknown placeholder {model}"),
        ({"command": "gen {text} {out_dir}", "timeout": -1}, "timeout must be"),
        ({"command": "gen {text} {out_dir}", "colour": 1}, "unknown key 'colour'"),
        ({"command": "gen {text} {out_dir}", "output": "../*.npy"}, "relative glob"),
        ({"kind": "audio", "command": "x"}, "kind must be one of"),
        ({"command": ""}, "command is empty"),
        ({"command": "gen 'unclosed {text} {out_dir}"}, "cannot be split"),
        ("just a string", "must be a mapping"),
    ],
)
def test_bad_declarations(spec, message):
    with pytest.raises(UsdSynthError, match=message):
        parse_hook("h", spec)


def test_bad_hooks_files(tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("hooks: [1, 2\n")
    with pytest.raises(UsdSynthError, match="not a valid YAML hooks file"):
        load_hooks(bad)
    bad.write_text("generators: {}\n")
    with pytest.raises(UsdSynthError, match="one key, 'hooks'"):
        load_hooks(bad)
    with pytest.raises(UsdSynthError, match="no such hooks file"):
        load_hooks(tmp_path / "missing.yaml")
    monkeypatch.setenv("USD_SYNTH_HOOKS", str(_hooks_file(tmp_path)))
    with pytest.raises(UsdSynthError, match="unknown hook 'mdm'.*known: t2m, strided, slow"):
        get_hook("mdm")


# -- command line ------------------------------------------------------------------------------------------
def _cli(*args):
    from click.testing import CliRunner
    from usd_synth.cli.main import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_generate_estimate_and_list(tmp_path):
    hooks = _hooks_file(tmp_path)
    out = tmp_path / "out" / "fall.usda"
    r = _cli("motion", "generate", "--text", "a person falls", "--hook", "t2m", "--hooks", hooks, "-o", out,
             "--label", "fall")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "40 frames at 20 fps (hook t2m, humanml3d)" in r.output
    info = _cli("motion", "info", out, "--json")
    assert '"label": "fall"' in info.output and '"text": "a person falls"' in info.output
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00")
    r = _cli("motion", "estimate", video, "--hook", "strided", "--hooks", hooks, "-o", tmp_path / "v.usd",
             "--keep", tmp_path / "kept")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "kept" / "output_3D" / "output_keypoints_3d.npz").is_file()
    r = _cli("motion", "hooks", "--hooks", hooks)
    assert [line.split("\t")[:2] for line in r.output.splitlines()] == [
        ["t2m", "text"], ["strided", "video"], ["slow", "text"]
    ]  # fmt: skip


def test_cli_failing_hook_is_one_line_exit_2(tmp_path):
    hooks = _hooks_file(tmp_path)
    out = tmp_path / "fail.usd"
    r = _cli("motion", "generate", "--text", "fail now", "--hook", "t2m", "--hooks", hooks, "-o", out)
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "exit code 3" in lines[0] and "CUDA out of memory" in lines[0]
    assert not out.exists()
    r = _cli("motion", "generate", "--text", "x", "--hook", "nope", "--hooks", hooks, "-o", out)
    assert r.exit_code == 2 and "unknown hook 'nope'" in r.output and len(r.output.strip().splitlines()) == 1


def test_cli_reader_option_for_another_format_is_refused(tmp_path):
    src = tmp_path / "t2m.npy"
    np.save(src, humanml3d_joints(smooth_random_motion(num_frames=20, fps=20.0)))
    r = _cli("motion", "import", src, "-o", tmp_path / "m.usd", "--unit", "cm")
    assert r.exit_code == 2 and "--unit does not apply to humanml3d input" in r.output
