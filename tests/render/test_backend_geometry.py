"""The ``geometry`` backend: no pixels, the same cameras and keypoints as the pyrender backend, boxes from
the projected mesh that contain the mask's box, and a clear refusal of image passes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from usd_synth.compose import compose_scene
from usd_synth.errors import UsdSynthError
from usd_synth.render.clip import render_clip
from usd_synth.render.registry import backend_names
from usd_synth.usd.motion_io import write_motion

from ..compose.conftest import procedural


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("geometry")
    walk = write_motion(procedural("walk", 12, 30.0, 1, True), root / "walk.usd")
    compose_scene([walk], root / "scene", seed=2, config={"cameras": {"count": 1}})
    scene = root / "scene" / "scene.usda"
    render_clip(scene, root / "geo", backend="geometry", resolution=(160, 120), passes="keypoints")
    render_clip(scene, root / "gl", backend="pyrender", resolution=(160, 120), passes="rgb,keypoints")
    return root


def labels(folder):
    return json.loads((folder / "labels.json").read_text())


def test_geometry_is_registered() -> None:
    assert "geometry" in backend_names()


def test_writes_labels_and_no_images(clips) -> None:
    names = sorted(p.name for p in (clips / "geo").iterdir())
    assert names == ["coco.json", "labels.json", "render.json"]


def test_same_cameras_and_keypoints_as_the_rasterizer(clips) -> None:
    geo, gl = labels(clips / "geo"), labels(clips / "gl")
    assert len(geo["frames"]) == len(gl["frames"]) == 12
    for fg, fr in zip(geo["frames"], gl["frames"], strict=True):
        assert fg["camera"] == fr["camera"]
        ag, ar = fg["actors"][0], fr["actors"][0]
        np.testing.assert_allclose([k[:2] for k in ag["keypoints_2d"]], [k[:2] for k in ar["keypoints_2d"]])
        np.testing.assert_allclose(ag["joints_3d_camera"], ar["joints_3d_camera"])
        # visibility without depth: in the image and in front; never less than the rasterizer's
        assert all(kg[2] >= kr[2] for kg, kr in zip(ag["keypoints_2d"], ar["keypoints_2d"], strict=True))
        # the mesh's box holds the mask's box (the mask is the mesh minus occlusion), within a pixel
        xg, yg, wg, hg = ag["bbox"]
        xr, yr, wr, hr = ar["bbox"]
        assert xg <= xr + 1 and yg <= yr + 1 and xg + wg >= xr + wr - 1 and yg + hg >= yr + hr - 1
        assert wg <= wr + 4 and hg <= hr + 4  # not much bigger: nothing hides a lone walker


def test_image_passes_are_refused(clips, tmp_path) -> None:
    with pytest.raises(UsdSynthError, match="renders no images"):
        render_clip(clips / "scene" / "scene.usda", tmp_path / "x", backend="geometry", passes="rgb")
    assert not (tmp_path / "x").exists()
