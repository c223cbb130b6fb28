"""Camera effects applied to rendered RGB clips: defocus, motion blur, exposure and gamma, sensor noise,
JPEG round trip, and the H.264 quality of the mp4.

Each effect has a ``probability`` and ranges in :class:`EffectsConfig` (pydantic, unknown keys forbidden;
a bad value raises :class:`~usd_synth.errors.UsdSynthError` naming the key path). Whether an effect is on
and its strength are drawn once per clip (one camera, one setting), and per-frame noise is drawn frame by
frame, all from the ``numpy.random.Generator`` passed in (make it with ``usd_synth.randomize.rng_for``):
the same seed gives the same pixels. Effects change pixels only: shapes, dtypes and labels stay as they
are (a blur moves no keypoint; labels describe the geometry, not its smear).

Order, as light goes through a camera: defocus (optics), motion blur (exposure time), exposure and gamma
(sensor response), noise (sensor), JPEG (storage); then the mp4 encoder at the drawn CRF.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import ndimage

from usd_synth.errors import UsdSynthError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Strict):
    """A closed interval ``{min, max}`` to draw uniformly from."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self):
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.min, self.max)) if self.max > self.min else float(self.min)


class IntRange(_Strict):
    """A closed integer interval ``{min, max}``."""

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self):
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.min, self.max + 1))


Probability = Field(default=0.0, ge=0.0, le=1.0)


class Noise(_Strict):
    """Gaussian sensor noise with standard deviation ``sigma`` (in 0..255 units), fresh every frame."""

    probability: float = Probability
    sigma: Range = Range(min=1.0, max=6.0)


class MotionBlur(_Strict):
    """``frames``: average each frame with its neighbours (``frames`` of them in all, centred); ``kernel``:
    a directional line kernel ``length_px`` long at a random angle; ``any``: one of the two per clip."""

    probability: float = Probability
    kind: Literal["frames", "kernel", "any"] = "any"
    frames: IntRange = IntRange(min=2, max=4)
    length_px: Range = Range(min=3.0, max=9.0)


class Defocus(_Strict):
    """Gaussian blur of standard deviation ``sigma_px`` pixels."""

    probability: float = Probability
    sigma_px: Range = Range(min=0.5, max=2.0)


class Exposure(_Strict):
    """Exposure change of ``ev`` stops (x 2**ev in linear light) and a display ``gamma`` (1 = none)."""

    probability: float = Probability
    ev: Range = Range(min=-1.0, max=1.0)
    gamma: Range = Range(min=0.8, max=1.25)


class Jpeg(_Strict):
    """Every frame round-tripped through JPEG at ``quality`` (Pillow)."""

    probability: float = Probability
    quality: IntRange = IntRange(min=40, max=95)


class Video(_Strict):
    """The H.264 constant-quality factor of ``rgb.mp4`` (x264 CRF: 0 lossless .. 51 worst)."""

    crf: IntRange = IntRange(min=18, max=18)

    @model_validator(mode="after")
    def _bounds(self):
        if self.crf.min < 0 or self.crf.max > 51:
            raise ValueError("crf must lie in 0..51")
        return self


class EffectsConfig(_Strict):
    """All camera effects; every probability defaults to 0 (off) and the CRF to 18."""

    noise: Noise = Noise()
    motion_blur: MotionBlur = MotionBlur()
    defocus: Defocus = Defocus()
    exposure: Exposure = Exposure()
    jpeg: Jpeg = Jpeg()
    video: Video = Video()


