"""Labels against USD's own geometry: keypoints vs Gf.Frustum, boxes vs masks, visibility, SMPL pose.

No backend is needed: the layers are made here by splatting each actor's UsdSkel-skinned points into a
z-buffer (instance and depth), which is all the labels read of a render.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom, UsdSkel
from scipy.spatial.transform import Rotation

from usd_synth.body import make_body
from usd_synth.body.actor import make_actor
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX
from usd_synth.render.camera import CameraModel, camera_model
from usd_synth.render.labels import (
    COCO_KEYPOINTS,
    DEPTH_TOLERANCE_M,
    actor_rigs,
    frame_labels,
    mask_bbox,
    pick_face_vertices,
)
from usd_synth.skeleton import JOINT_INDEX, SMPL_JOINTS
from usd_synth.usd.bake import usd_skinned_points
from usd_synth.usd.body_io import write_actor
from usd_synth.usd.semantics import set_semantic_label

from ..conftest import smooth_random_motion
from .test_camera import _usd_pixels

SIZE = (320, 240)
FRAMES = 6


@pytest.fixture(scope="module")
def actor_file(tmp_path_factory) -> Path:
    motion = smooth_random_motion(FRAMES, amplitude=0.3)
    motion.label = "wave"
    return write_actor(
        make_actor(motion, make_body("anny", 0)), tmp_path_factory.mktemp("actor") / "actor.usda"
    )


def make_stage(actor_file: Path, actors=((0.0, 0.0, 30.0),), h_offset: float = 0.0) -> Usd.Stage:
    """A stage with actors (x, y, yaw) under /World/Actors and a camera 4 m in front, looking at +Y."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.Xform.Define(stage, "/World")
    for i, (x, y, yaw) in enumerate(actors):
        prim = stage.DefinePrim(f"/World/Actors/actor_{i}")
        prim.GetReferences().AddReference(str(actor_file))
        xf = UsdGeom.Xformable(prim)
        xf.AddTranslateOp().Set(Gf.Vec3d(x, y, 0.0))
        xf.AddRotateZOp().Set(yaw)
        set_semantic_label(prim, "person")
        set_semantic_label(prim, "wave", "action")  # as the composer labels actors
    cam = UsdGeom.Camera.Define(stage, "/World/Cam")
    cam.CreateFocalLengthAttr(24.0)
    cam.CreateHorizontalApertureAttr(36.0)
    cam.CreateVerticalApertureAttr(24.0)
    cam.CreateHorizontalApertureOffsetAttr(h_offset)
    cam.CreateClippingRangeAttr(Gf.Vec2f(0.1, 100.0))
    xf = UsdGeom.Xformable(cam)
    xf.AddTranslateOp().Set(Gf.Vec3d(0.1, -4.5, 1.0), 0)
    xf.AddTranslateOp(opSuffix="dolly").Set(Gf.Vec3d(0.0, 0.0, 0.0), 0)
    xf.GetOrderedXformOps()[1].Set(Gf.Vec3d(0.3, 0.4, 0.1), FRAMES - 1)
    xf.AddRotateXYZOp().Set(Gf.Vec3f(88.0, 0.0, 3.0))
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(FRAMES - 1)
    return stage


def body_mesh_path(stage: Usd.Stage, actor: str) -> str:
    for prim in Usd.PrimRange(stage.GetPrimAtPath(actor)):
        if prim.IsA(UsdGeom.Mesh) and prim.HasAPI(UsdSkel.BindingAPI):
            return str(prim.GetPath())
    raise AssertionError("no skinned mesh")


