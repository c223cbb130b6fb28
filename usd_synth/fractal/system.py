"""Animated systems (one per class) and the smooth per-instance perturbations that make clips differ.

A :class:`FractalSystem` is two endpoint systems in decomposed form, a time curve per map, optionally a
non-linear variation, and map colours. A :class:`Perturbation` adds to every decomposed parameter a small
offset plus a slow sinusoid over the clip and shifts the clip's timing a little, so all clips of a class
share their structure and motion but differ in detail.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from usd_synth.fractal.curves import CURVES, evaluate_curve, sample_curve
from usd_synth.fractal.ifs import (
    MAX_MAPS,
    MIN_MAPS,
    MapParams,
    compose_maps,
    map_probabilities,
    sample_map_params,
    sample_reflections,
)
from usd_synth.kernels.fractal import VARIATIONS

#: Perturbation channels and the size of one unit of instance jitter on each: angles in radians,
#: singular values and biases in their own units.
JITTER_CHANNELS: tuple[str, ...] = ("theta", "phi", "s1", "s2", "bx", "by")
JITTER_SCALE = np.array([0.12, 0.12, 0.04, 0.04, 0.08, 0.08])


@dataclass(frozen=True)
class FractalSystem:
    """An animated IFS: everything needed to rebuild any frame of any instance of a class."""

    start: MapParams
    end: MapParams
    reflections: np.ndarray  # (M, 2, 2) diagonals of D1, D2
    curve_kind: int  # index into CURVES
    curve: np.ndarray  # (M, CURVE_PARAMS)
    variation: int  # index into VARIATIONS
    colors: np.ndarray  # (M, 3) in [0, 1]
    frames: int  # clip length the curve timing was drawn for

    @property
    def n_maps(self) -> int:
        return int(self.start.theta.shape[-1])

    def describe(self) -> dict:
        """A short JSON-friendly summary for the manifest."""
        return {
            "maps": self.n_maps,
            "curve": CURVES[self.curve_kind],
            "variation": VARIATIONS[self.variation],
        }

    def params_at(self, tau: np.ndarray, perturbation: Perturbation | None = None) -> MapParams:
        """Decomposed parameters ``(T, M)`` at times ``tau``, with an optional instance perturbation."""
        tau = np.asarray(tau, dtype=np.float64)
        if perturbation is not None:
            tau = perturbation.warp_time(tau)
        w = evaluate_curve(self.curve_kind, self.curve, tau)  # (T, M)
        theta = self.start.theta + w * _angle_delta(self.start.theta, self.end.theta)
        phi = self.start.phi + w * _angle_delta(self.start.phi, self.end.phi)
        sigma = self.start.sigma + w[..., None] * (self.end.sigma - self.start.sigma)
        bias = self.start.bias + w[..., None] * (self.end.bias - self.start.bias)
        if perturbation is not None:
            d = perturbation.offsets(tau)  # (T, 6, M)
            theta = theta + d[:, 0]
            phi = phi + d[:, 1]
            sigma = sigma + np.stack([d[:, 2], d[:, 3]], axis=-1)
            bias = bias + np.stack([d[:, 4], d[:, 5]], axis=-1)
        s1 = np.clip(sigma[..., 0], 0.05, 1.0)
        s2 = np.clip(sigma[..., 1], 0.0, s1)
        return MapParams(theta=theta, phi=phi, sigma=np.stack([s1, s2], axis=-1), bias=bias)

    def maps_at(
        self, tau: np.ndarray, perturbation: Perturbation | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kernel inputs at times ``tau``: maps ``(T, M, 6)``, probabilities ``(T, M)``, colours
        ``(T, M, 3)``."""
        maps, det = compose_maps(self.params_at(tau, perturbation), self.reflections)
        colors = self.colors if perturbation is None else perturbation.tint(self.colors)
        return maps, map_probabilities(det), np.broadcast_to(colors, (len(maps), *colors.shape))

    # -- persistence -----------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat arrays for ``params/<class>.npz``."""
        out: dict[str, np.ndarray] = {}
        for name, mp in (("start", self.start), ("end", self.end)):
            for f in fields(MapParams):
                out[f"{name}_{f.name}"] = np.asarray(getattr(mp, f.name))
        out.update(
            reflections=self.reflections,
            curve_kind=np.array(self.curve_kind),
            curve_name=np.array(CURVES[self.curve_kind]),
            curve=self.curve,
            variation=np.array(self.variation),
            variation_name=np.array(VARIATIONS[self.variation]),
            colors=self.colors,
            frames=np.array(self.frames),
        )
        return out

    @classmethod
    def from_arrays(cls, arrays) -> FractalSystem:
        """Inverse of :meth:`to_arrays` (accepts an open ``np.load`` result)."""

        def mp(name: str) -> MapParams:
            return MapParams(**{f.name: np.asarray(arrays[f"{name}_{f.name}"]) for f in fields(MapParams)})

        return cls(
            start=mp("start"),
            end=mp("end"),
            reflections=np.asarray(arrays["reflections"]),
            curve_kind=int(arrays["curve_kind"]),
            curve=np.asarray(arrays["curve"]),
            variation=int(arrays["variation"]),
            colors=np.asarray(arrays["colors"]),
            frames=int(arrays["frames"]),
        )


