"""Per-frame labels computed from the stage and the camera, checked against the rendered layers.

Labels are geometry, not renderer output (as Kubric's ``post_processing``): joint positions come from
UsdSkel's own evaluation of each actor's skeleton (``SkeletonQuery.ComputeJointWorldTransforms``), skinned
points from UsdSkel's own skinning, pixels from :mod:`usd_synth.render.camera` (the one camera model), and
the rendered ``depth`` and ``instance`` layers are only used to decide what is *seen*. Any backend that
honours USD's camera therefore gets the same coordinates; only visibility depends on its pixels.

Conventions (also in ``docs/render.md``):

* Pixel (u, v) has its centre at integer coordinates (OpenCV, COCO keypoints); the image spans
  ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``.
* ``bbox`` is ``[x, y, w, h]`` of the actor's instance mask in that same frame: ``x = min column - 0.5``,
  ``y = min row - 0.5``, ``w = max column - min column + 1`` (the box's edges are pixel edges). ``coco.json``
  writes COCO's own frame (pixel i spans ``[i, i + 1)``): ``x = min column``.
* Joint visibility (``keypoints_2d[..., 2]``): a joint is visible when its projection is in the image, in
  front of the camera, and not hidden. Joints lie *inside* the body, so the surface in front of a visible
  joint is nearer than the joint by up to the body's half-thickness. With ``z`` the joint's depth and the
  3 x 3 pixels around its rounded projection:

  - if any of them shows the actor itself with rendered depth ``>= z - depth_tolerance`` (0.35 m): visible;
  - else, if none shows the actor and the centre pixel is empty (depth 0) or no nearer than
    ``z - edge_tolerance`` (0.02 m): visible (the joint grazes its silhouette; nothing is in front);
  - otherwise hidden: another instance, the room, or the actor's own far-nearer limb covers it.

* Face keypoints (nose, eyes, ears) are mesh vertices, on the surface: visible when a pixel of the 3 x 3
  window shows the actor with depth within ``surface_tolerance`` (0.04 m) of the vertex's depth.
* COCO ``v``: 0 outside the image or behind the camera (then ``x = y = 0``, as COCO writes unlabelled
  points), 1 in the image but hidden, 2 visible.
* ``truncation``: share of the actor's skinned vertices that project outside the image (or lie behind
  the camera). ``occlusion``: share of the in-image vertices whose pixel shows *something else* (another
  instance or any rendered surface that is not the actor) nearer than the vertex by more than
  ``edge_tolerance``; a vertex hidden by the actor's own body does not count (it is hidden when alone too).
* ``smpl``: axis-angle (radians) from the SkelAnimation's local rotations; ``body_pose`` is joints 1..23
  in SMPL order; ``global_orient`` is the pelvis's world rotation with the rest rotation
  :data:`~usd_synth.kinematics.REST_ROOT_QUAT` taken off (``R_world = REST_ROOT_MATRIX @ R(global_orient)``),
  i.e. SMPL's orientation in the Y-up view of the stage's world; ``transl`` is the pelvis's world position
  in that Y-up view (``REST_ROOT_MATRIX.T @ pelvis``; SMPL's ``transl`` is this minus the model's rest
  pelvis). ``global_orient_camera`` / ``pelvis_camera`` give the same in OpenCV camera axes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pxr import Usd, UsdGeom, UsdSkel
from scipy.spatial.transform import Rotation

from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX
from usd_synth.render.camera import CameraModel
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS

#: A visible joint may lie this far behind the rendered surface in front of it (body half-thickness), m.
DEPTH_TOLERANCE_M = 0.35
#: Slack for "nothing is in front": depth pass vs. a point at the silhouette or a touching occluder, m.
EDGE_TOLERANCE_M = 0.02
#: A visible surface point (face keypoints) lies within this of the rendered depth, m.
SURFACE_TOLERANCE_M = 0.04

#: COCO's 17 person keypoints, in COCO's order.
COCO_KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
#: COCO's keypoint skeleton (1-based keypoint indices), as in person_keypoints_*.json.
COCO_SKELETON = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
    (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)  # fmt: skip
#: COCO keypoints taken from mesh vertices of the head (the rest are SMPL joints of the same name).
FACE_KEYPOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
#: SMPL joint index of each non-face COCO keypoint.
COCO_FROM_SMPL = {name: JOINT_INDEX[name] for name in COCO_KEYPOINTS if name not in FACE_KEYPOINTS}


@dataclass
class ActorRig:
    """What labels need of one actor, computed once per stage: UsdSkel queries and the face vertices."""

    path: str
    action: str
    skel_query: UsdSkel.SkeletonQuery
    anim_query: UsdSkel.AnimQuery | None
    to_smpl: np.ndarray  # (24,) index into the skeleton's joint order of each SMPL joint
    anim_to_smpl: np.ndarray | None  # (24,) index into the animation's joint order
    meshes: list[tuple[Usd.Prim, UsdSkel.SkinningQuery]] = field(default_factory=list)
    face_vertices: dict[str, int] = field(default_factory=dict)  # into the first mesh's points

    def joint_world(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        """World positions (24, 3) and rotations (24, 3, 3) of the SMPL joints at ``time`` (UsdSkel)."""
        xf = self.skel_query.ComputeJointWorldTransforms(UsdGeom.XformCache(Usd.TimeCode(time)))
        m = np.array(xf, dtype=np.float64)[self.to_smpl]  # row-vector matrices
        return m[:, 3, :3], np.transpose(m[:, :3, :3], (0, 2, 1))

    def skinned_points(self, time: float) -> tuple[np.ndarray, list[int]]:
        """World-space skinned points of every render mesh (concatenated) and the per-mesh counts."""
        t = Usd.TimeCode(time)
        xforms = self.skel_query.ComputeSkinningTransforms(t)
        skel_prim = self.skel_query.GetSkeleton().GetPrim()
        world = np.array(UsdGeom.XformCache(t).GetLocalToWorldTransform(skel_prim))
        out, counts = [], []
        for prim, query in self.meshes:
            points = UsdGeom.Mesh(prim).GetPointsAttr().Get(t)
            query.ComputeSkinnedPoints(xforms, points, t)
            p = np.asarray(points, dtype=np.float64)
            out.append(p @ world[:3, :3] + world[3, :3])
            counts.append(len(p))
        if not out:
            return np.zeros((0, 3)), []
        return np.concatenate(out), counts


def _joint_names(tokens) -> list[str]:
    return [str(t).split("/")[-1] for t in tokens]


def _order(names: list[str], what: str) -> np.ndarray:
    lookup = {n: i for i, n in enumerate(names)}
    missing = [n for n in SMPL_JOINTS if n not in lookup]
    if missing:
        raise UsdSynthError(f"{what} lacks SMPL-24 joints {missing[:3]}", field="stage")
    return np.array([lookup[n] for n in SMPL_JOINTS])


def _action_label(prim: Usd.Prim) -> str:
    try:
        from pxr import UsdSemantics
    except ImportError:  # pragma: no cover - older usd-core
        return ""
    api = UsdSemantics.LabelsAPI(prim, "action")
    attr = api.GetLabelsAttr() if api else None
    value = attr.Get() if attr else None
    return str(value[0]) if value else ""


def pick_face_vertices(rest_points: np.ndarray, rest_joints: np.ndarray) -> dict[str, int]:
    """Vertex indices of nose, eyes and ears, chosen by position relative to the head joint at rest.

    ``rest_points`` (V, 3) and ``rest_joints`` (24, 3, SMPL order) in one frame (the bind pose). The head
    frame is upright: ``up`` from pelvis to neck, ``left`` from right to left shoulder, ``forward = left x
    up``; head vertices lie within 0.16 m of the head joint and above the neck. Nose: the most forward
    vertex near the mid-plane (the tip). Eyes: 3.2 cm to each side, in the 5 cm above the nose tip, the
    deepest point of the face's front profile (the eye socket), its most forward vertex (the eye). Ears:
    behind the face, between 4 cm below and 6 cm above the nose tip, the vertex nearest the middle of the
    outermost centimetre on each side.
    """
    head, neck = rest_joints[JOINT_INDEX["head"]], rest_joints[JOINT_INDEX["neck"]]
    up = neck - rest_joints[JOINT_INDEX["pelvis"]]
    up /= np.linalg.norm(up)
    left = rest_joints[JOINT_INDEX["left_shoulder"]] - rest_joints[JOINT_INDEX["right_shoulder"]]
    left -= up * (left @ up)
    left /= np.linalg.norm(left)
    forward = np.cross(left, up)
    rel = rest_points - head
    x, y, z = rel @ left, rel @ up, rel @ forward  # lateral (+left), up, forward
    near = (np.linalg.norm(rel, axis=1) < 0.16) & ((rest_points - neck) @ up > 0.0)
    if near.sum() < 20:
        raise UsdSynthError("the body mesh has too few vertices around the head joint", field="stage")

    def pick(mask: np.ndarray, score: np.ndarray) -> int:
        cand = np.flatnonzero(near & mask)
        if len(cand) == 0:
            cand = np.flatnonzero(near)
        return int(cand[np.argmax(score[cand])])

    nose = pick(np.abs(x) < 0.01, z)
    out = {"nose": nose}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        band = near & (np.abs(x - sign * 0.032) < 0.008) & (y > y[nose]) & (y < y[nose] + 0.05)
        cand = np.flatnonzero(band)
        if len(cand) == 0:
            out[f"{side}_eye"] = pick(np.abs(x - sign * 0.032) < 0.01, z)
            continue
        bins = np.floor((y[cand] - y[nose]) / 0.005).astype(int)
        front = {b: cand[bins == b][np.argmax(z[cand[bins == b]])] for b in np.unique(bins)}
        out[f"{side}_eye"] = int(min(front.values(), key=lambda i: z[i]))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        band = near & (sign * x > 0.05) & (z < z[nose] - 0.07) & (y > y[nose] - 0.04) & (y < y[nose] + 0.06)
        cand = np.flatnonzero(band)
        if len(cand) == 0:
            out[f"{side}_ear"] = pick(sign * x > 0, sign * x)
            continue
        outer = cand[sign * x[cand] >= (sign * x[cand]).max() - 0.01]
        centre = rest_points[outer].mean(axis=0)
        out[f"{side}_ear"] = int(outer[np.argmin(np.linalg.norm(rest_points[outer] - centre, axis=1))])
    return out


def _rest_points_and_joints(
    skel_query: UsdSkel.SkeletonQuery, prim: Usd.Prim, query: UsdSkel.SkinningQuery, to_smpl: np.ndarray
):
    """Mesh points and SMPL joint positions of the bind pose, both in skeleton space."""
    bind = np.array(skel_query.GetSkeleton().GetBindTransformsAttr().Get(), dtype=np.float64)
    joints = bind[to_smpl, 3, :3]
    geom = np.array(query.GetGeomBindTransform(), dtype=np.float64)
    p = np.asarray(UsdGeom.Mesh(prim).GetPointsAttr().Get(Usd.TimeCode.EarliestTime()), dtype=np.float64)
    return p @ geom[:3, :3] + geom[3, :3], joints


def actor_rigs(stage: Usd.Stage, root: str = "/World/Actors") -> list[ActorRig]:
    """Every SkelRoot under ``root`` (in child order) with its SMPL-24 skeleton and render meshes."""
    parent = stage.GetPrimAtPath(root)
    if not parent:
        return []
    cache = UsdSkel.Cache()
    rigs = []
    for prim in Usd.PrimRange(parent):
        if not prim.IsA(UsdSkel.Root):
            continue
        skel_root = UsdSkel.Root(prim)
        cache.Populate(skel_root, Usd.PrimDefaultPredicate)
        bindings = cache.ComputeSkelBindings(skel_root, Usd.PrimDefaultPredicate)
        if not bindings:
            continue
        binding = bindings[0]
        skel_query = cache.GetSkelQuery(binding.GetSkeleton())
        to_smpl = _order(_joint_names(skel_query.GetJointOrder()), f"{prim.GetPath()} skeleton")
        anim = skel_query.GetAnimQuery()
        anim_to_smpl = (
            _order(_joint_names(anim.GetJointOrder()), f"{prim.GetPath()} animation") if anim else None
        )
        meshes = []
        for query in binding.GetSkinningTargets():
            target = query.GetPrim()
            if (
                target.IsA(UsdGeom.Mesh)
                and UsdGeom.Imageable(target).ComputePurpose() != UsdGeom.Tokens.guide
            ):
                meshes.append((target, query))
        rig = ActorRig(
            str(prim.GetPath()), _action_label(prim), skel_query, anim, to_smpl, anim_to_smpl, meshes
        )
        if meshes:
            points, joints = _rest_points_and_joints(skel_query, meshes[0][0], meshes[0][1], to_smpl)
            rig.face_vertices = pick_face_vertices(points, joints)
        rigs.append(rig)
    return rigs


_RIG_CACHE: list[tuple[Usd.Stage, list[ActorRig]]] = []


def cached_actor_rigs(stage: Usd.Stage) -> list[ActorRig]:
    """:func:`actor_rigs`, remembered for the last few stages (a clip asks once per frame)."""
    for s, rigs in _RIG_CACHE:
        if s is stage:
            return rigs
    rigs = actor_rigs(stage)
    _RIG_CACHE.insert(0, (stage, rigs))
    del _RIG_CACHE[4:]
    return rigs


# ---------------------------------------------------------------------------------------------------------
# pure label functions
# ---------------------------------------------------------------------------------------------------------


def mask_bbox(mask: np.ndarray) -> list[float] | None:
    """``[x, y, w, h]`` of a boolean mask, pixel centres at integers (so ``x = min column - 0.5``)."""
    rows, cols = np.any(mask, axis=1), np.any(mask, axis=0)
    if not rows.any():
        return None
    r0, r1 = np.flatnonzero(rows)[[0, -1]]
    c0, c1 = np.flatnonzero(cols)[[0, -1]]
    return [float(c0) - 0.5, float(r0) - 0.5, float(c1 - c0 + 1), float(r1 - r0 + 1)]


def _windows(uv: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns (N, 9) of the 3 x 3 pixels around each rounded point, clipped; and the centres."""
    uv = np.nan_to_num(uv, nan=-10.0)
    c = np.rint(uv).astype(np.int64)
    d = np.array([-1, 0, 1])
    cols = np.clip(c[:, 0, None] + np.repeat(d, 3)[None], 0, width - 1)
    rows = np.clip(c[:, 1, None] + np.tile(d, 3)[None], 0, height - 1)
    return rows, cols, c