def rasterize(stage: Usd.Stage, camera: CameraModel, time: int) -> dict[str, np.ndarray]:
    """Depth and instance layers from a 3 x 3 z-buffer splat of every actor's UsdSkel-skinned points."""
    h, w = camera.height, camera.width
    depth = np.full((h, w), np.inf)
    instance = np.zeros((h, w), np.uint16)
    for i, actor in enumerate(stage.GetPrimAtPath("/World/Actors").GetChildren(), start=1):
        points = usd_skinned_points(stage, body_mesh_path(stage, str(actor.GetPath())), time)
        uv, z = camera.project(points)
        ok = np.isfinite(uv).all(axis=1) & (z > 0)
        px = np.rint(uv[ok]).astype(int)
        z = z[ok]
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                c, r = px[:, 0] + dx, px[:, 1] + dy
                inside = (c >= 0) & (c < w) & (r >= 0) & (r < h)
                order = np.argsort(-z[inside])  # far first: near points overwrite
                rr, cc, zz = r[inside][order], c[inside][order], z[inside][order]
                nearer = zz < depth[rr, cc]
                depth[rr[nearer], cc[nearer]] = zz[nearer]
                instance[rr[nearer], cc[nearer]] = i
    depth[~np.isfinite(depth)] = 0.0
    return {
        "depth": depth.astype(np.float32),
        "instance": instance,
        "semantic": (instance > 0).astype(np.uint16),
    }


def instances_of(stage: Usd.Stage) -> dict:
    kids = stage.GetPrimAtPath("/World/Actors").GetChildren()
    return {str(p.GetPath()): (i, 1, "person") for i, p in enumerate(kids, start=1)}


def usd_joint_world(stage: Usd.Stage, actor: str, time: int) -> np.ndarray:
    """(24, 3) SMPL-ordered joint world positions, evaluated by UsdSkel independently of the module."""
    cache = UsdSkel.Cache()
    root = UsdSkel.Root(stage.GetPrimAtPath(actor))
    cache.Populate(root, Usd.PrimDefaultPredicate)
    query = cache.GetSkelQuery(cache.ComputeSkelBindings(root, Usd.PrimDefaultPredicate)[0].GetSkeleton())
    names = [str(j).split("/")[-1] for j in query.GetJointOrder()]
    xf = np.array(query.ComputeJointWorldTransforms(UsdGeom.XformCache(Usd.TimeCode(time))))
    return xf[[names.index(n) for n in SMPL_JOINTS], 3, :3]


@pytest.mark.parametrize("time", [0, FRAMES - 1])
def test_keypoints_are_usd_joints_through_usd_camera(actor_file, time):
    stage = make_stage(actor_file, actors=((0.0, 0.0, 30.0), (1.2, 0.8, -60.0)))
    cam = stage.GetPrimAtPath("/World/Cam")
    model = camera_model(cam, time, *SIZE)
    layers = rasterize(stage, model, time)
    labels = frame_labels(stage, model, time, layers, instances_of(stage))
    assert labels["frame"] == time and labels["camera"]["path"] == "/World/Cam"
    assert [a["prim"] for a in labels["actors"]] == ["/World/Actors/actor_0", "/World/Actors/actor_1"]
    for actor in labels["actors"]:
        joints = usd_joint_world(stage, actor["prim"], time)
        ref = _usd_pixels(cam, time, *SIZE, joints)
        kp = np.array([k[:2] for k in actor["keypoints_2d"]], dtype=float)
        assert np.abs(kp - ref).max() < 0.5
        cam_pts = joints @ model.world_to_camera[:3, :3].T + model.world_to_camera[:3, 3]
        np.testing.assert_allclose(actor["joints_3d_camera"], cam_pts, atol=1e-3)
        # boxes are the instance mask's bounds (pixel centres at integers: edges at half pixels)
        mask = layers["instance"] == actor["id"]
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert actor["bbox"] == [cols[0] - 0.5, rows[0] - 0.5, cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1]
        assert actor["area"] == int(mask.sum())
        assert actor["label"] == "wave"
        # COCO body keypoints are the SMPL joints of the same name
        for k, name in enumerate(COCO_KEYPOINTS[5:], start=5):
            x, y, v = actor["coco_keypoints"][k]
            if v:
                assert (x, y) == pytest.approx(tuple(kp[JOINT_INDEX[name]]), abs=1e-3)
        assert actor["truncation"] == 0.0


