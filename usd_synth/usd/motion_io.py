"""Motions as animated UsdSkel assets, and back.

Layout of a motion file::

    /Motion                 SkelRoot (default prim, kind = component), usd-synth metadata in customData
        Skeleton            Skeleton: SMPL joint paths, rest and bind transforms, SkelBindingAPI
            Animation       SkelAnimation: time-sampled translations and rotations, constant scales

The Skeleton and its animation are authored by :func:`usd_synth.usd.skel.define_skeleton`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
from pxr import Usd, UsdGeom, UsdSkel

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX
from usd_synth.motion.model import Motion, validate_motion
from usd_synth.skeleton import NUM_JOINTS, SMPL_JOINTS
from usd_synth.usd.authoring import METADATA_KEY, USD_SUFFIXES, authoring_stage, open_stage
from usd_synth.usd.semantics import set_semantic_label
from usd_synth.usd.skel import define_skeleton, find_skeleton


def motion_metadata(motion: Motion) -> dict:
    """What usd-synth keeps about a motion in the SkelRoot's customData."""
    return {
        "label": motion.label,
        "fps": motion.fps,
        "source": json.dumps(motion.source, sort_keys=True, default=str),
    }


def write_motion(motion: Motion, path: str | Path, prim_name: str = "Motion") -> Path:
    """Write ``motion`` as an animated UsdSkel asset; atomic (nothing is left at ``path`` on failure)."""
    path = Path(path)
    with authoring_stage(path, motion.fps, motion.num_frames) as authoring:
        stage = authoring.stage
        root = UsdSkel.Root.Define(stage, f"/{prim_name}")
        stage.SetDefaultPrim(root.GetPrim())
        Usd.ModelAPI(root.GetPrim()).SetKind("component")
        root.GetPrim().SetCustomDataByKey(METADATA_KEY, motion_metadata(motion))
        if motion.label:
            set_semantic_label(root.GetPrim(), motion.label)
        define_skeleton(authoring, root.GetPath().pathString, motion)
    return path


_TF_ERROR = re.compile(r"Error in '[^']*' at line \d+ in file \S+ : '(.*?)'\s*(?=\n\s*Error in|\Z)", re.S)


def usd_error_summary(exc: BaseException, path: Path) -> str:
    """USD's error text without its internal parts (C++ function names, source files and lines): the
    first (root-cause) message, on one line, with ``path`` shortened to its name."""
    text = str(exc)
    found = _TF_ERROR.findall(text)
    message = found[0] if found else text
    message = re.sub(r"pxrInternal\S*", "", message)
    message = re.sub(r"\S+\.(?:cpp|h|hpp)\b(?::\d+)?", "", message)
    message = message.replace(f"@{path}@", path.name).replace(str(path), path.name)
    message = re.sub(r"See the OpenUSD FAQ.*", "", message, flags=re.S)
    return " ".join(message.split())[:200] or type(exc).__name__


def _open_for_read(path: Path) -> Usd.Stage:
    """Open a USD file for reading, after the size checks; USD's errors summarised on one line."""
    text = path.suffix.lower() == ".usda"
    lim = limits.current()
    limits.check_input_file(path, lim.max_text_bytes if text else None, what="USD file")
    try:
        stage = Usd.Stage.Open(str(path), Usd.Stage.LoadAll)
    except Exception as exc:
        raise UsdSynthError(f"not a readable USD file: {usd_error_summary(exc, path)}", path) from None
    if stage is None:
        raise UsdSynthError("not a readable USD file", path)
    return stage


def _time_range(stage: Usd.Stage, path: Path, fps: float | None) -> tuple[range, float]:
    """The frames to sample and the frame rate, checked against the limits before any sampling."""
    tcps = stage.GetTimeCodesPerSecond()
    rate = limits.check_fps(tcps, path, "timeCodesPerSecond") if fps is None else float(fps)
    start, end = stage.GetStartTimeCode(), stage.GetEndTimeCode()
    if not (math.isfinite(start) and math.isfinite(end)):
        raise UsdSynthError(f"startTimeCode/endTimeCode must be finite, got {start} and {end}", path)
    if end < start:
        raise UsdSynthError(f"endTimeCode {end:g} is before startTimeCode {start:g}", path)
    if start != int(start) or end != int(end):
        raise UsdSynthError(
            f"startTimeCode/endTimeCode must be whole frames, got {start:g} and {end:g}", path
        )
    frames = int(end) - int(start) + 1
    limits.check_frames(frames, path, f"the time range {start:g}..{end:g}")
    limits.check_duration(frames, rate, path)
    return range(int(start), int(end) + 1), rate


