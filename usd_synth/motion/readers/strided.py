"""StridedTransformer-Pose3D output (and other Human3.6M-order 3D pose estimators).

Input: ``.npz`` with ``reconstruction`` (T, 17, 3), or a bare ``.npy`` (T, 17, 3); Human3.6M joint order,
camera coordinates (x right, y down, z into the scene), root-relative, one row per video frame.

Frames: ``(x, y, z) -> (x, z, -y)`` turns camera space into the Z-up world (the subject faces the camera,
i.e. -Y). The pelvis stays at the origin horizontally (the input has no global path) and is lifted so the
feet stand on z = 0. The video's frame rate is not in the file: 30 fps unless ``--fps`` says otherwise.

Human3.6M lacks the collars, feet, hands and two of the three spine joints: they are placed from the joints
it has (spine1/spine3 on the spine, collars between neck and shoulders; feet and hands keep their parent's
orientation), and the head top orients the head.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.motion.readers.arrays import (
    CAMERA_TO_Z_UP,
    check_array,
    fps_or,
    load_npy,
    load_npz,
    npy_shape,
    npz_keys,
    retarget_checked,
)
from usd_synth.skeleton import H36M_TO_SMPL_DIRECT, JOINT_INDEX, NUM_JOINTS

DEFAULT_FPS = 30.0
_ANKLE_HEIGHT = 0.08  # metres above the ground, for an adult (template)


def h36m_to_smpl_positions(h36m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """SMPL-24 positions placed from Human3.6M joints (Z-up world).

    Returns (positions (T, 24, 3), observed (24,), measured (24,), head-top positions (T, 3)).
    """
    t = h36m.shape[0]
    pos = np.zeros((t, NUM_JOINTS, 3))
    observed = np.zeros(NUM_JOINTS, bool)
    for h, s in H36M_TO_SMPL_DIRECT:
        pos[:, s] = h36m[:, h]
        observed[s] = True
    measured = observed.copy()
    pelvis, spine, thorax = h36m[:, 0], h36m[:, 7], h36m[:, 8]
    j = JOINT_INDEX
    pos[:, j["spine1"]] = pelvis + 0.45 * (spine - pelvis)
    pos[:, j["spine3"]] = spine + 0.2 * (thorax - spine)
    for side, shoulder in (("left", h36m[:, 11]), ("right", h36m[:, 14])):
        # Between the neck base and the shoulder, at the height between the chest and the neck.
        high = thorax + 0.43 * (shoulder - thorax)
        low = pos[:, j["spine3"]] + 0.43 * (shoulder - pos[:, j["spine3"]])
        pos[:, j[f"{side}_collar"]] = 0.5 * (high + low)
    for name in ("spine1", "spine3", "left_collar", "right_collar"):
        observed[j[name]] = True
    return pos, observed, measured, h36m[:, 10]


class StridedTransformerReader:
    """Human3.6M 17-joint 3D poses in camera space (StridedTransformer-Pose3D's output_keypoints_3d)."""

    name = "strided"
    retargets = True
    takes_folder = False
    description = "StridedTransformer-Pose3D / Human3.6M 17 joints, .npz 'reconstruction' or .npy (T, 17, 3)"

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        if "reconstruction" in npz_keys(path):
            return True
        shape = npy_shape(path)
        return shape is not None and len(shape) == 3 and shape[1:] == (17, 3)

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        if path.suffix.lower() == ".npz" or npz_keys(path):
            arrays = load_npz(path, ["reconstruction"])
            if "reconstruction" not in arrays:
                has = sorted(npz_keys(path))[:12]
                raise UsdSynthError(f"no 'reconstruction' array in the archive (has: {has})", path)
            data = arrays["reconstruction"]
            # Some versions keep a leading batch axis of 1.
            if data.ndim == 4 and data.shape[0] == 1:
                data = data[0]
        else:
            data = load_npy(path, "Human3.6M joints", (None, 17, 3))
        h36m = check_array(data, path, "Human3.6M joints", (None, 17, 3))
        # Bounded before the arithmetic below, so nothing overflows to infinity on the way.
        limits.check_coordinates(h36m, path, "Human3.6M joints")
        h36m = h36m @ CAMERA_TO_Z_UP.T
        h36m = h36m - h36m[:, :1]  # root-relative, whatever the estimator did
        pos, observed, measured, head_top = h36m_to_smpl_positions(h36m)
        # Stand on the ground: the ankles' low point (robust to a few bad frames) at ankle height.
        ankles = pos[:, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]], 2].min(axis=1)
        lift = _ANKLE_HEIGHT - float(np.percentile(ankles, 5))
        pos[:, :, 2] += lift
        head_top = head_top + np.array([0.0, 0.0, lift])
        result = retarget_checked(
            pos,
            fps_or(fps, DEFAULT_FPS),
            path,
            observed=observed,
            measured=measured,
            end_sites={JOINT_INDEX["head"]: head_top},
            source={
                "reader": self.name,
                "file": path.name,
                "frame_conversion": "camera_y_down",
                "root_relative": True,
                "lift_m": round(lift, 6),
            },
            refine=refine,
        )
        return result.motion