def test_hand_made_occluder_hides_the_joints_behind_it(actor_file):
    stage = make_stage(actor_file)
    model = camera_model(stage.GetPrimAtPath("/World/Cam"), 2, *SIZE)
    layers = rasterize(stage, model, 2)
    inst = instances_of(stage)
    clear = frame_labels(stage, model, 2, layers, inst)["actors"][0]
    vis = np.array([k[2] for k in clear["keypoints_2d"]], bool)
    assert vis.mean() >= 0.9  # a front view: joints are behind the near surface by less than the tolerance
    assert clear["occlusion"] == pytest.approx(0.0, abs=0.02)
    kp = np.array([k[:2] for k in clear["keypoints_2d"]])
    bx, by, bw, bh = clear["bbox"]
    split = bx + bw / 2
    # a box of instance 9, 1 m in front of the camera, over the left half of the image up to the body's middle
    occluded = {k: v.copy() for k, v in layers.items()}
    cover = np.zeros(layers["depth"].shape, bool)
    cover[:, : int(np.floor(split))] = True
    occluded["depth"][cover] = 1.0
    occluded["instance"][cover] = 9
    hidden = frame_labels(stage, model, 2, occluded, {**inst, "/World/Box": (9, 2, "box")})["actors"][0]
    hv = np.array([k[2] for k in hidden["keypoints_2d"]], bool)
    under = kp[:, 0] < split - 2.5
    free = kp[:, 0] > split + 1.5
    assert under.any() and free.any()
    assert not hv[under].any()
    np.testing.assert_array_equal(hv[free], vis[free])
    assert 0.2 < hidden["occlusion"] < 0.8
    # COCO: hidden but in the image is v = 1, coordinates kept
    for name in ("left_shoulder", "right_shoulder"):
        k = COCO_KEYPOINTS.index(name)
        j = JOINT_INDEX[name]
        assert hidden["coco_keypoints"][k][2] == (2 if hv[j] else 1)  # both shoulders are in the image
    # the same box *behind* the actor hides nothing
    behind = {k: v.copy() for k, v in layers.items()}
    empty = cover & (layers["instance"] == 0)
    behind["depth"][empty] = 9.0
    behind["instance"][empty] = 9
    again = frame_labels(stage, model, 2, behind, inst)["actors"][0]
    np.testing.assert_array_equal([k[2] for k in again["keypoints_2d"]], vis)


def test_a_joint_far_behind_its_own_surface_is_hidden(actor_file):
    stage = make_stage(actor_file)
    model = camera_model(stage.GetPrimAtPath("/World/Cam"), 0, *SIZE)
    layers = rasterize(stage, model, 0)
    base = frame_labels(stage, model, 0, layers, instances_of(stage))["actors"][0]
    j = JOINT_INDEX["pelvis"]
    assert base["keypoints_2d"][j][2] == 1
    x, y = np.rint(base["keypoints_2d"][j][:2]).astype(int)
    z = base["joints_3d_camera"][j][2]
    moved = {k: v.copy() for k, v in layers.items()}
    moved["depth"][y - 1 : y + 2, x - 1 : x + 2] = z - DEPTH_TOLERANCE_M - 0.05
    out = frame_labels(stage, model, 0, moved, instances_of(stage))["actors"][0]
    assert out["keypoints_2d"][j][2] == 0
    moved["depth"][y - 1 : y + 2, x - 1 : x + 2] = z - DEPTH_TOLERANCE_M + 0.05
    out = frame_labels(stage, model, 0, moved, instances_of(stage))["actors"][0]
    assert out["keypoints_2d"][j][2] == 1


