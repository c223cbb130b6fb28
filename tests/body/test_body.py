"""The default Anny body: rigging onto SMPL-24, shape sampling, determinism, USD round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pxr import Usd, UsdGeom, UsdSkel
from usd_synth.cli.main import cli

from usd_synth.body import make_body
from usd_synth.body.anny_body import BONE_TO_JOINT, bone_joint_map, load_assets, rest_shape, skin_weights
from usd_synth.body.model import limit_influences
from usd_synth.errors import UsdSynthError
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, SMPL_PARENTS, joint_paths, template_offsets
from usd_synth.usd.body_io import read_body, write_body


@pytest.fixture(scope="module")
def assets():
    """Anny's asset cache; the first use on a machine builds it (about a minute), later ones load it."""
    return load_assets()


@pytest.fixture(scope="module")
def body(assets):
    return make_body("anny", 0)


def test_body_mesh_and_weights(body) -> None:
    assert body.num_points >= 10_000
    assert body.faces.shape[1] == 3 and len(body.faces) > 20_000
    np.testing.assert_allclose(body.joint_weights.astype(np.float64).sum(axis=1), 1.0, atol=1e-6)
    assert body.influences == 4 and body.joint_weights.min() >= 0.0
    assert body.uv is not None and body.uv_indices.shape == (3 * len(body.faces),)
    # Every joint drives some skin, and no vertex is driven by a joint of the other side.
    dense = body.dense_weights()
    assert np.all(dense.max(axis=0) > 0.3)
    left = [j for n, j in JOINT_INDEX.items() if n.startswith("left_")]
    right_side = body.points[:, 0] < -0.12
    assert dense[right_side][:, left].max() < 1e-6


def test_joints_sit_inside_the_body(body) -> None:
    lo, hi = body.points.min(axis=0), body.points.max(axis=0)
    assert np.all(body.joints >= lo) and np.all(body.joints <= hi)
    # Vertices mostly weighted to a limb joint lie near the segment it moves (no mapping mix-ups).
    dense = body.dense_weights()
    for name, child in (
        ("left_knee", "left_ankle"),
        ("right_elbow", "right_wrist"),
        ("left_hip", "left_knee"),
    ):
        j, c = JOINT_INDEX[name], JOINT_INDEX[child]
        pts = body.points[dense[:, j] > 0.9]
        seg = body.joints[c] - body.joints[j]
        t = np.clip((pts - body.joints[j]) @ seg / (seg @ seg), 0, 1)
        dist = np.linalg.norm(pts - (body.joints[j] + t[:, None] * seg), axis=1)
        # Limb radius: up to ~12 cm for a heavy thigh; a mapping mix-up puts vertices 20+ cm away.
        assert np.median(dist) < 0.12, name


def test_rest_pose_limbs_follow_smpl_torso_keeps_its_shape(body) -> None:
    """Limb offsets point where SMPL's template points them (motion rotations mean the same); the torso
    chain keeps the body's own bone directions (no shrug, its own spine curve and collar slope)."""
    off, tmpl = body.offsets(), template_offsets()
    for j in (JOINT_INDEX[n] for n in ("left_elbow", "right_wrist", "left_knee", "right_hand")):
        cos = off[j] @ tmpl[j] / np.linalg.norm(off[j]) / np.linalg.norm(tmpl[j])
        assert cos > 1 - 1e-9
    for name in ("spine1", "spine2", "spine3", "neck", "head", "left_collar", "right_shoulder"):
        j = JOINT_INDEX[name]
        np.testing.assert_allclose(off[j], body.joints[j] - body.joints[SMPL_PARENTS[j]], atol=1e-12)
    # Anny is modelled in an A-pose: the shoulders' bind orientations really turn the arms down.
    shoulder = body.bind_rotations[JOINT_INDEX["left_shoulder"]]
    assert np.degrees(np.arccos((np.trace(shoulder) - 1) / 2)) > 20


def test_every_anny_bone_is_mapped(assets) -> None:
    mapping = bone_joint_map(tuple(assets.bone_labels))
    assert len(mapping) == 104 and mapping.min() >= 0
    assert {j for _, j in BONE_TO_JOINT} and len(set(mapping.tolist())) == NUM_JOINTS
    dense = skin_weights(assets)
    np.testing.assert_allclose(dense.sum(axis=1), 1.0, atol=1e-6)


def test_limit_influences_keeps_largest() -> None:
    dense = np.array([[0.1, 0.5, 0.2, 0.15, 0.05], [0.0, 0.0, 1.0, 0.0, 0.0]])
    idx, w = limit_influences(dense, 2)
    assert idx.tolist() == [[1, 2], [2, 0]]
    np.testing.assert_allclose(w, [[0.5 / 0.7, 0.2 / 0.7], [1.0, 0.0]], atol=1e-7)


