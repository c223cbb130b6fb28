"""Linear blend skinning (LBS), batched over frames and actors, as Warp kernels with a numpy reference.

Convention. A skinning matrix ``M[f, j]`` is a 4x4 *column-vector* matrix (``p' = M @ [p, 1]``) that takes
a rest (bind-pose) point straight to its posed position for frame ``f``: everything the caller wants is
folded into it (inverse bind transform, animated joint transform, the mesh's geomBindTransform, the
skeleton's local-to-world). A vertex ``v`` has ``K`` influences ``(idx[v, k], w[v, k])``; its posed point
is ``sum_k w[v, k] * M[f, idx[v, k]] @ p[v]`` and its posed normal the normalized
``sum_k w[v, k] * R[f, idx[v, k]] @ n[v]`` (``R`` the upper 3x3: exact for the rigid joint transforms
usd-synth writes, and what UsdSkel does for vertex normals).

Several actors are skinned in one launch by concatenating their meshes (:func:`concat_skins`): joint
indices are offset so that each actor reads its own block of the per-frame matrix table. One thread per
(frame, vertex) writes 12 bytes of points (and 12 of normals): the kernel is memory-bound, so the figure of
merit is vertex-frames per second (``benchmarks/bench_skinning.py``).

One LBS kernel serves meshes with and without normals: ``with_normals`` is a compile-time flag
(``wp.static``, see :mod:`usd_synth.kernels.device`), so the points-only specialisation carries no normal
code at all. A second kernel reduces posed points to per-frame bounds (the extents a UsdGeom mesh needs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usd_synth.kernels.device import KERNEL_OPTIONS, kernel_family, resolve_device, warp


@dataclass
class Skin:
    """Rest geometry and skin weights of one mesh (or several concatenated)."""

    points: np.ndarray  #: (V, 3) float32 rest points
    indices: np.ndarray  #: (V, K) int32 joint index of each influence
    weights: np.ndarray  #: (V, K) float32 weight of each influence (rows sum to 1)
    normals: np.ndarray | None = None  #: (V, 3) float32 rest normals, optional

    def __post_init__(self) -> None:
        self.points = np.ascontiguousarray(self.points, dtype=np.float32).reshape(-1, 3)
        v = self.points.shape[0]
        self.indices = np.ascontiguousarray(self.indices, dtype=np.int32).reshape(v, -1)
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float32).reshape(v, -1)
        if self.indices.shape != self.weights.shape:
            raise ValueError(f"indices {self.indices.shape} and weights {self.weights.shape} differ")
        if self.normals is not None:
            self.normals = np.ascontiguousarray(self.normals, dtype=np.float32).reshape(v, 3)

    @property
    def num_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def influences(self) -> int:
        return int(self.indices.shape[1])


def concat_skins(skins: list[Skin], joint_counts: list[int]) -> Skin:
    """One skin for several actors: influences padded to the largest K, joint indices offset per actor.

    Pair it with a matrix table whose joints are the actors' joints one after the other
    (``np.concatenate(per_actor_matrices, axis=1)``).
    """
    k = max(s.influences for s in skins)
    offsets = np.concatenate([[0], np.cumsum(joint_counts)[:-1]]).astype(np.int32)
    idx, wts = [], []
    for s, off in zip(skins, offsets, strict=True):
        pad = k - s.influences
        idx.append(np.pad(s.indices + off, ((0, 0), (0, pad)), constant_values=off))
        wts.append(np.pad(s.weights, ((0, 0), (0, pad))))
    have_normals = all(s.normals is not None for s in skins)
    return Skin(
        points=np.concatenate([s.points for s in skins]),
        indices=np.concatenate(idx),
        weights=np.concatenate(wts),
        normals=np.concatenate([s.normals for s in skins]) if have_normals else None,
    )


# ---------------------------------------------------------------------------------------------------------
# LBS: the numpy reference and the kernel
# ---------------------------------------------------------------------------------------------------------


def skin_numpy(skin: Skin, matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Reference LBS: posed points (F, V, 3) and normals (F, V, 3) or None, float64 arithmetic.

    ``matrices`` is (F, J, 4, 4), column-vector convention (see the module docstring).
    """
    m = np.asarray(matrices, dtype=np.float64)
    p = skin.points.astype(np.float64)
    w = skin.weights.astype(np.float64)
    # Blend the matrices per vertex first (F, V, 3, 4): the same algebra as the kernel, fewer products.
    blended = np.einsum("vk,fvkij->fvij", w, m[:, skin.indices, :3, :])
    points = np.einsum("fvij,vj->fvi", blended[..., :3], p) + blended[..., 3]
    normals = None
    if skin.normals is not None:
        n = np.einsum("fvij,vj->fvi", blended[..., :3], skin.normals.astype(np.float64))
        normals = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    return points, normals


