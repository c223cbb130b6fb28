"""The material library: the ``materials/`` folder, installed as the package ``usd_synth.materials``.

Each library file is a small ``.usda`` layer with one UsdPreviewSurface ``Material`` under a ``Looks``
scope (see ``materials/README.md``). Writers *copy* a material's spec into the layer they write
(:func:`copy_material`) rather than referencing the library file, so written assets stay self-contained:
they can be moved, packaged or validated without usd-synth installed beside them.
"""

from __future__ import annotations

import functools
from importlib import resources

from pxr import Sdf, Usd, UsdShade

from usd_synth.errors import UsdSynthError

#: The package the library is installed as.
MATERIALS_PACKAGE = "usd_synth.materials"


def material_names() -> list[str]:
    """Names of the library's materials (file names without ``.usda``), sorted."""
    files = resources.files(MATERIALS_PACKAGE).iterdir()
    return sorted(f.name[: -len(".usda")] for f in files if f.name.endswith(".usda"))


@functools.cache
def material_layer(name: str) -> Sdf.Layer:
    """The library file ``<name>.usda`` as an in-memory layer (read once per process; do not edit it)."""
    resource = resources.files(MATERIALS_PACKAGE).joinpath(f"{name}.usda")
    if not resource.is_file():
        raise UsdSynthError(f"no material {name!r} in the library (known: {', '.join(material_names())})")
    layer = Sdf.Layer.CreateAnonymous(f"{name}.usda")
    if not layer.ImportFromString(resource.read_text(encoding="utf-8")):
        raise UsdSynthError(f"material library file {name}.usda is not valid USD")
    return layer


def material_spec_path(layer: Sdf.Layer) -> Sdf.Path:
    """Path of the library layer's Material: the first one found breadth-first, in prim order."""
    queue = list(layer.rootPrims)
    while queue:
        spec = queue.pop(0)
        if spec.typeName == "Material":
            return spec.path
        queue.extend(spec.nameChildren)
    raise UsdSynthError("the material library file has no Material prim", layer.identifier)


def copy_material(stage: Usd.Stage, name: str, path: str | Sdf.Path) -> UsdShade.Material:
    """Copy the library material ``name`` to ``path`` in the stage's edit target layer; the new Material.

    The parent of ``path`` must already be defined. Connections inside the material are re-targeted to
    the copy by ``Sdf.CopySpec``.
    """
    src = material_layer(name)
    dst = stage.GetEditTarget().GetLayer()
    path = Sdf.Path(str(path))
    if not Sdf.CopySpec(src, material_spec_path(src), dst, path):
        raise UsdSynthError(f"could not copy material {name!r} to {path}")
    return UsdShade.Material(stage.GetPrimAtPath(path))
