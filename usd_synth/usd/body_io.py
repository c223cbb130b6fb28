"""Bodies and actors as skinned UsdSkel assets, and bodies read back.

Layout of a body file (``usd-synth body``)::

    /Body               SkelRoot (default prim, kind = component), customData usdSynth.body
        Skeleton        Skeleton: SMPL-24 joint paths; bindTransforms = the mesh's bind pose (world);
                        restTransforms = the same pose as local transforms, so the file shows the body
                        undeformed when nothing animates it
        Mesh            Mesh: triangles, normals, primvars:st, UsdSkelBindingAPI (skel:skeleton,
                        primvars:skel:jointIndices / jointWeights with elementSize = influences,
                        geomBindTransform), extent, material binding
        Looks/Skin      Material: the library's ``skin`` UsdPreviewSurface (``materials/skin.usda``), copied
                        into the file, with the body's skin colour as its diffuseColor

An actor file (``usd-synth actor``) is the same under ``/Actor`` plus the motion: the Skeleton's
restTransforms are SMPL's rest pose with the body's offsets (as :func:`usd_synth.usd.motion_io.write_motion`
writes them) and its bound SkelAnimation holds the motion's rotations and the adapted root path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade, UsdSkel, Vt

from usd_synth.body.actor import Actor
from usd_synth.body.model import Body, vertex_normals
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX, world_to_local
from usd_synth.skeleton import SMPL_JOINTS, SMPL_PARENTS, joint_paths
from usd_synth.usd.authoring import METADATA_KEY, Authoring, authoring_stage, check_usd_path, open_stage
from usd_synth.usd.materials import copy_material
from usd_synth.usd.matrices import gf_matrices, np_matrices
from usd_synth.usd.motion_io import motion_metadata
from usd_synth.usd.semantics import set_semantic_label
from usd_synth.usd.skel import define_skeleton, find_skeleton

MESH_NAME = "Mesh"

#: The library material (``materials/<name>.usda``) every body wears.
SKIN_MATERIAL = "skin"


def _bind_matrices(body: Body) -> tuple[list[Gf.Matrix4d], list[Gf.Matrix4d]]:
    """World bind transforms and the same pose as local transforms (USD row-vector matrices)."""
    world_r, world_t = body.bind_world()
    local_r, local_t = world_to_local(world_r, world_t, SMPL_PARENTS)
    return gf_matrices(world_r, world_t), gf_matrices(local_r, local_t)


def _define_material(stage: Usd.Stage, root: str, color: tuple[float, float, float]) -> UsdShade.Material:
    """The library's skin material, copied to ``<root>/Looks/Skin``, its diffuseColor the body's colour."""
    looks = UsdGeom.Scope.Define(stage, f"{root}/Looks")
    material = copy_material(stage, SKIN_MATERIAL, looks.GetPath().AppendChild("Skin"))
    shader = UsdShade.Shader(stage.GetPrimAtPath(material.GetPath().AppendChild("PreviewSurface")))
    shader.GetInput("diffuseColor").Set(Gf.Vec3f(*[float(c) for c in color]))
    return material


def _mesh_prims(authoring: Authoring, root: str) -> tuple[Usd.Prim, Usd.Prim]:
    """(prim for the large arrays, prim for bindings) of the body mesh.

    In a crate output both are the Mesh itself. A ``.usda`` output keeps its arrays (points, topology,
    normals, UVs, skin weights) in the crate sidecar, referenced by the Mesh, as NVIDIA's validator
    requires of large arrays; relationships (skeleton, material) stay in the text layer, where their
    targets resolve.
    """
    wanted = f"{root}/{MESH_NAME}"
    main = UsdGeom.Mesh.Define(authoring.stage, wanted).GetPrim()
    if authoring.samples is authoring.stage:
        return main, main
    scope = UsdGeom.Scope.Define(authoring.samples, "/Animations")
    authoring.samples.SetDefaultPrim(scope.GetPrim())
    inner = f"/Animations/{Sdf.Path(root).name}{MESH_NAME}"
    heavy = UsdGeom.Mesh.Define(authoring.samples, inner).GetPrim()
    main.GetReferences().AddReference(authoring.samples.GetRootLayer().identifier, inner)
    return heavy, main


def _compact_uv(uv: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop UV values no face corner uses (validators flag them) and renumber the indices."""
    used, inverse = np.unique(np.asarray(indices, dtype=np.int64), return_inverse=True)
    return np.asarray(uv, dtype=np.float32)[used], inverse.astype(np.int32)


