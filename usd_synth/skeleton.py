"""The SMPL 24-joint skeleton and the joint layouts of the formats we read.

Frames. SMPL's own body frame is Y up: +x is the body's left, +y up, +z forward. usd-synth keeps SMPL's
convention for *local* joint rotations (so SMPL pose parameters are used as they are), and places the body
in a Z-up world (USD stage ``upAxis = Z``, metres). The root joint's rotation maps the body frame into the
world. In the rest pose the root rotation is :data:`usd_synth.kinematics.REST_ROOT_QUAT`, a +90 degree
turn about +x, which stands the body up: it faces -Y, its left is +X and up is +Z (as in Blender's front
view). The kinematic chain itself (local transforms to world ones and back) is :mod:`usd_synth.kinematics`.
"""

from __future__ import annotations

import numpy as np

#: SMPL's 24 joints, in SMPL's order.
SMPL_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee",
    "spine2", "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot",
    "neck", "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip

#: Parent index of each SMPL joint (-1 for the root). Parents always precede their children.
SMPL_PARENTS: np.ndarray = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21], dtype=np.int64
)

NUM_JOINTS = 24
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(SMPL_JOINTS)}

#: Left/right partner of each joint (itself for the midline), used for mirroring.
MIRROR: np.ndarray = np.array(
    [
        JOINT_INDEX[n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")]
        for n in SMPL_JOINTS
    ]
)

#: Rest positions of a 1.7 m adult, SMPL body frame (Y up, +z forward), feet on y = 0. Left/right symmetric;
#: the proportions follow SMPL's neutral template. Used where an input lacks joints and as the default body.
_TEMPLATE_REST = np.array(
    [
        [0.000, 0.930, 0.000],  # pelvis
        [0.070, 0.840, 0.000],  # left_hip
        [-0.070, 0.840, 0.000],  # right_hip
        [0.000, 1.040, -0.010],  # spine1
        [0.100, 0.460, 0.005],  # left_knee
        [-0.100, 0.460, 0.005],  # right_knee
        [0.000, 1.170, 0.000],  # spine2
        [0.090, 0.080, -0.030],  # left_ankle
        [-0.090, 0.080, -0.030],  # right_ankle
        [0.000, 1.225, 0.020],  # spine3
        [0.110, 0.020, 0.100],  # left_foot
        [-0.110, 0.020, 0.100],  # right_foot
        [0.000, 1.440, -0.010],  # neck
        [0.075, 1.345, 0.000],  # left_collar
        [-0.075, 1.345, 0.000],  # right_collar
        [0.000, 1.520, 0.040],  # head
        [0.175, 1.370, -0.015],  # left_shoulder
        [-0.175, 1.370, -0.015],  # right_shoulder
        [0.430, 1.350, -0.030],  # left_elbow
        [-0.430, 1.350, -0.030],  # right_elbow
        [0.680, 1.355, -0.030],  # left_wrist
        [-0.680, 1.355, -0.030],  # right_wrist
        [0.765, 1.350, -0.040],  # left_hand
        [-0.765, 1.350, -0.040],  # right_hand
    ]
)

#: Height of the top of the head above the head joint, as a fraction of the pelvis height (for statures).
HEAD_TOP_ABOVE_HEAD = 0.19


def template_offsets() -> np.ndarray:
    """Offsets of each joint from its parent (body frame); row 0 is the pelvis above the ground origin."""
    offsets = _TEMPLATE_REST.copy()
    offsets[1:] -= _TEMPLATE_REST[SMPL_PARENTS[1:]]
    return offsets


def leg_length(offsets: np.ndarray) -> float:
    """Mean length of the two legs, hip to ankle (thigh plus shin bone), of a skeleton's ``offsets``: what
    a stride scales with (a pelvis joint's height above the hips differs between skeletons)."""
    bones = [JOINT_INDEX[f"{side}_{joint}"] for side in ("left", "right") for joint in ("knee", "ankle")]
    return float(np.linalg.norm(np.asarray(offsets)[bones], axis=1).sum() / 2.0)


def joint_paths() -> list[str]:
    """USD joint paths that follow the kinematic tree, e.g. ``pelvis/left_hip/left_knee``."""
    paths: list[str] = []
    for j, name in enumerate(SMPL_JOINTS):
        p = SMPL_PARENTS[j]
        paths.append(name if p < 0 else f"{paths[p]}/{name}")
    return paths


#: Distance from each joint to the surface it rests on (metres): the sole under the ankle (8 cm) and the
#: ball of the foot (2 cm), the body's half-thickness elsewhere. A joint touches the ground when its
#: height equals its clearance; none goes lower.
JOINT_CLEARANCE: np.ndarray = np.array(
    [
        0.10, 0.09, 0.09, 0.10, 0.06, 0.06,  # pelvis, hips, spine1, knees
        0.10, 0.08, 0.08, 0.10, 0.02, 0.02,  # spine2, ankles, spine3, feet
        0.06, 0.07, 0.07, 0.10, 0.06, 0.06,  # neck, collars, head, shoulders
        0.045, 0.045, 0.035, 0.035, 0.025, 0.025,  # elbows, wrists, hands
    ]
)  # fmt: skip

#: The foot joints (ankles and balls of the feet) that carry the body in the gaits.
FOOT_JOINTS: tuple[int, ...] = (
    JOINT_INDEX["left_ankle"],
    JOINT_INDEX["right_ankle"],
    JOINT_INDEX["left_foot"],
    JOINT_INDEX["right_foot"],
)

#: The joints a leg IK turns (hips, knees, ankles, left then right): all that foot pinning may change.
LEG_JOINTS: tuple[int, ...] = tuple(
    JOINT_INDEX[f"{side}_{joint}"] for side in ("left", "right") for joint in ("hip", "knee", "ankle")
)

#: Human3.6M's 17-joint order (StridedTransformer-Pose3D, VideoPose3D and others).
H36M_JOINTS: tuple[str, ...] = (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "thorax", "neck_nose", "head_top", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
)  # fmt: skip

#: H36M joints that sit where an SMPL joint sits: (h36m index, smpl index).
H36M_TO_SMPL_DIRECT: tuple[tuple[int, int], ...] = (
    (0, 0), (4, 1), (1, 2), (5, 4), (2, 5), (6, 7), (3, 8), (7, 6), (8, 12), (9, 15),
    (11, 16), (14, 17), (12, 18), (15, 19), (13, 20), (16, 21),
)  # fmt: skip

#: HumanML3D's 22 joints are SMPL joints 0..21 (no hands).
HUMANML3D_NUM_JOINTS = 22
