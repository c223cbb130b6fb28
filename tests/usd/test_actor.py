"""Actors (a motion bound to a body) and baking their skinning into time-sampled points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pxr import Usd, UsdGeom, UsdSkel, Vt
from usd_synth.cli.main import cli

from usd_synth.body import fidelity as fd
from usd_synth.body import make_body
from usd_synth.body.actor import make_actor
from usd_synth.body.anny_body import load_assets
from usd_synth.body.fidelity import lowest_heights, planted_feet, skinning_matrices
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.rotations import quat_angle
from usd_synth.skeleton import LEG_JOINTS, leg_length
from usd_synth.usd.authoring import open_stage
from usd_synth.usd.bake import bake_file, collect_bake_targets, skin_targets, usd_skinned_points
from usd_synth.usd.body_io import read_body, write_actor, write_body
from usd_synth.usd.motion_io import write_motion
from usd_synth.usd.validate import errors, omni_available, validate_file

from ..conftest import smooth_random_motion


def walk(frames: int) -> Motion:
    """A walking motion with planted feet (the built-in library when present)."""
    try:
        from usd_synth.motion.library import make_motion
    except ImportError:
        return smooth_random_motion(frames)
    return make_motion("walk", seed=1, seconds=frames / 30.0, fps=30.0)


@pytest.fixture(scope="module")
def body():
    load_assets()
    return make_body("anny", 0)


@pytest.fixture(scope="module")
def short_actor(body, tmp_path_factory) -> Path:
    return write_actor(make_actor(walk(45), body), tmp_path_factory.mktemp("actor") / "actor.usd")


def max_error_vs_usd(path: Path) -> tuple[float, int]:
    """Largest distance between our Warp skinning and UsdSkel's, over all frames (world space)."""
    stage = open_stage(path)
    targets, frames = collect_bake_targets(stage, path)
    worst = 0.0
    for f0, per_target in skin_targets(targets, "cpu", 128):
        for target, (points, _, _, _) in zip(targets, per_target, strict=True):
            for i in range(points.shape[0]):
                ref = usd_skinned_points(stage, target.prim_path, frames[f0 + i])
                worst = max(worst, float(np.abs(ref - points[i]).max()))
    return worst, len(frames)


def test_adaptation_keeps_rotations_and_soles_on_floor(body) -> None:
    motion = walk(60)
    actor = make_actor(motion, body)
    m = actor.motion
    # Every joint above the legs keeps its rotation; the legs change only by what holds the feet.
    others = np.setdiff1d(np.arange(24), list(LEG_JOINTS))
    np.testing.assert_allclose(m.rotations[:, others], motion.rotations[:, others])
    legs = list(LEG_JOINTS)
    assert np.degrees(quat_angle(m.rotations[:, legs], motion.rotations[:, legs]).max()) < 15.0
    np.testing.assert_allclose(m.offsets, body.offsets())
    scale = actor.adaptation["scale"]
    assert scale == pytest.approx(leg_length(body.offsets()) / leg_length(motion.offsets), rel=1e-5)
    # The soles (lowest skinned vertex), not the joints, are on the floor where a foot is planted, and
    # nothing goes below it.
    lowest = lowest_heights(body, skinning_matrices(m, body))["all"]
    planted = planted_feet(m.joint_positions(), m.fps).any(axis=1)
    assert planted.sum() > 20 and actor.adaptation["planted_frames"] >= planted.sum()
    assert np.abs(lowest[planted]).max() < 1e-6 and lowest.min() > -1e-6
    # Stride scales with the body; the vertical correction is small for a clean motion.
    src_path = np.linalg.norm(motion.translation[-1, :2] - motion.translation[0, :2])
    dst_path = np.linalg.norm(m.translation[-1, :2] - m.translation[0, :2])
    assert dst_path == pytest.approx(scale * src_path, rel=1e-6)
    assert actor.adaptation["max_ground_correction_m"] < 0.03
    assert "adapted" in actor.summary() and "floor" in actor.summary() and "planted feet" in actor.summary()


