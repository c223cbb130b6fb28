"""BVH motion capture (Biovision hierarchy) from any common rig, retargeted onto SMPL-24.

Reading. The hierarchy gives each joint an OFFSET and its CHANNELS, in any order and any number (3, 6 or
another count of ``X/Y/Zposition`` and ``X/Y/Zrotation``). A joint's local transform in a frame is its
rotation channels composed in the declared order (``Zrotation Xrotation Yrotation`` means
``R = Rz @ Rx @ Ry``, intrinsic), and its OFFSET, except that a position channel *replaces* the offset's
component on its axis for that frame (on the root as on any other joint). World transforms are chained
down the tree with :func:`usd_synth.kinematics.local_to_world`, so whatever sits above the hips (a
``joint_Root`` or ``Reference`` with or without channels, a turn from a Z-up export) still moves them;
and since only the joints' world *positions* are retargeted, the rest pose may be anything (a T-pose, an
A-pose, or bones laid along local x as some game rigs export).

Mapping to SMPL (see :mod:`usd_synth.motion.readers.bvh_rigs`): a user joint map wins over everything;
then the names of the rig family that recognises most joints (CMU, Mixamo, MotionBuilder/HumanIK, 3ds Max
Biped, Unity humanoid, Unreal, Biovision), matched after normalising case, separators, prefixes and side
markers; then the hierarchy's structure for what the names leave open (legs and arms followed down their
chains, the pelvis as the hips' common ancestor, and the structural matcher as a whole when the names
leave the pelvis, a hip or the neck unknown). Joints between the pelvis and the neck are spread over
``spine1..spine3``; spine joints and collars the file lacks are placed between their neighbours (observed,
not measured). A name-matched joint that is not below the joint its SMPL parent maps to is dropped, so
one odd name cannot fold a limb.

Frames and units. BVH is Y up by convention: positions are turned into the Z-up world by
``(x, y, z) -> (x, -z, y)``; ``up_axis="z"`` reads a Z-up file as it is. Units are not in the file: the
scale (m, cm, inch or mm) that makes the skeleton closest to an adult's size (hip to ankle plus pelvis to
neck, about 1.3 m) is used unless ``unit`` is given; both are recorded in the metadata. The frame rate is
``1 / Frame Time`` unless ``fps`` says otherwise (the frames are then played at that rate, as for the
other readers); ``target_fps`` resamples the motion to another rate (slerp of each joint's local
rotation, linear translations, then forward kinematics, so bones keep their lengths).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.kernels.blend import slerp_np
from usd_synth.kinematics import local_to_world
from usd_synth.motion.model import Motion
from usd_synth.motion.readers import bvh_rigs
from usd_synth.motion.readers.arrays import Y_UP_TO_Z_UP, retarget_checked
from usd_synth.rotations import make_continuous, matrix_to_quat, quat_to_matrix
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS

log = logging.getLogger(__name__)

#: Unit names accepted by ``unit=`` and the scale to metres each stands for.
UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}
_UNIT_ALIASES = {
    "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
    "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
    "inch": "in", "inches": "in",
}  # fmt: skip
#: Up axes ``up_axis=`` accepts and the matrix that turns each into the Z-up world.
UP_AXES: dict[str, np.ndarray] = {"y": Y_UP_TO_Z_UP, "z": np.eye(3)}

_CHANNELS = {f"{a}{k}": (a, k) for a in "XYZ" for k in ("position", "rotation")}
_KEYWORDS = {"ROOT", "JOINT", "End", "OFFSET", "CHANNELS", "{", "}", "MOTION", "HIERARCHY"}
_AXES = {"X": 0, "Y": 1, "Z": 2}
#: Template heights (m) of the pelvis, spine joints and neck, for placing spine joints a file lacks.
_SPINE_HEIGHTS = {"pelvis": 0.93, "spine1": 1.04, "spine2": 1.17, "spine3": 1.225, "neck": 1.44}
_ADULT_SIZE = 1.3  #: hip to ankle plus pelvis to neck of an adult, metres
_LIMBS = (
    ("hip", "knee", "ankle", "foot"),
    ("collar", "shoulder", "elbow", "wrist", "hand"),
)
_END_ROLES = {"left_foot", "right_foot", "left_hand", "right_hand", bvh_rigs.HEAD_TOP}


# ---------------------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------------------


@dataclass
class BvhJoint:
    """One joint of a BVH hierarchy."""

    name: str
    parent: int  #: index of the parent joint, -1 for the root
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))
    channels: list[str] = field(default_factory=list)  #: e.g. ["Xposition", ..., "Zrotation"]
    children: list[int] = field(default_factory=list)
    end_site: np.ndarray | None = None  #: offset of an End Site child, if any
    line: int = 0  #: line of the file where the joint starts


@dataclass
class Bvh:
    """A parsed BVH file: joints in file (depth-first) order, channel values and frame time."""

    joints: list[BvhJoint]
    values: np.ndarray  #: (F, C) channel values in the order the hierarchy declares them
    frame_time: float

    @property
    def parents(self) -> np.ndarray:
        return np.array([j.parent for j in self.joints], dtype=np.int64)

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]


def _tokens(text: str) -> list[tuple[str, int]]:
    return [(tok, n) for n, line in enumerate(text.splitlines(), 1) for tok in line.split()]


def _parse_hierarchy(tokens: list[tuple[str, int]], path: Path) -> list[BvhJoint]:
    """Joints of the HIERARCHY section; every branch consumes at least one token."""

    def fail(message: str, line: int) -> UsdSynthError:
        return UsdSynthError(f"line {line}: {message}", path)

    if not tokens or tokens[0][0].upper() != "HIERARCHY":
        raise UsdSynthError("not a BVH file (it does not start with HIERARCHY)", path)
    joints: list[BvhJoint] = []
    stack: list[int] = []  # open blocks: joint index, or -1 for an End Site
    end_owner: list[int] = []  # the joint each open End Site belongs to
    n, i = len(tokens), 1
    roots = 0

    def open_brace(after: str, line: int) -> None:
        nonlocal i
        if i >= n or tokens[i][0] != "{":
            raise fail(f"expected '{{' after {after}", line if i >= n else tokens[i][1])
        i += 1

    while i < n:
        tok, line = tokens[i]
        if tok in ("ROOT", "JOINT"):
            if tok == "ROOT" and stack:
                raise fail("ROOT inside another joint", line)
            if tok == "JOINT" and (not stack or stack[-1] < 0):
                raise fail("JOINT outside a joint", line)
            if tok == "ROOT":
                roots += 1
                if roots > 1:
                    raise fail("more than one ROOT (only one skeleton per file is supported)", line)
            j = i + 1
            while j < n and tokens[j][1] == line and tokens[j][0] != "{":
                j += 1
            name = " ".join(t for t, _ in tokens[i + 1 : j])
            if not name:
                raise fail(f"{tok} without a name", line)
            parent = stack[-1] if stack else -1
            if len(joints) >= limits.current().max_joints:
                raise fail(
                    f"more than {limits.current().max_joints} joints (max_joints); not a body's hierarchy?",
                    line,
                )
            joints.append(BvhJoint(name, parent, line=line))
            if parent >= 0:
                joints[parent].children.append(len(joints) - 1)
            i = j
            open_brace(f"{tok} {name}", line)
            stack.append(len(joints) - 1)
        elif tok == "End":
            if not stack or stack[-1] < 0:
                raise fail("End Site outside a joint", line)
            i += 1
            if i < n and tokens[i][0] == "Site":
                i += 1
            open_brace("End Site", line)
            end_owner.append(stack[-1])
            stack.append(-1)
        elif tok == "}":
            if not stack:
                raise fail("unbalanced '}'", line)
            if stack.pop() < 0:
                end_owner.pop()
            i += 1
        elif tok == "OFFSET":
            if not stack:
                raise fail("OFFSET outside a joint", line)
            owner = joints[end_owner[-1]].name + " End Site" if stack[-1] < 0 else joints[stack[-1]].name
            try:
                off = np.array([float(t) for t, _ in tokens[i + 1 : i + 4]])
            except ValueError:
                off = np.zeros(0)
            if off.shape != (3,) or not np.all(np.isfinite(off)):
                raise fail(f"OFFSET of {owner} needs three finite numbers", line)
            if stack[-1] < 0:
                joints[end_owner[-1]].end_site = off
            else:
                joints[stack[-1]].offset = off
            i += 4
        elif tok == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise fail("CHANNELS outside a joint", line)
            joint = joints[stack[-1]]
            if joint.channels:
                raise fail(f"joint {joint.name} has CHANNELS twice", line)
            count_tok = tokens[i + 1][0] if i + 1 < n else ""
            try:
                count = int(count_tok)
            except ValueError:
                raise fail(f"CHANNELS of joint {joint.name} needs a count, got {count_tok!r}", line) from None
            if count < 0:
                raise fail(f"CHANNELS of joint {joint.name} has a negative count ({count})", line)
            names: list[str] = []
            for t, _ in tokens[i + 2 : i + 2 + count]:
                canon = t[:1].upper() + t[1:].lower()
                if canon in _CHANNELS:
                    names.append(canon)
                elif t in _KEYWORDS:
                    break
                else:
                    raise fail(
                        f"unknown channel {t!r} for joint {joint.name}; channels are "
                        "Xposition Yposition Zposition Xrotation Yrotation Zrotation",
                        line,
                    )
            if len(names) < count:
                raise fail(f"CHANNELS of joint {joint.name} says {count} but lists {len(names)} names", line)
            nxt = tokens[i + 2 + count][0] if i + 2 + count < n else ""
            if nxt[:1].upper() + nxt[1:].lower() in _CHANNELS:
                raise fail(f"CHANNELS of joint {joint.name} says {count} but lists more channel names", line)
            joint.channels = names
            i += 2 + count
        else:
            raise fail(f"unexpected token {tok!r} in the BVH hierarchy", line)
    if stack:
        raise UsdSynthError(f"BVH hierarchy is truncated ({len(stack)} blocks still open)", path)
    if not joints:
        raise UsdSynthError("BVH hierarchy has no joints", path)
    return joints


def _parse_motion(text: str, first_line: int, n_channels: int, path: Path) -> tuple[np.ndarray, float]:
    """(F, C) channel values and the frame time of the MOTION section (``text`` starts after MOTION)."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), first_line) if line.strip()]
    header: dict[str, tuple[str, int]] = {}
    for key, label in (("frames", "Frames:"), ("time", "Frame Time:")):
        if not lines:
            raise UsdSynthError(f"BVH MOTION section is truncated (no '{label}' line)", path)
        n, line = lines.pop(0)
        m = re.fullmatch(
            r"Frames\s*:\s*(\S+)" if key == "frames" else r"Frame\s+Time\s*:\s*(\S+)", line, re.I
        )
        if m is None:
            raise UsdSynthError(
                f"line {n}: BVH MOTION section needs a '{label}' line, got {line[:40]!r}", path
            )
        header[key] = (m.group(1), n)
    try:
        n_frames = int(header["frames"][0])
    except ValueError:
        raise UsdSynthError(
            f"line {header['frames'][1]}: BVH 'Frames:' is not a whole number", path
        ) from None
    try:
        frame_time = float(header["time"][0])
    except ValueError:
        raise UsdSynthError(f"line {header['time'][1]}: BVH 'Frame Time:' is not a number", path) from None
    if n_frames <= 0:
        raise UsdSynthError(f"BVH file has no frames ('Frames: {n_frames}')", path)
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise UsdSynthError(f"BVH Frame Time must be positive, got {header['time'][0]}", path)
    limits.check_frames(n_frames, path, "BVH file")
    limits.check_text_values(n_frames * n_channels, path, f"'Frames: {n_frames}' x {n_channels} channels")
    # Each value takes at least two characters (a digit and a separator): refuse a frame count the file
    # cannot hold before splitting anything.
    if n_channels and n_frames * n_channels * 2 > len(text) + 1:
        raise UsdSynthError(
            f"BVH motion data is truncated: 'Frames: {n_frames}' x {n_channels} channels cannot fit in the "
            f"{len(text)} characters after the header",
            path,
        )
    rows = [line.split() for _, line in lines]
    total = sum(len(r) for r in rows)
    if total != n_frames * n_channels:
        # One line per frame is the format; say which way this file departs from it.
        if len(rows) > n_frames:
            raise UsdSynthError(
                f"BVH says 'Frames: {n_frames}' but has {len(rows)} lines of frame data (mismatched frame "
                "count)",
                path,
            )
        for f, row in enumerate(rows):
            if len(row) != n_channels and (f < len(rows) - 1 or len(row) > n_channels):
                raise UsdSynthError(
                    f"line {lines[f][0]}: BVH frame {f} has {len(row)} values, expected {n_channels} (one "
                    "per channel)",
                    path,
                )
        raise UsdSynthError(
            f"BVH motion data is truncated: {total} values for 'Frames: {n_frames}' x {n_channels} channels "
            f"({len(rows)} frame lines)",
            path,
        )
    flat = [t for r in rows for t in r]
    try:
        values = np.array(flat, dtype=np.float64).reshape(n_frames, n_channels)
    except ValueError:
        k = next(k for k, t in enumerate(flat) if not _is_number(t))
        raise UsdSynthError(
            f"BVH frame {k // max(n_channels, 1)} has a non-numeric value {flat[k]!r}", path
        ) from None
    if not np.all(np.isfinite(values)):
        frame = int(np.argwhere(~np.isfinite(values))[0][0])
        raise UsdSynthError(f"BVH motion contains NaN or infinite values (first at frame {frame})", path)
    return values, frame_time


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_bvh(text: str, path: Path) -> Bvh:
    """Parse a BVH file's text; a one-line UsdSynthError naming ``path`` for anything malformed."""
    text = text.lstrip("\ufeff")
    m = re.search(r"^[ \t]*MOTION\b", text, re.M)
    head = text if m is None else text[: m.start()]
    joints = _parse_hierarchy(_tokens(head), path)
    if m is None:
        raise UsdSynthError("BVH file is truncated: no MOTION section after the hierarchy", path)
    n_channels = sum(len(j.channels) for j in joints)
    first_line = text.count("\n", 0, m.start()) + 1
    rest = text[m.end() :]
    values, frame_time = _parse_motion(rest, first_line, n_channels, path)
    return Bvh(joints, values, frame_time)