@kernel_family
def lbs_kernel(with_normals: bool):
    """LBS of points, and of normals when ``with_normals`` (else ``normals``/``out_normals`` are unused and
    may be ``None``): thread ``(f, v)`` poses vertex ``v`` for frame ``f``, as :func:`skin_numpy` does."""
    wp = warp()

    @wp.kernel(**KERNEL_OPTIONS)
    def lbs(
        points: wp.array(dtype=wp.vec3f),
        normals: wp.array(dtype=wp.vec3f),
        indices: wp.array2d(dtype=wp.int32),
        weights: wp.array2d(dtype=wp.float32),
        matrices: wp.array2d(dtype=wp.mat44f),
        out_points: wp.array2d(dtype=wp.vec3f),
        out_normals: wp.array2d(dtype=wp.vec3f),
    ):
        f, v = wp.tid()
        p = points[v]
        acc_p = wp.vec3f(0.0, 0.0, 0.0)
        if wp.static(with_normals):
            n = normals[v]
            acc_n = wp.vec3f(0.0, 0.0, 0.0)
        for k in range(indices.shape[1]):
            w = weights[v, k]
            if w != 0.0:
                m = matrices[f, indices[v, k]]
                acc_p += w * wp.transform_point(m, p)
                if wp.static(with_normals):
                    acc_n += w * wp.transform_vector(m, n)
        out_points[f, v] = acc_p
        if wp.static(with_normals):
            length = wp.length(acc_n)
            if length > 1.0e-12:
                acc_n = acc_n / length
            out_normals[f, v] = acc_n

    return lbs


# ---------------------------------------------------------------------------------------------------------
# per-frame bounds: the numpy reference and the kernel
# ---------------------------------------------------------------------------------------------------------