def point_visibility(
    uv: np.ndarray,
    z: np.ndarray,
    camera: CameraModel,
    depth: np.ndarray | None,
    instance: np.ndarray | None,
    instance_id: int | None,
    behind_tolerance: float,
    edge_tolerance: float = EDGE_TOLERANCE_M,
) -> tuple[np.ndarray, np.ndarray]:
    """``(in_image, visible)`` booleans (N,) for points with pixels ``uv`` (N, 2) and depths ``z`` (N,).

    The rule of the module docstring: visible when a pixel of the 3 x 3 window shows the actor no nearer
    than ``z - behind_tolerance``, or none shows the actor and the centre pixel is empty or no nearer than
    ``z - edge_tolerance``. Without depth and instance layers, every in-image point is visible.
    """
    inside = camera.in_image(uv) & (z > 0) & np.isfinite(uv).all(axis=-1)
    if depth is None or instance is None or instance_id is None:
        return inside, inside.copy()
    rows, cols, _ = _windows(uv, camera.width, camera.height)
    d = depth[rows, cols].astype(np.float64)
    own = instance[rows, cols] == instance_id
    seen_own = (own & (d >= z[:, None] - behind_tolerance)).any(axis=1)
    dc = d[:, 4]
    clear = ~own.any(axis=1) & ((dc <= 0) | (dc >= z - edge_tolerance))
    return inside, inside & (seen_own | clear)


