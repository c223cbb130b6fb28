"""How faithfully an actor's skinned mesh keeps its body's shape, and where its soles meet the floor.

These are the measures behind the body tests and ``benchmarks/bench_fidelity.py``:

* :func:`skinning_matrices`: per-frame column-vector skinning matrices of an actor (inverse world bind
  times animated world joint transform), the same ones UsdSkel computes from the written actor;
* :func:`skin_all` / :func:`lowest_heights`: linear blend skinning of the whole mesh (or only its height),
  written as one matrix product per chunk of frames (fast enough to run per actor);
* :func:`region_edge_strain`: per frame, the 95th percentile of the relative length change of the mesh
  edges inside a skin region (vertices bound mainly to given joints) against the bind mesh;
* :func:`planted_feet` / :func:`planted_joints`: the frames where a foot (or each of its joints) is
  planted (joint speed under 0.2 m/s and within 3 cm of its lowest height in the clip); and
  :func:`contact_slides`, how much farther a planted joint travels after adaptation to a body;
* :func:`crease_change`: per frame, a percentile of how far the fold angle across mesh edges changed against
  the bind mesh: the creases and crumples that edge strain alone does not see;
* :func:`relaxed_points`: a posed mesh with chosen vertices moved to bring edge lengths back towards the
  bind mesh's, a bound on what any corrective shape on those vertices could do to the strain measure;
* :func:`dual_quaternion_skin` and :func:`mesh_volume`: dual-quaternion skinning of the same matrices and
  the enclosed volume, to measure what UsdSkel's other skinning method (``skel:skinningMethod =
  "dualQuaternion"``) would change: less volume lost in deep bends, more edge strain (see docs/bodies.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from usd_synth.body.model import Body, mesh_edges, neighbour_mean
from usd_synth.motion.model import Motion
from usd_synth.rotations import matrix_to_quat, quat_apply, quat_conj, quat_mul
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS

#: Joints whose skin regions must keep their shape closely (chest, back, neck) and the collars.
TORSO_JOINTS = ("spine1", "spine2", "spine3", "neck")
COLLAR_JOINTS = ("left_collar", "right_collar")
#: Skin a pose-corrective shape for the torso and collars would move (benchmarks' relaxation bound and
#: corrective experiment): vertices bound mainly to these joints.
CORRECTIVE_JOINTS = (*TORSO_JOINTS, *COLLAR_JOINTS, "left_shoulder", "right_shoulder")

#: A foot joint is planted when slower than this (m/s) ...
PLANT_SPEED = 0.2
#: ... and within this of its lowest height in the clip (m).
PLANT_HEIGHT = 0.03

#: (ankle, ball of the foot) per side.
FEET = {"left": ("left_ankle", "left_foot"), "right": ("right_ankle", "right_foot")}
#: The same as joint indices, [side][ankle, ball]: the layout of :func:`planted_joints`.
FOOT_INDICES = [[JOINT_INDEX[name] for name in joints] for joints in FEET.values()]


def skinning_matrices(motion: Motion, body: Body) -> np.ndarray:
    """(T, 24, 4, 4) column-vector matrices taking the body's world bind-pose points to frame t.

    ``motion`` must already be on the body's skeleton (an actor's motion): joint j's matrix is its
    animated world transform times the inverse of its world bind transform.
    """
    world_r, world_t = motion.world_transforms()
    bind_r, bind_t = body.bind_world()
    rot = world_r @ np.swapaxes(bind_r, -1, -2)[None]
    out = np.zeros(world_r.shape[:2] + (4, 4))
    out[..., :3, :3] = rot
    out[..., :3, 3] = world_t - (rot @ bind_t[None, :, :, None])[..., 0]
    out[..., 3, 3] = 1.0
    return out


def _lbs_operator(body: Body, vertices: np.ndarray | None = None) -> np.ndarray:
    """(V, 24*4) matrix Q with posed[:, i] = Q @ M[:, i, :].ravel(): LBS as a single product."""
    pts = body.world_points()
    dense = body.dense_weights()
    if vertices is not None:
        pts, dense = pts[vertices], dense[vertices]
    homo = np.concatenate([pts, np.ones((len(pts), 1))], axis=1)
    return (dense[:, :, None] * homo[:, None, :]).reshape(len(pts), NUM_JOINTS * 4)


def skin_all(body: Body, matrices: np.ndarray, vertices: np.ndarray | None = None) -> np.ndarray:
    """Posed world points (T, V, 3) of the body (or of ``vertices`` only) under ``matrices``."""
    q = _lbs_operator(body, vertices)
    m = np.asarray(matrices)[..., :3, :]  # (T, 24, 3, 4)
    rows = np.swapaxes(m, 1, 2).reshape(len(m), 3, NUM_JOINTS * 4)  # (T, 3, 96)
    return np.einsum("vk,tik->tvi", q, rows, optimize=True)


def lowest_heights(
    body: Body, matrices: np.ndarray, groups: dict[str, np.ndarray] | None = None, chunk: int = 256
) -> dict[str, np.ndarray]:
    """Per frame, the lowest skinned z of the whole mesh (``"all"``) and of each vertex group given."""
    q = _lbs_operator(body)
    z_rows = np.asarray(matrices)[:, :, 2, :].reshape(len(matrices), NUM_JOINTS * 4)  # (T, 96)
    out = {"all": np.empty(len(matrices))}
    groups = groups or {}
    for name in groups:
        out[name] = np.empty(len(matrices))
    for f0 in range(0, len(matrices), chunk):
        z = z_rows[f0 : f0 + chunk] @ q.T  # (t, V)
        out["all"][f0 : f0 + chunk] = z.min(axis=1)
        for name, idx in groups.items():
            out[name][f0 : f0 + chunk] = z[:, idx].min(axis=1)
    return out


def dual_quaternion_skin(body: Body, matrices: np.ndarray, vertices: np.ndarray | None = None) -> np.ndarray:
    """Posed world points (T, V, 3) of the body (or of ``vertices`` only) under rigid ``matrices``, by
    dual-quaternion skinning (Kavan et al. 2007): each joint's transform as a unit dual quaternion
    (rotation q, dual part 0.5 * (t, 0) * q), blended with the skin weights after flipping each joint's q
    into the hemisphere of the vertex's most weighted joint, normalized, applied to the point."""
    pts = body.world_points()
    dense = body.dense_weights()
    if vertices is not None:
        pts, dense = pts[vertices], dense[vertices]
    m = np.asarray(matrices, dtype=np.float64)
    real = matrix_to_quat(m[..., :3, :3])  # (T, 24, 4), (x, y, z, w)
    t = np.concatenate([m[..., :3, 3], np.zeros(m.shape[:-2] + (1,))], axis=-1)
    dual = 0.5 * quat_mul(t, real)
    pivot = dense.argmax(axis=1)  # (V,)
    sign = np.where(np.einsum("tjk,tvk->tvj", real, real[:, pivot]) < 0.0, -1.0, 1.0)
    w = dense[None] * sign  # (T, V, 24)
    b_real = np.einsum("tvj,tjk->tvk", w, real)
    b_dual = np.einsum("tvj,tjk->tvk", w, dual)
    norm = np.linalg.norm(b_real, axis=-1, keepdims=True)
    b_real, b_dual = b_real / norm, b_dual / norm
    translation = 2.0 * quat_mul(b_dual, quat_conj(b_real))[..., :3]
    return quat_apply(b_real, np.broadcast_to(pts, b_real.shape[:-1] + (3,))) + translation


