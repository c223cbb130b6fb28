"""Joint names of the common BVH rigs, and the user's own joint map, for the BVH reader.

A BVH joint name is matched by its *normalised* form, which ignores everything exporters vary:

* case, separators (space, ``_``, ``-``, ``.``) and camelCase: ``LeftUpLeg``, ``left_up_leg`` and
  ``LEFT-UP-LEG`` are all ``left`` + ``upleg``;
* a namespace (``mixamorig:``, ``Character1|``) and the usual prefixes (``Bip01 ``, ``joint_``, ``jnt_``,
  ``DEF-``, ``Character1_``);
* the side marker, as a prefix or a suffix: ``Left``/``Right``/``L``/``R`` (``LeftArm``, ``L_Thigh``,
  ``Bip01 L Thigh``, ``UpperLeg_L``, ``thigh.l``, ``lShldr``).

Each rig family is a table from such names to SMPL joints; a file is read with the family that recognises
most of its joints. The families disagree on purpose-built names ("LeftShoulder" is the collar in
HumanIK and the upper arm in Biovision), which is why a file is matched against one family as a whole.
Spine joints are not named here: the reader spreads whatever joints lie between the pelvis and the neck
over ``spine1..spine3`` by the hierarchy's structure.

Roles are SMPL joint names plus ``head_top``, a point fixed to the head (an end joint such as Mixamo's
``HeadTop_End``) that orients it; a role of ``None`` marks a joint as known and deliberately unused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from usd_synth.errors import UsdSynthError
from usd_synth.skeleton import SMPL_JOINTS

#: Pseudo-joint: a point fixed to the head (its top), used to orient the head.
HEAD_TOP = "head_top"
#: Every role a BVH joint may take.
ROLES: tuple[str, ...] = (*SMPL_JOINTS, HEAD_TOP)
#: Spine roles: placed by structure, never by name (exporters number spine joints differently).
SPINE_ROLES = ("spine1", "spine2", "spine3")

#: A family is used only when it recognises at least this many joints ("Hips" alone names no rig).
MIN_NAMES = 3
_PREFIXES = {
    "bip",
    "biped",
    "joint",
    "jnt",
    "jt",
    "def",
    "org",
    "mch",
    "mixamorig",
    "character",
    "char",
    "bn",
}
_LEFT, _RIGHT = {"l", "left", "lf", "lft"}, {"r", "right", "rt", "rgt"}
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True)
class RigFamily:
    """One naming convention: normalised base names -> SMPL roles, for midline and sided joints."""

    name: str
    description: str
    center: Mapping[str, str | None]
    #: sided joints: base name -> role without its side (``"hip"`` becomes ``left_hip``/``right_hip``)
    sided: Mapping[str, str | None]
    #: a family used only when some joint name carries this namespace or prefix (lower case)
    requires_prefix: str | None = None
    aliases: tuple[str, ...] = field(default=())

    def role(self, side: str | None, base: str) -> str | None | bool:
        """The role of a normalised name; False when the family does not know the name."""
        if side is None:
            return self.center.get(base, False)
        if base not in self.sided:
            return False
        role = self.sided[base]
        return None if role is None else f"{side}_{role}"


_HUMANIK_CENTER = {
    "hips": "pelvis",
    "neck": "neck",
    "head": "head",
    "headtopend": HEAD_TOP,
    "headend": HEAD_TOP,
}
_HUMANIK_SIDED = {
    "upleg": "hip", "leg": "knee", "foot": "ankle", "toebase": "foot",
    "shoulder": "collar", "arm": "shoulder", "forearm": "elbow", "hand": "wrist", "handmiddle1": "hand",
}  # fmt: skip

#: The families, in order of preference when two recognise as many joints.
RIG_FAMILIES: tuple[RigFamily, ...] = (
    RigFamily(
        "mixamo",
        "Mixamo (mixamorig:Hips, mixamorig:LeftUpLeg, mixamorig:LeftArm, ...)",
        _HUMANIK_CENTER,
        _HUMANIK_SIDED,
        requires_prefix="mixamorig",
    ),
    RigFamily(
        "humanik",
        "MotionBuilder / HumanIK (Hips, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, Spine, Spine1, Neck, "
        "Head, LeftShoulder = collar, LeftArm, LeftForeArm, LeftHand)",
        _HUMANIK_CENTER,
        _HUMANIK_SIDED,
        aliases=("motionbuilder",),
    ),
    RigFamily(
        "cmu",
        "CMU mocap conversions: MotionBuilder-friendly (LHipJoint, LeftUpLeg, LowerBack, LeftFingerBase, "
        "...) and Daz-friendly (hip, abdomen, lButtock, lThigh, lShin, lShldr, ...)",
        {**_HUMANIK_CENTER, "hip": "pelvis", "neck1": None, "lowerback": None, "abdomen": None},
        {
            **_HUMANIK_SIDED,
            "hipjoint": None,
            "fingerbase": "hand",
            "handindex1": None,
            "thumb": None,
            "buttock": None,
            "thigh": "hip",
            "shin": "knee",
            "collar": "collar",
            "shldr": "shoulder",
        },
    ),  # fmt: skip
    RigFamily(
        "biovision",
        "Biovision (Hips, LeftHip or LeftUpLeg, LeftKnee, LeftAnkle, Chest, LeftCollar, LeftShoulder = upper "
        "arm, LeftElbow, LeftWrist)",
        {"hips": "pelvis", "hip": "pelvis", "neck": "neck", "head": "head", "headend": HEAD_TOP},
        {
            "hip": "hip",
            "upleg": "hip",
            "knee": "knee",
            "ankle": "ankle",
            "toe": "foot",
            "collar": "collar",
            "shoulder": "shoulder",
            "elbow": "elbow",
            "wrist": "wrist",
        },
    ),  # fmt: skip
    RigFamily(
        "biped",
        "3ds Max Biped (Bip01 Pelvis, Bip01 L Thigh, Bip01 L Calf, Bip01 L Foot, Bip01 L Toe0, Bip01 Spine, "
        "Bip01 L Clavicle, Bip01 L UpperArm, Bip01 L Forearm, Bip01 L Hand)",
        {"pelvis": "pelvis", "neck": "neck", "head": "head", "headnub": HEAD_TOP},
        {
            "thigh": "hip",
            "calf": "knee",
            "foot": "ankle",
            "toe0": "foot",
            "clavicle": "collar",
            "upperarm": "shoulder",
            "forearm": "elbow",
            "hand": "wrist",
            "finger2": "hand",
        },
        aliases=("3dsmax",),
    ),  # fmt: skip
    RigFamily(
        "unity",
        "Unity humanoid (Hips, UpperLeg_L, LowerLeg_L, Foot_L, Toes_L, Spine, Chest, UpperChest, Neck, Head, "
        "Shoulder_L = collar, UpperArm_L, LowerArm_L, Hand_L)",
        {"hips": "pelvis", "neck": "neck", "head": "head", "headend": HEAD_TOP, "headtop": HEAD_TOP},
        {
            "upperleg": "hip",
            "lowerleg": "knee",
            "foot": "ankle",
            "toes": "foot",
            "shoulder": "collar",
            "upperarm": "shoulder",
            "lowerarm": "elbow",
            "hand": "wrist",
            "middleproximal": "hand",
        },
    ),  # fmt: skip
    RigFamily(
        "unreal",
        "Unreal mannequin (pelvis, thigh_l, calf_l, foot_l, ball_l, spine_01, clavicle_l, upperarm_l, "
        "lowerarm_l, hand_l, neck_01, head)",
        {"pelvis": "pelvis", "neck01": "neck", "head": "head"},
        {
            "thigh": "hip",
            "calf": "knee",
            "foot": "ankle",
            "ball": "foot",
            "clavicle": "collar",
            "upperarm": "shoulder",
            "lowerarm": "elbow",
            "hand": "wrist",
            "middle01": "hand",
        },
    ),  # fmt: skip
)

#: The rig family names (``--rig``), in matching order.
RIG_NAMES: tuple[str, ...] = tuple(f.name for f in RIG_FAMILIES)


def name_words(name: str) -> list[str]:
    """Lower-case words of a joint name, without its namespace: ``mixamorig:LeftUpLeg`` -> left up leg."""
    name = re.split(r"[:|]", name)[-1]
    return [w.lower() for w in _WORDS.findall(name)]


def normalise(name: str) -> tuple[str | None, str]:
    """``(side, base)`` of a joint name: side ``"left"``, ``"right"`` or None; base the rest, joined.

    ``Bip01 L Thigh`` -> (left, thigh); ``UpperLeg_L`` -> (left, upperleg); ``mixamorig:Spine1`` ->
    (None, spine1); ``joint_Root`` -> (None, root).
    """
    words = name_words(name)
    while len(words) > 1 and words[0] in _PREFIXES:
        words.pop(0)
        if words and words[0].isdigit():  # Bip01, Character1 (and "Bip01" alone names nothing)
            words.pop(0)
    side = None
    if len(words) > 1 and words[0] in _LEFT | _RIGHT:
        side = "left" if words.pop(0) in _LEFT else "right"
    elif len(words) > 1 and words[-1] in _LEFT | _RIGHT:
        side = "left" if words.pop() in _LEFT else "right"
    base = "".join(words)
    if side is None:
        for marker, s in (("left", "left"), ("right", "right")):
            if base.startswith(marker) and len(base) > len(marker):
                side, base = s, base[len(marker) :]
                break
    return side, base


def side_of(name: str) -> str | None:
    """``"left"``, ``"right"`` or None, from a joint name's side marker (for the structural matcher)."""
    side, base = normalise(name)
    if side is None:
        low = name.lower()
        side = "left" if "left" in low else "right" if "right" in low else None
    return side