def coco_keypoints(
    joints_uv: np.ndarray,
    joints_in: np.ndarray,
    joints_vis: np.ndarray,
    face_uv: np.ndarray,
    face_in: np.ndarray,
    face_vis: np.ndarray,
) -> list[list[float]]:
    """17 x ``[x, y, v]`` in COCO's order, ``v`` = 0 (not in image, x = y = 0), 1 (hidden), 2 (visible)."""
    out = []
    for name in COCO_KEYPOINTS:
        if name in FACE_KEYPOINTS:
            i = FACE_KEYPOINTS.index(name)
            uv, inside, vis = face_uv[i], face_in[i], face_vis[i]
        else:
            j = COCO_FROM_SMPL[name]
            uv, inside, vis = joints_uv[j], joints_in[j], joints_vis[j]
        out.append(
            [float(uv[0]), float(uv[1]), 2]
            if vis
            else [float(uv[0]), float(uv[1]), 1]
            if inside
            else [0.0, 0.0, 0]
        )
    return out


def smpl_parameters(rig: ActorRig, time: float, camera: CameraModel) -> dict:
    """SMPL pose parameters (axis-angle) from the actor's SkelAnimation (see the module docstring)."""
    world_pos, world_rot = rig.joint_world(time)
    root_world = world_rot[0]
    body_pose = np.zeros((NUM_JOINTS - 1, 3))
    if rig.anim_query is not None:
        _, rotations, _ = rig.anim_query.ComputeJointLocalTransformComponents(Usd.TimeCode(time))
        q = np.array([[r.imaginary[0], r.imaginary[1], r.imaginary[2], r.real] for r in rotations])[
            rig.anim_to_smpl
        ]
        body_pose = Rotation.from_quat(q[1:]).as_rotvec()
    # the pelvis's world rotation with SkelRoot transforms folded in, rest rotation removed
    orient = REST_ROOT_MATRIX.T @ root_world
    cam_r = camera.world_to_camera[:3, :3]
    return {
        "global_orient": Rotation.from_matrix(_orthonormal(orient)).as_rotvec().tolist(),
        "body_pose": body_pose.tolist(),
        "transl": (REST_ROOT_MATRIX.T @ world_pos[0]).tolist(),
        "global_orient_camera": Rotation.from_matrix(_orthonormal(cam_r @ root_world)).as_rotvec().tolist(),
        "pelvis_camera": camera.to_camera(world_pos[0]).tolist(),
    }


