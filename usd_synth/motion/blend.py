"""Blending two motions into new ones: time-aligned rotation-space mixing, batched over pairs and weights.

A blend at weight ``w`` moves from motion A (``w = 0``) to motion B (``w = 1``):

1. **Time.** B is aligned to A (:mod:`usd_synth.motion.align`: dynamic time warping on pose features by
   default, gait-phase locked for two gaits, or linear resampling); the result is on A's timeline at A's
   frame rate. With ``duration="blend"`` the clip instead lasts ``(1 - w)`` times A's duration plus ``w``
   times B's, both motions being read along the alignment at fractional frames.
2. **Joints.** Every local joint rotation is slerped on the shortest arc between A and the time-warped B
   (:func:`usd_synth.kernels.blend.blend_rotations`: one Warp launch for every pair, weight, frame and
   joint). The root joint is first split into its heading (yaw about world Z) and the heading-free rest
   (tilt and roll, :func:`usd_synth.motion.align.root_heading`); only the heading-free rest is slerped.
3. **Root motion.** Blended in each motion's own heading frame, then integrated from A's first frame:
   the yaw rate, the horizontal root velocity expressed in the current heading frame, and the root
   height. B's facing is thereby aligned to A's first frame and the path neither drifts nor slides with
   respect to the blended pose; with ``w = 0`` the integration reproduces A's path to rounding. Where the
   blended pose would sink below the ground deeper than both inputs do, the root is lifted
   (:func:`ground_lift`).
4. **Skeleton.** The blend keeps A's skeleton (bone offsets), so bone lengths are exactly A's in every
   frame. B's rotations are applied to A's bones; B's root motion (velocity and height) is scaled by the
   ratio of the two skeletons' leg lengths (hip to ankle, :func:`usd_synth.skeleton.leg_length`), so B's
   strides fit A's body.
5. **Quality.** Each blend is scored by :mod:`usd_synth.motion.quality`; optional foot-contact clean-up
   adjusts the root so planted feet stay put.

``w = 0`` gives A (rotations to float32 rounding, the root path to float64 rounding) and ``w = 1`` gives
B's poses at the aligned frames on A's skeleton, with B's root motion turned to start where and as A does.

The compatibility formula :func:`synthda_positions` reproduces the reference tool (NVIDIA SynthDa):
``P = P_r + 0.5 (w P_r - (1 - w) P_s)`` on world joint positions, with A's joints as ``P_r`` and B's
linearly resampled to A's frame count as ``P_s``, then retargeted to SMPL-24 (the skeleton of that
result is fitted to the mixed positions, so its bone lengths are not A's).

Provenance (inputs, weight, alignment, root scaling, quality) is recorded in ``Motion.source`` and so in
the USD file's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.kernels.blend import blend_rotations, blend_rotations_np
from usd_synth.motion.align import (
    Alignment,
    align,
    linear_index,
    looped_root,
    sample_linear,
    sample_rotations,
    unwrapped_heading,
    wrap_index,
)
from usd_synth.motion.model import Motion, forward_kinematics
from usd_synth.motion.quality import (
    QualityThresholds,
    cleanup_contacts,
    evaluate,
    ground_heights,
    rejection_reasons,
    skeleton_scale,
)
from usd_synth.rotations import quat_about, quat_mul
from usd_synth.skeleton import NUM_JOINTS, leg_length

FORMULAS: tuple[str, ...] = ("slerp", "synthda")
DURATIONS: tuple[str, ...] = ("a", "blend")
_Z = np.array([0.0, 0.0, 1.0])
_GROUND_SLACK = 1e-5  #: m; float32 rounding of the kernel's rotations is not a penetration


# ---------------------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------------------


def check_weights(weights: float | Sequence[float] | np.ndarray, option: str = "weight") -> np.ndarray:
    """Weights as a 1-D float array, each finite and in [0, 1], no duplicates; else a UsdSynthError."""
    try:
        w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    except (TypeError, ValueError):
        raise UsdSynthError(f"{option}: weights must be numbers, got {weights!r}", field=option) from None
    if w.ndim != 1 or w.size == 0:
        raise UsdSynthError(f"{option}: give at least one weight", field=option)
    for value in w:
        if not np.isfinite(value) or value < 0.0 or value > 1.0:
            raise UsdSynthError(f"{option}: weight {value:g} is outside [0, 1]", field=option)
    if len(np.unique(w)) != len(w):
        raise UsdSynthError(f"{option}: weights repeat ({', '.join(f'{v:g}' for v in w)})", field=option)
    return w


def check_pair(a: Motion, b: Motion, names: tuple[str, str] = ("A", "B")) -> None:
    """Reject pairs that cannot be blended: not both SMPL-24, or a skeleton without legs."""
    for motion, name in zip((a, b), names, strict=True):
        if not isinstance(motion, Motion):
            raise UsdSynthError(f"{name}: not a Motion")
        if motion.rotations.shape[1:] != (NUM_JOINTS, 4) or motion.offsets.shape != (NUM_JOINTS, 3):
            raise UsdSynthError(f"{name}: not an SMPL-24 motion; both inputs must use the SMPL-24 skeleton")
        if motion.num_frames == 0:
            raise UsdSynthError(f"{name}: motion has no frames")
        if not motion.offsets[0, 1] > 1e-3:
            raise UsdSynthError(f"{name}: the skeleton's rest pelvis height is not positive")
        if not leg_length(motion.offsets) > 1e-3:
            raise UsdSynthError(f"{name}: the skeleton's legs have no length (hip to ankle)")


def describe_input(motion: Motion, name: str | None = None) -> dict[str, Any]:
    """A short, JSON-safe description of a blend input for the provenance record."""
    out: dict[str, Any] = {
        "name": name or motion.source.get("file") or motion.label or "motion",
        "label": motion.label,
        "frames": motion.num_frames,
        "fps": motion.fps,
    }
    for key in ("reader", "file", "action", "seed"):
        if key in motion.source:
            out[key] = motion.source[key]
    return out


# ---------------------------------------------------------------------------------------------------------
# root motion
# ---------------------------------------------------------------------------------------------------------


def _rotate2(angle: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate 2-D vectors ``v`` (..., 2) counter-clockwise by ``angle`` (...)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def blend_root(
    yaw_a: np.ndarray,
    pos_a: np.ndarray,
    yaw_b: np.ndarray,
    pos_b: np.ndarray,
    weights: np.ndarray,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Blend root motion in the heading frame and integrate it from A's first frame.

    Args:
        yaw_a, yaw_b: (T,) unwrapped headings (radians) of A and of B on A's timeline.
        pos_a, pos_b: (T, 3) pelvis positions of A and of the time-warped B.
        weights: (W,) blend weights.
        scale: multiplies B's root velocity and height (A's leg length over B's).

    Returns:
        yaw (W, T) and pelvis positions (W, T, 3).
    """
    w = np.asarray(weights, dtype=np.float64)[:, None]
    n = len(yaw_a)
    z = (1.0 - w) * pos_a[None, :, 2] + w * (scale * pos_b[None, :, 2])
    if n == 1:
        yaw = np.broadcast_to(yaw_a, (len(w), 1)).copy()
        xy = np.broadcast_to(pos_a[:, :2], (len(w), 1, 2)).copy()
        return yaw, np.concatenate([xy, z[..., None]], axis=-1)
    # Per-step velocity in the heading frame of the step's first frame.
    va = _rotate2(-yaw_a[:-1], np.diff(pos_a[:, :2], axis=0))
    vb = _rotate2(-yaw_b[:-1], np.diff(pos_b[:, :2], axis=0) * scale)
    omega = (1.0 - w) * np.diff(yaw_a)[None] + w * np.diff(yaw_b)[None]
    yaw = yaw_a[0] + np.concatenate([np.zeros((len(w), 1)), np.cumsum(omega, axis=1)], axis=1)
    v = (1.0 - w)[..., None] * va[None] + w[..., None] * vb[None]
    steps = _rotate2(yaw[:, :-1], v)
    xy = pos_a[0, :2] + np.concatenate([np.zeros((len(w), 1, 2)), np.cumsum(steps, axis=1)], axis=1)
    return yaw, np.concatenate([xy, z[..., None]], axis=-1)


