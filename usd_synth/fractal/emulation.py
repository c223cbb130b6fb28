"""Properties of real video emulated at generation time: configuration, per-clip sampling and geometry.

Every property has a probability ``p`` (the chance a clip gets it) and a ``range`` its strength is drawn
from; ``background`` also has ``moving_p``. ``--emulate none`` turns all of them off, ``default`` uses
:data:`DEFAULTS`, and a JSON file changes some of them (see ``docs/fractal.md``).

Geometric properties become per-frame homographies applied when points are splatted, so camera moves,
placement, a clone and a perspective warp cost no resampling and no blur; photometric ones (background,
blur, noise) are applied to the tone-mapped frames in :mod:`usd_synth.fractal.render`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.randomize import rng_for

#: Default probability and range of each property. Units: ``scale`` and ``clone`` are size factors,
#: ``placement``, ``drift``, ``camera_pan``, ``camera_shake`` and ``perspective`` are fractions of the
#: half frame, ``camera_zoom`` is the zoom factor reached at the last frame, ``background`` the
#: background brightness, ``blur`` a Gaussian sigma in pixels, ``noise`` a Gaussian std (full scale = 1).
DEFAULTS: dict[str, dict] = {
    "background": {"p": 0.5, "range": [0.15, 0.35], "moving_p": 0.5},
    "scale": {"p": 0.5, "range": [0.55, 1.0]},
    "placement": {"p": 0.5, "range": [0.0, 0.3]},
    "drift": {"p": 0.3, "range": [0.1, 0.4]},
    "clone": {"p": 0.2, "range": [0.6, 1.0]},
    "camera_pan": {"p": 0.3, "range": [0.05, 0.3]},
    "camera_zoom": {"p": 0.3, "range": [0.8, 1.25]},
    "camera_shake": {"p": 0.2, "range": [0.005, 0.02]},
    "perspective": {"p": 0.2, "range": [0.05, 0.2]},
    "blur": {"p": 0.2, "range": [0.5, 1.5]},
    "noise": {"p": 0.2, "range": [0.005, 0.03]},
}
_EXTRA_KEYS = {"background": {"moving_p"}}
#: Bounds a value in ``range`` must respect, per property.
_LIMITS: dict[str, tuple[float, float]] = {
    "background": (0.0, 1.0),
    "scale": (0.05, 4.0),
    "placement": (0.0, 2.0),
    "drift": (0.0, 4.0),
    "clone": (0.05, 4.0),
    "camera_pan": (0.0, 4.0),
    "camera_zoom": (0.1, 10.0),
    "camera_shake": (0.0, 1.0),
    "perspective": (0.0, 0.9),
    "blur": (0.0, 20.0),
    "noise": (0.0, 1.0),
}


@dataclass(frozen=True)
class Property:
    """One emulated property: probability, strength range and property-specific extras."""

    p: float
    range: tuple[float, float]
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EmulationConfig:
    """All properties, by name (keys of :data:`DEFAULTS`)."""

    properties: dict[str, Property]
    source: str = "default"

    def to_json(self) -> dict:
        props = self.properties
        return {name: {"p": prop.p, "range": list(prop.range), **prop.extra} for name, prop in props.items()}


def _from_dict(data: dict[str, dict], source: str) -> EmulationConfig:
    props = {
        name: Property(
            p=float(v["p"]),
            range=(float(v["range"][0]), float(v["range"][1])),
            extra={k: float(v[k]) for k in _EXTRA_KEYS.get(name, ())},
        )
        for name, v in data.items()
    }
    return EmulationConfig(props, source)


def default_config() -> EmulationConfig:
    return _from_dict(DEFAULTS, "default")


def none_config() -> EmulationConfig:
    data = {name: {**v, "p": 0.0} for name, v in DEFAULTS.items()}
    data["background"]["moving_p"] = 0.0
    return _from_dict(data, "none")


def load_emulation(spec: str) -> EmulationConfig:
    """``none``, ``default`` or the path of a JSON file of overrides (unknown keys are errors)."""
    if spec == "none":
        return none_config()
    if spec == "default":
        return default_config()
    path = Path(spec)
    if not path.is_file():
        raise UsdSynthError(
            f"emulation {spec}: not 'none', 'default' or an existing JSON file", field="emulation"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsdSynthError(f"cannot read the emulation config as JSON ({exc})", path=path) from None
    if not isinstance(data, dict):
        raise UsdSynthError("the emulation config must be a JSON object of properties", path=path)
    base = data.pop("base", "default")
    if base not in ("default", "none"):
        raise UsdSynthError(f"'base' must be 'default' or 'none', not {base!r}", path=path)
    merged = (default_config() if base == "default" else none_config()).to_json()
    for key, value in data.items():
        if key not in DEFAULTS:
            known = ", ".join(["base", *DEFAULTS])
            raise UsdSynthError(f"unknown emulation key '{key}' (known: {known})", path=path)
        if not isinstance(value, dict):
            example = '{"p": 0.5, "range": [lo, hi]}'
            raise UsdSynthError(f"'{key}' must be an object like {example}", path=path)
        allowed = {"p", "range", *_EXTRA_KEYS.get(key, ())}
        for sub, sub_value in value.items():
            if sub not in allowed:
                raise UsdSynthError(
                    f"unknown emulation key '{key}.{sub}' (known: {', '.join(sorted(allowed))})", path=path
                )
            merged[key][sub] = sub_value
        _check_property(key, merged[key], path)
    return _from_dict(merged, str(path))


def _check_property(key: str, value: dict, path: Path) -> None:
    for prob in ("p", *_EXTRA_KEYS.get(key, ())):
        v = value[prob]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
            raise UsdSynthError(f"'{key}.{prob}' must be a probability in [0, 1], not {v!r}", path=path)
    rng = value["range"]
    lo_lim, hi_lim = _LIMITS[key]
    ok = (
        isinstance(rng, list)
        and len(rng) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in rng)
        and lo_lim <= rng[0] <= rng[1] <= hi_lim
    )
    if not ok:
        raise UsdSynthError(
            f"'{key}.range' must be [lo, hi] with {lo_lim} <= lo <= hi <= {hi_lim}, not {rng!r}", path=path
        )


# ---------------------------------------------------------------------------------------------------------
# per-clip sampling
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipEmulation:
    """Concrete emulation values of one clip (all identity when nothing is applied)."""

    scale: float = 1.0
    place: tuple[float, float] = (0.0, 0.0)
    drift: tuple[float, float] = (0.0, 0.0)
    clone: tuple[float, float, float, float] | None = None  # (scale factor, dx, dy, rotation)
    pan: tuple[float, float] = (0.0, 0.0)
    zoom: float = 1.0
    shake: float = 0.0
    shake_seed: int = 0
    perspective: tuple[float, ...] | None = None  # 8 corner offsets
    background: str | None = None  # None, "static" or "moving"
    background_brightness: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    applied: dict = field(default_factory=dict)


def _unit(rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(-np.pi, np.pi)
    return np.array([math.cos(a), math.sin(a)])


def sample_emulation(config: EmulationConfig, rng: np.random.Generator) -> ClipEmulation:
    """Draw which properties a clip gets and how strongly. Every property draws its coin even when its
    probability is 0, so one clip's choices never shift another property's random numbers."""
    props = config.properties
    on = {name: bool(rng.random() < props[name].p) for name in DEFAULTS}
    strength = {name: float(rng.uniform(*props[name].range)) for name in DEFAULTS}
    directions = {name: _unit(rng) for name in ("placement", "drift", "clone", "camera_pan")}
    moving = bool(rng.random() < props["background"].extra.get("moving_p", 0.0))
    clone_rotation = float(rng.uniform(-0.6, 0.6))
    corners = rng.uniform(-1.0, 1.0, 8)
    shake_seed = int(rng.integers(2**31))

    applied: dict = {}
    scale = strength["scale"] if on["scale"] else 1.0
    place = np.zeros(2)
    if on["placement"]:
        place = directions["placement"] * strength["placement"] * max(1.0 - 0.5 * scale, 0.2)
        applied["placement"] = [round(float(v), 4) for v in place]
    clone = None
    if on["clone"]:
        scale *= 0.6
        offset = directions["clone"] * 0.42
        place = place - offset
        clone = (strength["clone"], float(2 * offset[0]), float(2 * offset[1]), clone_rotation)
        applied["clone"] = {"scale": round(strength["clone"], 4), "rotation": round(clone_rotation, 4)}
    if scale != 1.0:
        applied["scale"] = round(scale, 4)
    drift = directions["drift"] * strength["drift"] if on["drift"] else np.zeros(2)
    if on["drift"]:
        applied["drift"] = [round(float(v), 4) for v in drift]
    pan = directions["camera_pan"] * strength["camera_pan"] if on["camera_pan"] else np.zeros(2)
    if on["camera_pan"]:
        applied["camera_pan"] = [round(float(v), 4) for v in pan]
    zoom = strength["camera_zoom"] if on["camera_zoom"] else 1.0
    if on["camera_zoom"]:
        applied["camera_zoom"] = round(zoom, 4)
    shake = strength["camera_shake"] if on["camera_shake"] else 0.0
    if on["camera_shake"]:
        applied["camera_shake"] = round(shake, 4)
    perspective = None
    if on["perspective"]:
        perspective = tuple(float(v) for v in corners * strength["perspective"])
        applied["perspective"] = round(strength["perspective"], 4)
    background = None
    brightness = 0.0
    if on["background"]:
        background = "moving" if moving else "static"
        brightness = strength["background"]
        applied["background"] = {"kind": background, "brightness": round(brightness, 4)}
    blur = strength["blur"] if on["blur"] else 0.0
    if on["blur"]:
        applied["blur"] = round(blur, 4)
    noise = strength["noise"] if on["noise"] else 0.0
    if on["noise"]:
        applied["noise"] = round(noise, 4)
    return ClipEmulation(
        scale=float(scale),
        place=(float(place[0]), float(place[1])),
        drift=(float(drift[0]), float(drift[1])),
        clone=clone,
        pan=(float(pan[0]), float(pan[1])),
        zoom=float(zoom),
        shake=float(shake),
        shake_seed=shake_seed,
        perspective=perspective,
        background=background,
        background_brightness=float(brightness),
        blur=float(blur),
        noise=float(noise),
        applied=applied,
    )


# ---------------------------------------------------------------------------------------------------------
# geometry: 3x3 matrices acting on homogeneous 2-D points, in normalised view coordinates [-1, 1]^2
# ---------------------------------------------------------------------------------------------------------


def similarity(scale: float = 1.0, rotation: float = 0.0, offset=(0.0, 0.0)) -> np.ndarray:
    """``p -> scale * R(rotation) p + offset``."""
    c, s = math.cos(rotation) * scale, math.sin(rotation) * scale
    return np.array([[c, -s, offset[0]], [s, c, offset[1]], [0.0, 0.0, 1.0]])


def homography_from_corners(dst: np.ndarray) -> np.ndarray:
    """The homography taking the corners (-1,-1), (1,-1), (1,1), (-1,1) of the view to ``dst`` ``(4, 2)``."""
    src = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows), np.array(rhs))
    return np.append(h, 1.0).reshape(3, 3)


def camera_matrices(emu: ClipEmulation, tau: np.ndarray, parallax: float = 1.0) -> np.ndarray:
    """Per-frame camera transforms ``(T, 3, 3)``: pan, zoom and shake, scaled by ``parallax`` (a far
    background moves less), followed by the clip's fixed perspective warp."""
    shake_rng = rng_for(emu.shake_seed, "camera-shake")
    jitter = shake_rng.normal(0.0, 1.0, (len(tau), 3)) * emu.shake * parallax
    persp = np.eye(3)
    if emu.perspective is not None:
        base = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
        persp = homography_from_corners(base + np.asarray(emu.perspective).reshape(4, 2))
    out = np.empty((len(tau), 3, 3))
    for i, t in enumerate(tau):
        zoom = emu.zoom ** (t * parallax)
        pan = np.asarray(emu.pan) * t * parallax
        cam = similarity(zoom, jitter[i, 2] * 2.0, -zoom * pan + jitter[i, :2])
        out[i] = persp @ cam
    return out


def object_matrices(emu: ClipEmulation, tau: np.ndarray) -> np.ndarray:
    """Per-frame placement of the instance and, with a clone, of its copy: ``(T, V, 3, 3)``."""
    views = []
    for t in tau:
        offset = np.asarray(emu.place) + np.asarray(emu.drift) * t
        mats = [similarity(emu.scale, 0.0, offset)]
        if emu.clone is not None:
            k, dx, dy, rot = emu.clone
            mats.append(similarity(emu.scale * k, rot, offset + np.array([dx, dy])))
        views.append(np.stack(mats))
    return np.stack(views)
