"""Writers of small input files in each supported format, made from a Motion (for the reader tests)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from usd_synth.kinematics import REST_ROOT_QUAT
from usd_synth.motion.model import Motion
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


_BVH_TREE = [
    # (bvh name, smpl joint, children...) in SMPL's tree; end sites stand for feet, hands and the head top.
    ("Hips", "pelvis"),
    ("LeftHip", "left_hip"), ("LeftKnee", "left_knee"), ("LeftAnkle", "left_ankle"),
    ("RightHip", "right_hip"), ("RightKnee", "right_knee"), ("RightAnkle", "right_ankle"),
    ("Chest", "spine1"), ("Chest2", "spine2"), ("Chest3", "spine3"),
    ("Neck", "neck"), ("Head", "head"),
    ("LeftCollar", "left_collar"), ("LeftShoulder", "left_shoulder"), ("LeftElbow", "left_elbow"),
    ("LeftWrist", "left_wrist"),
    ("RightCollar", "right_collar"), ("RightShoulder", "right_shoulder"), ("RightElbow", "right_elbow"),
    ("RightWrist", "right_wrist"),
]  # fmt: skip
_BVH_END = {"left_ankle": "left_foot", "right_ankle": "right_foot", "left_wrist": "left_hand",
            "right_wrist": "right_hand", "head": None}  # fmt: skip


def bvh_text(motion: Motion, unit: float = 100.0) -> str:
    """A BVH file (centimetres, Y up, ZXY channels) that plays ``motion`` on its own skeleton."""
    from scipy.spatial.transform import Rotation

    from usd_synth.skeleton import SMPL_PARENTS

    smpl_to_bvh = {s: b for b, s in _BVH_TREE}
    order = [JOINT_INDEX[s] for _, s in _BVH_TREE]
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        name = [s for s, i in JOINT_INDEX.items() if i == j][0]
        kind = "ROOT" if j == 0 else "JOINT"
        off = np.zeros(3) if j == 0 else motion.offsets[j] * unit
        lines.append(f"{pad}{kind} {smpl_to_bvh[name]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}")
        chans = "6 Xposition Yposition Zposition" if j == 0 else "3"
        lines.append(f"{pad}  CHANNELS {chans} Zrotation Xrotation Yrotation")
        kids = [c for c in order if SMPL_PARENTS[c] == j]
        for c in kids:
            emit(c, depth + 1)
        if name in _BVH_END:
            tip = _BVH_END[name]
            e = motion.offsets[JOINT_INDEX[tip]] * unit if tip else np.array([0.0, 0.15 * unit, 0.0])
            lines.extend(
                [
                    f"{pad}  End Site",
                    f"{pad}  {{",
                    f"{pad}    OFFSET {e[0]:.6f} {e[1]:.6f} {e[2]:.6f}",
                    f"{pad}  }}",
                ]
            )
        lines.append(f"{pad}}}")

    emit(0, 0)
    rot = motion.rotations.copy()
    rot[:, 0] = quat_mul(quat_conj(REST_ROOT_QUAT), rot[:, 0])  # Z-up world -> Y-up world
    euler = {j: Rotation.from_quat(rot[:, j]).as_euler("ZXY", degrees=True) for j in order}
    root = yup(motion.translation) * unit
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    for f in range(motion.num_frames):
        vals = list(root[f]) + [v for j in order for v in euler[j][f]]
        lines.append(" ".join(f"{v:.6f}" for v in vals))
    return "\n".join(lines) + "\n"
