"""BVH files of the common rigs, synthesised from one SMPL motion, read back through USD.

Each rig is written from a known SMPL-24 motion: every BVH joint *rides on* an SMPL joint (it turns with
that joint's frame, times a constant change of rest frame, and sits at a fixed point of it), or is a dummy
with a track of its own. The writer inverts the forward kinematics into channel values (in the rig's
channel order, units and up axis), checks with an independent forward kinematics (SciPy's Euler angles)
that the file plays back the motion, and the test reads the file, writes it to USD with the project's
writer and evaluates the joints with UsdSkel itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.motion.readers import detect_format
from usd_synth.motion.readers.bvh import BvhReader, parse_bvh, world_transforms
from usd_synth.motion.readers.bvh_rigs import load_joint_map, match_names, normalise
from usd_synth.skeleton import JOINT_INDEX, SMPL_JOINTS, SMPL_PARENTS
from usd_synth.usd.motion_io import joint_world_positions_from_usd, write_motion

from ..conftest import smooth_random_motion

Z_TO_Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  #: (x, y, z) -> (x, z, -y)
#: The joints the acceptance compares (the BVH's own positions against UsdSkel's).
CHECKED = ["pelvis"] + [
    f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
]


# ---------------------------------------------------------------------------------------------------------
# a BVH writer for any rig
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Bone:
    name: str
    parent: str | None
    on: str | None = None  #: SMPL joint it rides on (None: a dummy with the rig's dummy track)
    d: tuple[float, float, float] = (0.0, 0.0, 0.0)  #: where on that joint, in its body frame (m)
    channels: int = 3  #: 0, 3 (rotations) or 6 (positions too)
    end: tuple[float, float, float] | None = None  #: an End Site at this point of `on`'s body frame (m)
    stale_offset: bool = False  #: write OFFSET 0 0 0: only the position channels say where the joint is


@dataclass
class Rig:
    family: str
    bones: list[Bone]
    unit: float  #: file units per metre
    order: str = "ZXY"  #: rotation channel order
    rotations_first: bool = False  #: "Xrotation ... Zposition" instead of positions first
    rest: str = "t"  #: "t": SMPL's T-pose; "x": every bone along its joint's local x; "odd": odd fixed turns
    still: tuple[str, ...] = ()  #: SMPL joints this rig cannot bend (held at their parent's turn)
    up: str = "y"
    dummy: str = "static"  #: "static" or "moving": the track of bones with on=None


@dataclass
class Written:
    text: str
    names: list[str]
    world: np.ndarray  #: (F, B, 3) joint positions the file encodes, its frame and units
    fk: np.ndarray  #: (F, B, 3) the same from an independent FK of the written numbers
    truth: dict[str, np.ndarray] = field(default_factory=dict)  #: SMPL joint -> (F, 3) Z-up metres


def _frame_to_world(up: str) -> np.ndarray:
    return Z_TO_Y if up == "y" else np.eye(3)


def _rot_x_to(v: np.ndarray) -> np.ndarray:
    """A rotation taking +x onto the direction of v (with a fixed, arbitrary twist)."""
    a = v / np.linalg.norm(v)
    helper = np.array([0.0, 0.0, 1.0]) if abs(a[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    b = np.cross(helper, a)
    b /= np.linalg.norm(b)
    return np.stack([a, b, np.cross(a, b)], axis=-1)


def rig_motion(rig: Rig, frames: int = 24, fps: float = 30.0, seed: int = 3) -> Motion:
    """The SMPL motion a rig can play: joints it has no bone for (and its `still` ones) do not bend."""
    m = smooth_random_motion(num_frames=frames, fps=fps, seed=seed, amplitude=0.35)
    ridden = {b.on for b in rig.bones if b.on}
    rot = m.rotations.copy()
    for name in SMPL_JOINTS[1:]:
        if name not in ridden or name in rig.still:
            rot[:, JOINT_INDEX[name]] = [0.0, 0.0, 0.0, 1.0]
    return Motion(fps=m.fps, rotations=rot, translation=m.translation, offsets=m.offsets, label="rig")


def write_rig(rig: Rig, motion: Motion) -> Written:
    """BVH text that plays ``motion`` on ``rig``, checked by an independent forward kinematics."""
    w_r, w_p = motion.world_transforms()  # Z-up world, metres
    f = motion.num_frames
    to_file = _frame_to_world(rig.up)
    names = [b.name for b in rig.bones]
    index = {n: i for i, n in enumerate(names)}
    # World tracks of every bone in the file's frame and units.
    t = np.arange(f) / motion.fps
    rot = np.zeros((f, len(names), 3, 3))
    pos = np.zeros((f, len(names), 3))
    for i, b in enumerate(rig.bones):
        if b.on is None:
            ground = to_file @ np.array([0.0, 0.0, 1.0])
            if rig.dummy == "moving":  # under the pelvis on the ground, slowly turning, and lying down
                p = np.einsum("ij,tj->ti", to_file, w_p[:, 0]) * rig.unit
                p = p - np.outer(p @ ground, ground)
                yaw = Rotation.from_rotvec(np.outer(0.4 * np.sin(t), ground)).as_matrix()
                rot[:, i] = yaw @ Rotation.from_euler("x", -90, degrees=True).as_matrix()
                pos[:, i] = p
            else:
                rot[:, i] = np.eye(3)
                pos[:, i] = np.array([12.0, 0.0, -7.0]) * rig.unit / 100
        else:
            j = JOINT_INDEX[b.on]
            rot[:, i] = to_file @ w_r[:, j]
            pos[:, i] = np.einsum("ij,tj->ti", to_file, w_p[:, j] + w_r[:, j] @ np.array(b.d)) * rig.unit
    # The change of rest frame C of each bone riding on a joint.
    for i, b in enumerate(rig.bones):
        if b.on is None:
            continue
        if rig.rest == "x":
            kids = [k for k, c in enumerate(rig.bones) if c.parent == b.name]
            if kids:
                v = rot[0, i].T @ (pos[0, kids[0]] - pos[0, i])
            elif b.end is not None:
                v = np.array(b.end) - np.array(b.d)
            else:
                v = np.array([1.0, 0.0, 0.0])
            c = _rot_x_to(v) if np.linalg.norm(v) > 1e-9 else np.eye(3)
        elif rig.rest == "odd":
            c = Rotation.from_rotvec(np.array([0.3, -0.5, 0.4]) * ((i % 3) - 1)).as_matrix()
        else:
            c = np.eye(3)
        rot[:, i] = rot[:, i] @ c
    # Local transforms, channel values and the text.
    lines: list[str] = ["HIERARCHY"]
    columns: list[np.ndarray] = []
    layout: list[tuple[np.ndarray, list[str]]] = []  # per bone: written offset, channel names
    emitted: list[str] = []

    def emit(i: int, depth: int) -> None:
        b = rig.bones[i]
        pad = "\t" * depth
        if b.parent is None:
            local_r, local_t = rot[:, i], pos[:, i]
        else:
            p = index[b.parent]
            local_r = np.swapaxes(rot[:, p], -1, -2) @ rot[:, i]
            local_t = np.einsum("tji,tj->ti", rot[:, p], pos[:, i] - pos[:, p])
        if b.channels < 6:
            assert np.ptp(local_t, axis=0).max() < 1e-6 * rig.unit, f"{b.name} needs position channels"
        if b.channels == 0:
            assert np.allclose(local_r, np.eye(3), atol=1e-9), f"{b.name} needs rotation channels"
        offset = np.zeros(3) if b.stale_offset else local_t[0]
        rots = [f"{a}rotation" for a in rig.order]
        poss = ["Xposition", "Yposition", "Zposition"] if b.channels == 6 else []
        chans = (rots + poss if rig.rotations_first else poss + rots) if b.channels else []
        euler = Rotation.from_matrix(local_r).as_euler(rig.order, degrees=True)
        for ch in chans:
            axis = "XYZ".index(ch[0])
            columns.append(local_t[:, axis] if ch.endswith("position") else euler[:, rig.order.index(ch[0])])
        layout.append((offset, chans))
        emitted.append(b.name)
        lines.append(f"{pad}{'ROOT' if b.parent is None else 'JOINT'} {b.name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        if chans:
            lines.append(f"{pad}\tCHANNELS {len(chans)} {' '.join(chans)}")
        for k, c in enumerate(rig.bones):
            if c.parent == b.name:
                emit(k, depth + 1)
        if b.end is not None:
            e = rot[0, i].T @ (
                to_file @ (w_r[0, JOINT_INDEX[b.on]] @ (np.array(b.end) - np.array(b.d))) * rig.unit
            )
            lines.extend(
                [f"{pad}\tEnd Site", f"{pad}\t{{", f"{pad}\t\tOFFSET {e[0]:.6f} {e[1]:.6f} {e[2]:.6f}"]
            )
            lines.append(f"{pad}\t}}")
        lines.append(f"{pad}}}")

    emit(0, 0)
    assert emitted == names, "a rig lists its bones depth-first, as the file does"
    values = np.round(np.stack(columns, axis=1), 6)
    lines += ["MOTION", f"Frames: {f}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in values]
    fk = _independent_fk(rig, layout, values)
    truth = {b.on: w_p[:, JOINT_INDEX[b.on]] for b in rig.bones if b.on and b.d == (0.0, 0.0, 0.0)}
    return Written("\n".join(lines) + "\n", names, pos, fk, truth)


def _independent_fk(rig: Rig, layout: list, values: np.ndarray) -> np.ndarray:
    """World positions of the written file, from its numbers, with SciPy's Euler angles."""
    f = values.shape[0]
    index = {b.name: i for i, b in enumerate(rig.bones)}
    world_r = np.zeros((f, len(layout), 3, 3))
    world_p = np.zeros((f, len(layout), 3))
    col = 0
    for i, (b, (offset, chans)) in enumerate(zip(rig.bones, layout, strict=True)):
        t = np.tile(offset, (f, 1))
        angles = np.zeros((f, 3))
        for ch in chans:
            if ch.endswith("position"):
                t[:, "XYZ".index(ch[0])] = values[:, col]
            else:
                angles[:, rig.order.index(ch[0])] = values[:, col]
            col += 1
        r = Rotation.from_euler(rig.order, angles, degrees=True).as_matrix()
        if b.parent is None:
            world_r[:, i], world_p[:, i] = r, t
        else:
            p = index[b.parent]
            world_r[:, i] = world_r[:, p] @ r
            world_p[:, i] = world_p[:, p] + np.einsum("tij,tj->ti", world_r[:, p], t)
    return world_p


