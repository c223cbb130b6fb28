"""The stage -> backend-neutral description every backend renders from.

:func:`read_scene` opens a USD file and turns it into plain numpy data: triangle parts (world space for
static geometry; rest data plus a gather table for skinned actors), their UsdPreviewSurface parameters,
lights, cameras and the instance / semantic ids. It reads the stage only, never the composer's objects.

- Meshes (polygons fanned into triangles; ``vertex``, ``faceVarying`` and indexed primvars), Cubes and
  Spheres. Guide and proxy prims and invisible ones are skipped.
- Skinned meshes (under a ``SkelRoot``) are posed per frame with the project's Warp LBS kernel from
  UsdSkel's own joint transforms (:func:`usd_synth.usd.bake.collect_bake_targets`), as ``bake`` does.
- Materials: ``UsdPreviewSurface`` ``diffuseColor`` (a constant or a ``UsdUVTexture`` read through a
  ``UsdPrimvarReader_float2``, optionally through ``UsdTransform2d``), ``roughness``, ``metallic``,
  ``opacity``; ``GeomSubset`` bindings (family ``materialBind``) give clothing its own materials.
- Lights: UsdLux distant, dome, sphere, rect, disk (intensity x 2^exposure, colour x colour temperature).
- Instances: actors first (ids 1..N in ``/World/Actors`` order), then every other labelled thing in
  traversal order: the nearest ancestor-or-self with a ``semantics:labels:class`` label (or a ``kind``
  of component), else the gprim itself. Semantic ids come from :data:`SEMANTIC_CLASSES` (stable across
  scenes); labels outside it get ids from 1000 up, in order of first appearance in the stage.

Limits: everything but the actors and the cameras is read at the stage's start time (animated props and
lights are posed there); points, curves, volumes and other gprims than Mesh, Cube and Sphere are skipped
(logged); UsdPreviewSurface inputs other than those above (normal maps, emissive, clearcoat) are ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pxr import Sdf, Usd, UsdGeom, UsdLux, UsdShade, UsdSkel

from usd_synth.body.model import vertex_normals
from usd_synth.errors import UsdSynthError
from usd_synth.render.protocol import Instance

log = logging.getLogger(__name__)

#: Semantic class ids, stable across scenes and datasets: id = position + 1 (0 is the background).
SEMANTIC_CLASSES = (
    "person",
    "floor",
    "wall",
    "ceiling",
    "ground",
    "table",
    "chair",
    "stool",
    "sofa",
    "bed",
    "shelf",
    "cabinet",
    "lab_bench",
    "box",
    "box_stack",
    "pallet",
    "pallet_rack",
    "bench",
    "bin",
    "planter",
    "prop",
)
#: First id given to a label outside :data:`SEMANTIC_CLASSES`.
EXTRA_SEMANTIC_BASE = 1000


@dataclass
class Material:
    """The UsdPreviewSurface parameters a rasterizer uses."""

    name: str = "default"
    base_color: tuple[float, float, float] = (0.6, 0.6, 0.6)  # linear
    roughness: float = 0.5
    metallic: float = 0.0
    opacity: float = 1.0
    texture: Path | None = None  # diffuseColor texture (sRGB unless told otherwise)
    texture_srgb: bool = True
    st_name: str = "st"
    st_scale: tuple[float, float] = (1.0, 1.0)
    st_rotation_deg: float = 0.0
    st_translation: tuple[float, float] = (0.0, 0.0)

    def transform_st(self, st: np.ndarray) -> np.ndarray:
        """Apply the ``UsdTransform2d`` (scale, rotate, translate, in that order) to texture coordinates."""
        out = st * np.asarray(self.st_scale, dtype=np.float32)
        if self.st_rotation_deg:
            a = np.radians(self.st_rotation_deg)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], dtype=np.float32)
            out = out @ rot.T
        return (out + np.asarray(self.st_translation, dtype=np.float32)).astype(np.float32)


@dataclass
class Part:
    """Triangles sharing one material. ``positions``/``normals`` are world space for static parts; for a
    skinned part they are the rest pose and ``gather`` picks its vertices out of the skinned points."""

    positions: np.ndarray  # (N, 3) float32
    normals: np.ndarray  # (N, 3) float32
    indices: np.ndarray  # (T, 3) uint32
    material: Material
    texcoords: np.ndarray | None = None  # (N, 2) float32, transformed by the material
    gather: np.ndarray | None = None  # (N,) int64 index into the mesh's points (skinned parts)
    instance_ids: np.ndarray | None = None  # (N,) the instance id of each vertex (set by a backend)


@dataclass
class StaticObject:
    """Static geometry of one instance (world space)."""

    path: str
    parts: list[Part]


@dataclass
class SkinnedObject:
    """One skinned mesh: its parts, and where its points live in the concatenated skin."""

    path: str  # the instance (actor) path
    mesh_path: str
    parts: list[Part]
    target: int  # index into SceneDescription.skin_targets


@dataclass
class Light:
    kind: str  # distant | dome | sphere | rect | disk
    path: str
    color: np.ndarray  # (3,) linear RGB (colour x colour temperature)
    intensity: float  # USD intensity x 2^exposure
    position: np.ndarray  # (3,)
    direction: np.ndarray  # (3,) where the light shines (-Z of the prim)
    area: float = 0.0  # m^2 of the emitter (sphere: pi r^2 cross-section, rect: w h, disk: pi r^2)


@dataclass
class SceneDescription:
    path: Path
    stage: Usd.Stage
    statics: list[StaticObject]
    skinned: list[SkinnedObject]
    skin_targets: list  # usd_synth.usd.bake.BakeTarget
    frames: list[int]
    lights: list[Light]
    cameras: list[str]
    instances: dict[str, Instance]
    semantic_classes: dict[str, int] = field(default_factory=dict)
    bounds: tuple[np.ndarray, np.ndarray] | None = None  # world bound of the actors over the clip

    @property
    def fps(self) -> float:
        return float(self.stage.GetTimeCodesPerSecond())


# ------------------------------------------------------------------------------------------ reading ----
def open_usd(path: Path) -> Usd.Stage:
    path = Path(path)
    if not path.is_file():
        raise UsdSynthError("no such stage file", path, field="scene")
    try:
        stage = Usd.Stage.Open(str(path))
    except Exception as exc:  # Tf errors
        raise UsdSynthError(f"not a readable USD stage ({' '.join(str(exc).split())[:160]})", path) from None
    if stage is None:
        raise UsdSynthError("not a readable USD stage", path)
    return stage


def find_cameras(stage: Usd.Stage) -> list[str]:
    """Every UsdGeom.Camera of the stage, in traversal order."""
    return [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]


def resolve_camera(stage: Usd.Stage, cameras: list[str], name: str | None, path: Path) -> str:
    """The camera prim path for ``name`` (a prim path, or a camera's prim name); None: the first one."""
    if not cameras:
        raise UsdSynthError("no UsdGeom.Camera in the stage: nothing to render from", path, field="camera")
    if name is None:
        return cameras[0]
    for c in cameras:
        if name in (c, c.rsplit("/", 1)[-1]):
            return c
    names = ", ".join(c.rsplit("/", 1)[-1] for c in cameras)
    raise UsdSynthError(f"camera {name!r} is not in the stage; its cameras: {names}", path, field="camera")


def read_scene(path: str | Path) -> SceneDescription:
    """Read the stage at ``path`` into a :class:`SceneDescription`."""
    from usd_synth.usd.bake import collect_bake_targets

    path = Path(path)
    stage = open_usd(path)
    time = Usd.TimeCode(stage.GetStartTimeCode()) if stage.HasAuthoredTimeCodeRange() else Usd.TimeCode(0)
    xcache = UsdGeom.XformCache(time)
    bbox_purposes = (UsdGeom.Tokens.default_, UsdGeom.Tokens.render)
    if stage.HasAuthoredTimeCodeRange():
        targets, frames = collect_bake_targets(stage, path)
    else:
        targets, frames = [], [0]
    targets = [t for t in targets if _renderable(stage.GetPrimAtPath(t.prim_path), bbox_purposes)]
    target_of = {str(t.prim_path): i for i, t in enumerate(targets)}

    instances: dict[str, Instance] = {}
    semantic: dict[str, int] = {c: i + 1 for i, c in enumerate(SEMANTIC_CLASSES)}

    def instance_for(prim: Usd.Prim) -> str:
        key, label = _instance_key(prim)
        if key not in instances:
            if label not in semantic:
                semantic[label] = EXTRA_SEMANTIC_BASE + sum(
                    v >= EXTRA_SEMANTIC_BASE for v in semantic.values()
                )
            instances[key] = Instance(len(instances) + 1, semantic[label], label)
        return key

    # actors first, in /World/Actors order (then any other SkelRoot)
    roots = [p for p in stage.Traverse() if p.IsA(UsdSkel.Root) and _renderable(p, bbox_purposes)]
    roots.sort(key=lambda p: 0 if str(p.GetPath()).startswith("/World/Actors/") else 1)
    for root in roots:
        key = str(root.GetPath())
        label = _class_label(root) or "person"
        if label not in semantic:
            semantic[label] = EXTRA_SEMANTIC_BASE + sum(v >= EXTRA_SEMANTIC_BASE for v in semantic.values())
        instances[key] = Instance(len(instances) + 1, semantic[label], label)

    materials: dict[str, Material] = {}
    statics: dict[str, StaticObject] = {}
    skinned: list[SkinnedObject] = []
    lights: list[Light] = []
    it = iter(Usd.PrimRange(stage.GetPseudoRoot()))
    for prim in it:
        if not _renderable(prim, bbox_purposes):
            it.PruneChildren()
            continue
        if prim.IsA(UsdLux.BoundableLightBase) or prim.IsA(UsdLux.NonboundableLightBase):
            light = _read_light(prim, xcache)
            if light is not None:
                lights.append(light)
            continue
        if not prim.IsA(UsdGeom.Gprim):
            continue
        spath = str(prim.GetPath())
        if spath in target_of:
            root = UsdSkel.Root.Find(prim)
            key = str(root.GetPath()) if root else instance_for(prim)
            parts = _mesh_parts(prim, time, None, materials, path)
            skinned.append(SkinnedObject(key, spath, parts, target_of[spath]))
            continue
        if UsdSkel.Root.Find(prim) and prim.IsA(UsdGeom.Mesh) and UsdSkel.BindingAPI(prim).GetSkeleton():
            continue  # skinned but not a bake target (no animation): nothing sensible to draw
        world = np.array(xcache.GetLocalToWorldTransform(prim), dtype=np.float64)
        parts = _mesh_parts(prim, time, world, materials, path)
        if not parts:
            continue
        key = instance_for(prim)
        statics.setdefault(key, StaticObject(key, [])).parts.extend(parts)

    # instance ids in order: actors, then the rest in order of first appearance
    desc = SceneDescription(
        path=path,
        stage=stage,
        statics=list(statics.values()),
        skinned=skinned,
        skin_targets=targets,
        frames=frames,
        lights=lights,
        cameras=find_cameras(stage),
        instances=instances,
        semantic_classes=semantic,
    )
    desc.bounds = _actor_bounds(targets)
    return desc


def _renderable(prim: Usd.Prim, purposes) -> bool:
    if not prim.IsActive() or not prim.IsDefined() or prim.IsAbstract():
        return False
    if prim.IsA(UsdGeom.Imageable):
        img = UsdGeom.Imageable(prim)
        purpose = img.GetPurposeAttr().Get()
        if purpose not in (None, *purposes):
            return False
        if img.GetVisibilityAttr().Get() == UsdGeom.Tokens.invisible:
            return False
    return True


def _class_label(prim: Usd.Prim) -> str | None:
    attr = prim.GetAttribute("semantics:labels:class")
    if attr and attr.HasValue():
        values = attr.Get()
        if values:
            return str(values[0])
    # the older Semantics schema (Isaac Sim): semantic:<name>:params:semanticData
    for a in prim.GetAttributes():
        n = a.GetName()
        if n.startswith("semantic:") and n.endswith(":params:semanticData"):
            t = prim.GetAttribute(n.replace("semanticData", "semanticType"))
            if t and t.Get() == "class":
                return str(a.Get())
    return None


def _instance_key(prim: Usd.Prim) -> tuple[str, str]:
    """The instance a gprim belongs to: the nearest labelled (or component) ancestor-or-self."""
    p = prim
    while p and not p.IsPseudoRoot():
        label = _class_label(p)
        if label is not None:
            return str(p.GetPath()), label
        if Usd.ModelAPI(p).GetKind() == "component":
            return str(p.GetPath()), "prop"
        p = p.GetParent()
    return str(prim.GetPath()), "prop"


def _actor_bounds(targets) -> tuple[np.ndarray, np.ndarray] | None:
    if not targets:
        return None
    # the joints' translations over the clip (cheap) padded by 0.5 m stand for the bodies' bound
    pts = np.concatenate([t.matrices[:, :, :3, 3].reshape(-1, 3) for t in targets])
    return pts.min(axis=0) - 0.5, pts.max(axis=0) + 0.5


# ------------------------------------------------------------------------------------------- lights ----
def _read_light(prim: Usd.Prim, xcache: UsdGeom.XformCache) -> Light | None:
    api = UsdLux.LightAPI(prim)
    intensity = float(api.GetIntensityAttr().Get() or 0.0) * 2.0 ** float(api.GetExposureAttr().Get() or 0.0)
    color = np.array(api.GetColorAttr().Get() or (1.0, 1.0, 1.0), dtype=np.float64)
    if api.GetEnableColorTemperatureAttr().Get():
        rgb = np.array(UsdLux.BlackbodyTemperatureAsRgb(float(api.GetColorTemperatureAttr().Get())))
        color = color * rgb / max(rgb.max(), 1e-6)
    m = np.array(xcache.GetLocalToWorldTransform(prim), dtype=np.float64)
    pos = m[3, :3].copy()
    d = -m[2, :3]
    d = d / max(np.linalg.norm(d), 1e-12)
    path = str(prim.GetPath())
    if prim.IsA(UsdLux.DistantLight):
        return Light("distant", path, color, intensity, pos, d)
    if prim.IsA(UsdLux.DomeLight):
        return Light("dome", path, color, intensity, pos, d)
    if prim.IsA(UsdLux.SphereLight):
        r = float(UsdLux.SphereLight(prim).GetRadiusAttr().Get() or 0.5)
        return Light("sphere", path, color, intensity, pos, d, np.pi * r * r)
    if prim.IsA(UsdLux.RectLight):
        rl = UsdLux.RectLight(prim)
        w, h = float(rl.GetWidthAttr().Get() or 1.0), float(rl.GetHeightAttr().Get() or 1.0)
        return Light("rect", path, color, intensity, pos, d, w * h)
    if prim.IsA(UsdLux.DiskLight):
        r = float(UsdLux.DiskLight(prim).GetRadiusAttr().Get() or 0.5)
        return Light("disk", path, color, intensity, pos, d, np.pi * r * r)
    log.info("light %s of type %s is not supported; skipped", path, prim.GetTypeName())
    return None


# ---------------------------------------------------------------------------------------- materials ----
def _material_for(prim: Usd.Prim, cache: dict[str, Material], stage_path: Path) -> Material:
    bound, _rel = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    if not bound:
        color = UsdGeom.Gprim(prim).GetDisplayColorAttr().Get() if prim.IsA(UsdGeom.Gprim) else None
        if color:
            return Material(name="displayColor", base_color=tuple(float(c) for c in color[0]))
        return Material()
    key = str(bound.GetPath())
    if key not in cache:
        cache[key] = _read_material(bound, stage_path)
    return cache[key]


def _source(inp: UsdShade.Input):
    """The shader and output name an input is connected to, or (None, None)."""
    if inp and inp.HasConnectedSource():
        src = inp.GetConnectedSource()
        if src:
            return UsdShade.Shader(src[0].GetPrim()), str(src[1])
    return None, None


def _read_material(material: UsdShade.Material, stage_path: Path) -> Material:
    out = Material(name=str(material.GetPath().name))
    surface = material.ComputeSurfaceSource()
    shader = surface[0] if isinstance(surface, tuple) else surface
    if not shader or shader.GetIdAttr().Get() != "UsdPreviewSurface":
        return out
    for name in ("roughness", "metallic", "opacity"):
        inp = shader.GetInput(name)
        if inp and not inp.HasConnectedSource() and inp.Get() is not None:
            setattr(out, name, float(inp.Get()))
    diffuse = shader.GetInput("diffuseColor")
    if diffuse and not diffuse.HasConnectedSource() and diffuse.Get() is not None:
        out.base_color = tuple(float(c) for c in diffuse.Get())
    tex, _ = _source(diffuse)
    if tex is not None and tex.GetIdAttr().Get() == "UsdUVTexture":
        file_input = tex.GetInput("file")
        asset = file_input.Get() if file_input else None
        resolved = asset.resolvedPath if isinstance(asset, Sdf.AssetPath) else None
        if resolved and Path(resolved).is_file():
            out.texture = Path(resolved)
            cs = tex.GetInput("sourceColorSpace")
            out.texture_srgb = not (cs and cs.Get() == "raw")
            # the texture replaces the constant; a scale input multiplies it
            scale = tex.GetInput("scale")
            s = scale.Get() if scale and scale.Get() is not None else None
            out.base_color = tuple(float(c) for c in s[:3]) if s is not None else (1.0, 1.0, 1.0)
        else:
            log.info("%s: texture %s not found; using a grey", material.GetPath(), asset)
        st_shader, _ = _source(tex.GetInput("st"))
        if st_shader is not None and st_shader.GetIdAttr().Get() == "UsdTransform2d":
            for name, attr in (("scale", "st_scale"), ("translation", "st_translation")):
                inp = st_shader.GetInput(name)
                if inp and inp.Get() is not None:
                    setattr(out, attr, tuple(float(v) for v in inp.Get()))
            rot = st_shader.GetInput("rotation")
            if rot and rot.Get() is not None:
                out.st_rotation_deg = float(rot.Get())
            st_shader, _ = _source(st_shader.GetInput("in"))
        if st_shader is not None and st_shader.GetIdAttr().Get().startswith("UsdPrimvarReader"):
            var = st_shader.GetInput("varname")
            if var and var.Get():
                out.st_name = str(var.Get())
    return out


# ------------------------------------------------------------------------------------------- meshes ----
def _box_mesh(size: float):
    """A cube of edge ``size`` centred at the origin: 6 quads, counter-clockwise seen from outside."""
    h = size / 2.0
    pts, idx = [], []
    for axis, (u, v) in ((0, (1, 2)), (1, (2, 0)), (2, (0, 1))):  # e_u x e_v = e_axis
        for sign in (1.0, -1.0):
            quad = []
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = [0.0, 0.0, 0.0]
                p[axis], p[u], p[v] = sign * h, a * h, b * h
                quad.append(p)
            if sign < 0:
                quad = quad[::-1]
            idx.extend(range(len(pts), len(pts) + 4))
            pts.extend(quad)
    return np.array(pts), np.full(6, 4), np.array(idx)


def _sphere_mesh(radius: float, rings: int = 12, segments: int = 24):
    th = np.linspace(0, np.pi, rings + 1)
    ph = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    pts = (
        np.stack(
            [
                np.outer(np.sin(th), np.cos(ph)),
                np.outer(np.sin(th), np.sin(ph)),
                np.outer(np.cos(th), np.ones_like(ph)),
            ],
            axis=-1,
        ).reshape(-1, 3)
        * radius
    )
    idx = []
    for r in range(rings):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            idx.extend([a, a + segments, b + segments, b])
    return pts, np.full(len(idx) // 4, 4), np.array(idx)


def _triangulate(counts: np.ndarray, flat: np.ndarray):
    """Fan polygons into triangles: (T, 3) corner indices (into the face-vertex list) and face ids."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    corners, faces = [], []
    for n in np.unique(counts):
        if n < 3:
            continue
        sel = np.nonzero(counts == n)[0]
        for k in range(1, n - 1):
            corners.append(np.stack([starts[sel], starts[sel] + k, starts[sel] + k + 1], axis=1))
            faces.append(sel)
    if not corners:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    return np.concatenate(corners), np.concatenate(faces)


def _primvar_corners(pv: UsdGeom.Primvar, time, npoints: int, nfaces: int, counts, n_corners: int):
    """A primvar's value per face-vertex corner (n_corners, C) and an id per corner telling which
    distinct value it takes (for vertex splitting); None when its interpolation is not usable."""
    values = pv.Get(time)
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float32)
    values = values.reshape(len(values), -1)
    indices = np.asarray(pv.GetIndices(time), dtype=np.int64) if pv.IsIndexed() else None
    interp = pv.GetInterpolation()
    if interp == UsdGeom.Tokens.faceVarying:
        ids = indices if indices is not None else np.arange(n_corners)
        if len(ids) != n_corners:
            return None
        return values[ids], ids
    if interp in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying):
        return "vertex", (values[indices] if indices is not None else values)
    if interp == UsdGeom.Tokens.uniform:
        per_face = values[indices] if indices is not None else values
        fid = np.repeat(np.arange(nfaces), counts)
        return per_face[fid], fid
    if interp == UsdGeom.Tokens.constant:
        return values[np.zeros(n_corners, np.int64)], np.zeros(n_corners, np.int64)
    return None


def _mesh_parts(
    prim: Usd.Prim, time, world: np.ndarray | None, materials: dict, stage_path: Path
) -> list[Part]:
    """The triangle parts of a gprim, one per bound material; world-space when ``world`` is given, else
    in the mesh's own space with ``gather`` set (a skinned mesh)."""
    st_values = None
    if prim.IsA(UsdGeom.Mesh):
        mesh = UsdGeom.Mesh(prim)
        points = np.asarray(mesh.GetPointsAttr().Get(time) or [], dtype=np.float64).reshape(-1, 3)
        counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get(time) or [], dtype=np.int64)
        flat = np.asarray(mesh.GetFaceVertexIndicesAttr().Get(time) or [], dtype=np.int64)
        left = mesh.GetOrientationAttr().Get() == UsdGeom.Tokens.leftHanded
    elif prim.IsA(UsdGeom.Cube):
        points, counts, flat = _box_mesh(float(UsdGeom.Cube(prim).GetSizeAttr().Get(time) or 2.0))
        left = False
    elif prim.IsA(UsdGeom.Sphere):
        points, counts, flat = _sphere_mesh(float(UsdGeom.Sphere(prim).GetRadiusAttr().Get(time) or 1.0))
        left = False
    else:
        log.info("%s: %s is not supported by the renderers; skipped", prim.GetPath(), prim.GetTypeName())
        return []
    if len(points) == 0 or len(flat) == 0 or counts.sum() != len(flat) or flat.max() >= len(points):
        if len(points):
            log.warning("%s: inconsistent mesh topology; skipped", prim.GetPath())
        return []
    corners, face_of = _triangulate(counts, flat)
    if left:
        corners = corners[:, ::-1]
    n_corners = len(flat)
    # which primvars split vertices
    key_cols = [flat]
    normals_fv = None
    vertex_normals_in = None
    if prim.IsA(UsdGeom.Mesh):
        nattr = mesh.GetNormalsAttr()
        nv = nattr.Get(time) if nattr.HasAuthoredValue() else None
        pvn = UsdGeom.PrimvarsAPI(prim).GetPrimvar("normals")
        if pvn and pvn.HasAuthoredValue():
            got = _primvar_corners(pvn, time, len(points), len(counts), counts, n_corners)
            if isinstance(got, tuple) and isinstance(got[0], str):
                vertex_normals_in = got[1]
            elif got is not None:
                normals_fv, ids = got
                key_cols.append(ids)
        elif nv is not None:
            nv = np.asarray(nv, dtype=np.float32).reshape(-1, 3)
            interp = mesh.GetNormalsInterpolation()
            if interp in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying) and len(nv) == len(points):
                vertex_normals_in = nv
            elif interp == UsdGeom.Tokens.faceVarying and len(nv) == n_corners:
                normals_fv = nv
                key_cols.append(np.arange(n_corners))
    subsets = _subset_materials(prim, materials, stage_path)
    base_material = _material_for(prim, materials, stage_path)
    st_name = base_material.st_name
    pv = UsdGeom.PrimvarsAPI(prim).GetPrimvar(st_name) if prim.IsA(UsdGeom.Gprim) else None
    st_vertex = None
    if pv and pv.HasAuthoredValue():
        got = _primvar_corners(pv, time, len(points), len(counts), counts, n_corners)
        if isinstance(got, tuple) and isinstance(got[0], str):
            st_vertex = got[1][:, :2]
        elif got is not None:
            st_values, ids = got
            st_values = st_values[:, :2]
            key_cols.append(ids)
    # split vertices where a corner-varying primvar differs
    if len(key_cols) == 1:
        vert_of_corner = flat
        gather = np.arange(len(points))
        corner_rep = None
    else:
        keys = np.stack(key_cols, axis=1)
        uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        vert_of_corner = inverse.reshape(-1)
        gather = uniq[:, 0]
        corner_rep = first
    pos = points[gather]
    if normals_fv is not None:
        nrm = normals_fv[corner_rep]
    elif vertex_normals_in is not None and len(vertex_normals_in) == len(points):
        nrm = vertex_normals_in[gather]
    else:
        tri_pts = flat[corners]
        nrm = vertex_normals(points, tri_pts)[gather]
    if st_values is not None:
        st = st_values[corner_rep] if corner_rep is not None else st_values[np.argsort(flat)]
    elif st_vertex is not None and len(st_vertex) == len(points):
        st = st_vertex[gather]
    else:
        st = None
    tris = vert_of_corner[corners]
    if world is not None:
        pos = pos @ world[:3, :3] + world[3, :3]
        nrm = nrm @ np.linalg.inv(world[:3, :3]).T
        if np.linalg.det(world[:3, :3]) < 0:
            tris = tris[:, ::-1]
    nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    # one part per material
    mat_of_face = np.zeros(len(counts), np.int64)
    mats = [base_material]
    for face_ids, mat in subsets:
        ok = face_ids[(face_ids >= 0) & (face_ids < len(counts))]
        mat_of_face[ok] = len(mats)
        mats.append(mat)
    mat_of_tri = mat_of_face[face_of]
    parts = []
    for m_index, material in enumerate(mats):
        sel = tris[mat_of_tri == m_index]
        if len(sel) == 0:
            continue
        used, local = np.unique(sel, return_inverse=True)
        texcoords = material.transform_st(st[used].astype(np.float32)) if st is not None else None
        parts.append(
            Part(
                positions=pos[used].astype(np.float32),
                normals=nrm[used].astype(np.float32),
                indices=local.reshape(-1, 3).astype(np.uint32),
                material=material,
                texcoords=texcoords,
                gather=None if world is not None else gather[used],
            )
        )
    return parts


def _subset_materials(prim: Usd.Prim, materials: dict, stage_path: Path):
    if not prim.IsA(UsdGeom.Imageable):
        return []
    out = []
    for subset in UsdShade.MaterialBindingAPI(prim).GetMaterialBindSubsets():
        if subset.GetElementTypeAttr().Get() != UsdGeom.Tokens.face:
            continue
        indices = np.asarray(subset.GetIndicesAttr().Get() or [], dtype=np.int64)
        out.append((indices, _material_for(subset.GetPrim(), materials, stage_path)))
    return out
