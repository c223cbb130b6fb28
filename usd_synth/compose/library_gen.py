"""Generator of the package data the composer uses: the material library (``materials/*.usda`` and their
procedural textures) and the stage templates (``stages/*.usda``).

Run ``python -m usd_synth.compose.library_gen`` from the repository root to rewrite them; the outputs are
committed, so users never run this. Everything here is deterministic (textures from fixed seeds).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade, Vt

from usd_synth.usd.semantics import set_semantic_label

ROOT = Path(__file__).resolve().parents[2]
TEX = 128  # texture size in pixels

# --------------------------------------------------------------------------------------- materials ----
# name: (categories, pattern, base colour, second colour, roughness, metallic, metres per texture tile)
MATERIALS: dict[str, tuple[tuple[str, ...], str, tuple, tuple, float, float, float]] = {
    "floor_wood_oak": (("floor", "wood"), "planks", (0.62, 0.45, 0.28), (0.45, 0.31, 0.18), 0.55, 0.0, 1.0),
    "floor_wood_dark": (("floor", "wood"), "planks", (0.35, 0.22, 0.13), (0.24, 0.15, 0.09), 0.5, 0.0, 1.0),
    "floor_tiles_white": (("floor",), "tiles", (0.88, 0.88, 0.86), (0.55, 0.55, 0.55), 0.3, 0.0, 0.6),
    "floor_tiles_checker": (("floor",), "checker", (0.85, 0.85, 0.82), (0.2, 0.2, 0.22), 0.35, 0.0, 1.2),
    "floor_linoleum_green": (("floor",), "noise", (0.42, 0.55, 0.45), (0.36, 0.48, 0.4), 0.45, 0.0, 1.0),
    "floor_carpet_grey": (
        ("floor", "fabric"),
        "carpet",
        (0.45, 0.45, 0.48),
        (0.32, 0.32, 0.35),
        0.95,
        0.0,
        0.5,
    ),
    "floor_concrete": (
        ("floor", "wall", "ground"),
        "noise",
        (0.58, 0.57, 0.55),
        (0.45, 0.44, 0.42),
        0.85,
        0.0,
        2.0,
    ),
    "ground_asphalt": (("ground",), "carpet", (0.25, 0.25, 0.26), (0.15, 0.15, 0.16), 0.9, 0.0, 1.0),
    "ground_grass": (("ground",), "grass", (0.28, 0.48, 0.18), (0.18, 0.34, 0.1), 0.9, 0.0, 1.0),
    "wall_plaster_white": (("wall", "ceiling"), "noise", (0.9, 0.9, 0.88), (0.84, 0.84, 0.82), 0.9, 0.0, 2.0),
    "wall_plaster_beige": (("wall",), "noise", (0.86, 0.8, 0.68), (0.8, 0.74, 0.62), 0.9, 0.0, 2.0),
    "wall_paint_blue": (("wall",), "noise", (0.55, 0.66, 0.78), (0.5, 0.6, 0.72), 0.8, 0.0, 2.0),
    "wall_paint_green": (("wall",), "noise", (0.66, 0.76, 0.62), (0.6, 0.7, 0.56), 0.8, 0.0, 2.0),
    "wall_brick": (("wall",), "brick", (0.62, 0.3, 0.22), (0.78, 0.75, 0.7), 0.85, 0.0, 1.0),
    "wood_light": (("wood", "furniture"), "planks", (0.78, 0.64, 0.45), (0.66, 0.52, 0.35), 0.5, 0.0, 0.8),
    "wood_walnut": (("wood", "furniture"), "planks", (0.4, 0.26, 0.16), (0.3, 0.19, 0.11), 0.45, 0.0, 0.8),
    "metal_brushed": (("metal", "furniture"), "brushed", (0.7, 0.7, 0.72), (0.6, 0.6, 0.62), 0.3, 1.0, 0.5),
    "metal_painted_yellow": (("metal", "furniture"), "flat", (0.85, 0.65, 0.1), None, 0.5, 0.3, 1.0),
    "metal_painted_blue": (("metal", "furniture"), "flat", (0.15, 0.3, 0.6), None, 0.5, 0.3, 1.0),
    "plastic_red": (("plastic", "furniture"), "flat", (0.75, 0.12, 0.1), None, 0.4, 0.0, 1.0),
    "plastic_white": (("plastic", "furniture"), "flat", (0.9, 0.9, 0.9), None, 0.35, 0.0, 1.0),
    "plastic_blue": (("plastic", "furniture"), "flat", (0.12, 0.35, 0.75), None, 0.4, 0.0, 1.0),
    "cardboard": (("furniture",), "noise", (0.66, 0.5, 0.32), (0.6, 0.45, 0.28), 0.9, 0.0, 0.5),
    "fabric_denim": (("fabric", "bottoms"), "knit", (0.2, 0.3, 0.5), (0.15, 0.22, 0.4), 0.9, 0.0, 0.2),
    "fabric_khaki": (("fabric", "bottoms"), "knit", (0.62, 0.56, 0.4), (0.55, 0.5, 0.35), 0.9, 0.0, 0.2),
    "fabric_black": (
        ("fabric", "bottoms", "top"),
        "knit",
        (0.08, 0.08, 0.09),
        (0.05, 0.05, 0.06),
        0.85,
        0.0,
        0.2,
    ),
    "fabric_grey_knit": (
        ("fabric", "top", "bottoms"),
        "knit",
        (0.55, 0.55, 0.57),
        (0.42, 0.42, 0.45),
        0.95,
        0.0,
        0.15,
    ),
    "fabric_cotton_red": (("fabric", "top"), "knit", (0.7, 0.12, 0.14), (0.6, 0.1, 0.12), 0.9, 0.0, 0.15),
    "fabric_cotton_white": (("fabric", "top"), "knit", (0.9, 0.9, 0.88), (0.82, 0.82, 0.8), 0.9, 0.0, 0.15),
    "fabric_stripes_navy": (
        ("fabric", "top"),
        "stripes",
        (0.12, 0.16, 0.35),
        (0.88, 0.88, 0.85),
        0.9,
        0.0,
        0.25,
    ),
    "fabric_plaid_green": (("fabric", "top"), "plaid", (0.15, 0.35, 0.2), (0.7, 0.15, 0.12), 0.9, 0.0, 0.3),
    "fabric_dots_yellow": (("fabric", "top"), "dots", (0.9, 0.75, 0.2), (0.95, 0.95, 0.92), 0.9, 0.0, 0.2),
    "fabric_sofa_teal": (
        ("fabric", "furniture"),
        "carpet",
        (0.15, 0.45, 0.48),
        (0.1, 0.35, 0.38),
        0.95,
        0.0,
        0.3,
    ),
    "leather_brown": (("shoes",), "carpet", (0.3, 0.18, 0.1), (0.24, 0.14, 0.08), 0.5, 0.0, 0.2),
    "leather_black": (("shoes",), "carpet", (0.06, 0.06, 0.06), (0.1, 0.1, 0.1), 0.45, 0.0, 0.2),
    "rubber_white": (("shoes",), "flat", (0.92, 0.92, 0.9), None, 0.7, 0.0, 1.0),
    "skin_tone_1": (("skin",), "flat", (0.92, 0.76, 0.66), None, 0.6, 0.0, 1.0),
    "skin_tone_2": (("skin",), "flat", (0.85, 0.68, 0.58), None, 0.6, 0.0, 1.0),
    "skin_tone_3": (("skin",), "flat", (0.76, 0.56, 0.43), None, 0.6, 0.0, 1.0),
    "skin_tone_4": (("skin",), "flat", (0.62, 0.42, 0.29), None, 0.6, 0.0, 1.0),
    "skin_tone_5": (("skin",), "flat", (0.45, 0.29, 0.19), None, 0.6, 0.0, 1.0),
    "skin_tone_6": (("skin",), "flat", (0.3, 0.19, 0.12), None, 0.6, 0.0, 1.0),
}


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _noise(rng: np.random.Generator, n: int, scale: int) -> np.ndarray:
    """Smooth tileable value noise in [0, 1] of size n, with cells of n/scale pixels."""
    grid = rng.random((scale, scale))
    x = np.arange(n) * scale / n
    i0 = np.floor(x).astype(int)
    f = x - i0
    f = f * f * (3 - 2 * f)
    i1 = (i0 + 1) % scale
    a = grid[i0][:, i0] * (1 - f)[None] + grid[i0][:, i1] * f[None]
    b = grid[i1][:, i0] * (1 - f)[None] + grid[i1][:, i1] * f[None]
    return a * (1 - f)[:, None] + b * f[:, None]


def texture(pattern: str, c1, c2, seed: int, n: int = TEX) -> np.ndarray:
    """(n, n, 3) uint8 tileable texture of ``pattern`` mixing colours c1 and c2."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:n, 0:n] / n
    c1, c2 = np.asarray(c1), np.asarray(c2)
    if pattern == "planks":
        rows = 4
        row = np.floor(y * rows).astype(int)
        shift = rng.random(rows)[row]
        grain = 0.5 + 0.5 * np.sin(2 * np.pi * (8 * ((x + shift) % 1) + 3 * _noise(rng, n, 4)))
        t = 0.6 * grain + 0.4 * rng.random(rows)[row]
        t[(y * rows) % 1 < 0.04] = 1.0
    elif pattern == "tiles":
        t = 0.15 * _noise(rng, n, 8)
        t[((x * 4) % 1 < 0.03) | ((y * 4) % 1 < 0.03)] = 1.0
    elif pattern == "checker":
        t = ((np.floor(x * 4) + np.floor(y * 4)) % 2).astype(float) * 0.9 + 0.1 * _noise(rng, n, 16)
    elif pattern == "brick":
        rows = 8
        row = np.floor(y * rows)
        xx = (x * 4 + 0.5 * (row % 2)) % 1
        t = 0.2 * _noise(rng, n, 16)
        t[((y * rows) % 1 < 0.1) | (xx < 0.04)] = 1.0
    elif pattern == "stripes":
        t = ((y * 8) % 1 < 0.35).astype(float)
    elif pattern == "plaid":
        t = 0.5 * ((x * 4) % 1 < 0.25) + 0.5 * ((y * 4) % 1 < 0.25)
    elif pattern == "dots":
        t = ((((x * 8) % 1 - 0.5) ** 2 + ((y * 8) % 1 - 0.5) ** 2) < 0.06).astype(float)
    elif pattern == "knit":
        t = 0.5 + 0.5 * np.sin(2 * np.pi * 32 * x) * np.sin(2 * np.pi * 16 * y) + 0.3 * rng.random((n, n))
        t = np.clip(t, 0, 1)
    elif pattern == "carpet":
        t = 0.6 * rng.random((n, n)) + 0.4 * _noise(rng, n, 8)
    elif pattern == "grass":
        t = 0.5 * rng.random((n, n)) + 0.5 * _noise(rng, n, 8)
    elif pattern == "brushed":
        t = 0.7 * rng.random((n, 1)).repeat(n, axis=1) + 0.3 * _noise(rng, n, 4)
    else:  # noise
        t = 0.7 * _noise(rng, n, 8) + 0.3 * rng.random((n, n))
    t = np.clip(t, 0, 1)[..., None]
    rgb = c1 * (1 - t) + c2 * t
    return np.clip(np.round(255 * rgb ** (1 / 2.2)), 0, 255).astype(np.uint8)  # sRGB-encoded