def kabsch_mpjpe(a: np.ndarray, b: np.ndarray) -> float:
    """MPJPE of a (T, J, 3) against b after the one rigid motion (over all frames) that fits a to b best."""
    pa, pb = a.reshape(-1, 3), b.reshape(-1, 3)
    ca, cb = pa.mean(0), pb.mean(0)
    u, _, vt = np.linalg.svd((pa - ca).T @ (pb - cb))
    s = np.diag([1.0, 1.0, np.sign(np.linalg.det(vt.T @ u.T))])
    r = vt.T @ s @ u.T
    aligned = (pa - ca) @ r.T + cb
    return float(np.linalg.norm(aligned - pb, axis=-1).mean())


# ---------------------------------------------------------------------------------------------------------
# the rigs
# ---------------------------------------------------------------------------------------------------------

FOOT_END = (0.0, -0.02, 0.12)  #: toe tip (an End Site past the ball of the foot), in that joint's frame
HEAD_TOP = (0.0, 0.18, 0.02)


def _sided(s: str, template: str) -> str:
    return template.format(S="Left" if s == "l" else "Right", s=s, U=s.upper())


def humanik_bones(prefix: str = "", *, reference: bool = False, stale_spine: bool = False) -> list[Bone]:
    """MotionBuilder / HumanIK names (Mixamo's with ``prefix='mixamorig:'``)."""
    n = lambda x: prefix + x  # noqa: E731
    bones = []
    if reference:
        bones.append(Bone("Reference", None, channels=0))
    bones.append(Bone(n("Hips"), "Reference" if reference else None, "pelvis", channels=6))
    for s in "lr":
        side = "left" if s == "l" else "right"
        S = "Left" if s == "l" else "Right"
        bones += [
            Bone(n(f"{S}UpLeg"), n("Hips"), f"{side}_hip"),
            Bone(n(f"{S}Leg"), n(f"{S}UpLeg"), f"{side}_knee"),
            Bone(n(f"{S}Foot"), n(f"{S}Leg"), f"{side}_ankle"),
            Bone(n(f"{S}ToeBase"), n(f"{S}Foot"), f"{side}_foot", end=FOOT_END),
        ]
    bones += [
        Bone(n("Spine"), n("Hips"), "spine1", channels=6 if stale_spine else 3, stale_offset=stale_spine),
        Bone(n("Spine1"), n("Spine"), "spine2"),
        Bone(n("Spine2"), n("Spine1"), "spine3"),
        Bone(n("Neck"), n("Spine2"), "neck"),
        Bone(n("Head"), n("Neck"), "head"),
        Bone(n("HeadTop_End"), n("Head"), "head", d=HEAD_TOP),
    ]
    for s in "lr":
        side = "left" if s == "l" else "right"
        S = "Left" if s == "l" else "Right"
        bones += [
            Bone(n(f"{S}Shoulder"), n("Spine2"), f"{side}_collar"),
            Bone(n(f"{S}Arm"), n(f"{S}Shoulder"), f"{side}_shoulder"),
            Bone(n(f"{S}ForeArm"), n(f"{S}Arm"), f"{side}_elbow"),
            Bone(n(f"{S}Hand"), n(f"{S}ForeArm"), f"{side}_wrist"),
            Bone(n(f"{S}HandMiddle1"), n(f"{S}Hand"), f"{side}_hand", end=(0.0, 0.0, 0.0)),
            Bone(n(f"{S}HandThumb1"), n(f"{S}Hand"), f"{side}_wrist", d=(0.03, -0.01, 0.03)),
        ]
    return bones


