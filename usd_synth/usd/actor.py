"""Bodies and actors as skinned UsdSkel assets, and baking skinned meshes into time-sampled points.

Layout of a body file (``usd-synth body``)::

    /Body               SkelRoot (default prim, kind = component), customData usdSynth.body
        Skeleton        Skeleton: SMPL-24 joint paths; bindTransforms = the mesh's bind pose (world);
                        restTransforms = the same pose as local transforms, so the file shows the body
                        undeformed when nothing animates it
        Mesh            Mesh: triangles, normals, primvars:st, UsdSkelBindingAPI (skel:skeleton,
                        primvars:skel:jointIndices / jointWeights with elementSize = influences,
                        geomBindTransform), extent, material binding
        Looks/Skin      Material with a UsdPreviewSurface

An actor file (``usd-synth actor``) is the same under ``/Actor`` plus the motion: the Skeleton's
restTransforms are SMPL's rest pose with the body's offsets (as :func:`usd_synth.usd.skel.write_motion`
writes them) and its bound SkelAnimation holds the motion's rotations and the adapted root path.

Baking (``usd-synth bake``) evaluates every skinned mesh of a stage on every frame with the Warp LBS
kernel (:mod:`usd_synth.kernels.skinning`) and writes a copy of the stage in which each of them is a
plain Mesh with time-sampled world-space points, normals and extent (``!resetXformStack!`` so that no
parent transform applies twice), and the skeletons are gone. Joint transforms come from UsdSkel itself
(``SkelQuery.ComputeSkinningTransforms``), so any UsdSkel asset bakes, not only usd-synth's.
The output must be a crate file (``.usd``/``.usdc``): baked points are hundreds of megabytes of time
samples, which text layers handle badly and NVIDIA's validator rejects.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade, UsdSkel, Vt

from usd_synth.body.actor import Actor
from usd_synth.body.model import Body, vertex_normals
from usd_synth.errors import UsdSynthError
from usd_synth.fileio import atomic_path
from usd_synth.kernels.device import resolve_device
from usd_synth.kernels.skinning import Skin, WarpSkinner, concat_skins
from usd_synth.motion.model import REST_ROOT_MATRIX
from usd_synth.skeleton import NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS, joint_paths
from usd_synth.usd.skel import (
    METADATA_KEY,
    _matrix,
    _set_semantic_label,
    define_skeleton,
    find_skeleton,
    motion_metadata,
)
from usd_synth.usd.stage import Authoring, authoring_stage, check_usd_path, open_stage

MESH_NAME = "Mesh"


# ---------------------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------------------


def _bind_matrices(body: Body) -> tuple[list[Gf.Matrix4d], list[Gf.Matrix4d]]:
    """World bind transforms and the same pose as local transforms (USD row-vector matrices)."""
    world_r, world_t = body.bind_world()
    bind = [_matrix(world_r[j], world_t[j]) for j in range(NUM_JOINTS)]
    local = []
    for j in range(NUM_JOINTS):
        p = SMPL_PARENTS[j]
        if p < 0:
            local.append(bind[j])
        else:
            r = world_r[p].T @ world_r[j]
            t = world_r[p].T @ (world_t[j] - world_t[p])
            local.append(_matrix(r, t))
    return bind, local


def _define_material(stage: Usd.Stage, root: str, color: tuple[float, float, float]) -> UsdShade.Material:
    looks = UsdGeom.Scope.Define(stage, f"{root}/Looks")
    material = UsdShade.Material.Define(stage, looks.GetPath().AppendChild("Skin"))
    shader = UsdShade.Shader.Define(stage, material.GetPath().AppendChild("PreviewSurface"))
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*[float(c) for c in color]))
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.6)
    shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0)
    shader.CreateInput("specularColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.04, 0.04, 0.04))
    surface = shader.CreateOutput("surface", Sdf.ValueTypeNames.Token)
    material.CreateSurfaceOutput().ConnectToSource(surface)
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
            _set_semantic_label(root.GetPrim(), motion.label)
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


def _np_matrices(values) -> np.ndarray:
    return np.array(values, dtype=np.float64).reshape(-1, 4, 4)


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
    bind = _np_matrices(skel.GetBindTransformsAttr().Get())
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


# ---------------------------------------------------------------------------------------------------------
# baking
# ---------------------------------------------------------------------------------------------------------


@dataclass
class BakeTarget:
    """One skinned mesh: its prim, rest skin and (F, J, 4, 4) column-vector matrices to world space."""

    prim_path: Sdf.Path
    skel_path: Sdf.Path
    anim_path: Sdf.Path | None
    skin: Skin
    matrices: np.ndarray


def _rows_to_columns(m: np.ndarray) -> np.ndarray:
    return np.swapaxes(m, -1, -2)


def collect_bake_targets(stage: Usd.Stage, path: Path | None = None) -> tuple[list[BakeTarget], list[int]]:
    """Every skinned Mesh of the stage with its per-frame skinning matrices (world space); and the frames."""
    start, end = stage.GetStartTimeCode(), stage.GetEndTimeCode()
    if not (np.isfinite(start) and np.isfinite(end)) or end < start:
        raise UsdSynthError("the stage has no valid start/end time codes", path)
    frames = list(range(int(np.floor(start)), int(np.floor(end)) + 1))
    cache = UsdSkel.Cache()
    targets: list[BakeTarget] = []
    for prim in stage.Traverse():
        if not prim.IsA(UsdSkel.Root):
            continue
        cache.Populate(UsdSkel.Root(prim), Usd.PrimDefaultPredicate)
        for binding in cache.ComputeSkelBindings(UsdSkel.Root(prim), Usd.PrimDefaultPredicate):
            skel = binding.GetSkeleton()
            skel_query = cache.GetSkelQuery(skel)
            anim = skel_query.GetAnimQuery()
            anim_path = anim.GetPrim().GetPath() if anim else None
            skel_order = [str(j) for j in skel_query.GetJointOrder()]
            per_frame = np.empty((len(frames), len(skel_order), 4, 4))
            world = np.empty((len(frames), 4, 4))
            for i, f in enumerate(frames):
                time = Usd.TimeCode(f)
                per_frame[i] = _np_matrices(skel_query.ComputeSkinningTransforms(time))
                world[i] = np.array(UsdGeom.XformCache(time).GetLocalToWorldTransform(skel.GetPrim()))
            for query in binding.GetSkinningTargets():
                targets.append(_bake_target(query, skel_order, per_frame, world, skel, anim_path, path))
    return targets, frames


def _bake_target(query, skel_order, per_frame, world, skel, anim_path, path) -> BakeTarget:
    prim = query.GetPrim()
    if not prim.IsA(UsdGeom.Mesh):
        raise UsdSynthError(f"{prim.GetPath()}: only skinned Meshes can be baked", path)
    method = query.GetSkinningMethod() if hasattr(query, "GetSkinningMethod") else "classicLinear"
    if str(method) not in ("classicLinear", ""):
        raise UsdSynthError(f"{prim.GetPath()}: skinning method {method} is not supported (LBS only)", path)
    mesh = UsdGeom.Mesh(prim)
    points = np.asarray(mesh.GetPointsAttr().Get(Usd.TimeCode.EarliestTime()), dtype=np.float64)
    ok, idx, wts = True, None, None
    result = query.ComputeJointInfluences()
    if isinstance(result, tuple):
        ok, idx, wts = (True, *result) if len(result) == 2 else result
    if not ok or idx is None:
        raise UsdSynthError(f"{prim.GetPath()}: invalid joint influences", path)
    k = query.GetNumInfluencesPerComponent()
    idx = np.asarray(idx, dtype=np.int32).reshape(-1, k)
    wts = np.asarray(wts, dtype=np.float32).reshape(-1, k)
    if query.IsRigidlyDeformed():
        idx = np.broadcast_to(idx[:1], (len(points), k))
        wts = np.broadcast_to(wts[:1], (len(points), k))
    if len(idx) != len(points):
        raise UsdSynthError(f"{prim.GetPath()}: {len(idx)} joint influences for {len(points)} points", path)
    order = query.GetJointOrder()
    if order:
        lookup = {name: i for i, name in enumerate(skel_order)}
        missing = [str(j) for j in order if str(j) not in lookup]
        if missing:
            raise UsdSynthError(f"{prim.GetPath()}: skel:joints names unknown joints {missing[:3]}", path)
        remap = np.array([lookup[str(j)] for j in order], dtype=np.int32)
        idx = remap[idx]
    geom = np.array(query.GetGeomBindTransform(), dtype=np.float64)
    # USD row vectors: p_world = p * geomBind * skinning[j] * skelLocalToWorld.
    rows = geom[None, None] @ per_frame @ world[:, None]
    counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get(), dtype=np.int64)
    flat = np.asarray(mesh.GetFaceVertexIndicesAttr().Get(), dtype=np.int64)
    normals = _rest_normals(points, counts, flat)
    skin = Skin(points=points, indices=idx, weights=wts, normals=normals)
    return BakeTarget(prim.GetPath(), skel.GetPath(), anim_path, skin, _rows_to_columns(rows))


def _rest_normals(points: np.ndarray, counts: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Vertex normals of the rest mesh (polygons fanned into triangles)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    tris = []
    for n in range(3, int(counts.max(initial=3)) + 1):
        sel = starts[counts == n]
        for k in range(1, n - 1):
            tris.append(np.stack([flat[sel], flat[sel + k], flat[sel + k + 1]], axis=1))
    faces = np.concatenate(tris) if tris else np.zeros((0, 3), dtype=np.int64)
    return vertex_normals(points, faces)


def skin_targets(targets: list[BakeTarget], device: str | None = "cpu", chunk: int = 256):
    """Yield ``(first_frame_index, [(points, normals, lo, hi) per target])`` for consecutive frame batches.

    All targets are skinned together: their meshes are concatenated and their matrix tables put side by
    side (see :func:`usd_synth.kernels.skinning.concat_skins`). ``lo``/``hi`` are each target's per-frame
    bounds (F, 3). Warp's CPU kernels run on one core, so on the CPU each chunk of frames is split over
    one skinner per core, launched from threads (launches release the GIL).
    """
    if not targets:
        return
    skin = concat_skins([t.skin for t in targets], [t.matrices.shape[1] for t in targets])
    table = np.concatenate([t.matrices for t in targets], axis=1).astype(np.float32)
    workers = max(1, min(os.cpu_count() or 1, 8)) if resolve_device(device) == "cpu" else 1
    skinners = [WarpSkinner(skin, device) for _ in range(workers)]
    cuts = np.cumsum([0] + [t.skin.num_points for t in targets])

    def run(skinner: WarpSkinner, f0: int, f1: int):
        points, normals, lo, hi = skinner.skin_with_bounds(table[f0:f1])
        if len(targets) == 1:
            return [(points, normals, lo, hi)]
        parts = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            p = np.ascontiguousarray(points[:, a:b])
            parts.append((p, None if normals is None else normals[:, a:b], p.min(axis=1), p.max(axis=1)))
        return parts

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f0 in range(0, table.shape[0], chunk):
            f1 = min(f0 + chunk, table.shape[0])
            bounds = np.linspace(f0, f1, workers + 1).astype(int)
            jobs = [
                (a, pool.submit(run, sk, a, b))
                for sk, a, b in zip(skinners, bounds[:-1], bounds[1:], strict=True)
                if b > a
            ]
            for a, job in jobs:
                yield a, job.result()


def _strip_skinning(stage: Usd.Stage, targets: list[BakeTarget]) -> None:
    """Turn baked meshes into plain meshes and drop the skeletons and animations they used."""
    for t in targets:
        prim = stage.GetPrimAtPath(t.prim_path)
        prim.RemoveAPI(UsdSkel.BindingAPI)
        for prop in prim.GetPropertyNames():
            if prop.startswith(("skel:", "primvars:skel:")):
                prim.RemoveProperty(prop)
        for prop in ("normals", "primvars:normals", "points", "extent"):
            if prim.HasProperty(prop):
                prim.RemoveProperty(prop)
        xformable = UsdGeom.Xformable(prim)
        xformable.ClearXformOpOrder()
        xformable.SetResetXformStack(True)
    doomed = {t.skel_path for t in targets} | {t.anim_path for t in targets if t.anim_path is not None}
    for p in sorted(doomed, key=lambda x: -x.pathElementCount):
        if stage.GetPrimAtPath(p):
            stage.RemovePrim(p)
    for prim in list(stage.Traverse()):
        if prim.IsA(UsdSkel.Root):
            prim.SetTypeName("Xform")
            prim.RemoveAPI(UsdSkel.BindingAPI)
            for prop in prim.GetPropertyNames():
                if prop.startswith("skel:") or prop == "extentsHint":
                    prim.RemoveProperty(prop)


def _vt_vec3f_copy(values: np.ndarray) -> Vt.Vec3fArray:
    """A new Vt.Vec3fArray holding ``values`` (N, 3) float32, by memcpy.

    ``Vt.Vec3fArray.FromNumpy`` converts element by element (about 1 GB/s), which made writing the time
    samples the slowest part of a bake. A freshly made VtArray is uniquely owned, and the buffer it exposes
    to numpy is its own storage (marked read-only only because other VtArrays could share it), so
    copying into that storage is safe. :func:`_fast_vt_copy_works` checks this once per process.
    """
    out = Vt.Vec3fArray(len(values))
    view = np.asarray(out)
    ctypes.memmove(view.__array_interface__["data"][0], values.ctypes.data, values.nbytes)
    return out


@functools.cache
def _fast_vt_copy_works() -> bool:
    probe = np.arange(12, dtype=np.float32).reshape(4, 3)
    try:
        arr = _vt_vec3f_copy(probe)
        return [tuple(v) for v in arr] == [tuple(r) for r in probe.tolist()]
    except Exception:  # pragma: no cover - depends on the USD build
        return False


def _vt_vec3f(values: np.ndarray) -> Vt.Vec3fArray:
    values = np.ascontiguousarray(values, dtype=np.float32)
    return _vt_vec3f_copy(values) if _fast_vt_copy_works() else Vt.Vec3fArray.FromNumpy(values)


def _prefetch(items: Iterator[Any]) -> Iterator[Any]:
    """Iterate ``items`` computing the next one in a worker thread while the caller handles this one.

    Warp's launches release the GIL, so skinning chunk n+1 overlaps writing chunk n's time samples.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        sentinel = object()
        future = pool.submit(next, items, sentinel)
        while True:
            item = future.result()
            if item is sentinel:
                return
            future = pool.submit(next, items, sentinel)
            yield item