def _full_root(rot: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Rotations (..., T, 24, 4) with the heading ``yaw`` (..., T) put back onto the root slot."""
    out = rot.copy()
    out[..., 0, :] = quat_mul(quat_about(_Z, yaw), rot[..., 0, :])
    return out


# ---------------------------------------------------------------------------------------------------------
# the batched blend
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Timeline:
    """One output timeline: A and the warped B read at its frames, ready for the kernel and the root."""

    pair: int
    weights: np.ndarray  # the weights blended on this timeline
    rot_a: np.ndarray  # (T, 24, 4), root slot = heading-free rest
    rot_b: np.ndarray
    yaw_a: np.ndarray  # (T,)
    yaw_b: np.ndarray
    pos_a: np.ndarray  # (T, 3)
    pos_b: np.ndarray


def _timeline(
    pair: int,
    weights: np.ndarray,
    a: Motion,
    b: Motion,
    ia: np.ndarray | None,
    ib: np.ndarray,
    loop: tuple[float, float] | None = None,
) -> _Timeline:
    """Read A at frames ``ia`` (None: all, as stored) and B at ``ib``, and split off the headings.

    ``ib`` may count on through B's ``loop`` (:class:`usd_synth.motion.align.Alignment`): B's pose is read
    in the loop and its root path continued lap after lap.
    """
    if ia is None:
        rot_a, pos_a = a.rotations.copy(), a.translation
    else:
        rot_a, pos_a = sample_rotations(a.rotations, ia), sample_linear(a.translation, ia)
    if loop is None:
        rot_b, pos_b = sample_rotations(b.rotations, ib), sample_linear(b.translation, ib)
        yaw_b, rot_b[:, 0] = unwrapped_heading(rot_b[:, 0])
    else:
        rot_b = sample_rotations(b.rotations, wrap_index(ib, loop))
        _, rot_b[:, 0] = unwrapped_heading(rot_b[:, 0])
        yaw_own, _ = unwrapped_heading(b.rotations[:, 0])
        yaw_b, pos_b = looped_root(yaw_own, b.translation, ib, loop)
    yaw_a, rot_a[:, 0] = unwrapped_heading(rot_a[:, 0])
    return _Timeline(pair, weights, rot_a, rot_b, yaw_a, yaw_b, pos_a, pos_b)


def _lowest(rot: np.ndarray, z: np.ndarray, offsets: np.ndarray, scale: float) -> np.ndarray:
    """(..., T) lowest ground height of any joint's surface, for heading-free rotations and root heights."""
    trans = np.zeros(z.shape + (3,))
    trans[..., 2] = z
    _, pos = forward_kinematics(rot, trans, offsets)
    return ground_heights(pos, scale).min(axis=-1)


def ground_lift(low: np.ndarray, floor: np.ndarray, fps: float) -> np.ndarray:
    """Smooth root lift (..., T) that keeps a blend's lowest surface ``low`` above ``floor`` (..., T).

    Blending two poses can put a foot under the ground that neither input puts there (heights do not mix
    linearly with rotations). The lift is the depth below the floor, spread to a running maximum over
    +-0.1 s and averaged over the same window, so it is never smaller than the depth and has no kinks.
    """
    depth = np.maximum(floor - low, 0.0)
    if not depth.any():
        return depth
    k = max(1, int(round(0.1 * fps)))
    n = depth.shape[-1]
    pad = np.concatenate([np.repeat(depth[..., :1], k, -1), depth, np.repeat(depth[..., -1:], k, -1)], -1)
    peak = np.max(np.stack([pad[..., i : i + n] for i in range(2 * k + 1)]), axis=0)
    pad = np.concatenate([np.repeat(peak[..., :1], k, -1), peak, np.repeat(peak[..., -1:], k, -1)], -1)
    return np.mean(np.stack([pad[..., i : i + n] for i in range(2 * k + 1)]), axis=0)


def blended_length(n_a: int, fps_a: float, n_b: int, fps_b: float, w: float) -> int:
    """Frames, at A's rate, of a clip lasting (1 - w) x A's duration + w x B's (first to last frame)."""
    span = (1.0 - w) * (n_a - 1) + w * (n_b - 1) * fps_a / fps_b
    return max(1, int(round(span)) + 1)


def _run_kernel(timelines: list[_Timeline], device: str | None) -> tuple[np.ndarray, str]:
    """Stack the timelines (padded to the longest by holding the last frame) and blend them in one launch."""
    n_max = max(len(t.yaw_a) for t in timelines)
    n_w = max(len(t.weights) for t in timelines)

    def pad(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.repeat(x[-1:], n_max - len(x), axis=0)]) if len(x) < n_max else x

    a = np.stack([pad(t.rot_a) for t in timelines])
    b = np.stack([pad(t.rot_b) for t in timelines])
    w = np.stack([np.pad(t.weights, (0, n_w - len(t.weights)), mode="edge") for t in timelines])
    if device == "numpy":
        return blend_rotations_np(a, b, w), "numpy"
    from usd_synth.kernels.device import resolve_device

    dev = resolve_device(device)
    return blend_rotations(a, b, w, device=dev).astype(np.float64), f"warp-{dev.split(':')[0]}"


