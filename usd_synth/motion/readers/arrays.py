"""Shared checks for array inputs: safe loading, shapes and finite values; each error names the file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from usd_synth.errors import UsdSynthError

#: Y-up (x, y, z) -> Z-up (x, -z, y): a +90 degree turn about x; what HumanML3D and SMPL data need.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: Camera (x right, y down, z into the scene) -> Z-up world (x right, y away from the camera, z up).
CAMERA_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def npy_shape(path: Path) -> tuple[int, ...] | None:
    """Shape from a ``.npy`` header without reading the data; None if it is not a readable npy header."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(f)
        return tuple(shape)
    except Exception:
        return None


def npz_keys(path: Path) -> set[str]:
    """Array names in an ``.npz`` archive (empty when it is not one)."""
    try:
        with zipfile.ZipFile(path) as z:
            return {n[:-4] if n.endswith(".npy") else n for n in z.namelist()}
    except Exception:
        return set()


def load_npy(path: Path) -> np.ndarray:
    """Load a ``.npy`` array (no pickles), turning truncation and corruption into one clear error."""
    if path.stat().st_size == 0:
        raise UsdSynthError("file is empty", path)
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UsdSynthError(f"not a readable .npy array (truncated or corrupt?): {exc}", path) from None


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Load all arrays of an ``.npz`` archive (no pickles) into memory."""
    if path.stat().st_size == 0:
        raise UsdSynthError("file is empty", path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:
        raise UsdSynthError(f"not a readable .npz archive (truncated or corrupt?): {exc}", path) from None


def check_array(
    arr: np.ndarray, path: Path, what: str, shape: tuple[int | None, ...], min_frames: int = 1
) -> np.ndarray:
    """Float64 copy of ``arr`` after checking its shape (None = any size), frame count and values."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiu":
        raise UsdSynthError(f"{what} must be numeric, got dtype {arr.dtype}", path)
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape, strict=True))
    if not ok:
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise UsdSynthError(f"{what} must have shape {want}, got {tuple(arr.shape)}", path)
    if arr.shape[0] < min_frames:
        raise UsdSynthError(f"{what} has {arr.shape[0]} frames, need at least {min_frames}", path)
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise UsdSynthError(f"{what} contains NaN or infinite values (first at frame {frame})", path)
    return arr


def fps_or(fps: float | None, default: float) -> float:
    return float(default if fps is None else fps)
