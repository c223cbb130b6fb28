"""The built-in procedural motion library: 20 actions for care, school, factory and street scenes.

Gaits (loopable): walk, run (with a real flight phase), carry, push. Standing actions: idle, jump, wave,
squat, reach_up, bend_pick_up, punch, kick. Balance and the floor: stumble, fall_forward, fall_backward,
fall_sideways, fall_down (any of the three), lie_down. A seat: sit_down, stand_up.

Each action is generated in three steps, so that every clip respects the ground without a physics engine:

1. *Local rotations* from joint-angle curves: periodic gait curves for the gaits
   (:mod:`~usd_synth.motion.library.gait`), key poses for the one-shot actions
   (:mod:`~usd_synth.motion.library.actions`, :mod:`~usd_synth.motion.library.falls`,
   :mod:`~usd_synth.motion.library.seated`, built with :mod:`~usd_synth.motion.library.oneshot`),
   interpolated so that movements ease in and out and never stop dead; the angle conventions are in
   :mod:`~usd_synth.motion.library.pose`. The one-shot actions are alive throughout
   (:mod:`~usd_synth.motion.library.life`: breathing, sway, glances, fidgets).
2. *Forward kinematics with the pelvis at the origin.*
3. *Root motion from the contacts* (:mod:`~usd_synth.motion.library.ground`): the lowest body point rests
   on the floor, planted contacts do not slide, flight phases follow a ballistic arc (the run builds its
   pelvis path as a runner moves and plants its feet by IK).

Parameters are drawn from the seed in a fixed order (:mod:`~usd_synth.motion.library.params`); the
catalogue of actions, :func:`make_motion` and :func:`describe` are in
:mod:`~usd_synth.motion.library.catalogue`; the naturalness figures the library is held to are in
:mod:`~usd_synth.motion.library.metrics`. See ``docs/library.md``.
"""

from usd_synth.motion.library.catalogue import ACTIONS, action_parameters, describe, list_actions, make_motion
from usd_synth.skeleton import FOOT_JOINTS, JOINT_CLEARANCE

__all__ = [
    "ACTIONS",
    "FOOT_JOINTS",
    "JOINT_CLEARANCE",
    "action_parameters",
    "describe",
    "list_actions",
    "make_motion",
]
