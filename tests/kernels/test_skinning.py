"""Warp LBS kernels against their numpy reference and against USD's own C++ skinning, on every device the
``device`` fixture offers (CPU, and CUDA when present)."""

from __future__ import annotations

import numpy as np
from pxr import Gf, UsdSkel, Vt

from usd_synth.kernels.skinning import (
    Skin,
    WarpSkinner,
    bounds_numpy,
    concat_skins,
    lbs_kernel,
    skin_numpy,
    skin_warp,
)
from usd_synth.rotations import quat_to_matrix


def random_skin(rng: np.random.Generator, v: int = 500, joints: int = 7, k: int = 4) -> Skin:
    points = rng.normal(size=(v, 3))
    normals = rng.normal(size=(v, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    indices = rng.integers(0, joints, size=(v, k))
    weights = rng.random((v, k))
    weights[:, -1] = np.where(rng.random(v) < 0.3, 0.0, weights[:, -1])  # some unused slots
    weights /= weights.sum(axis=1, keepdims=True)
    return Skin(points, indices, weights, normals)


def random_rigid(rng: np.random.Generator, frames: int, joints: int) -> np.ndarray:
    q = rng.normal(size=(frames, joints, 4))
    m = np.tile(np.eye(4), (frames, joints, 1, 1))
    m[..., :3, :3] = quat_to_matrix(q / np.linalg.norm(q, axis=-1, keepdims=True))
    m[..., :3, 3] = rng.normal(size=(frames, joints, 3))
    return m


def test_warp_matches_numpy_reference(device: str) -> None:
    rng = np.random.default_rng(0)
    skin = random_skin(rng)
    mats = random_rigid(rng, 9, 7)
    points, normals = skin_warp(skin, mats, device)
    ref_p, ref_n = skin_numpy(skin, mats)
    assert points.shape == (9, 500, 3)
    np.testing.assert_allclose(points, ref_p, atol=2e-5)
    np.testing.assert_allclose(normals, ref_n, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-5)
    # The reference is not trivially equal to the input: the frames really move the points.
    assert np.abs(ref_p - skin.points).max() > 0.5


def test_identity_matrices_keep_rest_points(device: str) -> None:
    skin = random_skin(np.random.default_rng(1))
    points, normals = skin_warp(skin, np.tile(np.eye(4), (2, 7, 1, 1)), device)
    np.testing.assert_allclose(points[1], skin.points, atol=1e-6)
    np.testing.assert_allclose(normals[0], skin.normals, atol=1e-6)


def test_points_only_kernel_and_bounds(device: str) -> None:
    rng = np.random.default_rng(2)
    full = random_skin(rng)
    skin = Skin(full.points, full.indices, full.weights, None)
    mats = random_rigid(rng, 5, 7)
    skinner = WarpSkinner(skin, device)
    points, normals, lo, hi = skinner.skin_with_bounds(mats)
    assert normals is None
    ref, _ = skin_numpy(skin, mats)
    np.testing.assert_allclose(points, ref, atol=2e-5)
    np.testing.assert_array_equal(lo, points.min(axis=1))
    np.testing.assert_array_equal(hi, points.max(axis=1))
    ref_lo, ref_hi = bounds_numpy(points)
    np.testing.assert_array_equal(lo, ref_lo)
    np.testing.assert_array_equal(hi, ref_hi)


def test_one_lbs_kernel_with_a_static_normals_flag(device: str) -> None:
    """Points-only and points + normals are two specialisations of one kernel, built once each per device;
    the flag only adds the normals: the points come out the same."""
    rng = np.random.default_rng(6)
    full = random_skin(rng)
    mats = random_rigid(rng, 3, 7)
    with_n, _ = WarpSkinner(full, device).skin(mats)
    without, normals = WarpSkinner(Skin(full.points, full.indices, full.weights, None), device).skin(mats)
    assert normals is None
    np.testing.assert_allclose(without, with_n, atol=1e-6)
    assert lbs_kernel(True, device=device) is lbs_kernel(True, device=device)
    assert lbs_kernel(False, device=device) is not lbs_kernel(True, device=device)
    assert lbs_kernel(False, device=device).key == lbs_kernel(True, device=device).key  # one kernel source


def test_batched_actors_equal_separate(device: str) -> None:
    rng = np.random.default_rng(3)
    a, b = random_skin(rng, 300, 5, 4), random_skin(rng, 200, 9, 2)
    ma, mb = random_rigid(rng, 4, 5), random_rigid(rng, 4, 9)
    both = concat_skins([a, b], [5, 9])
    points, normals = skin_warp(both, np.concatenate([ma, mb], axis=1), device)
    pa, _ = skin_numpy(a, ma)
    pb, nb = skin_numpy(b, mb)
    np.testing.assert_allclose(points[:, :300], pa, atol=2e-5)
    np.testing.assert_allclose(points[:, 300:], pb, atol=2e-5)
    np.testing.assert_allclose(normals[:, 300:], nb, atol=2e-5)


def test_numpy_reference_matches_usd_skin_points_lbs() -> None:
    rng = np.random.default_rng(4)
    skin = random_skin(rng, 200, 6, 3)
    mats = random_rigid(rng, 1, 6)
    ref, _ = skin_numpy(skin, mats)
    usd_points = Vt.Vec3fArray.FromNumpy(skin.points)
    rows = Vt.Matrix4dArray([Gf.Matrix4d(m.T.tolist()) for m in mats[0]])
    idx = Vt.IntArray.FromNumpy(skin.indices.reshape(-1))
    wts = Vt.FloatArray.FromNumpy(skin.weights.reshape(-1))
    assert UsdSkel.SkinPointsLBS(Gf.Matrix4d(1.0), rows, idx, wts, 3, usd_points)
    np.testing.assert_allclose(np.asarray(usd_points), ref[0], atol=2e-5)


def test_device_matches_cpu(device: str) -> None:
    """A body-sized batch agrees with the CPU on every device (on the CPU itself: run to run)."""
    rng = np.random.default_rng(5)
    skin = random_skin(rng, 4000, 24, 4)
    mats = random_rigid(rng, 16, 24)
    cpu_p, cpu_n = skin_warp(skin, mats, "cpu")
    dev_p, dev_n = skin_warp(skin, mats, device)
    np.testing.assert_allclose(dev_p, cpu_p, atol=1e-5)
    np.testing.assert_allclose(dev_n, cpu_n, atol=1e-5)