def blend_pairs(
    pairs: Sequence[tuple[Motion, Motion]],
    weights: float | Sequence[float] | np.ndarray,
    align_method: str = "dtw",
    band: float = 0.25,
    duration: str = "a",
    device: str | None = None,
    cleanup: bool = False,
    quality: bool = True,
    thresholds: QualityThresholds | None = None,
    names: Sequence[tuple[str, str]] | None = None,
    gait: bool = True,
    ground: bool = True,
) -> list[list[Motion]]:
    """Blend every pair at every weight; all joint rotations go through one kernel launch.

    Args:
        pairs: (A, B) motions; any lengths and frame rates.
        weights: blend weights in [0, 1] (0 gives A, 1 gives B).
        align_method: ``dtw`` or ``linear`` (see :mod:`usd_synth.motion.align`).
        band: DTW band, a fraction of A's frames.
        duration: ``a`` (A's timeline) or ``blend`` (duration interpolated with the weight).
        device: ``cpu``, ``cuda``, ``auto``/None (Warp, float32) or ``numpy`` (the float64 reference).
        cleanup: run :func:`usd_synth.motion.quality.cleanup_contacts` on every blend.
        quality: score every blend and record the report (and rejection) in ``source["quality"]``.
        thresholds: rejection thresholds (default :class:`QualityThresholds`).
        names: per pair, the names of A and B for the provenance record (default: from their sources).
        gait: with ``dtw``, keep two gaits in the same gait phase (:func:`usd_synth.motion.align.gait_index`).
        ground: lift the root where the blended pose would put a joint's surface lower than both inputs
            do (and below the ground) at that frame (:func:`ground_lift`).

    Returns:
        For each pair, one Motion per weight, in the order given.
    """
    w_all = check_weights(weights)
    if duration not in DURATIONS:
        raise UsdSynthError(f"duration {duration}: use one of {', '.join(DURATIONS)}", field="duration")
    if not pairs:
        return []
    names = list(names) if names is not None else [("A", "B")] * len(pairs)
    alignments: list[Alignment] = []
    timelines: list[_Timeline] = []
    for p, (a, b) in enumerate(pairs):
        check_pair(a, b, names[p])
        al = align(a, b, align_method, band, gait=gait)
        alignments.append(al)
        if duration == "a":
            timelines.append(_timeline(p, w_all, a, b, None, al.index, al.loop))
            continue
        for w in w_all:
            n = blended_length(a.num_frames, a.fps, b.num_frames, b.fps, float(w))
            tau = linear_index(n, a.num_frames)
            ia = None if n == a.num_frames else tau
            timelines.append(_timeline(p, np.array([w]), a, b, ia, sample_linear(al.index, tau), al.loop))
    rotations, kernel = _run_kernel(timelines, device)

    out: list[list[Motion]] = [[] for _ in pairs]
    for i, tl in enumerate(timelines):
        a, b = pairs[tl.pair]
        scale = leg_length(a.offsets) / leg_length(b.offsets)
        yaw, pos = blend_root(tl.yaw_a, tl.pos_a, tl.yaw_b, tl.pos_b, tl.weights, scale)
        n = len(tl.yaw_a)
        if ground:
            # The floor: the lower of the two inputs at each frame (on A's skeleton), never above z = 0.
            g = skeleton_scale(a)
            floor = np.minimum(
                _lowest(tl.rot_a, tl.pos_a[:, 2], a.offsets, g),
                _lowest(tl.rot_b, scale * tl.pos_b[:, 2], a.offsets, g),
            )
            floor = np.minimum(floor, 0.0) - _GROUND_SLACK
            pos[..., 2] += ground_lift(_lowest(rotations[i, :, :n], pos[..., 2], a.offsets, g), floor, a.fps)
        rots = _full_root(rotations[i, :, :n], yaw)
        for k, w in enumerate(tl.weights):
            rot = rots[k]
            source = {
                "reader": "blend",
                "formula": "slerp",
                "weight": float(w),
                "inputs": [describe_input(a, names[tl.pair][0]), describe_input(b, names[tl.pair][1])],
                "align": {"method": alignments[tl.pair].method, **alignments[tl.pair].params},
                "duration": duration,
                "root_scale": round(scale, 6),
                "kernel": kernel,
            }
            motion = Motion(fps=a.fps, rotations=rot, translation=pos[k], offsets=a.offsets.copy(),
                            label=a.label, source=source)  # fmt: skip
            out[tl.pair].append(_finish(motion, cleanup, quality, thresholds))
    return out


