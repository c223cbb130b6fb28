"""Writers of small input files in each supported format, made from a Motion (for the reader tests)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from usd_synth.motion.model import REST_ROOT_QUAT, Motion
from usd_synth.rotations import quat_conj, quat_mul, quat_to_axis_angle
from usd_synth.skeleton import JOINT_INDEX

from .conftest import camera, yup

H36M_FROM_SMPL = [0, 2, 5, 8, 1, 4, 7, 6, 12, 15, None, 16, 18, 20, 17, 19, 21]


def humanml3d_joints(motion: Motion, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """(T, 22, 3) Y-up joints as HumanML3D stores them."""
    pos = motion.joint_positions()[:, :22]
    pos = pos + np.random.default_rng(seed).normal(0.0, noise, pos.shape)
    return yup(pos)


def h36m_camera_joints(motion: Motion, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """(T, 17, 3) Human3.6M joints in camera space, root-relative, with a head top 12 cm above the head."""
    world_r, pos = motion.world_transforms()
    head = JOINT_INDEX["head"]
    head_top = pos[:, head] + world_r[:, head] @ np.array([0.0, 0.12, 0.0])
    h36m = np.stack([head_top if s is None else pos[:, s] for s in H36M_FROM_SMPL], axis=1)
    h36m = h36m + np.random.default_rng(seed).normal(0.0, noise, h36m.shape)
    h36m = h36m - h36m[:, :1]
    return camera(h36m)


def humanml3d_features(joints_yup: np.ndarray) -> np.ndarray:
    """Encode Y-up joints into the (T, 263) feature layout (only the parts the decoder reads are filled).

    Heading angle a_t: any smooth choice works for a round trip; here the facing of the hips.
    """
    t = joints_yup.shape[0]
    across = joints_yup[:, 1] - joints_yup[:, 2]
    a = 0.5 * np.unwrap(np.arctan2(-across[:, 2], across[:, 0]))
    a = a - a[0]  # the format starts at heading 0

    def rotate(v, ang):  # a turn of 2*ang about y
        c, s = np.cos(2 * ang), np.sin(2 * ang)
        c = c.reshape((-1,) + (1,) * (v.ndim - 2))
        s = s.reshape((-1,) + (1,) * (v.ndim - 2))
        x, y, z = v[..., 0], v[..., 1], v[..., 2]
        return np.stack([c * x + s * z, y, -s * x + c * z], axis=-1)

    feats = np.zeros((t, 263))
    feats[:-1, 0] = np.diff(a)
    root = joints_yup[:, 0]
    step = rotate(np.diff(root, axis=0) * np.array([1.0, 0.0, 1.0]), a[1:])
    feats[:-1, 1] = step[:, 0]
    feats[:-1, 2] = step[:, 2]
    feats[:, 3] = root[:, 1]
    local = joints_yup[:, 1:] - root[:, None] * np.array([1.0, 0.0, 1.0])
    feats[:, 4:67] = rotate(local, a).reshape(t, 63)
    return feats


def amass_npz(path: Path, motion: Motion, poses_dim: int = 156) -> np.ndarray:
    """An AMASS-style archive of the motion's SMPL rotations; returns the poses written."""
    t = motion.num_frames
    aa = quat_to_axis_angle(motion.rotations)
    poses = np.zeros((t, poses_dim))
    k = 24 if poses_dim == 72 else 22
    poses[:, : 3 * k] = aa[:, :k].reshape(t, -1)
    np.savez(
        path,
        poses=poses,
        trans=motion.translation - np.array([-0.0018, -0.2233, 0.0282]),
        mocap_framerate=np.array(motion.fps),
        betas=np.zeros(16),
        gender=np.array("neutral"),
    )
    return poses


def joints2smpl_folder(folder: Path, motion: Motion) -> None:
    """One pickle per frame as joints2smpl writes them, in its Y-up world."""
    folder.mkdir(parents=True, exist_ok=True)
    rot = motion.rotations.copy()
    rot[:, 0] = quat_mul(quat_conj(REST_ROOT_QUAT), rot[:, 0])  # Z-up world -> Y-up world
    aa = quat_to_axis_angle(rot).reshape(motion.num_frames, 72)
    root = yup(motion.translation)
    for f in range(motion.num_frames):
        data = {"beta": np.zeros(10), "pose": aa[f], "cam": np.zeros(3), "root": root[f]}
        with open(folder / f"motion_{f}.pkl", "wb") as fh:
            pickle.dump(data, fh)
