"""Actors: a motion bound to a body.

A motion carries the skeleton of the person it came from; a body has its own. Binding the two keeps the
motion's *rotations* (what the person did) and replaces its skeleton by the body's (who does it):

* bone offsets: the body's (:meth:`~usd_synth.body.model.Body.offsets`);
* root path: horizontal displacement from the first frame and the pelvis height are scaled by the ratio of
  leg lengths (hip to ankle, :func:`~usd_synth.skeleton.leg_length`), so a child takes shorter strides
  and a tall adult longer ones, each as long as its legs sweep (the ratio of pelvis joint heights, used
  before, made strides 8-13 % shorter than the legs sweep: Anny's pelvis joint sits at hip height,
  SMPL's 9 cm above);
* planted feet stay planted: the same joint angles on other bone proportions put the feet elsewhere under
  the scaled pelvis, so a foot that stood still in the motion would slide (up to 7 cm per step on a walk,
  benchmarks/bench_fidelity.py ``foot_slide``). Wherever the motion's own ankle or ball of the foot is
  planted (:func:`~usd_synth.body.fidelity.planted_joints` on the motion as given), the actor's moves only
  as the motion's did, scaled; a two-bone leg IK takes up the difference, easing in and out around each
  contact (:func:`~usd_synth.motion.contacts.pin_feet`; knees keep their angles wherever nothing needs
  pinning);
* grounding: the body's *soles*, not its joints, meet the floor. The body is skinned on every frame (only
  the height of each vertex is needed: one matrix product per chunk of frames, see
  :func:`~usd_synth.body.fidelity.lowest_heights`); on every frame where a foot is planted (its ankle or
  ball moves slower than 0.2 m/s within 3 cm of its lowest height in the clip,
  :func:`~usd_synth.body.fidelity.planted_feet`) the lowest skinned vertex is put on z = 0. Between
  planted frames the vertical correction is interpolated linearly, before the first and after the last it
  is held, so jumps, stairs and falls keep their heights relative to the planted frames, and a capture
  whose origin lies above or below the floor (common in BVH) is put on it. A clip with no planted frame
  has its lowest point over the whole clip put on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from usd_synth.body.fidelity import (
    FOOT_INDICES,
    lowest_heights,
    planted_feet,
    planted_joints,
    skinning_matrices,
)
from usd_synth.body.model import Body
from usd_synth.errors import UsdSynthError
from usd_synth.motion.contacts import pin_feet
from usd_synth.motion.model import Motion, forward_kinematics
from usd_synth.skeleton import leg_length


@dataclass
class Actor:
    """A motion adapted to a body, ready to be written as a skinned UsdSkel asset."""

    motion: Motion
    body: Body
    adaptation: dict[str, Any]

    def summary(self) -> str:
        """One line for the CLI: what was changed to fit the motion to the body."""
        a = self.adaptation
        return (
            f"motion adapted to the body: its bone offsets, stride and root height x{a['scale']:.3f}, "
            f"planted feet held (largest shift {100 * a['max_foot_pin_m']:.1f} cm), "
            f"soles put on the floor (offset {100 * a['floor_offset_m']:+.1f} cm, largest per-frame "
            f"correction {100 * a['max_ground_correction_m']:.1f} cm, {a['planted_frames']} planted frames)"
        )


def ground_correction(motion: Motion, body: Body, rounds: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """(T,) vertical shift that puts ``body``'s soles on the floor for ``motion`` (already on the body's
    skeleton), and the (T,) mask of the planted frames it was fitted on (see the module docstring).

    Planted frames are judged on the corrected clip, and the correction depends on them: a few rounds,
    each fitting every frame found planted so far, until no new one appears. Finally no frame may leave
    the body below the floor (a noisy input's swinging foot, a fall's last frames).
    """
    lowest = lowest_heights(body, skinning_matrices(motion, body))["all"]
    _, pos = forward_kinematics(motion.rotations, motion.translation, motion.offsets)
    frames = np.arange(motion.num_frames)
    correction = np.full(motion.num_frames, -float(lowest.min()))  # no planted frame: lowest point on z = 0
    planted = np.zeros(motion.num_frames, dtype=bool)
    up = np.array([0.0, 0.0, 1.0])
    for _ in range(rounds):
        now = planted_feet(pos + correction[:, None, None] * up, motion.fps).any(axis=1)
        if not np.any(now & ~planted):
            break
        planted |= now
        correction = np.maximum(np.interp(frames, frames[planted], -lowest[planted]), -lowest)
    return correction, planted


def pin_planted_feet(adapted: Motion, source: Motion, scale: float) -> tuple[np.ndarray, float]:
    """Local rotations of ``adapted`` (``source`` on another skeleton, its stride scaled by ``scale``) with
    each foot joint that is planted in ``source`` moving only as it does there, scaled, and the largest
    horizontal shift that took (m)."""
    if source.num_frames < 2:
        return adapted.rotations, 0.0
    src = source.joint_positions()
    planted = planted_joints(src, source.fps).astype(np.float64)
    step = np.diff(src[:, :, :2], axis=0, prepend=src[:1, :, :2]) * source.fps  # from the previous frame
    wanted = scale * step[:, FOOT_INDICES]  # (T, 2 sides, 2 joints, 2)
    rotations, shift = pin_feet(
        adapted.rotations, adapted.translation, adapted.offsets, adapted.fps, planted, wanted, hold=True
    )
    return rotations, float(np.linalg.norm(shift, axis=-1).max(initial=0.0))


def adapt_motion(motion: Motion, body: Body) -> tuple[Motion, dict[str, Any]]:
    """``motion`` moved onto ``body``'s skeleton (see the module docstring) and what was changed."""
    # 1. the body's bones, the root path scaled by the ratio of leg lengths
    src_offsets = motion.offsets
    dst_offsets = body.offsets()
    if not leg_length(src_offsets) > 1e-3:
        raise UsdSynthError("motion: its legs have no length (hip to ankle), so its stride cannot be scaled")
    scale = leg_length(dst_offsets) / leg_length(src_offsets)
    trans = motion.translation.copy()
    trans[:, :2] = trans[0, :2] + scale * (trans[:, :2] - trans[0, :2])
    trans[:, 2] *= scale
    adapted = Motion(
        fps=motion.fps,
        rotations=motion.rotations,
        translation=trans,
        offsets=dst_offsets,
        label=motion.label,
        source=dict(motion.source),
    )
    # 2. the feet planted where the motion's are
    adapted.rotations, pin = pin_planted_feet(adapted, motion, scale)
    # 3. the soles on the floor
    correction, planted = ground_correction(adapted, body)
    adapted.translation[:, 2] += correction
    offset = float(np.median(correction[planted] if planted.any() else correction))
    info = {
        "scale": round(scale, 6),
        "max_foot_pin_m": round(pin, 6),
        "floor_offset_m": round(offset, 6),
        "max_ground_correction_m": round(float(np.max(np.abs(correction - offset))), 6),
        "planted_frames": int(planted.sum()),
        "source_leg_length_m": round(leg_length(src_offsets), 6),
        "body_leg_length_m": round(leg_length(dst_offsets), 6),
    }
    return adapted, info


def make_actor(motion: Motion, body: Body) -> Actor:
    """Bind ``motion`` to ``body`` (adapting the motion, see :func:`adapt_motion`)."""
    adapted, info = adapt_motion(motion, body)
    return Actor(adapted, body, info)