def _reorder(bones: list[Bone]) -> list[Bone]:
    """Bones in depth-first order (as the file lists them), parents first."""
    kids: dict[str | None, list[Bone]] = {}
    for b in bones:
        kids.setdefault(b.parent, []).append(b)
    out: list[Bone] = []

    def walk(b: Bone) -> None:
        out.append(b)
        for c in kids.get(b.name, []):
            walk(c)

    for root in kids[None]:
        walk(root)
    return out


def cmu_bones() -> list[Bone]:
    """CMU (MotionBuilder-friendly): LHipJoint links, LowerBack, Neck1, LeftFingerBase, LThumb."""
    bones = [Bone("Hips", None, "pelvis", channels=6)]
    for s in "lr":
        side, S = ("left", "Left") if s == "l" else ("right", "Right")
        bones += [
            Bone(f"{s.upper()}HipJoint", "Hips", "pelvis"),
            Bone(f"{S}UpLeg", f"{s.upper()}HipJoint", f"{side}_hip"),
            Bone(f"{S}Leg", f"{S}UpLeg", f"{side}_knee"),
            Bone(f"{S}Foot", f"{S}Leg", f"{side}_ankle"),
            Bone(f"{S}ToeBase", f"{S}Foot", f"{side}_foot", end=FOOT_END),
        ]
    bones += [
        Bone("LowerBack", "Hips", "spine1"),
        Bone("Spine", "LowerBack", "spine2"),
        Bone("Spine1", "Spine", "spine3"),
        Bone("Neck", "Spine1", "neck"),
        Bone("Neck1", "Neck", "neck", d=(0.0, 0.04, 0.02)),
        Bone("Head", "Neck1", "head", end=HEAD_TOP),
    ]
    for s in "lr":
        side, S = ("left", "Left") if s == "l" else ("right", "Right")
        bones += [
            Bone(f"{S}Shoulder", "Spine1", f"{side}_collar"),
            Bone(f"{S}Arm", f"{S}Shoulder", f"{side}_shoulder"),
            Bone(f"{S}ForeArm", f"{S}Arm", f"{side}_elbow"),
            Bone(f"{S}Hand", f"{S}ForeArm", f"{side}_wrist"),
            Bone(f"{S}FingerBase", f"{S}Hand", f"{side}_hand", end=(0.0, 0.0, 0.0)),
            Bone(
                f"{s.upper()}Thumb",
                f"{S}Hand",
                f"{side}_wrist",
                d=(0.02, -0.02, 0.03),
                end=(0.03, -0.03, 0.05),
            ),
        ]
    return bones