def bake_file(
    src: str | Path, out: str | Path, device: str | None = "cpu", chunk: int = 128, progress=None
) -> dict[str, Any]:
    """Bake every skinned mesh of ``src`` into time-sampled points in ``out`` (crate); atomic.

    Returns a summary (meshes, frames, points) for the CLI.
    """
    src, out = Path(src), check_usd_path(out)
    if out.suffix.lower() == ".usda":
        raise UsdSynthError(
            "bake output holds large time-sampled points: write a crate file (.usd or .usdc)", out
        )
    stage = open_stage(src)
    targets, frames = collect_bake_targets(stage, src)
    if not targets:
        raise UsdSynthError("no skinned mesh to bake (no SkelRoot with a bound Skeleton and Mesh)", src)
    flat = stage.Flatten(False)
    layer = Sdf.Layer.CreateAnonymous(".usdc")
    layer.TransferContent(flat)
    out_stage = Usd.Stage.Open(layer)
    _strip_skinning(out_stage, targets)
    attrs = []
    for t in targets:
        mesh = UsdGeom.Mesh(out_stage.GetPrimAtPath(t.prim_path))
        attrs.append((mesh.CreatePointsAttr(), mesh.CreateNormalsAttr(), mesh.CreateExtentAttr()))
        mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    chunks = _prefetch(skin_targets(targets, device, chunk))
    if progress is not None:
        chunks = progress(chunks, length=None)
    with Sdf.ChangeBlock():
        for f0, per_target in chunks:
            for (p_attr, n_attr, e_attr), (points, normals, lo, hi) in zip(attrs, per_target, strict=True):
                for i in range(points.shape[0]):
                    # The first frame is also the default value, for readers that ignore time samples.
                    times = [Usd.TimeCode(frames[f0 + i])] + ([Usd.TimeCode.Default()] if f0 + i == 0 else [])
                    extent = Vt.Vec3fArray([Gf.Vec3f(*lo[i].tolist()), Gf.Vec3f(*hi[i].tolist())])
                    p_value = _vt_vec3f(points[i])
                    n_value = _vt_vec3f(normals[i])
                    for time in times:
                        p_attr.Set(p_value, time)
                        n_attr.Set(n_value, time)
                        e_attr.Set(extent, time)
    with atomic_path(out) as tmp:
        layer.Export(str(tmp))
    return {
        "meshes": [str(t.prim_path) for t in targets],
        "frames": len(frames),
        "points": int(sum(t.skin.num_points for t in targets)),
    }


def usd_skinned_points(stage: Usd.Stage, mesh_path: Sdf.Path | str, frame: int) -> np.ndarray:
    """World-space skinned points of one mesh at one frame, computed by UsdSkel itself (for checks)."""
    cache = UsdSkel.Cache()
    prim = stage.GetPrimAtPath(str(mesh_path))
    root = UsdSkel.Root.Find(prim)
    cache.Populate(root, Usd.PrimDefaultPredicate)
    query = cache.GetSkinningQuery(prim)
    skel = UsdSkel.BindingAPI(prim).GetInheritedSkeleton()
    skel_query = cache.GetSkelQuery(skel)
    time = Usd.TimeCode(frame)
    xforms = skel_query.ComputeSkinningTransforms(time)
    points = UsdGeom.Mesh(prim).GetPointsAttr().Get(time)
    query.ComputeSkinnedPoints(xforms, points, time)
    world = np.array(UsdGeom.XformCache(time).GetLocalToWorldTransform(skel.GetPrim()))
    p = np.asarray(points, dtype=np.float64)
    return p @ world[:3, :3] + world[3, :3]
