"""Actors: a motion bound to a body.

A motion carries the skeleton of the person it came from; a body has its own. Binding the two keeps the
motion's *rotations* (what the person did) and replaces its skeleton by the body's (who does it):

* bone offsets: the body's (:meth:`~usd_synth.body.model.Body.offsets`);
* root path: horizontal displacement from the first frame and the pelvis height are scaled by the ratio of
  pelvis heights (leg lengths), so a child takes shorter strides and a tall adult longer ones;
* ground contact: a per-frame vertical correction keeps the feet where they were relative to the ground.
  For both skeletons ``g(t) = min over ankles and balls of the feet of (z(t) - standing height)`` is how
  far the lowest foot joint is below where it is when standing (0 when a foot is planted); the body's
  ``g`` is made equal to the scaled original's, so planted feet stay planted and jumps scale with the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from usd_synth.body.model import Body
from usd_synth.kinematics import rest_positions_from_offsets
from usd_synth.motion.model import Motion, forward_kinematics
from usd_synth.skeleton import FOOT_JOINTS


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
            f"feet kept on the ground (largest correction {100 * a['max_ground_correction_m']:.1f} cm)"
        )


def _ground_gap(world_z: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """(T,) how far the lowest foot joint is below its standing height."""
    return np.min(world_z[:, FOOT_JOINTS] - standing[None, list(FOOT_JOINTS)], axis=1)


def adapt_motion(motion: Motion, body: Body) -> tuple[Motion, dict[str, Any]]:
    """``motion`` moved onto ``body``'s skeleton (see the module docstring) and what was changed."""
    src_offsets = motion.offsets
    dst_offsets = body.offsets()
    scale = float(dst_offsets[0, 1] / src_offsets[0, 1])
    trans = motion.translation.copy()
    trans[:, :2] = trans[0, :2] + scale * (trans[:, :2] - trans[0, :2])
    trans[:, 2] *= scale
    _, src_pos = forward_kinematics(motion.rotations, motion.translation, src_offsets)
    _, dst_pos = forward_kinematics(motion.rotations, trans, dst_offsets)
    src_standing = rest_positions_from_offsets(src_offsets)[:, 1]
    # The body's soles touch the ground in its bind pose: its joints' bind heights are the standing ones.
    dst_standing = body.joints[:, 1]
    correction = scale * _ground_gap(src_pos[..., 2], src_standing) - _ground_gap(
        dst_pos[..., 2], dst_standing
    )
    trans[:, 2] += correction
    adapted = Motion(
        fps=motion.fps,
        rotations=motion.rotations,
        translation=trans,
        offsets=dst_offsets,
        label=motion.label,
        source=dict(motion.source),
    )
    info = {
        "scale": round(scale, 6),
        "max_ground_correction_m": round(float(np.max(np.abs(correction))), 6),
        "source_pelvis_height_m": round(float(src_offsets[0, 1]), 6),
        "body_pelvis_height_m": round(float(dst_offsets[0, 1]), 6),
    }
    return adapted, info


def make_actor(motion: Motion, body: Body) -> Actor:
    """Bind ``motion`` to ``body`` (adapting the motion, see :func:`adapt_motion`)."""
    adapted, info = adapt_motion(motion, body)
    return Actor(adapted, body, info)
