"""Time alignment of two motions: linear resampling and dynamic time warping on pose features.

Both methods return a *warp*: for every frame of A, a fractional frame index into B, monotone
non-decreasing, pinned at both ends (A's first frame meets B's first, A's last meets B's last) except for
gaits, which are kept in phase instead. Frame
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
  index per A frame (the mean of the matched B frames) and smoothed over three frames. Only the band is
  stored (:func:`_dtw_band`): memory O(frames x band), the same path as the full matrices gave.
* ``dtw`` on two gaits (:func:`gait_phase` finds a regular left-right alternation of the ankles): the gait
  phase is locked first (:func:`gait_index`), so B starts on A's foot and plays at A's cadence, its ends
  floating (pinned only where B's ends are in A's phase; B's last whole cycles repeat when it runs out),
  then refined by a time warp within a tenth of a cycle whose rate stays within :data:`GAIT_RATE` of the
  phase-locked one.

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

    index: np.ndarray  #: (T_A,) fractional frame of B for every frame of A, monotone (see ``loop``)
    method: str
    params: dict = field(default_factory=dict)  #: method settings and the mean feature distance (JSON-safe)
    #: For a gait played past B's end: B's frames ``(start, stop)`` spanning whole cycles. ``index`` then
    #: counts on through the repeats (frame ``stop + x`` is frame ``start + x`` one lap later); read B with
    #: :func:`wrap_index`, and its root with :func:`looped_root`.
    loop: tuple[float, float] | None = None

    def frames_b(self) -> np.ndarray:
        """(T_A,) fractional frames of B to read, inside B's frames (``index`` wrapped into the loop)."""
        return wrap_index(self.index, self.loop)


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


