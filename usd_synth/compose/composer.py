"""Composing a randomized scene: sample everything from ``rng_for(seed, "scene", scene_id, ...)``, then
write one folder per scene.

Folder layout (all asset paths relative, so the folder moves and zips)::

    scene.usda            root layer: /World (default prim) with Layout, Looks, Actors, Cameras, Lights;
                          customLayerData["usdSynth"]["manifest"] = the manifest as JSON
    scene.anim.usdc       crate sublayer with the time samples (camera xformOps, actor extents) and the
                          clothing GeomSubsets (large index arrays)
    manifest.json         every sampled value
    layout/<template>.usda, materials/<name>.usda, materials/textures/*.png, actors/actor_<i>.usda
    (+ .anim.usdc), props/<user files>
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade, UsdSkel, Vt

from usd_synth.compose import cameras as cam
from usd_synth.compose.config import SceneConfig, scene_config
from usd_synth.compose.props import PROP_MATERIALS, PropShape, make_prop
from usd_synth.compose.templates import Template, load_template, template_names, template_source
from usd_synth.errors import UsdSynthError
from usd_synth.fileio import atomic_dir
from usd_synth.motion.model import Motion
from usd_synth.randomize import rng_for
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS
from usd_synth.usd.semantics import set_semantic_label

log = logging.getLogger(__name__)

USD_SUFFIXES = (".usd", ".usda", ".usdc")
MANIFEST_VERSION = 1
PLACEMENT_ROUNDS = 8


# ------------------------------------------------------------------------------------------ inputs ----
@dataclass
class ActorInput:
    """An actor source: a motion file (a body is made for it) or a ready actor USD (copied in)."""

    path: Path
    kind: str  #: "motion" or "actor"
    fps: float
    frames: int
    label: str
    motion: Motion | None = None


def _is_actor_file(stage: Usd.Stage) -> bool:
    for prim in stage.Traverse():
        if prim.IsA(UsdGeom.Mesh) and prim.HasAPI(UsdSkel.BindingAPI):
            rel = UsdSkel.BindingAPI(prim).GetSkeletonRel()
            if rel and rel.GetTargets():
                return True
    return False


def load_actor_input(path: str | Path) -> ActorInput:
    """Read an actor source; a missing file or one that is neither a motion nor an actor is an error."""
    from usd_synth.motion.readers import read_motion
    from usd_synth.usd.authoring import open_stage

    path = Path(path)
    if not path.exists():
        raise UsdSynthError("no such actor file", path, field="actors")
    if path.is_file() and path.suffix.lower() in USD_SUFFIXES:
        stage = open_stage(path)
        if _is_actor_file(stage):
            root = stage.GetDefaultPrim()
            if not root or not root.IsA(UsdSkel.Root):
                raise UsdSynthError(
                    "an actor file needs a SkelRoot as its default prim", path, field="actors"
                )
            meta = dict(root.GetCustomDataByKey("usdSynth") or {})
            start, end = stage.GetStartTimeCode(), stage.GetEndTimeCode()
            return ActorInput(path, "actor", stage.GetTimeCodesPerSecond(), int(end - start) + 1,
                              str(meta.get("label", "")) or "unknown")  # fmt: skip
    try:
        motion = read_motion(path)
    except UsdSynthError as exc:  # the reader's fields (format, fps) are not the composer's
        raise UsdSynthError(f"not a motion or actor file: {exc.message}", path, field="actors") from None
    return ActorInput(path, "motion", motion.fps, motion.num_frames, motion.label or "unknown", motion)


def resample(motion: Motion, fps: float) -> Motion:
    """``motion`` at ``fps`` (normalised-lerp rotations, linear translation); unchanged when equal."""
    if abs(motion.fps - fps) < 1e-9:
        return motion
    n = int(np.floor((motion.num_frames - 1) * fps / motion.fps + 1e-9)) + 1
    x = np.arange(n) * motion.fps / fps
    i0 = np.minimum(np.floor(x).astype(int), motion.num_frames - 1)
    i1 = np.minimum(i0 + 1, motion.num_frames - 1)
    f = (x - i0)[:, None]
    q0, q1 = motion.rotations[i0], motion.rotations[i1]
    q1 = np.where(np.sum(q0 * q1, axis=-1, keepdims=True) < 0, -q1, q1)
    q = q0 * (1 - f[..., None]) + q1 * f[..., None]
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    t = motion.translation[i0] * (1 - f) + motion.translation[i1] * f
    src = dict(motion.source, resampled_from_fps=motion.fps)
    return Motion(fps=fps, rotations=q, translation=t, offsets=motion.offsets, label=motion.label, source=src)


def cut(motion: Motion, start: int, frames: int) -> Motion:
    return Motion(fps=motion.fps, rotations=motion.rotations[start : start + frames],
                  translation=motion.translation[start : start + frames], offsets=motion.offsets,
                  label=motion.label, source=dict(motion.source))  # fmt: skip


# ------------------------------------------------------------------------------------------ helpers ----
def _r(x: Any, nd: int = 5) -> Any:
    """JSON-friendly rounded copy of numbers, arrays and containers."""
    if isinstance(x, dict):
        return {str(k): _r(v, nd) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_r(v, nd) for v in x]
    if isinstance(x, np.ndarray):
        return _r(x.tolist(), nd)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = round(float(x), nd)
        return 0.0 if v == 0 else v
    return x


def _yaw_aabb(lo: np.ndarray, hi: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """World xy AABB (F, 2) lo/hi of boxes [lo, hi] (F, 2) turned by ``yaw`` about the origin."""
    c, s = np.cos(yaw), np.sin(yaw)
    ctr = (lo + hi) / 2
    half = (hi - lo) / 2
    cx = c * ctr[:, 0] - s * ctr[:, 1]
    cy = s * ctr[:, 0] + c * ctr[:, 1]
    hx = abs(c) * half[:, 0] + abs(s) * half[:, 1]
    hy = abs(s) * half[:, 0] + abs(c) * half[:, 1]
    return np.stack([cx - hx, cy - hy], -1), np.stack([cx + hx, cy + hy], -1)


def _overlap(alo, ahi, blo, bhi, gap: float = 0.0) -> np.ndarray:
    return np.all((alo < bhi + gap) & (blo < ahi + gap), axis=-1)


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


# ------------------------------------------------------------------------------------------ sampling ----
@dataclass
class PlacedActor:
    name: str
    source: ActorInput
    offset: int
    yaw: float
    xy: np.ndarray
    lo: np.ndarray  #: (F, 3) local bounds per frame
    hi: np.ndarray
    file: str = ""
    body: dict = field(default_factory=dict)
    clothing: dict = field(default_factory=dict)
    skin: str = ""
    extents: list = field(default_factory=list)

    def world_corners(self) -> np.ndarray:
        """(F, 8, 3) corners of the world-aligned bound of the per-frame extent (what renderers and checks
        call the actor's world bound)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        idx = np.array([[i & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)])
        pts = np.where(idx[None] == 1, self.hi[:, None], self.lo[:, None])
        x = c * pts[..., 0] - s * pts[..., 1] + self.xy[0]
        y = s * pts[..., 0] + c * pts[..., 1] + self.xy[1]
        world = np.stack([x, y, pts[..., 2]], -1)
        lo, hi = world.min(axis=1), world.max(axis=1)
        return np.where(idx[None] == 1, hi[:, None], lo[:, None])

    def footprints(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = _yaw_aabb(self.lo[:, :2], self.hi[:, :2], self.yaw)
        return lo + self.xy, hi + self.xy


@dataclass
class PlacedProp:
    name: str
    cls: str
    yaw_deg: int
    xy: np.ndarray
    shape: PropShape | None
    material: str = ""
    user_file: str = ""
    user_bound: tuple[float, ...] = ()

    @property
    def bound(self) -> tuple[float, ...]:
        return self.shape.bound if self.shape is not None else self.user_bound

    def world_box(self) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, z0, x1, y1, z1 = self.bound[:6]
        lo, hi = _yaw_aabb(np.array([[x0, y0]]), np.array([[x1, y1]]), np.radians(self.yaw_deg))
        return (np.array([*(lo[0] + self.xy), z0 - 0.0]), np.array([*(hi[0] + self.xy), z1]))


def _place_actors(actors: list[PlacedActor], tpl: Template, cfg: SceneConfig, seed: int, sid: int) -> None:
    """Turn and place every actor so that each frame's footprint stays inside the walkable region (less the
    margin) and apart from the other actors' footprints at the same frame. Actors are placed one after the
    other; when one finds no place, all are placed afresh (up to ``PLACEMENT_ROUNDS`` rounds)."""
    x0, y0, x1, y1 = tpl.region_rect("walkable")
    m = cfg.actors.wall_margin_m
    x0, y0, x1, y1 = x0 + m, y0 + m, x1 - m, y1 - m
    rng = rng_for(seed, "scene", sid, "place", tpl.name)
    for _ in range(PLACEMENT_ROUNDS):
        placed: list[tuple[np.ndarray, np.ndarray]] = []
        for a in actors:
            for _ in range(cfg.actors.placement_tries):
                yaw = float(rng.uniform(-np.pi, np.pi))
                lo, hi = _yaw_aabb(a.lo[:, :2], a.hi[:, :2], yaw)
                ulo, uhi = lo.min(axis=0), hi.max(axis=0)
                ax0, ax1 = x0 - ulo[0], x1 - uhi[0]
                ay0, ay1 = y0 - ulo[1], y1 - uhi[1]
                if ax0 > ax1 or ay0 > ay1:
                    continue
                xy = np.array([rng.uniform(ax0, ax1), rng.uniform(ay0, ay1)])
                wl, wh = lo + xy, hi + xy
                if any(np.any(_overlap(wl, wh, pl, ph, cfg.actors.separation_m)) for pl, ph in placed):
                    continue
                a.yaw, a.xy = yaw, xy
                placed.append((wl, wh))
                break
            else:
                break
        if len(placed) == len(actors):
            return
    raise UsdSynthError(
        f"actors: {len(actors)} actors do not fit in the walkable area of template {tpl.name}; use fewer "
        "actors, shorter clips or a larger template",
        field="actors",
    )


def _user_props(user_dir: str | None) -> list[Path]:
    if not user_dir:
        return []
    folder = Path(user_dir)
    if not folder.is_dir():
        raise UsdSynthError("no such folder", folder, field="props.user_dir")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in USD_SUFFIXES and p.is_file())


def _user_bound(path: Path) -> tuple[float, ...]:
    from usd_synth.usd.authoring import open_stage

    stage = open_stage(path)
    prim = stage.GetDefaultPrim()
    if not prim:
        raise UsdSynthError("a user prop needs a default prim", path, field="props.user_dir")
    box = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default", "render"]).ComputeWorldBound(prim)
    r = box.ComputeAlignedRange()
    if r.IsEmpty():
        raise UsdSynthError("the user prop has no geometry with extents", path, field="props.user_dir")
    lo, hi = r.GetMin(), r.GetMax()
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
    # the prop is moved so its footprint centre sits on the origin and its bottom on the floor
    return (lo[0] - cx, lo[1] - cy, 0.0, hi[0] - cx, hi[1] - cy, hi[2] - lo[2], cx, cy, lo[2])


def _place_props(actors: list[PlacedActor], tpl: Template, cfg: SceneConfig, seed: int, sid: int):
    rng = rng_for(seed, "scene", sid, "props")
    user = _user_props(cfg.props.user_dir)
    classes = list(tpl.props)
    lo_c, hi_c = int(np.ceil(cfg.props.count.min)), int(np.floor(cfg.props.count.max))
    n = int(rng.integers(lo_c, max(hi_c, lo_c) + 1)) if (classes or user) else 0
    x0, y0, x1, y1 = tpl.region_rect("props")
    g = cfg.props.gap_m
    x0, y0, x1, y1 = x0 + g, y0 + g, x1 - g, y1 - g
    blocked = []
    for a in actors:  # every frame's footprint blocks, not just the trajectory's bounding box
        wl, wh = a.footprints()
        blocked.append((wl, wh, cfg.actors.prop_clearance_m))
    props: list[PlacedProp] = []
    skipped = 0
    for k in range(n):
        prng = rng_for(seed, "scene", sid, "prop", k)
        if user and (not classes or prng.random() < cfg.props.user_probability):
            f = user[int(prng.integers(len(user)))]
            ub = _user_bound(f)
            prop = PlacedProp(f"user_{k}", "prop", 0, np.zeros(2), None, user_file=f.name, user_bound=ub)
            cls = "prop"
        else:
            cls = classes[int(prng.integers(len(classes)))]
            shape = make_prop(cls, prng)
            mats = PROP_MATERIALS[cls]
            prop = PlacedProp(
                f"{cls}_{k}", cls, 0, np.zeros(2), shape, material=mats[int(prng.integers(len(mats)))]
            )
        placed = False
        for _ in range(60):
            yaw = int(prng.integers(4)) * 90
            bx0, by0, _, bx1, by1, _ = prop.bound[:6]
            blo, bhi = _yaw_aabb(np.array([[bx0, by0]]), np.array([[bx1, by1]]), np.radians(yaw))
            ax0, ax1 = x0 - blo[0, 0], x1 - bhi[0, 0]
            ay0, ay1 = y0 - blo[0, 1], y1 - bhi[0, 1]
            if ax0 > ax1 or ay0 > ay1:
                break
            # half the props stand against a wall, as furniture does
            if prng.random() < 0.5 and tpl.indoor:
                side = int(prng.integers(4))
                xy = np.array([prng.uniform(ax0, ax1), prng.uniform(ay0, ay1)])
                xy[side % 2] = (ax0, ay0, ax1, ay1)[side] if side < 2 else (ax0, ay0, ax1, ay1)[side]
            else:
                xy = np.array([prng.uniform(ax0, ax1), prng.uniform(ay0, ay1)])
            wl, wh = blo[0] + xy, bhi[0] + xy
            if any(np.any(_overlap(wl, wh, bl, bh, gap)) for bl, bh, gap in blocked):
                continue
            prop.yaw_deg, prop.xy = yaw, xy
            blocked.append((wl[None], wh[None], g))
            props.append(prop)
            placed = True
            break
        if not placed:
            skipped += 1
    return props, skipped


#: Extra reach (m) each actor's extent guide adds to UsdSkel's extent padding (see add_extent_guide).
GUIDE_PAD = 0.03
_BOX_FACES = [0, 2, 3, 1, 4, 5, 7, 6, 0, 1, 5, 4, 2, 6, 7, 3, 0, 4, 6, 2, 1, 3, 7, 5]
_BOX_NORMALS = [(0, 0, -1), (0, 0, 1), (0, -1, 0), (0, 1, 0), (-1, 0, 0), (1, 0, 0)]


def add_extent_guide(stage: Usd.Stage, actor: Usd.Prim, pad: float = GUIDE_PAD) -> None:
    """Add ``<actor>/ExtentGuide``: a guide-purpose box, rigidly skinned to the root joint, ``pad`` larger
    than the skinned meshes' rest extent.

    UsdSkel computes a SkelRoot's extent as the posed joints' bound padded by how far the skinned prims'
    rest extents reach beyond the rest joints (``SkinningQuery.ComputeExtentsPadding``). That padding is an
    approximation: a posed mesh can leave it by a few millimetres. The guide widens the padding by ``pad``,
    so the extent USD computes (the only value the validators accept authored) contains the posed mesh.
    Renderers skip guide-purpose prims.
    """
    meshes = [p for p in Usd.PrimRange(actor) if p.IsA(UsdGeom.Mesh) and p.HasAPI(UsdSkel.BindingAPI)]
    ext = np.array([UsdGeom.Mesh(p).GetExtentAttr().Get() for p in meshes], dtype=float)
    lo, hi = ext[:, 0].min(axis=0) - pad, ext[:, 1].max(axis=0) + pad
    skel = UsdSkel.BindingAPI(meshes[0]).GetInheritedSkeleton()
    guide = UsdGeom.Mesh.Define(stage, actor.GetPath().AppendChild("ExtentGuide"))
    corners = [Gf.Vec3f(*[float((hi if i & (1 << a) else lo)[a]) for a in range(3)]) for i in range(8)]
    guide.CreatePointsAttr(Vt.Vec3fArray(corners))
    guide.CreateFaceVertexCountsAttr(Vt.IntArray([4] * 6))
    guide.CreateFaceVertexIndicesAttr(Vt.IntArray(_BOX_FACES))
    guide.CreateNormalsAttr(Vt.Vec3fArray([Gf.Vec3f(*n) for n in _BOX_NORMALS for _ in range(4)]))
    guide.SetNormalsInterpolation(UsdGeom.Tokens.faceVarying)
    guide.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    guide.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*lo.tolist()), Gf.Vec3f(*hi.tolist())]))
    guide.CreatePurposeAttr(UsdGeom.Tokens.guide)
    binding = UsdSkel.BindingAPI.Apply(guide.GetPrim())
    binding.CreateSkeletonRel().SetTargets([skel.GetPath()])
    binding.CreateJointIndicesPrimvar(True, 1).Set(Vt.IntArray([0]))
    binding.CreateJointWeightsPrimvar(True, 1).Set(Vt.FloatArray([1.0]))
    binding.CreateGeomBindTransformAttr(Gf.Matrix4d(1.0))