def _define_mesh(authoring: Authoring, root: str, body: Body, skel_path: Sdf.Path) -> UsdGeom.Mesh:
    """The skinned mesh of ``body`` in its world bind pose, bound to the skeleton at ``skel_path``."""
    heavy_prim, main_prim = _mesh_prims(authoring, root)
    heavy = UsdGeom.Mesh(heavy_prim)
    points = body.world_points()
    heavy.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points.astype(np.float32)))
    heavy.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(body.faces), 3, dtype=np.int32)))
    heavy.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(body.faces.reshape(-1).astype(np.int32)))
    heavy.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(vertex_normals(points, body.faces).astype(np.float32)))
    heavy.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    heavy.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    heavy.CreateOrientationAttr(UsdGeom.Tokens.rightHanded)
    lo, hi = points.min(axis=0), points.max(axis=0)
    heavy.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*lo.tolist()), Gf.Vec3f(*hi.tolist())]))
    if body.uv is not None and body.uv_indices is not None:
        uv, uv_indices = _compact_uv(body.uv, body.uv_indices)
        st = UsdGeom.PrimvarsAPI(heavy).CreatePrimvar(
            "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.faceVarying
        )
        st.Set(Vt.Vec2fArray.FromNumpy(uv))
        st.SetIndices(Vt.IntArray.FromNumpy(uv_indices))
    k = body.influences
    heavy_binding = UsdSkel.BindingAPI(heavy_prim)
    heavy_binding.CreateJointIndicesPrimvar(False, k).Set(
        Vt.IntArray.FromNumpy(body.joint_indices.reshape(-1))
    )
    heavy_binding.CreateJointWeightsPrimvar(False, k).Set(
        Vt.FloatArray.FromNumpy(body.joint_weights.reshape(-1))
    )
    binding = UsdSkel.BindingAPI.Apply(main_prim)
    binding.CreateSkeletonRel().SetTargets([skel_path])
    binding.CreateGeomBindTransformAttr(Gf.Matrix4d(1.0))
    material = _define_material(authoring.stage, root, body.color)
    UsdShade.MaterialBindingAPI.Apply(main_prim).Bind(material)
    return UsdGeom.Mesh(main_prim)


def body_metadata(body: Body) -> dict[str, Any]:
    return {
        "kind": "body",
        "body": json.dumps(body.params, sort_keys=True),
        "color": Gf.Vec3f(*[float(c) for c in body.color]),
    }


def write_body(body: Body, path: str | Path, prim_name: str = "Body") -> Path:
    """Write ``body`` as a skinned UsdSkel asset in its bind pose (see the module docstring); atomic."""
    path = check_usd_path(path)
    with authoring_stage(path, 30.0, 1) as authoring:
        stage = authoring.stage
        root = UsdSkel.Root.Define(stage, f"/{prim_name}")
        stage.SetDefaultPrim(root.GetPrim())
        Usd.ModelAPI(root.GetPrim()).SetKind("component")
        root.GetPrim().SetCustomDataByKey(METADATA_KEY, body_metadata(body))
        skel = UsdSkel.Skeleton.Define(stage, root.GetPath().AppendChild("Skeleton"))
        skel.CreateJointsAttr(Vt.TokenArray(joint_paths()))
        skel.CreateJointNamesAttr(Vt.TokenArray(list(SMPL_JOINTS)))
        bind, local = _bind_matrices(body)
        skel.CreateBindTransformsAttr(Vt.Matrix4dArray(bind))
        skel.CreateRestTransformsAttr(Vt.Matrix4dArray(local))
        _define_mesh(authoring, root.GetPath().pathString, body, skel.GetPath())
        _set_extents_hint(root, stage)
    return path


def write_actor(actor: Actor, path: str | Path, prim_name: str = "Actor") -> Path:
    """Write an animated, skinned actor (see the module docstring); atomic, ``.usda`` gets a crate sidecar."""
    path = check_usd_path(path)
    motion, body = actor.motion, actor.body
    with authoring_stage(path, motion.fps, motion.num_frames) as authoring:
        stage = authoring.stage
        root = UsdSkel.Root.Define(stage, f"/{prim_name}")
        stage.SetDefaultPrim(root.GetPrim())
        Usd.ModelAPI(root.GetPrim()).SetKind("component")
        meta = motion_metadata(motion)
        meta.update(body_metadata(body))
        meta["kind"] = "actor"
        meta["adaptation"] = json.dumps(actor.adaptation, sort_keys=True)
        root.GetPrim().SetCustomDataByKey(METADATA_KEY, meta)
        if motion.label:
            set_semantic_label(root.GetPrim(), motion.label)
        skel = define_skeleton(authoring, root.GetPath().pathString, motion)
        bind, _ = _bind_matrices(body)
        skel.GetBindTransformsAttr().Set(Vt.Matrix4dArray(bind))
        _define_mesh(authoring, root.GetPath().pathString, body, skel.GetPath())
    return path


