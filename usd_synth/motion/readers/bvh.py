"""BVH motion capture (Biovision hierarchy), mapped onto SMPL-24 by the skeleton's structure.

Frames: BVH is Y up by convention; joint positions are computed by the file's own forward kinematics
(channel order as declared, e.g. ``Zrotation Xrotation Yrotation`` means ``R = Rz @ Rx @ Ry``), scaled to
metres, then turned into the Z-up world by ``(x, y, z) -> (x, -z, y)``, and retargeted. Units are not
in the file: the scale (1, 0.01, 0.0254 or 0.001) that makes the skeleton closest to an adult's size is
used and recorded in the metadata. The frame rate comes from ``Frame Time``.

Mapping, by structure rather than by name (names differ between exporters; "LeftShoulder" is a collar in
some and an upper arm in others): the root is the pelvis; its children with "left"/"right" in their name
start the legs (hip, knee, ankle, toe or end site -> foot); the other child starts the spine, which runs
to the first joint with three or more children (the chest); the chest's left/right children start the
arms (with four joints, the first is the collar; then shoulder, elbow, wrist, and hand or end site); its
remaining child is the neck, then the head, whose end site orients the head. Spine joints are spread over
spine1..spine3 (a missing one is placed between its neighbours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.motion.readers.arrays import Y_UP_TO_Z_UP
from usd_synth.motion.retarget import retarget_positions
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS

_AXES = {"X": 0, "Y": 1, "Z": 2}
_SCALES = (1.0, 0.01, 0.0254, 0.001)


@dataclass
class _Joint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    end_site: np.ndarray | None = None  #: offset of an End Site child


def _rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1.0
    m[..., i, i] = c
    m[..., j, j] = c
    m[..., i, j] = -s
    m[..., j, i] = s
    return m


def parse_bvh(text: str, path: Path) -> tuple[list[_Joint], np.ndarray, float]:
    """Joints, per-frame channel values (F, C) and frame time of a BVH file."""
    tokens = text.split()
    joints: list[_Joint] = []
    stack: list[int] = []
    i = 0
    try:
        if tokens[i] != "HIERARCHY":
            raise UsdSynthError("not a BVH file (no HIERARCHY)", path)
        i += 1
        pending_end = False
        while tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                parent = stack[-1] if stack else -1
                joints.append(_Joint(tokens[i + 1], parent, np.zeros(3)))
                if parent >= 0:
                    joints[parent].children.append(len(joints) - 1)
                i += 2
            elif tok == "End":
                pending_end = True
                i += 2
            elif tok == "{":
                stack.append(-1 if pending_end else len(joints) - 1)
                i += 1
            elif tok == "}":
                stack.pop()
                pending_end = False
                i += 1
            elif tok == "OFFSET":
                off = np.array([float(t) for t in tokens[i + 1 : i + 4]])
                if pending_end:
                    joints[stack[-2]].end_site = off
                else:
                    joints[stack[-1]].offset = off
                i += 4
            elif tok == "CHANNELS":
                n = int(tokens[i + 1])
                joints[stack[-1]].channels = tokens[i + 2 : i + 2 + n]
                i += 2 + n
            else:
                raise UsdSynthError(f"unexpected token {tok!r} in the BVH hierarchy", path)
        n_frames = int(tokens[i + 2])
        frame_time = float(tokens[i + 5])
        values = np.array(tokens[i + 6 :], dtype=np.float64)
    except UsdSynthError:
        raise
    except (IndexError, ValueError) as exc:
        raise UsdSynthError(f"malformed or truncated BVH file ({type(exc).__name__}: {exc})", path) from None
    n_channels = sum(len(j.channels) for j in joints)
    if not joints or n_frames <= 0:
        raise UsdSynthError("BVH file has no joints or no frames", path)
    if values.size != n_frames * n_channels:
        raise UsdSynthError(
            f"BVH motion data has {values.size} values, expected {n_frames} frames x {n_channels} channels "
            "(truncated?)",
            path,
        )
    if not np.all(np.isfinite(values)):
        frame = int(np.argwhere(~np.isfinite(values))[0][0]) // n_channels
        raise UsdSynthError(f"BVH motion contains NaN or infinite values (first at frame {frame})", path)
    if not frame_time > 0:
        raise UsdSynthError(f"BVH Frame Time must be positive, got {frame_time}", path)
    return joints, values.reshape(n_frames, n_channels), frame_time


def bvh_positions(joints: list[_Joint], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World positions (F, J, 3) of the joints and (F, J, 3) of their end sites (NaN where none)."""
    f = values.shape[0]
    pos = np.zeros((f, len(joints), 3))
    ends = np.full((f, len(joints), 3), np.nan)
    world_r = np.zeros((f, len(joints), 3, 3))
    col = 0
    for j, joint in enumerate(joints):
        rot = np.tile(np.eye(3), (f, 1, 1))
        trans = np.tile(joint.offset, (f, 1))
        for name in joint.channels:
            v = values[:, col]
            col += 1
            axis = _AXES[name[0].upper()]
            if name.lower().endswith("position"):
                trans[:, axis] += v
            else:
                rot = rot @ _rotation(axis, np.radians(v))
        if joint.parent < 0:
            world_r[:, j] = rot
            pos[:, j] = trans
        else:
            p = joint.parent
            world_r[:, j] = world_r[:, p] @ rot
            pos[:, j] = pos[:, p] + world_r[:, p] @ joint.offset
        if joint.end_site is not None:
            ends[:, j] = pos[:, j] + world_r[:, j] @ joint.end_site
    return pos, ends