def _actor_bounds(actor_files: list[tuple[Path, Sdf.LayerOffset]], fps: float, frames: int):
    """Per-frame (F, 3) lo/hi extents of each actor in its own frame, as UsdSkel computes a SkelRoot's
    extent (the joints' bounds padded by the skin's reach): exactly what USD's and NVIDIA's validators
    expect authored on the SkelRoot, and a bound that contains the skinned mesh at every frame."""
    stage = Usd.Stage.CreateInMemory()
    stage.SetTimeCodesPerSecond(fps)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(frames - 1)
    lo = np.empty((len(actor_files), frames, 3))
    hi = np.empty((len(actor_files), frames, 3))
    extents = []
    for i, (path, offset) in enumerate(actor_files):
        prim = stage.DefinePrim(f"/A{i}")
        prim.GetReferences().AddReference(Sdf.Reference(str(path), layerOffset=offset))
        if not prim.IsA(UsdSkel.Root):
            raise UsdSynthError("the actor's default prim is not a SkelRoot", path, field="actors")
        add_extent_guide(stage, prim)
        boundable = UsdGeom.Boundable(prim)
        values = [boundable.ComputeExtentFromPlugins(boundable, Usd.TimeCode(f)) for f in range(frames)]
        if any(v is None or len(v) != 2 for v in values):
            raise UsdSynthError("UsdSkel cannot compute the actor's extent (no skinned mesh?)", path,
                                field="actors")  # fmt: skip
        arr = np.array([[tuple(v[0]), tuple(v[1])] for v in values], dtype=np.float64)
        lo[i], hi[i] = arr[:, 0], arr[:, 1]
        extents.append(values)
    return lo, hi, extents


