"""Shared checks for array inputs: bounded loading, shapes, finite values and plausible sizes (see
:mod:`usd_synth.limits`); each error names the file."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import rest_positions_from_offsets
from usd_synth.motion.model import stature_from_offsets, validate_motion
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS, template_offsets

if TYPE_CHECKING:
    from usd_synth.motion.retarget import RetargetResult

#: Y-up (x, y, z) -> Z-up (x, -z, y): a +90 degree turn about x; what HumanML3D and SMPL data need.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: Camera (x right, y down, z into the scene) -> Z-up world (x right, y away from the camera, z up).
CAMERA_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _read_npy_header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from an open ``.npy`` stream positioned at its start."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy version {version}")


def npy_shape(path: Path) -> tuple[int, ...] | None:
    """Shape from a ``.npy`` header without reading the data; None if it is not a readable npy header."""
    try:
        with open(path, "rb") as f:
            shape, _, _ = _read_npy_header(f)
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


def _check_header(
    shape: tuple[int, ...],
    dtype: np.dtype,
    path: Path,
    what: str,
    member: bool,
    expect: tuple[int | None, ...] | None = None,
) -> int:
    """Refuse a declared array that is not plain numbers or text, too big, or (``expect``, None = any
    size) of the wrong shape, from its header alone; its size in bytes."""
    if dtype.hasobject:
        raise UsdSynthError(
            f"{what} holds Python objects (dtype {dtype}); only numeric arrays are read", path
        )
    if dtype.kind == "c":
        raise UsdSynthError(f"{what} must be real numbers, got complex dtype {dtype}", path)
    if dtype.kind not in "fiubUS":
        raise UsdSynthError(f"{what} must be numeric, got dtype {dtype}", path)
    if len(shape) >= 1 and dtype.kind in "fiu":
        limits.check_frames(int(shape[0]), path, what)
    limits.check_array_bytes(shape, dtype.itemsize, path, what, member=member)
    if expect is not None and not _shape_ok(shape, expect):
        want = "(" + ", ".join("T" if s is None else str(s) for s in expect) + ")"
        raise UsdSynthError(f"{what} must have shape {want}, got {tuple(shape)}", path)
    return math.prod(int(s) for s in shape) * dtype.itemsize


def _shape_ok(shape: tuple[int, ...], expect: tuple[int | None, ...]) -> bool:
    return len(shape) == len(expect) and all(e is None or e == s for e, s in zip(expect, shape, strict=True))


def load_npy(path: Path, what: str = "the array", shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Load a ``.npy`` array (no pickles), its header checked first (type, size and, given ``shape``
    with None for any size, shape) so that a huge or wrong array is never read."""
    size = limits.check_input_file(path, what=".npy file")
    try:
        with open(path, "rb") as f:
            declared, fortran, dtype = _read_npy_header(f)
            offset = f.tell()
    except Exception as exc:
        if zipfile.is_zipfile(path):
            raise UsdSynthError("is an .npz archive, not a .npy array (wrong format?)", path) from None
        raise UsdSynthError(
            f"not a readable .npy array (truncated or corrupt?): {_short(exc)}", path
        ) from None
    nbytes = _check_header(tuple(declared), dtype, path, what, member=False, expect=shape)
    if offset + nbytes > size:
        raise UsdSynthError(
            f"not a readable .npy array: truncated ({size - offset} of {nbytes} data bytes)", path
        )
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UsdSynthError(
            f"not a readable .npy array (truncated or corrupt?): {_short(exc)}", path
        ) from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def load_npz(path: Path, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` archive (no pickles): ``keys`` that are present (all when None).

    Each member's declared uncompressed size and its ``.npy`` header are checked before anything is
    decompressed, and no more than the header declares is ever read, so a zip bomb costs nothing.
    """
    limits.check_input_file(path, what=".npz archive")
    try:
        z = zipfile.ZipFile(path)
    except Exception:
        if npy_shape(path) is not None:
            raise UsdSynthError("is a .npy array, not an .npz archive (wrong format?)", path) from None
        raise UsdSynthError(
            "not a readable .npz archive (truncated, corrupt or not a zip file)", path
        ) from None
    out: dict[str, np.ndarray] = {}
    with z:
        infos = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i for i in z.infolist()}
        wanted = list(infos) if keys is None else [k for k in keys if k in infos]
        lim = limits.current()
        for key in wanted:
            info = infos[key]
            what = f"archive member {key!r}"
            if info.file_size > lim.max_member_bytes:
                raise UsdSynthError(
                    f"{what} declares {limits.size_text(info.file_size)} uncompressed, more than the "
                    f"{limits.size_text(lim.max_member_bytes)} limit (max_member_bytes)",
                    path,
                    field="max_member_bytes",
                )
            try:
                with z.open(info) as f:
                    shape, fortran, dtype = _read_npy_header(f)
                    nbytes = _check_header(tuple(shape), dtype, path, what, member=True)
                    if nbytes > info.file_size:
                        raise UsdSynthError(
                            f"{what} declares {nbytes} bytes of data but holds at most {info.file_size}", path
                        )
                    data = f.read(nbytes)
            except UsdSynthError:
                raise
            except Exception as exc:
                raise UsdSynthError(
                    f"not a readable .npz archive: {what} is truncated or corrupt ({_short(exc)})", path
                ) from None
            if len(data) != nbytes:
                raise UsdSynthError(f"not a readable .npz archive: {what} is truncated", path)
            arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
            out[key] = arr.copy()
    return out


def check_array(
    arr: np.ndarray, path: Path, what: str, shape: tuple[int | None, ...], min_frames: int = 1
) -> np.ndarray:
    """Float64 copy of ``arr`` after checking its type, shape (None = any size), frame count and values."""
    try:
        arr = np.asarray(arr)
    except Exception:
        raise UsdSynthError(f"{what} is not an array of numbers", path) from None
    if arr.dtype.kind == "c":
        raise UsdSynthError(f"{what} must be real numbers, got complex dtype {arr.dtype}", path)
    if arr.dtype.kind not in "fiub":
        raise UsdSynthError(f"{what} must be numeric, got dtype {arr.dtype}", path)
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape, strict=True))
    if not ok:
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise UsdSynthError(f"{what} must have shape {want}, got {tuple(arr.shape)}", path)
    if arr.shape[0] < min_frames:
        raise UsdSynthError(f"{what} has {arr.shape[0]} frames, need at least {min_frames}", path)
    limits.check_frames(arr.shape[0], path, what)
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise UsdSynthError(f"{what} contains NaN or infinite values (first at frame {frame})", path)
    return arr


def scalar(value: object, path: Path, what: str) -> float:
    """One finite number from a value read from a file (a 0-d or 1-element array, a Python number)."""
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub" or arr.size != 1:
            raise TypeError
        out = float(arr.reshape(-1)[0])
    except (TypeError, ValueError):
        raise UsdSynthError(f"{what} must be a number, got {repr(value)[:40]}", path) from None
    if not math.isfinite(out):
        raise UsdSynthError(f"{what} must be a finite number, got {out}", path)
    return out


def numbers(value: object, path: Path, what: str, max_len: int = 4096) -> np.ndarray:
    """A short finite float vector from a value read from a file (betas and the like)."""
    try:
        arr = np.asarray(value)
    except Exception:
        arr = np.asarray(None)
    if arr.dtype.kind not in "fiub" or arr.size > max_len:
        raise UsdSynthError(f"{what} must be a short list of numbers, got {repr(value)[:40]}", path)
    arr = arr.astype(np.float64).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise UsdSynthError(f"{what} contains NaN or infinite values", path)
    return arr


def estimate_offsets(pos: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rest offsets (24, 3) as retargeting will size them (median bone lengths, template directions,
    template proportions for missing bones), and the measured lengths (24,) (NaN where not measured).

    Cheap (no fitting): used to refuse an absurdly sized skeleton before any rotation is fitted.
    """
    tmpl = template_offsets()
    lengths = np.full(NUM_JOINTS, np.nan)
    for j in range(1, NUM_JOINTS):
        p = SMPL_PARENTS[j]
        if observed[j] and observed[p]:
            lengths[j] = float(np.median(np.linalg.norm(pos[:, j] - pos[:, p], axis=-1)))
    fitted = ~np.isnan(lengths)
    tl = np.linalg.norm(tmpl, axis=-1)
    scale = float(lengths[fitted].sum() / tl[fitted].sum()) if fitted.any() else 0.0
    offsets = tmpl * scale
    offsets[fitted] = tmpl[fitted] / tl[fitted, None] * lengths[fitted, None]
    offsets[0] = 0.0
    rest = rest_positions_from_offsets(offsets)
    feet = [JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]
    offsets[0] = [0.0, -float(rest[feet, 1].min()) + 0.02 * scale, 0.0]
    return offsets, lengths


def retarget_checked(
    pos: np.ndarray,
    fps: float,
    path: Path,
    *,
    observed: np.ndarray,
    measured: np.ndarray | None = None,
    end_sites: dict[int, np.ndarray] | None = None,
    source: dict | None = None,
    refine: bool = False,
) -> RetargetResult:
    """:func:`retarget_positions` behind the input limits: frames, duration, finite and bounded
    coordinates, a plausible stature and bone lengths are checked first (cheaply); a failure of the fit
    becomes a UsdSynthError naming ``path``; the result is checked too."""
    from usd_synth.motion.retarget import retarget_positions

    fps = limits.check_fps(fps, path)
    limits.check_duration(pos.shape[0], fps, path)
    observed = np.asarray(observed, bool)
    limits.check_coordinates(pos[:, observed], path, "the joint positions")
    for site in (end_sites or {}).values():
        limits.check_coordinates(site, path, "the joint positions")
    offsets, lengths = estimate_offsets(pos, observed)
    stature = stature_from_offsets(offsets)
    limits.check_stature(stature, path, "the skeleton these joints give")
    names = [SMPL_JOINTS[j] for j in range(1, NUM_JOINTS)]
    limits.check_bones(np.nan_to_num(lengths[1:]), stature, path, names)
    try:
        with np.errstate(all="ignore"):
            result = retarget_positions(
                pos, fps, observed=observed, measured=measured, end_sites=end_sites, source=source,
                refine=refine,
            )  # fmt: skip
    except UsdSynthError as exc:
        if exc.path is not None:
            raise
        raise UsdSynthError(exc.message, path, field=exc.field, mentions=exc.mentions) from None
    except (np.linalg.LinAlgError, FloatingPointError, ValueError, ZeroDivisionError) as exc:
        raise UsdSynthError(f"retargeting failed on these joints: {_short(exc)}", path) from None
    if not math.isfinite(result.mpjpe):
        raise UsdSynthError("retargeting gave a non-finite residual (degenerate joints?)", path)
    validate_motion(result.motion, path)
    return result


def fps_or(fps: float | None, default: float) -> float:
    return float(default if fps is None else fps)
