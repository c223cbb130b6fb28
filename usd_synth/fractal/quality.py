"""Degeneracy measures shared by the generator's rejection loops and the tests.

A clip is degenerate when the fractal is nearly invisible or floods the frame (lit area outside
[1 %, 80 %] in some frame) or when nothing visibly moves. The generator redraws class parameters (and,
per clip, the instance perturbation and emulation) until these pass, like the paper's filtering of
degenerate systems; the tests apply the same functions to the decoded mp4 files.
"""

from __future__ import annotations

import numpy as np

#: A pixel is lit when its value is above this fraction of full scale.
LIT_LEVEL = 0.1
LIT_RANGE = (0.01, 0.80)
#: Minimum mean absolute change between consecutive frames, averaged over the clip (fraction of full
#: scale over the whole frame; about one grey level in 255 on average).
MIN_CHANGE = 0.004


def as_unit(frames: np.ndarray) -> np.ndarray:
    """Frames ``(T, H, W[, C])`` as float in [0, 1] (uint8 input is divided by 255); colour becomes the
    per-pixel maximum over channels."""
    f = np.asarray(frames)
    f = f.astype(np.float32) / 255.0 if f.dtype == np.uint8 else f.astype(np.float32)
    return f.max(axis=-1) if f.ndim == 4 else f


def lit_fractions(frames: np.ndarray) -> np.ndarray:
    """Fraction of lit pixels in each frame, ``(T,)``."""
    return (as_unit(frames) > LIT_LEVEL).mean(axis=(1, 2))


def frame_changes(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive frames, ``(T - 1,)``."""
    f = as_unit(frames)
    return np.abs(np.diff(f, axis=0)).mean(axis=(1, 2))


def degeneracy(
    frames: np.ndarray, lit_range: tuple[float, float] = LIT_RANGE, min_change: float = MIN_CHANGE
) -> str | None:
    """``None`` for a usable clip, else a short reason (for logs and the manifest)."""
    lit = lit_fractions(frames)
    if lit.min() < lit_range[0]:
        return f"lit area {lit.min():.3f} below {lit_range[0]}"
    if lit.max() > lit_range[1]:
        return f"lit area {lit.max():.3f} above {lit_range[1]}"
    if len(frames) > 1:
        change = float(frame_changes(frames).mean())
        if change < min_change:
            return f"frame change {change:.4f} below {min_change}"
    return None