def biped_bones() -> list[Bone]:
    """3ds Max Biped: a Bip01 root, thighs on the spine, clavicles on the neck, nubs as end joints."""
    bones = [
        Bone("Bip01", None, "pelvis", channels=6),
        Bone("Bip01 Pelvis", "Bip01", "pelvis"),
        Bone("Bip01 Spine", "Bip01 Pelvis", "spine1"),
    ]
    for s in "LR":
        side = "left" if s == "L" else "right"
        bones += [
            Bone(f"Bip01 {s} Thigh", "Bip01 Spine", f"{side}_hip"),
            Bone(f"Bip01 {s} Calf", f"Bip01 {s} Thigh", f"{side}_knee"),
            Bone(f"Bip01 {s} Foot", f"Bip01 {s} Calf", f"{side}_ankle"),
            Bone(f"Bip01 {s} Toe0", f"Bip01 {s} Foot", f"{side}_foot", end=FOOT_END),
        ]
    bones += [
        Bone("Bip01 Spine1", "Bip01 Spine", "spine2"),
        Bone("Bip01 Spine2", "Bip01 Spine1", "spine3"),
        Bone("Bip01 Neck", "Bip01 Spine2", "neck"),
        Bone("Bip01 Head", "Bip01 Neck", "head"),
        Bone("Bip01 HeadNub", "Bip01 Head", "head", d=HEAD_TOP, end=(0.0, 0.25, 0.02)),
    ]
    for s in "LR":
        side = "left" if s == "L" else "right"
        bones += [
            Bone(f"Bip01 {s} Clavicle", "Bip01 Neck", f"{side}_collar"),
            Bone(f"Bip01 {s} UpperArm", f"Bip01 {s} Clavicle", f"{side}_shoulder"),
            Bone(f"Bip01 {s} Forearm", f"Bip01 {s} UpperArm", f"{side}_elbow"),
            Bone(f"Bip01 {s} Hand", f"Bip01 {s} Forearm", f"{side}_wrist"),
            Bone(f"Bip01 {s} Finger2", f"Bip01 {s} Hand", f"{side}_hand", end=(0.0, 0.0, 0.0)),
        ]
    return bones


def unity_bones() -> list[Bone]:
    """The game-studio set of issue 12: joint_Root above Hips, six channels everywhere, X_L names."""
    bones = [Bone("joint_Root", None, channels=6), Bone("Hips", "joint_Root", "pelvis", channels=6)]
    for s in "LR":
        side = "left" if s == "L" else "right"
        bones += [
            Bone(f"UpperLeg_{s}", "Hips", f"{side}_hip", channels=6),
            Bone(f"LowerLeg_{s}", f"UpperLeg_{s}", f"{side}_knee", channels=6),
            Bone(f"Foot_{s}", f"LowerLeg_{s}", f"{side}_ankle", channels=6),
            Bone(f"Toes_{s}", f"Foot_{s}", f"{side}_foot", channels=6, end=FOOT_END),
        ]
    bones += [
        Bone("Spine", "Hips", "spine1", channels=6),
        Bone("Chest", "Spine", "spine2", channels=6),
        Bone("UpperChest", "Chest", "spine3", channels=6),
        Bone("Neck", "UpperChest", "neck", channels=6),
        Bone("Head", "Neck", "head", channels=6, end=HEAD_TOP),
    ]
    for s in "LR":
        side = "left" if s == "L" else "right"
        bones += [
            Bone(f"Shoulder_{s}", "UpperChest", f"{side}_collar", channels=6),
            Bone(f"UpperArm_{s}", f"Shoulder_{s}", f"{side}_shoulder", channels=6),
            Bone(f"LowerArm_{s}", f"UpperArm_{s}", f"{side}_elbow", channels=6),
            Bone(f"Hand_{s}", f"LowerArm_{s}", f"{side}_wrist", channels=6, end=(0.08, 0.0, 0.0)),
        ]
    return bones