def family(name: str) -> RigFamily:
    """The rig family called ``name`` (or one of its aliases); a UsdSynthError for an unknown one."""
    key = name.strip().lower()
    for fam in RIG_FAMILIES:
        if key == fam.name or key in fam.aliases:
            return fam
    known = ", ".join(f.name for f in RIG_FAMILIES)
    raise UsdSynthError(f"unknown BVH rig {name!r}; known rigs: {known}")


def match_names(names: Sequence[str], rig: str | None = None) -> tuple[str | None, dict[int, str]]:
    """Best rig family for these joint names and the roles it gives them: ``(family, {index: role})``.

    ``names`` are in the file's (depth-first) order; when two joints take one role, the first (nearest the
    root) keeps it. Joints the family marks as unused and joints it does not know are left out. With
    ``rig`` the named family is used; otherwise the one that recognises most joints (None when none
    recognises :data:`MIN_NAMES`).
    """
    normal = [normalise(n) for n in names]
    lower = [n.lower() for n in names]
    if rig is not None:
        candidates = [family(rig)]
    else:
        candidates = [
            f for f in RIG_FAMILIES if f.requires_prefix is None or any(f.requires_prefix in n for n in lower)
        ]
    best, best_score = None, MIN_NAMES - 1 if rig is None else 0
    for fam in candidates:
        score = sum(fam.role(side, base) is not False for side, base in normal)
        if score > best_score:
            best, best_score = fam, score
    if best is None:
        return None, {}
    roles: dict[int, str] = {}
    taken: set[str] = set()
    for i, (side, base) in enumerate(normal):
        role = best.role(side, base)
        if isinstance(role, str) and role not in taken:
            roles[i] = role
            taken.add(role)
    return best.name, roles


