"""The loopable gaits, walk and run: periodic joint-angle curves over the gait cycle (phase-based, after
Winter's biomechanics tables, scaled by the clip's parameters), pelvis, trunk and arm motion, and the root
from the feet's contacts with a flight phase for the run.

:func:`walk` and :func:`run` are public: they are the generators the catalogue
(:mod:`~usd_synth.motion.library.catalogue`) registers, ``(t, params, fps) -> (rotations, root)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from usd_synth.motion.contacts import leg_ik
from usd_synth.motion.library.ground import lock_feet, root_from_contacts
from usd_synth.motion.library.life import axial_twist
from usd_synth.motion.library.pose import Pose, rotations_from_pose, stabilise_head, stand
from usd_synth.motion.model import forward_kinematics
from usd_synth.skeleton import JOINT_CLEARANCE, JOINT_INDEX, template_offsets

_J = JOINT_INDEX


def _periodic(keys: Sequence[tuple[float, float]]) -> CubicSpline:
    """A periodic C2 curve through (phase, degrees) keys over one cycle; phase 1 repeats the first key."""
    ph = np.array([k[0] for k in keys] + [1.0])
    val = np.array([k[1] for k in keys] + [keys[0][1]])
    return CubicSpline(ph, val, bc_type="periodic")


# Sagittal angles over one gait cycle, phase 0 = heel strike of this leg (degrees): thigh flexion from the
# vertical, knee flexion, and the foot's pitch (toes up > 0) -- the ankle follows from the three, so the foot
# is flat on the ground through mid-stance by construction. After Winter's normal-walking data.
_WALK_HIP = _periodic([(0.0, 30), (0.12, 26), (0.3, 9), (0.5, -12), (0.6, -5), (0.72, 17), (0.87, 32)])
_WALK_KNEE = _periodic([(0.0, 4), (0.13, 17), (0.3, 8), (0.42, 6), (0.52, 14), (0.62, 40), (0.72, 62),
                        (0.84, 36), (0.95, 6)])  # fmt: skip
_WALK_FOOT = _periodic([(0.0, 18), (0.08, 0), (0.38, 0), (0.5, -12), (0.62, -38), (0.72, -22), (0.85, 4),
                        (0.94, 16)])  # fmt: skip
# Running: stance 0 .. 0.3 of the cycle (mid-foot strike; a duty factor of 0.3, as at 3-4 m/s), then flight
# (0.2 of the cycle), the other foot's stance, flight: both feet are off the ground for 40 % of the cycle.
_RUN_STANCE = 0.3
_SOFT = 0.003  # m; softness of the run's heel-or-ball floor contact
_RUN_HIP = _periodic(
    [(0.0, 30), (0.15, 9), (0.3, -16), (0.42, -9), (0.6, 24), (0.69, 38), (0.8, 45), (0.92, 39)]
)
_RUN_KNEE = _periodic([(0.0, 20), (0.12, 40), (0.28, 18), (0.4, 65), (0.6, 110), (0.78, 70), (0.92, 28)])
# In the swing the foot trails the shin, toes down (the ankle near neutral), and the toes straighten.
_RUN_FOOT = _periodic([(0.0, 0), (0.04, 0), (0.14, 0), (0.3, -40), (0.42, -70), (0.6, -80), (0.78, -14),
                       (0.9, 6)])  # fmt: skip
_RUN_TOES = _periodic([(0.0, 0), (0.16, 0), (0.27, -26), (0.36, -18), (0.5, -3), (0.8, 0)])


def _gait(
    t: np.ndarray,
    p: dict[str, Any],
    hip: CubicSpline,
    knee: CubicSpline,
    foot: CubicSpline,
    cycle: float,
    running: bool,
) -> Pose:
    """Per-frame angles of a walk or run: legs from the phase curves, pelvis rotation and list, trunk
    counter-rotation, contralateral arm swing (each arm swings with the opposite leg)."""
    phase = p["phase"] + t / cycle
    left, right = phase % 1.0, (phase + 0.5) % 1.0
    w = 2 * np.pi * phase
    pose = Pose((len(t),))
    pose.main[:] = stand().main
    sway = p["hip_sway"]
    tilt = (8.0 if running else 4.0) + 1.5 * np.sin(2 * w)  # anterior pelvic tilt, twice per cycle
    roll = sway * (2.5 if running else 4.0) * np.sin(w)  # the swing side drops
    yaw = -sway * (6.0 if running else 5.0) * np.cos(w)  # the pelvis turns with the forward leg
    pose.set(root=np.stack([tilt, yaw, roll], -1))
    for side, ph in (("left", left), ("right", right)):
        h_mean = float(hip(np.linspace(0, 1, 64, endpoint=False)).mean())
        thigh = h_mean + p["stride"] * (hip(ph) - h_mean)
        # Legs: hip angles are relative to the pelvis, so cancel the pelvis' own rotation (the same
        # local rotation for both legs: these are raw, not mirrored, values).
        pose.main[:, _J[f"{side}_hip"]] = np.stack([-thigh - tilt, -yaw, -roll], -1)
        flex = knee(ph) * p["knee_lift"]
        pose.main[:, _J[f"{side}_knee"], 0] = flex
        pose.main[:, _J[f"{side}_ankle"], 0] = thigh - flex - foot(ph)
        if running:
            pose.main[:, _J[f"{side}_foot"], 0] = _RUN_TOES(ph)
        else:
            # The toes stay down in push-off (a smooth clip: no kink where the foot passes level).
            pose.main[:, _J[f"{side}_foot"], 0] = -0.6 * 4.0 * np.logaddexp(0.0, -foot(ph) / 4.0)
    # Trunk: lean forward, cancel the pelvic tilt and list, counter-rotate the thorax.
    for j, share in (("spine1", 0.3), ("spine2", 0.35), ("spine3", 0.35)):
        pose.main[:, _J[j]] = np.stack(
            [share * (p["lean"] - tilt), -share * 1.6 * yaw, -share * 0.8 * roll], -1
        )
    # Arms: the left arm swings forward as the right leg does (left hip extends).
    swing = p["arm_swing"] * (26.0 if running else 16.0) * np.cos(w - 0.3)
    flex = p.get("elbow", 80.0 if running else 14.0)
    bend = (8.0 if running else 10.0) * p["arm_swing"]  # the elbow bends more as its arm swings forward
    elbow = flex + bend * np.maximum(-np.cos(w - 0.3), 0)
    elbow_r = flex + bend * np.maximum(np.cos(w - 0.3), 0)
    pose.main[:, _J["left_shoulder"], 0] = swing + (0.0 if running else 3.0)
    pose.main[:, _J["right_shoulder"], 0] = -swing + (0.0 if running else 3.0)
    pose.main[:, _J["left_elbow"], 1] = -elbow
    pose.main[:, _J["right_elbow"], 1] = elbow_r
    if running:
        pose.main[:, _J["left_shoulder"], 2] = -70.0
        pose.main[:, _J["right_shoulder"], 2] = 70.0
    return pose


def _gait_motion(
    t: np.ndarray,
    p: dict[str, Any],
    fps: float,
    running: bool,
    hold: Callable[[Pose, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rotations and root of a gait, computed with a second of margin on both sides (so flight arcs and
    support blends at the clip's edges are whole) and then cropped; ``hold(pose, cycle_angle)`` poses the
    arms (and trunk) of a walk that carries or pushes something."""
    pad = int(round(fps))
    tt = np.arange(-pad, len(t) + pad) / fps
    cycle = 120.0 / p["cadence"]  # two steps per cycle
    if running:
        pose = _gait(tt, p, _RUN_HIP, _RUN_KNEE, _RUN_FOOT, cycle, True)
    else:
        pose = _gait(tt, p, _WALK_HIP, _WALK_KNEE, _WALK_FOOT, cycle, False)
    if hold is not None:
        hold(pose, 2 * np.pi * (p["phase"] + tt / cycle))
    rot = stabilise_head(rotations_from_pose(pose, p["heading"]), p["heading"], 0.8)
    offsets = template_offsets()
    if running:
        root, rot = _run_root_and_feet(tt, p, rot, offsets, cycle)
    else:
        root = root_from_contacts(rot, offsets, fps)
        rot = lock_feet(rot, root, offsets, fps)
    rot = axial_twist(rot, fps)
    root = root[pad : pad + len(t)]
    root[:, :2] -= root[0, :2]
    return rot[pad : pad + len(t)], root