def bounds_numpy(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference for :meth:`WarpSkinner.bounds`: per-frame (F, 3) min and max of (F, V, 3) points."""
    points = np.asarray(points)
    return points.min(axis=1), points.max(axis=1)


@kernel_family
def bounds_kernel():
    """Per-frame axis-aligned bounds of (F, V) points: thread ``(f, s)`` reduces vertices ``s``,
    ``s + stride``, ... of frame ``f``, then merges into the frame's box with atomics: few atomics per
    frame, and min/max do not depend on the order (deterministic)."""
    wp = warp()

    @wp.kernel(**KERNEL_OPTIONS)
    def frame_bounds(
        points: wp.array2d(dtype=wp.vec3f),
        stride: int,
        lo: wp.array(dtype=wp.vec3f),
        hi: wp.array(dtype=wp.vec3f),
    ):
        f, s = wp.tid()
        big = 3.0e38
        a = wp.vec3f(big, big, big)
        b = wp.vec3f(-big, -big, -big)
        v = s
        while v < points.shape[1]:
            p = points[f, v]
            a = wp.min(a, p)
            b = wp.max(b, p)
            v += stride
        wp.atomic_min(lo, f, a)
        wp.atomic_max(hi, f, b)

    return frame_bounds


# ---------------------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------------------


class WarpSkinner:
    """Skins one (possibly concatenated) mesh for batches of frames on one Warp device.

    The rest data is uploaded once; :meth:`skin` takes a (F, J, 4, 4) matrix table per batch and returns
    numpy arrays (or keeps them on the device with :meth:`launch`, for benchmarks and renderers).
    """

    def __init__(self, skin: Skin, device: str | None = None) -> None:
        wp = warp()
        self.device = resolve_device(device)
        self.rest = skin
        self.with_normals = skin.normals is not None
        self._points = wp.array(skin.points, dtype=wp.vec3f, device=self.device)
        self._normals = (
            wp.array(skin.normals, dtype=wp.vec3f, device=self.device) if self.with_normals else None
        )
        self._indices = wp.array(skin.indices, dtype=wp.int32, device=self.device)
        self._weights = wp.array(skin.weights, dtype=wp.float32, device=self.device)
        # Build (or load) the kernels now, so the first batch does not pay for it.
        self._lbs = lbs_kernel(self.with_normals, device=self.device)
        self._bounds = bounds_kernel(device=self.device)

    def _buffers(self, frames: int):
        # Fresh outputs per launch: the numpy views handed out keep them alive, and a later launch (from
        # another thread, while the caller still writes the previous batch out) must not overwrite them.
        wp = warp()
        shape = (frames, self.rest.num_points)
        out_p = wp.empty(shape, dtype=wp.vec3f, device=self.device)
        out_n = wp.empty(shape, dtype=wp.vec3f, device=self.device) if self.with_normals else None
        return out_p, out_n

    def launch(self, matrices):
        """Launch on a (F, J) mat44f table (device array or numpy); returns device (points, normals)."""
        wp = warp()
        if not isinstance(matrices, wp.array):
            mats = np.ascontiguousarray(matrices, dtype=np.float32)
            matrices = wp.array(mats, dtype=wp.mat44f, device=self.device)
        frames = matrices.shape[0]
        out_p, out_n = self._buffers(frames)
        wp.launch(
            self._lbs,
            dim=(frames, self.rest.num_points),
            inputs=[self._points, self._normals, self._indices, self._weights, matrices],
            outputs=[out_p, out_n],
            device=self.device,
        )
        return out_p, out_n

    def bounds(self, out_points) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame axis-aligned bounds (F, 3) min and max of device points from :meth:`launch`."""
        wp = warp()
        frames = out_points.shape[0]
        lo = wp.full(frames, wp.vec3f(3.0e38, 3.0e38, 3.0e38), dtype=wp.vec3f, device=self.device)
        hi = wp.full(frames, wp.vec3f(-3.0e38, -3.0e38, -3.0e38), dtype=wp.vec3f, device=self.device)
        stride = 1 if self.device == "cpu" else 256
        wp.launch(
            self._bounds,
            dim=(frames, stride),
            inputs=[out_points, stride],
            outputs=[lo, hi],
            device=self.device,
        )
        return lo.numpy(), hi.numpy()

    def skin_with_bounds(self, matrices: np.ndarray):
        """Like :meth:`skin`, plus the per-frame bounds (F, 3) min and max of the posed points."""
        out_p, out_n = self.launch(matrices)
        lo, hi = self.bounds(out_p)
        points = out_p.numpy().reshape(-1, self.rest.num_points, 3)
        normals = out_n.numpy().reshape(-1, self.rest.num_points, 3) if out_n is not None else None
        return points, normals, lo, hi

    def skin(self, matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Posed points (F, V, 3) float32 and normals (or None) for a (F, J, 4, 4) matrix table."""
        out_p, out_n = self.launch(matrices)
        points = out_p.numpy().reshape(-1, self.rest.num_points, 3)
        normals = out_n.numpy().reshape(-1, self.rest.num_points, 3) if out_n is not None else None
        return points, normals


def skin_warp(
    skin: Skin, matrices: np.ndarray, device: str | None = "cpu"
) -> tuple[np.ndarray, np.ndarray | None]:
    """One-shot Warp LBS (see :class:`WarpSkinner` to reuse the uploaded rest data)."""
    return WarpSkinner(skin, device).skin(matrices)
