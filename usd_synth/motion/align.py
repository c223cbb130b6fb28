"""Time alignment of two motions: linear resampling and dynamic time warping on pose features.

Both methods return a *warp*: for every frame of A, a fractional frame index into B, monotone
non-decreasing, pinned at both ends (A's first frame meets B's first, A's last meets B's last). Frame
rates are reconciled by working on indices scaled to time: the warp maps A's frame ``i`` (at ``A.fps``) to
B's frame ``s[i]`` (at ``B.fps``), and :func:`sample_motion` reads B at those fractional frames (slerp of
neighbouring rotations, linear root position), so B is resampled once, never twice.

* ``linear``: ``s[i] = i (T_B - 1) / (T_A - 1)``, B stretched evenly over A's duration (what the reference
  tool does).
* ``dtw``: B is first stretched linearly to A's frame count; then dynamic time warping on pose features
  (:func:`pose_features`: joint positions relative to the pelvis with the heading removed, on A's skeleton)
  finds the monotone path of least total distance. The step pattern ``(1,1), (2,1), (1,2)`` (Sakoe and
  Chiba's slope constraint P = 1) limits the local playback rate of B to between half and twice its
  average, so a pose is never held or skipped for long; a Sakoe-Chiba band (default a quarter of the
  frames) limits how far the timing may drift from the linear mapping. The path is read as a fractional
  index per A frame (the mean of the matched B frames) and smoothed over three frames.

Headings. :func:`root_heading` splits a root rotation ``R`` into a yaw about the world Z axis and the rest,
``R = Rz(yaw) * Q`` (swing-twist about Z of ``R`` relative to the rest pose, so the split stays defined for
a body lying down); the rest pose has yaw 0 and ``Q = REST_ROOT_QUAT``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.kernels.blend import slerp_np
from usd_synth.kinematics import REST_ROOT_QUAT
from usd_synth.motion.model import Motion, forward_kinematics
from usd_synth.rotations import make_continuous, quat_about, quat_conj, quat_mul

ALIGN_METHODS: tuple[str, ...] = ("dtw", "linear")
_Z = np.array([0.0, 0.0, 1.0])


@dataclass
class Alignment:
    """A time warp from A's frames to fractional frames of B, and how it was found."""

    index: np.ndarray  #: (T_A,) fractional frame of B for every frame of A, monotone, pinned at both ends
    method: str
    params: dict = field(default_factory=dict)  #: method settings and the mean feature distance (JSON-safe)


# ---------------------------------------------------------------------------------------------------------
# heading and sampling
# ---------------------------------------------------------------------------------------------------------