def _hermite(t: np.ndarray, t0: float, t1: float, y0: np.ndarray, v0: np.ndarray, y1: np.ndarray,
             v1: np.ndarray) -> np.ndarray:  # fmt: skip
    """Cubic Hermite from (y0, v0) at t0 to (y1, v1) at t1, at times t (clipped to the span)."""
    span = t1 - t0
    s = np.clip((t - t0) / span, 0.0, 1.0)[:, None]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * y0 + h10 * span * v0 + h01 * y1 + h11 * span * v1


def _run_root_and_feet(
    tt: np.ndarray, p: dict[str, Any], rot: np.ndarray, offsets: np.ndarray, cycle: float
) -> tuple[np.ndarray, np.ndarray]:
    """The run's pelvis path and planted feet, built as a runner moves rather than from the contacts.

    The pelvis moves forward at a constant speed (the stance leg's sweep over the stance time); vertically
    it dips like a spring through each stance (lowest at mid-stance) and follows a ballistic arc through
    each flight, the two joined with the same vertical speed (``g * flight / 2``) at touch-down and
    toe-off. The stance foot's ball is planted where the joint-angle curves put it at touch-down, and a
    two-bone IK on hip and knee keeps it there, the foot keeping its pitch (heel rising to toe-off); the
    correction eases in before touch-down and out after toe-off, so the swing keeps the curves' shape.
    """
    n = len(tt)
    _, rel = forward_kinematics(rot, np.zeros((n, 3)), offsets)
    stance, flight = _RUN_STANCE * cycle, (0.5 - _RUN_STANCE) * cycle
    yaw = math.radians(p["heading"])
    forward = np.array([math.sin(yaw), -math.cos(yaw), 0.0])  # -Y turned counter-clockwise by the heading
    phase = p["phase"] + tt / cycle
    # Touch-downs: the left foot at integer phases, the right at half-integer ones.
    strikes = {
        side: [
            (k + off - p["phase"]) * cycle for k in range(math.floor(phase[0]) - 1, math.ceil(phase[-1]) + 1)
        ]
        for side, off in (("left", 0.0), ("right", 0.5))
    }
    ball, ankle = {}, {}
    for side in ("left", "right"):
        ball[side], ankle[side] = _J[f"{side}_foot"], _J[f"{side}_ankle"]

    def at(t0: float, joint: int) -> np.ndarray:
        return np.array([np.interp(t0, tt, rel[:, joint, k]) for k in range(3)])

    # Speed: the stance ball's sweep backwards relative to the pelvis, over the stance time.
    t0 = strikes["left"][2]
    sweep = float((at(t0, ball["left"]) - at(t0 + stance, ball["left"])) @ forward)
    speed = max(sweep, 0.0) / stance
    # Height: the support height at touch-down (ball on the ground) and a spring dip through stance.
    z0 = float(np.mean([0.02 - at(strikes[s][2], ball[s])[2] for s in ("left", "right")]))
    vz = 9.81 * flight / 2
    dip = vz * stance / math.pi
    u = (2 * phase) % 1.0  # step phase: stance below 2 * _RUN_STANCE, then flight
    in_stance = u < 2 * _RUN_STANCE
    z_stance = z0 - dip * np.sin(np.pi * u / (2 * _RUN_STANCE))
    tau = (u - 2 * _RUN_STANCE) * cycle / 2
    z_flight = z0 + vz * tau - 0.5 * 9.81 * tau**2
    root = np.outer(tt * speed, forward)
    root[:, 2] = np.where(in_stance, z_stance, z_flight)
    pos = rel + root[:, None, :]
    swing = cycle - stance
    for side in ("left", "right"):
        b, a = ball[side], ankle[side]
        off = np.zeros((n, 3))
        for td in strikes[side]:
            to = td + stance
            inside = (tt >= td) & (tt <= to)
            planted = np.array([np.interp(td, tt, pos[:, b, k]) for k in range(2)])

            def f(x: np.ndarray | float, b: int = b, a: int = a, planted: np.ndarray = planted) -> np.ndarray:
                """The ankle's correction: the ball back where it was planted, the lower of heel and ball
                on the floor."""
                x = np.atleast_1d(x)
                ball_xy = np.stack([np.interp(x, tt, pos[:, b, k]) for k in range(2)], -1)
                # A smooth maximum (never below the max): the floor passes from heel to ball without a kink.
                rise = _SOFT * np.logaddexp(
                    (JOINT_CLEARANCE[b] - np.interp(x, tt, pos[:, b, 2])) / _SOFT,
                    (JOINT_CLEARANCE[a] - np.interp(x, tt, pos[:, a, 2])) / _SOFT,
                )
                return np.column_stack([planted - ball_xy, rise])

            # In stance: move the ankle by what keeps the foot planted.
            off[inside] = f(tt[inside])
            # Around it: ease the correction in before touch-down and out after toe-off (C1).
            dt = 1e-3
            o_td, o_to = f(td)[0], f(to)[0]
            v_td, v_to = (f(td + dt)[0] - o_td) / dt, (o_to - f(to - dt)[0]) / dt
            before = (tt > td - 0.3 * swing) & (tt < td)
            after = (tt > to) & (tt < to + 0.45 * swing)
            zero = np.zeros(3)
            off[before] += _hermite(tt[before], td - 0.3 * swing, td, zero, zero, o_td, v_td)
            off[after] += _hermite(tt[after], to, to + 0.45 * swing, o_to, v_to, zero, zero)
        rot = leg_ik(rot, pos, offsets, side, pos[:, a] + off)
    return root, rot


