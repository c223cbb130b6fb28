"""The scene config schema (pydantic v2): what a scene's randomization may draw, with a default for every
range. The dataset builder's ``scene:`` section is this schema.

Unknown keys and out-of-range values are errors that name the key path (``cameras.count``), raised as
:class:`~usd_synth.errors.UsdSynthError` with ``field`` = that path (see :func:`load_scene_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from usd_synth.config_files import read_config_file
from usd_synth.errors import UsdSynthError

VIEWS = (
    "front",
    "back",
    "left",
    "right",
    "front-left",
    "front-right",
    "upper-left",
    "upper-right",
    "ceiling-corner",
)
TRAJECTORIES = ("static", "orbit", "dolly", "handheld")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Model):
    """A closed interval ``[min, max]`` a value is drawn from uniformly."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


def _range(lo: float, hi: float, ge: float, le: float):
    """A Range field with default [lo, hi] whose ends must lie in [ge, le]."""

    class Bounded(Range):
        min: float = Field(lo, ge=ge, le=le)
        max: float = Field(hi, ge=ge, le=le)

    Bounded.__name__ = Bounded.__qualname__ = "Range"
    return Field(default_factory=lambda: Bounded(min=lo, max=hi)), Bounded


_dist_f, _Dist = _range(2.0, 9.0, 0.3, 100.0)
_elev_f, _Elev = _range(2.0, 30.0, -30.0, 89.0)
_focal_f, _Focal = _range(18.0, 35.0, 6.0, 300.0)
_orbit_f, _Orbit = _range(10.0, 40.0, 0.0, 180.0)
_dolly_f, _Dolly = _range(0.1, 0.3, 0.0, 0.9)
_shake_f, _Shake = _range(0.005, 0.02, 0.0, 0.2)
_pcount_f, _PCount = _range(2, 6, 0, 40)
_dome_f, _Dome = _range(300.0, 1200.0, 0.0, 100000.0)
_sun_f, _Sun = _range(1000.0, 5000.0, 0.0, 1e6)
_temp_f, _Temp = _range(3000.0, 6500.0, 1000.0, 15000.0)
_sunel_f, _SunEl = _range(25.0, 70.0, 1.0, 90.0)
_ceil_f, _Ceil = _range(8000.0, 30000.0, 0.0, 1e7)


class ClipConfig(_Model):
    fps: float = Field(
        30.0, gt=0, le=240, description="timeCodesPerSecond of the scene; motions are resampled"
    )
    frames: int | None = Field(None, ge=1, le=100000, description="clip length; default: the shortest actor")
    max_frames: int = Field(150, ge=1, le=100000, description="cap on the default clip length")


class ActorsConfig(_Model):
    body_model: Literal["anny"] = "anny"
    separation_m: float = Field(0.3, ge=0.0, le=10.0, description="gap between actors' footprints")
    wall_margin_m: float = Field(0.15, ge=0.0, le=5.0, description="gap to the walkable region's edge")
    prop_clearance_m: float = Field(0.25, ge=0.0, le=5.0, description="gap between actors and props")
    clothing: bool = True
    long_sleeves_probability: float = Field(0.5, ge=0.0, le=1.0)
    shorts_probability: float = Field(0.25, ge=0.0, le=1.0)
    placement_tries: int = Field(150, ge=1, le=100000, description="tries per actor and round")


class PropsConfig(_Model):
    count: _PCount = _pcount_f  # type: ignore[valid-type]
    user_dir: str | None = Field(None, description="folder of .usd/.usda/.usdc props placed like the others")
    user_probability: float = Field(0.3, ge=0.0, le=1.0, description="chance a prop comes from user_dir")
    gap_m: float = Field(0.1, ge=0.0, le=5.0, description="gap between props and to the walls")


class LightsConfig(_Model):
    dome_intensity: _Dome = _dome_f  # type: ignore[valid-type]
    sun_intensity: _Sun = _sun_f  # type: ignore[valid-type]
    sun_elevation_deg: _SunEl = _sunel_f  # type: ignore[valid-type]
    color_temperature: _Temp = _temp_f  # type: ignore[valid-type]
    ceiling_intensity: _Ceil = _ceil_f  # type: ignore[valid-type]
    ceiling_lights: bool = True
    ceiling_kind: Literal["rect", "sphere", "any"] = "any"


class CamerasConfig(_Model):
    count: int = Field(3, ge=1, le=16)
    views: list[Literal[VIEWS]] = Field(default_factory=lambda: list(VIEWS), min_length=1)  # type: ignore[valid-type]
    trajectories: list[Literal[TRAJECTORIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(TRAJECTORIES), min_length=1
    )
    distance_m: _Dist = _dist_f  # type: ignore[valid-type]
    elevation_deg: _Elev = _elev_f  # type: ignore[valid-type]
    focal_length_mm: _Focal = _focal_f  # type: ignore[valid-type]
    horizontal_aperture_mm: float = Field(36.0, gt=0, le=100)
    aspect: float = Field(16 / 9, gt=0.2, le=5.0, description="width / height of the image")
    orbit_deg: _Orbit = _orbit_f  # type: ignore[valid-type]
    dolly_fraction: _Dolly = _dolly_f  # type: ignore[valid-type]
    shake_m: _Shake = _shake_f  # type: ignore[valid-type]
    margin: float = Field(0.08, ge=0.0, le=0.5, description="fraction of the image kept free at its edges")
    tries: int = Field(200, ge=1, le=100000)


class SceneConfig(_Model):
    """Everything a randomized scene may vary; defaults for every range."""

    templates: list[str] | None = Field(
        None, min_length=1, description="templates to draw from (default all)"
    )
    clip: ClipConfig = Field(default_factory=ClipConfig)
    actors: ActorsConfig = Field(default_factory=ActorsConfig)
    props: PropsConfig = Field(default_factory=PropsConfig)
    lights: LightsConfig = Field(default_factory=LightsConfig)
    cameras: CamerasConfig = Field(default_factory=CamerasConfig)


def _key_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith(("function-", "Literal[")))]
    return ".".join(parts) or "scene"


def scene_config(
    data: dict[str, Any] | SceneConfig | None = None, path: str | Path | None = None
) -> SceneConfig:
    """A validated :class:`SceneConfig` from a mapping; errors name the key path (``field``)."""
    if isinstance(data, SceneConfig):
        return data
    if data is None:
        return SceneConfig()
    if not isinstance(data, dict):
        raise UsdSynthError(f"the scene config must be a mapping, got {type(data).__name__}", path)
    try:
        return SceneConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _key_path(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise UsdSynthError(f"{key}: {msg}", path, field=key) from None


def load_scene_config(path: str | Path) -> SceneConfig:
    """Read a YAML or JSON scene config (bare, or under a ``scene:`` key)."""
    data = read_config_file(path, section="scene")
    return scene_config({} if data is None else data, path)
