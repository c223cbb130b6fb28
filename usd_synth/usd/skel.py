"""SMPL-24 UsdSkel skeletons: authoring a Skeleton with its animation, and finding one on a stage.

Shared by motion files (:mod:`usd_synth.usd.motion_io`) and body and actor files
(:mod:`usd_synth.usd.body_io`). Joint transforms in UsdSkel are local (joint-to-parent), which is exactly a
Motion's rotations plus its rest offsets; the root joint's translation is the pelvis world position. Rest
transforms hold the rest pose (standing, facing -Y); bind transforms are its world matrices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pxr import Gf, Usd, UsdSkel, Vt

from usd_synth import kinematics
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.skeleton import NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS, joint_paths
from usd_synth.usd.authoring import Authoring
from usd_synth.usd.matrices import gf_matrices


def rest_matrices(offsets: np.ndarray) -> tuple[list[Gf.Matrix4d], list[Gf.Matrix4d]]:
    """Local rest transforms and world bind transforms of the rest pose with these (24, 3) offsets."""
    local_r, local_t, world_r, world_t = kinematics.rest_transforms(offsets, SMPL_PARENTS)
    return gf_matrices(local_r, local_t), gf_matrices(world_r, world_t)


def define_skeleton(authoring: Authoring, root_path: str, motion: Motion) -> UsdSkel.Skeleton:
    """Author a Skeleton with its bound SkelAnimation for ``motion`` under the SkelRoot at ``root_path``."""
    stage = authoring.stage
    skel = UsdSkel.Skeleton.Define(stage, f"{root_path}/Skeleton")
    joints = Vt.TokenArray(joint_paths())
    skel.CreateJointsAttr(joints)
    skel.CreateJointNamesAttr(Vt.TokenArray(list(SMPL_JOINTS)))
    rest, bind = rest_matrices(motion.offsets)
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