def biovision_bones() -> list[Bone]:
    """Biovision: Hips, LeftHip, LeftKnee, LeftAnkle, one Chest, LeftCollar, LeftShoulder = upper arm."""
    bones = [Bone("Hips", None, "pelvis", channels=6)]
    for s in ("Left", "Right"):
        side = s.lower()
        bones += [
            Bone(f"{s}Hip", "Hips", f"{side}_hip"),
            Bone(f"{s}Knee", f"{s}Hip", f"{side}_knee"),
            Bone(f"{s}Ankle", f"{s}Knee", f"{side}_ankle", end=(0.0, -0.06, 0.13)),
        ]
    bones += [
        Bone("Chest", "Hips", "spine3"),
        Bone("Neck", "Chest", "neck"),
        Bone("Head", "Neck", "head", end=HEAD_TOP),
    ]
    for s in ("Left", "Right"):
        side = s.lower()
        bones += [
            Bone(f"{s}Collar", "Chest", f"{side}_collar"),
            Bone(f"{s}Shoulder", f"{s}Collar", f"{side}_shoulder"),
            Bone(f"{s}Elbow", f"{s}Shoulder", f"{side}_elbow"),
            Bone(f"{s}Wrist", f"{s}Elbow", f"{side}_wrist", end=(0.085, 0.0, -0.01)),
        ]
    return bones


def unreal_bones() -> list[Bone]:
    """Unreal mannequin: a root on the ground, pelvis, thigh_l, calf_l, ..., spine_01..03, neck_01."""
    bones = [Bone("root", None, channels=6), Bone("pelvis", "root", "pelvis", channels=6)]
    for s in "lr":
        side = "left" if s == "l" else "right"
        bones += [
            Bone(f"thigh_{s}", "pelvis", f"{side}_hip"),
            Bone(f"calf_{s}", f"thigh_{s}", f"{side}_knee"),
            Bone(f"foot_{s}", f"calf_{s}", f"{side}_ankle"),
            Bone(f"ball_{s}", f"foot_{s}", f"{side}_foot", end=FOOT_END),
        ]
    bones += [
        Bone("spine_01", "pelvis", "spine1"),
        Bone("spine_02", "spine_01", "spine2"),
        Bone("spine_03", "spine_02", "spine3"),
        Bone("neck_01", "spine_03", "neck"),
        Bone("head", "neck_01", "head", end=HEAD_TOP),
    ]
    for s in "lr":
        side = "left" if s == "l" else "right"
        bones += [
            Bone(f"clavicle_{s}", "spine_03", f"{side}_collar"),
            Bone(f"upperarm_{s}", f"clavicle_{s}", f"{side}_shoulder"),
            Bone(f"lowerarm_{s}", f"upperarm_{s}", f"{side}_elbow"),
            Bone(f"hand_{s}", f"lowerarm_{s}", f"{side}_wrist"),
            Bone(f"middle_01_{s}", f"hand_{s}", f"{side}_hand", end=(0.0, 0.0, 0.0)),
        ]
    return bones


RIGS: dict[str, Rig] = {
    # Mixamo: centimetres, ZXY (Mixamo's own order is ZYX; ZXY exercises the order), a T-pose.
    "mixamo": Rig("mixamo", _reorder(humanik_bones("mixamorig:")), unit=100.0, order="ZXY"),
    # MotionBuilder/HumanIK: inches, a Reference above the hips (no channels), position channels on
    # Spine whose OFFSET is stale (0 0 0), XYZ order, an odd (non-T) rest pose.
    "humanik": Rig(
        "humanik",
        _reorder(humanik_bones(reference=True, stale_spine=True)),
        unit=100 / 2.54,
        order="XYZ",
        rest="odd",
    ),
    # CMU: millimetres, ZYX, zero-length LHipJoint links.
    "cmu": Rig("cmu", _reorder(cmu_bones()), unit=1000.0, order="ZYX"),
    # Biped: inches, YXZ, odd rest frames; Biped hangs the thighs on the spine and the clavicles on the
    # neck, so a 3-channel Biped file can only play motions that keep those two joints still.
    "biped": Rig(
        "biped", _reorder(biped_bones()), unit=100 / 2.54, order="YXZ", rest="odd", still=("spine1", "neck")
    ),
    # The game-studio set: metres, a moving and turning joint_Root (lying the skeleton below it down),
    # six channels on every joint with the rotations first, bones along local x (not a T-pose).
    "unity": Rig(
        "unity",
        _reorder(unity_bones()),
        unit=1.0,
        order="XYZ",
        rotations_first=True,
        rest="x",
        dummy="moving",
    ),
    # Biovision: centimetres, ZXY, one chest joint, end sites for feet, hands and head top.
    "biovision": Rig("biovision", _reorder(biovision_bones()), unit=100.0, order="ZXY"),
    # Unreal: centimetres, a moving root on the ground, bones along local x.
    "unreal": Rig("unreal", _reorder(unreal_bones()), unit=100.0, order="YZX", rest="x", dummy="moving"),
}