def root_heading(root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split root rotations (..., 4) into yaw about world Z (radians, (...)) and the heading-free part.

    ``root = quat_about(Z, yaw) * rest``; ``rest`` has no twist about Z relative to the rest pose. Yaw is
    wrapped to (-pi, pi]; unwrap it along time before differencing.
    """
    rel = quat_mul(root, quat_conj(REST_ROOT_QUAT))
    # Twist about Z of rel: (0, 0, z, w) normalised; its angle is the yaw (the same in either order).
    yaw = 2.0 * np.arctan2(rel[..., 2], rel[..., 3])
    yaw = np.angle(np.exp(1j * yaw))  # wrap to (-pi, pi]
    rest = quat_mul(quat_about(_Z, -yaw), root)
    return yaw, rest


def unwrapped_heading(root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`root_heading` over time (T, 4): yaw unwrapped along frames, the rest made sign-continuous."""
    yaw, rest = root_heading(root)
    return np.unwrap(yaw), make_continuous(rest, axis=0)


def _neighbours(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower frame, upper frame and fraction for fractional frame indices into n frames."""
    index = np.clip(np.asarray(index, dtype=np.float64), 0.0, n - 1)
    lo = np.floor(index).astype(np.int64)
    lo = np.minimum(lo, n - 1)
    hi = np.minimum(lo + 1, n - 1)
    return lo, hi, index - lo


def sample_rotations(rotations: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rotations (T, J, 4) read at fractional frames (N,) by slerp between neighbouring frames."""
    lo, hi, frac = _neighbours(index, rotations.shape[0])
    return slerp_np(
        rotations[lo], rotations[hi], np.broadcast_to(frac[:, None], (len(frac), rotations.shape[1]))
    )


def sample_linear(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Any per-frame array (T, ...) read at fractional frames (N,) by linear interpolation."""
    lo, hi, frac = _neighbours(index, values.shape[0])
    frac = frac.reshape((-1,) + (1,) * (values.ndim - 1))
    return values[lo] * (1.0 - frac) + values[hi] * frac


def sample_motion(motion: Motion, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A motion's rotations (N, 24, 4) and pelvis positions (N, 3) at fractional frames ``index``.

    Integer indices return the stored frames exactly.
    """
    return sample_rotations(motion.rotations, index), sample_linear(motion.translation, index)


# ---------------------------------------------------------------------------------------------------------
# features and warps
# ---------------------------------------------------------------------------------------------------------


def pose_features(rotations: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(T, 72) joint positions relative to the pelvis, heading removed, on the skeleton ``offsets``.

    Removing the heading and the root position makes the features compare *poses*, not where or which way
    the body walks; using one skeleton for both motions makes them compare rotations, not body sizes.
    """
    _, rest = root_heading(rotations[:, 0])
    local = rotations.copy()
    local[:, 0] = rest
    _, pos = forward_kinematics(local, np.zeros((len(rotations), 3)), offsets)
    return pos.reshape(len(rotations), -1)


def linear_index(n_a: int, n_b: int) -> np.ndarray:
    """B's frames stretched evenly over A's: (n_a,) fractional indices from 0 to n_b - 1."""
    if n_a == 1:
        return np.zeros(1)
    return np.arange(n_a) * ((n_b - 1) / (n_a - 1))


def dtw_path(cost: np.ndarray, band: int | None = None) -> np.ndarray:
    """Least-cost monotone path through ``cost`` (N, N) with steps (1,1), (2,1), (1,2), from (0,0) to the end.

    The step pattern is Sakoe-Chiba's symmetric P = 1: a (2,1) step charges the skipped cell too, so every
    cell on the path counts once. Rows only depend on the two rows before them, so each row is one vector
    operation. Returns an (L, 2) array of (i, j) cells in order.
    """
    n, m = cost.shape
    if n != m:
        raise ValueError("dtw_path expects a square cost matrix (stretch B to A's length first)")
    inf = np.inf
    c = cost.astype(np.float64, copy=True)
    if band is not None:
        frames = np.arange(n)
        c[np.abs(frames[:, None] - frames[None, :]) > band] = inf
    acc = np.full((n, n), inf)
    move = np.zeros((n, n), np.int8)  # 0: diagonal, 1: (2,1) from (i-2, j-1), 2: (1,2) from (i-1, j-2)
    acc[0, 0] = c[0, 0]
    for i in range(1, n):
        diag = np.full(n, inf)
        diag[1:] = acc[i - 1, :-1]
        up = np.full(n, inf)
        if i >= 2:
            up[1:] = acc[i - 2, :-1] + c[i - 1, 1:]
        left = np.full(n, inf)
        left[2:] = acc[i - 1, :-2] + c[i, 1:-1]
        stack = np.stack([diag, up, left])
        move[i] = np.argmin(stack, axis=0)
        acc[i] = c[i] + stack[move[i], np.arange(n)]
    if not np.isfinite(acc[-1, -1]):
        raise UsdSynthError(
            "time alignment found no path inside the DTW window; widen band or use align_method linear",
            mentions=("band", "align_method"),
        )
    path = [(n - 1, n - 1)]
    i = j = n - 1
    while i > 0 or j > 0:
        step = move[i, j]
        if step == 0:
            i, j = i - 1, j - 1
        elif step == 1:
            path.append((i - 1, j))
            i, j = i - 2, j - 1
        else:
            path.append((i, j - 1))
            i, j = i - 1, j - 2
        path.append((i, j))
    return np.array(path[::-1])


def align(a: Motion, b: Motion, method: str = "dtw", band: float = 0.25) -> Alignment:
    """Time warp from A's frames to B's (see the module docstring).

    Args:
        a, b: the two motions; B's rotations are compared on A's skeleton.
        method: ``dtw`` or ``linear``.
        band: DTW only: the Sakoe-Chiba band half-width as a fraction of A's frame count (0 < band <= 1).
    """
    if method not in ALIGN_METHODS:
        raise UsdSynthError(
            f"align_method {method}: unknown method; use one of {', '.join(ALIGN_METHODS)}",
            field="align_method",
        )
    n_a, n_b = a.num_frames, b.num_frames
    lin = linear_index(n_a, n_b)
    params: dict = {"fps": [a.fps, b.fps], "frames": [n_a, n_b]}
    if method == "linear" or n_a < 3 or n_b < 2:
        return Alignment(index=lin, method="linear" if method == "linear" else "dtw", params=params)
    if not (0.0 < band <= 1.0):
        raise UsdSynthError(f"band {band}: must be a fraction of the frames in (0, 1]", field="band")
    fa = pose_features(a.rotations, a.offsets)
    fb = pose_features(sample_rotations(b.rotations, lin), a.offsets)
    cost = np.sqrt(np.maximum(np.sum(fa**2, 1)[:, None] + np.sum(fb**2, 1)[None] - 2.0 * fa @ fb.T, 0.0))
    cost /= np.sqrt(fa.shape[1] / 3)  # per-joint RMS distance, metres
    width = max(2, int(np.ceil(band * n_a)))
    path = dtw_path(cost, width)
    # Mean matched (stretched) B frame per A frame, smoothed over 3 frames with the ends kept pinned.
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=n_a)
    u = sums / np.bincount(path[:, 0], minlength=n_a)
    u[1:-1] = (u[:-2] + u[1:-1] + u[2:]) / 3.0
    u[0], u[-1] = 0.0, n_a - 1
    index = np.maximum.accumulate(u) * ((n_b - 1) / (n_a - 1))
    params.update(
        band=band,
        step_pattern="symmetricP1",
        mean_distance_m=round(float(cost[path[:, 0], path[:, 1]].mean()), 6),
        linear_distance_m=round(float(np.diagonal(cost).mean()), 6),
    )
    return Alignment(index=index, method="dtw", params=params)
