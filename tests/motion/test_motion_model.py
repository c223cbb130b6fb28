import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion, forward_kinematics, rest_motion
from usd_synth.rotations import quat_apply, quat_mul
from usd_synth.skeleton import JOINT_INDEX, MIRROR, SMPL_JOINTS, SMPL_PARENTS, joint_paths, template_offsets


def test_skeleton_tables_are_consistent():
    assert len(SMPL_JOINTS) == 24 and SMPL_PARENTS[0] == -1
    assert all(SMPL_PARENTS[j] < j for j in range(1, 24))
    assert joint_paths()[JOINT_INDEX["left_ankle"]] == "pelvis/left_hip/left_knee/left_ankle"
    assert np.all(MIRROR[MIRROR] == np.arange(24))


def test_rest_pose_stands_on_the_ground_facing_minus_y():
    rest = rest_motion().rest_positions()
    j = JOINT_INDEX
    assert rest[j["head"], 2] > 1.4  # upright, Z up
    assert (
        rest[j["left_foot"], 2] == pytest.approx(0.02) and rest[j["left_foot"], 1] < rest[j["left_ankle"], 1]
    )
    assert rest[j["left_hip"], 0] > 0  # the body's left is +X


def test_fk_matches_a_naive_per_frame_reference(random_motion):
    """Vectorized FK equals a plain quaternion loop (an independent formulation)."""
    _, pos = random_motion.world_transforms()
    for f in (0, 17, 89):
        q = random_motion.rotations[f]
        world_q = [q[0]]
        ref = [random_motion.translation[f]]
        for j in range(1, 24):
            p = SMPL_PARENTS[j]
            ref.append(ref[p] + quat_apply(world_q[p], random_motion.offsets[j]))
            world_q.append(quat_mul(world_q[p], q[j]))
        np.testing.assert_allclose(pos[f], np.array(ref), atol=1e-12)


def test_fk_preserves_bone_lengths(random_motion):
    pos = random_motion.joint_positions()
    lengths = np.linalg.norm(pos[:, 1:] - pos[:, SMPL_PARENTS[1:]], axis=-1)
    np.testing.assert_allclose(
        lengths, np.broadcast_to(random_motion.bone_lengths()[1:], lengths.shape), atol=1e-12
    )


def test_batched_fk_over_leading_axes(random_motion):
    r, p = forward_kinematics(
        random_motion.rotations[None].repeat(2, 0),
        random_motion.translation[None].repeat(2, 0),
        random_motion.offsets,
    )
    assert p.shape == (2, 90, 24, 3) and r.shape == (2, 90, 24, 3, 3)
    np.testing.assert_allclose(p[1], random_motion.joint_positions())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(rotations=np.zeros((0, 24, 4)), translation=np.zeros((0, 3))), "no frames"),
        (dict(rotations=np.ones((5, 22, 4)), translation=np.zeros((5, 3))), "(T, 24, 4)"),
        (dict(rotations=np.ones((5, 24, 4)), translation=np.zeros((4, 3))), "translation"),
        (dict(rotations=np.full((5, 24, 4), np.nan), translation=np.zeros((5, 3))), "NaN"),
        (dict(rotations=np.zeros((5, 24, 4)), translation=np.zeros((5, 3))), "zero-length"),
    ],
)
def test_bad_motions_are_rejected(kwargs, message):
    with pytest.raises(UsdSynthError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Motion(fps=30, offsets=template_offsets(), **kwargs)


def test_bad_fps_is_rejected():
    m = rest_motion()
    with pytest.raises(UsdSynthError, match="frame rate"):
        Motion(fps=0, rotations=m.rotations, translation=m.translation)