def _write(tmp_path: Path, rig: Rig, name: str = "rig.bvh", **motion_kw) -> tuple[Path, Written, Motion]:
    motion = rig_motion(rig, **motion_kw)
    written = write_rig(rig, motion)
    path = tmp_path / name
    path.write_text(written.text)
    return path, written, motion


# ---------------------------------------------------------------------------------------------------------
# acceptance: every rig, through USD
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", list(RIGS))
def test_rig_family_through_usd(tmp_path, family):
    rig = RIGS[family]
    path, written, _ = _write(tmp_path, rig)
    # The writer is right: an independent FK of the file's numbers plays the motion back...
    np.testing.assert_allclose(written.fk, written.world, atol=2e-3 * rig.unit / 100)
    # ... and so does the reader's FK, with all the rig's quirks (dummy root, orders, position channels).
    bvh = parse_bvh(path.read_text(), path)
    assert [j.name for j in bvh.joints] == written.names
    _, fk, _ = world_transforms(bvh)
    np.testing.assert_allclose(fk, written.fk, atol=1e-6 * max(rig.unit, 1.0))

    assert detect_format(path) == "bvh"
    motion = BvhReader().read(path, up_axis=rig.up)
    src = motion.source
    assert src["rig"] == family
    assert src["unit_detected"] and src["unit_scale"] == pytest.approx(1.0 / rig.unit)
    usd = write_motion(motion, tmp_path / f"{family}.usda")
    got = joint_world_positions_from_usd(usd)
    idx = [JOINT_INDEX[j] for j in CHECKED]
    want = np.stack([written.truth[j] for j in CHECKED], axis=1)
    aligned = kabsch_mpjpe(got[:, idx], want)
    raw = float(np.linalg.norm(got[:, idx] - want, axis=-1).mean())
    print(f"{family}: MPJPE {1000 * aligned:.2f} mm after Kabsch, {1000 * raw:.2f} mm raw")
    assert aligned < 0.03
    assert raw < 0.03  # the frame conversion is right too, not only the shape
    assert src["residual_mpjpe_m"] < 0.03


def test_names_choose_the_right_joints(tmp_path):
    """The joints each family's names pick, including the ones the families disagree on."""
    path, _, _ = _write(tmp_path, RIGS["biovision"])
    jm = BvhReader().read(path).source["joint_map"]
    assert jm["left_shoulder"] == "LeftShoulder" and jm["left_collar"] == "LeftCollar"
    assert jm["left_foot"] == "LeftAnkle End Site" and jm["head_top"] == "Head End Site"
    assert jm["spine3"] == "Chest" and "spine1" not in jm
    path, _, _ = _write(tmp_path, RIGS["mixamo"])
    jm = BvhReader().read(path).source["joint_map"]
    assert jm["left_collar"] == "mixamorig:LeftShoulder" and jm["left_shoulder"] == "mixamorig:LeftArm"
    assert jm["left_hand"] == "mixamorig:LeftHandMiddle1" and jm["head_top"] == "mixamorig:HeadTop_End"
    assert [jm[s] for s in ("spine1", "spine2", "spine3")] == [f"mixamorig:Spine{k}" for k in ("", "1", "2")]
    path, _, _ = _write(tmp_path, RIGS["cmu"])
    jm = BvhReader().read(path).source["joint_map"]
    assert jm["left_hip"] == "LeftUpLeg" and "LHipJoint" not in jm.values()
    path, _, _ = _write(tmp_path, RIGS["biped"])
    jm = BvhReader().read(path).source["joint_map"]
    assert jm["pelvis"] == "Bip01 Pelvis" and jm["spine1"] == "Bip01 Spine" and jm["neck"] == "Bip01 Neck"


# ---------------------------------------------------------------------------------------------------------
# options: joint map, units, frame rates, up axis
# ---------------------------------------------------------------------------------------------------------

ODD = {  # a rig whose names no family knows and whose structure the matcher cannot read (no sides)
    "Reference": None, "Hips": "pelvis",
    "a1": "left_hip", "a2": "left_knee", "a3": "left_ankle", "b1": "right_hip", "b2": "right_knee",
    "b3": "right_ankle", "c1": "spine1", "c2": "spine2", "c3": "spine3", "n": "neck", "h": "head",
    "d1": "left_collar", "d2": "left_shoulder", "d3": "left_elbow", "d4": "left_wrist",
    "e1": "right_collar", "e2": "right_shoulder", "e3": "right_elbow", "e4": "right_wrist",
}  # fmt: skip


