"""Small vectorized rotation helpers on numpy arrays.

Quaternions are ``(x, y, z, w)`` (Warp's, SciPy's and GfQuat's memory order), unit length, and act on
column vectors: ``quat_apply(q, v) = R(q) @ v``. Every function broadcasts over leading axes.
"""

from __future__ import annotations

import numpy as np


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``)."""
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Conjugate, the inverse of a unit quaternion."""
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def quat_normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternions; the sign is left as it is."""
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_apply(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4)."""
    xyz = q[..., :3]
    t = 2.0 * np.cross(xyz, v)
    return v + q[..., 3:4] * t + np.cross(xyz, t)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from unit quaternions (..., 4)."""
    x, y, z, w = np.moveaxis(q, -1, 0)
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz = x * y, x * z, y * z
    wx, wy, wz = w * x, w * y, w * z
    m = np.stack(
        [
            1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy),
            2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx),
            2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy),
        ],
        axis=-1,
    )  # fmt: skip
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) from rotation matrices (..., 3, 3), with ``w >= 0``.

    Uses the numerically stable branch per element (largest of w, x, y, z first).
    """
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # Four candidate solutions, each accurate where its leading component is large.
    tw = 1 + m00 + m11 + m22
    tx = 1 + m00 - m11 - m22
    ty = 1 - m00 + m11 - m22
    tz = 1 - m00 - m11 + m22
    cands = np.stack(
        [
            np.stack([m21 - m12, m02 - m20, m10 - m01, tw], -1),
            np.stack([tx, m01 + m10, m02 + m20, m21 - m12], -1),
            np.stack([m01 + m10, ty, m12 + m21, m02 - m20], -1),
            np.stack([m02 + m20, m12 + m21, tz, m10 - m01], -1),
        ],
        axis=-2,
    )
    best = np.argmax(np.stack([tw, tx, ty, tz], -1), axis=-1)
    q = np.take_along_axis(cands, best[..., None, None], axis=-2)[..., 0, :]
    q = quat_normalize(q)
    return np.where(q[..., 3:4] < 0, -q, q)


def axis_angle_to_quat(aa: np.ndarray) -> np.ndarray:
    """Unit quaternions from axis-angle vectors (..., 3) (SMPL's pose parameters)."""
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half)/angle, with its limit 1/2 near zero.
    small = angle < 1e-8
    scale = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate([aa * scale, np.cos(half)], axis=-1)


def quat_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """Axis-angle vectors (..., 3) with angle in [0, pi], from unit quaternions."""
    q = np.where(q[..., 3:4] < 0, -q, q)
    s = np.linalg.norm(q[..., :3], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., 3:4])
    small = s < 1e-8
    scale = np.where(small, 2.0, angle / np.where(small, 1.0, s))
    return q[..., :3] * scale


def quat_pow(q: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """``q`` raised to ``t`` (the slerp from identity): the same axis, ``t`` times the angle."""
    return axis_angle_to_quat(quat_to_axis_angle(q) * np.asarray(t)[..., None])


def quat_about(axis: np.ndarray | tuple[float, float, float], angle: np.ndarray | float) -> np.ndarray:
    """Quaternions for rotations by ``angle`` (radians, any shape) about a fixed unit ``axis``."""
    angle = np.asarray(angle, dtype=np.float64)[..., None]
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    return np.concatenate([np.sin(angle / 2) * axis, np.cos(angle / 2)], axis=-1)


def make_continuous(q: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip signs along ``axis`` (time) so consecutive quaternions lie in the same hemisphere.

    q and -q are the same rotation; interpolation and filtering need the sign chosen consistently.
    """
    q = np.moveaxis(np.array(q, dtype=np.float64, copy=True), axis, 0)
    if q.shape[0] > 1:
        dots = np.sum(q[1:] * q[:-1], axis=-1)
        flips = np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)
        q[1:] *= flips[..., None]
    return np.moveaxis(q, 0, axis)


def quat_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (radians) of the rotation between unit quaternions ``a`` and ``b``, sign-independent."""
    d = np.abs(np.sum(a * b, axis=-1)).clip(0.0, 1.0)
    return 2.0 * np.arccos(d)
