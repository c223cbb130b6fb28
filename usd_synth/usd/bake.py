"""Baking skinned meshes into time-sampled points (``usd-synth bake``).

:func:`bake_file` evaluates every skinned mesh of a stage on every frame with the Warp LBS kernel
(:mod:`usd_synth.kernels.skinning`) and writes a copy of the stage in which each of them is a plain Mesh
with time-sampled world-space points, normals and extent (``!resetXformStack!`` so that no parent
transform applies twice), and the skeletons are gone. Joint transforms come from UsdSkel itself
(``SkelQuery.ComputeSkinningTransforms``), so any UsdSkel asset bakes, not only usd-synth's.
The output must be a crate file (``.usd``/``.usdc``): baked points are hundreds of megabytes of time
samples, which text layers handle badly and NVIDIA's validator rejects.

Parallelism goes through the project's executors (:mod:`usd_synth.executors`): one thread per
skinner on the CPU (Warp's CPU kernels run on one core and release the GIL), and one prefetch thread so
that skinning the next chunk of frames overlaps writing this one's time samples.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdSkel, Vt

from usd_synth.body.model import vertex_normals
from usd_synth.errors import UsdSynthError
from usd_synth.executors import PoolExecutor, make_executor
from usd_synth.fileio import atomic_path, check_finite
from usd_synth.kernels.device import resolve_device
from usd_synth.kernels.skinning import Skin, WarpSkinner, concat_skins
from usd_synth.usd.authoring import check_usd_path, open_stage
from usd_synth.usd.matrices import np_matrices, rows_to_columns


@dataclass
class BakeTarget:
    """One skinned mesh: its prim, rest skin and (F, J, 4, 4) column-vector matrices to world space."""

    prim_path: Sdf.Path
    skel_path: Sdf.Path
    anim_path: Sdf.Path | None
    skin: Skin
    matrices: np.ndarray


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
                per_frame[i] = np_matrices(skel_query.ComputeSkinningTransforms(time))
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
    return BakeTarget(prim.GetPath(), skel.GetPath(), anim_path, skin, rows_to_columns(rows))


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

    with make_executor(workers, "threads", "usd-synth-skin") as pool:
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
    One worker thread: a :class:`PoolExecutor` of 1, since :func:`make_executor` runs one worker serially.
    """
    with PoolExecutor(1, "threads", "usd-synth-prefetch") as pool:
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
                check_finite(points, "skinned points", src)  # never write NaN or infinity
                check_finite(normals, "skinned normals", src)
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
