"""numpy <-> Gf matrices.

usd-synth's numpy code uses column vectors (``x' = R x + t``); USD's ``GfMatrix4d`` uses row vectors
(``x' = x M``), so the rotation block is transposed and the translation is the last row.
"""

from __future__ import annotations

import numpy as np
from pxr import Gf


def gf_matrix(rot: np.ndarray, trans: np.ndarray) -> Gf.Matrix4d:
    """A USD row-vector matrix from a column-vector rotation (3, 3) and a translation (3,)."""
    m = np.eye(4)
    m[:3, :3] = rot.T
    m[3, :3] = trans
    return Gf.Matrix4d(m.tolist())


def gf_matrices(rot: np.ndarray, trans: np.ndarray) -> list[Gf.Matrix4d]:
    """:func:`gf_matrix` of each of (N, 3, 3) rotations and (N, 3) translations."""
    return [gf_matrix(r, t) for r, t in zip(rot, trans, strict=True)]


def np_matrices(values) -> np.ndarray:
    """(N, 4, 4) float64 row-vector matrices from a Gf matrix array (or anything with 16 numbers each)."""
    return np.array(values, dtype=np.float64).reshape(-1, 4, 4)


def rows_to_columns(m: np.ndarray) -> np.ndarray:
    """Row-vector (USD) matrices (..., 4, 4) as column-vector ones, and back: the transpose."""
    return np.swapaxes(m, -1, -2)
