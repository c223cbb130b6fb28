"""The pyrender backend on a small composed scene: its layers agree with the geometry.

- depth: at the pixels of an actor's skinned vertices (UsdSkel's own skinning, projected with the
  project's camera model) the rendered depth is no farther than the vertex;
- instance: the pixels of an actor's visible vertices carry its id;
- a static cube's silhouette is its projected corners' hull, to the pixel (checks the pixel-centre
  convention: ours at integers, pyrender's at half-integers);
- bad input (no camera, unknown camera or pass, bad frames, a stage that is not there) is one line, exit 2,
  and no output folder.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import ndimage
from scipy.spatial import ConvexHull, Delaunay
from usd_synth.cli.main import cli

from usd_synth.compose import compose_scene
from usd_synth.errors import UsdSynthError
from usd_synth.usd.bake import usd_skinned_points
from usd_synth.usd.motion_io import write_motion

from ..compose.conftest import procedural
from .test_backend_registry import tiny_stage

pytest.importorskip("pyrender")

W, H = 320, 240
#: Depth slack at a vertex's pixel: the surface at the pixel centre may lie a little behind the vertex.
DEPTH_TOL_M = 0.03


def _session(scene, camera=None, passes=("rgb", "depth", "instance", "semantic", "normals"), size=(W, H)):
    from usd_synth.render.registry import get_renderer

    try:
        return get_renderer("pyrender").open(scene, camera, size, passes)
    except UsdSynthError as exc:  # pragma: no cover - a machine without EGL
        if "OpenGL" in str(exc):
            pytest.skip(str(exc))
        raise


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    root = tmp_path_factory.mktemp("render_scene")
    walk = write_motion(procedural("walk", 40, 30.0, 1, True), root / "walk.usd")
    wave = write_motion(procedural("wave", 40, 30.0, 2, False), root / "wave.usd")
    compose_scene([walk, wave], root / "scene", seed=1)
    return root / "scene" / "scene.usda"


@pytest.fixture(scope="module")
def session(scene):
    s = _session(scene)
    yield s
    s.close()


def _actor_meshes(session):
    return [(obj.path, obj.mesh_path) for obj in session.desc.skinned]


@pytest.mark.parametrize("frame", [0, 25])
def test_layers_agree_with_skinned_vertices(session, frame):
    layers = session.render(frame)
    cam = session.camera(frame)
    assert layers["rgb"].dtype == np.uint8 and layers["rgb"].shape == (H, W, 3)
    assert layers["depth"].dtype == np.float32 and layers["depth"].shape == (H, W)
    assert layers["instance"].dtype == np.uint16 and layers["semantic"].dtype == np.uint16
    assert layers["normals"].shape == (H, W, 3)
    assert layers["rgb"].mean() > 40, "the frame is (nearly) black"
    depth, inst = layers["depth"], layers["instance"]
    assert (depth > 0).mean() > 0.99  # a room: every pixel sees a surface
    for actor, mesh in _actor_meshes(session):
        iid = session.instances[actor].instance_id
        assert session.instances[actor].label == "person"
        pts = usd_skinned_points(session.desc.stage, mesh, frame)  # UsdSkel's reference skinning
        ours = session.skinned_points(frame)[next(o.target for o in session.desc.skinned if o.path == actor)]
        assert np.abs(ours - pts).max() < 1e-3  # the backend poses the actor as UsdSkel does
        uv, z = cam.project(pts)
        inside = cam.in_image(uv) & (z > 0)
        assert inside.mean() > 0.9, "the composer frames every actor"
        px = np.rint(uv[inside]).astype(int)
        d = depth[px[:, 1], px[:, 0]]
        ok = d <= z[inside] + DEPTH_TOL_M
        # a vertex of a sub-pixel feature (a finger) need not cover its own pixel centre: at its pixel or
        # one of the 8 around it the surface is no farther than the vertex
        near = ndimage.minimum_filter(np.where(depth > 0, depth, np.inf), size=3)[px[:, 1], px[:, 0]]
        ok3 = near <= z[inside] + DEPTH_TOL_M
        assert ok3.mean() >= 0.98, f"{actor}: depth behind {1 - ok3.mean():.1%} of its vertices"
        assert ok.mean() >= 0.75, f"{actor}: depth behind {1 - ok.mean():.1%} of its vertices' own pixels"
        visible = np.abs(d - z[inside]) < DEPTH_TOL_M
        assert visible.mean() > 0.3
        err = np.abs(d - z[inside])[visible]
        assert np.median(err) < 0.01
        ids = inst[px[visible, 1], px[visible, 0]]
        assert (ids == iid).mean() >= 0.95, f"{actor}: only {(ids == iid).mean():.1%} of visible vertices"
        assert (layers["semantic"][inst == iid] == session.instances[actor].semantic_id).all()


def test_instances_actors_first(session):
    ids = {p: i.instance_id for p, i in session.instances.items()}
    actors = sorted(p for p in ids if p.startswith("/World/Actors/"))
    assert [ids[a] for a in actors] == list(range(1, len(actors) + 1))
    assert sorted(ids.values()) == list(range(1, len(ids) + 1))
    assert {i.label for i in session.instances.values()} >= {"person", "floor", "wall"}


def test_cube_silhouette_matches_projected_corners(tmp_path):
    scene = tiny_stage(tmp_path / "cube.usda")
    s = _session(scene, passes=("rgb", "depth", "instance"), size=(200, 150))
    try:
        layers = s.render(0)
        cam = s.camera(0)
    finally:
        s.close()
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (0.0, 1.0)])
    uv, z = cam.project(corners)
    assert (z > 0).all() and cam.in_image(uv).all()
    hull = Delaunay(uv[ConvexHull(uv).vertices])
    v, u = np.mgrid[0:150, 0:200]
    centres = np.stack([u.ravel(), v.ravel()], axis=1).astype(float)
    inside = (hull.find_simplex(centres) >= 0).reshape(150, 200)
    mask = layers["instance"] == s.instances["/World/Layout/Box"].instance_id
    assert mask.sum() > 500
    wrong = np.argwhere(mask != inside)
    # every disagreeing pixel lies within 1 px of the hull's outline
    edges = uv[ConvexHull(uv).vertices]
    a, b = edges, np.roll(edges, -1, axis=0)
    p = wrong[:, ::-1].astype(float)[:, None, :]
    t = np.clip(np.sum((p - a) * (b - a), -1) / np.sum((b - a) ** 2, -1), 0, 1)
    dist = (
        np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1).min(axis=1) if len(wrong) else np.zeros(0)
    )
    assert (dist <= 1.0).all(), f"{(dist > 1).sum()} pixels off the silhouette by more than 1 px"
    # a half-pixel error in the pixel-centre convention would flip most of the outline (~10% here)
    assert len(wrong) <= 0.01 * inside.sum()
    # depth at the mask is the cube's z range
    assert layers["depth"][mask].min() >= z.min() - 1e-3 and layers["depth"][mask].max() <= z.max() + 1e-3
    assert (layers["depth"][~mask] == 0).all()  # nothing else in the stage


def _run(args):
    return CliRunner().invoke(cli, ["render", *map(str, args)])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--camera", "nope"], "--camera 'nope' is not in the stage"),
        (["--passes", "rgb,albedo"], "--passes: unknown pass 'albedo'"),
        (["--frames", "2:99"], "--frames 2:99 is outside the stage's frames 0:4"),
        (["--frames", "3"], "--frames must be START:END"),
        (["--resolution", "64"], "--resolution must be WIDTHxHEIGHT"),
        (["--resolution", "4x4"], "--resolution must be between 8 and 8192"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, extra, message):
    scene = tiny_stage(tmp_path / "scene.usda")
    out = tmp_path / "out"
    result = _run([scene, "-o", out, *extra])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_bad_effects_config(tmp_path):
    scene = tiny_stage(tmp_path / "scene.usda")
    fx = tmp_path / "fx.yaml"
    fx.write_text("noise: {probability: 2}\n")
    out = tmp_path / "out"
    result = _run([scene, "-o", out, "--effects", fx])
    assert result.exit_code == 2
    assert "fx.yaml: effects.noise.probability: Input should be less than or equal to 1" in result.output
    assert not out.exists()


def test_stage_without_camera(tmp_path):
    scene = tiny_stage(tmp_path / "scene.usda", camera=False)
    out = tmp_path / "out"
    result = _run([scene, "-o", out])
    assert result.exit_code == 2
    assert "no UsdGeom.Camera in the stage" in result.output
    assert not out.exists()


def test_missing_stage(tmp_path):
    out = tmp_path / "out"
    result = _run([tmp_path / "none.usda", "-o", out])
    assert result.exit_code == 2 and "no such stage file" in result.output
    assert not out.exists()


def test_render_cli_writes_clip(scene, tmp_path):
    out = tmp_path / "clip"
    result = _run([scene, "-o", out, "--frames", "0:3", "--resolution", "160x120"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"rgb.mp4", "labels.json", "coco.json", "depth", "instance", "semantic"} <= names
    assert len(list((out / "depth").iterdir())) == 3


def test_msaa_setting(tmp_path, monkeypatch):
    from usd_synth.render.backends.pyrender_backend import _msaa_setting

    monkeypatch.setenv("USD_SYNTH_MSAA", "4")
    assert _msaa_setting(None) == 4
    monkeypatch.setenv("USD_SYNTH_MSAA", "many")
    with pytest.raises(UsdSynthError, match="USD_SYNTH_MSAA must be a number"):
        _msaa_setting(None)
    with pytest.raises(UsdSynthError, match="msaa must be 0, 2, 4 or 8"):
        _msaa_setting(3)
    monkeypatch.delenv("USD_SYNTH_MSAA")
    scene = tiny_stage(tmp_path / "cube.usda")
    from usd_synth.render.backends.pyrender_backend import PyrenderRenderer

    s = PyrenderRenderer(msaa=4).open(scene, "cam", (64, 48), ("rgb", "instance"))
    try:
        layers = s.render(0)
        assert set(np.unique(layers["instance"])) == {0, 1}  # ids stay exact with multisampling on
    finally:
        s.close()
        s.close()  # idempotent


def test_ids_from_the_colour_pass_equal_the_flat_id_pass(scene, session):
    """With a colour pass, instance ids come out of its alpha channel (one pass for colour, depth and
    ids); without one, from the flat id pass. Both must give the same masks and depth."""
    assert session._ids_in_alpha
    flat = _session(scene, passes=("depth", "instance"))
    try:
        assert not flat._ids_in_alpha
        for frame in (0, 30):
            a, b = session.render(frame), flat.render(frame)
            assert (a["instance"] == b["instance"]).mean() >= 0.999
            for actor in (p for p in session.instances if p.startswith("/World/Actors/")):
                iid = session.instances[actor].instance_id
                ma, mb = a["instance"] == iid, b["instance"] == iid
                assert ma.sum() > 100 and (ma ^ mb).sum() <= 0.002 * ma.sum()
            both = (a["depth"] > 0) & (b["depth"] > 0)
            diff = np.abs(a["depth"] - b["depth"])[both]
            assert both.mean() > 0.99 and np.quantile(diff, 0.999) < 1e-3 and diff.max() < 0.01
    finally:
        flat.close()


def test_culling_the_actors_back_faces_changes_no_pixel(scene, session):
    """Actors are drawn with back faces culled (their skin and clothes are closed and face outwards);
    the frames must be those of two-sided drawing, which shows a wrong winding as holes."""
    from usd_synth.render.backends.pyrender_backend import PyrenderSession

    assert session.cull_actor_back_faces
    two_sided = PyrenderSession(
        scene, None, (W, H), ("rgb", "depth", "instance", "semantic", "normals"), cull_actor_back_faces=False
    )
    try:
        for frame in (0, 20, 39):
            a, b = session.render(frame), two_sided.render(frame)
            assert (a["instance"] == b["instance"]).mean() >= 0.9999
            same = (a["rgb"] == b["rgb"]).all(axis=-1)
            assert same.mean() >= 0.999, f"frame {frame}: {1 - same.mean():.2%} of pixels differ"
    finally:
        two_sided.close()


def _assert_same_frames(session, other, frames=(0, 39)) -> None:
    """``other`` (closed here) renders exactly ``session``'s rgb, depth and instance layers."""
    try:
        for frame in frames:
            a, b = session.render(frame), other.render(frame)
            for name in ("rgb", "depth", "instance"):
                assert np.array_equal(a[name], b[name]), f"frame {frame}: {name} differs"
    finally:
        other.close()


