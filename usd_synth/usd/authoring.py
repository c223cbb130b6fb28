"""Authoring USD files the usd-synth way: stage conventions, atomic writes, crate sidecars, opening files.

Every file usd-synth writes (motions, bodies, actors and, later, composed scenes) goes through
:func:`authoring_stage`: Z up, 1 unit = 1 m, time codes = frames, written atomically; and every file it
reads through :func:`open_stage`, which turns USD's errors into one clear line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdSkel

from usd_synth.errors import UsdSynthError
from usd_synth.fileio import atomic_path, atomic_paths

USD_SUFFIXES = (".usd", ".usda", ".usdc")

#: customData key under which usd-synth keeps what it knows about an asset (label, provenance, body).
METADATA_KEY = "usdSynth"


def check_usd_path(path: str | Path) -> Path:
    """Reject output names USD cannot write (``.usd``/``.usdc`` are crate files, ``.usda`` is text)."""
    path = Path(path)
    if path.suffix.lower() not in USD_SUFFIXES:
        raise UsdSynthError(f"output must end in one of {', '.join(USD_SUFFIXES)}", path)
    return path


def samples_path(path: Path) -> Path:
    """Crate sidecar that holds the time-sampled animation of a text ``.usda`` file."""
    return path.with_name(f"{path.stem}.anim.usdc")


def _set_metadata(stage: Usd.Stage, fps: float, num_frames: int) -> None:
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    stage.SetTimeCodesPerSecond(fps)
    stage.SetFramesPerSecond(fps)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(max(num_frames - 1, 0))


@dataclass
class Authoring:
    """An in-memory stage being written, and where its time-sampled animation goes."""

    stage: Usd.Stage
    #: Stage that receives time-sampled animation prims: ``stage`` itself, or a crate sidecar for ``.usda``.
    samples: Usd.Stage
    #: Name of the sidecar file next to the output (None when there is none).
    sidecar_name: str | None = None

    def define_animation(self, wanted: str) -> UsdSkel.Animation:
        """Define a SkelAnimation that appears at ``wanted`` on the main stage.

        With a sidecar, the animation lives under the sidecar's default prim (a Scope, as Omniverse
        expects of default prims) and ``wanted`` references it.
        """
        if self.samples is self.stage:
            return UsdSkel.Animation.Define(self.stage, wanted)
        scope = UsdGeom.Scope.Define(self.samples, "/Animations")
        self.samples.SetDefaultPrim(scope.GetPrim())
        inner = f"/Animations/{Sdf.Path(wanted).name}"
        anim = UsdSkel.Animation.Define(self.samples, inner)
        prim = self.stage.DefinePrim(wanted)
        prim.GetReferences().AddReference(self.samples.GetRootLayer().identifier, inner)
        return anim


@contextlib.contextmanager
def authoring_stage(path: str | Path, fps: float, num_frames: int) -> Iterator[Authoring]:
    """Yield a new in-memory stage with usd-synth's metadata; write it to ``path`` atomically on success.

    Metadata: Z up, 1 unit = 1 m, ``timeCodesPerSecond`` = fps, frames 0..T-1. ``.usd``/``.usdc`` are
    written as crate (binary). A ``.usda`` stays readable text, and its time-sampled animation becomes a
    small, valid crate asset ``<name>.anim.usdc`` beside it that the text file references: large
    time-sample dictionaries in text layers are slow, and NVIDIA's asset validator rejects them.
    """
    path = check_usd_path(path)
    text = path.suffix.lower() == ".usda"
    stage = Usd.Stage.Open(Sdf.Layer.CreateAnonymous(".usda" if text else ".usdc"))
    _set_metadata(stage, fps, num_frames)
    if text:
        side = Usd.Stage.Open(Sdf.Layer.CreateAnonymous(".usdc"))
        _set_metadata(side, fps, num_frames)  # same frame rate, or USD would rescale its samples
        authoring = Authoring(stage, side, samples_path(path).name)
    else:
        authoring = Authoring(stage, stage)
    yield authoring
    # Nothing non-finite is ever written: check both layers before anything is renamed into place.
    for layer_stage in {id(stage): stage, id(authoring.samples): authoring.samples}.values():
        bad = nonfinite_values(layer_stage, limit=1)
        if bad:
            raise UsdSynthError(
                f"{bad[0]} has non-finite values (NaN or infinity); nothing was written", path
            )
    if authoring.sidecar_name is None:
        with atomic_path(path) as tmp:
            stage.GetRootLayer().Export(str(tmp))
        return
    side_path = samples_path(path)
    # Both layers are written in one temporary folder, then renamed in this order: the sidecar first, so
    # that the text layer never appears without the samples it references.
    with atomic_paths([side_path, path]) as (tmp_side, tmp):
        authoring.samples.GetRootLayer().Export(str(tmp_side))
        stage.GetRootLayer().Export(str(tmp))
        # Point the written text layer at the sidecar's final name (the live stage keeps its own).
        written = Sdf.Layer.FindOrOpen(str(tmp))
        written.UpdateCompositionAssetDependency(
            authoring.samples.GetRootLayer().identifier, f"./{side_path.name}"
        )
        written.Save()
        del written


_FLOAT_TYPES = ("float", "double", "half", "Vec", "Quat", "Matrix", "Interval", "Range")


def _as_floats(value) -> np.ndarray | None:
    if isinstance(value, (Gf.Quatf, Gf.Quatd, Gf.Quath)):
        return np.array([value.GetReal(), *value.GetImaginary()], dtype=float)
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - a value numpy cannot view is not a float array
        return None
    return arr if arr.dtype.kind in "fc" else None


def nonfinite_values(stage: Usd.Stage, limit: int | None = None) -> list[str]:
    """Attributes of ``stage`` with NaN or infinite values, as ``</prim.attr>`` or ``</prim.attr> at
    time t`` (defaults and every time sample of float-valued attributes: points, translations,
    rotations, extents, transforms); at most ``limit`` findings."""
    found: list[str] = []
    for prim in stage.TraverseAll():
        for attr in prim.GetAuthoredAttributes():
            type_name = attr.GetTypeName().cppTypeName
            if not any(t in type_name for t in _FLOAT_TYPES):
                continue
            for t in [None, *attr.GetTimeSamples()]:
                arr = _as_floats(attr.Get() if t is None else attr.Get(t))
                if arr is not None and arr.size and not np.isfinite(arr).all():
                    when = "" if t is None else f" at time {t:g}"
                    found.append(f"{attr.GetPath()}{when}")
                    if limit is not None and len(found) >= limit:
                        return found
                    break  # one finding per attribute
    return found


def open_stage(path: str | Path) -> Usd.Stage:
    """Open a USD file, turning USD's errors (missing, truncated, not USD) into one clear line."""
    path = Path(path)
    if not path.is_file():
        raise UsdSynthError("no such file", path)
    if path.stat().st_size == 0:
        raise UsdSynthError("file is empty", path)
    try:
        stage = Usd.Stage.Open(str(path))
    except Exception as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise UsdSynthError(f"not a readable USD file (truncated or corrupt?): {msg}", path) from None
    if stage is None:
        raise UsdSynthError("not a readable USD file", path)
    return stage
