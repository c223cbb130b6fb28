"""Motion USD files: read back by us and evaluated by UsdSkel itself; validated by USD and NVIDIA."""

import numpy as np
import pytest
from pxr import Usd, UsdGeom

from usd_synth.motion.readers import read_motion
from usd_synth.rotations import quat_angle
from usd_synth.usd.authoring import samples_path
from usd_synth.usd.motion_io import joint_world_positions_from_usd, read_motion_usd, write_motion
from usd_synth.usd.validate import errors, omni_available, usd_validation_issues, validate_file

from ..conftest import smooth_random_motion, yup
from ..inputs import amass_npz, h36m_camera_joints, humanml3d_joints

needs_omni = pytest.mark.skipif(not omni_available(), reason="omniverse-asset-validator not installed")


@pytest.mark.parametrize("suffix", [".usd", ".usda", ".usdc"])
def test_round_trip(tmp_path, suffix):
    m = smooth_random_motion(num_frames=30)
    m.label = "wave"
    m.source = {"reader": "test", "nested": {"a": [1, 2]}}
    path = write_motion(m, tmp_path / f"m{suffix}")
    back = read_motion_usd(path)
    assert back.num_frames == 30 and back.fps == 30 and back.label == "wave" and back.source == m.source
    assert np.max(quat_angle(back.rotations, m.rotations)) < 1e-5
    np.testing.assert_allclose(back.translation, m.translation, atol=1e-6)
    np.testing.assert_allclose(back.offsets, m.offsets, atol=1e-6)
    if suffix == ".usda":
        assert path.read_text().startswith("#usda") and samples_path(path).is_file()
    else:
        assert path.read_bytes().startswith(b"PXR-USDC")


def test_stage_metadata(tmp_path):
    path = write_motion(smooth_random_motion(num_frames=25, fps=20), tmp_path / "m.usd")
    stage = Usd.Stage.Open(str(path))
    assert UsdGeom.GetStageUpAxis(stage) == "Z" and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert (
        stage.GetTimeCodesPerSecond() == 20 and stage.GetStartTimeCode() == 0 and stage.GetEndTimeCode() == 24
    )
    assert stage.GetDefaultPrim().GetPath() == "/Motion"
    skel = stage.GetPrimAtPath("/Motion/Skeleton")
    joints = skel.GetAttribute("joints").Get()
    assert joints[4] == "pelvis/left_hip/left_knee"


@pytest.mark.parametrize("suffix", [".usd", ".usda"])
def test_usdskel_evaluates_our_fk(tmp_path, suffix):
    """UsdSkel's own joint world transforms equal our forward kinematics on every frame."""
    m = smooth_random_motion(num_frames=40)
    path = write_motion(m, tmp_path / f"m{suffix}")
    np.testing.assert_allclose(joint_world_positions_from_usd(path), m.joint_positions(), atol=2e-5)


def test_humanml3d_acceptance(tmp_path):
    """A text-to-motion style input (non-rigid pelvis, noisy) is matched by USD's own FK within 1 cm."""
    src = smooth_random_motion(num_frames=120, fps=20, seed=11)
    joints = humanml3d_joints(src, noise=0.003, seed=1)
    joints[:, 1:3] += np.random.default_rng(2).normal(0, 0.004, (120, 2, 3))  # hips wobble on the pelvis
    np.save(tmp_path / "t2m.npy", joints)
    path = write_motion(read_motion(tmp_path / "t2m.npy"), tmp_path / "t2m.usd")
    usd_pos = joint_world_positions_from_usd(path)
    z_up = np.stack([joints[..., 0], -joints[..., 2], joints[..., 1]], axis=-1)
    mpjpe = np.linalg.norm(usd_pos[:, :22] - z_up, axis=-1).mean()
    assert usd_pos.shape[0] == 120 and mpjpe <= 0.010
    assert Usd.Stage.Open(str(path)).GetTimeCodesPerSecond() == 20


def test_strided_acceptance(tmp_path):
    src = smooth_random_motion(num_frames=100, seed=12)
    cam = h36m_camera_joints(src, noise=0.005, seed=3)
    np.savez(tmp_path / "output_keypoints_3d.npz", reconstruction=cam.astype(np.float32))
    m = read_motion(tmp_path / "output_keypoints_3d.npz")
    path = write_motion(m, tmp_path / "s.usd")
    usd_pos = joint_world_positions_from_usd(path)
    world = np.stack([cam[..., 0], cam[..., 2], -cam[..., 1]], axis=-1)  # camera -> Z-up
    direct = [
        (0, 0),
        (1, 2),
        (2, 5),
        (3, 8),
        (4, 1),
        (5, 4),
        (6, 7),
        (7, 6),
        (8, 12),
        (9, 15),
        (11, 16),
        (12, 18),
        (13, 20),
        (14, 17),
        (15, 19),
        (16, 21),
    ]
    ours = usd_pos[:, [s for _, s in direct]] - usd_pos[:, :1]
    theirs = world[:, [h for h, _ in direct]] - world[:, :1]
    assert np.linalg.norm(ours - theirs, axis=-1).mean() <= 0.015
    assert m.source["residual_mpjpe_m"] <= 0.015  # includes the head top


def test_amass_usd_round_trip_is_the_same_motion(tmp_path):
    src = smooth_random_motion(num_frames=30, seed=8)
    amass_npz(tmp_path / "a.npz", src)
    m = read_motion(tmp_path / "a.npz")
    back = read_motion(write_motion(m, tmp_path / "a.usd"))
    assert np.max(quat_angle(back.rotations, m.rotations)) < 1e-5
    np.testing.assert_allclose(back.translation, m.translation, atol=1e-6)
    np.testing.assert_allclose(back.offsets, m.offsets, atol=1e-7)
    assert back.fps == m.fps and back.source == m.source


def test_byte_identical_output(tmp_path):
    m = smooth_random_motion(num_frames=20)
    for suffix in (".usd", ".usda"):
        a = write_motion(m, tmp_path / "a" / f"m{suffix}").read_bytes()
        b = write_motion(m.copy(), tmp_path / "b" / f"m{suffix}").read_bytes()
        assert a == b
    assert (tmp_path / "a" / "m.anim.usdc").read_bytes() == (tmp_path / "b" / "m.anim.usdc").read_bytes()


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import usd_synth.usd.motion_io as motion_io

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(motion_io, "define_skeleton", boom)
    with pytest.raises(RuntimeError):
        write_motion(smooth_random_motion(num_frames=5), tmp_path / "m.usda")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".usd", ".usda"])
def test_usd_validators_report_no_errors(tmp_path, suffix):
    path = write_motion(smooth_random_motion(num_frames=30), tmp_path / f"m{suffix}")
    assert errors(usd_validation_issues(path)) == []


@needs_omni
@pytest.mark.parametrize("suffix", [".usd", ".usda"])
def test_omni_asset_validator_reports_no_errors(tmp_path, suffix):
    m = smooth_random_motion(num_frames=30)
    m.label = "walk"
    path = write_motion(m, tmp_path / f"m{suffix}")
    written = [path] + ([samples_path(path)] if suffix == ".usda" else [])
    for f in written:
        assert [i.line() for i in errors(validate_file(f, omni=True))] == []


def test_yup_helper_inverts_import():
    p = np.random.default_rng(0).normal(size=(4, 3))
    back = yup(p)
    np.testing.assert_allclose(np.stack([back[:, 0], -back[:, 2], back[:, 1]], -1), p)


def test_written_files_get_ordinary_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = write_motion(smooth_random_motion(num_frames=3), tmp_path / "m.usd")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
