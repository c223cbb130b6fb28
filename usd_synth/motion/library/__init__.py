"""The built-in procedural motion library: walk, run, jump, wave, squat, fall_down and more.

Each action is generated in three steps, so that every clip respects the ground without a physics engine:

1. *Local rotations* from joint-angle curves: periodic gait curves for the loopable gaits
   (:mod:`~usd_synth.motion.library.gait`), smooth key poses for the one-shot actions
   (:mod:`~usd_synth.motion.library.actions`), plus small overlays (breathing, sway); the angle
   conventions are in :mod:`~usd_synth.motion.library.pose`.
2. *Forward kinematics with the pelvis at the origin.*
3. *Root motion from the contacts* (:mod:`~usd_synth.motion.library.ground`): the lowest joint rests on the
   ground, planted contacts do not slide, flight phases follow a ballistic arc.

Parameters are drawn from the seed in a fixed order (:mod:`~usd_synth.motion.library.params`); the
catalogue of actions and :func:`make_motion` are in :mod:`~usd_synth.motion.library.catalogue`.
"""

from usd_synth.motion.library.catalogue import ACTIONS, action_parameters, list_actions, make_motion
from usd_synth.skeleton import FOOT_JOINTS, JOINT_CLEARANCE

__all__ = ["ACTIONS", "FOOT_JOINTS", "JOINT_CLEARANCE", "action_parameters", "list_actions", "make_motion"]