def mesh_volume(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Signed volume enclosed by triangles ``faces`` over ``points`` (..., V, 3) (divergence theorem);
    for a mesh with small holes, a measure to compare poses by rather than an exact volume."""
    a, b, c = (points[..., faces[:, k], :] for k in range(3))
    return np.einsum("...i,...i->...", a, np.cross(b, c)).sum(axis=-1) / 6.0


def region_vertices(body: Body, joints: Iterable[str]) -> np.ndarray:
    """Indices of the vertices whose largest skin weight belongs to one of ``joints``."""
    main = body.dense_weights().argmax(axis=1)
    return np.flatnonzero(np.isin(main, [JOINT_INDEX[j] for j in joints]))


def region_edges(body: Body, joints: Iterable[str]) -> np.ndarray:
    """(E, 2) unique mesh edges whose two vertices both lie in the region of ``joints``."""
    inside = np.zeros(body.num_points, dtype=bool)
    inside[region_vertices(body, joints)] = True
    edges = mesh_edges(body.faces)
    return edges[inside[edges[:, 0]] & inside[edges[:, 1]]]


def edge_strain(rest: np.ndarray, posed: np.ndarray, edges: np.ndarray, q: float = 95.0) -> np.ndarray:
    """(T,) the ``q``-th percentile over ``edges`` of |posed length / rest length - 1| per frame (0 without
    edges)."""
    if len(edges) == 0:
        return np.zeros(len(posed))
    r = np.linalg.norm(rest[edges[:, 0]] - rest[edges[:, 1]], axis=-1)
    p = np.linalg.norm(posed[:, edges[:, 0]] - posed[:, edges[:, 1]], axis=-1)
    return np.percentile(np.abs(p / np.maximum(r, 1e-9) - 1.0), q, axis=1)


def region_edge_strain(
    body: Body,
    matrices: np.ndarray,
    regions: dict[str, Iterable[str]] | None = None,
    q: float = 95.0,
    skin=skin_all,
) -> dict[str, np.ndarray]:
    """Per region (default: ``torso`` and ``collars``), the per-frame ``q``-th percentile edge strain.
    ``skin(body, matrices, vertices)`` poses the points: linear blend (the actors') by default, or
    :func:`dual_quaternion_skin`."""
    regions = regions or {"torso": TORSO_JOINTS, "collars": COLLAR_JOINTS}
    edges = {name: region_edges(body, joints) for name, joints in regions.items()}
    used = np.unique(np.concatenate([e.reshape(-1) for e in edges.values()]))
    remap = np.full(body.num_points, -1)
    remap[used] = np.arange(len(used))
    rest = body.world_points()[used]
    posed = skin(body, matrices, used)
    return {name: edge_strain(rest, posed, remap[e], q) for name, e in edges.items()}


def planted_joints(positions: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2, 2) whether each foot joint, per side (left, right) and joint (ankle, ball: ``*_foot``), is
    planted in each frame of world joint ``positions``: slower than :data:`PLANT_SPEED` and within
    :data:`PLANT_HEIGHT` of that joint's lowest height in the clip."""
    positions = np.asarray(positions)
    out = np.zeros((len(positions), 2, 2), dtype=bool)
    for s, joints in enumerate(FEET.values()):
        for k, name in enumerate(joints):
            p = positions[:, JOINT_INDEX[name]]
            speed = np.linalg.norm(np.gradient(p, axis=0), axis=1) * fps if len(p) > 1 else np.zeros(1)
            low = p[:, 2] <= p[:, 2].min() + PLANT_HEIGHT
            out[:, s, k] = low & (speed < PLANT_SPEED)
    return out


def planted_feet(positions: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) whether the left / right foot is planted in each frame of world joint ``positions``: its
    ankle or its ball is (:func:`planted_joints`)."""
    return planted_joints(positions, fps).any(axis=2)


def contact_slides(source: Motion, moved: Motion, scale: float = 1.0) -> np.ndarray:
    """Per contact of ``source`` (a foot joint planted for 2+ frames, :func:`planted_joints`), how much
    farther (m) the same joint of ``moved`` (``source`` adapted to another body, its stride scaled by
    ``scale``) travels over those frames than the source's does, scaled: the foot skate an adaptation
    adds (0 when the planted joints move exactly as the source's, scaled)."""
    ps, pm = source.joint_positions(), moved.joint_positions()
    planted = planted_joints(ps, source.fps)
    out = []
    for s in range(2):
        for k in range(2):
            j = FOOT_INDICES[s][k]
            edges = np.flatnonzero(np.diff(np.r_[0, planted[:, s, k].astype(np.int8), 0]))
            for a, b in zip(edges[::2], edges[1::2], strict=True):
                if b - a < 2:
                    continue
                travel = [np.linalg.norm(np.diff(p[a:b, j, :2], axis=0), axis=1).sum() for p in (pm, ps)]
                out.append(travel[0] - scale * travel[1])
    return np.array(out)


def foot_vertices(body: Body) -> dict[str, np.ndarray]:
    """Vertices of each foot (largest skin weight on that side's ankle or ball of the foot)."""
    return {side: region_vertices(body, joints) for side, joints in FEET.items()}


def crease_change(
    rest: np.ndarray, posed: np.ndarray, faces: np.ndarray, edges: np.ndarray, q: float = 95.0
) -> np.ndarray:
    """(T,) the ``q``-th percentile over the interior mesh edges among ``edges`` (E, 2) of how far the
    signed angle between the normals of the edge's two triangles changed against ``rest``, in degrees, per
    frame of ``posed`` (T, V, 3) (0 without such edges; edges of one triangle, or of three or more, are
    left out).

    Why: edge strain can be lowered by folding the skin instead of stretching it (a crumpled surface keeps
    its edge lengths); this measures the folds, so a shape correction is judged by both.
    """
    f = np.asarray(faces)
    # 1. each interior edge's two triangles (an edge shared by exactly two)
    ends = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(f)), 3)
    key = ends[:, 0].astype(np.int64) * (int(f.max()) + 1) + ends[:, 1]
    order = np.argsort(key, kind="stable")
    key, owner = key[order], owner[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    count = np.diff(np.r_[first, len(key)])
    pair = first[count == 2]
    # 2. keep those among ``edges``
    wanted = np.sort(np.asarray(edges), axis=1)
    wanted_key = wanted[:, 0].astype(np.int64) * (int(f.max()) + 1) + wanted[:, 1]
    pair = pair[np.isin(key[pair], wanted_key)]
    if len(pair) == 0:
        return np.zeros(np.shape(posed)[:-2])
    a, b = f[owner[pair]], f[owner[pair + 1]]
    lo, hi = ends[order][pair, 0], ends[order][pair, 1]

    def fold(points: np.ndarray) -> np.ndarray:
        """Signed angle between the two triangles' normals, about the edge (lo -> hi): a fold that turns
        inside out changes sign, so it counts."""

        def normal(tri: np.ndarray) -> np.ndarray:
            p0, p1, p2 = (points[..., tri[:, k], :] for k in range(3))
            n = np.cross(p1 - p0, p2 - p0)
            return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)

        na, nb = normal(a), normal(b)
        axis = points[..., hi, :] - points[..., lo, :]
        axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12)
        sin = np.einsum("...i,...i->...", np.cross(na, nb), axis)
        return np.degrees(np.arctan2(sin, np.einsum("...i,...i->...", na, nb)))

    # 3. the fold angle's change per frame (wrapped to a half turn)
    change = fold(np.asarray(posed, dtype=np.float64)) - fold(np.asarray(rest, dtype=np.float64))
    change = np.abs((change + 180.0) % 360.0 - 180.0)
    return np.percentile(change, q, axis=-1)


