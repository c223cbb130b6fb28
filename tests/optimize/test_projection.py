"""Projection of motions through dataset-like cameras: the labels' pinhole, aiming, framing, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from usd_synth.compose.config import CamerasConfig
from usd_synth.errors import UsdSynthError
from usd_synth.motion.library import make_motion
from usd_synth.optimize.projection import (
    MIN_VISIBLE,
    look_at_camera,
    project_motion,
    real_views,
    sample_camera,
    visible_fraction,
)
from usd_synth.randomize.seeding import rng_for

W, H = 640, 360


@pytest.fixture(scope="module")
def walk():
    return make_motion("walk", seed=0)


def test_optical_axis_projects_to_centre():
    eye, target = np.array([3.0, -2.0, 1.5]), np.array([0.0, 0.5, 0.9])
    cam = look_at_camera(eye, target, 24.0, 36.0, W, H)
    for t in (0.5, 1.0, 4.0):
        uv, z = cam.project(eye + t * (target - eye))
        np.testing.assert_allclose(uv, [(W - 1) / 2, (H - 1) / 2], atol=1e-9)
        assert z == pytest.approx(t * np.linalg.norm(target - eye))
    np.testing.assert_allclose(cam.position, eye, atol=1e-12)


def test_axes_follow_opencv_with_z_up():
    cam = look_at_camera([0.0, -5.0, 1.0], [0.0, 0.0, 1.0], 35.0, 36.0, W, H)  # looking along +Y
    uv, _ = cam.project(np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 2.0]]))
    assert uv[0, 0] > (W - 1) / 2  # world +X is image right
    assert uv[1, 1] < (H - 1) / 2  # world +Z is image up


def test_projection_matches_numpy_pinhole():
    eye, target = np.array([-4.0, 1.0, 2.0]), np.array([0.2, -0.3, 0.8])
    focal, hap = 28.0, 36.0
    cam = look_at_camera(eye, target, focal, hap, W, H)
    pts = np.random.default_rng(0).uniform(-1, 1, (50, 3)) + target
    # reference: explicit basis, square pixels
    f = (target - eye) / np.linalg.norm(target - eye)
    r = np.cross(f, [0, 0, 1.0])
    r /= np.linalg.norm(r)
    d = np.cross(f, r)
    rel = pts - eye
    x, y, z = rel @ r, rel @ d, rel @ f
    fx = W * focal / hap
    fy = H * focal / (hap * H / W)
    ref = np.stack([fx * x / z + (W - 1) / 2, fy * y / z + (H - 1) / 2], -1)
    uv, depth = cam.project(pts)
    np.testing.assert_allclose(uv, ref, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(depth, z, atol=1e-12)
    assert cam.K[0, 0] == pytest.approx(cam.K[1, 1])


def test_look_at_rejects_degenerate_input():
    with pytest.raises(UsdSynthError):
        look_at_camera([1, 1, 1], [1, 1, 1], 24.0, 36.0, W, H)
    straight_down = look_at_camera([0, 0, 5.0], [0, 0, 0.0], 24.0, 36.0, W, H)
    uv, _ = straight_down.project(np.zeros(3))
    np.testing.assert_allclose(uv, [(W - 1) / 2, (H - 1) / 2], atol=1e-9)


def test_project_motion_shape_and_target_centre(walk):
    pos = walk.joint_positions()
    cam = sample_camera(pos, CamerasConfig(), rng_for(0, "test"), W, H)
    kp = project_motion(walk, cam)
    assert kp.shape == (pos.shape[0], 24, 2) and kp.dtype == np.float32
    uv, _ = cam.project(pos.reshape(-1, 3).mean(axis=0))
    np.testing.assert_allclose(uv, [(W - 1) / 2, (H - 1) / 2], atol=1e-6)


def test_sampled_cameras_frame_the_walk(walk):
    pos = walk.joint_positions()
    cc = CamerasConfig()
    rng = rng_for(0, "framing")
    for _ in range(10):
        cam = sample_camera(pos, cc, rng, W, H)
        assert visible_fraction(pos, cam) >= MIN_VISIBLE
        dist = np.linalg.norm(cam.position - pos.reshape(-1, 3).mean(axis=0))
        assert dist >= cc.distance_m.min - 1e-9
    for kp in real_views(walk, cc, 4, ("walk", 0), W, H):
        inside = (
            (kp[..., 0] >= -0.5) & (kp[..., 0] <= W - 0.5) & (kp[..., 1] >= -0.5) & (kp[..., 1] <= H - 0.5)
        )
        assert inside.mean() >= MIN_VISIBLE


def test_real_views_are_deterministic(walk):
    cc = CamerasConfig()
    a = real_views(walk, cc, 3, ("walk", 0), W, H)
    b = real_views(walk, cc, 3, ("walk", 0), W, H)
    c = real_views(walk, cc, 3, ("walk", 1), W, H)
    assert len(a) == 3
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a[0], c[0])
    assert not np.allclose(a[0], a[1])  # views differ from one another
