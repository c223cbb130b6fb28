"""The Motion model: an animated SMPL-24 skeleton, and its vectorized forward kinematics.

A :class:`Motion` holds per-frame *local* joint rotations in SMPL's convention (see
:mod:`usd_synth.skeleton` for the frames), the world position of the pelvis per frame, and a per-sequence
skeleton given as rest offsets (bone vectors in the parent's rest frame), so that bone lengths follow the
person the motion came from. Everything downstream (blending, bodies, USD) reads this one model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX, REST_ROOT_QUAT, local_to_world, rest_positions_from_offsets
from usd_synth.rotations import make_continuous, quat_to_matrix
from usd_synth.skeleton import (
    HEAD_TOP_ABOVE_HEAD,
    JOINT_INDEX,
    NUM_JOINTS,
    SMPL_JOINTS,
    SMPL_PARENTS,
    template_offsets,
)

#: No coordinate of a Motion (translation, offset) may exceed this, whatever the limits: beyond it float32
#: USD values lose all precision (and overflow to infinity near 3.4e38).
HARD_MAX_COORDINATE_M = 1e6


@dataclass
class Motion:
    """An animated SMPL-24 skeleton.

    Attributes:
        fps: frames per second (also the USD ``timeCodesPerSecond``).
        rotations: (T, 24, 4) local joint rotations, quaternions ``(x, y, z, w)``; joint 0's maps the body
            frame to the Z-up world, the others are relative to their parent (SMPL's pose convention).
        translation: (T, 3) world position of the pelvis joint, metres, Z up.
        offsets: (24, 3) rest offset of each joint from its parent in the parent's frame (SMPL body frame);
            row 0 is the pelvis position above the ground origin in the rest pose.
        label: the action label, e.g. ``"walk"``.
        source: free-form provenance (reader, file, residual, parameters); JSON-serialisable values only.
    """

    fps: float
    rotations: np.ndarray
    translation: np.ndarray
    offsets: np.ndarray = field(default_factory=template_offsets)
    label: str = ""
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rotations = np.asarray(self.rotations, dtype=np.float64)
        self.translation = np.asarray(self.translation, dtype=np.float64)
        self.offsets = np.asarray(self.offsets, dtype=np.float64)
        self.fps = float(self.fps)
        where = self.source.get("file")
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise UsdSynthError(f"frame rate must be a positive number, got {self.fps}", where)
        if self.rotations.ndim != 3 or self.rotations.shape[1:] != (NUM_JOINTS, 4):
            raise UsdSynthError(f"rotations must have shape (T, 24, 4), got {self.rotations.shape}", where)
        t = self.rotations.shape[0]
        if t == 0:
            raise UsdSynthError("motion has no frames", where)
        if self.translation.shape != (t, 3):
            raise UsdSynthError(f"translation must have shape ({t}, 3), got {self.translation.shape}", where)
        if self.offsets.shape != (NUM_JOINTS, 3):
            raise UsdSynthError(f"offsets must have shape (24, 3), got {self.offsets.shape}", where)
        for name in ("rotations", "translation", "offsets"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise UsdSynthError(f"{name} contain NaN or infinite values", where)
        for name in ("translation", "offsets"):
            big = float(np.abs(getattr(self, name)).max())
            if big > HARD_MAX_COORDINATE_M:
                raise UsdSynthError(f"{name} reach {big:.3g} m, beyond any plausible motion", where)
        norms = np.linalg.norm(self.rotations, axis=-1, keepdims=True)
        if np.any(norms < 1e-6):
            raise UsdSynthError("rotations contain zero-length quaternions", where)
        self.rotations = make_continuous(self.rotations / norms, axis=0)

    # -- size ------------------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds (frames / fps)."""
        return self.num_frames / self.fps

    # -- kinematics ------------------------------------------------------------------------------------
    def world_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics: world rotation matrices (T, 24, 3, 3) and joint positions (T, 24, 3)."""
        return forward_kinematics(self.rotations, self.translation, self.offsets)

    def joint_positions(self) -> np.ndarray:
        """World joint positions (T, 24, 3), metres, Z up."""
        return self.world_transforms()[1]

    def rest_positions(self) -> np.ndarray:
        """World joint positions (24, 3) of the rest pose: standing on z = 0, facing -Y."""
        body = rest_positions_from_offsets(self.offsets)
        return body @ REST_ROOT_MATRIX.T

    def bone_lengths(self) -> np.ndarray:
        """Length of the bone from each joint's parent (24,); 0 for the root."""
        lengths = np.linalg.norm(self.offsets, axis=-1)
        lengths[0] = 0.0
        return lengths

    @property
    def stature(self) -> float:
        """Standing height (m) of the rest pose: the head joint plus the top of the head above it."""
        return stature_from_offsets(self.offsets)

    def copy(self) -> Motion:
        return copy.deepcopy(self)


def forward_kinematics(
    rotations: np.ndarray, translation: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (..., 24, 3, 3) and positions (..., 24, 3) of an SMPL-24 skeleton.

    ``rotations`` (..., 24, 4) are local quaternions, ``translation`` (..., 3) is the pelvis position and
    ``offsets`` (24, 3) the rest bone vectors: :func:`usd_synth.kinematics.local_to_world` with a motion's
    arguments, vectorized over all leading axes.
    """
    return local_to_world(quat_to_matrix(rotations), offsets, SMPL_PARENTS, root_translation=translation)


def stature_from_offsets(offsets: np.ndarray) -> float:
    """Standing height (m) of a skeleton given by its rest offsets (as ``motion info`` reports it)."""
    offsets = np.asarray(offsets, dtype=np.float64)
    rest = rest_positions_from_offsets(offsets) @ REST_ROOT_MATRIX.T
    return float(rest[JOINT_INDEX["head"], 2] + HEAD_TOP_ABOVE_HEAD * offsets[0, 1])


def validate_motion(motion: Motion, path=None) -> Motion:
    """Check a motion read from ``path`` against :mod:`usd_synth.limits`: frame rate, frames, duration,
    coordinates, stature and bone lengths. Returns it; a one-line UsdSynthError naming ``path`` if not."""
    path = path if path is not None else motion.source.get("file")
    limits.check_fps(motion.fps, path)
    limits.check_duration(motion.num_frames, motion.fps, path)
    limits.check_coordinates(motion.translation, path, "the pelvis trajectory")
    limits.check_coordinates(motion.offsets, path, "the skeleton's offsets")
    stature = motion.stature
    limits.check_stature(stature, path)
    limits.check_bones(motion.bone_lengths()[1:], stature, path, list(SMPL_JOINTS[1:]))
    return motion


def rest_motion(num_frames: int = 1, fps: float = 30.0, offsets: np.ndarray | None = None) -> Motion:
    """A motion that holds the rest pose, standing at the origin: useful as a base and in tests."""
    offsets = template_offsets() if offsets is None else np.asarray(offsets, dtype=np.float64)
    rot = np.zeros((num_frames, NUM_JOINTS, 4))
    rot[..., 3] = 1.0
    rot[:, 0] = REST_ROOT_QUAT
    trans = np.tile(REST_ROOT_MATRIX @ offsets[0], (num_frames, 1))
    return Motion(fps=fps, rotations=rot, translation=trans, offsets=offsets, label="rest")