def walk(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The walk generator: local rotations (T, 24, 4) and root positions (T, 3) at times ``t``."""
    return _gait_motion(t, p, fps, running=False)


def run(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """The run generator (with flight phases): local rotations (T, 24, 4) and root positions (T, 3)."""
    return _gait_motion(t, p, fps, running=True)


def carry(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Walk carrying a load: a box held in front with both hands (the trunk leaning back against it, the
    arms still) or a bag in one hand (the arm straight, the trunk leaning away, the free arm swinging)."""
    style, load = p["style"], p["load"]
    q = dict(p, lean=-2.0 - 5.0 * load if style == "box" else 1.0, arm_swing=0.0 if style == "box" else 0.9)

    def hold(pose: Pose, w: np.ndarray) -> None:
        bob = np.cos(2 * w)  # the load bobs twice per cycle, with the steps
        if style == "box":
            for side, sign in (("left", 1.0), ("right", -1.0)):
                j = _J[f"{side}_shoulder"]
                pose.main[:, j] = np.stack(
                    [np.full_like(w, -14.0 - 6.0 * load) + 1.5 * bob, 0 * w, sign * np.full_like(w, -80.0)],
                    -1,
                )
                pose.main[:, _J[f"{side}_elbow"]] = np.stack([0 * w, -sign * (80.0 + 4.0 * bob), 0 * w], -1)
                pose.main[:, _J[f"{side}_wrist"]] = np.stack(
                    [0 * w, 0 * w, sign * np.full_like(w, -20.0)], -1
                )
            return
        side = "left" if style == "bag_left" else "right"
        sign = 1.0 if side == "left" else -1.0
        j = _J[f"{side}_shoulder"]
        pose.main[:, j] = np.stack([2.0 * np.cos(w) * sign, 0 * w, sign * (-82.0 + 0.0 * w)], -1)
        pose.main[:, _J[f"{side}_elbow"]] = np.stack([0 * w, -sign * (6.0 + 0 * w), 0 * w], -1)
        lean = (4.0 + 6.0 * load) * sign  # bend away from the bag (to the other side)
        for name in ("spine1", "spine2", "spine3"):
            pose.main[:, _J[name], 2] += lean / 3
        free = _J[f"{'right' if side == 'left' else 'left'}_shoulder"]
        pose.main[:, free, 2] += sign * 8.0  # the free arm out a little for balance

    return _gait_motion(t, q, fps, running=False, hold=hold)


def push(t: np.ndarray, p: dict[str, Any], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Push a trolley or cart: leaning into it, both hands on the handle at waist to chest height, short
    steps; the arms stay on the handle while the trunk and legs work."""
    q = dict(p, lean=p["force"], arm_swing=0.0)

    def hold(pose: Pose, w: np.ndarray) -> None:
        reach = 55.0 + 25.0 * p["handle"]  # shoulder flexion: higher handle, higher hands
        for side, sign in (("left", 1.0), ("right", -1.0)):
            j = _J[f"{side}_shoulder"]
            # Relative to the leaning trunk the arms reach forward and down to the handle.
            pose.main[:, j] = np.stack(
                [
                    np.full_like(w, -reach) + 0.5 * p["force"] + 1.0 * np.cos(2 * w),
                    0 * w,
                    sign * np.full_like(w, -80.0),
                ],
                -1,
            )
            pose.main[:, _J[f"{side}_elbow"]] = np.stack(
                [0 * w, -sign * (30.0 + 2.0 * np.cos(2 * w)), 0 * w], -1
            )
            pose.main[:, _J[f"{side}_wrist"]] = np.stack([0 * w, 0 * w, sign * np.full_like(w, 15.0)], -1)

    return _gait_motion(t, q, fps, running=False, hold=hold)