def test_truncation_is_the_share_of_skinned_points_outside(actor_file):
    stage = make_stage(actor_file, h_offset=17.0)  # film window shifted: the actor leaves the left edge
    model = camera_model(stage.GetPrimAtPath("/World/Cam"), 1, *SIZE)
    layers = rasterize(stage, model, 1)
    actor = frame_labels(stage, model, 1, layers, instances_of(stage))["actors"][0]
    points = usd_skinned_points(stage, body_mesh_path(stage, "/World/Actors/actor_0"), 1)
    uv, z = model.project(points)
    outside = 1.0 - (model.in_image(uv) & (z > 0)).mean()
    assert 0.05 < outside < 0.95
    assert actor["truncation"] == pytest.approx(outside, abs=1e-4)
    v = [k[2] for k in actor["coco_keypoints"]]
    assert 0 in v  # keypoints out of the image are COCO v = 0 with x = y = 0
    assert all(actor["coco_keypoints"][i][:2] == [0.0, 0.0] for i in range(17) if v[i] == 0)


def test_smpl_parameters_are_the_animation_rotations(actor_file):
    stage = make_stage(actor_file)
    model = camera_model(stage.GetPrimAtPath("/World/Cam"), 3, *SIZE)
    actor = frame_labels(stage, model, 3, {}, instances_of(stage))["actors"][0]
    # no layers (the geometry backend): no occlusion, the box of the projected mesh around the keypoints
    assert actor["occlusion"] is None
    x, y, w, h = actor["bbox"]
    kp = np.array([k[:2] for k in actor["keypoints_2d"] if k[2]])
    assert len(kp) and (kp >= [x, y]).all() and (kp <= [x + w, y + h]).all()
    anim = UsdSkel.Animation(stage.GetPrimAtPath("/World/Actors/actor_0/Skeleton/Animation"))
    names = [str(j).split("/")[-1] for j in anim.GetJointsAttr().Get()]
    q = np.array(anim.GetRotationsAttr().Get(3), dtype=np.float64)[[names.index(n) for n in SMPL_JOINTS]]
    smpl = actor["smpl"]
    assert np.array(smpl["body_pose"]).shape == (23, 3)
    ref = Rotation.from_quat(q[1:])
    got = Rotation.from_rotvec(smpl["body_pose"])
    assert np.abs((ref.inv() * got).magnitude()).max() < 1e-4
    # world root = turn of the actor prim (30 deg about Z) . animation root = REST_ROOT . global_orient
    world_root = Rotation.from_euler("z", 30, degrees=True) * Rotation.from_quat(q[0])
    np.testing.assert_allclose(REST_ROOT_MATRIX @ Rotation.from_rotvec(smpl["global_orient"]).as_matrix(),
                               world_root.as_matrix(), atol=1e-4)  # fmt: skip
    pelvis = usd_joint_world(stage, "/World/Actors/actor_0", 3)[0]
    np.testing.assert_allclose(REST_ROOT_MATRIX @ np.array(smpl["transl"]), pelvis, atol=1e-4)


def test_face_vertices_sit_where_a_face_is(actor_file):
    stage = make_stage(actor_file)
    rig = actor_rigs(stage)[0]
    assert set(rig.face_vertices) == {"nose", "left_eye", "right_eye", "left_ear", "right_ear"}
    # bind pose: the body faces -Y, its left is +X, up is +Z
    points = usd_skinned_points(stage, body_mesh_path(stage, "/World/Actors/actor_0"), 0)
    bind = np.array(UsdSkel.Skeleton(stage.GetPrimAtPath("/World/Actors/actor_0/Skeleton"))
                    .GetBindTransformsAttr().Get())  # fmt: skip
    mesh = UsdGeom.Mesh(stage.GetPrimAtPath(body_mesh_path(stage, "/World/Actors/actor_0")))
    rest = np.asarray(mesh.GetPointsAttr().Get(), dtype=float)
    head = bind[JOINT_INDEX["head"], 3, :3]
    f = {k: rest[v] - head for k, v in rig.face_vertices.items()}
    assert f["nose"][1] < -0.05 and abs(f["nose"][0]) < 0.01  # in front, on the mid-plane
    assert f["left_eye"][0] > 0.015 and f["right_eye"][0] < -0.015
    assert f["left_eye"][2] > f["nose"][2] and f["left_eye"][1] < -0.03
    assert f["left_ear"][0] > 0.05 and f["right_ear"][0] < -0.05
    assert f["left_ear"][1] > f["nose"][1] + 0.06
    assert len(points) == len(rest)
    with pytest.raises(UsdSynthError, match="head"):
        pick_face_vertices(np.zeros((5, 3)), np.random.default_rng(0).normal(size=(24, 3)))


