"""What keeps a body alive between (and under) its actions: breathing, postural sway, small head turns and
hand fidgets, and the axial twist of the hinge joints.

A person is never frozen: even standing "still" the chest rises and falls, the body sways over the ankles,
the head drifts and the hands move a little; lying after a fall the chest still breathes. A recognizer
shown clips whose held poses are perfectly still learns stillness as a cue, so every non-gait action lays
:class:`Life` over its key poses, and the holds at the ends of a clip keep moving.

:class:`Life` is drawn once per clip from the action's own random stream (after its parameters, so the
parameters stay where the seeding rule puts them): breathing rate and phase, and for each small movement
a few slow sinusoids with random frequencies (0.2-0.8 Hz) and phases. Amplitudes are in degrees at
``level`` 1; a caller lowers ``level`` where a movement would disturb the action (the arms of a punch).

:func:`axial_twist` adds the axial rotation that real hinge joints make as they flex (the shin turns about
its long axis as the knee bends, the forearm pronates as the elbow extends), in proportion to the flexion
speed. It moves no joint (the twist is about the child bone and the child's own rotation takes it back),
but it means a hinge that reverses fast (a running knee at full flexion) turns through its reversal rather
than stopping dead for a frame.

Public: :class:`Life` and :func:`axial_twist`, used by the one-shot actions and the gaits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from usd_synth.motion.library.pose import Pose
from usd_synth.rotations import make_continuous, quat_about, quat_conj, quat_mul, quat_to_axis_angle
from usd_synth.skeleton import JOINT_INDEX, template_offsets

_J = JOINT_INDEX
_BAND = (0.2, 0.8)  # Hz, the band of the slow random movements
_WAVES = 3  # sinusoids per movement

#: The small movements: (name, joint, axis, degrees at level 1, group). ``group`` lets a caller quiet the
#: arms, head, trunk or legs separately. Paired names move both sides (each with its own random curve).
_MOVES: tuple[tuple[str, str, int, float, str], ...] = (
    ("head_yaw", "head", 1, 6.0, "head"),
    ("head_pitch", "head", 0, 3.5, "head"),
    ("head_roll", "head", 2, 1.5, "head"),
    ("neck_yaw", "neck", 1, 1.5, "head"),
    ("spine_twist", "spine2", 1, 0.8, "trunk"),
    ("spine_side", "spine1", 2, 0.6, "trunk"),
    ("left_shoulder_x", "left_shoulder", 0, 2.0, "arms"),
    ("right_shoulder_x", "right_shoulder", 0, 2.0, "arms"),
    ("left_shoulder_z", "left_shoulder", 2, 1.2, "arms"),
    ("right_shoulder_z", "right_shoulder", 2, 1.2, "arms"),
    ("left_elbow", "left_elbow", 1, -3.0, "arms"),
    ("right_elbow", "right_elbow", 1, -3.0, "arms"),
    ("left_wrist_z", "left_wrist", 2, 5.0, "arms"),
    ("right_wrist_z", "right_wrist", 2, 5.0, "arms"),
    ("left_wrist_x", "left_wrist", 0, 4.0, "arms"),
    ("right_wrist_x", "right_wrist", 0, 4.0, "arms"),
    ("left_hand", "left_hand", 2, 6.0, "arms"),
    ("right_hand", "right_hand", 2, 6.0, "arms"),
    ("sway_pitch", "root", 0, 0.7, "sway"),
    ("sway_roll", "root", 2, 0.9, "sway"),
)


@dataclass(frozen=True)
class Life:
    """The small movements of one clip (see the module docstring); draw it with :meth:`draw`."""

    breath_rate: float  #: breaths per second
    breath_phase: float  #: radians
    waves: np.ndarray  #: (movements, _WAVES, 3): frequency (Hz), phase (rad), weight of each sinusoid

    @classmethod
    def draw(cls, rng: np.random.Generator, breath_rate: tuple[float, float] = (0.22, 0.32)) -> Life:
        """A clip's small movements from the action's stream (always the same number of draws)."""
        rate = float(rng.uniform(*breath_rate))
        phase = float(rng.uniform(0.0, 2 * math.pi))
        freq = rng.uniform(*_BAND, size=(len(_MOVES), _WAVES))
        ph = rng.uniform(0.0, 2 * math.pi, size=(len(_MOVES), _WAVES))
        weight = rng.uniform(0.5, 1.0, size=(len(_MOVES), _WAVES))
        weight /= np.sqrt((weight**2).sum(axis=1, keepdims=True) / 2.0)  # unit amplitude (rms 1/sqrt 2)
        return cls(rate, phase, np.stack([freq, ph, weight], axis=-1))

    def breath(self, t: np.ndarray, rate: float | np.ndarray | None = None) -> np.ndarray:
        """The breathing cycle, -1 (exhaled) .. 1 (inhaled); inhaling is a little quicker than exhaling.
        ``rate`` (breaths/s, per frame) overrides the drawn one, e.g. panting after exertion."""
        r = self.breath_rate if rate is None else np.asarray(rate)
        phase = 2 * math.pi * np.cumsum(np.broadcast_to(r, t.shape)) * (t[1] - t[0] if len(t) > 1 else 0.0)
        x = phase + self.breath_phase
        return (np.sin(x) + 0.2 * np.sin(2 * x - 0.5)) / 1.1

    def move(self, name: str, t: np.ndarray) -> np.ndarray:
        """One small movement (degrees at level 1) at times ``t``."""
        i = [m[0] for m in _MOVES].index(name)
        f, ph, w = self.waves[i].T
        return _MOVES[i][3] * (w[None, :] * np.sin(2 * math.pi * f[None, :] * t[:, None] + ph)).sum(axis=1)

    def apply(
        self,
        pose: Pose,
        t: np.ndarray,
        level: float | np.ndarray = 1.0,
        breath: float | np.ndarray = 1.0,
        arms: float | np.ndarray = 1.0,
        head: float | np.ndarray = 1.0,
        sway: float | np.ndarray = 0.0,
        breath_rate: float | np.ndarray | None = None,
    ) -> Pose:
        """Add breathing and the small movements to ``pose`` (frames at ``t``, in place; returned).

        ``level`` scales everything, ``breath`` the breathing depth, ``arms``/``head`` those groups, ``sway``
        the postural sway over the ankles (standing only: the hips turn back so that the legs stay put).
        Each may be a per-frame array, so an action quiets what it is busy with.
        """
        b = self.breath(t, breath_rate) * np.asarray(breath) * np.asarray(level)
        # Inhaling straightens the upper back and lifts the shoulder girdle; the neck takes the pitch back.
        pose.add("spine2", x=-0.5 * b)
        pose.add("spine3", x=-0.9 * b)
        pose.add("neck", x=0.6 * b)
        pose.add("collar", z=1.0 * b)
        pose.add("shoulder", z=-0.8 * b)
        gains = {"head": head, "arms": arms, "trunk": 1.0, "sway": sway}
        for name, joint, axis, _, group in _MOVES:
            value = self.move(name, t) * np.asarray(level) * np.asarray(gains[group])
            if joint == "root":
                pose.main[:, 0, axis] += value
                for hip in ("left_hip", "right_hip"):  # raw: the same local turn keeps both legs vertical
                    pose.main[:, _J[hip], axis] -= value
            else:
                pose.main[:, _J[joint], axis] += value
        return pose


#: The twist follows the angular velocity's component along a (joint-frame) direction: oblique for ball
#: joints, so that a joint reversing about any one axis, or about two equally, still twists through the
#: reversal; mostly the flexion axis for the hinges (knee and ankle x, elbow y).
_ALONG = (1.0, 0.6, 0.3)
_KNEE = (1.0, 0.25, 0.15)
_ELBOW = (0.25, 1.0, 0.15)

#: Joints that turn about an axis of their own as they move: (joint, axis (parent-child bone, or the joint's
#: own y axis for the pelvis and head, the toes' forward axis), children that turn back by as much,
#: direction of the velocity it follows). Every axis but the pelvis' lies along the child bone (or ends
#: the chain), so the twist moves no joint; the pelvis' moves the hips by a fraction of a millimetre.
_TWISTS: tuple[
    tuple[str, str | tuple[float, float, float], tuple[str, ...], tuple[float, float, float]], ...
] = (
    ("pelvis", (0.0, 1.0, 0.0), ("left_hip", "right_hip", "spine1"), _ALONG),
    ("left_hip", "left_knee", ("left_knee",), _ALONG),
    ("right_hip", "right_knee", ("right_knee",), _ALONG),
    ("left_knee", "left_ankle", ("left_ankle",), _KNEE),
    ("right_knee", "right_ankle", ("right_ankle",), _KNEE),
    ("left_ankle", "left_foot", (), _KNEE),  # the ball of the foot ends the chain: it turns with the foot
    ("right_ankle", "right_foot", (), _KNEE),
    ("left_foot", (0.0, 0.0, 1.0), (), _KNEE),  # the toes roll a little as they bend
    ("right_foot", (0.0, 0.0, 1.0), (), _KNEE),
    ("left_shoulder", "left_elbow", ("left_elbow",), _ALONG),
    ("right_shoulder", "right_elbow", ("right_elbow",), _ALONG),
    ("left_elbow", "left_wrist", ("left_wrist",), _ELBOW),
    ("right_elbow", "right_wrist", ("right_wrist",), _ELBOW),
    ("neck", "head", ("head",), _ALONG),
    ("head", (0.0, 1.0, 0.0), (), _ALONG),
)


def axial_twist(q: np.ndarray, fps: float, seconds: float = 0.008) -> np.ndarray:
    """Turn each joint of :data:`_TWISTS` about its axis by ``seconds`` times its angular velocity along
    the joint's direction (radians), and its children back by as much (see the module docstring). Returns
    new rotations.

    ``seconds`` 0.008 gives up to about 7 degrees at the fastest (a running knee, a punching elbow) and,
    where a joint reverses with an angular acceleration ``c``, an axial speed of about ``0.008 c``: near 30
    degrees/s where the reversal is sharp enough to look like a stop at 30 fps (``c`` above 3600
    degrees/s^2), enough to carry it through what else the joint is doing about that axis.
    """
    q = make_continuous(q)
    offsets = template_offsets()
    n = len(q)
    if n < 3:
        return q
    for joint, child, children, along in _TWISTS:
        j = _J[joint]
        # Angular velocity in the parent's frame: central differences (one-sided at the ends), smoothed over
        # a frame so that a kink in one joint does not become a jolt in its child.
        step = quat_to_axis_angle(quat_mul(q[2:, j], quat_conj(q[:-2, j]))) * fps / 2
        omega = gaussian_filter1d(np.concatenate([step[:1], step, step[-1:]]), 1.0, axis=0, mode="nearest")
        twist = seconds * (omega @ np.asarray(along))
        axis = offsets[_J[child]] if isinstance(child, str) else np.asarray(child)
        axis = axis / np.linalg.norm(axis)
        q[:, j] = quat_mul(q[:, j], quat_about(axis, twist))
        back = quat_about(axis, -twist)
        for c in children:
            q[:, _J[c]] = quat_mul(back, q[:, _J[c]])
    return q
