"""What the one-shot actions share: building key poses (legs, trunk, crouch, arms), fitting a key pose to
a target (a hand on the floor, the pelvis on a seat), and turning keyed angle curves into a clip.

A one-shot action is a list of key poses interpolated smoothly (:func:`~usd_synth.motion.library.pose.
keyed`: eased in from rest and out into the held last pose), with :class:`~usd_synth.motion.library.life.
Life` laid over it, computed over its whole key sequence (or the clip, if longer: the last pose is held,
alive) and cut to the clip. :func:`perform` then puts it on the ground: the root from the contacts (the
lowest body point on the floor, planted contacts not sliding; :mod:`~usd_synth.motion.library.ground`),
the feet pinned where they stand, the hinge joints' axial twist.

Public (for :mod:`~usd_synth.motion.library.actions`, :mod:`~usd_synth.motion.library.falls` and
:mod:`~usd_synth.motion.library.seated`): :func:`legs`, :func:`trunk`, :func:`crouch`, :func:`arms`,
:func:`fit`, :func:`argmin`, :func:`gap`, :func:`stack`, :func:`positions`, :func:`lowest`, :func:`timeline`,
:func:`perform`, :func:`other`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from usd_synth.motion.library.ground import lock_feet, root_from_contacts
from usd_synth.motion.library.life import Life, axial_twist
from usd_synth.motion.library.pose import Pose, rotations_from_pose, stabilise_head, stand
from usd_synth.motion.model import forward_kinematics
from usd_synth.rotations import quat_about, quat_mul
from usd_synth.skeleton import JOINT_CLEARANCE, JOINT_INDEX, template_offsets

_J = JOINT_INDEX


def other(side: str) -> str:
    """The other side: ``left`` <-> ``right``."""
    return "right" if side == "left" else "left"


def legs(pose: Pose, thigh: float, knee: float, foot_pitch: float = 0.0, side: str = "") -> Pose:
    """Set leg angles from the thigh's flexion from the vertical, the knee flexion and the foot's pitch
    (toes up > 0), whatever the pelvis pitch: the ankle follows so that the foot has that pitch. ``side``
    sets one leg (both when empty)."""
    root_x = float(pose.main[0, 0])
    names = (f"{side}_hip", f"{side}_knee", f"{side}_ankle") if side else ("hip", "knee", "ankle")
    spec = {
        names[0]: (-thigh - root_x, 0.0, 0.0),
        names[1]: (knee, 0.0, 0.0),
        names[2]: (thigh - knee - foot_pitch, 0.0, 0.0),
    }
    return pose.set(**spec)


def trunk(pose: Pose, lean: float, pelvis_share: float = 0.35, twist: float = 0.0, side: float = 0.0) -> Pose:
    """Lean the trunk forward by ``lean`` degrees (pelvis takes ``pelvis_share``, the spine the rest),
    turn it by ``twist`` to the left and bend it by ``side`` to the right, spread over the spine."""
    pose.main[0, 0] = pelvis_share * lean
    spine = (1 - pelvis_share) * lean / 3
    return pose.set(
        spine1=(spine, twist / 3, side / 3),
        spine2=(spine, twist / 3, side / 3),
        spine3=(spine, twist / 3, side / 3),
    )


def arms(pose: Pose, flex: float, elbow: float, side: str = "", spread: float = -74.0) -> Pose:
    """Set an arm (both when ``side`` is empty): ``flex`` raises the hanging arm forward (degrees, 180 is
    straight up), ``elbow`` bends the elbow, ``spread`` is the shoulder's angle from the T-pose (-74 hangs
    at the side, 0 is horizontal out to the side)."""
    names = (f"{side}_shoulder", f"{side}_elbow") if side else ("shoulder", "elbow")
    return pose.set(**{names[0]: (-flex, 0.0, spread), names[1]: (0.0, -elbow, 0.0)})


def crouch(knee: float, lean: float, arm_flex: float = 0.0) -> Pose:
    """A balanced crouch with the feet flat: the shins tilt up to 38 degrees, the thighs take the rest of
    the knee flexion; ``arm_flex`` raises both arms forward (degrees)."""
    shin = min(0.33 * knee, 38.0)
    pose = trunk(stand(), lean)
    arms(pose, arm_flex, 14.0)
    return legs(pose, knee - shin, knee)


def positions(pose: Pose, heading: float = 0.0) -> np.ndarray:
    """Joint positions (T, 24, 3) of a pose with the pelvis at the origin (for fitting key poses; a single
    key pose gives T = 1)."""
    if pose.main.ndim == 2:
        single = Pose((1,))
        single.main[0], single.pre[0] = pose.main, pose.pre
        pose = single
    rot = rotations_from_pose(pose, heading)
    return forward_kinematics(rot, np.zeros(rot.shape[:1] + (3,)), template_offsets())[1]


def lowest(pose: Pose, joints: Sequence[int] | None = None) -> np.ndarray:
    """(T,) lowest surface height of ``joints`` (all when None) relative to the pelvis."""
    pos = positions(pose)
    gh = pos[..., 2] - JOINT_CLEARANCE
    return (gh if joints is None else gh[:, list(joints)]).min(axis=1)


def stack(poses: Sequence[Pose]) -> Pose:
    """Key poses side by side as one batched :class:`Pose` (for measuring many candidates at once)."""
    out = Pose((len(poses),))
    out.main = np.stack([p.main for p in poses])
    out.pre = np.stack([p.pre for p in poses])
    return out


def _grid(make: Callable[[float], Pose], measure: Callable[[Pose], np.ndarray], xs: np.ndarray) -> np.ndarray:
    return np.asarray(measure(stack([make(float(x)) for x in xs])), dtype=np.float64)


def fit(
    make: Callable[[float], Pose],
    measure: Callable[[Pose], np.ndarray],
    target: float,
    lo: float,
    hi: float,
) -> tuple[float, Pose]:
    """Find ``x`` between ``lo`` and ``hi`` with ``measure(make(x)) == target`` and return it with its pose.

    ``measure`` takes a batched pose (:func:`stack`) and returns one value per pose; it should be monotone
    in ``x`` (the first crossing is taken). Two grids of 25, the second within the bracketing step, then
    linear interpolation. The end nearer the target is returned when the target is out of reach.
    """
    xs = np.linspace(lo, hi, 25)
    for _ in range(2):
        f = _grid(make, measure, xs) - target
        cross = np.flatnonzero(np.sign(f[:-1]) * np.sign(f[1:]) <= 0)
        if not len(cross):
            x = float(xs[int(np.argmin(np.abs(f)))])
            return x, make(x)
        i = int(cross[0])
        xs = np.linspace(xs[i], xs[i + 1], 25)
    f = _grid(make, measure, xs) - target
    i = int(np.clip(np.flatnonzero(np.sign(f[:-1]) * np.sign(f[1:]) <= 0)[:1].sum(), 0, len(xs) - 2))
    df = f[i + 1] - f[i]
    x = float(xs[i] - f[i] * (xs[i + 1] - xs[i]) / df) if df != 0 else float(xs[i])
    return x, make(x)


def argmin(
    make: Callable[[float], Pose], measure: Callable[[Pose], np.ndarray], lo: float, hi: float
) -> float:
    """The ``x`` in [lo, hi] whose pose minimises ``measure`` (batched, as for :func:`fit`), to 0.5 % of the
    range (a grid of 21, then a finer one around the best)."""
    xs = np.linspace(lo, hi, 21)
    best = float(xs[int(np.argmin(_grid(make, measure, xs)))])
    step = (hi - lo) / 20
    xs = np.linspace(max(lo, best - step), min(hi, best + step), 11)
    return float(xs[int(np.argmin(_grid(make, measure, xs)))])


def gap(pose: Pose, joints: Sequence[int]) -> np.ndarray:
    """(T,) how far the lowest surface of ``joints`` is above the body's lowest point (m)."""
    gh = positions(pose)[..., 2] - JOINT_CLEARANCE
    return gh[:, list(joints)].min(axis=1) - gh.min(axis=1)


