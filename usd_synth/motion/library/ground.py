"""Keeping the body on the ground: support height, contacts, root motion from the contacts, flight arcs,
foot locking, and key-pose blends driven by the support height.

The pelvis height puts the lowest joint, less its clearance (:data:`JOINT_CLEARANCE`: sole 8 cm under the
ankle, 2 cm under the ball of the foot, the body's thickness elsewhere), on z = 0 (a soft minimum, so the
height stays smooth where the support changes); the horizontal motion is minus the contact-weighted mean
horizontal velocity of the joints touching the ground, so planted feet (or knees, hands, the back in a fall)
do not slide; flight phases (run, jump) follow a ballistic arc joined C1 to the ground-driven height.

Public (shared by the gaits and the one-shot actions, which all stand on these rules):
:func:`root_from_contacts`, :func:`lock_feet`, and for key-pose actions with a push-off or a landing,
:func:`support_height` and :func:`drive_height`; :data:`GRAVITY` for their flight arcs. The soft minimum
and the flight arc stay private; the leg IK and the foot pinning live in :mod:`usd_synth.motion.contacts`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from usd_synth.motion.contacts import PIN_RELAX, SIDES, pin_feet
from usd_synth.motion.library.pose import Pose, rotations_from_pose
from usd_synth.motion.model import forward_kinematics
from usd_synth.skeleton import JOINT_CLEARANCE, JOINT_INDEX, template_offsets

GRAVITY = 9.81
_J = JOINT_INDEX


_SOFTMIN_TAU = 0.002  # m; smooths the support height where the lowest joint changes (adds < 3 mm)
_CONTACT_SIGMA = 0.006  # m; a joint this high above its clearance counts ~37 % as planted
_FLIGHT_EPS = 1e-4  # weight of the free (flight) velocity against the contact-weighted one
#: Pelvis, legs and spine: the joints that carry the body (for height-driven blends).
_BODY_JOINTS = tuple(
    _J[n]
    for n in (
        "pelvis",
        "left_hip",
        "right_hip",
        "spine1",
        "left_knee",
        "right_knee",
        "spine2",
        "left_ankle",
        "right_ankle",
        "spine3",
        "left_foot",
        "right_foot",
    )
)


def _softmin(h: np.ndarray, tau: float) -> np.ndarray:
    """Smooth minimum over the last axis (<= the minimum, by at most tau * log(n))."""
    m = h.min(axis=-1)
    return m - tau * np.log(np.exp(-(h - m[..., None]) / tau).sum(axis=-1))


def _flight_height(z: np.ndarray, t: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
    """Replace the ground-driven pelvis height inside each flight window by a ballistic arc (gravity)
    that meets it at both ends with the same height and vertical speed (a cubic correction keeps C1)."""
    z = z.copy()
    dt = t[1] - t[0]
    for t0, t1 in windows:
        span = t1 - t0
        inside = (t > t0) & (t < t1)
        if span <= dt or not inside.any():
            continue
        z0, z1 = np.interp(t0, t, z), np.interp(t1, t, z)
        # One-sided speeds: on the ground just before take-off and just after touch-down.
        v0 = (z0 - np.interp(t0 - dt, t, z)) / dt
        v1 = (np.interp(t1 + dt, t, z) - z1) / dt
        s = (t[inside] - t0) / span
        arc = z0 + (z1 - z0) * s + 0.5 * GRAVITY * span**2 * s * (1 - s)
        a0 = (z1 - z0) / span + 0.5 * GRAVITY * span  # the arc's own speeds at take-off and landing
        a1 = (z1 - z0) / span - 0.5 * GRAVITY * span
        h10, h11 = s**3 - 2 * s**2 + s, s**3 - s**2
        z[inside] = arc + span * ((v0 - a0) * h10 + (v1 - a1) * h11)
    return z


def root_from_contacts(
    rot: np.ndarray,
    offsets: np.ndarray,
    fps: float,
    flights: Sequence[tuple[float, float]] = (),
    free_velocity: np.ndarray | None = None,
    grip: np.ndarray | None = None,
) -> np.ndarray:
    """Pelvis world positions (T, 3) that keep the body on the ground and its contacts planted.

    Height: the lowest joint (less its clearance) touches z = 0, except in ``flights`` (time windows).
    Horizontal: the pelvis moves by minus the contact-weighted horizontal velocity of the joints near the
    ground, so whatever supports the body does not slide; with nothing near the ground it moves at
    ``free_velocity`` (m/s, xy; default: the mean contact-driven velocity, i.e. keep going). ``grip``
    (T, 24), if given, is each joint's hold on the ground, 0..1: a contact with grip g holds the body
    with weight g and lets it keep its free velocity with weight 1 - g, so a foot with grip 0.5 slips
    half the distance its leg sweeps while the pelvis covers the other half.
    """
    n = rot.shape[0]
    t = np.arange(n) / fps
    _, pos = forward_kinematics(rot, np.zeros((n, 3)), offsets)
    rel = pos[..., 2] - JOINT_CLEARANCE
    z = -_softmin(rel, _SOFTMIN_TAU)
    if flights:
        z = _flight_height(z, t, flights)
    height = np.maximum(rel + z[:, None], 0.0)
    w = np.exp(-((height / _CONTACT_SIGMA) ** 2))
    g = np.ones_like(w) if grip is None else grip
    vel = np.gradient(pos[..., :2], 1.0 / fps, axis=0)
    planted = -((w * g)[..., None] * vel).sum(axis=1)
    total = w.sum(axis=1)
    if free_velocity is None:
        free_velocity = planted.sum(axis=0) / max((w * g).sum(), 1e-9)
    loose = _FLIGHT_EPS + (w * (1.0 - g)).sum(axis=1)  # weight of the free velocity: flight, slipping
    v = (planted + loose[:, None] * np.asarray(free_velocity)) / (total + _FLIGHT_EPS)[:, None]
    xy = np.concatenate([np.zeros((1, 2)), np.cumsum(0.5 * (v[1:] + v[:-1]) / fps, axis=0)])
    return np.column_stack([xy, z])


def lock_feet(
    q: np.ndarray, root: np.ndarray, offsets: np.ndarray, fps: float, tau: float = PIN_RELAX
) -> np.ndarray:
    """Pin the feet where they touch the ground (foot-skate clean-up, as done on motion capture).

    The contact-driven root already keeps the *mean* contact still; in double support the two feet can
    still drift apart a little, since joint-angle curves do not preserve their distance. Each joint of a
    foot counts as planted by its height above its clearance (a Gaussian of :data:`_CONTACT_SIGMA`), and
    :func:`usd_synth.motion.contacts.pin_feet` holds the planted feet still (an offset that accumulates
    the slide in contact and relaxes with ``tau`` in the air; a two-bone IK moves the ankle by it).
    Returns corrected local rotations.
    """
    _, pos = forward_kinematics(q, root, offsets)
    height = np.maximum(pos[..., 2] - JOINT_CLEARANCE, 0.0)
    w = np.exp(-((height / _CONTACT_SIGMA) ** 2))
    planted = np.stack([w[:, [_J[f"{side}_ankle"], _J[f"{side}_foot"]]] for side in SIDES], axis=1)
    return pin_feet(q, root, offsets, fps, planted, tau=tau)[0]


def support_height(pose: Pose, heading: float) -> np.ndarray:
    """Pelvis height (T,) that puts the pose's lowest joint on the ground (as in root_from_contacts)."""
    rot = rotations_from_pose(pose, heading)
    _, pos = forward_kinematics(rot, np.zeros(rot.shape[:1] + (3,)), template_offsets())
    return -_softmin(pos[..., 2] - JOINT_CLEARANCE, _SOFTMIN_TAU)


