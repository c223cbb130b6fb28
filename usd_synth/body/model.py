"""The Body model: a triangle mesh rigged onto the SMPL-24 skeleton, and the rigging helpers shared by all
body sources (Anny, SMPL).

Frames. A :class:`Body` is stored in SMPL's Y-up *body frame* (+x the body's left, +y up, +z forward,
metres, feet on y = 0), like a :class:`~usd_synth.motion.model.Motion`'s offsets; the Z-up world rest pose
(facing -Y) is ``REST_ROOT_MATRIX @ x``.

Bind pose. The mesh is bound in the pose it was modelled in (Anny's A-pose, SMPL's T-pose). Each joint has
a bind position ``joints[j]`` and a bind orientation ``bind_rotations[j]`` (body frame). The skeleton's
*rest* pose is the one SMPL pose parameters are relative to: every local rotation the identity. For the
limbs (:data:`SWING_JOINTS`: hips, knees, shoulders, elbows, wrists) SMPL's convention fixes where the
bone points at rest (arms straight out, legs straight down), so their bind orientation is the rotation
that turns SMPL's template bone direction into the modelled one: a motion's limb rotations point arms and
legs the same way on every body. Every other joint (pelvis, spine, neck, head, collars, ankles) is bound
upright (identity), so at rest those bones keep *the body's own* directions: its spine curve, collar slope,
shoulder width and feet, undeformed (no shrug). The rest offsets are the bind-pose bone vectors seen from
the parent's bind frame: ``offsets[j] = R[p]^T (joints[j] - joints[p])``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.kinematics import REST_ROOT_MATRIX, world_to_local
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, SMPL_JOINTS, SMPL_PARENTS, template_offsets

if TYPE_CHECKING:
    import scipy.sparse

#: Default number of skin influences kept per vertex (what real-time engines and most GPU skinning use).
MAX_INFLUENCES = 4

#: For each joint, the child whose direction defines its bone (leaves and the root have none).
PRIMARY_CHILD: dict[str, str] = {
    "left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle",
    "right_knee": "right_ankle", "left_ankle": "left_foot", "right_ankle": "right_foot",
    "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "left_collar": "left_shoulder", "right_collar": "right_shoulder", "left_shoulder": "left_elbow",
    "right_shoulder": "right_elbow", "left_elbow": "left_wrist", "right_elbow": "right_wrist",
    "left_wrist": "left_hand", "right_wrist": "right_hand",
}  # fmt: skip


@dataclass
class Body:
    """A skinned body on the SMPL-24 skeleton (body frame, metres; see the module docstring).

    Attributes:
        model: ``"anny"`` or ``"smpl"``.
        points: (V, 3) bind-pose vertex positions.
        faces: (F, 3) triangle vertex indices, counter-clockwise seen from outside.
        joints: (24, 3) bind-pose joint positions.
        bind_rotations: (24, 3, 3) bind orientation of each joint (identity for a T-posed mesh).
        joint_indices / joint_weights: (V, K) skin influences, weights summing to 1 per vertex.
        uv / uv_indices: texture coordinates (U, 2) and, per face corner, an index into them (F*3,), or
            None (face-varying, as a mesh with UV seams needs).
        color: linear RGB diffuse colour of the skin material.
        params: what made the body (model, seed, phenotypes, stature, ...); JSON-serialisable.
    """

    model: str
    points: np.ndarray
    faces: np.ndarray
    joints: np.ndarray
    bind_rotations: np.ndarray
    joint_indices: np.ndarray
    joint_weights: np.ndarray
    uv: np.ndarray | None = None
    uv_indices: np.ndarray | None = None
    color: tuple[float, float, float] = (0.8, 0.6, 0.5)
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float64)
        self.faces = np.asarray(self.faces, dtype=np.int32)
        self.joints = np.asarray(self.joints, dtype=np.float64)
        self.bind_rotations = np.asarray(self.bind_rotations, dtype=np.float64)
        self.joint_indices = np.asarray(self.joint_indices, dtype=np.int32)
        self.joint_weights = np.asarray(self.joint_weights, dtype=np.float32)
        v = self.points.shape[0]
        if self.points.ndim != 2 or self.points.shape[1] != 3 or v == 0:
            raise UsdSynthError(f"body points must have shape (V, 3), got {self.points.shape}")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3 or self.faces.min() < 0 or self.faces.max() >= v:
            raise UsdSynthError("body faces must be (F, 3) triangles indexing the points")
        if self.joints.shape != (NUM_JOINTS, 3) or self.bind_rotations.shape != (NUM_JOINTS, 3, 3):
            raise UsdSynthError("body joints must be (24, 3) with (24, 3, 3) bind rotations (SMPL-24)")
        if self.joint_indices.shape != self.joint_weights.shape or self.joint_indices.shape[0] != v:
            raise UsdSynthError("body skin influences must be (V, K) indices and weights")
        if self.joint_indices.min() < 0 or self.joint_indices.max() >= NUM_JOINTS:
            raise UsdSynthError("body skin joint indices must lie in 0..23")

    # -- sizes and derived quantities ------------------------------------------------------------------
    @property
    def num_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def influences(self) -> int:
        return int(self.joint_indices.shape[1])

    @property
    def stature(self) -> float:
        """Height of the bind-pose mesh (top of the head to the soles), metres."""
        return float(self.points[:, 1].max() - self.points[:, 1].min())

    def offsets(self) -> np.ndarray:
        """Rest offsets (24, 3) of the body's skeleton, as a Motion stores them (see module docstring).

        They are the local translations of the bind pose: ``R[p]^T (joints[j] - joints[p])``.
        """
        return world_to_local(self.bind_rotations, self.joints, SMPL_PARENTS)[1]

    def world_points(self) -> np.ndarray:
        """Bind-pose points in the Z-up world (standing on z = 0, facing -Y)."""
        return self.points @ REST_ROOT_MATRIX.T

    def bind_world(self) -> tuple[np.ndarray, np.ndarray]:
        """World bind rotations (24, 3, 3) and positions (24, 3) of the joints (column-vector convention)."""
        return REST_ROOT_MATRIX @ self.bind_rotations, self.joints @ REST_ROOT_MATRIX.T

    def dense_weights(self) -> np.ndarray:
        """(V, 24) weight matrix, for analysis and tests."""
        dense = np.zeros((self.num_points, NUM_JOINTS))
        np.add.at(dense, (np.arange(self.num_points)[:, None], self.joint_indices), self.joint_weights)
        return dense


# ---------------------------------------------------------------------------------------------------------
# rigging helpers
# ---------------------------------------------------------------------------------------------------------


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation turning unit direction ``a`` into unit direction ``b`` (3x3)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -1.0 + 1e-9:  # opposite: any half-turn about an axis normal to a
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


#: Joints whose rest direction SMPL's pose convention fixes: the limbs (arms straight out in a T-pose,
#: legs straight down). Their bind orientation turns SMPL's template bone direction into the body's, so a
#: motion's limb rotations point arms and legs where they point on SMPL. Every other joint (pelvis, spine,
#: neck, head, collars, ankles, balls of the feet, hands) keeps the body's own modelled shape as its rest:
#: its bind orientation is the identity (leaves: their parent's).
SWING_JOINTS: tuple[str, ...] = (
    "left_hip", "right_hip", "left_knee", "right_knee",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip


def bind_rotations_from_joints(
    joints: np.ndarray, swing_joints: tuple[str, ...] = SWING_JOINTS
) -> np.ndarray:
    """Bind orientations (24, 3, 3) of a body modelled with its joints at ``joints`` (body frame).

    A joint of ``swing_joints`` gets the swing from SMPL's template direction of its primary bone to the
    body's; a leaf keeps its parent's orientation; every other joint is upright (identity), so that its
    bone keeps the body's own direction in the rest pose (no shrug, no straightened spine). Each
    orientation is found on its own, in the body frame: no chain down the tree (a leaf's parent is never
    a leaf).
    """
    template = template_offsets()
    rot = np.tile(np.eye(3), (NUM_JOINTS, 1, 1))
    leaves = []
    for j, name in enumerate(SMPL_JOINTS[1:], start=1):
        child = PRIMARY_CHILD.get(name)
        if child is None:
            leaves.append(j)
            continue
        if name in swing_joints:
            c = JOINT_INDEX[child]
            rot[j] = _swing(template[c], joints[c] - joints[j])
    rot[leaves] = rot[SMPL_PARENTS[leaves]]
    return rot


def limit_influences(
    dense: np.ndarray, max_influences: int = MAX_INFLUENCES
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the ``max_influences`` largest weights of each row of ``dense`` (V, J) and renormalize.

    Ties break towards the lower joint index (a stable sort), so the result is deterministic. Unused
    slots get weight 0 and joint 0, which UsdSkel accepts.
    """
    dense = np.asarray(dense, dtype=np.float64)
    k = min(max_influences, dense.shape[1])
    order = np.argsort(-dense, axis=1, kind="stable")[:, :k]
    weights = np.take_along_axis(dense, order, axis=1)
    weights = np.where(weights > 1e-6, weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise UsdSynthError(f"{int(np.sum(total <= 0))} vertices have no skin weight")
    weights = weights / total
    indices = np.where(weights > 0, order, 0)
    weights32 = weights.astype(np.float32)
    # Fold float32 rounding into the largest weight so each row sums to 1 as closely as float32 allows.
    weights32[:, 0] += (1.0 - weights32.astype(np.float64).sum(axis=1)).astype(np.float32)
    return indices.astype(np.int32), weights32


def mesh_edges(faces: np.ndarray) -> np.ndarray:
    """(E, 2) unique undirected edges of triangles ``faces``, each as (lower, higher) vertex index."""
    f = np.asarray(faces)
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    return np.unique(np.sort(edges, axis=1), axis=0)


def neighbour_mean(faces: np.ndarray, n: int) -> scipy.sparse.csr_matrix:
    """(n, n) sparse operator taking per-vertex values to the mean over each vertex's edge neighbours (a
    vertex without neighbours gets 0): what Laplacian smoothing of skin weights and the smoothness term of
    a skin relaxation are built from."""
    import scipy.sparse

    e = mesh_edges(faces)
    adjacency = scipy.sparse.coo_matrix(
        (np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n)
    ).tocsr()
    return scipy.sparse.diags(1.0 / np.maximum(adjacency.sum(axis=1).A1, 1.0)) @ adjacency


def vertex_normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (V, 3) of a triangle mesh (unit length; +y for isolated points)."""
    p = np.asarray(points, dtype=np.float64)
    tri = p[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n = np.zeros_like(p)
    for c in range(3):
        np.add.at(n, faces[:, c], face_n)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    fallback = np.array([0.0, 1.0, 0.0])
    return np.where(length > 1e-20, n / np.maximum(length, 1e-20), fallback)


def cylindrical_uv(points: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Simple face-varying UVs for meshes that come without any (SMPL): a cylinder about the body axis.

    u is the angle around the vertical axis, v the height. Faces that straddle the seam behind the body
    get their own corner UVs, so no triangle wraps the whole texture.
    """
    p = np.asarray(points)
    centre = np.array([0.0, 0.0, p[:, 2].mean()])
    ang = np.arctan2(p[:, 0] - centre[0], -(p[:, 2] - centre[2]))  # 0 behind... pi in front
    u = (ang / (2.0 * np.pi)) + 0.5
    v = (p[:, 1] - p[:, 1].min()) / max(float(np.ptp(p[:, 1])), 1e-9)
    corner_u = u[faces]
    wrap = (corner_u.max(axis=1) - corner_u.min(axis=1)) > 0.5
    corner_u[wrap] = np.where(corner_u[wrap] < 0.5, corner_u[wrap] + 1.0, corner_u[wrap])
    uv = np.stack([corner_u.reshape(-1), v[faces].reshape(-1)], axis=1).astype(np.float32)
    return uv, np.arange(uv.shape[0], dtype=np.int32)
