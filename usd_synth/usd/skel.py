"""Motions as animated UsdSkel skeletons, and back.

Layout of a motion file::

    /Motion                 SkelRoot (default prim, kind = component), usd-synth metadata in customData
        Skeleton            Skeleton: SMPL joint paths, rest and bind transforms, SkelBindingAPI
            Animation       SkelAnimation: time-sampled translations and rotations, constant scales

Joint transforms in UsdSkel are local (joint-to-parent), which is exactly the Motion's rotations plus the
rest offsets. The root joint's translation is the pelvis world position. Rest transforms hold the rest
pose (standing, facing -Y); bind transforms are its world matrices.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pxr import Gf, Usd, UsdGeom, UsdSkel, Vt

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import REST_ROOT_MATRIX, Motion
from usd_synth.skeleton import NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS, joint_paths
from usd_synth.usd.stage import Authoring, authoring_stage, open_stage

METADATA_KEY = "usdSynth"


def _matrix(rot: np.ndarray, trans: np.ndarray) -> Gf.Matrix4d:
    """A USD row-vector matrix from a column-vector rotation and a translation."""
    m = np.eye(4)
    m[:3, :3] = rot.T
    m[3, :3] = trans
    return Gf.Matrix4d(m.tolist())


def rest_transforms(motion: Motion) -> tuple[list[Gf.Matrix4d], list[Gf.Matrix4d]]:
    """Local rest transforms and world bind transforms of the motion's skeleton."""
    local_r = np.tile(np.eye(3), (NUM_JOINTS, 1, 1))
    local_r[0] = REST_ROOT_MATRIX
    local_t = motion.offsets.copy()
    local_t[0] = REST_ROOT_MATRIX @ motion.offsets[0]
    world_r = np.empty_like(local_r)
    world_t = np.empty_like(local_t)
    for j in range(NUM_JOINTS):
        p = SMPL_PARENTS[j]
        if p < 0:
            world_r[j], world_t[j] = local_r[j], local_t[j]
        else:
            world_r[j] = world_r[p] @ local_r[j]
            world_t[j] = world_t[p] + world_r[p] @ local_t[j]
    rest = [_matrix(local_r[j], local_t[j]) for j in range(NUM_JOINTS)]
    bind = [_matrix(world_r[j], world_t[j]) for j in range(NUM_JOINTS)]
    return rest, bind


def define_skeleton(authoring: Authoring, root_path: str, motion: Motion) -> UsdSkel.Skeleton:
    """Author a Skeleton with its bound SkelAnimation for ``motion`` under the SkelRoot at ``root_path``."""
    stage = authoring.stage
    skel = UsdSkel.Skeleton.Define(stage, f"{root_path}/Skeleton")
    joints = Vt.TokenArray(joint_paths())
    skel.CreateJointsAttr(joints)
    skel.CreateJointNamesAttr(Vt.TokenArray(list(SMPL_JOINTS)))
    rest, bind = rest_transforms(motion)
    skel.CreateRestTransformsAttr(Vt.Matrix4dArray(rest))
    skel.CreateBindTransformsAttr(Vt.Matrix4dArray(bind))

    anim_path = f"{root_path}/Skeleton/Animation"
    anim = authoring.define_animation(anim_path)
    anim.CreateJointsAttr(joints)
    translations = np.broadcast_to(motion.offsets, (motion.num_frames, NUM_JOINTS, 3)).copy()
    translations[:, 0] = motion.translation
    translations = translations.astype(np.float32)
    rotations = motion.rotations.astype(np.float32)
    t_attr = anim.CreateTranslationsAttr()
    r_attr = anim.CreateRotationsAttr()
    for f in range(motion.num_frames):
        t_attr.Set(Vt.Vec3fArray.FromNumpy(translations[f]), Usd.TimeCode(f))
        # GfQuatf memory order is (x, y, z, w): the array maps straight onto it.
        r_attr.Set(Vt.QuatfArray.FromNumpy(rotations[f]), Usd.TimeCode(f))
    anim.CreateScalesAttr(Vt.Vec3hArray([Gf.Vec3h(1, 1, 1)] * NUM_JOINTS))
    binding = UsdSkel.BindingAPI.Apply(skel.GetPrim())
    binding.CreateAnimationSourceRel().SetTargets([anim_path])
    return skel


def motion_metadata(motion: Motion) -> dict:
    """What usd-synth keeps about a motion in the SkelRoot's customData."""
    return {
        "label": motion.label,
        "fps": motion.fps,
        "source": json.dumps(motion.source, sort_keys=True, default=str),
    }