def _finish(motion: Motion, cleanup: bool, quality: bool, thresholds: QualityThresholds | None) -> Motion:
    """Optional contact clean-up, then the quality record in ``source``."""
    if cleanup:
        motion = cleanup_contacts(motion)
    if quality:
        report = evaluate(motion)
        reasons = rejection_reasons(report, thresholds)
        motion.source["quality"] = {**report.to_dict(), "rejected": bool(reasons), "reasons": reasons}
    return motion


def blend_motions(
    a: Motion, b: Motion, weights: float | Sequence[float] | np.ndarray, **kwargs: Any
) -> list[Motion]:
    """Blend one pair at several weights (one kernel launch); keyword arguments as :func:`blend_pairs`."""
    names = kwargs.pop("names", None)
    return blend_pairs([(a, b)], weights, names=[names] if names else None, **kwargs)[0]


def blend(a: Motion, b: Motion, weight: float, **kwargs: Any) -> Motion:
    """Blend one pair at one weight; keyword arguments as :func:`blend_pairs`."""
    return blend_motions(a, b, [weight], **kwargs)[0]


# ---------------------------------------------------------------------------------------------------------
# the reference tool's formula
# ---------------------------------------------------------------------------------------------------------


def synthda_positions(pos_a: np.ndarray, pos_b: np.ndarray, weight: float) -> np.ndarray:
    """The reference tool's mix of world joint positions: ``P_r + 0.5 (w P_r - (1 - w) P_s)``.

    ``pos_a`` (T_A, J, 3) is ``P_r``; ``pos_b`` (T_B, J, 3) is linearly resampled to T_A frames (first to
    first, last to last) as ``P_s``. With ``w_A = w`` and ``w_B = 1 - w``. Not a convex blend: at
    ``w = 0`` it gives ``P_r - P_s / 2``, not A.
    """
    pos_a = np.asarray(pos_a, dtype=np.float64)
    p_s = sample_linear(np.asarray(pos_b, dtype=np.float64), linear_index(len(pos_a), len(pos_b)))
    return pos_a + 0.5 * (weight * pos_a - (1.0 - weight) * p_s)