def load_joint_map(joint_map: str | Path | Mapping[str, str | None]) -> dict[str, str | None]:
    """A user joint map, ``{bvh_joint_name: smpl_joint_name}``, from a JSON file or a mapping.

    Values are SMPL joint names (or ``head_top``, a point on the top of the head); ``null`` marks a joint
    that must not be used at all. Raises a UsdSynthError naming the map file for a file that is not a
    JSON object of strings, or for names that are not SMPL joints.
    """
    where: Path | None = None
    if isinstance(joint_map, (str, Path)):
        where = Path(joint_map)
        try:
            text = where.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsdSynthError("joint map file not found", where) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsdSynthError(f"cannot read the joint map ({exc})", where) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsdSynthError(
                f"joint map is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); expected "
                'an object {"bvh_joint_name": "smpl_joint_name", ...}',
                where,
            ) from None
    else:
        data = joint_map
    if not isinstance(data, Mapping):
        raise UsdSynthError(
            f'joint map must be a JSON object {{"bvh_joint_name": "smpl_joint_name", ...}}, got a '
            f"{type(data).__name__}",
            where,
        )
    out: dict[str, str | None] = {}
    unknown: list[str] = []
    for key, value in data.items():
        if not isinstance(key, str) or not (value is None or isinstance(value, str)):
            raise UsdSynthError(f"joint map entries must be strings (or null), got {key!r}: {value!r}", where)
        if value is not None and value not in ROLES:
            unknown.append(value)
        out[key] = value
    if unknown:
        raise UsdSynthError(
            f"joint map names unknown SMPL joints: {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(ROLES)}",
            where,
        )
    targets = [v for v in out.values() if v is not None]
    dupes = sorted({v for v in targets if targets.count(v) > 1})
    if dupes:
        raise UsdSynthError(
            f"joint map gives several BVH joints the same SMPL joint: {', '.join(dupes)}", where
        )
    return out
