"""Stage templates: the ``stages/*.usda`` layers (installed as ``usd_synth.stages``) and what the composer
reads from them: description, indoor or not, interior bounds, ceiling height, named regions (2D polygons in
``usdSynth:region:polygon``, kind ``walkable``/``props``/``cameras``), camera mounts (``usdSynth:mount:kind``)
and the prop classes and floor/wall materials that suit the room (``customLayerData["usdSynth"]``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
from pxr import Sdf, Usd, UsdGeom

from usd_synth.errors import UsdSynthError

STAGES_PACKAGE = "usd_synth.stages"


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    indoor: bool
    interior: tuple[float, float, float, float]  #: x0, y0, x1, y1 inside the walls (or the ground's extent)
    ceiling: float  #: ceiling height (0 outdoors)
    regions: dict[str, np.ndarray] = field(default_factory=dict)  #: name -> (N, 2) polygon
    region_kinds: dict[str, str] = field(default_factory=dict)
    camera_heights: tuple[float, float] = (0.8, 2.5)
    mounts: dict[str, tuple[str, tuple[float, float, float]]] = field(default_factory=dict)
    props: tuple[str, ...] = ()
    floor_materials: tuple[str, ...] = ()
    wall_materials: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()  #: child prims of the room that get materials (Floor, WallNorth, ...)

    def region_rect(self, kind: str) -> tuple[float, float, float, float]:
        """Axis-aligned bounds of the (first) region of ``kind``."""
        for name, k in self.region_kinds.items():
            if k == kind:
                poly = self.regions[name]
                return (*poly.min(axis=0).tolist(), *poly.max(axis=0).tolist())  # type: ignore[return-value]
        raise UsdSynthError(f"template {self.name} has no {kind} region")

    def text(self) -> str:
        return self.description


def template_names() -> list[str]:
    files = resources.files(STAGES_PACKAGE).iterdir()
    names = []
    for f in files:
        if f.name.endswith(".usda") and f.name != "ground.usda":
            names.append(f.name[: -len(".usda")])
    return sorted(names)


def template_source(name: str):
    """The template's file as an importlib resource (``.read_bytes()``)."""
    if name not in template_names():
        raise UsdSynthError(
            f"template {name!r} is unknown (known: {', '.join(template_names())})", field="template"
        )
    return resources.files(STAGES_PACKAGE).joinpath(f"{name}.usda")


@functools.cache
def load_template(name: str) -> Template:
    layer = Sdf.Layer.CreateAnonymous(f"{name}.usda")
    layer.ImportFromString(template_source(name).read_text(encoding="utf-8"))
    stage = Usd.Stage.Open(layer)
    info = dict(layer.customLayerData.get("usdSynth", {}))
    lo, hi = info["interior"]
    regions, kinds, heights, mounts = {}, {}, (0.8, 2.5), {}
    root = stage.GetDefaultPrim()
    surfaces = []
    for prim in Usd.PrimRange(root):
        if prim.IsA(UsdGeom.Mesh) and prim.GetParent() == root:
            surfaces.append(prim.GetName())
        kind = prim.GetAttribute("usdSynth:region:kind")
        if kind and kind.HasAuthoredValue():
            regions[prim.GetName()] = np.array(
                prim.GetAttribute("usdSynth:region:polygon").Get(), dtype=float
            )
            kinds[prim.GetName()] = str(kind.Get())
            h = prim.GetAttribute("usdSynth:region:height")
            if h and h.HasAuthoredValue():
                heights = tuple(float(v) for v in h.Get())
        mk = prim.GetAttribute("usdSynth:mount:kind")
        if mk and mk.HasAuthoredValue():
            pos = (
                UsdGeom.Xformable(prim)
                .ComputeLocalToWorldTransform(Usd.TimeCode.Default())
                .ExtractTranslation()
            )
            mounts[prim.GetName()] = (str(mk.Get()), tuple(float(v) for v in pos))
    return Template(
        name=name,
        description=str(info.get("description", layer.documentation)),
        indoor=bool(info.get("indoor", True)),
        interior=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
        ceiling=float(info.get("ceilingHeight", 0.0)),
        regions=regions,
        region_kinds=kinds,
        camera_heights=heights,  # type: ignore[arg-type]
        mounts=mounts,
        props=tuple(info.get("props", ())),
        floor_materials=tuple(info.get("floorMaterials", ())),
        wall_materials=tuple(info.get("wallMaterials", ())),
        surfaces=tuple(surfaces),
    )