def write_material(name: str, folder: Path) -> None:
    cats, pattern, c1, c2, rough, metal, tile = MATERIALS[name]
    layer = Sdf.Layer.CreateAnonymous(".usda")
    stage = Usd.Stage.Open(layer)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    looks = UsdGeom.Scope.Define(stage, "/Looks")
    stage.SetDefaultPrim(looks.GetPrim())
    mat = UsdShade.Material.Define(stage, f"/Looks/{_camel(name)}")
    shader = UsdShade.Shader.Define(stage, mat.GetPath().AppendChild("PreviewSurface"))
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(float(rough))
    shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(float(metal))
    mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    if pattern == "flat":
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*c1))
    else:
        import imageio.v3 as iio

        png = folder / "textures" / f"{name}.png"
        buf = io.BytesIO()
        iio.imwrite(buf, texture(pattern, c1, c2, seed=sum(map(ord, name))), extension=".png")
        png.write_bytes(buf.getvalue())
        reader = UsdShade.Shader.Define(stage, mat.GetPath().AppendChild("StReader"))
        reader.CreateIdAttr("UsdPrimvarReader_float2")
        reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set("st")
        reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)
        xf = UsdShade.Shader.Define(stage, mat.GetPath().AppendChild("Tiling"))
        xf.CreateIdAttr("UsdTransform2d")
        xf.CreateInput("in", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
        xf.CreateInput("scale", Sdf.ValueTypeNames.Float2).Set(Gf.Vec2f(1 / tile, 1 / tile))
        xf.CreateOutput("result", Sdf.ValueTypeNames.Float2)
        tex = UsdShade.Shader.Define(stage, mat.GetPath().AppendChild("Texture"))
        tex.CreateIdAttr("UsdUVTexture")
        tex.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(f"./textures/{name}.png"))
        tex.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(xf.ConnectableAPI(), "result")
        tex.CreateInput("wrapS", Sdf.ValueTypeNames.Token).Set("repeat")
        tex.CreateInput("wrapT", Sdf.ValueTypeNames.Token).Set("repeat")
        tex.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB")
        tex.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(
            tex.ConnectableAPI(), "rgb"
        )
    shader.CreateOutput("surface", Sdf.ValueTypeNames.Token)
    layer.documentation = f"{name}: UsdPreviewSurface ({pattern}); categories {', '.join(cats)}."
    layer.customLayerData = {"usdSynth": {"categories": Vt.StringArray(list(cats)), "color": Gf.Vec3f(*c1)}}
    layer.Export(str(folder / f"{name}.usda"))