def drive_height(
    pose: Pose,
    t: np.ndarray,
    span: tuple[float, float],
    a: Pose,
    b: Pose,
    v_a: float,
    v_b: float,
    heading: float,
) -> None:
    """Blend from key pose ``a`` to ``b`` over ``span`` so that the supported pelvis height follows a cubic
    with vertical speeds ``v_a`` and ``v_b`` at the ends (in place).

    Key-pose interpolation slows down at every key, so a push-off would leave the ground with almost no
    speed; driving the blend by the height lets the legs extend exactly as fast as the take-off (or the
    landing) needs, with the feet staying on the ground.
    """
    alpha = np.linspace(0.0, 1.0, 65)
    table = Pose((len(alpha),))
    table.main = a.main + alpha[:, None, None] * (b.main - a.main)
    table.pre = a.pre + alpha[:, None, None] * (b.pre - a.pre)
    heights = support_height(table, heading)
    inside = (t >= span[0]) & (t <= span[1])
    duration = span[1] - span[0]
    s = (t[inside] - span[0]) / duration
    z = (
        (2 * s**3 - 3 * s**2 + 1) * heights[0]
        + (-2 * s**3 + 3 * s**2) * heights[-1]
        + duration * ((s**3 - 2 * s**2 + s) * v_a + (s**3 - s**2) * v_b)
    )
    order = np.argsort(heights)
    blend = np.interp(z, heights[order], alpha[order])[:, None, None]
    body = list(_BODY_JOINTS)  # the arms and head keep their own (smooth) key interpolation
    main, pre = pose.main[inside], pose.pre[inside]
    main[:, body] = (a.main + blend * (b.main - a.main))[:, body]
    pre[:, body] = (a.pre + blend * (b.pre - a.pre))[:, body]
    pose.main[inside], pose.pre[inside] = main, pre


def drive_velocity(a: Pose, b: Pose, speed: float, heading: float, at: float, share: float = 1.0) -> Pose:
    """``share`` of the angular velocity (degrees/s; NaN for the joints :func:`drive_height` leaves alone)
    of a height-driven blend from ``a`` to ``b`` where it passes blend weight ``at`` (0 or 1) with
    vertical speed ``speed``: a key velocity that joins the neighbouring key segments to a driven span
    without a stop (all of it joins them smoothly, but a leg that straightens at take-off turns so fast
    there that a key segment carrying all of it overshoots)."""
    eps = 1e-3
    lo, hi = (at - eps, at) if at >= 1.0 else (at, at + eps)
    table = Pose((2,))
    for k, alpha in enumerate((lo, hi)):
        table.main[k] = a.main + alpha * (b.main - a.main)
        table.pre[k] = a.pre + alpha * (b.pre - a.pre)
    heights = support_height(table, heading)
    rate = share * speed * (hi - lo) / float(heights[1] - heights[0])  # d(alpha)/dt
    out = Pose()
    out.main[:] = np.nan
    out.pre[:] = np.nan
    body = list(_BODY_JOINTS)
    out.main[body] = rate * (b.main - a.main)[body]
    out.pre[body] = rate * (b.pre - a.pre)[body]
    return out