def blend_synthda(
    a: Motion,
    b: Motion,
    weights: float | Sequence[float] | np.ndarray,
    cleanup: bool = False,
    quality: bool = True,
    thresholds: QualityThresholds | None = None,
    names: tuple[str, str] | None = None,
) -> list[Motion]:
    """``--formula synthda``: :func:`synthda_positions` per weight, retargeted to SMPL-24."""
    from usd_synth.motion.retarget import retarget_positions

    w_all = check_weights(weights)
    names = names or ("A", "B")
    check_pair(a, b, names)
    pos_a, pos_b = a.joint_positions(), b.joint_positions()
    out = []
    for w in w_all:
        source = {
            "reader": "blend",
            "formula": "synthda",
            "weight": float(w),
            "inputs": [describe_input(a, names[0]), describe_input(b, names[1])],
            "align": {"method": "linear", "fps": [a.fps, b.fps], "frames": [a.num_frames, b.num_frames]},
            "duration": "a",
        }
        result = retarget_positions(
            synthda_positions(pos_a, pos_b, float(w)), a.fps, label=a.label, source=source
        )
        out.append(_finish(result.motion, cleanup, quality, thresholds))
    return out


def output_names(a: str | Path, b: str | Path, weights: Sequence[float], suffix: str = ".usd") -> list[str]:
    """Names for ``--weights``: ``<A stem>_<B stem>_w<weight><suffix>``, e.g. ``walk_run_w0.30.usd``.

    Weights get two decimals, or as many more (up to six) as it takes to keep the names distinct.
    """
    stem = f"{Path(a).stem}_{Path(b).stem}"
    for digits in range(2, 7):
        names = [f"{stem}_w{w:.{digits}f}{suffix}" for w in weights]
        if len(set(names)) == len(names):
            return names
    raise UsdSynthError("weights: weights must differ in the first six decimals", field="weights")