def test_binding_per_pass_gives_pyrenders_own_pixels(scene, session, monkeypatch):
    """The backend binds programs and lights once per pass instead of once per primitive
    (``_remember_per_pass``); frames must be exactly those of pyrender's own binding."""
    from usd_synth.render.backends import pyrender_backend

    monkeypatch.setattr(pyrender_backend, "_remember_per_pass", lambda renderer: None)
    _assert_same_frames(session, _session(scene))


def test_light_counts_compiled_into_the_shader_give_the_same_pixels(scene, session, monkeypatch):
    """The colour pass's shader loops over the scene's light counts compiled in as constants
    (``N_*_LIGHTS``); frames must be exactly those of loops bounded by pyrender's light-count uniforms."""
    from usd_synth.render.backends.pyrender_backend import PyrenderSession

    counts = session._light_counts()
    assert sum(counts.values()) >= 2 and counts["N_SPOT_LIGHTS"] + counts["N_DIRECTIONAL_LIGHTS"] >= 1
    # every colour-pass program, the one compiled when the session opened included, has them compiled in
    programs = session._renderer._renderer._program_cache._program_cache.values()
    colour = [p for p in programs if p.fragment_shader.endswith("mesh.frag")]
    assert colour and all(counts.items() <= p.defines.items() for p in colour)
    monkeypatch.setattr(PyrenderSession, "_light_counts", lambda self: {})
    _assert_same_frames(session, _session(scene))


def test_a_closed_session_leaves_the_next_one_working(scene):
    """Closing a session frees its GL objects once: nothing of it may be freed again later, when the
    garbage collector runs in another session's context (a shadow framebuffer of the same name)."""
    import gc

    first = _session(scene, passes=("rgb", "depth", "instance"))
    first.render(0)
    first.close()
    del first
    second = _session(scene, passes=("rgb", "depth", "instance"))
    try:
        gc.collect()
        for frame in (3, 4):
            assert second.render(frame)["rgb"].mean() > 40
    finally:
        second.close()