CLOTH_TOP = ("spine1", "spine2", "spine3", "left_collar", "right_collar", "left_shoulder", "right_shoulder")
CLOTH_SLEEVES = ("left_elbow", "right_elbow")
CLOTH_BOTTOMS = ("pelvis", "left_hip", "right_hip")
CLOTH_LEGS = ("left_knee", "right_knee")
CLOTH_SHOES = ("left_ankle", "right_ankle", "left_foot", "right_foot")


def clothing_faces(faces: np.ndarray, joint_indices: np.ndarray, joint_weights: np.ndarray,
                   long_sleeves: bool, shorts: bool) -> dict[str, np.ndarray]:  # fmt: skip
    """Face indices of the top, bottoms and shoes: each face goes to the joint with the most skin weight
    over its vertices (SMPL-24 joint order)."""
    nv = joint_indices.shape[0]
    dense = np.zeros((nv, NUM_JOINTS))
    np.add.at(dense, (np.repeat(np.arange(nv), joint_indices.shape[1]), joint_indices.reshape(-1)),
              joint_weights.reshape(-1))  # fmt: skip
    dom = np.argmax(dense[faces].sum(axis=1), axis=1)
    sets = {
        "Top": CLOTH_TOP + (CLOTH_SLEEVES if long_sleeves else ()),
        "Bottoms": CLOTH_BOTTOMS + (() if shorts else CLOTH_LEGS),
        "Shoes": CLOTH_SHOES,
    }
    return {
        k: np.flatnonzero(np.isin(dom, [JOINT_INDEX[j] for j in v])).astype(np.int32) for k, v in sets.items()
    }


