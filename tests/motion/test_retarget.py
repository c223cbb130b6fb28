import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.retarget import retarget_positions
from usd_synth.rotations import quat_angle
from usd_synth.skeleton import JOINT_INDEX

from ..conftest import smooth_random_motion


def test_exact_for_rigid_input(random_motion):
    """Positions made by FK come back exactly: same positions, same bone lengths."""
    pos = random_motion.joint_positions()
    result = retarget_positions(pos, random_motion.fps)
    assert result.mpjpe < 1e-9
    np.testing.assert_allclose(result.motion.bone_lengths(), random_motion.bone_lengths(), atol=1e-9)
    np.testing.assert_allclose(result.motion.joint_positions(), pos, atol=1e-8)


def test_bone_directions_are_exact_and_twist_is_plausible(random_motion):
    """Non-twist parts of the rotations match the source; knee rotations stay near a hinge about x."""
    result = retarget_positions(random_motion.joint_positions(), random_motion.fps)
    knee = result.motion.rotations[:, JOINT_INDEX["left_knee"]]
    # A hinge about x has no y/z component in its quaternion.
    assert np.abs(knee[:, 1:3]).max() < 0.5


def test_noise_gives_residual_of_the_noise_size():
    m = smooth_random_motion(num_frames=120, seed=3)
    rng = np.random.default_rng(0)
    pos = m.joint_positions() + rng.normal(0, 0.003, (120, 24, 3))
    result = retarget_positions(pos, m.fps)
    assert 0.001 < result.mpjpe < 0.008
    assert result.motion.source["residual_mpjpe_m"] == pytest.approx(result.mpjpe, abs=1e-6)


def test_missing_joints_get_template_offsets_and_identity_rotations(random_motion):
    observed = np.ones(24, bool)
    observed[[22, 23]] = False  # hands
    result = retarget_positions(random_motion.joint_positions(), 30, observed=observed)
    wrist = JOINT_INDEX["left_wrist"]
    assert np.all(quat_angle(result.motion.rotations[:, wrist], np.array([0, 0, 0, 1.0])) < 1e-9)
    assert np.isnan(result.per_joint[22]) and result.mpjpe < 1e-9


def test_no_sign_flips_or_twist_pops():
    """Consecutive local rotations of a smooth input change smoothly (no 180-degree twist jumps)."""
    m = smooth_random_motion(num_frames=300, seed=2, amplitude=0.8)
    rot = retarget_positions(m.joint_positions(), m.fps).motion.rotations
    assert np.all(np.sum(rot[1:] * rot[:-1], axis=-1) > 0)  # one hemisphere
    step = quat_angle(rot[1:], rot[:-1])
    source_step = quat_angle(m.rotations[1:], m.rotations[:-1]).max()
    assert step.max() < max(2 * source_step, np.radians(35))


def test_rejects_bad_positions(random_motion):
    pos = random_motion.joint_positions()
    pos[3, 5] = np.nan
    with pytest.raises(UsdSynthError, match="NaN"):
        retarget_positions(pos, 30)
    with pytest.raises(UsdSynthError, match=r"\(T, 24, 3\)"):
        retarget_positions(pos[:, :22], 30)


def test_collars_at_the_neck_base_do_not_flip_the_chest():
    """Some mocap rigs put both collars on the neck: the chest's left-right axis then comes from the
    shoulders, so the chest neither spins nor pops."""
    m = smooth_random_motion(num_frames=120, seed=4, amplitude=0.3)
    pos = m.joint_positions()
    pos[:, [JOINT_INDEX["left_collar"], JOINT_INDEX["right_collar"]]] = pos[:, [JOINT_INDEX["neck"]] * 2]
    result = retarget_positions(pos, m.fps)
    rot = result.motion.rotations
    chest = JOINT_INDEX["spine3"]
    assert quat_angle(rot[1:, chest], rot[:-1, chest]).max() < np.radians(10)
    assert result.mpjpe < 0.01
