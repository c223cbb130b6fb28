"""Acceptance checks on a composed scene, through USD's own APIs (not the composer's Python objects)."""

from __future__ import annotations

import numpy as np
from pxr import Gf, Usd, UsdGeom, UsdPhysics, UsdSkel


def _corners(lo, hi) -> np.ndarray:
    return np.array([[(hi if i & 1 else lo)[0], (hi if i & 2 else lo)[1], (hi if i & 4 else lo)[2]]
                     for i in range(8)], dtype=float)  # fmt: skip


def actor_prims(stage: Usd.Stage) -> list[Usd.Prim]:
    return list(stage.GetPrimAtPath("/World/Actors").GetChildren())


def prop_prims(stage: Usd.Stage) -> list[Usd.Prim]:
    props = stage.GetPrimAtPath("/World/Layout/Props")
    return list(props.GetChildren()) if props else []


def actor_world_bound(prim: Usd.Prim, time: Usd.TimeCode) -> tuple[np.ndarray, np.ndarray]:
    """World-aligned bound of the actor's authored extent at ``time`` (all 8 corners transformed)."""
    lo, hi = (np.array(v, dtype=float) for v in UsdGeom.Boundable(prim).GetExtentAttr().Get(time))
    m = np.array(UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(time))
    pts = _corners(lo, hi) @ m[:3, :3] + m[3, :3]
    return pts.min(axis=0), pts.max(axis=0)


def prop_world_bound(prim: Usd.Prim) -> tuple[np.ndarray, np.ndarray]:
    box = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default", "render"]).ComputeWorldBound(prim)
    r = box.ComputeAlignedRange()
    return np.array(r.GetMin()), np.array(r.GetMax())


def frames(stage: Usd.Stage) -> range:
    return range(int(stage.GetStartTimeCode()), int(stage.GetEndTimeCode()) + 1)


def scene_figures(stage: Usd.Stage, every: int = 1) -> dict:
    """Worst-case figures over all frames: overlaps (m, > 0 is a failure), cameras outside the room or
    inside props (counts), bound corners outside camera frusta (count)."""
    actors = actor_prims(stage)
    props = [prop_world_bound(p) for p in prop_prims(stage)]
    cams = [p for p in stage.GetPrimAtPath("/World/Cameras").GetChildren() if p.IsA(UsdGeom.Camera)]
    room = stage.GetPrimAtPath("/World/Layout/Room")
    meta = dict(stage.GetRootLayer().customLayerData["usdSynth"])
    import json

    manifest = json.loads(meta["manifest"])
    from usd_synth.compose.templates import load_template

    tpl = load_template(manifest["template"])
    out = {"actor_actor_overlap_m": 0.0, "actor_prop_overlap_m": 0.0, "camera_outside_room": 0,
           "camera_in_prop": 0, "corners_outside_frustum": 0, "corners_checked": 0, "frames": 0}  # fmt: skip
    for f in list(frames(stage))[::every]:
        t = Usd.TimeCode(f)
        out["frames"] += 1
        bounds = [actor_world_bound(a, t) for a in actors]
        for i in range(len(bounds)):
            for j in range(i + 1, len(bounds)):
                (alo, ahi), (blo, bhi) = bounds[i], bounds[j]
                ov = np.minimum(ahi[:2], bhi[:2]) - np.maximum(alo[:2], blo[:2])
                out["actor_actor_overlap_m"] = max(out["actor_actor_overlap_m"], float(min(ov.min(), 1e9)) if
                                                   np.all(ov > 0) else 0.0)  # fmt: skip
            for plo, phi in props:
                ov = np.minimum(bounds[i][1], phi) - np.maximum(bounds[i][0], plo)
                if np.all(ov > 0):
                    out["actor_prop_overlap_m"] = max(out["actor_prop_overlap_m"], float(ov.min()))
        for c in cams:
            gcam = UsdGeom.Camera(c).GetCamera(t)
            frustum = gcam.frustum
            pos = np.array(frustum.GetPosition())
            x0, y0, x1, y1 = tpl.interior
            inside = x0 < pos[0] < x1 and y0 < pos[1] < y1 and (not tpl.indoor or 0 < pos[2] < tpl.ceiling)
            out["camera_outside_room"] += int(not inside)
            out["camera_in_prop"] += int(any(np.all((pos > lo) & (pos < hi)) for lo, hi in props))
            for lo, hi in bounds:
                for p in _corners(lo, hi):
                    out["corners_checked"] += 1
                    out["corners_outside_frustum"] += int(not frustum.Intersects(Gf.Vec3d(*p)))
    out["room"] = bool(room)
    return out


def extent_contains_skinned(stage: Usd.Stage, every: int = 1, tol: float = 1e-4) -> float:
    """Largest distance (m) by which a skinned point leaves its actor's authored extent (0 = contained)."""
    from usd_synth.usd.bake import usd_skinned_points

    worst = 0.0
    for a in actor_prims(stage):
        mesh = next(p for p in Usd.PrimRange(a) if p.IsA(UsdGeom.Mesh) and p.HasAPI(UsdSkel.BindingAPI))
        for f in list(frames(stage))[::every]:
            pts = usd_skinned_points(stage, mesh.GetPath(), f)  # world space
            lo, hi = actor_world_bound(a, Usd.TimeCode(f))
            worst = max(worst, float(np.max(np.maximum(lo - pts, 0))), float(np.max(np.maximum(pts - hi, 0))))
    return worst


def labels_and_colliders(stage: Usd.Stage) -> tuple[list[str], list[str]]:
    """Actors without semantic labels and props without a collider (paths)."""
    from pxr import UsdSemantics

    unlabelled = []
    for a in actor_prims(stage):
        if not any(p.HasAPI(UsdSemantics.LabelsAPI) for p in Usd.PrimRange(a)):
            unlabelled.append(str(a.GetPath()))
    no_collider = []
    for p in prop_prims(stage):
        if not any(q.HasAPI(UsdPhysics.CollisionAPI) for q in Usd.PrimRange(p)):
            no_collider.append(str(p.GetPath()))
    return unlabelled, no_collider
