"""Packaging a composed scene as one ``.usdz`` (``usd-synth package``).

``UsdUtils.CreateNewUsdzPackage`` gathers the root layer and every layer and asset it depends on (template,
materials and textures, actors and their crate animation, the scene's crate sublayer) into a zip without
flattening, so time samples, references and layer offsets survive as they are.
"""

from __future__ import annotations

from pathlib import Path

from usd_synth.errors import UsdSynthError
from usd_synth.fileio import atomic_path


def package_scene(scene: str | Path, out: str | Path) -> Path:
    """Write ``scene`` (a ``scene.usda``) and its dependencies into the ``.usdz`` ``out``; atomic."""
    from pxr import Sdf, UsdUtils

    from usd_synth.usd.authoring import open_stage

    scene, out = Path(scene), Path(out)
    if out.suffix.lower() != ".usdz":
        raise UsdSynthError("the package must end in .usdz", out, field="out")
    open_stage(scene)  # a clear error for a missing or broken file
    _, _, unresolved = UsdUtils.ComputeAllDependencies(Sdf.AssetPath(str(scene)))
    if unresolved:
        raise UsdSynthError(f"unresolved asset paths: {', '.join(sorted(unresolved)[:3])}", scene)
    with atomic_path(out) as tmp:
        if not UsdUtils.CreateNewUsdzPackage(Sdf.AssetPath(str(scene)), str(tmp)):
            raise UsdSynthError("USD could not write the package", out)
    return out