def _dtw_band(row_cost, n: int, width: int) -> np.ndarray:
    """The DTW of :func:`dtw_path` with only the band stored: ``row_cost(i0, i1)`` gives the cost of rows
    ``i0:i1`` inside the band as an (i1 - i0, 2 * width + 1) array, column ``k`` holding frame
    ``j = i + k - width`` (inf outside the frames). Memory: one int8 move per band cell, three rows of
    accumulated cost, one block of cost rows."""
    inf = np.inf
    size = 2 * width + 1
    move = np.zeros((n, size), np.int8)  # 0: diagonal, 1: (2,1) from (i-2, j-1), 2: (1,2) from (i-1, j-2)
    acc2 = np.full(size, inf)  # row i - 2
    acc1 = np.full(size, inf)  # row i - 1
    block_rows = max(1, min(n, (1 << 22) // size))  # about 32 MB of float64 cost per block
    block = row_cost(0, min(block_rows, n))
    base = 0
    c_prev = block[0]
    acc1[width] = c_prev[width]
    diag, up, left = np.empty(size), np.empty(size), np.empty(size)
    cols = np.arange(size)
    for i in range(1, n):
        if i - base >= len(block):
            base = i
            block = row_cost(i, min(i + block_rows, n))
        c = block[i - base]
        diag[:] = acc1  # acc[i-1, j-1]: same band column
        up[:] = inf
        if i >= 2:
            up[:-1] = acc2[1:] + c_prev[1:]  # acc[i-2, j-1] + c[i-1, j]
        left[:] = inf
        left[1:] = acc1[:-1] + c[:-1]  # acc[i-1, j-2] + c[i, j-1]
        stack = np.stack([diag, up, left])
        m = np.argmin(stack, axis=0)
        move[i] = m
        acc2, acc1 = acc1, c + stack[m, cols]
        c_prev = c
    if not np.isfinite(acc1[width]):
        raise UsdSynthError(
            "time alignment found no path inside the DTW window; widen band or use align_method linear",
            mentions=("band", "align_method"),
        )
    path = [(n - 1, n - 1)]
    i = j = n - 1
    while i > 0 or j > 0:
        step = move[i, j - i + width]
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


def _band_rows(values: np.ndarray, i0: int, i1: int, width: int, fill: float = np.inf) -> np.ndarray:
    """Rows ``i0:i1`` of an (N, N) matrix cut to the band: column ``k`` holds ``j = i + k - width``."""
    n = values.shape[1]
    rows = np.arange(i0, i1)[:, None]
    j = rows + np.arange(2 * width + 1)[None] - width
    inside = (j >= 0) & (j < n)
    out = np.full(j.shape, fill)
    out[inside] = values[np.broadcast_to(rows, j.shape)[inside], j[inside]]
    return out


def dtw_path(cost: np.ndarray, band: int | None = None) -> np.ndarray:
    """Least-cost monotone path through ``cost`` (N, N) with steps (1,1), (2,1), (1,2), from (0,0) to the end.

    The step pattern is Sakoe-Chiba's symmetric P = 1: a (2,1) step charges the skipped cell too, so every
    cell on the path counts once. Only cells with ``|i - j| <= band`` are allowed, and only the band is
    stored (memory O(N x band)); rows only depend on the two rows before them, so each row is one vector
    operation. Returns an (L, 2) array of (i, j) cells in order.
    """
    n, m = cost.shape
    if n != m:
        raise ValueError("dtw_path expects a square cost matrix (stretch B to A's length first)")
    width = n - 1 if band is None else int(min(max(band, 0), n - 1))
    cost = np.asarray(cost, dtype=np.float64)
    return _dtw_band(lambda i0, i1: _band_rows(cost, i0, i1, width), n, width)


def _feature_cost_rows(fa: np.ndarray, fb: np.ndarray, width: int):
    """``row_cost`` for :func:`_dtw_band`: per-joint RMS feature distances (metres), computed on the fly."""
    sa, sb = np.sum(fa**2, 1), np.sum(fb**2, 1)
    n = len(fa)
    norm = np.sqrt(fa.shape[1] / 3)

    def rows(i0: int, i1: int) -> np.ndarray:
        lo, hi = max(0, i0 - width), min(n, i1 - 1 + width + 1)
        block = np.sqrt(np.maximum(sa[i0:i1, None] + sb[None, lo:hi] - 2.0 * fa[i0:i1] @ fb[lo:hi].T, 0.0))
        block /= norm
        out = np.full((i1 - i0, 2 * width + 1), np.inf)
        for r in range(i1 - i0):
            i = i0 + r
            j0, j1 = max(0, i - width), min(n, i + width + 1)
            out[r, j0 - i + width : j1 - i + width] = block[r, j0 - lo : j1 - lo]
        return out

    return rows


def _path_frames(path: np.ndarray, n: int) -> np.ndarray:
    """Mean matched frame per row of a DTW path, smoothed over 3 frames, ends pinned, monotone."""
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=n)
    u = sums / np.bincount(path[:, 0], minlength=n)
    u[1:-1] = (u[:-2] + u[1:-1] + u[2:]) / 3.0
    u[0], u[-1] = 0.0, n - 1
    return np.maximum.accumulate(u)


def _smooth(u: np.ndarray, width: int) -> np.ndarray:
    """A warp smoothed by three passes of a moving average over ``width`` frames, ends kept pinned.

    The offset from the identity is smoothed, so a warp that follows the identity stays on it."""
    n = len(u)
    k = max(1, width // 2)
    d = u - np.arange(n)
    for _ in range(3):
        pad = np.concatenate([np.full(k, d[0]), d, np.full(k, d[-1])])
        d = np.convolve(pad, np.ones(2 * k + 1) / (2 * k + 1), mode="valid")
    out = np.arange(n) + d
    out[0], out[-1] = 0.0, n - 1
    return np.clip(out, 0.0, n - 1)


def _limit_rate(u: np.ndarray, rate: float) -> np.ndarray:
    """A warp (frames 0 .. n-1, ends pinned) whose steps stay within [1 / rate, rate] frames per frame."""
    n = len(u)
    step = np.diff(u)
    for _ in range(20):
        step = np.clip(step, 1.0 / rate, rate)
        step *= (n - 1) / step.sum()
        if step.max() <= rate * (1 + 1e-9) and step.min() >= (1 - 1e-9) / rate:
            break
    out = np.concatenate([[0.0], np.cumsum(step)])
    out[-1] = n - 1
    return out


def _pair_cost(fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Per-joint RMS distance (metres) between matching rows of two feature arrays."""
    d = np.sum(fa**2, 1) + np.sum(fb**2, 1) - 2.0 * np.einsum("ij,ij->i", fa, fb)
    return np.sqrt(np.maximum(d, 0.0)) / np.sqrt(fa.shape[1] / 3)


# ---------------------------------------------------------------------------------------------------------
# gait phase
# ---------------------------------------------------------------------------------------------------------

#: Smallest peak-to-peak fore-aft offset between the ankles, in leg lengths, for a motion to count as a gait.
GAIT_MIN_SWING = 0.2
#: Hysteresis of the crossing detector, as a fraction of the peak-to-peak offset.
GAIT_HYSTERESIS = 0.15
#: Largest ratio between the longest and shortest half cycle of a gait.
GAIT_REGULARITY = 2.5
#: Phase mismatch (cycles) tolerated at the ends before B is looped instead of held.
PHASE_TOLERANCE = 0.1
#: Band (cycles) of the time warp that follows the phase lock.
GAIT_REFINE = 0.1
#: ... and its largest change of B's playback rate against the phase-locked timing (so no blend moves
#: faster than its inputs).
GAIT_RATE = 1.1

_LEFT_ANKLE, _RIGHT_ANKLE = 7, 8


def gait_signal(features: np.ndarray, leg: float) -> np.ndarray:
    """(T,) how far the left ankle is ahead of the right, in leg lengths, from :func:`pose_features`.

    The features have the heading removed, so the body faces -Y: ahead is -Y.
    """
    pos = features.reshape(len(features), -1, 3)
    return (pos[:, _RIGHT_ANKLE, 1] - pos[:, _LEFT_ANKLE, 1]) / leg


def gait_phase(signal: np.ndarray) -> np.ndarray | None:
    """Unwrapped gait phase (cycles) per frame, or None when the signal is not an alternating gait.

    The ankles' fore-aft offset swings once per cycle. Each crossing of its mid level (with hysteresis
    against noise) is an event: the left ankle passing the right forwards is a whole number of cycles,
    backwards a half. The phase is linear in time between events and extrapolated with the neighbouring
    half cycle's rate before the first and after the last. A gait needs three events (a full cycle), a
    swing of :data:`GAIT_MIN_SWING` leg lengths and half cycles within :data:`GAIT_REGULARITY` of each other.
    """
    x = np.asarray(signal, dtype=np.float64)
    lo, hi = np.percentile(x, [5.0, 95.0])
    swing = hi - lo
    if len(x) < 4 or swing < GAIT_MIN_SWING:
        return None
    x = x - 0.5 * (lo + hi)
    level = np.where(x > GAIT_HYSTERESIS * swing, 1, np.where(x < -GAIT_HYSTERESIS * swing, -1, 0))
    marked = np.flatnonzero(level)
    times, values = [], []
    for a, b in zip(marked[:-1], marked[1:], strict=True):
        if level[a] == level[b]:
            continue
        seg = x[a : b + 1]
        k = int(np.flatnonzero(np.sign(seg[:-1]) != np.sign(seg[1:]))[0])
        t = a + k + seg[k] / (seg[k] - seg[k + 1]) if seg[k] != seg[k + 1] else float(a + k)
        if not values:
            values.append(0.0 if level[b] > 0 else 0.5)
        else:
            values.append(values[-1] + 0.5)
        times.append(t)
    if len(times) < 3:
        return None
    times_a, values_a = np.array(times), np.array(values)
    half = np.diff(times_a)
    if half.min() <= 0 or half.max() > GAIT_REGULARITY * half.min():
        return None
    frames = np.arange(len(x), dtype=np.float64)
    phase = np.interp(frames, times_a, values_a)
    before, after = frames < times_a[0], frames > times_a[-1]
    phase[before] = values_a[0] - (times_a[0] - frames[before]) * 0.5 / half[0]
    phase[after] = values_a[-1] + (frames[after] - times_a[-1]) * 0.5 / half[-1]
    return phase


def gait_index(
    phase_a: np.ndarray, phase_b: np.ndarray
) -> tuple[np.ndarray, tuple[float, float] | None, dict]:
    """Warp from A's frames to B's that keeps both in the same gait phase (on the same foot).

    B starts at the first frame where its phase matches A's first frame (a whole number of cycles apart,
    within :data:`PHASE_TOLERANCE`), and plays at A's cadence. When B's phases at both ends match A's
    within the tolerance, the ends are pinned (first to first, last to last); when B runs out of frames
    more than the tolerance before A does, B repeats its last whole cycles (the loop); otherwise its ends
    hold. Returns the index (counting on through repeats), the loop frames or None, and a record.
    """
    n_b = len(phase_b)
    frames_b = np.arange(n_b, dtype=np.float64)
    b0, b1 = float(phase_b[0]), float(phase_b[-1])
    shift = float(np.ceil(b0 - phase_a[0] - PHASE_TOLERANCE))
    psi = phase_a + shift
    loop = None
    pinned = abs(psi[0] - b0) <= PHASE_TOLERANCE and abs(psi[-1] - b1) <= PHASE_TOLERANCE
    if pinned:
        psi = b0 + (psi - psi[0]) * ((b1 - b0) / (psi[-1] - psi[0]))
        index = np.interp(psi, phase_b, frames_b)
        index[0], index[-1] = 0.0, n_b - 1.0
    elif psi[-1] <= b1 + PHASE_TOLERANCE or b1 - b0 < 1.0:
        index = np.interp(np.clip(psi, b0, b1), phase_b, frames_b)
    else:
        cycles = float(np.floor(b1 - b0))
        start = float(np.interp(b1 - cycles, phase_b, frames_b))
        loop = (start, n_b - 1.0)
        laps = np.maximum(np.ceil((psi - b1) / cycles), 0.0)
        index = np.interp(np.maximum(psi - laps * cycles, b0), phase_b, frames_b) + laps * (loop[1] - loop[0])
    index = np.maximum.accumulate(index)
    record = {
        "cycles": [round(float(phase_a[-1] - phase_a[0]), 3), round(b1 - b0, 3)],
        "b_start_frame": round(float(index[0]), 3),
        "pinned": bool(pinned),
        "loop": None if loop is None else [round(loop[0], 3), loop[1]],
    }
    return index, loop, record


def wrap_index(index: np.ndarray, loop: tuple[float, float] | None) -> np.ndarray:
    """Fractional frames of B from an index that may count on through a loop (see :class:`Alignment`)."""
    if loop is None:
        return np.asarray(index, dtype=np.float64)
    start, stop = loop
    period = stop - start
    laps = np.maximum(np.ceil((index - stop) / period), 0.0)
    return index - laps * period


def looped_root(yaw: np.ndarray, pos: np.ndarray, index: np.ndarray, loop: tuple[float, float] | None):
    """B's unwrapped heading (T,) and pelvis path (T, 3) read along ``index``, continued through the loop.

    ``yaw`` (T_B,) and ``pos`` (T_B, 3) are B's per frame. Every lap of the loop carries on from where the
    previous one ended: turned by the heading change over the loop and moved by its displacement.
    """
    frames = wrap_index(index, loop)
    y, p = sample_linear(yaw, frames), sample_linear(pos, frames)
    if loop is None:
        return y, p
    start, stop = loop
    laps = np.maximum(np.ceil((index - stop) / (stop - start)), 0.0).astype(np.int64)
    y0, p0 = float(sample_linear(yaw, np.array([start]))[0]), sample_linear(pos, np.array([start]))[0]
    turn = float(yaw[-1] - y0)
    for lap in range(1, int(laps.max(initial=0)) + 1):
        sel = laps == lap
        # Lap k maps B's state at ``start`` onto its state at the end of lap k - 1.
        angle = lap * turn
        c, s = np.cos(angle), np.sin(angle)
        end_prev = _lap_end(yaw, pos, p0, turn, lap - 1)
        d = p[sel, :2] - p0[:2]
        p[sel, :2] = end_prev[None] + np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], -1)
        y[sel] += angle
    return y, p


def _lap_end(yaw: np.ndarray, pos: np.ndarray, p0: np.ndarray, turn: float, lap: int) -> np.ndarray:
    """Horizontal pelvis position at the end of lap ``lap`` (0: B's own last frame)."""
    end = pos[-1, :2].copy()
    step = pos[-1, :2] - p0[:2]
    for k in range(1, lap + 1):
        c, s = np.cos(k * turn), np.sin(k * turn)
        end = end + np.array([c * step[0] - s * step[1], s * step[0] + c * step[1]])
    return end


def align(a: Motion, b: Motion, method: str = "dtw", band: float = 0.25, gait: bool = True) -> Alignment:
    """Time warp from A's frames to B's (see the module docstring).

    Args:
        a, b: the two motions; B's rotations are compared on A's skeleton.
        method: ``dtw`` or ``linear``.
        band: DTW only: the Sakoe-Chiba band half-width as a fraction of A's frame count (0 < band <= 1).
        gait: DTW only: when both motions are gaits (:func:`gait_phase`), keep them in the same gait phase
            (:func:`gait_index`) instead of warping freely.
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
    if gait:
        leg = float(a.offsets[0, 1])
        phase_a = gait_phase(gait_signal(fa, leg))
        phase_b = (
            gait_phase(gait_signal(pose_features(b.rotations, a.offsets), leg))
            if phase_a is not None
            else None
        )
        if phase_a is not None and phase_b is not None:
            index, loop, record = gait_index(phase_a, phase_b)
            warped = pose_features(sample_rotations(b.rotations, wrap_index(index, loop)), a.offsets)
            # Then a time warp within a tenth of a cycle of the phase-locked timing.
            width = int(np.ceil(GAIT_REFINE * (n_a - 1) / max(phase_a[-1] - phase_a[0], 1e-9)))
            width = min(max(2, width), n_a - 1)
            path = _dtw_band(_feature_cost_rows(fa, warped, width), n_a, width)
            u = _limit_rate(_smooth(_path_frames(path, n_a), width), GAIT_RATE)
            index = np.maximum.accumulate(sample_linear(index, u))
            warped = pose_features(sample_rotations(b.rotations, wrap_index(index, loop)), a.offsets)
            distance, linear_distance = _pair_cost(fa, warped).mean(), _pair_cost(fa, fb).mean()
            record.update(refine_band_frames=width, timing="phase")
            if record["pinned"] and linear_distance <= distance:
                # Both clips hold the same steps end to end: the even stretch is in phase and closer.
                index, distance, record["timing"] = lin, linear_distance, "linear"
            params.update(
                band=band,
                step_pattern="gait_phase+symmetricP1",
                gait=record,
                mean_distance_m=round(float(distance), 6),
                linear_distance_m=round(float(linear_distance), 6),
            )
            return Alignment(index=index, method="dtw", params=params, loop=loop)
    width = min(max(2, int(np.ceil(band * n_a))), n_a - 1)
    path = _dtw_band(_feature_cost_rows(fa, fb, width), n_a, width)
    index = _path_frames(path, n_a) * ((n_b - 1) / (n_a - 1))
    params.update(
        band=band,
        step_pattern="symmetricP1",
        mean_distance_m=round(float(_pair_cost(fa[path[:, 0]], fb[path[:, 1]]).mean()), 6),
        linear_distance_m=round(float(_pair_cost(fa, fb).mean()), 6),
    )
    return Alignment(index=index, method="dtw", params=params)