def _side(name: str) -> str | None:
    low = name.lower()
    if low.startswith("left") or re.match(r"^l[_\W]?[a-z]", low) and not low.startswith("low"):
        return "left"
    if low.startswith("right") or re.match(r"^r[_\W]?[a-z]", low):
        return "right"
    return "left" if "left" in low else "right" if "right" in low else None


def _chain(joints: list[_Joint], start: int) -> list[int]:
    """Joints from ``start`` down while each has exactly one child."""
    out = [start]
    while len(joints[out[-1]].children) == 1:
        out.append(joints[out[-1]].children[0])
    return out


def map_to_smpl(joints: list[_Joint], path: Path) -> dict[str, tuple[str, int]]:
    """SMPL joint name -> ("joint" | "end", BVH index)."""
    root = next(i for i, j in enumerate(joints) if j.parent < 0)
    mapping: dict[str, tuple[str, int]] = {"pelvis": ("joint", root)}
    spine_start = None
    for c in joints[root].children:
        side = _side(joints[c].name)
        if side is None:
            spine_start = c
            continue
        leg = _chain(joints, c)
        names = ["hip", "knee", "ankle", "foot"]
        for name, k in zip(names, leg, strict=False):
            mapping[f"{side}_{name}"] = ("joint", k)
        if len(leg) == 3 and joints[leg[-1]].end_site is not None:
            mapping[f"{side}_foot"] = ("end", leg[-1])
    if spine_start is None:
        raise UsdSynthError("cannot find the spine in the BVH hierarchy", path)
    spine = [spine_start]
    while len(joints[spine[-1]].children) == 1:
        spine.append(joints[spine[-1]].children[0])
    chest = spine[-1]
    if len(joints[chest].children) < 3:
        raise UsdSynthError(
            "cannot find the chest (a joint with neck and both arms) in the BVH hierarchy", path
        )
    if len(spine) == 1:
        mapping["spine3"] = ("joint", chest)
    elif len(spine) == 2:
        mapping["spine1"], mapping["spine3"] = ("joint", spine[0]), ("joint", chest)
    else:
        mapping["spine1"], mapping["spine3"] = ("joint", spine[0]), ("joint", chest)
        mapping["spine2"] = ("joint", spine[len(spine) // 2])
    for c in joints[chest].children:
        side = _side(joints[c].name)
        chain = _chain(joints, c)
        if side is None:
            mapping["neck"] = ("joint", chain[0])
            if len(chain) > 1:
                mapping["head"] = ("joint", chain[1])
            continue
        names = ["collar", "shoulder", "elbow", "wrist", "hand"]
        if len(chain) < 4:
            names = names[1:]
        for name, k in zip(names, chain, strict=False):
            mapping[f"{side}_{name}"] = ("joint", k)
        last = names[min(len(chain), len(names)) - 1]
        if last == "wrist" and joints[chain[-1]].end_site is not None:
            mapping[f"{side}_hand"] = ("end", chain[-1])
    for required in ("left_hip", "right_hip", "left_knee", "right_knee", "neck"):
        if required not in mapping:
            raise UsdSynthError(f"cannot find the {required.replace('_', ' ')} in the BVH hierarchy", path)
    return mapping


class BvhReader:
    """Biovision hierarchy (``.bvh``) motion capture."""

    name = "bvh"
    retargets = True
    description = "BVH motion capture (.bvh), Y up, units detected, joints mapped by structure"

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        with open(path, "rb") as f:
            return f.read(16).lstrip().upper().startswith(b"HIERARCHY")

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        text = path.read_text(errors="replace")
        if not text.strip():
            raise UsdSynthError("file is empty", path)
        joints, values, frame_time = parse_bvh(text, path)
        raw, ends = bvh_positions(joints, values)
        mapping = map_to_smpl(joints, path)
        t = raw.shape[0]
        pos = np.zeros((t, NUM_JOINTS, 3))
        observed = np.zeros(NUM_JOINTS, bool)
        for smpl, (kind, k) in mapping.items():
            pos[:, JOINT_INDEX[smpl]] = ends[:, k] if kind == "end" else raw[:, k]
            observed[JOINT_INDEX[smpl]] = True
        measured = observed.copy()
        # Place spine joints the file lacks between their neighbours (observed, not measured).
        j = JOINT_INDEX
        chest = j["spine3"]
        if not observed[j["spine1"]]:
            pos[:, j["spine1"]] = pos[:, 0] + 0.35 * (pos[:, chest] - pos[:, 0])
            observed[j["spine1"]] = True
        if not observed[j["spine2"]]:
            pos[:, j["spine2"]] = 0.5 * (pos[:, j["spine1"]] + pos[:, chest])
            observed[j["spine2"]] = True
        for side in ("left", "right"):
            if not observed[j[f"{side}_collar"]]:
                sh = pos[:, j[f"{side}_shoulder"]]
                pos[:, j[f"{side}_collar"]] = pos[:, chest] + 0.45 * (sh - pos[:, chest])
                observed[j[f"{side}_collar"]] = True
        # Units: the scale that makes the leg + torso closest to an adult's.
        size = np.median(
            np.linalg.norm(pos[:, j["left_hip"]] - pos[:, j["left_ankle"]], axis=-1)
            + np.linalg.norm(pos[:, j["neck"]] - pos[:, 0], axis=-1)
        )
        scale = min(_SCALES, key=lambda s: abs(np.log(max(size * s, 1e-9) / 1.3)))
        pos = (pos * scale) @ Y_UP_TO_Z_UP.T
        end_sites = {}
        head = joints[mapping["head"][1]] if "head" in mapping else None
        if head is not None and head.end_site is not None:
            end_sites[j["head"]] = (ends[:, mapping["head"][1]] * scale) @ Y_UP_TO_Z_UP.T
        if fps is None:
            fps = 1.0 / frame_time
            fps = float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else round(fps, 3)
        result = retarget_positions(
            pos,
            float(fps),
            observed=observed,
            measured=measured,
            end_sites=end_sites,
            source={"reader": self.name, "file": path.name, "frame_conversion": "y_up", "unit_scale": scale},
            refine=refine,
        )
        return result.motion
