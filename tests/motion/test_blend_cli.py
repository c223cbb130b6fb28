"""``usd-synth blend``: outputs, naming, provenance in the USD metadata, determinism, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from pxr import Usd, UsdSkel, Vt
from usd_synth.cli.main import cli

from usd_synth.motion.library import make_motion
from usd_synth.motion.model import Motion
from usd_synth.usd.motion_io import read_motion_usd, write_motion

from ..conftest import smooth_random_motion


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple:
    folder = tmp_path_factory.mktemp("blend_inputs")
    a = write_motion(make_motion("walk", seed=0, fps=30.0, seconds=2.0), folder / "walk.usd")
    b = write_motion(make_motion("walk", seed=3, fps=20.0, seconds=1.6), folder / "walk_fast.usda")
    return a, b


def test_single_weight_writes_a_blend_with_its_provenance(inputs, tmp_path) -> None:
    a, b = inputs
    out = tmp_path / "mix.usd"
    r = run("blend", a, b, "-o", out, "--weight", "0.4")
    assert r.exit_code == 0, r.output
    assert "w=0.4, 60 frames at 30 fps" in r.output and "foot skate" in r.output
    m = read_motion_usd(out)
    src = m.source
    assert src["reader"] == "blend" and src["weight"] == 0.4 and src["formula"] == "slerp"
    assert [i["name"] for i in src["inputs"]] == ["walk.usd", "walk_fast.usda"]
    assert src["align"]["method"] == "dtw" and src["align"]["fps"] == [30.0, 20.0]
    assert set(src["quality"]) >= {"foot_skate", "ground_penetration", "floating", "jerk", "rejected"}
    assert m.label == "walk" and m.num_frames == 60


def test_same_inputs_give_byte_identical_files(inputs, tmp_path) -> None:
    a, b = inputs
    outs = [tmp_path / f"{k}" / "mix.usd" for k in range(2)]
    for out in outs:
        assert run("blend", a, b, "-o", out, "--weight", "0.5", "--device", "cpu").exit_code == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_weights_write_one_file_per_weight(inputs, tmp_path) -> None:
    a, b = inputs
    out = tmp_path / "mixes"
    r = run("blend", a, b, "-o", out, "--weights", "0,0.25,1", "--align", "linear", "--usda")
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    expected = ["walk_walk_fast_w0.00.usda", "walk_walk_fast_w0.25.usda", "walk_walk_fast_w1.00.usda"]
    assert names == sorted(expected + [n.replace(".usda", ".anim.usdc") for n in expected])
    first = read_motion_usd(out / expected[0])
    original = read_motion_usd(a)
    assert np.abs(first.translation - original.translation).max() < 1e-5
    assert read_motion_usd(out / expected[1]).source["align"]["method"] == "linear"
    # An existing, non-empty folder is replaced only when asked.
    r = run("blend", a, b, "-o", out, "--weights", "0.5")
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = run("blend", a, b, "-o", out, "--weights", "0.5", "--overwrite")
    assert r.exit_code == 0 and sorted(p.name for p in out.iterdir()) == ["walk_walk_fast_w0.50.usd"]


def test_synthda_formula_and_cleanup(inputs, tmp_path) -> None:
    a, b = inputs
    out = tmp_path / "syn.usd"
    r = run("blend", a, b, "-o", out, "--weight", "0.5", "--formula", "synthda", "--cleanup")
    assert r.exit_code == 0, r.output
    src = read_motion_usd(out).source
    assert src["formula"] == "synthda" and src["align"]["method"] == "linear"
    assert src["cleanup"] == "foot_contacts"


def test_drop_rejected(inputs, tmp_path) -> None:
    """A blend whose root slides fails the skate threshold and is not written."""
    a, _ = inputs
    walk = read_motion_usd(a)
    sliding = Motion(walk.fps, walk.rotations, walk.translation * [3.0, 3.0, 1.0], walk.offsets, "walk")
    b = write_motion(sliding, tmp_path / "slide.usd")
    out = tmp_path / "mix.usd"
    r = run("blend", a, b, "-o", out, "--weight", "1", "--drop-rejected")
    assert r.exit_code == 0 and "not written (foot_skate" in r.output and not out.exists()


def _non_smpl_usd(path) -> None:
    stage = Usd.Stage.CreateNew(str(path))
    root = UsdSkel.Root.Define(stage, "/Rig")
    stage.SetDefaultPrim(root.GetPrim())
    skel = UsdSkel.Skeleton.Define(stage, "/Rig/Skeleton")
    skel.CreateJointsAttr(Vt.TokenArray(["hips", "hips/spine", "hips/spine/head"]))
    stage.GetRootLayer().Save()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weight", "1.5"], "--weight: weight 1.5 is outside [0, 1]"),
        (["--weights", "0.2,-1"], "--weights: weight -1 is outside [0, 1]"),
        (["--weights", "0.2,x"], "--weights 0.2,x: give comma-separated numbers"),
        ([], "give exactly one of --weight W or --weights"),
        (["--weight", "0.5", "--weights", "0.5"], "give exactly one of"),
        (["--weight", "0.5", "--formula", "synthda", "--align", "dtw"], "drop --align dtw"),
        (["--weight", "0.5", "--band", "2"], "--band 2.0: must be a fraction"),
        (["--weight", "0.5", "--device", "tpu"], "--device tpu: unknown device"),
    ],
)
def test_bad_options_are_one_line_exit_2(inputs, tmp_path, args, message) -> None:
    a, b = inputs
    r = run("blend", a, b, "-o", tmp_path / "x.usd", *args)
    assert r.exit_code == 2, r.output
    assert message in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.usd").exists()


def test_bad_inputs_are_one_line_exit_2(inputs, tmp_path) -> None:
    a, _ = inputs
    other = tmp_path / "rig.usda"
    _non_smpl_usd(other)
    empty = tmp_path / "empty.usd"
    empty.write_bytes(b"")
    cases = [(other, "is not SMPL-24"), (empty, "file is empty"), (tmp_path / "none.usd", "no such file")]
    for b, message in cases:
        r = run("blend", a, b, "-o", tmp_path / "x.usd", "--weight", "0.5")
        assert r.exit_code == 2 and message in r.output and str(b.name) in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.usd").exists()


def test_joint_files_blend_after_import(tmp_path) -> None:
    """Any readable motion file is an input: here a HumanML3D-style joints array, retargeted on read."""
    from ..inputs import humanml3d_joints

    joints = tmp_path / "t2m.npy"
    np.save(joints, humanml3d_joints(smooth_random_motion(num_frames=40, fps=20.0)))
    a = write_motion(make_motion("wave", seed=0, fps=30.0, seconds=1.5), tmp_path / "wave.usd")
    r = run("blend", a, joints, "-o", tmp_path / "mix.usd", "--weight", "0.5")
    assert r.exit_code == 0, r.output
    # A random motion mixed with a wave slides its feet: the blend is rejected, so it lands in rejected/.
    written = [p for p in (tmp_path / "mix.usd", tmp_path / "rejected" / "mix.usd") if p.exists()]
    assert len(written) == 1 and ("REJECTED" in r.output) == (written[0].parent.name == "rejected")
    assert read_motion_usd(written[0]).source["inputs"][1]["reader"] == "humanml3d"


def test_rejected_blends_go_into_a_rejected_folder(inputs, tmp_path) -> None:
    """Without --drop-rejected a rejected blend is still written, but into rejected/, and said so."""
    a, _ = inputs
    walk = read_motion_usd(a)
    sliding = Motion(walk.fps, walk.rotations, walk.translation * [3.0, 3.0, 1.0], walk.offsets, "walk")
    b = write_motion(sliding, tmp_path / "slide.usd")
    out = tmp_path / "one" / "mix.usd"
    r = run("blend", a, b, "-o", out, "--weight", "1")
    assert r.exit_code == 0, r.output
    assert not out.exists() and (out.parent / "rejected" / "mix.usd").is_file()
    assert "REJECTED (foot_skate" in r.output and "rejected/mix.usd" in r.output
    folder = tmp_path / "mixes"
    r = run("blend", a, b, "-o", folder, "--weights", "0,1")
    assert r.exit_code == 0, r.output
    assert (folder / "walk_slide_w0.00.usd").is_file() and (
        folder / "rejected" / "walk_slide_w1.00.usd"
    ).is_file()
    assert not (folder / "walk_slide_w1.00.usd").exists()
    r = run("blend", a, b, "-o", tmp_path / "dropped", "--weights", "0,1", "--drop-rejected")
    assert r.exit_code == 0 and "not written (foot_skate" in r.output
    assert sorted(p.name for p in (tmp_path / "dropped").iterdir()) == ["walk_slide_w0.00.usd"]