def _angle_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shortest signed rotation from ``a`` to ``b`` (so interpolation never spins the long way round)."""
    return (b - a + np.pi) % (2.0 * np.pi) - np.pi


def sample_system(
    rng: np.random.Generator,
    frames: int,
    variation_p: float = 0.25,
    motion: tuple[float, float] = (0.3, 0.8),
) -> FractalSystem:
    """Draw one animated system.

    The second endpoint is the first moved a random fraction (``motion``) of the way towards an
    independent system: far enough for visible motion, near enough that the clip reads as one object
    changing rather than a cross-fade between two unrelated fractals. The sigma-factor constraint is
    convex, so the blend of two valid systems is valid.
    """
    n_maps = int(rng.integers(MIN_MAPS, MAX_MAPS + 1))
    start = sample_map_params(n_maps, rng)
    other = sample_map_params(n_maps, rng)
    k = rng.uniform(*motion)
    end = MapParams(
        theta=start.theta + k * _angle_delta(start.theta, other.theta),
        phi=start.phi + k * _angle_delta(start.phi, other.phi),
        sigma=start.sigma + k * (other.sigma - start.sigma),
        bias=start.bias + k * (other.bias - start.bias),
    )
    curve_kind = int(rng.integers(len(CURVES)))
    curve = sample_curve(curve_kind, n_maps, frames, rng)
    variation = int(rng.integers(1, len(VARIATIONS))) if rng.random() < variation_p else 0
    hue = rng.uniform(0.0, 1.0) + rng.uniform(-0.25, 0.25, n_maps)
    colors = _hsv_to_rgb(hue % 1.0, rng.uniform(0.5, 1.0, n_maps), np.ones(n_maps))
    return FractalSystem(
        start=start,
        end=end,
        reflections=sample_reflections(n_maps, rng),
        curve_kind=curve_kind,
        curve=curve,
        variation=variation,
        colors=colors,
        frames=frames,
    )


@dataclass(frozen=True)
class Perturbation:
    """Smooth per-instance change of a system: ``offset + amp * sin(2 pi freq tau + phase)`` per parameter."""

    const: np.ndarray  # (6, M)
    amp: np.ndarray  # (6, M)
    freq: np.ndarray  # (6, M)
    phase: np.ndarray  # (6, M)
    time_shift: float
    time_scale: float
    hue_shift: float

    def offsets(self, tau: np.ndarray) -> np.ndarray:
        """Parameter offsets ``(T, 6, M)`` at (already warped) times ``tau``."""
        t = np.asarray(tau)[:, None, None]
        return self.const + self.amp * np.sin(2.0 * np.pi * self.freq * t + self.phase)

    def warp_time(self, tau: np.ndarray) -> np.ndarray:
        """Shift and stretch the clip's timing slightly, so instances are not frame-synchronous."""
        return (np.asarray(tau) - 0.5) * self.time_scale + 0.5 + self.time_shift

    def tint(self, colors: np.ndarray) -> np.ndarray:
        """Rotate the class colours' hue a little (only visible in colour output)."""
        a = 2.0 * np.pi * self.hue_shift
        k = np.full(3, 1.0 / np.sqrt(3.0))  # rotate about the grey axis
        cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
        rot = np.cos(a) * np.eye(3) + np.sin(a) * cross + (1.0 - np.cos(a)) * np.outer(k, k)
        return np.clip(colors @ rot.T, 0.0, 1.0)


def sample_perturbation(n_maps: int, rng: np.random.Generator, jitter: float = 1.0) -> Perturbation:
    """Draw an instance perturbation; ``jitter`` scales all of it (0 gives exact copies of the class)."""
    scale = JITTER_SCALE[:, None] * jitter
    shape = (len(JITTER_CHANNELS), n_maps)
    return Perturbation(
        const=rng.normal(0.0, 1.0, shape) * scale,
        amp=rng.uniform(0.0, 1.0, shape) * scale,
        freq=rng.uniform(0.25, 1.0, shape),
        phase=rng.uniform(-np.pi, np.pi, shape),
        time_shift=float(rng.uniform(-0.1, 0.1) * min(jitter, 1.0)),
        time_scale=float(1.0 + rng.uniform(-0.15, 0.15) * min(jitter, 1.0)),
        hue_shift=float(rng.uniform(-0.2, 0.2) * min(jitter, 1.0)),
    )


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    i = np.floor(h * 6.0).astype(int) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    table = np.stack([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)])  # (6, 3, M)
    return table[i, :, np.arange(len(h))].astype(np.float64)


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an ``.npz`` whose bytes depend only on the arrays (``np.savez`` stamps the current time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