def relaxed_points(
    rest: np.ndarray,
    posed: np.ndarray,
    faces: np.ndarray,
    free: np.ndarray,
    anchor: float = 0.01,
    iterations: int = 100,
    smooth: float = 0.0,
) -> np.ndarray:
    """``posed`` (V, 3) with the ``free`` vertices (bool mask) moved so that mesh edge lengths come back
    towards ``rest``'s, each free vertex held to its posed position with weight ``anchor``.

    Why: a pose-corrective shape can only move vertices; this finds (a local optimum of) how far moving
    them could lower the edge strain, and how far they must move for it, before anyone builds correctives.
    The energy is sum over edges touching a free vertex of |p_i - p_j - L_ij d_ij|^2 plus anchor times
    sum |p_i - posed_i|^2, minimized by alternating its two steps (the spring form of as-rigid-as-possible
    deformation): fix each edge's direction d_ij from the current points, then solve the sparse linear
    least squares for the free points (one factorization, reused). Other vertices stay where they are.
    ``smooth`` adds ``smooth`` times the squared graph Laplacian of the free vertices' displacement from
    ``posed``: a displacement that must vary smoothly over the mesh, as a corrective shape's does, cannot
    buy edge lengths by crumpling the skin.
    """
    import scipy.sparse as sparse  # here: the actors' grounding imports this module and needs none of it
    from scipy.sparse.linalg import factorized

    if not anchor > 0:
        raise ValueError(f"anchor must be positive (it keeps the system solvable), got {anchor}")
    rest, posed = np.asarray(rest, dtype=np.float64), np.asarray(posed, dtype=np.float64)
    free = np.asarray(free, dtype=bool)
    edges = mesh_edges(faces)
    edges = edges[free[edges[:, 0]] | free[edges[:, 1]]]
    if not free.any() or len(edges) == 0:
        return posed.copy()
    # 1. the linear system: one row per edge (p_i - p_j), one per free vertex (the anchor), and with
    #    ``smooth`` one per free vertex (its Laplacian)
    column = np.full(len(posed), -1)
    column[free] = np.arange(int(free.sum()))
    rows, cols, vals = [], [], []
    for end, sign in ((0, 1.0), (1, -1.0)):
        on = free[edges[:, end]]
        rows.append(np.flatnonzero(on))
        cols.append(column[edges[on, end]])
        vals.append(np.full(int(on.sum()), sign))
    n_free = int(free.sum())
    blocks = [
        sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(edges), n_free)
        ),
        np.sqrt(anchor) * sparse.identity(n_free, format="csr"),
    ]
    if smooth > 0:
        laplacian = sparse.identity(len(posed), format="csr") - neighbour_mean(faces, len(posed))
        blocks.append(np.sqrt(smooth) * laplacian.tocsr()[free][:, free])
    a = sparse.vstack(blocks).tocsc()
    solve = factorized((a.T @ a).tocsc())
    # 2. fixed vertices' part of each edge row moves to the right-hand side
    fixed_i, fixed_j = ~free[edges[:, 0]], ~free[edges[:, 1]]
    length = np.linalg.norm(rest[edges[:, 0]] - rest[edges[:, 1]], axis=1)
    held = [np.sqrt(anchor) * posed[free]]
    if smooth > 0:
        held.append(a[len(edges) + n_free :] @ posed[free])  # the posed points' own Laplacian
    points = posed.copy()
    for _ in range(iterations):
        # 3. local step: each edge's direction from the current points, at its rest length
        d = points[edges[:, 0]] - points[edges[:, 1]]
        d *= (length / np.maximum(np.linalg.norm(d, axis=1), 1e-12))[:, None]
        d -= np.where(fixed_i[:, None], points[edges[:, 0]], 0.0)
        d += np.where(fixed_j[:, None], points[edges[:, 1]], 0.0)
        # 4. global step: the free points
        rhs = a.T @ np.vstack([d, *held])
        points[free] = np.stack([solve(rhs[:, k]) for k in range(3)], axis=1)
    return points