def _odd_rig() -> Rig:
    parents = {"a1": "Hips", "b1": "Hips", "c1": "Hips", "n": "c3", "h": "n", "d1": "c3", "e1": "c3"}
    bones = [Bone("Reference", None, channels=0), Bone("Hips", "Reference", "pelvis", channels=6)]
    for name, role in list(ODD.items())[2:]:
        parent = parents.get(name) or f"{name[0]}{int(name[1:]) - 1}"
        bones.append(Bone(name, parent, role))
    return Rig("user", _reorder(bones), unit=100.0)


def test_joint_map_file_maps_any_rig(tmp_path):
    rig = _odd_rig()
    path, written, _ = _write(tmp_path, rig)
    with pytest.raises(
        UsdSynthError, match="cannot find the pelvis and the left hip and the right hip"
    ) as info:
        BvhReader().read(path)
    assert str(path) in str(info.value)
    (tmp_path / "map.json").write_text(json.dumps({k: v for k, v in ODD.items() if v}))
    motion = BvhReader().read(path, joint_map=tmp_path / "map.json")
    assert motion.source["joint_map"]["left_wrist"] == "d4"
    usd = write_motion(motion, tmp_path / "odd.usda")
    got = joint_world_positions_from_usd(usd)[:, [JOINT_INDEX[j] for j in CHECKED]]
    assert kabsch_mpjpe(got, np.stack([written.truth[j] for j in CHECKED], axis=1)) < 0.03


def test_joint_map_wins_over_names(tmp_path):
    path, _, _ = _write(tmp_path, RIGS["mixamo"])
    user = {"mixamorig:Spine1": "spine3", "mixamorig:LeftHandMiddle1": None}
    jm = BvhReader().read(path, joint_map=user).source["joint_map"]
    assert jm["spine3"] == "mixamorig:Spine1"
    assert "spine1" not in jm and "spine2" not in jm  # the user placed the spine
    assert jm.get("left_hand") != "mixamorig:LeftHandMiddle1"


def test_given_unit_wins_and_bad_unit(tmp_path):
    path, _, _ = _write(tmp_path, RIGS["biovision"])
    with pytest.raises(UsdSynthError, match="min_stature_m"):  # a 17 cm person: refused unless widened
        BvhReader().read(path, unit="mm")
    with limits.using(min_stature_m=0.1):
        m = BvhReader().read(path, unit="mm")
    assert m.source["unit_scale"] == 0.001 and not m.source["unit_detected"]
    assert BvhReader().read(path, unit="centimeters").source["unit"] == "cm"
    with pytest.raises(UsdSynthError, match="unknown unit 'ft'") as info:
        BvhReader().read(path, unit="ft")
    assert str(path) in str(info.value)


def test_fps_retimes_and_target_fps_resamples(tmp_path):
    rig = RIGS["mixamo"]
    fine = rig_motion(rig, frames=41, fps=60.0)
    coarse = Motion(
        fps=30.0, rotations=fine.rotations[::2], translation=fine.translation[::2], offsets=fine.offsets
    )
    path = tmp_path / "m30.bvh"
    path.write_text(write_rig(rig, coarse).text)
    reader = BvhReader()
    retimed = reader.read(path, fps=24)
    assert retimed.fps == 24 and retimed.num_frames == 21 and retimed.source["file_fps"] == 30
    up = reader.read(path, target_fps=60)
    assert up.fps == 60 and up.num_frames == 41 and up.source["resampled_from_fps"] == 30
    idx = [JOINT_INDEX[j] for j in CHECKED]
    err = np.linalg.norm(up.joint_positions()[:, idx] - fine.joint_positions()[:, idx], axis=-1)
    assert err[::2].max() < 1e-3  # frames the file has come back as they are
    assert err.mean() < 0.01  # the ones between are interpolated in rotation space
    down = reader.read(path, target_fps=10)
    assert down.num_frames == 7 and down.fps == 10
    np.testing.assert_allclose(down.joint_positions()[:, idx], fine.joint_positions()[::6, idx], atol=1e-3)
    with pytest.raises(UsdSynthError, match="target frame rate"):
        reader.read(path, target_fps=-5)


def test_z_up_file(tmp_path):
    rig = Rig("unreal", RIGS["unreal"].bones, unit=100.0, order="XYZ", rest="x", up="z", dummy="moving")
    path, written, _ = _write(tmp_path, rig)
    m = BvhReader().read(path, up_axis="z")
    assert m.source["frame_conversion"] == "z_up"
    idx = [JOINT_INDEX[j] for j in CHECKED]
    want = np.stack([written.truth[j] for j in CHECKED], axis=1)
    assert np.linalg.norm(m.joint_positions()[:, idx] - want, axis=-1).mean() < 0.01
    with pytest.raises(UsdSynthError, match="up axis"):
        BvhReader().read(path, up_axis="x")