@pytest.mark.slow
def test_numpy_port_matches_anny(assets) -> None:
    """Our torch-free phenotype evaluation equals Anny's own model (loads Anny's torch model)."""
    import anny
    import torch

    model = anny.Anny()
    for ph in (
        {},
        {"age": 0.2, "gender": 1.0, "muscle": 0.9, "weight": 0.1, "height": 0.3, "proportions": 0.7},
    ):
        verts, heads = rest_shape(assets, ph)
        with torch.no_grad():
            out = model(phenotype_kwargs=ph)
        np.testing.assert_allclose(verts, out["rest_vertices"][0].numpy(), atol=1e-6)
        np.testing.assert_allclose(heads, out["rest_bone_heads"][0].numpy(), atol=1e-6)


@pytest.mark.parametrize("first", [0, 100, 1000])
def test_statures_span_children_to_tall_adults(assets, first) -> None:
    """Any 20 consecutive seeds span small children to tall adults (seeds are stratified)."""
    bodies = [make_body("anny", seed) for seed in range(first, first + 20)]
    statures = np.array([b.stature for b in bodies])
    assert statures.min() <= 1.0 and statures.max() >= 1.9, statures
    builds = np.array([[b.params["weight"], b.params["muscle"]] for b in bodies])
    assert np.ptp(builds[:, 0]) > 0.5 and np.ptp(builds[:, 1]) > 0.5
    assert len({round(b.params["gender"]) for b in bodies}) == 2
    # Stature is the mesh's own height: soles on the ground.
    assert all(abs(b.points[:, 1].min()) < 1e-9 for b in bodies)


def test_body_is_deterministic(assets, tmp_path: Path) -> None:
    a, b = make_body("anny", 7), make_body("anny", 7)
    np.testing.assert_array_equal(a.points, b.points)
    assert a.params == b.params
    for name, bod in (("a", a), ("b", b)):
        write_body(bod, tmp_path / name / "body.usda")
    for file in ("body.usda", "body.anim.usdc"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert not np.allclose(make_body("anny", 8).points[:100], a.points[:100])


def test_overrides(assets) -> None:
    tall = make_body("anny", 1, {"stature": "1.80"})
    assert abs(tall.stature - 1.80) < 0.01
    child = make_body("anny", 1, {"years": "6", "influences": "3"})
    assert child.stature < 1.35 and child.influences == 3
    same = make_body("anny", 1, {"muscle": "0.9"})
    assert same.params["muscle"] == 0.9 and same.params["gender"] == make_body("anny", 1).params["gender"]
    for bad, msg in (
        ({"nose": "1"}, "unknown for Anny"),
        ({"age": "2"}, "must lie in"),
        ({"weight": "x"}, "number"),
    ):
        with pytest.raises(UsdSynthError, match=msg):
            make_body("anny", 1, bad)


def test_body_usd_round_trip_and_rest_shows_bind_pose(body, tmp_path: Path) -> None:
    path = write_body(body, tmp_path / "body.usd")
    back = read_body(path)
    np.testing.assert_allclose(back.points, body.points, atol=1e-6)
    np.testing.assert_allclose(back.joints, body.joints, atol=1e-6)
    np.testing.assert_allclose(back.offsets(), body.offsets(), atol=1e-6)
    assert back.params == body.params
    np.testing.assert_array_equal(back.joint_indices, body.joint_indices)
    # Without animation the skeleton sits at its rest transforms: the mesh must come out undeformed.
    stage = Usd.Stage.Open(str(path))
    cache = UsdSkel.Cache()
    mesh = stage.GetPrimAtPath("/Body/Mesh")
    cache.Populate(UsdSkel.Root(stage.GetPrimAtPath("/Body")), Usd.PrimDefaultPredicate)
    skel_query = cache.GetSkelQuery(UsdSkel.Skeleton(stage.GetPrimAtPath("/Body/Skeleton")))
    points = UsdGeom.Mesh(mesh).GetPointsAttr().Get()
    rest = np.array(points)
    assert cache.GetSkinningQuery(mesh).ComputeSkinnedPoints(
        skel_query.ComputeSkinningTransforms(Usd.TimeCode.Default()), points, Usd.TimeCode.Default()
    )
    np.testing.assert_allclose(np.array(points), rest, atol=1e-5)
    joints = UsdSkel.Skeleton(stage.GetPrimAtPath("/Body/Skeleton")).GetJointsAttr().Get()
    assert list(joints) == joint_paths()


def test_cli_body(assets, tmp_path: Path) -> None:
    out = tmp_path / "body.usd"
    res = CliRunner().invoke(cli, ["body", "-o", str(out), "--seed", "2", "--set", "years=30"])
    assert res.exit_code == 0, res.output
    assert "13718 vertices" in res.output and read_body(out).params["years"] == 30.0
    res = CliRunner().invoke(cli, ["body", "-o", str(tmp_path / "x.usd"), "--set", "age"])
    assert res.exit_code == 2 and "key=value" in res.output
    assert not (tmp_path / "x.usd").exists()
