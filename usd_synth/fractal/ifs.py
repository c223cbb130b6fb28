"""Affine maps of an iterated function system, sampled in decomposed form.

Each map is ``A = R(theta) D1 diag(s1, s2) R(phi) D2`` plus a bias ``b``: rotations ``R``, random
reflections ``D`` (diagonal, entries +-1) and singular values ``1 >= s1 >= s2 >= 0``. Keeping the
decomposition (not the matrix) is what lets a system be animated: angles, singular values and biases
interpolate smoothly between two endpoint systems and every intermediate map stays a valid contraction.

Singular values follow the sigma-factor method of Anderson & Farrell ("Improving Fractal Pre-training",
WACV 2022): the weighted sum ``alpha = sum_i (s1_i + 2 s2_i)`` is drawn uniformly from
``[(5 + N) / 2, (6 + N) / 2]`` for ``N`` maps, which is the band where systems look like structured
fractals rather than dust (alpha too small) or filled blobs (alpha too large).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_MAPS = 3
MAX_MAPS = 8


@dataclass(frozen=True)
class MapParams:
    """Decomposed parameters of ``M`` maps; the arrays may carry leading time axes ``(..., M)``."""

    theta: np.ndarray  # (..., M) first rotation angle
    phi: np.ndarray  # (..., M) second rotation angle
    sigma: np.ndarray  # (..., M, 2) singular values, s1 >= s2
    bias: np.ndarray  # (..., M, 2)


def sigma_factor_range(n_maps: int) -> tuple[float, float]:
    """The interval ``alpha`` is drawn from for ``n_maps`` maps."""
    return (5.0 + n_maps) / 2.0, (6.0 + n_maps) / 2.0


def sample_singular_values(n_maps: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Draw ``(n_maps, 2)`` singular values with ``0 <= s2 <= s1 <= 1`` and ``sum(s1 + 2 s2) == alpha``.

    Maps are filled in a random order; each takes a contribution ``c = s1 + 2 s2`` inside the interval
    that still lets the remaining maps (each contributing at most 3) reach the total exactly.
    """
    if not 0.0 <= alpha <= 3.0 * n_maps:
        raise ValueError(f"alpha {alpha} is out of reach for {n_maps} maps")
    out = np.zeros((n_maps, 2))
    remaining = float(alpha)
    for k, i in enumerate(rng.permutation(n_maps)):
        left = n_maps - k - 1
        lo_c = max(0.0, remaining - 3.0 * left)
        hi_c = min(3.0, remaining)
        s1 = rng.uniform(lo_c / 3.0, min(1.0, hi_c))
        lo_s2 = max(0.0, (lo_c - s1) / 2.0)
        hi_s2 = min(s1, (hi_c - s1) / 2.0)
        s2 = rng.uniform(lo_s2, max(lo_s2, hi_s2)) if left else min(s1, max(0.0, (remaining - s1) / 2.0))
        out[i] = (s1, s2)
        remaining -= s1 + 2.0 * s2
    return out


def sample_map_params(n_maps: int, rng: np.random.Generator) -> MapParams:
    """One random system: angles uniform, sigma-factor singular values, biases uniform in [-1, 1]."""
    alpha = rng.uniform(*sigma_factor_range(n_maps))
    return MapParams(
        theta=rng.uniform(-np.pi, np.pi, n_maps),
        phi=rng.uniform(-np.pi, np.pi, n_maps),
        sigma=sample_singular_values(n_maps, alpha, rng),
        bias=rng.uniform(-1.0, 1.0, (n_maps, 2)),
    )


def sample_reflections(n_maps: int, rng: np.random.Generator) -> np.ndarray:
    """Diagonals of ``D1`` and ``D2`` per map: ``(M, 2, 2)`` with entries +-1 (``[:, 0]`` is D1)."""
    return rng.choice(np.array([-1.0, 1.0]), size=(n_maps, 2, 2))


def _rotation(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def compose_maps(params: MapParams, reflections: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Affine maps ``(..., M, 6)`` as ``(a, b, c, d, e, f)`` and their ``|det A|`` ``(..., M)``.

    Leading axes of ``params`` broadcast (a time axis gives one system per frame).
    """
    d1 = reflections[:, 0]  # (M, 2)
    d2 = reflections[:, 1]
    sig = np.clip(params.sigma, 0.0, 1.0)
    left = _rotation(params.theta) * d1[..., None, :]  # R(theta) @ D1 (scales columns)
    left = left * sig[..., None, :]  # ... @ diag(s1, s2)
    right = _rotation(params.phi) * d2[..., None, :]  # R(phi) @ D2
    a = np.einsum("...ij,...jk->...ik", left, right)
    maps = np.concatenate([a.reshape(*a.shape[:-2], 4), params.bias], axis=-1)
    det = np.abs(sig[..., 0] * sig[..., 1])
    return maps, det


def map_probabilities(det: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Map choice probabilities proportional to ``|det A|`` (floored so a flat map still gets drawn)."""
    w = np.maximum(det, floor * np.max(det, axis=-1, keepdims=True) + 1e-12)
    return w / w.sum(axis=-1, keepdims=True)
