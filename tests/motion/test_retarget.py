import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
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


# ---------------------------------------------------------------------------------------------------------
# twist continuity (issue 10, "twist pops")
# ---------------------------------------------------------------------------------------------------------

_LIMBS = {"left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle",
          "right_knee": "right_ankle", "left_shoulder": "left_elbow", "right_shoulder": "right_elbow",
          "left_elbow": "left_wrist", "right_elbow": "right_wrist"}  # fmt: skip


def twist_speeds(motion) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per limb, (T-1,) twist speed about the limb's axis and the limb's turning speed (deg/s), both of the
    joint's rotation relative to its parent (the part the retargeting chooses)."""
    from usd_synth.rotations import matrix_to_quat, quat_to_matrix

    out = {}
    for name, child in _LIMBS.items():
        j, c = JOINT_INDEX[name], JOINT_INDEX[child]
        axis = motion.offsets[c] / np.linalg.norm(motion.offsets[c])
        r = quat_to_matrix(motion.rotations[:, j])
        q = matrix_to_quat(np.swapaxes(r[:-1], -1, -2) @ r[1:])
        twist = np.degrees(2 * np.arctan2(np.abs(q[:, :3] @ axis), np.abs(q[:, 3]))) * motion.fps
        d = r @ axis
        turn = np.degrees(np.arccos(np.clip(np.sum(d[1:] * d[:-1], -1), -1.0, 1.0))) * motion.fps
        out[name] = (twist, turn)
    return out


def twist_violations(motion) -> dict[str, int]:
    """Frames where a limb twists faster than 360 deg/s while it turns slower than 180 deg/s."""
    return {k: int(np.sum((tw > 360) & (turn < 180))) for k, (tw, turn) in twist_speeds(motion).items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_twist_is_continuous_on_noisy_joints(seed):
    """Noisy joints (5 mm) of limbs that pass near straight: the twist never spins while the limb is slow
    (before: 12 to 23 such frames per clip, up to 700 deg/s); the residual stays the noise's."""
    m = smooth_random_motion(num_frames=150, seed=seed, amplitude=0.5)
    pos = m.joint_positions() + np.random.default_rng(seed).normal(0.0, 0.005, (150, 24, 3))
    result = retarget_positions(pos, m.fps)
    assert twist_violations(result.motion) == {k: 0 for k in _LIMBS}
    assert 0.004 < result.mpjpe < 0.008


def test_twist_is_continuous_on_imported_humanml3d(tmp_path):
    """The same through the HumanML3D reader (22 joints, 20 fps, no hands)."""
    from usd_synth.motion.readers import read_motion

    from ..inputs import humanml3d_joints

    m = smooth_random_motion(num_frames=120, fps=20.0, seed=7, amplitude=0.6)
    np.save(tmp_path / "t2m.npy", humanml3d_joints(m, noise=0.008, seed=3))
    motion = read_motion(tmp_path / "t2m.npy", format="humanml3d")
    assert twist_violations(motion) == {k: 0 for k in _LIMBS}


def test_a_bent_limb_still_follows_its_hinge():
    """A slow real twist of a bent arm (90 degrees in 1.5 s) is followed, not held: the shoulder's rotation
    matches the source within a few degrees at every frame."""
    from usd_synth.rotations import axis_angle_to_quat, quat_mul

    m = smooth_random_motion(num_frames=45, seed=1, amplitude=0.05)
    t = np.arange(45) / 30.0
    sh, el = JOINT_INDEX["left_shoulder"], JOINT_INDEX["left_elbow"]
    axis = m.offsets[el] / np.linalg.norm(m.offsets[el])
    rot = m.rotations.copy()
    rot[:, sh] = quat_mul(axis_angle_to_quat(np.radians(60.0) * t[:, None] * axis), rot[:, sh])
    rot[:, el] = axis_angle_to_quat(np.radians(70.0) * np.array([0.0, -1.0, 0.0]) * np.ones((45, 1)))
    src = Motion(m.fps, rot, m.translation, m.offsets)
    out = retarget_positions(src.joint_positions(), src.fps).motion
    assert np.degrees(quat_angle(out.rotations[:, sh], src.rotations[:, sh])).max() < 3.0
