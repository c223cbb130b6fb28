"""HumanML3D joints and features (text-to-motion output).

Frames: HumanML3D is Y up, metres, 20 fps, the body facing +z at the start; its 22 joints are SMPL joints
0..21 (no hands). On import, positions are turned into the Z-up world by ``(x, y, z) -> (x, -z, y)``
(a +90 degree turn about x; the body then faces -Y) and nothing else: no re-centering, no re-grounding.

Feature form (T, 263): per frame, root angular velocity about y (1), root linear velocity in the root's
frame, x and z (2), root height (1), the 21 other joints relative to the root in the root's frame (63),
then 6D rotations (126), local velocities (66) and foot contacts (4), which are not needed to get joints
back. Features must be un-normalised (a model's raw output times std plus mean).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.motion.readers.arrays import (
    Y_UP_TO_Z_UP,
    check_array,
    fps_or,
    load_npy,
    npy_shape,
    retarget_checked,
)
from usd_synth.skeleton import HUMANML3D_NUM_JOINTS, NUM_JOINTS

HUMANML3D_FPS = 20.0
FEATURE_DIM = 263


def joints_to_motion(
    joints_yup: np.ndarray, fps: float, path: Path, reader: str, refine: bool = False
) -> Motion:
    """Retarget (T, 22, 3) Y-up HumanML3D joints to a Motion in the Z-up world."""
    pos = np.zeros((joints_yup.shape[0], NUM_JOINTS, 3))
    pos[:, :HUMANML3D_NUM_JOINTS] = joints_yup @ Y_UP_TO_Z_UP.T
    observed = np.zeros(NUM_JOINTS, bool)
    observed[:HUMANML3D_NUM_JOINTS] = True
    result = retarget_checked(
        pos,
        fps,
        path,
        observed=observed,
        source={"reader": reader, "file": path.name, "frame_conversion": "y_up"},
        refine=refine,
    )
    return result.motion


def features_to_joints(features: np.ndarray) -> np.ndarray:
    """Recover (T, 22, 3) Y-up joint positions from (T, 263) HumanML3D features.

    The root's heading is the running sum of its angular velocity; a heading ``a`` is stored as the
    quaternion ``(cos a, 0, sin a, 0)`` (w first), i.e. a turn of ``2a`` about y, and positions are brought
    back to the world by its inverse. The root's position is the running sum of its velocity, each step
    rotated by the heading of the frame it lands on, with the stored height.
    """
    t = features.shape[0]
    ang = np.zeros(t)
    ang[1:] = np.cumsum(features[:-1, 0])
    # Inverse of a turn of 2a about y, applied to (x, y, z).
    c, s = np.cos(2 * ang), np.sin(2 * ang)

    def unrotate(v: np.ndarray) -> np.ndarray:
        cc, ss = c.reshape((-1,) + (1,) * (v.ndim - 2)), s.reshape((-1,) + (1,) * (v.ndim - 2))
        x, y, z = v[..., 0], v[..., 1], v[..., 2]
        return np.stack([cc * x - ss * z, y, ss * x + cc * z], axis=-1)

    step = np.zeros((t, 3))
    step[1:, 0] = features[:-1, 1]
    step[1:, 2] = features[:-1, 2]
    root = np.cumsum(unrotate(step), axis=0)
    root[:, 1] = features[:, 3]
    local = features[:, 4 : 4 + 21 * 3].reshape(t, 21, 3)
    joints = unrotate(local)
    joints[..., 0] += root[:, None, 0]
    joints[..., 2] += root[:, None, 2]
    return np.concatenate([root[:, None], joints], axis=1)


class HumanML3DReader:
    """HumanML3D joint positions: ``.npy`` of shape (T, 22, 3), Y up, metres, 20 fps."""

    name = "humanml3d"
    retargets = True
    takes_folder = False
    description = "HumanML3D / text-to-motion joints, .npy (T, 22, 3), Y up, 20 fps"

    def sniff(self, path: Path) -> bool:
        shape = npy_shape(path) if path.is_file() else None
        return shape is not None and len(shape) == 3 and shape[1:] == (HUMANML3D_NUM_JOINTS, 3)

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        joints = check_array(
            load_npy(path, "HumanML3D joints", (None, HUMANML3D_NUM_JOINTS, 3)),
            path,
            "HumanML3D joints",
            (None, HUMANML3D_NUM_JOINTS, 3),
        )
        return joints_to_motion(joints, fps_or(fps, HUMANML3D_FPS), path, self.name, refine)


class HumanML3DFeatureReader:
    """HumanML3D feature vectors: ``.npy`` of shape (T, 263), recovered to joints, then retargeted."""

    name = "humanml3d_features"
    retargets = True
    takes_folder = False
    description = "HumanML3D feature vectors, .npy (T, 263), un-normalised, 20 fps"

    def sniff(self, path: Path) -> bool:
        shape = npy_shape(path) if path.is_file() else None
        return shape is not None and len(shape) == 2 and shape[1] == FEATURE_DIM

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        feats = check_array(
            load_npy(path, "HumanML3D features", (None, FEATURE_DIM)),
            path,
            "HumanML3D features",
            (None, FEATURE_DIM),
        )
        # Velocities and positions in metres, angular velocity in radians: all bounded like coordinates.
        limits.check_coordinates(feats[:, :67], path, "HumanML3D features")
        with np.errstate(all="ignore"):
            joints = features_to_joints(feats)
        if not np.all(np.isfinite(joints)) or np.abs(joints).max() > limits.current().max_coordinate_m:
            raise UsdSynthError(
                "features give joints far beyond any plausible motion: are they still normalised?", path
            )
        return joints_to_motion(joints, fps_or(fps, HUMANML3D_FPS), path, self.name, refine)