def _set_extents_hint(root: UsdSkel.Root, stage: Usd.Stage) -> None:
    """Author the SkelRoot's extentsHint (what Omniverse reads to cull without evaluating the skeleton)."""
    model = UsdGeom.ModelAPI(root.GetPrim())
    model.SetExtentsHint(model.ComputeExtentsHint(UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default"])))


# ---------------------------------------------------------------------------------------------------------
# reading a body back
# ---------------------------------------------------------------------------------------------------------


def _find_skinned_mesh(stage: Usd.Stage, skel: UsdSkel.Skeleton, path: Path) -> UsdGeom.Mesh:
    for prim in stage.Traverse():
        if not prim.IsA(UsdGeom.Mesh) or not prim.HasAPI(UsdSkel.BindingAPI):
            continue
        targets = UsdSkel.BindingAPI(prim).GetSkeletonRel().GetTargets()
        if not targets or targets[0] == skel.GetPath():
            return UsdGeom.Mesh(prim)
    raise UsdSynthError(f"no mesh is skinned to the skeleton {skel.GetPath()} (not a body file?)", path)


def read_body(path: str | Path) -> Body:
    """A body from a USD file written by :func:`write_body` (or any SMPL-24-skinned triangle mesh)."""
    path = Path(path)
    stage = open_stage(path)
    skel = find_skeleton(stage, path)
    mesh = _find_skinned_mesh(stage, skel, path)
    binding = UsdSkel.BindingAPI(mesh.GetPrim())
    points = np.asarray(mesh.GetPointsAttr().Get(), dtype=np.float64)
    counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get(), dtype=np.int64)
    flat = np.asarray(mesh.GetFaceVertexIndicesAttr().Get(), dtype=np.int64)
    if points.size == 0 or counts.size == 0 or np.any(counts != 3):
        raise UsdSynthError(f"mesh {mesh.GetPath()} must be made of triangles", path)
    geom_bind = binding.GetGeomBindTransformAttr().Get()
    if geom_bind is not None:
        g = np.array(geom_bind, dtype=np.float64)
        points = points @ g[:3, :3] + g[3, :3]
    idx_pv, w_pv = binding.GetJointIndicesPrimvar(), binding.GetJointWeightsPrimvar()
    if not idx_pv or not w_pv or idx_pv.GetInterpolation() != UsdGeom.Tokens.vertex:
        raise UsdSynthError(f"mesh {mesh.GetPath()} needs per-vertex joint indices and weights", path)
    k = idx_pv.GetElementSize()
    indices = np.asarray(idx_pv.Get(), dtype=np.int32).reshape(-1, k)
    weights = np.asarray(w_pv.Get(), dtype=np.float32).reshape(-1, k)
    mesh_joints = binding.GetJointsAttr().Get()
    if mesh_joints:
        names = [str(j).split("/")[-1] for j in mesh_joints]
        if not set(names) <= set(SMPL_JOINTS):
            raise UsdSynthError("the mesh's skel:joints are not SMPL joints", path)
        remap = np.array([SMPL_JOINTS.index(n) for n in names], dtype=np.int32)
        indices = remap[indices]
    bind = np_matrices(skel.GetBindTransformsAttr().Get())
    world_r = np.transpose(bind[:, :3, :3], (0, 2, 1))
    world_t = bind[:, 3, :3]
    # World (Z up, facing -Y) -> SMPL body frame: x_body = R^T x_world, i.e. rows @ R.
    joints = world_t @ REST_ROOT_MATRIX
    bind_rot = REST_ROOT_MATRIX.T @ world_r
    uv = uv_idx = None
    st = UsdGeom.PrimvarsAPI(mesh).GetPrimvar("st")
    if st and st.HasValue():
        uv = np.asarray(st.Get(), dtype=np.float32)
        interp = st.GetInterpolation()
        if interp == UsdGeom.Tokens.faceVarying:
            uv_idx = np.asarray(st.GetIndices(), dtype=np.int32) if st.IsIndexed() else np.arange(len(flat))
        elif interp in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying):
            uv_idx = np.asarray(st.GetIndices(), dtype=np.int32)[flat] if st.IsIndexed() else flat
        else:
            uv = None
    root = stage.GetDefaultPrim() or mesh.GetPrim().GetParent()
    meta = dict(root.GetCustomDataByKey(METADATA_KEY) or {})
    try:
        params = json.loads(meta.get("body", "{}"))
    except json.JSONDecodeError:
        params = {}
    color = tuple(float(c) for c in meta.get("color", (0.8, 0.6, 0.5)))
    try:
        return Body(
            model=str(params.get("model", "unknown")),
            points=points @ REST_ROOT_MATRIX,
            faces=flat.reshape(-1, 3),
            joints=joints,
            bind_rotations=bind_rot,
            joint_indices=indices,
            joint_weights=weights,
            uv=uv,
            uv_indices=None if uv_idx is None else np.asarray(uv_idx, dtype=np.int32),
            color=color,  # type: ignore[arg-type]
            params=params,
        )
    except UsdSynthError as exc:
        raise UsdSynthError(str(exc), path) from None
