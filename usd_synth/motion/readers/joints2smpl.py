"""joints2smpl result folders: one pickle per frame with SMPL parameters.

Each ``.pkl`` holds ``pose`` (72 axis-angle values: global orientation and 23 joints), ``beta`` (10), and
the translation as ``root`` (the pelvis position) and/or ``cam`` (SMPL's model-origin translation).
Files are ordered by the number in their name. Pickles are read with :mod:`usd_synth.safe_pickle`, which
only builds arrays and plain containers, so a hostile file cannot run code.

Frames: joints2smpl fits HumanML3D joints, so its world is Y up; the root rotation and the pelvis are
turned into the Z-up world by a +90 degree turn about x (the other joints' rotations are local and kept).
The frame rate is HumanML3D's 20 fps unless ``--fps`` says otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from usd_synth import limits, safe_pickle
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_QUAT
from usd_synth.motion.model import Motion, validate_motion
from usd_synth.motion.readers.amass import SMPL_TEMPLATE_PELVIS
from usd_synth.motion.readers.arrays import Y_UP_TO_Z_UP, check_array, fps_or, numbers
from usd_synth.rotations import axis_angle_to_quat, quat_mul
from usd_synth.skeleton import NUM_JOINTS


def _frame_number(p: Path) -> tuple[int, str]:
    digits = re.findall(r"\d+", p.stem)
    return (int(digits[-1]) if digits else -1, p.name)


def load_pickle(path: Path) -> dict:
    """A dict from a pickle, building only numpy arrays and plain containers."""
    limits.check_input_file(path, limits.current().max_pickle_bytes, what="pickle")
    try:
        with open(path, "rb") as f:
            data = safe_pickle.load(f)
    except Exception as exc:
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UsdSynthError(
            f"not a readable pickle of arrays (truncated or corrupt?): {text}", path
        ) from None
    if not isinstance(data, dict):
        raise UsdSynthError(f"expected a dict of SMPL parameters, got {type(data).__name__}", path)
    return data


class Joints2SmplReader:
    """A folder of per-frame joints2smpl ``.pkl`` files."""

    name = "joints2smpl"
    retargets = False
    takes_folder = True
    description = "joints2smpl result folder: per-frame .pkl with 'pose' (72) and 'root'/'cam', Y up, 20 fps"

    def sniff(self, path: Path) -> bool:
        return path.is_dir() and any(path.glob("*.pkl"))

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        if not path.is_dir():
            raise UsdSynthError("joints2smpl input must be a folder of per-frame .pkl files", path)
        files = []
        for f in path.glob("*.pkl"):
            files.append(f)
            limits.check_frames(len(files), path, "folder")
        files.sort(key=_frame_number)
        if not files:
            raise UsdSynthError("folder has no .pkl files", path)
        fps = limits.check_fps(fps_or(fps, 20.0), path)
        limits.check_duration(len(files), fps, path)
        poses, pelvis = [], []
        betas = None
        for f in files:
            d = load_pickle(f)
            if "pose" not in d:
                keys = sorted(str(k) for k in d)[:12]
                raise UsdSynthError(f"no 'pose' in the frame's parameters (has: {keys})", f)
            pose = check_array(_row(d["pose"], f, "pose"), f, "pose", (1, 72))[0]
            limits.check_rotations_deg(pose, f, "pose", radians=True)
            if "root" in d:
                p = check_array(_row(d["root"], f, "root"), f, "root", (1, 3))[0]
            elif "cam" in d:
                p = check_array(_row(d["cam"], f, "cam"), f, "cam", (1, 3))[0] + SMPL_TEMPLATE_PELVIS
            else:
                raise UsdSynthError("frame has neither 'root' nor 'cam' translation", f)
            limits.check_coordinates(p, f, "the translation")
            if betas is None and "beta" in d:
                betas = numbers(safe_pickle.plain(d["beta"]), f, "beta")
            poses.append(pose)
            pelvis.append(p)
        poses_arr = np.stack(poses)
        t = poses_arr.shape[0]
        rot = axis_angle_to_quat(poses_arr.reshape(t, NUM_JOINTS, 3))
        rot[:, 0] = quat_mul(REST_ROOT_QUAT, rot[:, 0])  # Y-up world -> Z-up world, body frame unchanged
        trans = np.stack(pelvis) @ Y_UP_TO_Z_UP.T
        source = {"reader": self.name, "file": path.name, "frames": t, "frame_conversion": "y_up"}
        if betas is not None:
            source["betas"] = [round(float(b), 6) for b in betas[:16]]
        motion = Motion(fps=fps, rotations=rot, translation=trans, source=source)
        return validate_motion(motion, path)


def _row(value: object, path: Path, what: str) -> np.ndarray:
    """A value of a frame's parameters as one row of numbers (a chumpy or sparse value made plain)."""
    try:
        arr = np.asarray(safe_pickle.plain(value))
    except Exception:
        raise UsdSynthError(f"{what} is not an array of numbers", path) from None
    if arr.dtype.kind not in "fiub":
        raise UsdSynthError(f"{what} must be numeric, got {type(value).__name__} of dtype {arr.dtype}", path)
    return arr.reshape(1, -1)
