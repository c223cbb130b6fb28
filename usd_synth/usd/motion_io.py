"""Motions as animated UsdSkel assets, and back.

Layout of a motion file::

    /Motion                 SkelRoot (default prim, kind = component), usd-synth metadata in customData
        Skeleton            Skeleton: SMPL joint paths, rest and bind transforms, SkelBindingAPI
            Animation       SkelAnimation: time-sampled translations and rotations, constant scales

The Skeleton and its animation are authored by :func:`usd_synth.usd.skel.define_skeleton`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pxr import Usd, UsdGeom, UsdSkel

from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX
from usd_synth.motion.model import Motion
from usd_synth.skeleton import NUM_JOINTS, SMPL_JOINTS
from usd_synth.usd.authoring import METADATA_KEY, USD_SUFFIXES, authoring_stage, open_stage
from usd_synth.usd.semantics import set_semantic_label
from usd_synth.usd.skel import define_skeleton, find_skeleton


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
            set_semantic_label(root.GetPrim(), motion.label)
        define_skeleton(authoring, root.GetPath().pathString, motion)
    return path


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


class UsdMotionReader:
    """Reader plugin (``usd``) for animated SMPL-24 UsdSkel files (``.usd``, ``.usda``, ``.usdc``).

    It lives with the writer, in the ``usd`` layer, so that ``motion`` never imports ``usd``: the
    readers' registry finds it through its entry point. The file already follows usd-synth's conventions
    (Z up, metres, time codes = frames), so the motion comes back as written, to float32 precision.
    """

    name = "usd"
    retargets = False
    description = "usd-synth motion USD (SMPL-24 UsdSkel animation), .usd/.usda/.usdc"

    def sniff(self, path: Path) -> bool:
        if not path.is_file() or path.suffix.lower() not in USD_SUFFIXES:
            return False
        with open(path, "rb") as f:
            head = f.read(8)
        return head.startswith(b"#usda") or head.startswith(b"PXR-USDC")

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        motion = read_motion_usd(path)
        if fps is not None:
            motion.fps = float(fps)  # re-time: the same frames played at another rate
        return motion