@pytest.mark.parametrize("seed", [0, 8])
def test_planted_feet_do_not_slide_on_another_body(seed: int) -> None:
    """The same joint angles on other leg proportions slid a planted foot by up to 7 cm a step (walk) before
    the stride was scaled by leg length and the feet pinned; now a planted joint travels no farther than
    the source's, scaled (1 mm), and the legs turn no faster than the source's (10 %)."""
    from usd_synth.motion.library import make_motion

    other = make_body("anny", seed)  # 8: a 1.0 m child; 0: a 1.79 m adult
    for name in ("walk", "run"):
        motion = make_motion(name, seed=3)
        actor = make_actor(motion, other)
        assert actor.adaptation["scale"] == pytest.approx(
            leg_length(other.offsets()) / leg_length(motion.offsets), rel=1e-5
        )
        assert fd.contact_slides(motion, actor.motion, actor.adaptation["scale"]).max() < 0.001, name
        legs = [m.rotations[:, list(LEG_JOINTS)] for m in (actor.motion, motion)]
        speed = [np.degrees(quat_angle(r[1:], r[:-1])).max() for r in legs]
        assert speed[0] < 1.1 * speed[1], name


def test_pinning_leaves_motions_without_contacts_alone(body) -> None:
    """A clip whose feet never rest (a walk rising 3 m into the air: no planted frame) keeps every
    rotation."""
    motion = walk(30)
    motion.translation[:, 2] += np.linspace(0.0, 3.0, motion.num_frames)  # rising: nothing stays low
    actor = make_actor(motion, body)
    np.testing.assert_allclose(actor.motion.rotations, motion.rotations, atol=1e-12)
    assert actor.adaptation["max_foot_pin_m"] == 0.0


@pytest.mark.parametrize("suffix", [".usd", ".usda"])
def test_actor_validates(body, tmp_path: Path, suffix: str) -> None:
    path = write_actor(make_actor(walk(30), body), tmp_path / f"actor{suffix}")
    issues = validate_file(path, omni=omni_available())
    assert errors(issues) == [], [i.line() for i in issues]
    stage = Usd.Stage.Open(str(path))
    mesh = stage.GetPrimAtPath("/Actor/Mesh")
    binding = UsdSkel.BindingAPI(mesh)
    assert binding.GetJointIndicesPrimvar().GetElementSize() == 4
    assert UsdGeom.PrimvarsAPI(mesh).GetPrimvar("st").GetInterpolation() == "faceVarying"
    assert len(UsdGeom.Mesh(mesh).GetNormalsAttr().Get()) == body.num_points
    assert mesh.HasAPI("MaterialBindingAPI")


@pytest.mark.skipif(not omni_available(), reason="omniverse-asset-validator (the validate extra) missing")
def test_actor_passes_omni_asset_validator(short_actor: Path) -> None:
    issues = validate_file(short_actor, omni=True)
    assert any(i.tool == "omni" for i in issues) or issues == []
    assert errors(issues) == []


def test_skinning_matches_usd_short(short_actor: Path) -> None:
    worst, frames = max_error_vs_usd(short_actor)
    assert frames == 45 and worst < 1e-4


@pytest.mark.slow
def test_skinning_matches_usd_2000_frames(body, tmp_path: Path) -> None:
    path = write_actor(make_actor(walk(2000), body), tmp_path / "long.usd")
    worst, frames = max_error_vs_usd(path)
    assert frames == 2000 and worst < 1e-4, worst


def test_bake_file(short_actor: Path, tmp_path: Path) -> None:
    out = tmp_path / "baked.usd"
    summary = bake_file(short_actor, out, "cpu", chunk=16)
    assert summary == {"meshes": ["/Actor/Mesh"], "frames": 45, "points": 13718}
    assert errors(validate_file(out, omni=omni_available())) == []
    baked = Usd.Stage.Open(str(out))
    assert not any(p.IsA(UsdSkel.Skeleton) or p.IsA(UsdSkel.Root) for p in baked.Traverse())
    mesh = UsdGeom.Mesh(baked.GetPrimAtPath("/Actor/Mesh"))
    assert not mesh.GetPrim().HasAPI(UsdSkel.BindingAPI)
    assert mesh.GetResetXformStack()
    src = open_stage(short_actor)
    for frame in (0, 17, 44):
        points = np.asarray(mesh.GetPointsAttr().Get(frame))
        np.testing.assert_allclose(points, usd_skinned_points(src, "/Actor/Mesh", frame), atol=1e-4)
        extent = np.asarray(mesh.GetExtentAttr().Get(frame))
        np.testing.assert_allclose(extent, [points.min(axis=0), points.max(axis=0)])
        normals = np.asarray(mesh.GetNormalsAttr().Get(frame))
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    world = UsdGeom.Xformable(mesh).ComputeLocalToWorldTransform(0)
    np.testing.assert_allclose(np.array(world), np.eye(4))
    # Same input, same bytes.
    again = tmp_path / "again.usd"
    bake_file(short_actor, again, "cpu", chunk=32)
    assert again.read_bytes() == out.read_bytes()