# ---------------------------------------------------------------------------------------------------------
# kinematics
# ---------------------------------------------------------------------------------------------------------


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1.0
    m[..., i, i] = c
    m[..., j, j] = c
    m[..., i, j] = -s
    m[..., j, i] = s
    return m


def local_transforms(bvh: Bvh) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (F, J, 3, 3) and translations (F, J, 3) of every joint in every frame.

    Rotation channels compose in the declared order; a position channel replaces the offset on its axis.
    """
    f, n_joints = bvh.values.shape[0], len(bvh.joints)
    rot = np.tile(np.eye(3), (f, n_joints, 1, 1))
    trans = np.tile(np.stack([j.offset for j in bvh.joints]), (f, 1, 1))
    col = 0
    for k, joint in enumerate(bvh.joints):
        for name in joint.channels:
            axis, kind = _AXES[name[0]], name[1:]
            v = bvh.values[:, col]
            col += 1
            if kind == "position":
                trans[:, k, axis] = v
            else:
                rot[:, k] = rot[:, k] @ _axis_rotation(axis, np.radians(v))
    return rot, trans


def world_transforms(
    bvh: Bvh, local: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The file's own forward kinematics, in its frame and units.

    Returns world rotations (F, J, 3, 3), joint positions (F, J, 3) and End Site positions (F, J, 3) (NaN
    for joints without one). ``local`` may give (resampled) local transforms instead of the file's.
    """
    rot, trans = local_transforms(bvh) if local is None else local
    world_r, world_p = local_to_world(rot, trans, bvh.parents)
    ends = np.full(world_p.shape, np.nan)
    for k, joint in enumerate(bvh.joints):
        if joint.end_site is not None:
            ends[:, k] = world_p[:, k] + world_r[:, k] @ joint.end_site
    return world_r, world_p, ends


