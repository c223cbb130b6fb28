"""The kinematic chain of a skeleton: local joint transforms to world ones and back, vectorised.

This is usd-synth's one forward-kinematics loop (as smplx's ``batch_rigid_transform`` is smplx's); every
module that chains joint transforms down the tree calls it. The only other copy is its torch twin in
:mod:`usd_synth.motion.refine`, which autograd needs.

Conventions. Rotations are 3x3 matrices acting on column vectors; a joint's *local* transform maps its
frame into its parent's (rotation ``R_j``, translation ``t_j`` = the joint's position in the parent's
frame, i.e. the rest offset); the root's local transform is its world transform. Then, for ``p`` the
parent of ``j``::

    W_j = W_p R_j        x_j = x_p + W_p t_j

Parents must precede their children (true of SMPL's table and of every USD joint order usd-synth writes).
All functions broadcast over any leading axes (frames, batches).

Frames. SMPL's body frame is Y up (+x the body's left, +z forward); usd-synth's world is Z up. The rest
pose's root rotation :data:`REST_ROOT_QUAT` / :data:`REST_ROOT_MATRIX`, +90 degrees about +x, stands the
body up in the world: facing -Y, its left +X, up +Z.
"""

from __future__ import annotations

import numpy as np

from usd_synth.skeleton import SMPL_PARENTS

#: Root rotation of the rest pose, quaternion ``(x, y, z, w)``: +90 degrees about +x turns SMPL's Y-up body
#: upright in the Z-up world.
REST_ROOT_QUAT = np.array([np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)])
#: The same rotation as a matrix (column vectors): body frame -> Z-up world.
REST_ROOT_MATRIX = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def local_to_world(
    rotations: np.ndarray,
    translations: np.ndarray,
    parents: np.ndarray = SMPL_PARENTS,
    root_translation: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (..., J, 3, 3) and positions (..., J, 3) from local joint transforms.

    Args:
        rotations: (..., J, 3, 3) local rotation matrices.
        translations: (..., J, 3) local translations, or (J, 3) rest offsets shared by all leading axes.
        parents: (J,) parent index of each joint, -1 for the root; parents precede children.
        root_translation: (..., 3) world position of the root, replacing row 0 of ``translations`` (a
            motion's pelvis path over a skeleton's offsets).
    """
    rotations = np.asarray(rotations, dtype=np.float64)
    translations = np.asarray(translations, dtype=np.float64)
    n = len(parents)
    if rotations.shape[-3:] != (n, 3, 3) or translations.shape[-2:] != (n, 3):
        raise ValueError(
            f"local_to_world: {n} joints need (..., {n}, 3, 3) rotations and (..., {n}, 3) translations, "
            f"got {rotations.shape} and {translations.shape}"
        )
    root = translations[..., 0, :] if root_translation is None else np.asarray(root_translation, np.float64)
    lead = np.broadcast_shapes(rotations.shape[:-3], translations.shape[:-2], root.shape[:-1])
    local_r = np.broadcast_to(rotations, lead + (n, 3, 3))
    local_t = np.broadcast_to(translations, lead + (n, 3))
    world_r = np.empty(lead + (n, 3, 3))
    world_t = np.empty(lead + (n, 3))
    world_r[..., 0, :, :] = local_r[..., 0, :, :]
    world_t[..., 0, :] = root
    for j in range(1, n):
        p = parents[j]
        world_r[..., j, :, :] = world_r[..., p, :, :] @ local_r[..., j, :, :]
        world_t[..., j, :] = world_t[..., p, :] + (world_r[..., p, :, :] @ local_t[..., j, :, None])[..., 0]
    return world_r, world_t


def world_to_local(
    world_rotations: np.ndarray, world_positions: np.ndarray, parents: np.ndarray = SMPL_PARENTS
) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`local_to_world`: local rotations (..., J, 3, 3) and translations (..., J, 3).

    ``R_j = W_p^T W_j`` and ``t_j = W_p^T (x_j - x_p)``; the root keeps its world transform. No loop: each
    joint needs only its own and its parent's world transform.
    """
    world_r = np.asarray(world_rotations, dtype=np.float64)
    world_t = np.asarray(world_positions, dtype=np.float64)
    n = len(parents)
    if world_r.shape[-3:] != (n, 3, 3) or world_t.shape[-2:] != (n, 3):
        raise ValueError(
            f"world_to_local: {n} joints need (..., {n}, 3, 3) rotations and (..., {n}, 3) positions, "
            f"got {world_r.shape} and {world_t.shape}"
        )
    lead = np.broadcast_shapes(world_r.shape[:-3], world_t.shape[:-2])
    world_r = np.broadcast_to(world_r, lead + (n, 3, 3))
    world_t = np.broadcast_to(world_t, lead + (n, 3))
    par = np.asarray(parents)[1:]
    parent_inv = np.swapaxes(world_r[..., par, :, :], -1, -2)  # W_p^T
    local_r = np.empty(lead + (n, 3, 3))
    local_t = np.empty(lead + (n, 3))
    local_r[..., 0, :, :] = world_r[..., 0, :, :]
    local_t[..., 0, :] = world_t[..., 0, :]
    local_r[..., 1:, :, :] = parent_inv @ world_r[..., 1:, :, :]
    local_t[..., 1:, :] = (parent_inv @ (world_t[..., 1:, :] - world_t[..., par, :])[..., None])[..., 0]
    return local_r, local_t


def rest_positions_from_offsets(offsets: np.ndarray, parents: np.ndarray = SMPL_PARENTS) -> np.ndarray:
    """Body-frame rest positions (..., J, 3) obtained by chaining ``offsets`` (..., J, 3) down the tree.

    Every local rotation is the identity; row 0 of ``offsets`` is the root's position.
    """
    offsets = np.asarray(offsets, dtype=np.float64)
    identity = np.broadcast_to(np.eye(3), (len(parents), 3, 3))
    return local_to_world(identity, offsets, parents)[1]


def rest_transforms(
    offsets: np.ndarray, parents: np.ndarray = SMPL_PARENTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rest pose standing in the Z-up world: local and world rotations and translations.

    Local rotations are the identity but the root's (:data:`REST_ROOT_MATRIX`), local translations are
    the ``offsets`` (J, 3) with the root's turned into the world. Returns ``(local_r, local_t, world_r,
    world_t)``, what a UsdSkel Skeleton's rest and bind transforms hold.
    """
    offsets = np.asarray(offsets, dtype=np.float64)
    local_r = np.tile(np.eye(3), (len(parents), 1, 1))
    local_r[0] = REST_ROOT_MATRIX
    local_t = offsets.copy()
    local_t[0] = REST_ROOT_MATRIX @ offsets[0]
    world_r, world_t = local_to_world(local_r, local_t, parents)
    return local_r, local_t, world_r, world_t
