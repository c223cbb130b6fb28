"""The renderer registry: backends come from the ``usd_synth.renderers`` entry points, and a third-party
one (``tests/render/fake_backend``, registered through a ``.dist-info`` written into a folder on
``sys.path``) is listed and used like the built-in one."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pxr import Usd, UsdGeom
from usd_synth.cli.main import cli

from usd_synth.errors import UsdSynthError
from usd_synth.render import registry
from usd_synth.render.protocol import Renderer, RenderSession

FAKE = Path(__file__).parent / "fake_backend"


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """Install the fake backend the cheap way: its package and a dist-info with entry_points.txt."""
    site = tmp_path / "site"
    shutil.copytree(FAKE / "fake_renderer", site / "fake_renderer")
    info = site / "fake_renderer-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-renderer\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[usd_synth.renderers]\nfake = fake_renderer:FakeRenderer\n")
    monkeypatch.syspath_prepend(str(site))
    registry.clear_cache()
    yield
    sys.modules.pop("fake_renderer", None)
    registry.clear_cache()


def tiny_stage(path: Path, camera: bool = True, frames: int = 4) -> Path:
    """A stage with a cube and (optionally) a camera: enough for the registry and error checks."""
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(frames - 1)
    stage.SetTimeCodesPerSecond(30)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    cube = UsdGeom.Cube.Define(stage, "/World/Layout/Box")
    cube.CreateSizeAttr(1.0)
    UsdGeom.XformCommonAPI(cube).SetTranslate((0.0, 0.0, 0.5))
    if camera:
        cam = UsdGeom.Camera.Define(stage, "/World/Cameras/cam")
        cam.CreateFocalLengthAttr(24.0)
        cam.CreateHorizontalApertureAttr(36.0)
        cam.CreateVerticalApertureAttr(24.0)
        cam.CreateClippingRangeAttr((0.05, 100.0))
        xf = UsdGeom.XformCommonAPI(cam)
        xf.SetTranslate((0.0, -4.0, 1.5))
        xf.SetRotate((75.0, 0.0, 0.0))
    stage.GetRootLayer().Save()
    return path


def test_builtin_backend_listed():
    registry.clear_cache()
    assert "pyrender" in registry.backend_names()
    result = CliRunner().invoke(cli, ["render", "--list-backends"])
    assert result.exit_code == 0, result.output
    assert "pyrender" in result.output.splitlines()


def test_plugin_listed_and_used(fake_plugin, tmp_path):
    assert registry.backend_names() == sorted(registry.backend_names())
    assert {"fake", "pyrender"} <= set(registry.backend_names())
    renderer = registry.get_renderer("fake")
    assert isinstance(renderer, Renderer)
    result = CliRunner().invoke(cli, ["render", "--list-backends"])
    assert result.exit_code == 0
    assert {"fake", "pyrender"} <= set(result.output.splitlines())

    scene = tiny_stage(tmp_path / "scene.usda")
    session = renderer.open(scene, None, (64, 48), ("rgb", "depth"))
    assert isinstance(session, RenderSession)
    layers = session.render(0)
    assert layers["rgb"].shape == (48, 64, 3) and layers["depth"].shape == (48, 64)
    assert session.camera(0).path == "/World/Cameras/cam"

    # the whole clip path through the plugin (labels, writer, atomic folder)
    from usd_synth.render.clip import render_clip

    out = tmp_path / "clip"
    summary = render_clip(scene, out, backend="fake", resolution=(64, 48), passes="rgb,depth", frames=(1, 3))
    assert summary["frames"] == 2 and summary["backend"] == "fake"
    doc = json.loads((out / "labels.json").read_text())
    assert [f["frame"] for f in doc["frames"]] == [1, 2]
    assert (out / "rgb.mp4").is_file()


def test_unknown_backend(tmp_path):
    registry.clear_cache()
    with pytest.raises(UsdSynthError, match="unknown; known backends: .*pyrender"):
        registry.get_renderer("nope")
    scene = tiny_stage(tmp_path / "scene.usda")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", str(scene), "-o", str(out), "--backend", "nope"])
    assert result.exit_code == 2
    assert not out.exists()


def test_broken_plugin_is_one_line(fake_plugin, tmp_path):
    info = next(p for p in sys.path if p.endswith("site"))
    (Path(info) / "fake_renderer-0.1.0.dist-info" / "entry_points.txt").write_text(
        "[usd_synth.renderers]\nbroken = fake_renderer:NoSuchClass\n"
    )
    registry.clear_cache()
    with pytest.raises(UsdSynthError, match="backend 'broken' failed to load"):
        registry.get_renderer("broken")
