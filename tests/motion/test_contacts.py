"""Foot pinning and leg IK (usd_synth.motion.contacts): the holds are exact, eased without kinks, and the
relative IK leaves alone what needs no correction."""

from __future__ import annotations

import numpy as np

from usd_synth.kinematics import REST_ROOT_QUAT
from usd_synth.motion.contacts import hold_offsets, leg_ik, pin_feet
from usd_synth.motion.model import forward_kinematics
from usd_synth.rotations import quat_about, quat_angle
from usd_synth.skeleton import JOINT_INDEX, template_offsets


def test_hold_offsets_take_up_every_step_and_ease_without_kinks() -> None:
    """While down the offset cancels every step exactly; it is zero on each touch-down frame; in the air
    it leaves and arrives with the held offset's own speed (no kink); with no touch-down to come it is
    back to zero within the ease time."""
    fps = 30.0
    down = np.zeros(60, dtype=bool)
    down[5:20] = down[35:50] = True
    step = np.zeros((60, 2))
    step[:, 0] = 0.004  # the planted joint creeps 4 mm a frame too far
    offset = hold_offsets(step, down, fps)
    for a, b in ((5, 20), (35, 50)):
        assert offset[a, 0] == 0.0
        np.testing.assert_allclose(np.diff(offset[a:b, 0]), -0.004)  # held: the creep is cancelled
    speed = np.diff(offset[:, 0])
    # C1 at lift-off and landing: the first and last step in the air are close to the held steps (an ease
    # that starts and ends at rest, a smoothstep, would be 4 mm a frame off there)
    assert abs(speed[19] - (-0.004)) < 2e-3 and abs(speed[34] - (-0.004)) < 2e-3
    air = offset[20:35, 0]  # between the holds: from the lift-off value to zero, overshooting by little
    assert np.abs(air).max() <= abs(offset[19, 0]) + 0.15 * 16 * (0.004 + 0.004)
    late = hold_offsets(step, np.r_[np.zeros(5, bool), np.ones(15, bool), np.zeros(40, bool)], fps, 0.3)
    assert late[19, 0] < 0 and np.all(late[28:] == 0.0) and late[27, 0] != 0.0


def _standing(frames: int, knee_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = np.zeros((frames, 24, 4))
    q[..., 3] = 1.0
    q[:, 0] = REST_ROOT_QUAT  # upright, z up
    for side in ("left", "right"):
        q[:, JOINT_INDEX[f"{side}_knee"]] = quat_about((1.0, 0.0, 0.0), np.radians(knee_deg))
    root = np.zeros((frames, 3))
    root[:, 2] = 0.9
    return q, root, template_offsets()


def test_relative_ik_changes_nothing_without_a_correction_even_on_a_straight_knee() -> None:
    """Absolute IK moves a straight knee (its soft reach limit); relative IK with the ankle's own position as
    target returns the rotations unchanged, and a target out of reach never straightens a knee past
    straight."""
    q, root, offsets = _standing(3, 0.0)
    _, pos = forward_kinematics(q, root, offsets)
    ankle = pos[:, JOINT_INDEX["left_ankle"]]
    same = leg_ik(q, pos, offsets, "left", ankle, relative=True)
    np.testing.assert_allclose(same, q, atol=1e-12)
    knee = JOINT_INDEX["left_knee"]
    bent = leg_ik(q, pos, offsets, "left", ankle)
    assert np.degrees(quat_angle(bent[:, knee], q[:, knee])).max() > 0.1
    far = leg_ik(q, pos, offsets, "left", ankle + [0.0, 0.0, -0.2], relative=True)  # 20 cm out of reach
    assert np.all(2 * np.arctan2(far[:, knee, 0], far[:, knee, 3]) >= -1e-9)


def test_pin_feet_holds_a_sliding_foot() -> None:
    """A crouch whose root glides 0.5 cm a frame with both feet planted: hold pins both feet (the ankles
    stay within a millimetre of where they stood) and moves nothing but the legs."""
    q, root, offsets = _standing(20, 40.0)
    root[:, 0] = 0.005 * np.arange(20)
    planted = np.ones((20, 2, 2))
    pinned, shift = pin_feet(q, root, offsets, 30.0, planted, hold=True)
    _, pos = forward_kinematics(pinned, root, offsets)
    for side in ("left", "right"):
        ankle = pos[:, JOINT_INDEX[f"{side}_ankle"], :2]
        assert np.abs(ankle - ankle[0]).max() < 1e-3
    legs = [JOINT_INDEX[f"{s}_{j}"] for s in ("left", "right") for j in ("hip", "knee", "ankle")]
    others = np.setdiff1d(np.arange(24), legs)
    np.testing.assert_array_equal(pinned[:, others], q[:, others])
    assert abs(shift[-1, 0, 0] + 0.095) < 1e-9


def test_relative_ik_reads_the_knee_in_either_quaternion_sign() -> None:
    """q and -q are the same rotation: the relative IK (and its straight-knee clamp) gives the same legs
    for a knee stored with w < 0."""
    q, root, offsets = _standing(4, 5.0)
    _, pos = forward_kinematics(q, root, offsets)
    target = pos[:, JOINT_INDEX["left_ankle"]] + [0.0, 0.0, -0.03]  # asks the knee to straighten
    flipped = q.copy()
    flipped[:, JOINT_INDEX["left_knee"]] *= -1.0
    a = leg_ik(q, pos, offsets, "left", target, relative=True)
    b = leg_ik(flipped, pos, offsets, "left", target, relative=True)
    assert np.degrees(quat_angle(a, b)).max() < 1e-6
