"""Each reader on a file made from a known motion, with its documented frame conversion."""

import pickle

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.readers import detect_format, read_motion, readers
from usd_synth.motion.readers.humanml3d import features_to_joints
from usd_synth.rotations import axis_angle_to_quat, quat_angle

from ..conftest import smooth_random_motion, yup
from ..inputs import amass_npz, h36m_camera_joints, humanml3d_features, humanml3d_joints, joints2smpl_folder


def test_all_builtin_readers_are_registered():
    assert {"humanml3d", "humanml3d_features", "strided", "amass", "joints2smpl", "usd"} <= set(readers())


def test_humanml3d_joints(tmp_path):
    src = smooth_random_motion(num_frames=60, fps=20)
    np.save(tmp_path / "m.npy", humanml3d_joints(src))
    assert detect_format(tmp_path / "m.npy") == "humanml3d"
    m = read_motion(tmp_path / "m.npy")
    assert m.fps == 20 and m.num_frames == 60
    # Only the documented Y-up -> Z-up turn: positions come back where the source had them.
    np.testing.assert_allclose(m.joint_positions()[:, :22], src.joint_positions()[:, :22], atol=1e-8)
    assert m.source["reader"] == "humanml3d" and m.source["residual_mpjpe_m"] < 1e-6


def test_humanml3d_features_round_trip(tmp_path):
    src = smooth_random_motion(num_frames=50, fps=20)
    joints = humanml3d_joints(src)
    feats = humanml3d_features(joints)
    np.testing.assert_allclose(features_to_joints(feats), joints, atol=1e-9)
    np.save(tmp_path / "f.npy", feats)
    assert detect_format(tmp_path / "f.npy") == "humanml3d_features"
    m = read_motion(tmp_path / "f.npy")
    assert m.source["residual_mpjpe_m"] < 1e-6


@pytest.mark.parametrize("container", ["npz", "npy"])
def test_strided_transformer(tmp_path, container):
    src = smooth_random_motion(num_frames=80, seed=4)
    cam = h36m_camera_joints(src, noise=0.004)
    path = tmp_path / f"out.{container}"
    if container == "npz":
        np.savez(path, reconstruction=cam.astype(np.float32))
    else:
        np.save(path, cam)
    assert detect_format(path) == "strided"
    m = read_motion(path, fps=25)
    assert m.fps == 25
    assert m.source["residual_mpjpe_m"] < 0.015
    # Feet on the ground although the input is root-relative.
    ankles = m.joint_positions()[:, [7, 8], 2].min(axis=1)
    assert np.percentile(ankles, 5) == pytest.approx(0.08, abs=0.01)


@pytest.mark.parametrize("dims", [156, 72])
def test_amass_keeps_rotations(tmp_path, dims):
    src = smooth_random_motion(num_frames=40, seed=7)
    poses = amass_npz(tmp_path / "a.npz", src, poses_dim=dims)
    assert detect_format(tmp_path / "a.npz") == "amass"
    m = read_motion(tmp_path / "a.npz")
    k = 24 if dims == 72 else 22
    given = axis_angle_to_quat(poses[:, : 3 * k].reshape(40, k, 3))
    assert np.max(np.abs(np.abs(np.sum(m.rotations[:, :k] * given, -1)) - 1)) < 1e-10
    assert np.max(quat_angle(m.rotations[:, :k], given)) < 1e-5
    np.testing.assert_allclose(m.translation, src.translation, atol=1e-9)
    assert m.fps == 30 and m.source["gender"] == "neutral"


def test_joints2smpl_folder(tmp_path):
    src = smooth_random_motion(num_frames=12, fps=20)
    joints2smpl_folder(tmp_path / "fit", src)
    assert detect_format(tmp_path / "fit") == "joints2smpl"
    m = read_motion(tmp_path / "fit")
    assert m.num_frames == 12 and m.fps == 20
    assert np.max(quat_angle(m.rotations, src.rotations)) < 1e-6
    np.testing.assert_allclose(m.translation, src.translation, atol=1e-9)


def test_joints2smpl_refuses_code_in_pickles(tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()

    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(folder / "0.pkl", "wb") as f:
        pickle.dump({"pose": Boom()}, f)
    with pytest.raises(UsdSynthError, match="refusing"):
        read_motion(folder)


def _yup_points(n=10):
    return yup(smooth_random_motion(num_frames=n).joint_positions()[:, :22])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b""), "file is empty"),
        (lambda p: np.save(p, np.zeros((10, 21, 3))), "unknown motion format"),
        (lambda p: p.write_bytes(_save(p).read_bytes()[:200]), "truncated"),
    ],
)
def test_bad_files(tmp_path, make, message):
    path = tmp_path / "bad.npy"
    make(path)
    with pytest.raises(UsdSynthError, match=message) as info:
        read_motion(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def _save(p):
    full = p.with_name("full.npy")
    np.save(full, _yup_points(50))
    return full


def test_nan_names_the_frame(tmp_path):
    pts = _yup_points()
    pts[4, 3, 1] = np.nan
    np.save(tmp_path / "nan.npy", pts)
    with pytest.raises(UsdSynthError, match="NaN.*frame 4"):
        read_motion(tmp_path / "nan.npy")


def test_wrong_shape_with_explicit_format(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros((10, 17, 3)))
    with pytest.raises(UsdSynthError, match=r"must have shape \(T, 22, 3\), got \(10, 17, 3\)"):
        read_motion(tmp_path / "w.npy", format="humanml3d")
    with pytest.raises(UsdSynthError, match="unknown format 'bvh2'"):
        read_motion(tmp_path / "w.npy", format="bvh2")


def test_missing_keys_in_archives(tmp_path):
    np.savez(tmp_path / "a.npz", poses=np.zeros((5, 156)))
    with pytest.raises(UsdSynthError, match="trans"):
        read_motion(tmp_path / "a.npz", format="amass")
    np.savez(tmp_path / "b.npz", poses=np.zeros((5, 156)), trans=np.zeros((5, 3)))
    with pytest.raises(UsdSynthError, match="mocap_framerate"):
        read_motion(tmp_path / "b.npz")