def _orthonormal(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return r


def _round(a, nd: int = 4):
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def actor_labels(
    rig: ActorRig,
    camera: CameraModel,
    time: float,
    layers: dict,
    instance_id: int | None,
    depth_tolerance: float = DEPTH_TOLERANCE_M,
    edge_tolerance: float = EDGE_TOLERANCE_M,
    surface_tolerance: float = SURFACE_TOLERANCE_M,
) -> dict:
    """One actor's labels at one frame (see :func:`frame_labels`)."""
    depth, instance = layers.get("depth"), layers.get("instance")
    joints_world, _ = rig.joint_world(time)
    uv, z = camera.project(joints_world)
    j_in, j_vis = point_visibility(
        uv, z, camera, depth, instance, instance_id, depth_tolerance, edge_tolerance
    )

    points, _ = rig.skinned_points(time)
    p_uv, p_z = camera.project(points)
    p_in = camera.in_image(p_uv) & (p_z > 0) & np.isfinite(p_uv).all(axis=-1)
    truncation = 1.0 - float(p_in.mean()) if len(points) else 1.0

    names = list(FACE_KEYPOINTS)
    if rig.face_vertices:
        f_idx = np.array([rig.face_vertices[n] for n in names])
        f_uv, f_z = p_uv[f_idx], p_z[f_idx]
        f_in, f_vis = point_visibility(
            f_uv, f_z, camera, depth, instance, instance_id, surface_tolerance, edge_tolerance
        )
    else:
        f_uv, f_in, f_vis = np.zeros((5, 2)), np.zeros(5, bool), np.zeros(5, bool)

    bbox, area, occlusion = None, 0, None
    if instance is not None and instance_id is not None:
        mask = instance == instance_id
        bbox, area = mask_bbox(mask), int(mask.sum())
        if depth is not None and p_in.any():
            px = np.rint(p_uv[p_in]).astype(np.int64)
            r, cc = np.clip(px[:, 1], 0, camera.height - 1), np.clip(px[:, 0], 0, camera.width - 1)
            d = depth[r, cc].astype(np.float64)
            other = (instance[r, cc] != instance_id) & (d > 0) & (d < p_z[p_in] - edge_tolerance)
            occlusion = float(other.mean())
    elif instance is None and p_in.any():
        # no mask (a backend without images): the box of the projected mesh, clipped to the image
        u, v = p_uv[p_in, 0], p_uv[p_in, 1]
        x0, y0 = max(float(u.min()), -0.5), max(float(v.min()), -0.5)
        x1, y1 = min(float(u.max()), camera.width - 0.5), min(float(v.max()), camera.height - 0.5)
        bbox, area = _round([x0, y0, x1 - x0, y1 - y0], 2), int(round((x1 - x0) * (y1 - y0)))

    kp = [
        [None, None, 0] if not np.isfinite(uv[j]).all() else [*_round(uv[j]), int(j_vis[j])]
        for j in range(24)
    ]
    return {
        "prim": rig.path,
        "id": instance_id,
        "label": rig.action,
        "bbox": bbox,
        "area": area,
        "keypoints_2d": kp,
        "joints_3d_camera": _round(camera.to_camera(joints_world)),
        "joints_3d_world": _round(joints_world),
        "coco_keypoints": [
            [round(x, 4), round(y, 4), v]
            for x, y, v in coco_keypoints(np.nan_to_num(uv), j_in, j_vis, np.nan_to_num(f_uv), f_in, f_vis)
        ],
        "truncation": round(truncation, 5),
        "occlusion": None if occlusion is None else round(occlusion, 5),
        "smpl": {k: _round(v, 6) for k, v in smpl_parameters(rig, time, camera).items()},
    }


def frame_labels(
    stage: Usd.Stage,
    camera: CameraModel,
    time: float,
    layers: dict,
    instances: dict,
    depth_tolerance: float = DEPTH_TOLERANCE_M,
    frame: int | None = None,
    rigs: list[ActorRig] | None = None,
) -> dict:
    """Labels of one frame: the camera and, per actor of ``/World/Actors`` (in order), its box, 2D and
    3D keypoints with visibility, COCO-17 keypoints, truncation, occlusion and SMPL pose.

    ``layers``: the backend's named layers (``depth`` and ``instance`` are used when present);
    ``instances``: prim path -> (instance id, semantic id, class label). ``frame`` defaults to the time
    code rounded. ``rigs``: from :func:`actor_rigs` (default: computed once per stage and remembered).
    """
    if depth_tolerance <= 0:
        raise UsdSynthError(
            f"depth_tolerance must be positive, got {depth_tolerance}", field="depth_tolerance"
        )
    rigs = cached_actor_rigs(stage) if rigs is None else rigs
    for name, shape in (("depth", 2), ("instance", 2)):
        arr = layers.get(name)
        if arr is not None and (arr.ndim != shape or arr.shape[:2] != (camera.height, camera.width)):
            raise UsdSynthError(
                f"layer {name} has shape {arr.shape}, expected ({camera.height}, {camera.width})",
                field="layers",
            )
    actors = []
    for rig in rigs:
        entry = instances.get(rig.path)
        instance_id = int(tuple(entry)[0]) if entry is not None else None
        actors.append(actor_labels(rig, camera, time, layers, instance_id, depth_tolerance))
    return {
        "frame": int(round(time)) if frame is None else int(frame),
        "time_code": float(time),
        "camera": {
            "path": camera.path,
            "K": _round(camera.K, 6),
            "world_to_camera": _round(camera.world_to_camera, 6),
            "width": camera.width,
            "height": camera.height,
        },
        "actors": actors,
    }


def skeleton_bones() -> list[tuple[int, int]]:
    """SMPL-24 bones as (parent, child) index pairs (for drawing)."""
    return [(int(p), c) for c, p in enumerate(SMPL_PARENTS) if p >= 0]