def _soft_hinges(pose: Pose, tau: float = 2.5) -> None:
    """Keep knees and elbows from straightening past their stop: a smooth floor at zero flexion (in place;
    it changes flexions above 10 degrees by less than 0.1 degree)."""
    for joint, axis, sign in (("left_knee", 0, 1.0), ("right_knee", 0, 1.0), ("left_elbow", 1, -1.0),
                              ("right_elbow", 1, 1.0)):  # fmt: skip
        flex = sign * pose.main[..., _J[joint], axis]
        pose.main[..., _J[joint], axis] = sign * tau * np.logaddexp(0.0, flex / tau)


def timeline(t: np.ndarray, needed: float, fps: float) -> np.ndarray:
    """Frame times covering both the clip and the action's whole key sequence."""
    return np.arange(max(len(t), int(math.ceil(needed * fps)) + 2)) / fps


def perform(
    tf: np.ndarray,
    n: int,
    pose: Pose,
    p: dict,
    fps: float,
    life: Life,
    *,
    head: float | np.ndarray = 0.6,
    flights: Sequence[tuple[float, float]] = (),
    pin_feet: bool = True,
    level: float | np.ndarray = 1.0,
    breath: float | np.ndarray = 1.0,
    arms_level: float | np.ndarray = 1.0,
    head_level: float | np.ndarray = 1.0,
    sway: float | np.ndarray = 1.0,
    breath_rate: float | np.ndarray | None = None,
    head_turn: np.ndarray | None = None,
    grip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rotations and root of a keyed action computed over ``tf`` (the whole action) and cut to ``n``.

    :class:`Life` is laid over the pose (see :meth:`Life.apply` for the levels; the head's small turns and
    ``head_turn``, degrees of yaw per frame, come after the gaze stabilisation ``head``); the root follows
    the contacts (``flights``: ballistic windows; ``grip``: see :func:`root_from_contacts`); ``pin_feet``
    pins sliding feet (for actions that stand on their feet; a fall rests on the body).
    """
    _soft_hinges(pose)
    life.apply(pose, tf, level, breath, arms_level, 0.0, sway, breath_rate)
    rot = rotations_from_pose(pose, p["heading"])
    if np.any(np.asarray(head) > 0):
        rot = stabilise_head(rot, p["heading"], head)
    yaw = life.move("head_yaw", tf) * np.asarray(level) * np.asarray(head_level)
    pitch = life.move("head_pitch", tf) * np.asarray(level) * np.asarray(head_level)
    if head_turn is not None:
        yaw = yaw + head_turn
    turn = quat_mul(
        quat_about((0.0, 1.0, 0.0), np.radians(yaw)), quat_about((1.0, 0.0, 0.0), np.radians(pitch))
    )
    rot[:, _J["head"]] = quat_mul(rot[:, _J["head"]], turn)
    offsets = template_offsets()
    root = root_from_contacts(rot, offsets, fps, flights, free_velocity=np.zeros(2), grip=grip)
    if pin_feet:
        rot = lock_feet(rot, root, offsets, fps)
    rot = axial_twist(rot, fps)
    return rot[:n], root[:n]
