"""Time curves that move a system from its first endpoint (0) to its second (1).

Real actions are not all linear: some hold still and then move suddenly, some wander, some repeat.
Each curve maps normalised clip time ``tau`` (0 at the first frame, 1 at the last) to a mixing weight in
[0, 1], one curve per map so the parts of a fractal do not all move in lockstep.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

#: Curve kinds, by the id stored in the class parameters.
CURVES: tuple[str, ...] = ("linear", "sharp", "smooth", "periodic")

_SMOOTH_KNOTS = 5
#: Columns of the per-map curve parameter array (the widest kind, ``smooth``, needs one per knot).
CURVE_PARAMS = _SMOOTH_KNOTS


def sample_curve(kind: int, n_maps: int, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Per-map parameters ``(n_maps, CURVE_PARAMS)`` of curve ``kind`` for a clip of ``frames`` frames.

    * linear: no parameters.
    * sharp: hold, ramp over 4-8 frames (fewer in a very short clip), hold; ``[start, length]`` in tau.
    * smooth: monotone-cubic (PCHIP) curve through ``_SMOOTH_KNOTS`` random knots stretched to [0, 1].
    * periodic: ``0.5 - 0.5 cos(2 pi (cycles tau) + phase)`` with 1 to 2.5 cycles per clip.
    """
    out = np.zeros((n_maps, CURVE_PARAMS))
    span = max(frames - 1, 1)
    if CURVES[kind] == "sharp":
        for i in range(n_maps):
            ramp = min(int(rng.integers(4, 9)), span)
            start = int(rng.integers(0, span - ramp + 1))
            out[i, :2] = (start / span, ramp / span)
    elif CURVES[kind] == "smooth":
        knots = rng.uniform(0.0, 1.0, (n_maps, _SMOOTH_KNOTS))
        lo, hi = knots.min(axis=1, keepdims=True), knots.max(axis=1, keepdims=True)
        out[:] = (knots - lo) / np.maximum(hi - lo, 1e-6)
    elif CURVES[kind] == "periodic":
        out[:, 0] = rng.uniform(1.0, 2.5, n_maps)
        out[:, 1] = rng.uniform(-np.pi, np.pi, n_maps)
    return out


def evaluate_curve(kind: int, params: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Mixing weights ``(T, M)`` of curve ``kind`` at times ``tau`` ``(T,)`` (clipped to [0, 1] for the
    non-periodic kinds, so a time-shifted instance holds at the endpoints)."""
    tau = np.asarray(tau, dtype=np.float64)
    name = CURVES[kind]
    if name == "periodic":
        return 0.5 - 0.5 * np.cos(2.0 * np.pi * params[None, :, 0] * tau[:, None] + params[None, :, 1])
    t = np.clip(tau, 0.0, 1.0)[:, None]
    if name == "linear":
        return np.broadcast_to(t, (len(tau), params.shape[0])).copy()
    if name == "sharp":
        return np.clip((t - params[None, :, 0]) / np.maximum(params[None, :, 1], 1e-6), 0.0, 1.0)
    knots_t = np.linspace(0.0, 1.0, _SMOOTH_KNOTS)
    curve = PchipInterpolator(knots_t, params[:, :_SMOOTH_KNOTS].T, axis=0)
    return np.clip(curve(t[:, 0]), 0.0, 1.0)