def write_motion(motion: Motion, path: str | Path, prim_name: str = "Motion") -> Path:
    """Write ``motion`` as an animated UsdSkel asset; atomic (nothing is left at ``path`` on failure)."""
    path = Path(path)
    with authoring_stage(path, motion.fps, motion.num_frames) as authoring:
        stage = authoring.stage
        root = UsdSkel.Root.Define(stage, f"/{prim_name}")
        stage.SetDefaultPrim(root.GetPrim())
        Usd.ModelAPI(root.GetPrim()).SetKind("component")
        root.GetPrim().SetCustomDataByKey(METADATA_KEY, motion_metadata(motion))
        if motion.label:
            _set_semantic_label(root.GetPrim(), motion.label)
        define_skeleton(authoring, root.GetPath().pathString, motion)
    return path


def _set_semantic_label(prim: Usd.Prim, label: str) -> None:
    """Tag the action label with UsdSemantics (class taxonomy), where this USD build has it."""
    try:
        from pxr import UsdSemantics
    except ImportError:  # older usd-core
        return
    labels = UsdSemantics.LabelsAPI.Apply(prim, "class")
    labels.CreateLabelsAttr(Vt.TokenArray([label]))


def find_skeleton(stage: Usd.Stage, path: Path) -> UsdSkel.Skeleton:
    """The first SMPL-24 Skeleton on the stage (depth-first), or a UsdSynthError."""
    for prim in stage.Traverse():
        if prim.IsA(UsdSkel.Skeleton):
            skel = UsdSkel.Skeleton(prim)
            joints = list(skel.GetJointsAttr().Get() or [])
            if [j.split("/")[-1] for j in joints] != list(SMPL_JOINTS):
                raise UsdSynthError(f"skeleton {prim.GetPath()} is not SMPL-24 ({len(joints)} joints)", path)
            return skel
    raise UsdSynthError("no UsdSkel Skeleton in the file", path)


def read_motion_usd(path: str | Path) -> Motion:
    """Read a motion written by :func:`write_motion` (or any SMPL-24 UsdSkel animation) back."""
    path = Path(path)
    stage = open_stage(path)
    skel = find_skeleton(stage, path)
    query = UsdSkel.Cache().GetSkelQuery(skel)
    anim_query = query.GetAnimQuery() if query else None
    if not anim_query:
        raise UsdSynthError(f"skeleton {skel.GetPath()} has no bound SkelAnimation", path)
    anim = UsdSkel.Animation(anim_query.GetPrim())
    anim_joints = [j.split("/")[-1] for j in (anim.GetJointsAttr().Get() or [])]
    if anim_joints != list(SMPL_JOINTS):
        raise UsdSynthError("the animation's joints are not SMPL-24 in SMPL order", path)
    start, end = int(stage.GetStartTimeCode()), int(stage.GetEndTimeCode())
    times = range(start, end + 1)
    rot_attr, trans_attr = anim.GetRotationsAttr(), anim.GetTranslationsAttr()
    rotations = np.array([np.asarray(rot_attr.Get(Usd.TimeCode(t))) for t in times], dtype=np.float64)
    translations = np.array([np.asarray(trans_attr.Get(Usd.TimeCode(t))) for t in times], dtype=np.float64)
    if rotations.shape[1:] != (NUM_JOINTS, 4) or translations.shape[1:] != (NUM_JOINTS, 3):
        raise UsdSynthError("the animation's rotations or translations do not cover 24 joints", path)
    rest = np.array(skel.GetRestTransformsAttr().Get(), dtype=np.float64)
    offsets = rest[:, 3, :3].copy()
    offsets[0] = REST_ROOT_MATRIX.T @ offsets[0]
    data = stage.GetDefaultPrim().GetCustomDataByKey(METADATA_KEY) if stage.GetDefaultPrim() else None
    data = dict(data or {})
    try:
        source = json.loads(data.get("source", "{}"))
    except json.JSONDecodeError:
        source = {}
    fps = stage.GetTimeCodesPerSecond()
    return Motion(
        fps=fps,
        rotations=rotations,
        translation=translations[:, 0],
        offsets=offsets,
        label=str(data.get("label", "")),
        source=source,
    )


def joint_world_positions_from_usd(path: str | Path) -> np.ndarray:
    """(T, 24, 3) joint world positions evaluated by UsdSkel itself (for cross-checks)."""
    stage = open_stage(path)
    query = UsdSkel.Cache().GetSkelQuery(find_skeleton(stage, Path(path)))
    out = []
    for t in range(int(stage.GetStartTimeCode()), int(stage.GetEndTimeCode()) + 1):
        xf = query.ComputeJointWorldTransforms(UsdGeom.XformCache(Usd.TimeCode(t)))
        out.append(np.array(xf)[:, 3, :3])
    return np.array(out)
