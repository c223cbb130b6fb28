"""The kinematic chain: local_to_world / world_to_local against a plain 4x4 reference, and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from usd_synth.kinematics import (
    REST_ROOT_MATRIX,
    REST_ROOT_QUAT,
    local_to_world,
    rest_positions_from_offsets,
    rest_transforms,
    world_to_local,
)
from usd_synth.motion.model import forward_kinematics, rest_motion
from usd_synth.rotations import quat_to_matrix
from usd_synth.skeleton import NUM_JOINTS, SMPL_PARENTS, template_offsets


def random_local(lead: tuple[int, ...], joints: int = NUM_JOINTS, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(lead, dtype=int)) * joints
    rot = Rotation.random(n, random_state=seed).as_matrix().reshape(lead + (joints, 3, 3))
    trans = rng.normal(scale=0.3, size=lead + (joints, 3))
    return rot, trans


def reference_local_to_world(rot: np.ndarray, trans: np.ndarray, parents) -> tuple[np.ndarray, np.ndarray]:
    """One pose at a time, homogeneous 4x4 matrices: T_world[j] = T_world[parent] @ T_local[j]."""
    lead = rot.shape[:-3]
    flat_r = rot.reshape((-1,) + rot.shape[-3:])
    flat_t = np.broadcast_to(trans, lead + trans.shape[-2:]).reshape((-1,) + trans.shape[-2:])
    out_r, out_t = np.empty_like(flat_r), np.empty_like(flat_t)
    for i in range(len(flat_r)):
        world: list[np.ndarray] = []
        for j, p in enumerate(parents):
            local = np.eye(4)
            local[:3, :3], local[:3, 3] = flat_r[i, j], flat_t[i, j]
            world.append(local if p < 0 else world[p] @ local)
            out_r[i, j], out_t[i, j] = world[j][:3, :3], world[j][:3, 3]
    return out_r.reshape(rot.shape), out_t.reshape(lead + trans.shape[-2:])


@pytest.mark.parametrize("lead", [(), (7,), (2, 5)])
def test_local_to_world_matches_a_4x4_reference(lead):
    rot, trans = random_local(lead)
    world_r, world_t = local_to_world(rot, trans)
    ref_r, ref_t = reference_local_to_world(rot, trans, SMPL_PARENTS)
    assert world_r.shape == lead + (24, 3, 3) and world_t.shape == lead + (24, 3)
    np.testing.assert_allclose(world_r, ref_r, atol=1e-12)
    np.testing.assert_allclose(world_t, ref_t, atol=1e-12)


@pytest.mark.parametrize("lead", [(), (7,), (2, 5)])
def test_world_to_local_inverts_local_to_world(lead):
    rot, trans = random_local(lead, seed=3)
    back_r, back_t = world_to_local(*local_to_world(rot, trans))
    np.testing.assert_allclose(back_r, rot, atol=1e-12)
    np.testing.assert_allclose(back_t, trans, atol=1e-12)
    world_r, world_t = reference_local_to_world(rot, trans, SMPL_PARENTS)
    again_r, again_t = local_to_world(*world_to_local(world_r, world_t))
    np.testing.assert_allclose(again_r, world_r, atol=1e-12)
    np.testing.assert_allclose(again_t, world_t, atol=1e-12)


def test_shared_offsets_and_root_translation():
    rot, _ = random_local((6,), seed=5)
    offsets = template_offsets()
    root = np.random.default_rng(5).normal(size=(6, 3))
    world_r, world_t = local_to_world(rot, offsets, SMPL_PARENTS, root_translation=root)
    full = np.broadcast_to(offsets, (6, 24, 3)).copy()
    full[:, 0] = root
    ref_r, ref_t = reference_local_to_world(rot, full, SMPL_PARENTS)
    np.testing.assert_allclose(world_r, ref_r, atol=1e-12)
    np.testing.assert_allclose(world_t, ref_t, atol=1e-12)


def test_any_tree_not_only_smpl():
    parents = np.array([-1, 0, 1, 1, 0])
    rot, trans = random_local((4,), joints=5, seed=9)
    world_r, world_t = local_to_world(rot, trans, parents)
    ref_r, ref_t = reference_local_to_world(rot, trans, parents)
    np.testing.assert_allclose(world_t, ref_t, atol=1e-12)
    back_r, back_t = world_to_local(world_r, world_t, parents)
    np.testing.assert_allclose(back_r, rot, atol=1e-12)
    np.testing.assert_allclose(back_t, trans, atol=1e-12)


def test_shape_errors_are_clear():
    rot, trans = random_local((2,))
    with pytest.raises(ValueError, match="24 joints"):
        local_to_world(rot[..., :5, :, :], trans)
    with pytest.raises(ValueError, match="24 joints"):
        world_to_local(rot, trans[..., :3, :])


def test_rest_positions_are_the_offsets_summed_down_the_tree():
    offsets = template_offsets()
    pos = rest_positions_from_offsets(offsets)
    for j in range(NUM_JOINTS):
        chain, k = np.zeros(3), j
        while k >= 0:
            chain += offsets[k]
            k = SMPL_PARENTS[k]
        np.testing.assert_allclose(pos[j], chain, atol=1e-15)


def test_rest_transforms_stand_the_body_up_in_the_world():
    np.testing.assert_allclose(quat_to_matrix(REST_ROOT_QUAT), REST_ROOT_MATRIX, atol=1e-15)
    offsets = template_offsets()
    local_r, local_t, world_r, world_t = rest_transforms(offsets)
    np.testing.assert_allclose(local_r[0], REST_ROOT_MATRIX)
    np.testing.assert_allclose(world_r, np.broadcast_to(REST_ROOT_MATRIX, (24, 3, 3)), atol=1e-15)
    np.testing.assert_allclose(world_t, rest_motion().rest_positions(), atol=1e-12)
    # The rest motion's forward kinematics lands on the same pose.
    _, fk = forward_kinematics(rest_motion().rotations, rest_motion().translation, offsets)
    np.testing.assert_allclose(fk[0], world_t, atol=1e-12)