def test_cli_actor_and_bake(body, tmp_path: Path) -> None:
    runner = CliRunner()
    motion = write_motion(walk(20), tmp_path / "walk.usd")
    body_file = write_body(body, tmp_path / "body.usd")
    actor = tmp_path / "actor.usd"
    res = runner.invoke(cli, ["actor", str(motion), "-o", str(actor), "--body", str(body_file)])
    assert res.exit_code == 0, res.output
    assert "adapted" in res.output
    res = runner.invoke(cli, ["actor", str(motion), "-o", str(tmp_path / "a2.usd"), "--seed", "3"])
    assert res.exit_code == 0, res.output
    baked = tmp_path / "baked.usd"
    res = runner.invoke(cli, ["bake", str(actor), "-o", str(baked), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "13718 points x 20 frames" in res.output and baked.is_file()


def _foreign_skeleton_body(path: Path) -> Path:
    """A skinned mesh on a 3-joint skeleton: a body that is not on SMPL-24."""
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, "Z")
    root = UsdSkel.Root.Define(stage, "/Body")
    stage.SetDefaultPrim(root.GetPrim())
    skel = UsdSkel.Skeleton.Define(stage, "/Body/Skeleton")
    skel.CreateJointsAttr(Vt.TokenArray(["a", "a/b", "a/b/c"]))
    mesh = UsdGeom.Mesh.Define(stage, "/Body/Mesh")
    mesh.CreatePointsAttr([(0, 0, 0), (1, 0, 0), (0, 1, 0)])
    mesh.CreateFaceVertexCountsAttr([3])
    mesh.CreateFaceVertexIndicesAttr([0, 1, 2])
    UsdSkel.BindingAPI.Apply(mesh.GetPrim()).CreateSkeletonRel().SetTargets([skel.GetPath()])
    stage.Save()
    return path


def test_cli_bad_input(body, tmp_path: Path) -> None:
    runner = CliRunner()
    motion = write_motion(walk(10), tmp_path / "walk.usd")
    foreign = _foreign_skeleton_body(tmp_path / "foreign.usda")
    body_file = write_body(body, tmp_path / "body.usd")
    out = tmp_path / "out.usd"
    cases = [
        (["actor", str(motion), "-o", str(out), "--body", str(foreign)], "not SMPL-24"),
        (["actor", str(foreign), "-o", str(out), "--body", str(body_file)], "not SMPL-24"),
        (["actor", str(motion), "-o", str(out), "--body", str(motion)], "no mesh is skinned"),
        (["actor", str(motion), "-o", str(out), "--body", str(body_file), "--seed", "1"], "either --body"),
        (["actor", str(tmp_path / "nope.usd"), "-o", str(out)], "nope.usd"),
        (["bake", str(motion), "-o", str(out)], "no skinned mesh"),
        (["bake", str(body_file), "-o", str(tmp_path / "x.usda")], "crate"),
    ]
    for args, needle in cases:
        res = runner.invoke(cli, args)
        assert res.exit_code == 2, (args, res.output)
        assert needle in res.output and len(res.output.strip().splitlines()) == 1, res.output
        assert not out.exists()


def test_read_body_rejects_foreign_skeleton(tmp_path: Path) -> None:
    with pytest.raises(UsdSynthError, match="not SMPL-24"):
        read_body(_foreign_skeleton_body(tmp_path / "f.usda"))


def test_bake_file_many_chunks(body, tmp_path: Path) -> None:
    """Chunks are skinned in threads while earlier ones are written: every frame must still be right."""
    src = write_actor(make_actor(walk(70), body), tmp_path / "a.usd")
    out = tmp_path / "b.usd"
    bake_file(src, out, "cpu", chunk=8)
    baked = Usd.Stage.Open(str(out))
    mesh = UsdGeom.Mesh(baked.GetPrimAtPath("/Actor/Mesh"))
    stage = open_stage(src)
    for frame in range(70):
        ref = usd_skinned_points(stage, "/Actor/Mesh", frame)
        np.testing.assert_allclose(np.asarray(mesh.GetPointsAttr().Get(frame)), ref, atol=1e-4)


def test_a_motion_without_legs_is_refused(body) -> None:
    """A skeleton whose hips, knees and ankles coincide has no stride to scale: one clear error."""
    motion = walk(10)
    motion.offsets[[4, 5, 7, 8]] = 0.0  # knees and ankles on the hips
    with pytest.raises(UsdSynthError, match="legs have no length"):
        make_actor(motion, body)