def test_structure_maps_unknown_names_below_a_dummy_root(tmp_path):
    """Names no family knows, but with sides: the structural matcher, below a dummy root."""
    rename = {
        "Hips": "Body", "LeftHip": "Left_A", "LeftKnee": "Left_B", "LeftAnkle": "Left_C",
        "RightHip": "Right_A", "RightKnee": "Right_B", "RightAnkle": "Right_C", "Chest": "Torso",
        "Neck": "Top", "Head": "Top2", "LeftCollar": "Left_P", "LeftShoulder": "Left_Q",
        "LeftElbow": "Left_R", "LeftWrist": "Left_S", "RightCollar": "Right_P", "RightShoulder": "Right_Q",
        "RightElbow": "Right_R", "RightWrist": "Right_S",
    }  # fmt: skip
    bones = [Bone("Origin", None, channels=0)]
    for b in RIGS["biovision"].bones:
        bones.append(
            Bone(rename[b.name], rename.get(b.parent, "Origin"), b.on, b.d, b.channels, b.end, b.stale_offset)
        )
    rig = Rig("structure", bones, unit=100.0)
    path, written, _ = _write(tmp_path, rig)
    m = BvhReader().read(path)
    assert m.source["rig"] == "structure" and m.source["joint_map"]["left_elbow"] == "Left_R"
    idx = [JOINT_INDEX[j] for j in CHECKED]
    want = np.stack([written.truth[j] for j in CHECKED], axis=1)
    assert kabsch_mpjpe(m.joint_positions()[:, idx], want) < 0.03


# ---------------------------------------------------------------------------------------------------------
# names and maps
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("mixamorig:LeftUpLeg", ("left", "upleg")),
        ("Bip01 L Thigh", ("left", "thigh")),
        ("Bip01 R Toe0", ("right", "toe0")),
        ("Bip01", (None, "")),
        ("UpperLeg_L", ("left", "upperleg")),
        ("LowerArm_R", ("right", "lowerarm")),
        ("thigh_r", ("right", "thigh")),
        ("lShldr", ("left", "shldr")),
        ("RHipJoint", ("right", "hipjoint")),
        ("joint_Root", (None, "root")),
        ("Character1_LeftForeArm", ("left", "forearm")),
        ("LEFTUPLEG", ("left", "upleg")),
        ("left-up-leg", ("left", "upleg")),
        ("LowerBack", (None, "lowerback")),
        ("Spine1", (None, "spine1")),
    ],
)
def test_normalise(name, expected):
    assert normalise(name) == expected


def test_match_names_picks_the_family():
    fam, roles = match_names(["Hips", "LeftHip", "LeftKnee", "LeftCollar", "LeftShoulder", "LeftElbow"])
    assert fam == "biovision" and roles[4] == "left_shoulder"
    fam, roles = match_names(["Hips", "LeftUpLeg", "LeftLeg", "LeftShoulder", "LeftArm", "LeftForeArm"])
    assert fam == "humanik" and roles[3] == "left_collar"
    assert match_names(["a", "b"]) == (None, {})
    fam, _ = match_names(["Hips", "LeftUpLeg", "LeftLeg"], rig="biovision")
    assert fam == "biovision"


@pytest.mark.parametrize(
    "content, message",
    [
        ('["Hips", "pelvis"]', "must be a JSON object"),
        ("{'Hips': 'pelvis'}", "not valid JSON"),
        ('{"Hips": "pelvis", "LeftHip": "left_hipp"}', "unknown SMPL joints: 'left_hipp'"),
        ('{"Hips": 3}', "must be strings"),
        ('{"A": "pelvis", "B": "pelvis"}', "same SMPL joint: pelvis"),
    ],
)
def test_bad_joint_map(tmp_path, content, message):
    (tmp_path / "bad_map.json").write_text(content)
    with pytest.raises(UsdSynthError, match=message) as info:
        load_joint_map(tmp_path / "bad_map.json")
    assert "bad_map.json" in str(info.value) and "\n" not in str(info.value)


def test_joint_map_naming_a_missing_joint(tmp_path):
    path, _, _ = _write(tmp_path, RIGS["biovision"], name="walk.bvh")
    with pytest.raises(UsdSynthError, match="'Pelvis', which is not a joint") as info:
        BvhReader().read(path, joint_map={"Pelvis": "pelvis"})
    assert "walk.bvh" in str(info.value)
    with pytest.raises(UsdSynthError, match="joint map file not found"):
        BvhReader().read(path, joint_map=tmp_path / "nope.json")
    with pytest.raises(UsdSynthError, match="unknown BVH rig"):
        BvhReader().read(path, rig="blender")


def test_roles_list_parents_first():
    """The roles the reader fills are SMPL's joints, parents before children (the mapper relies on it)."""
    from usd_synth.motion.readers.bvh_rigs import ROLES

    assert ROLES[:24] == SMPL_JOINTS and all(SMPL_PARENTS[k] < k for k in range(1, 24))