def resample_local(
    rot: np.ndarray, trans: np.ndarray, fps: float, target_fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Local transforms resampled from ``fps`` to ``target_fps`` over the same duration.

    Output frame ``k`` is at time ``k / target_fps``; the last lies at or before the input's last frame.
    Rotations are slerped (shortest arc), translations interpolated linearly.
    """
    f = rot.shape[0]
    n_out = int(math.floor((f - 1) * target_fps / fps + 1e-9)) + 1
    src = np.arange(n_out) * (fps / target_fps)
    i0 = np.minimum(np.floor(src).astype(np.int64), f - 1)
    i1 = np.minimum(i0 + 1, f - 1)
    w = (src - i0)[:, None]
    q = make_continuous(matrix_to_quat(rot), axis=0)
    q_out = slerp_np(q[i0], q[i1], np.broadcast_to(w, q[i0].shape[:-1]))
    q_out /= np.linalg.norm(q_out, axis=-1, keepdims=True)
    t_out = trans[i0] + w[..., None] * (trans[i1] - trans[i0])
    return quat_to_matrix(q_out), t_out


# ---------------------------------------------------------------------------------------------------------
# mapping onto SMPL-24
# ---------------------------------------------------------------------------------------------------------


@dataclass
class JointMapping:
    """Which BVH joint (or End Site) plays each SMPL role, and how that was decided."""

    roles: dict[str, tuple[str, int]] = field(default_factory=dict)  #: role -> ("joint" | "end", index)
    how: dict[str, str] = field(default_factory=dict)  #: role -> "user" | "name" | "structure"
    rig: str = "structure"  #: the rig family whose names were used, or "structure"

    def set(self, role: str, kind: str, index: int, how: str) -> None:
        self.roles[role] = (kind, index)
        self.how[role] = how

    def drop(self, role: str) -> None:
        self.roles.pop(role, None)
        self.how.pop(role, None)

    def used(self) -> set[int]:
        return {k for kind, k in self.roles.values() if kind == "joint"}

    def describe(self, joints: list[BvhJoint]) -> dict[str, str]:
        """role -> BVH joint name (``"<name> End Site"`` for an end site), JSON-friendly."""
        out = {}
        for role in bvh_rigs.ROLES:
            if role in self.roles:
                kind, k = self.roles[role]
                out[role] = joints[k].name + (" End Site" if kind == "end" else "")
        return out


def _ancestors(joints: list[BvhJoint], k: int) -> list[int]:
    out = []
    while joints[k].parent >= 0:
        k = joints[k].parent
        out.append(k)
    return out


def _smpl_parent(role: str) -> str | None:
    if role == bvh_rigs.HEAD_TOP:
        return "head"
    p = SMPL_PARENTS[JOINT_INDEX[role]]
    return None if p < 0 else SMPL_JOINTS[p]


def _consistent(joints: list[BvhJoint], mapping: JointMapping, role: str) -> bool:
    """Whether ``role``'s BVH joint lies below the joint of its nearest mapped SMPL ancestor."""
    kind, k = mapping.roles[role]
    q = _smpl_parent(role)
    while q is not None and q not in mapping.roles:
        q = _smpl_parent(q)
    if q is None:
        return True
    _, kq = mapping.roles[q]
    below = _ancestors(joints, k)
    return kq in below or (kind == "end" and kq == k)


def _structural(joints: list[BvhJoint]) -> dict[str, tuple[str, int]]:
    """The hierarchy's shape alone (names only for their side): the old matcher, below any dummy root.

    The pelvis is the first joint with a left child, a right child and an unsided one (the spine); legs
    and arms run down their single-child chains (zero-length links such as CMU's ``LHipJoint`` skipped);
    the spine runs to the first joint with sided children (the chest), whose unsided child is the neck.
    """

    def chain(start: int) -> list[int]:
        out = [start]
        while len(joints[out[-1]].children) == 1:
            out.append(joints[out[-1]].children[0])
        while len(out) > 1 and np.linalg.norm(joints[out[0]].offset) < 1e-9:
            out.pop(0)  # a link at its parent's place (CMU's LHipJoint) is no joint of the body
        return out

    def sides(k: int) -> tuple[list[int], list[int], list[int]]:
        kids = joints[k].children
        left = [c for c in kids if bvh_rigs.side_of(joints[c].name) == "left"]
        right = [c for c in kids if bvh_rigs.side_of(joints[c].name) == "right"]
        mid = [c for c in kids if c not in left and c not in right]
        return left, right, mid

    roles: dict[str, tuple[str, int]] = {}
    pelvis = next((k for k in range(len(joints)) if all(sides(k))), None)
    if pelvis is None:
        return roles
    roles["pelvis"] = ("joint", pelvis)
    left, right, mid = sides(pelvis)
    for side, starts in (("left", left), ("right", right)):
        leg = chain(starts[0])
        for name, k in zip(("hip", "knee", "ankle", "foot"), leg, strict=False):
            roles[f"{side}_{name}"] = ("joint", k)
        if len(leg) == 3 and joints[leg[-1]].end_site is not None:
            roles[f"{side}_foot"] = ("end", leg[-1])
    spine = [mid[0]]
    while len(joints[spine[-1]].children) == 1:
        spine.append(joints[spine[-1]].children[0])
    chest = spine[-1]
    left, right, mid = sides(chest)
    if not (left and right and mid):
        return roles
    for k, role in zip(spine[:-1], ("spine1", "spine2"), strict=False):
        roles[role] = ("joint", k)
    roles["spine3"] = ("joint", chest)
    neck = chain(mid[0])
    roles["neck"] = ("joint", neck[0])
    if len(neck) > 1:
        roles["head"] = ("joint", neck[1])
    for side, starts in (("left", left), ("right", right)):
        arm = chain(starts[0])
        names = (
            ["collar", "shoulder", "elbow", "wrist", "hand"]
            if len(arm) >= 4
            else ["shoulder", "elbow", "wrist"]
        )
        for name, k in zip(names, arm, strict=False):
            roles[f"{side}_{name}"] = ("joint", k)
        if len(arm) == 3 and joints[arm[-1]].end_site is not None:
            roles[f"{side}_hand"] = ("end", arm[-1])
    return roles


def _lowest_common_ancestor(joints: list[BvhJoint], a: int, b: int) -> int | None:
    up_a = [a, *_ancestors(joints, a)]
    return next((k for k in [b, *_ancestors(joints, b)] if k in up_a), None)


def map_joints(
    joints: list[BvhJoint],
    path: Path,
    joint_map: Mapping[str, str | None] | None = None,
    rig: str | None = None,
) -> JointMapping:
    """Decide which BVH joint plays each SMPL role (see the module's docstring for the order)."""
    mapping = JointMapping()
    excluded: set[int] = set()
    by_name: dict[str, int] = {}
    for k, joint in enumerate(joints):
        by_name.setdefault(joint.name, k)
    for name, role in (joint_map or {}).items():
        if name not in by_name:
            some = ", ".join(j.name for j in joints[:12]) + (", ..." if len(joints) > 12 else "")
            raise UsdSynthError(
                f"joint map names {name!r}, which is not a joint of this BVH (joints: {some})", path
            )
        if role is None:
            excluded.add(by_name[name])
        else:
            mapping.set(role, "joint", by_name[name], "user")

    # Names: the best rig family, over the joints the user left open.
    free = [k for k in range(len(joints)) if k not in excluded and k not in mapping.used()]
    family, named = bvh_rigs.match_names([joints[k].name for k in free], rig)
    for local_k, role in named.items():
        if role not in mapping.roles:
            mapping.set(role, "joint", free[local_k], "name")
    if family is not None:
        mapping.rig = family
    for role in [r for r in bvh_rigs.ROLES if r in mapping.roles]:  # SMPL order: parents first
        if mapping.how[role] == "name" and not _consistent(joints, mapping, role):
            log.warning(
                "%s: BVH joint %r is not where %s belongs; ignored",
                path,
                joints[mapping.roles[role][1]].name,
                role,
            )
            mapping.drop(role)
    if "pelvis" not in mapping.roles and "left_hip" in mapping.roles and "right_hip" in mapping.roles:
        lca = _lowest_common_ancestor(joints, mapping.roles["left_hip"][1], mapping.roles["right_hip"][1])
        if lca is not None and lca not in excluded and lca not in mapping.used():
            mapping.set("pelvis", "joint", lca, "structure")

    # Structure: the whole structural matcher fills the roles names left open, where it agrees.
    needed = ("pelvis", "left_hip", "right_hip", "neck")
    if any(r not in mapping.roles for r in needed):
        for role, (kind, k) in _structural(joints).items():
            if role in mapping.roles or k in excluded or (kind == "joint" and k in mapping.used()):
                continue
            mapping.set(role, kind, k, "structure")
            if not _consistent(joints, mapping, role):
                mapping.drop(role)

    # Chains: follow legs, arms and the head down from the last joint found.
    def follow(prev: str, role: str) -> None:
        if role in mapping.roles or prev not in mapping.roles or mapping.roles[prev][0] != "joint":
            return
        k = mapping.roles[prev][1]
        kids = [c for c in joints[k].children if c not in excluded and c not in mapping.used()]
        if len(joints[k].children) == 1 and kids:
            mapping.set(role, "joint", kids[0], "structure")
        elif not joints[k].children and joints[k].end_site is not None and role in _END_ROLES:
            mapping.set(role, "end", k, "structure")

    for side in ("left", "right"):
        for limb in _LIMBS:
            for prev, role in zip(limb[:-1], limb[1:], strict=True):
                follow(f"{side}_{prev}", f"{side}_{role}")
    follow("neck", "head")
    follow("head", bvh_rigs.HEAD_TOP)

    # Spine: the joints strictly between the pelvis and the neck, spread over spine1..spine3.
    if (
        "pelvis" in mapping.roles
        and "neck" in mapping.roles
        and not any(r in mapping.roles for r in bvh_rigs.SPINE_ROLES)
    ):
        pelvis, neck = mapping.roles["pelvis"][1], mapping.roles["neck"][1]
        up = _ancestors(joints, neck)
        if pelvis in up:
            spine = [k for k in reversed(up[: up.index(pelvis)]) if k not in excluded]
            picks: dict[str, int] = {}
            if len(spine) == 1:
                picks = {"spine3": spine[0]}
            elif len(spine) == 2:
                picks = {"spine1": spine[0], "spine3": spine[1]}
            elif len(spine) >= 3:
                picks = {"spine1": spine[0], "spine2": spine[len(spine) // 2], "spine3": spine[-1]}
            for role, k in picks.items():
                mapping.set(role, "joint", k, "structure")

    for role in [r for r in bvh_rigs.ROLES if r in mapping.roles]:
        if mapping.how[role] == "user" and not _consistent(joints, mapping, role):
            log.warning(
                "%s: the joint map puts %s on %r, which is not below its SMPL parent's joint",
                path,
                role,
                joints[mapping.roles[role][1]].name,
            )
    missing = [r.replace("_", " ") for r in ("pelvis", "left_hip", "right_hip") if r not in mapping.roles]
    if missing:
        found = "no rig's names" if mapping.rig == "structure" else f"{mapping.rig} names"
        raise UsdSynthError(
            f"cannot find the {' and the '.join(missing)} in the BVH hierarchy ({found}, structure unclear); "
            "name them in a joint map (joint_map=, a JSON object {bvh_joint_name: smpl_joint_name})",
            path,
        )
    if not any(r in mapping.roles for r in (*bvh_rigs.SPINE_ROLES, "neck")):
        raise UsdSynthError(
            "cannot find the spine or the neck in the BVH hierarchy; name them in a joint map (joint_map=)",
            path,
        )
    return mapping


# ---------------------------------------------------------------------------------------------------------
# the reader
# ---------------------------------------------------------------------------------------------------------


def unit_scale(unit: str, path: Path) -> float:
    """Metres per file unit for a unit name (m, cm, mm, in and their long forms)."""
    key = str(unit).strip().lower()
    key = _UNIT_ALIASES.get(key, key)
    if key not in UNITS:
        raise UsdSynthError(f"unknown unit {unit!r} for a BVH file; use one of {', '.join(UNITS)}", path)
    return UNITS[key]


def _smpl_positions(
    world_p: np.ndarray, ends: np.ndarray, mapping: JointMapping
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """SMPL joint positions (T, 24, 3) in the file's frame and units, observed and measured joints, and
    the head-top track (or None). Spine joints and collars the file lacks are placed between neighbours."""
    t = world_p.shape[0]
    pos = np.zeros((t, NUM_JOINTS, 3))
    observed = np.zeros(NUM_JOINTS, bool)
    head_top = None
    for role, (kind, k) in mapping.roles.items():
        track = ends[:, k] if kind == "end" else world_p[:, k]
        if role == bvh_rigs.HEAD_TOP:
            head_top = track
            continue
        pos[:, JOINT_INDEX[role]] = track
        observed[JOINT_INDEX[role]] = True
    measured = observed.copy()
    j = JOINT_INDEX
    column = ("pelvis", "spine1", "spine2", "spine3", "neck")
    for i, role in enumerate(column[1:4], 1):
        if observed[j[role]]:
            continue
        below = next(r for r in reversed(column[:i]) if observed[j[r]])
        above = next((r for r in column[i + 1 :] if observed[j[r]]), None)
        if above is None:
            break
        h = _SPINE_HEIGHTS
        a = (h[role] - h[below]) / (h[above] - h[below])
        pos[:, j[role]] = pos[:, j[below]] + a * (pos[:, j[above]] - pos[:, j[below]])
        observed[j[role]] = True
    for side in ("left", "right"):
        collar, shoulder = j[f"{side}_collar"], j[f"{side}_shoulder"]
        if not observed[collar] and observed[shoulder] and observed[j["spine3"]]:
            pos[:, collar] = pos[:, j["spine3"]] + 0.45 * (pos[:, shoulder] - pos[:, j["spine3"]])
            observed[collar] = True
    # A joint whose SMPL parent is still missing cannot be retargeted: drop it (and so its subtree).
    for k in range(1, NUM_JOINTS):
        if observed[k] and not observed[SMPL_PARENTS[k]]:
            observed[k] = measured[k] = False
    if head_top is not None and not observed[j["head"]]:
        head_top = None
    return pos, observed, measured, head_top


def _detect_scale(pos: np.ndarray, observed: np.ndarray) -> float:
    """The unit scale that makes hip-to-ankle plus pelvis-to-neck closest to an adult's 1.3 m."""
    j = JOINT_INDEX

    def length(a: str, b: str) -> np.ndarray | None:
        if observed[j[a]] and observed[j[b]]:
            return np.linalg.norm(pos[:, j[a]] - pos[:, j[b]], axis=-1)
        return None

    leg = next(
        (x for x in (length("left_hip", "left_ankle"), length("right_hip", "right_ankle")) if x is not None),
        None,
    )
    if leg is None:
        leg = 2 * next(
            (
                x
                for x in (length("left_hip", "left_knee"), length("right_hip", "right_knee"))
                if x is not None
            ),
            0.0,
        )
    torso = next((x for x in (length("pelvis", "neck"), length("pelvis", "spine3")) if x is not None), 0.0)
    size = float(np.median(leg + torso)) if np.ndim(leg + torso) else 0.0
    return min(UNITS.values(), key=lambda s: abs(math.log(max(size * s, 1e-12) / _ADULT_SIZE)))


def _check_values(bvh: Bvh, path: Path, scale: float | None) -> None:
    """Offsets and position channels within ``max_coordinate_m`` (in the file's unit, or the smallest
    unit when it is detected), rotation channels within ``max_rotation_deg``: checked before any
    kinematics, so absurd values cannot stall the fit or overflow."""
    cap = limits.current().max_coordinate_m / (min(UNITS.values()) if scale is None else scale)
    offsets = np.array(
        [j.offset for j in bvh.joints] + [j.end_site for j in bvh.joints if j.end_site is not None]
    )
    big = float(np.abs(offsets).max()) if offsets.size else 0.0
    if big > cap:
        k = int(np.argmax(np.abs(offsets).max(axis=1)))
        owner = bvh.joints[k].name if k < len(bvh.joints) else "an End Site"
        raise UsdSynthError(
            f"OFFSET of {owner} is {big:.3g} file units, beyond {cap:.3g} (max_coordinate_m); corrupt?",
            path,
            field="max_coordinate_m",
        )
    kinds = np.array([name.endswith("position") for j in bvh.joints for name in j.channels], dtype=bool)
    if kinds.any():
        pos = bvh.values[:, kinds]
        limits.check_finite(pos, path, "BVH position channels", cap, "file units")
    if (~kinds).any():
        limits.check_rotations_deg(bvh.values[:, ~kinds], path, "BVH rotation channels")


def _round_fps(fps: float) -> float:
    return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else round(fps, 3)


class BvhReader:
    """Biovision hierarchy (``.bvh``) motion capture from any common rig."""

    name = "bvh"
    retargets = True
    takes_folder = False
    description = "BVH motion capture (.bvh), Y up, units detected, joints mapped by rig names or structure"

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        try:
            with open(path, "rb") as f:
                head = f.read(64)
        except OSError:
            return False
        return head.removeprefix(b"\xef\xbb\xbf").lstrip().upper().startswith(b"HIERARCHY")

    def read(
        self,
        path: Path,
        fps: float | None = None,
        refine: bool = False,
        *,
        joint_map: str | Path | Mapping[str, str | None] | None = None,
        unit: str | None = None,
        target_fps: float | None = None,
        up_axis: str = "y",
        rig: str | None = None,
    ) -> Motion:
        """Read a BVH file.

        Args:
            fps: frame rate to play the file's frames at, instead of ``1 / Frame Time``.
            refine: follow the closed-form retargeting with the torch refinement.
            joint_map: a JSON file (or a mapping) ``{bvh_joint_name: smpl_joint_name}`` that wins over the
                names and structure (``null`` leaves a joint out; ``head_top`` names a point on the head).
            unit: the file's length unit, ``"m"``, ``"cm"``, ``"mm"`` or ``"in"`` (default: detected).
            target_fps: resample the motion to this frame rate (default: keep the file's frames).
            up_axis: ``"y"`` (BVH's convention) or ``"z"`` for a file exported Z up.
            rig: force a rig family's names (see :data:`bvh_rigs.RIG_FAMILIES`) instead of the best match.
        """
        path = Path(path)
        scale = None if unit is None else unit_scale(unit, path)
        up = str(up_axis).strip().lower()
        if up not in UP_AXES:
            raise UsdSynthError(f"up axis must be 'y' or 'z', got {up_axis!r}", path)
        if target_fps is not None:
            try:
                target_fps = limits.check_fps(target_fps, path, "target frame rate")
            except UsdSynthError as exc:
                raise UsdSynthError(exc.message, path, field="target_fps") from None
        user_map = None if joint_map is None else bvh_rigs.load_joint_map(joint_map)
        if rig is not None:
            try:
                bvh_rigs.family(rig)
            except UsdSynthError as exc:
                raise UsdSynthError(str(exc), path) from None
        limits.check_input_file(path, limits.current().max_text_bytes, what="BVH file")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsdSynthError(f"cannot read the file ({exc.strerror or exc})", path) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # older exporters write joint names in a legacy code page
        if not text.strip():
            raise UsdSynthError("file is empty", path)
        bvh = parse_bvh(text, path)
        _check_values(bvh, path, scale)
        mapping = map_joints(bvh.joints, path, user_map, rig)

        file_fps = _round_fps(1.0 / bvh.frame_time)
        if fps is None:
            limits.check_fps(
                1.0 / bvh.frame_time, path, f"BVH frame rate (1 / Frame Time {bvh.frame_time:g} s)"
            )
        src_fps = float(fps) if fps is not None else file_fps
        n_frames = bvh.values.shape[0]
        limits.check_duration(n_frames, src_fps, path)
        if target_fps is not None and abs(float(target_fps) - src_fps) > 1e-9 * src_fps:
            n_frames = int(math.floor((n_frames - 1) * target_fps / src_fps + 1e-9)) + 1
            limits.check_frames(n_frames, path, f"the motion resampled to {target_fps:g} fps")
        limits.check_array_bytes(
            (n_frames, len(bvh.joints), 3, 3),
            8,
            path,
            "the BVH's per-frame joint transforms (frames x joints)",
        )
        local = local_transforms(bvh)
        out_fps = src_fps
        if target_fps is not None and abs(float(target_fps) - src_fps) > 1e-9 * src_fps:
            local = resample_local(*local, src_fps, float(target_fps))
            out_fps = float(target_fps)
        _, world_p, ends = world_transforms(bvh, local)

        pos, observed, measured, head_top = _smpl_positions(world_p, ends, mapping)
        detected = scale is None
        if scale is None:
            scale = _detect_scale(pos, observed)
        to_world = UP_AXES[up] * scale
        pos = pos @ to_world.T
        end_sites = {} if head_top is None else {JOINT_INDEX["head"]: head_top @ to_world.T}
        unit_name = next(k for k, v in UNITS.items() if v == scale)
        source = {
            "reader": self.name,
            "file": path.name,
            "frame_conversion": f"{up}_up",
            "unit_scale": scale,
            "unit": unit_name,
            "unit_detected": detected,
            "rig": mapping.rig,
            "joint_map": mapping.describe(bvh.joints),
            "file_fps": file_fps,
        }
        if out_fps != src_fps:
            source["resampled_from_fps"] = src_fps
        result = retarget_checked(
            pos,
            out_fps,
            path,
            observed=observed,
            measured=measured,
            end_sites=end_sites,
            source=source,
            refine=refine,
        )
        log.info(
            "%s: %s rig, %s, %d joints mapped, residual MPJPE %.1f mm",
            path,
            mapping.rig,
            unit_name,
            len(mapping.roles),
            1000 * result.mpjpe,
        )
        return result.motion
