"""AMASS ``.npz`` archives (SMPL-H / SMPL / SMPL-X axis-angle parameters).

Keys: ``poses`` (T, 156) for SMPL-H (the first 66 values are the global orientation and 21 body joints;
(T, 72) SMPL and (T, 165) SMPL-X files are read the same way), ``trans`` (T, 3), ``mocap_framerate`` (or
``mocap_frame_rate``), optionally ``betas`` and ``gender``.

Frames: AMASS's world is Z up while SMPL's body is Y up, exactly usd-synth's convention, so rotations are
taken as they are, with no refit. ``trans`` moves SMPL's model origin; the pelvis sits at
``trans + J0`` where J0 is the pelvis of SMPL's neutral template (without a model file the betas cannot
be evaluated; they are kept in the metadata). SMPL-H has no SMPL hand joints: those get identity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion, validate_motion
from usd_synth.motion.readers.arrays import check_array, fps_or, load_npz, npz_keys, numbers
from usd_synth.rotations import axis_angle_to_quat
from usd_synth.skeleton import NUM_JOINTS

#: Pelvis of SMPL's neutral template relative to the model origin (SMPL body frame, metres).
SMPL_TEMPLATE_PELVIS = np.array([-0.0018, -0.2233, 0.0282])


def smpl_params_to_motion(
    poses: np.ndarray, pelvis_world: np.ndarray, fps: float, source: dict, label: str = ""
) -> Motion:
    """A Motion from SMPL axis-angle poses (T, 3*K), K >= 22, whose root maps the body into a Z-up world."""
    t = poses.shape[0]
    k = min(poses.shape[1] // 3, NUM_JOINTS) if poses.shape[1] in (72,) else 22
    rot = np.zeros((t, NUM_JOINTS, 4))
    rot[..., 3] = 1.0
    rot[:, :k] = axis_angle_to_quat(poses[:, : 3 * k].reshape(t, k, 3))
    return Motion(fps=fps, rotations=rot, translation=pelvis_world, label=label, source=source)


class AmassReader:
    """AMASS SMPL-H/SMPL/SMPL-X parameter archives."""

    name = "amass"
    retargets = False
    takes_folder = False
    description = "AMASS .npz (poses, trans, mocap_framerate), Z up, rotations kept as they are"

    def sniff(self, path: Path) -> bool:
        keys = npz_keys(path) if path.is_file() else set()
        return "poses" in keys and "trans" in keys

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        wanted = ("poses", "trans", "mocap_framerate", "mocap_frame_rate", "betas", "gender")
        arrays = load_npz(path, wanted)
        for key in ("poses", "trans"):
            if key not in arrays:
                has = sorted(npz_keys(path))[:12]
                raise UsdSynthError(f"AMASS archive has no '{key}' array (has: {has})", path)
        poses = check_array(arrays["poses"], path, "AMASS poses", (None, None))
        if poses.shape[1] < 66 or poses.shape[1] % 3:
            raise UsdSynthError(
                f"AMASS poses need at least 66 values per frame (3 per joint), got {poses.shape[1]}", path
            )
        limits.check_rotations_deg(poses, path, "AMASS poses", radians=True)
        trans = check_array(arrays["trans"], path, "AMASS trans", (poses.shape[0], 3))
        limits.check_coordinates(trans, path, "AMASS trans")
        key = "mocap_framerate" if "mocap_framerate" in arrays else "mocap_frame_rate"
        if fps is None:
            if key not in arrays:
                raise UsdSynthError(
                    "AMASS archive has no 'mocap_framerate'; give fps", path, mentions=("fps",)
                )
            fps = limits.check_fps(arrays[key], path, f"AMASS {key}")
        fps = limits.check_fps(fps, path)
        limits.check_duration(poses.shape[0], fps, path)
        source = {"reader": self.name, "file": path.name, "frame_conversion": "z_up_as_is"}
        if "betas" in arrays:
            source["betas"] = [round(float(b), 6) for b in numbers(arrays["betas"], path, "AMASS betas")[:16]]
        if "gender" in arrays:
            gender = np.asarray(arrays["gender"]).reshape(-1)
            if gender.size and gender.dtype.kind in "US":
                g = gender[0]
                source["gender"] = (g.decode("latin-1") if isinstance(g, bytes) else str(g))[:32]
        motion = smpl_params_to_motion(poses, trans + SMPL_TEMPLATE_PELVIS, fps_or(fps, 30.0), source)
        return validate_motion(motion, path)
