"""Actors: a motion bound to a body.

A motion carries the skeleton of the person it came from; a body has its own. Binding the two keeps the
motion's *rotations* (what the person did) and replaces its skeleton by the body's (who does it):

* bone offsets: the body's (:meth:`~usd_synth.body.model.Body.offsets`);
* root path: horizontal displacement from the first frame and the pelvis height are scaled by the ratio of
  pelvis heights (leg lengths), so a child takes shorter strides and a tall adult longer ones;
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

from usd_synth.body.fidelity import lowest_heights, planted_feet, skinning_matrices
from usd_synth.body.model import Body
from usd_synth.motion.model import Motion, forward_kinematics


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


def adapt_motion(motion: Motion, body: Body) -> tuple[Motion, dict[str, Any]]:
    """``motion`` moved onto ``body``'s skeleton (see the module docstring) and what was changed."""
    src_offsets = motion.offsets
    dst_offsets = body.offsets()
    scale = float(dst_offsets[0, 1] / src_offsets[0, 1])
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
    correction, planted = ground_correction(adapted, body)
    adapted.translation[:, 2] += correction
    offset = float(np.median(correction[planted] if planted.any() else correction))
    info = {
        "scale": round(scale, 6),
        "floor_offset_m": round(offset, 6),
        "max_ground_correction_m": round(float(np.max(np.abs(correction - offset))), 6),
        "planted_frames": int(planted.sum()),
        "source_pelvis_height_m": round(float(src_offsets[0, 1]), 6),
        "body_pelvis_height_m": round(float(dst_offsets[0, 1]), 6),
    }
    return adapted, info


def make_actor(motion: Motion, body: Body) -> Actor:
    """Bind ``motion`` to ``body`` (adapting the motion, see :func:`adapt_motion`)."""
    adapted, info = adapt_motion(motion, body)
    return Actor(adapted, body, info)