def test_mask_bbox_and_bad_layers(actor_file):
    m = np.zeros((10, 12), bool)
    assert mask_bbox(m) is None
    m[2:5, 3:9] = True
    assert mask_bbox(m) == [2.5, 1.5, 6.0, 3.0]
    stage = make_stage(actor_file)
    model = camera_model(stage.GetPrimAtPath("/World/Cam"), 0, *SIZE)
    with pytest.raises(UsdSynthError, match="layer depth"):
        frame_labels(stage, model, 0, {"depth": np.zeros((5, 5), np.float32)}, instances_of(stage))


def test_labels_agree_with_a_real_render(tmp_path):
    """A 2-actor composed scene rendered by the pyrender backend: visible keypoints lie on their actor's
    mask (95 %), boxes are the mask bounds, and the rendered depth at every visible joint is in
    [z - 35 cm, z + 2 cm]."""
    backend = pytest.importorskip("usd_synth.render.backends.pyrender_backend")
    from scipy import ndimage

    from usd_synth.compose import compose_scene
    from usd_synth.usd.motion_io import write_motion

    from ..compose.conftest import procedural

    motions = [
        write_motion(procedural(name, 30, 30.0, seed, moves), tmp_path / f"{name}.usd")
        for name, seed, moves in (("walk", 1, True), ("wave", 2, False))
    ]
    compose_scene(motions, tmp_path / "scene", 4)
    path = tmp_path / "scene" / "scene.usda"
    try:
        session = backend.PyrenderRenderer().open(path, None, (320, 240))
    except UsdSynthError as exc:
        pytest.skip(f"no OpenGL here: {exc}")
    stage = Usd.Stage.Open(str(path))
    visible = on_mask = depth_ok = 0
    try:
        assert [p for p in session.instances][:2] == ["/World/Actors/actor_0", "/World/Actors/actor_1"]
        for t in range(0, 30, 6):
            layers = session.render(t)
            labels = frame_labels(stage, session.camera(t), t, layers, session.instances)
            for actor in labels["actors"]:
                mask = layers["instance"] == actor["id"]
                rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
                bounds = [cols[0] - 0.5, rows[0] - 0.5, cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1]
                assert np.abs(np.array(actor["bbox"]) - bounds).max() <= 2
                near = ndimage.binary_dilation(mask, iterations=2)
                for (x, y, v), joint in zip(actor["keypoints_2d"], actor["joints_3d_camera"], strict=True):
                    if not v:
                        continue
                    visible += 1
                    c, r = int(round(x)), int(round(y))
                    on_mask += bool(near[r, c])
                    win = (slice(max(r - 2, 0), r + 3), slice(max(c - 2, 0), c + 3))
                    d = layers["depth"][win][mask[win]]
                    z = joint[2]
                    depth_ok += bool(((d >= z - DEPTH_TOLERANCE_M) & (d <= z + 0.02)).any())
    finally:
        session.close()
    assert visible > 100
    assert on_mask / visible >= 0.95
    assert depth_ok == visible  # every visible keypoint (visibility is judged against this depth)
