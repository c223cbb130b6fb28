"""Turn an animated system plus emulation values into the frames of one clip.

Steps: fix the framing from a small numpy chaos game on the first, middle and last frames (so the fractal
fills the view and the camera does not breathe with it), compose the per-frame homographies (framing,
instance placement and clone, camera, perspective, pixels), run the Warp chaos game for all frames at once,
log-tone-map with one normalisation per clip, then composite a background and add blur and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from usd_synth.fractal.emulation import ClipEmulation, camera_matrices, object_matrices, similarity
from usd_synth.fractal.system import FractalSystem, Perturbation
from usd_synth.kernels.fractal import chaos_game_np, render_histograms
from usd_synth.randomize import entropy_for, rng_for

#: Framing pass: points, iterations and burn-in of the numpy chaos game, the quantile of positions
#: ignored on each side (a few stragglers must not shrink the fractal), and how much of the half
#: view the fractal's larger half-extent fills.
FRAMING_POINTS = 256
FRAMING_ITERATIONS = 48
FRAMING_BURN_IN = 16
FRAMING_QUANTILE = 0.01
FRAMING_FILL = 0.9
#: Backgrounds are rendered with this fraction of the foreground's points, zoomed in by this factor so
#: they cover the frame, blurred by this sigma (pixels at 256 px) and moved by the camera at this parallax.
BACKGROUND_POINT_FRACTION = 0.25
BACKGROUND_ZOOM = 1.3
BACKGROUND_BLUR = 1.0
BACKGROUND_PARALLAX = 0.5
#: Quantile of the non-zero log counts of a clip that maps to full brightness.
TONE_QUANTILE = 0.995


@dataclass(frozen=True)
class RenderSettings:
    """Output geometry and chaos-game budget (the paper: 256 px, 18 frames, 128 points x 7,500)."""

    size: int = 256
    frames: int = 18
    points: int = 128
    iterations: int = 7500
    burn_in: int = 20
    color: bool = False
    device: str = "cpu"


def clip_times(frames: int) -> np.ndarray:
    """Normalised time of each frame: 0 at the first, 1 at the last."""
    return np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(1)


def pixel_matrix(size: int) -> np.ndarray:
    """Normalised view coordinates ([-1, 1], y up) to pixel coordinates (x right, y down)."""
    h = size / 2.0
    return np.array([[h, 0.0, h], [0.0, -h, h], [0.0, 0.0, 1.0]])


def framing_matrix(
    system: FractalSystem, perturbation: Perturbation | None, tau: np.ndarray, seed: int
) -> np.ndarray | None:
    """Similarity taking the fractal at times ``tau`` into the view, or ``None`` when it collapses or
    escapes (a degenerate system)."""
    maps, probs, _ = system.maps_at(tau, perturbation)
    xy, _ = chaos_game_np(
        maps, probs, system.variation, FRAMING_POINTS, FRAMING_ITERATIONS, FRAMING_BURN_IN, seed
    )
    pts = xy.reshape(-1, 2).astype(np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 16:
        return None
    lo, hi = np.quantile(pts, [FRAMING_QUANTILE, 1.0 - FRAMING_QUANTILE], axis=0)
    half = float(np.max(hi - lo)) / 2.0
    if not np.isfinite(half) or half < 1e-6:
        return None
    centre = (lo + hi) / 2.0
    s = FRAMING_FILL / half
    return np.array([[s, 0.0, -s * centre[0]], [0.0, s, -s * centre[1]], [0.0, 0.0, 1.0]])


def key_times(frames: int) -> np.ndarray:
    """First, middle and last frame times: what the framing (and the class filter) look at."""
    tau = clip_times(frames)
    return tau[np.unique([0, (frames - 1) // 2, frames - 1])]


def tone_map(counts: np.ndarray, rgb: np.ndarray | None = None) -> np.ndarray:
    """Log tone mapping normalised once per clip: ``log(1 + n) / log(1 + n_ref)`` clipped to 1, where
    ``n_ref`` is a high quantile of the clip's non-zero counts (a few hot pixels at fixed points must not
    darken everything else). Colour output multiplies by each pixel's mean point colour."""
    logc = np.log1p(counts)
    nonzero = logc[logc > 0]
    if nonzero.size == 0:
        v = np.zeros_like(logc)
    else:
        sample = nonzero[:: max(1, nonzero.size // 50_000)]
        ref = max(float(np.quantile(sample, TONE_QUANTILE)), 1e-6)
        v = np.minimum(logc / np.float32(ref), np.float32(1.0))
    if rgb is None:
        return v.astype(np.float32)
    mean = rgb / np.maximum(counts, 1.0)[..., None]
    return (v[..., None] * np.clip(mean, 0.0, 1.0)).astype(np.float32)


def render_layer(
    system: FractalSystem,
    perturbation: Perturbation | None,
    tau: np.ndarray,
    views: np.ndarray,
    settings: RenderSettings,
    seed: int,
    points: int | None = None,
) -> np.ndarray:
    """Tone-mapped frames of one system seen through ``views`` ``(T, V, 3, 3)`` (fractal to pixels)."""
    maps, probs, colors = system.maps_at(tau, perturbation)
    counts, rgb = render_histograms(
        maps,
        probs,
        views,
        settings.size,
        settings.size,
        system.variation,
        points or settings.points,
        settings.iterations,
        settings.burn_in,
        seed,
        device=settings.device,
        colors=colors if settings.color else None,
    )
    return tone_map(counts, rgb)


def render_clip(
    system: FractalSystem,
    perturbation: Perturbation | None,
    emulation: ClipEmulation,
    settings: RenderSettings,
    seed: int,
    background: FractalSystem | None = None,
) -> np.ndarray | None:
    """Frames ``(T, S, S)`` (or ``(T, S, S, 3)`` in colour) as uint8, or ``None`` if the system is
    degenerate (cannot be framed). ``seed`` drives the chaos game, the framing pass and the noise, through
    the seeding rule (:mod:`usd_synth.randomize.seeding`): four kernel seeds from ``(seed, "render")``, the
    noise from ``(seed, "noise")``."""
    seeds = entropy_for(seed, "render", words=4)
    tau = clip_times(settings.frames)
    framing = framing_matrix(system, perturbation, key_times(settings.frames), int(seeds[0]))
    if framing is None:
        return None
    pix = pixel_matrix(settings.size)
    cam = camera_matrices(emulation, tau)
    views = pix @ cam[:, None] @ object_matrices(emulation, tau) @ framing
    frames = render_layer(system, perturbation, tau, views, settings, int(seeds[1]))

    if emulation.background is not None and background is not None:
        bg_tau = tau if emulation.background == "moving" else np.zeros_like(tau)
        bg_framing = framing_matrix(background, None, key_times(settings.frames), int(seeds[2]))
        if bg_framing is not None:
            bg_cam = camera_matrices(emulation, tau, parallax=BACKGROUND_PARALLAX)
            bg_views = pix @ bg_cam[:, None] @ similarity(BACKGROUND_ZOOM) @ bg_framing
            bg_points = max(16, int(settings.points * BACKGROUND_POINT_FRACTION))
            bg = render_layer(background, None, bg_tau, bg_views, settings, int(seeds[3]), bg_points)
            sigma = BACKGROUND_BLUR * settings.size / 256.0
            bg = gaussian_filter(bg, _spatial(bg, sigma)) * np.float32(emulation.background_brightness)
            frames = 1.0 - (1.0 - frames) * (1.0 - bg)  # screen blend: the foreground stays on top

    if emulation.blur > 0:
        frames = gaussian_filter(frames, _spatial(frames, emulation.blur))
    if emulation.noise > 0:
        noise_rng = rng_for(seed, "noise")
        frames = frames + noise_rng.normal(0.0, emulation.noise, frames.shape).astype(np.float32)
    return np.round(np.clip(frames, 0.0, 1.0) * 255.0).astype(np.uint8)


def _spatial(frames: np.ndarray, sigma: float) -> tuple[float, ...]:
    """Gaussian sigmas that blur rows and columns only (not time, not colour)."""
    return (0.0, sigma, sigma) + ((0.0,) if frames.ndim == 4 else ())
