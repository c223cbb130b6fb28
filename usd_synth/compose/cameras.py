"""Camera sampling: named views and trajectories around the actors, checked against USD's camera model.

A camera looks at the centre of the actors' bounds. Its position comes from a view (an azimuth relative to
the first actor's facing, an elevation, a distance) or a template mount (ceiling corner, pole); its path
from a trajectory (static, orbit, dolly, handheld shake). The focal length drawn from the config is then
lowered, if needed, until every corner of every actor's bound at every frame projects inside the image
(less a margin), with the same pinhole model as ``Gf.Camera`` (tan(fov/2) = aperture / (2 focal)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

VIEW_AZIMUTH = {
    "front": 0.0,
    "back": 180.0,
    "left": 90.0,
    "right": -90.0,
    "front-left": 45.0,
    "front-right": -45.0,
    "upper-left": 90.0,
    "upper-right": -90.0,
}
NEAR = 0.05
FAR = 500.0
#: The shortest focal length (mm) a camera gets (with a 36 mm aperture: a 150 degree horizontal view).
MIN_FOCAL = 5.0


@dataclass
class CameraPath:
    name: str
    view: str
    trajectory: str
    positions: np.ndarray  #: (F, 3)
    orientations: np.ndarray  #: (F, 4) quaternions (x, y, z, w), camera -Z towards the target
    focal_mm: float
    horizontal_aperture_mm: float
    vertical_aperture_mm: float
    params: dict


def look_rotation(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(F, 3, 3) camera-to-world rotations (columns x, y, z) with -z from ``eye`` to ``target``, z up."""
    back = eye - target
    back /= np.linalg.norm(back, axis=-1, keepdims=True)
    up = np.array([0.0, 0.0, 1.0])
    x = np.cross(up, back)
    x /= np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    y = np.cross(back, x)
    return np.stack([x, y, back], axis=-1)


def max_focal(eye, rot, corners, h_ap, v_ap, margin) -> float:
    """Largest focal length (mm) that keeps all ``corners`` (F, K, 3) inside the image; 0 if any is
    behind the near plane."""
    local = np.einsum("fkj,fji->fki", corners - eye[:, None], rot)  # world -> camera (rows @ R)
    depth = -local[..., 2]
    if np.any(depth <= NEAR * 2):
        return 0.0
    tx = np.abs(local[..., 0]) / depth
    ty = np.abs(local[..., 1]) / depth
    scale = 1.0 - margin
    need = max(float(tx.max()) / (h_ap / 2 * scale), float(ty.max()) / (v_ap / 2 * scale))
    return 1.0 / max(need, 1e-9)


def smooth_noise(rng: np.random.Generator, n: int, dims: int = 3, knots: int = 6) -> np.ndarray:
    """(n, dims) smooth noise in about [-1, 1]: a cubic-eased interpolation of random knots."""
    k = rng.uniform(-1, 1, (knots, dims))
    x = np.linspace(0, knots - 1, n)
    i0 = np.minimum(np.floor(x).astype(int), knots - 2)
    f = x - i0
    f = (f * f * (3 - 2 * f))[:, None]
    return k[i0] * (1 - f) + k[i0 + 1] * f


def quats(rot: np.ndarray) -> np.ndarray:
    return Rotation.from_matrix(rot).as_quat()  # (x, y, z, w)