def _sample(attr: Usd.Attribute, times: range, width: int, what: str, path: Path) -> np.ndarray:
    out = np.empty((len(times), NUM_JOINTS, width))
    for k, t in enumerate(times):
        value = attr.Get(Usd.TimeCode(t))
        arr = np.asarray(value, dtype=np.float64) if value is not None else np.zeros(0)
        if arr.shape != (NUM_JOINTS, width):
            got = "no value" if value is None else f"shape {arr.shape}"
            raise UsdSynthError(
                f"the animation's {what} at time code {t} have {got}, expected ({NUM_JOINTS}, {width})", path
            )
        out[k] = arr
    return out


def read_motion_usd(path: str | Path, fps: float | None = None) -> Motion:
    """Read a motion written by :func:`write_motion` (or any SMPL-24 UsdSkel animation) back.

    The time range and ``timeCodesPerSecond`` are checked against :mod:`usd_synth.limits` before any
    sample is read; ``fps`` re-times the frames (the file's rate is then not used). USD's own errors
    become one line naming the file, without USD's internal paths.
    """
    path = Path(path)
    try:
        return _read_motion_usd(path, fps)
    except UsdSynthError:
        raise
    except Exception as exc:  # pxr raises Tf.ErrorException (a RuntimeError) and others from C++
        raise UsdSynthError(
            f"not a readable usd-synth motion: {usd_error_summary(exc, path)}", path
        ) from None


def _read_motion_usd(path: Path, fps: float | None) -> Motion:
    stage = _open_for_read(path)
    skel = find_skeleton(stage, path)
    query = UsdSkel.Cache().GetSkelQuery(skel)
    anim_query = query.GetAnimQuery() if query else None
    if not anim_query:
        raise UsdSynthError(f"skeleton {skel.GetPath()} has no bound SkelAnimation", path)
    anim = UsdSkel.Animation(anim_query.GetPrim())
    anim_joints = [j.split("/")[-1] for j in (anim.GetJointsAttr().Get() or [])]
    if anim_joints != list(SMPL_JOINTS):
        raise UsdSynthError("the animation's joints are not SMPL-24 in SMPL order", path)
    times, rate = _time_range(stage, path, fps)
    rotations = _sample(anim.GetRotationsAttr(), times, 4, "rotations", path)
    translations = _sample(anim.GetTranslationsAttr(), times, 3, "translations", path)
    limits.check_coordinates(translations, path, "the animation's translations")
    rest_value = skel.GetRestTransformsAttr().Get()
    rest = np.asarray(rest_value, dtype=np.float64) if rest_value is not None else np.zeros(0)
    if rest.shape != (NUM_JOINTS, 4, 4):
        raise UsdSynthError(
            f"the skeleton's restTransforms must be 24 matrices, got shape {rest.shape}", path
        )
    limits.check_coordinates(rest[:, 3, :3], path, "the skeleton's restTransforms")
    offsets = rest[:, 3, :3].copy()
    offsets[0] = REST_ROOT_MATRIX.T @ offsets[0]
    data = stage.GetDefaultPrim().GetCustomDataByKey(METADATA_KEY) if stage.GetDefaultPrim() else None
    data = dict(data) if isinstance(data, dict) else {}
    try:
        source = json.loads(data.get("source", "{}"))
    except (TypeError, ValueError):
        source = {}
    if not isinstance(source, dict):
        source = {}
    motion = Motion(
        fps=rate,
        rotations=rotations,
        translation=translations[:, 0],
        offsets=offsets,
        label=str(data.get("label", ""))[:200],
        source=source,
    )
    return validate_motion(motion, path)


def joint_world_positions_from_usd(path: str | Path) -> np.ndarray:
    """(T, 24, 3) joint world positions evaluated by UsdSkel itself (for cross-checks)."""
    stage = open_stage(path)
    query = UsdSkel.Cache().GetSkelQuery(find_skeleton(stage, Path(path)))
    out = []
    for t in range(int(stage.GetStartTimeCode()), int(stage.GetEndTimeCode()) + 1):
        xf = query.ComputeJointWorldTransforms(UsdGeom.XformCache(Usd.TimeCode(t)))
        out.append(np.array(xf)[:, 3, :3])
    return np.array(out)


class UsdMotionReader:
    """Reader plugin (``usd``) for animated SMPL-24 UsdSkel files (``.usd``, ``.usda``, ``.usdc``).

    It lives with the writer, in the ``usd`` layer, so that ``motion`` never imports ``usd``: the
    readers' registry finds it through its entry point. The file already follows usd-synth's conventions
    (Z up, metres, time codes = frames), so the motion comes back as written, to float32 precision.
    """

    name = "usd"
    retargets = False
    takes_folder = False
    description = "usd-synth motion USD (SMPL-24 UsdSkel animation), .usd/.usda/.usdc"

    def sniff(self, path: Path) -> bool:
        if not path.is_file() or path.suffix.lower() not in USD_SUFFIXES:
            return False
        with open(path, "rb") as f:
            head = f.read(8)
        return head.startswith(b"#usda") or head.startswith(b"PXR-USDC")

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        return read_motion_usd(path, fps)  # fps re-times: the same frames played at another rate