def effects_config(data: Any, path: str | Path | None = None) -> EffectsConfig:
    """Validate a mapping (or an :class:`EffectsConfig`); errors name the key path, e.g.
    ``effects.noise.sigma.min: Input should be a valid number``."""
    if isinstance(data, EffectsConfig):
        return data
    if data is None:
        return EffectsConfig()
    if not isinstance(data, dict):
        raise UsdSynthError(f"effects must be a mapping, got {type(data).__name__}", path, field="effects")
    try:
        return EffectsConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in ("effects", *err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        raise UsdSynthError(f"{key}: {msg}", path, field=key) from None


def sample_effects(config: EffectsConfig, rng: np.random.Generator) -> dict:
    """Draw which effects are on for one clip and their strengths (a JSON-ready dict).

    Every effect draws the same number of values whether it turns out on or off, so one effect's
    setting does not shift another's draws.
    """
    out: dict[str, Any] = {}
    on = rng.random(5)
    d_sigma = config.defocus.sigma_px.draw(rng)
    if on[0] < config.defocus.probability:
        out["defocus"] = {"sigma_px": round(d_sigma, 4)}
    kind = config.motion_blur.kind
    pick = rng.random()
    frames = config.motion_blur.frames.draw(rng)
    length = config.motion_blur.length_px.draw(rng)
    angle = float(rng.uniform(0.0, 180.0))
    if on[1] < config.motion_blur.probability:
        kind = ("frames" if pick < 0.5 else "kernel") if kind == "any" else kind
        out["motion_blur"] = (
            {"kind": "frames", "frames": frames}
            if kind == "frames"
            else {"kind": "kernel", "length_px": round(length, 4), "angle_deg": round(angle, 3)}
        )
    ev, gamma = config.exposure.ev.draw(rng), config.exposure.gamma.draw(rng)
    if on[2] < config.exposure.probability:
        out["exposure"] = {"ev": round(ev, 4), "gamma": round(gamma, 4)}
    sigma = config.noise.sigma.draw(rng)
    if on[3] < config.noise.probability:
        out["noise"] = {"sigma": round(sigma, 4)}
    quality = config.jpeg.quality.draw(rng)
    if on[4] < config.jpeg.probability:
        out["jpeg"] = {"quality": quality}
    out["crf"] = config.video.crf.draw(rng)
    return out


def _line_kernel(length: float, angle_deg: float) -> np.ndarray:
    size = max(1, int(np.ceil(length)) | 1)
    k = np.zeros((size, size))
    c = (size - 1) / 2
    a = np.deg2rad(angle_deg)
    for s in np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * size):
        x, y = c + s * np.cos(a), c - s * np.sin(a)
        k[int(round(y)), int(round(x))] += 1.0
    return k / k.sum()


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def jpeg_round_trip(frame: np.ndarray, quality: int) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 encoded as JPEG at ``quality`` and decoded again (Pillow)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def apply_effects(frames: np.ndarray, plan: dict, rng: np.random.Generator) -> np.ndarray:
    """Apply a plan from :func:`sample_effects` to a clip ``(T, H, W, 3)`` uint8; returns the same shape
    and dtype. ``rng`` draws the per-frame noise."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise UsdSynthError(f"effects need (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    if not any(k in plan for k in ("defocus", "motion_blur", "exposure", "noise", "jpeg")):
        return frames.copy()
    x = frames.astype(np.float32) / 255.0
    if "defocus" in plan:
        s = plan["defocus"]["sigma_px"]
        x = ndimage.gaussian_filter(x, sigma=(0, s, s, 0), mode="nearest")
    if "motion_blur" in plan:
        mb = plan["motion_blur"]
        lin = _srgb_to_linear(x)
        if mb["kind"] == "frames":
            n = int(mb["frames"])
            lin = ndimage.uniform_filter1d(lin, size=n, axis=0, mode="nearest")
        else:
            k = _line_kernel(mb["length_px"], mb["angle_deg"])
            lin = ndimage.convolve(lin, k[None, :, :, None], mode="nearest")
        x = _linear_to_srgb(lin)
    if "exposure" in plan:
        lin = _srgb_to_linear(x) * 2.0 ** plan["exposure"]["ev"]
        x = _linear_to_srgb(lin) ** (1.0 / plan["exposure"]["gamma"])
    if "noise" in plan:
        sigma = plan["noise"]["sigma"] / 255.0
        for t in range(len(x)):
            x[t] += rng.normal(0.0, sigma, x.shape[1:]).astype(np.float32)
    out = np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    if "jpeg" in plan:
        out = np.stack([jpeg_round_trip(f, plan["jpeg"]["quality"]) for f in out])
    return out