def _materials_by(category: str) -> list[str]:
    from usd_synth.compose.library_gen import MATERIALS

    return sorted(n for n, spec in MATERIALS.items() if category in spec[0])


# ------------------------------------------------------------------------------------------ compose ----
def compose_scene(
    actors: list[str | Path],
    out: str | Path,
    seed: int,
    template: str | None = None,
    config: dict | SceneConfig | None = None,
    scene_id: int = 0,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Compose one randomized scene from ``actors`` (motion or actor files) into the folder ``out``;
    returns the manifest. Nothing is written when an input is bad."""
    cfg = scene_config(config)
    out = Path(out)
    if not actors:
        raise UsdSynthError("at least one actor is needed", field="actors")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise UsdSynthError("the output folder exists and is not empty; pass overwrite to replace it", out,
                            field="out", mentions=("overwrite",))  # fmt: skip
    known = template_names()
    for name in [template] if template else list(cfg.templates or []):
        if name not in known:
            fld = "template" if template else "templates"
            raise UsdSynthError(f"{fld} {name!r} is unknown (known: {', '.join(known)})", field=fld)
    _user_props(cfg.props.user_dir)
    inputs = [load_actor_input(p) for p in actors]
    sid = int(scene_id)
    fps = float(cfg.clip.fps)
    # -- template: stratified over seeds, like body shapes: consecutive (seed + scene id) walk one fixed,
    # shuffled cycle of the templates, so any run of n seeds or scenes meets every one of n templates instead
    # of leaving coverage to chance. When the actors do not fit it, the others follow in a drawn order (a
    # template the caller names is the only one tried).
    choices = [template] if template else list(cfg.templates or known)
    cycle = rng_for(0, "scene", "template-cycle", *choices).permutation(len(choices))
    first = int(cycle[(int(seed) + sid) % len(choices)])
    drawn = rng_for(seed, "scene", sid, "template").permutation(len(choices))
    order = [choices[i] for i in [first, *(int(i) for i in drawn if i != first)]]
    # -- clip
    lengths = [int(np.floor((a.frames - 1) * fps / a.fps + 1e-9)) + 1 for a in inputs]
    shortest = min(lengths)
    if cfg.clip.frames is not None:
        if cfg.clip.frames > shortest:
            raise UsdSynthError(f"clip.frames {cfg.clip.frames} is longer than the shortest actor "
                                f"({shortest} frames at {fps:g} fps)", field="clip.frames")  # fmt: skip
        frames = cfg.clip.frames
    else:
        frames = min(shortest, cfg.clip.max_frames)
    with atomic_dir(out) as tmp:
        manifest = _compose_into(tmp, inputs, lengths, frames, fps, order, cfg, seed, sid)
    return manifest


def _compose_into(tmp: Path, inputs, lengths, frames, fps, order: list[str], cfg: SceneConfig, seed, sid):
    from usd_synth.body import make_body
    from usd_synth.body.actor import make_actor
    from usd_synth.usd.body_io import read_body, write_actor

    (tmp / "actors").mkdir()
    placed: list[PlacedActor] = []
    files: list[tuple[Path, Sdf.LayerOffset]] = []
    bodies = []
    for i, src in enumerate(inputs):
        rng = rng_for(seed, "scene", sid, "actor", i)
        offset = int(rng.integers(0, lengths[i] - frames + 1))
        name = f"actor_{i}"
        pa = PlacedActor(name, src, offset, 0.0, np.zeros(2), np.zeros((frames, 3)), np.zeros((frames, 3)))
        if src.kind == "motion":
            motion = cut(resample(src.motion, fps), offset, frames)
            body = make_body("anny", rng_for(seed, "scene", sid, "actor", i, "body"))
            path = write_actor(make_actor(motion, body), tmp / "actors" / f"{name}.usda")
            pa.body = dict(body.params)
            files.append((path, Sdf.LayerOffset()))
        else:
            dst = tmp / "actors" / name
            _copy_with_dependencies(src.path, dst)
            path = dst / src.path.name
            body = read_body(path)
            files.append((path, Sdf.LayerOffset(-offset, 1.0)))
        pa.file = str(path.relative_to(tmp))
        bodies.append(body)
        placed.append(pa)
    lo, hi, extents = _actor_bounds(files, fps, frames)
    for i, pa in enumerate(placed):
        pa.lo, pa.hi, pa.extents = lo[i], hi[i], extents[i]
    for n_tried, name in enumerate(order):
        tpl = load_template(name)
        try:
            _place_actors(placed, tpl, cfg, seed, sid)
            break
        except UsdSynthError:
            if n_tried == len(order) - 1:
                raise
    props, skipped = _place_props(placed, tpl, cfg, seed, sid)
    # -- materials
    mrng = rng_for(seed, "scene", sid, "materials")
    surf: dict[str, str] = {}
    floor = tpl.floor_materials[int(mrng.integers(len(tpl.floor_materials)))]
    wall = tpl.wall_materials[int(mrng.integers(len(tpl.wall_materials)))] if tpl.wall_materials else ""
    for s in tpl.surfaces:
        surf[s] = floor if s == "Floor" else "wall_plaster_white" if s == "Ceiling" else wall
    tops, bottoms, shoes, skins = (_materials_by(c) for c in ("top", "bottoms", "shoes", "skin"))
    for i, pa in enumerate(placed):
        arng = rng_for(seed, "scene", sid, "actor", i, "appearance")
        pa.skin = skins[int(arng.integers(len(skins)))]
        long_sleeves = bool(arng.random() < cfg.actors.long_sleeves_probability)
        shorts = bool(arng.random() < cfg.actors.shorts_probability)
        pa.clothing = {
            "long_sleeves": long_sleeves,
            "shorts": shorts,
            "Top": tops[int(arng.integers(len(tops)))],
            "Bottoms": bottoms[int(arng.integers(len(bottoms)))],
            "Shoes": shoes[int(arng.integers(len(shoes)))],
        } if cfg.actors.clothing else {}  # fmt: skip
    lights = _sample_lights(tpl, cfg, seed, sid)
    cams = _sample_cameras(placed, props, tpl, cfg, seed, sid, frames)
    used = sorted(
        {*surf.values(), *(p.material for p in props if p.material), *(pa.skin for pa in placed)}
        | {pa.clothing[k] for pa in placed if pa.clothing for k in ("Top", "Bottoms", "Shoes")}
    )
    manifest = {
        "version": MANIFEST_VERSION,
        "seed": int(seed),
        "scene_id": sid,
        "template": tpl.name,
        "fps": fps,
        "frames": frames,
        "config": cfg.model_dump(mode="json"),
        "surfaces": surf,
        "actors": [
            {
                "name": pa.name,
                "source": pa.source.path.name,
                "kind": pa.source.kind,
                "label": pa.source.label,
                "source_fps": pa.source.fps,
                "offset_frames": pa.offset,
                "file": pa.file,
                "body": pa.body,
                "yaw_deg": float(np.degrees(pa.yaw)),
                "translation": pa.xy,
                "skin": pa.skin,
                "clothing": pa.clothing,
            }  # fmt: skip
            for pa in placed
        ],
        "props": [
            {
                "name": p.name,
                "class": p.cls,
                "yaw_deg": p.yaw_deg,
                "translation": p.xy,
                "material": p.material,
                "boxes": p.shape.boxes if p.shape else None,
                "user_file": p.user_file or None,
            }  # fmt: skip
            for p in props
        ],
        "props_skipped": skipped,
        "lights": lights,
        "cameras": [
            {
                "name": c.name,
                "view": c.view,
                "trajectory": c.trajectory,
                "focal_length_mm": c.focal_mm,
                "horizontal_aperture_mm": c.horizontal_aperture_mm,
                "vertical_aperture_mm": c.vertical_aperture_mm,
                **c.params,
            }  # fmt: skip
            for c in cams
        ],
        "materials": used,
    }
    manifest = _r(manifest)
    _write_scene(tmp, manifest, tpl, placed, bodies, props, cams, lights, surf, used, fps, frames, cfg)
    return manifest


def _copy_with_dependencies(src: Path, dst_dir: Path) -> None:
    """Copy a USD file and the files it depends on that live beside or below it."""
    from pxr import UsdUtils

    dst_dir.mkdir(parents=True, exist_ok=True)
    layers, assets, _ = UsdUtils.ComputeAllDependencies(str(src))
    base = src.parent.resolve()
    for item in [*(lay.realPath for lay in layers), *assets]:
        p = Path(item).resolve()
        try:
            rel = p.relative_to(base)
        except ValueError:
            continue
        (dst_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst_dir / rel)


def _sample_lights(tpl: Template, cfg: SceneConfig, seed: int, sid: int) -> list[dict]:
    """A dome light always; outdoors a distant sun, indoors a grid of rect or sphere lights at the ceiling."""
    rng = rng_for(seed, "scene", sid, "lights")
    lc = cfg.lights
    temp = float(rng.uniform(lc.color_temperature.min, lc.color_temperature.max))
    dome = float(rng.uniform(lc.dome_intensity.min, lc.dome_intensity.max)) * (0.3 if tpl.indoor else 1.0)
    lights = [{"name": "Dome", "type": "dome", "intensity": dome, "color_temperature": temp}]
    if not tpl.indoor:
        sun = float(rng.uniform(lc.sun_intensity.min, lc.sun_intensity.max))
        t0, t1 = max(lc.color_temperature.min, 4500), max(lc.color_temperature.max, 4500)
        lights.append(
            {
                "name": "Sun",
                "type": "distant",
                "intensity": sun,
                "color_temperature": float(rng.uniform(t0, t1)),
                "elevation_deg": float(rng.uniform(lc.sun_elevation_deg.min, lc.sun_elevation_deg.max)),
                "azimuth_deg": float(rng.uniform(-180, 180)),
            }
        )
    elif lc.ceiling_lights:
        x0, y0, x1, y1 = tpl.interior
        nx, ny = max(1, round((x1 - x0) / 3)), max(1, round((y1 - y0) / 3))
        kind = lc.ceiling_kind if lc.ceiling_kind != "any" else ("rect", "sphere")[int(rng.integers(2))]
        inten = float(rng.uniform(lc.ceiling_intensity.min, lc.ceiling_intensity.max)) / (nx * ny) ** 0.5
        z = tpl.ceiling - (0.02 if kind == "rect" else 0.3)
        for i in range(nx):
            for j in range(ny):
                x = x0 + (i + 0.5) * (x1 - x0) / nx
                y = y0 + (j + 0.5) * (y1 - y0) / ny
                lights.append(
                    {
                        "name": f"Ceiling_{i}_{j}",
                        "type": kind,
                        "intensity": inten,
                        "color_temperature": temp,
                        "position": [x, y, z],
                    }
                )
    return lights


def _occluded(eye: np.ndarray, centres: np.ndarray, boxes: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """True when a prop box cuts the line of sight from ``eye`` (F, 3) to an actor centre (F, A, 3) at
    some frame (every 5th frame is tested)."""
    if not boxes:
        return False
    e = eye[::5, None]
    d = centres[::5] - e  # (f, A, 3)
    inv = 1.0 / np.where(np.abs(d) < 1e-12, 1e-12, d)
    for lo, hi in boxes:
        t0, t1 = (lo - e) * inv, (hi - e) * inv
        near = np.minimum(t0, t1).max(axis=-1)
        far = np.maximum(t0, t1).min(axis=-1)
        if np.any((near <= far) & (far > 0) & (near < 1)):
            return True
    return False


def _camera_box(tpl: Template) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = tpl.region_rect("cameras")
    h0, h1 = tpl.camera_heights
    return np.array([x0, y0, h0]), np.array([x1, y1, h1])


def _sample_cameras(actors: list[PlacedActor], props: list[PlacedProp], tpl: Template, cfg: SceneConfig,
                    seed: int, sid: int, frames: int) -> list[cam.CameraPath]:  # fmt: skip
    cc = cfg.cameras
    corners = np.concatenate([a.world_corners() for a in actors], axis=1)  # (F, 8A, 3)
    centres = corners.reshape(frames, len(actors), 8, 3).mean(axis=2)
    target0 = (corners.reshape(-1, 3).min(axis=0) + corners.reshape(-1, 3).max(axis=0)) / 2
    facing = actors[0].yaw - np.pi / 2  # rest pose faces -Y
    box_lo, box_hi = _camera_box(tpl)
    prop_boxes = [p.world_box() for p in props]
    mounts = [(n, np.array(pos)) for n, (kind, pos) in sorted(tpl.mounts.items())
              if kind in ("ceiling_corner", "pole")]  # fmt: skip
    h_ap = cc.horizontal_aperture_mm
    v_ap = h_ap / cc.aspect
    s = np.linspace(0, 1, frames)[:, None]
    out: list[cam.CameraPath] = []
    spots = None
    for k in range(cc.count):
        rng = rng_for(seed, "scene", sid, "camera", k)
        for _ in range(cc.tries):
            view = cc.views[int(rng.integers(len(cc.views)))]
            traj = cc.trajectories[int(rng.integers(len(cc.trajectories)))]
            focal = float(rng.uniform(cc.focal_length_mm.min, cc.focal_length_mm.max))
            params: dict[str, Any] = {}
            target = np.repeat(target0[None], frames, axis=0)
            if view == "ceiling-corner":
                if not mounts:
                    continue
                mname, mpos = mounts[int(rng.integers(len(mounts)))]
                traj = "handheld" if traj == "handheld" else "static"
                eye = np.repeat(mpos[None], frames, axis=0)
                params.update(mount=mname)
            else:
                az = facing + np.radians(cam.VIEW_AZIMUTH[view] + rng.uniform(-15, 15))
                if view.startswith("upper"):
                    el = np.radians(rng.uniform(35, 60))
                else:
                    el = np.radians(rng.uniform(cc.elevation_deg.min, cc.elevation_deg.max))
                d = float(rng.uniform(cc.distance_m.min, cc.distance_m.max))
                azs, ds = np.full(frames, az), np.full(frames, d)
                if traj == "orbit":
                    sweep = np.radians(rng.uniform(cc.orbit_deg.min, cc.orbit_deg.max)) * rng.choice([-1, 1])
                    azs = az + sweep * (s[:, 0] - 0.5)
                    params.update(orbit_deg=float(np.degrees(sweep)))
                elif traj == "dolly":
                    frac = float(rng.uniform(cc.dolly_fraction.min, cc.dolly_fraction.max)) * rng.choice(
                        [-1, 1]
                    )
                    ds = d * (1 + frac * (0.5 - s[:, 0]))
                    params.update(dolly_fraction=frac)
                params.update(
                    azimuth_deg=float(np.degrees(az)), elevation_deg=float(np.degrees(el)), distance_m=d
                )
                dirs = np.stack(
                    [np.cos(el) * np.cos(azs), np.cos(el) * np.sin(azs), np.full(frames, np.sin(el))], -1
                )
                # pull the camera in until its whole path is inside the camera region
                scale = 1.0
                for _ in range(12):
                    eye = target + dirs * (ds * scale)[:, None]
                    if np.all((eye >= box_lo) & (eye <= box_hi)):
                        break
                    scale *= 0.85
                params["distance_scale"] = scale
            if traj == "handheld":
                amp = float(rng.uniform(cc.shake_m.min, cc.shake_m.max))
                eye = eye + amp * cam.smooth_noise(rng, frames, 3, max(3, frames // 6))
                target = target + amp * cam.smooth_noise(rng, frames, 3, max(3, frames // 6))
                params.update(shake_m=amp)
            if not np.all((eye >= box_lo) & (eye <= box_hi)):
                continue
            if any(np.any(np.all((eye > lo - 0.15) & (eye < hi + 0.15), axis=-1)) for lo, hi in prop_boxes):
                continue
            if _occluded(eye, centres, prop_boxes):
                continue
            rot = cam.look_rotation(eye, target)
            fmax = cam.max_focal(eye, rot, corners, h_ap, v_ap, cc.margin)
            if fmax < max(cam.MIN_FOCAL, 0.5 * cc.focal_length_mm.min):
                continue
            params.update(focal_drawn_mm=focal)
            focal = min(focal, fmax * 0.999)
            name = f"cam_{k}_{view.replace('-', '_')}_{traj}"
            params.update(target=target0)
            out.append(cam.CameraPath(name, view, traj, eye, cam.quats(rot), focal, h_ap, v_ap, params))
            break
        else:
            # fallback: the static spot (a mount, or a point of a grid over the camera region) that sees
            # the actors with the longest focal length
            if spots is None:
                args = (target0, corners, box_lo, box_hi, prop_boxes, tpl, h_ap, v_ap, cc.margin, frames)
                spots = _static_spots(*args)
                clear = [c for c in spots if not _occluded(c[0], centres, prop_boxes)]
                spots = clear or spots
            if not spots:
                raise UsdSynthError(
                    f"cameras: could not place camera {k} in template {tpl.name} so that it sees every "
                    "actor; widen cameras.focal_length_mm or cameras.distance_m",
                    field="cameras",
                )
            eye, rot, fmax = spots.pop(int(rng.integers(min(4, len(spots)))))
            focal = min(float(rng.uniform(cc.focal_length_mm.min, cc.focal_length_mm.max)), fmax * 0.999)
            params = {"target": target0, "position": eye[0]}
            path = cam.CameraPath(
                f"cam_{k}_fallback_static",
                "fallback",
                "static",
                eye,
                cam.quats(rot),
                focal,
                h_ap,
                v_ap,
                params,
            )
            out.append(path)
    return out


def _static_spots(target, corners, box_lo, box_hi, prop_boxes, tpl, h_ap, v_ap, margin, frames):
    """Static camera spots (the template's mounts and a grid over the camera region, outside props) that
    see every actor, with the longest focal length each allows; best first."""
    spots = [np.array(pos) for _, (_, pos) in sorted(tpl.mounts.items())]
    for fx in np.linspace(0, 1, 7):
        for fy in np.linspace(0, 1, 7):
            for fz in (1.0, 0.5):
                spots.append(box_lo + (box_hi - box_lo) * np.array([fx, fy, fz]))
    found = []
    for p in spots:
        if np.any(p < box_lo - 1e-9) or np.any(p > box_hi + 1e-9):
            continue
        if any(np.all((p > lo - 0.15) & (p < hi + 0.15)) for lo, hi in prop_boxes):
            continue
        eye = np.repeat(p[None], frames, axis=0)
        rot = cam.look_rotation(eye, np.repeat(target[None], frames, axis=0))
        fmax = cam.max_focal(eye, rot, corners, h_ap, v_ap, margin)
        if fmax >= cam.MIN_FOCAL:
            found.append((eye, rot, fmax))
    found.sort(key=lambda c: -c[2])
    return found


# ------------------------------------------------------------------------------------------ writing ----
def _write_scene(tmp: Path, manifest, tpl, placed, bodies, props, cams, lights, surf, used, fps, frames, cfg):
    from usd_synth.compose.library_gen import box_mesh
    from usd_synth.usd.materials import material_layer, material_spec_path

    # package data copied in: template and materials (+ textures)
    (tmp / "layout").mkdir()
    (tmp / "layout" / f"{tpl.name}.usda").write_bytes(template_source(tpl.name).read_bytes())
    (tmp / "materials" / "textures").mkdir(parents=True)
    from importlib import resources

    lib = resources.files("usd_synth.materials")
    mat_paths = {}
    for name in used:
        (tmp / "materials" / f"{name}.usda").write_bytes(lib.joinpath(f"{name}.usda").read_bytes())
        tex = lib.joinpath("textures", f"{name}.png")
        if tex.is_file():
            (tmp / "materials" / "textures" / f"{name}.png").write_bytes(tex.read_bytes())
        mat_paths[name] = material_spec_path(material_layer(name))
    if not any((tmp / "materials" / "textures").iterdir()):
        (tmp / "materials" / "textures").rmdir()

    root = Sdf.Layer.CreateNew(str(tmp / "scene.usda"))
    anim = Sdf.Layer.CreateNew(str(tmp / "scene.anim.usdc"))
    for layer in (root, anim):
        layer.timeCodesPerSecond = fps
        layer.framesPerSecond = fps
        layer.startTimeCode = 0
        layer.endTimeCode = frames - 1
    root.subLayerPaths.append("./scene.anim.usdc")
    stage = Usd.Stage.Open(root)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    anim.pseudoRoot.SetInfo("upAxis", "Z")
    anim.pseudoRoot.SetInfo("metersPerUnit", 1.0)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    Usd.ModelAPI(world.GetPrim()).SetKind("assembly")
    root.documentation = (
        f"usd-synth scene: template {tpl.name}, seed {manifest['seed']}, scene {manifest['scene_id']}"
    )
    root.customLayerData = {"usdSynth": {"manifest": json.dumps(manifest, sort_keys=True)}}
    physics = UsdPhysics.Scene.Define(stage, "/World/PhysicsScene")
    physics.CreateGravityDirectionAttr(Gf.Vec3f(0, 0, -1))
    physics.CreateGravityMagnitudeAttr(9.81)

    looks = UsdGeom.Scope.Define(stage, "/World/Looks")
    mats = {}
    for name in used:
        prim = stage.DefinePrim(looks.GetPath().AppendChild(_camel(name)), "Material")
        prim.GetReferences().AddReference(f"./materials/{name}.usda", mat_paths[name])
        mats[name] = UsdShade.Material(prim)

    layout = UsdGeom.Xform.Define(stage, "/World/Layout")
    Usd.ModelAPI(layout.GetPrim()).SetKind("group")
    room = stage.DefinePrim("/World/Layout/Room")
    room.GetReferences().AddReference(f"./layout/{tpl.name}.usda")
    for s, m in surf.items():
        p = stage.OverridePrim(room.GetPath().AppendChild(s))
        UsdShade.MaterialBindingAPI.Apply(p).Bind(mats[m])
    props_xf = UsdGeom.Xform.Define(stage, "/World/Layout/Props")
    Usd.ModelAPI(props_xf.GetPrim()).SetKind("group")
    for p in props:
        xf = UsdGeom.Xform.Define(stage, props_xf.GetPath().AppendChild(p.name))
        prim = xf.GetPrim()
        Usd.ModelAPI(prim).SetKind("component")
        set_semantic_label(prim, p.cls)
        if p.shape is not None:
            xf.AddTranslateOp().Set(Gf.Vec3d(float(p.xy[0]), float(p.xy[1]), 0.0))
            xf.AddRotateZOp().Set(float(p.yaw_deg))
            for b, (lo, hi) in enumerate(p.shape.boxes):
                mesh = box_mesh(stage, str(xf.GetPath().AppendChild(f"Part{b}")), lo, hi)
                UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(mats[p.material])
        else:
            dst = tmp / "props" / Path(p.user_file).stem
            src = Path(cfg.props.user_dir) / p.user_file
            _copy_with_dependencies(src, dst)
            ub = p.user_bound
            xf.AddTranslateOp().Set(Gf.Vec3d(float(p.xy[0]), float(p.xy[1]), 0.0))
            xf.AddRotateZOp().Set(float(p.yaw_deg))
            inner = UsdGeom.Xform.Define(stage, xf.GetPath().AppendChild("Asset"))
            inner.AddTranslateOp().Set(Gf.Vec3d(-ub[6], -ub[7], -ub[8]))
            inner.GetPrim().GetReferences().AddReference(f"./props/{dst.name}/{p.user_file}")
            for q in Usd.PrimRange(inner.GetPrim()):
                if q.IsA(UsdGeom.Gprim):
                    UsdPhysics.CollisionAPI.Apply(q)

    actors_xf = UsdGeom.Xform.Define(stage, "/World/Actors")
    Usd.ModelAPI(actors_xf.GetPrim()).SetKind("group")
    for pa, body in zip(placed, bodies, strict=True):
        prim = stage.DefinePrim(actors_xf.GetPath().AppendChild(pa.name))
        off = Sdf.LayerOffset() if pa.source.kind == "motion" else Sdf.LayerOffset(-pa.offset, 1.0)
        prim.GetReferences().AddReference(Sdf.Reference(f"./{pa.file}", layerOffset=off))
        xf = UsdGeom.Xformable(prim)
        xf.ClearXformOpOrder()
        xf.AddTranslateOp().Set(Gf.Vec3d(float(pa.xy[0]), float(pa.xy[1]), 0.0))
        xf.AddRotateZOp().Set(float(np.degrees(pa.yaw)))
        set_semantic_label(prim, "person")
        set_semantic_label(prim, pa.source.label, "action")
        add_extent_guide(stage, prim)
        mesh_prim = next(
            q for q in Usd.PrimRange(prim) if q.IsA(UsdGeom.Mesh) and q.HasAPI(UsdSkel.BindingAPI)
        )
        UsdShade.MaterialBindingAPI.Apply(mesh_prim).Bind(mats[pa.skin])
        stage.SetEditTarget(Usd.EditTarget(anim))
        ext = UsdGeom.Boundable(prim).CreateExtentAttr()
        for f in range(frames):
            ext.Set(pa.extents[f], Usd.TimeCode(f))
        if pa.clothing:
            parts = clothing_faces(body.faces, body.joint_indices, body.joint_weights,
                                   pa.clothing["long_sleeves"], pa.clothing["shorts"])  # fmt: skip
            mesh = UsdGeom.Mesh(mesh_prim)
            subsets = {}
            for part, idx in parts.items():
                subsets[part] = UsdGeom.Subset.CreateGeomSubset(
                    mesh, part, UsdGeom.Tokens.face, Vt.IntArray.FromNumpy(idx), "materialBind",
                    UsdGeom.Tokens.nonOverlapping)  # fmt: skip
            UsdGeom.Subset.SetFamilyType(mesh, "materialBind", UsdGeom.Tokens.nonOverlapping)
        stage.SetEditTarget(Usd.EditTarget(root))
        if pa.clothing:
            for part, subset in subsets.items():
                UsdShade.MaterialBindingAPI.Apply(subset.GetPrim()).Bind(mats[pa.clothing[part]])

    cams_xf = UsdGeom.Xform.Define(stage, "/World/Cameras")
    for c in cams:
        camera = UsdGeom.Camera.Define(stage, cams_xf.GetPath().AppendChild(c.name))
        camera.CreateFocalLengthAttr(float(c.focal_mm))
        camera.CreateHorizontalApertureAttr(float(c.horizontal_aperture_mm))
        camera.CreateVerticalApertureAttr(float(c.vertical_aperture_mm))
        camera.CreateClippingRangeAttr(Gf.Vec2f(cam.NEAR, cam.FAR))
        camera.CreateProjectionAttr(UsdGeom.Tokens.perspective)
        camera.GetPrim().SetCustomDataByKey("usdSynth", {"view": c.view, "trajectory": c.trajectory})
        t_op = camera.AddTranslateOp()
        o_op = camera.AddOrientOp()
        stage.SetEditTarget(Usd.EditTarget(anim))
        for f in range(frames):
            t_op.Set(Gf.Vec3d(*c.positions[f].tolist()), Usd.TimeCode(f))
            x, y, z, w = c.orientations[f].tolist()
            o_op.Set(Gf.Quatf(w, x, y, z), Usd.TimeCode(f))
        stage.SetEditTarget(Usd.EditTarget(root))

    lights_xf = UsdGeom.Xform.Define(stage, "/World/Lights")
    for li in lights:
        path = lights_xf.GetPath().AppendChild(li["name"])
        if li["type"] == "dome":
            light = UsdLux.DomeLight.Define(stage, path)
        elif li["type"] == "distant":
            light = UsdLux.DistantLight.Define(stage, path)
            light.CreateAngleAttr(0.53)
            light.AddRotateXYZOp().Set(Gf.Vec3f(90.0 - li["elevation_deg"], 0.0, li["azimuth_deg"]))
        elif li["type"] == "rect":
            light = UsdLux.RectLight.Define(stage, path)
            light.CreateWidthAttr(0.6)
            light.CreateHeightAttr(0.6)
            light.AddTranslateOp().Set(Gf.Vec3d(*li["position"]))
        else:
            light = UsdLux.SphereLight.Define(stage, path)
            light.CreateRadiusAttr(0.1)
            light.AddTranslateOp().Set(Gf.Vec3d(*li["position"]))
        light.CreateIntensityAttr(float(li["intensity"]))
        light.CreateEnableColorTemperatureAttr(True)
        light.CreateColorTemperatureAttr(float(li["color_temperature"]))
    root.Save()
    anim.Save()
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