# --------------------------------------------------------------------------------------- templates ----
def box_mesh(stage: Usd.Stage, path: str, lo, hi, semantic: str | None = None) -> UsdGeom.Mesh:
    """An axis-aligned box as a Mesh with per-face normals and UVs in metres (textures tile per metre)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    pts, normals, st, counts, idx = [], [], [], [], []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        for side in (0, 1):
            n = np.zeros(3)
            n[axis] = 1 if side else -1
            corners = []
            for cu, cv in ((0, 0), (1, 0), (1, 1), (0, 1)):
                p = np.empty(3)
                p[axis] = hi[axis] if side else lo[axis]
                p[u] = hi[u] if cu else lo[u]
                p[v] = hi[v] if cv else lo[v]
                corners.append(p)
            if np.dot(np.cross(corners[1] - corners[0], corners[2] - corners[0]), n) < 0:
                corners = corners[::-1]
            base = len(pts)
            for p in corners:
                pts.append(p)
                normals.append(n)
                st.append((p[u], p[v]))
            counts.append(4)
            idx.extend(range(base, base + 4))
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray([Gf.Vec3f(*p) for p in pts]))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray(counts))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray(idx))
    mesh.CreateNormalsAttr(Vt.Vec3fArray([Gf.Vec3f(*n) for n in normals]))
    mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    mesh.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*lo), Gf.Vec3f(*hi)]))
    pv = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, "vertex")
    pv.Set(Vt.Vec2fArray([Gf.Vec2f(*s) for s in st]))
    UsdPhysics.CollisionAPI.Apply(mesh.GetPrim())
    if semantic:
        set_semantic_label(mesh.GetPrim(), semantic)
    return mesh


def _rect(x0, y0, x1, y1):
    return Vt.Vec2fArray([Gf.Vec2f(x0, y0), Gf.Vec2f(x1, y0), Gf.Vec2f(x1, y1), Gf.Vec2f(x0, y1)])


# name: description, indoor, (half sizes x, y), ceiling height, walkable rect, prop classes, surface slots
TEMPLATES = {
    "living_room": dict(
        doc="Living room, 6 x 5 m, ceiling 2.6 m: sofa, tables, chairs, shelves.",
        indoor=True,
        half=(3.0, 2.5),
        height=2.6,
        walk=(-2.7, -2.2, 2.7, 2.2),
        props=["sofa", "table", "chair", "shelf", "cabinet", "box"],
        floor=["floor_wood_oak", "floor_wood_dark", "floor_carpet_grey", "floor_tiles_white"],
        wall=[
            "wall_plaster_white",
            "wall_plaster_beige",
            "wall_paint_blue",
            "wall_paint_green",
            "wall_brick",
        ],
    ),
    "carehome_bedroom": dict(
        doc="Care-home bedroom, 5 x 4.5 m, ceiling 2.5 m: bed, chair, bedside table, wardrobe.",
        indoor=True,
        half=(2.5, 2.25),
        height=2.5,
        walk=(-2.2, -1.95, 2.2, 1.95),
        props=["bed", "chair", "table", "cabinet", "box"],
        floor=["floor_linoleum_green", "floor_wood_oak", "floor_tiles_white", "floor_carpet_grey"],
        wall=["wall_plaster_white", "wall_plaster_beige", "wall_paint_green", "wall_paint_blue"],
    ),
    "carehome_corridor": dict(
        doc="Care-home corridor, 14 x 3 m, ceiling 2.6 m: benches and cabinets along the walls.",
        indoor=True,
        half=(7.0, 1.5),
        height=2.6,
        walk=(-6.7, -1.25, 6.7, 1.25),
        props=["bench", "cabinet", "chair"],
        floor=["floor_linoleum_green", "floor_tiles_white", "floor_tiles_checker", "floor_concrete"],
        wall=["wall_plaster_white", "wall_plaster_beige", "wall_paint_green"],
    ),
    "school_lab": dict(
        doc="School science lab, 8 x 7 m, ceiling 3 m: lab benches, stools, shelves, cabinets.",
        indoor=True,
        half=(4.0, 3.5),
        height=3.0,
        walk=(-3.7, -3.2, 3.7, 3.2),
        props=["lab_bench", "stool", "shelf", "cabinet", "box"],
        floor=["floor_tiles_white", "floor_tiles_checker", "floor_linoleum_green", "floor_concrete"],
        wall=["wall_plaster_white", "wall_paint_blue", "wall_paint_green", "wall_brick"],
    ),
    "warehouse_aisle": dict(
        doc="Warehouse aisle, 16 x 9 m, ceiling 6 m: pallet racks, pallets, box stacks.",
        indoor=True,
        half=(8.0, 4.5),
        height=6.0,
        walk=(-7.6, -4.1, 7.6, 4.1),
        props=["pallet_rack", "pallet", "box_stack", "box"],
        floor=["floor_concrete", "ground_asphalt"],
        wall=["floor_concrete", "wall_brick", "wall_plaster_white"],
    ),
    "park": dict(
        doc="Street/park ground, 30 x 30 m outdoors: benches, bins, planters; sun and sky light.",
        indoor=False,
        half=(15.0, 15.0),
        height=0.0,
        walk=(-9.0, -9.0, 9.0, 9.0),
        props=["bench", "bin", "planter", "box"],
        floor=["ground_grass", "ground_asphalt", "floor_concrete"],
        wall=[],
    ),
    "studio": dict(
        doc="Empty studio, 10 x 10 m, ceiling 4.5 m, neutral walls: no furniture.",
        indoor=True,
        half=(5.0, 5.0),
        height=4.5,
        walk=(-4.6, -4.6, 4.6, 4.6),
        props=[],
        floor=["floor_concrete", "floor_tiles_white", "floor_wood_oak"],
        wall=["wall_plaster_white", "floor_concrete"],
    ),
}

WALL_T = 0.1  # wall, floor and ceiling thickness (m)


def _region(stage, path, kind, poly, **extra):
    prim = stage.DefinePrim(path, "Scope")
    prim.CreateAttribute("usdSynth:region:kind", Sdf.ValueTypeNames.Token, custom=True).Set(kind)
    prim.CreateAttribute("usdSynth:region:polygon", Sdf.ValueTypeNames.Float2Array, custom=True).Set(poly)
    for key, (tp, value) in extra.items():
        prim.CreateAttribute(f"usdSynth:region:{key}", tp, custom=True).Set(value)


def _mount(stage, path, kind, position, **extra):
    x = UsdGeom.Xform.Define(stage, path)
    x.AddTranslateOp().Set(Gf.Vec3d(*position))
    prim = x.GetPrim()
    prim.CreateAttribute("usdSynth:mount:kind", Sdf.ValueTypeNames.Token, custom=True).Set(kind)
    for key, (tp, value) in extra.items():
        prim.CreateAttribute(f"usdSynth:mount:{key}", tp, custom=True).Set(value)


def write_template(name: str, folder: Path) -> None:
    spec = TEMPLATES[name]
    hx, hy = spec["half"]
    h = spec["height"]
    layer = Sdf.Layer.CreateAnonymous(".usda")
    stage = Usd.Stage.Open(layer)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/Room")
    stage.SetDefaultPrim(root.GetPrim())
    Usd.ModelAPI(root.GetPrim()).SetKind("component")
    t = WALL_T
    box_mesh(stage, "/Room/Floor", (-hx - t, -hy - t, -t), (hx + t, hy + t, 0), "floor")
    if spec["indoor"]:
        box_mesh(stage, "/Room/Ceiling", (-hx - t, -hy - t, h), (hx + t, hy + t, h + t), "ceiling")
        box_mesh(stage, "/Room/WallNorth", (-hx - t, hy, 0), (hx + t, hy + t, h), "wall")
        box_mesh(stage, "/Room/WallSouth", (-hx - t, -hy - t, 0), (hx + t, -hy, h), "wall")
        box_mesh(stage, "/Room/WallEast", (hx, -hy, 0), (hx + t, hy, h), "wall")
        box_mesh(stage, "/Room/WallWest", (-hx - t, -hy, 0), (-hx, hy, 0 + h), "wall")
    UsdGeom.Scope.Define(stage, "/Room/Regions")
    wx0, wy0, wx1, wy1 = spec["walk"]
    _region(stage, "/Room/Regions/Walkable", "walkable", _rect(wx0, wy0, wx1, wy1))
    m = 0.05
    if spec["indoor"]:
        _region(stage, "/Room/Regions/Props", "props", _rect(-hx + m, -hy + m, hx - m, hy - m))
    else:  # outdoors props stand around the walkable area, not at the edge of the ground
        _region(stage, "/Room/Regions/Props", "props", _rect(wx0 - 2, wy0 - 2, wx1 + 2, wy1 + 2))
    UsdGeom.Scope.Define(stage, "/Room/Mounts")
    f2 = Sdf.ValueTypeNames.Float2
    if spec["indoor"]:
        z = h - 0.2
        for i, (sx, sy) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
            _mount(
                stage,
                f"/Room/Mounts/CeilingCorner{i}",
                "ceiling_corner",
                (sx * (hx - 0.25), sy * (hy - 0.25), z),
            )
        for i, (px, py) in enumerate(((0, -hy + 0.2), (hx - 0.2, 0), (0, hy - 0.2), (-hx + 0.2, 0))):
            _mount(stage, f"/Room/Mounts/Wall{i}", "wall", (px, py, min(2.2, h - 0.3)))
        _region(
            stage,
            "/Room/Regions/Cameras",
            "cameras",
            _rect(-hx + 0.25, -hy + 0.25, hx - 0.25, hy - 0.25),
            height=(f2, Gf.Vec2f(0.8, h - 0.2)),
        )
    else:
        for i, (sx, sy) in enumerate(((-1, -1), (1, -1), (1, 1), (-1, 1))):
            _mount(stage, f"/Room/Mounts/Pole{i}", "pole", (sx * 11.0, sy * 11.0, 5.0))
        _region(
            stage,
            "/Room/Regions/Cameras",
            "cameras",
            _rect(-hx + 1, -hy + 1, hx - 1, hy - 1),
            height=(f2, Gf.Vec2f(0.8, 8.0)),
        )
    layer.documentation = spec["doc"]
    layer.customLayerData = {
        "usdSynth": {
            "template": name,
            "description": spec["doc"],
            "indoor": bool(spec["indoor"]),
            "interior": Vt.Vec2fArray([Gf.Vec2f(-hx, -hy), Gf.Vec2f(hx, hy)]),
            "ceilingHeight": float(h),
            "props": Vt.StringArray(spec["props"]),
            "floorMaterials": Vt.StringArray(spec["floor"]),
            "wallMaterials": Vt.StringArray(spec["wall"]),
        }
    }
    layer.Export(str(folder / f"{name}.usda"))


def main() -> None:
    mats = ROOT / "materials"
    (mats / "textures").mkdir(parents=True, exist_ok=True)
    for name in MATERIALS:
        write_material(name, mats)
    for name in TEMPLATES:
        write_template(name, ROOT / "stages")
    print(f"wrote {len(MATERIALS)} materials and {len(TEMPLATES)} templates")


if __name__ == "__main__":
    main()
