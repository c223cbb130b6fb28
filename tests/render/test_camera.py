"""The camera model against USD's own: Gf.Camera's frustum and projection matrix, conformed by Fit."""

from __future__ import annotations

import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom

from usd_synth.errors import UsdSynthError
from usd_synth.render.camera import camera_model, conform_fit


def _stage(focal=24.0, hap=36.0, vap=24.0, hoff=0.0, voff=0.0):
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.Xform.Define(stage, "/World")
    cam = UsdGeom.Camera.Define(stage, "/World/Cam")
    cam.CreateFocalLengthAttr(focal)
    cam.CreateHorizontalApertureAttr(hap)
    cam.CreateVerticalApertureAttr(vap)
    cam.CreateHorizontalApertureOffsetAttr(hoff)
    cam.CreateVerticalApertureOffsetAttr(voff)
    cam.CreateClippingRangeAttr(Gf.Vec2f(0.05, 100.0))
    xf = UsdGeom.Xformable(cam)
    xf.AddTranslateOp().Set(Gf.Vec3d(0.3, -4.0, 1.6), 0)
    xf.AddTranslateOp(opSuffix="t2").Set(Gf.Vec3d(0.0, 0.5, 0.2), 10)
    xf.AddRotateXYZOp().Set(Gf.Vec3f(80.0, 0.0, 12.0))
    return stage, cam.GetPrim()


def _usd_pixels(prim, time, width, height, points):
    """Project with Gf.Frustum's own matrices after USD's Fit conform; pixel centres at integers."""
    gf = UsdGeom.Camera(prim).GetCamera(Usd.TimeCode(time))
    hap, vap = conform_fit(gf.horizontalAperture, gf.verticalAperture, width / height)
    gf.horizontalAperture, gf.verticalAperture = hap, vap
    frustum = gf.frustum
    m = frustum.ComputeViewMatrix() * frustum.ComputeProjectionMatrix()
    out = []
    for p in points:
        ndc = m.Transform(Gf.Vec3d(*p))
        out.append(((ndc[0] + 1) / 2 * width - 0.5, (1 - ndc[1]) / 2 * height - 0.5))
    return np.array(out)


@pytest.mark.parametrize("size", [(320, 240), (160, 240), (640, 360)])
@pytest.mark.parametrize("offsets", [(0.0, 0.0), (1.5, -2.0)])
@pytest.mark.parametrize("time", [0, 5])
def test_projection_matches_usd_frustum(size, offsets, time):
    stage, prim = _stage(hoff=offsets[0], voff=offsets[1])
    model = camera_model(prim, time, *size)
    rng = np.random.default_rng(0)
    centre = model.position + 3.0 * (model.camera_to_world[:3, :3] @ np.array([0.0, 0.0, 1.0]))
    points = centre + rng.uniform(-1, 1, (50, 3))
    uv, z = model.project(points)
    assert np.all(z > 0)
    np.testing.assert_allclose(uv, _usd_pixels(prim, time, *size, points), atol=1e-6)


def test_fit_grows_the_window_and_keeps_square_pixels():
    assert conform_fit(36.0, 24.0, 1.0) == (36.0, 36.0)
    assert conform_fit(36.0, 24.0, 2.0) == (48.0, 24.0)
    _, prim = _stage()
    model = camera_model(prim, 0, 320, 320)
    assert model.K[0, 0] == pytest.approx(model.K[1, 1])
    assert model.K[0, 2] == pytest.approx(159.5) and model.K[1, 2] == pytest.approx(159.5)


def test_opencv_axes_and_clipping():
    _, prim = _stage()
    model = camera_model(prim, 0, 320, 240)
    # a point straight ahead of the camera lands on the principal point with positive depth
    forward = model.camera_to_world[:3, :3] @ np.array([0.0, 0.0, 1.0])
    uv, z = model.project(model.position + 2.0 * forward)
    np.testing.assert_allclose(uv, model.K[:2, 2], atol=1e-9)
    assert z == pytest.approx(2.0)
    # world up (+Z) appears towards the top of the image (smaller v)
    up_uv, _ = model.project(model.position + 2.0 * forward + np.array([0.0, 0.0, 0.2]))
    assert up_uv[1] < uv[1]
    assert (model.near, model.far) == pytest.approx((0.05, 100.0))
    behind, zb = model.project(model.position - forward)
    assert np.isnan(behind).all() and zb < 0


def test_bad_camera():
    stage, _ = _stage()
    with pytest.raises(UsdSynthError, match="not a UsdGeom.Camera"):
        camera_model(stage.GetPrimAtPath("/World"), 0, 320, 240)
    with pytest.raises(UsdSynthError, match="resolution"):
        camera_model(stage.GetPrimAtPath("/World/Cam"), 0, 0, 240)
