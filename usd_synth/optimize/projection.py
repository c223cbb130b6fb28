"""2D keypoints of a motion seen through cameras drawn like the dataset's, with the labels' camera model.

The optimizer's evaluator trains on 2D skeleton sequences. Its "real" clips come from projecting motions
(world, Z up, metres) through :class:`~usd_synth.render.camera.CameraModel`, the same pinhole (OpenCV axes:
x right, y down, z forward; pixel centres at integer coordinates) every label is projected with, so real and
synthetic keypoints share one geometry. Cameras look at the actor from a distance, elevation and focal
length drawn from a :class:`~usd_synth.compose.config.CamerasConfig`, as the scene composer aims its own.
"""

from __future__ import annotations

import numpy as np

from usd_synth.compose.config import CamerasConfig
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.randomize.seeding import KeyPart, rng_for
from usd_synth.render.camera import CameraModel

#: Fraction of (frame, joint) keypoints a sampled camera must see inside the image.
MIN_VISIBLE = 0.8
#: Nearest a joint may come to a sampled camera along its axis (m): no actor walks past the lens.
MIN_DEPTH = 1.0
#: Tries at the drawn distance before the distance grows.
TRIES = 20
#: Growth of the distance per further try, and the number of such tries.
GROW = 1.25
GROW_TRIES = 20


def look_at_camera(
    eye,
    target,
    focal_mm: float,
    h_aperture_mm: float,
    width: int,
    height: int,
    near: float = 0.05,
    far: float = 100.0,
    path: str = "/look_at",
) -> CameraModel:
    """A pinhole camera at ``eye`` whose optical axis passes through ``target`` (world Z up stays image up).

    Square pixels: the vertical aperture is ``h_aperture_mm * height / width``, so ``fx == fy ==
    width * focal_mm / h_aperture_mm``; the principal point is the image centre ``((W-1)/2, (H-1)/2)``.
    """
    eye = np.asarray(eye, dtype=np.float64).reshape(3)
    target = np.asarray(target, dtype=np.float64).reshape(3)
    if width < 1 or height < 1:
        raise UsdSynthError(f"resolution must be positive, got {width}x{height}", field="resolution")
    if not (focal_mm > 0 and h_aperture_mm > 0):
        raise UsdSynthError("focal length and aperture must be positive", field="camera")
    fwd = target - eye
    norm = np.linalg.norm(fwd)
    if not np.isfinite(norm) or norm < 1e-9:
        raise UsdSynthError("camera eye and target coincide", field="camera")
    fwd /= norm
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(fwd, up)
    if np.linalg.norm(right) < 1e-6:  # looking straight up or down: image up is world +Y
        right = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    rot = np.stack([right, down, fwd])  # rows: camera axes in world coordinates
    w2c = np.eye(4)
    w2c[:3, :3] = rot
    w2c[:3, 3] = -rot @ eye
    f = width * float(focal_mm) / float(h_aperture_mm)
    K = np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
    return CameraModel(path, int(width), int(height), K, w2c, float(near), float(far))


def visible_fraction(positions: np.ndarray, camera: CameraModel) -> float:
    """Fraction of the points (..., 3) in front of the camera and inside its image."""
    uv, z = camera.project(positions)
    ok = camera.in_image(uv) & (z > camera.near)
    return float(ok.mean()) if ok.size else 0.0


def frames_clip(positions: np.ndarray, camera: CameraModel) -> bool:
    """Whether ``camera`` frames the clip: :data:`MIN_VISIBLE` of its keypoints in the image and no joint
    nearer than :data:`MIN_DEPTH` (finite joints only)."""
    _, z = camera.project(positions)
    z = z[np.isfinite(z)]
    return bool(z.size) and float(z.min()) >= MIN_DEPTH and visible_fraction(positions, camera) >= MIN_VISIBLE


def sample_camera(
    positions: np.ndarray, cameras_cfg: CamerasConfig, rng: np.random.Generator, width: int, height: int
) -> CameraModel:
    """A camera aimed at the mean of all joints of ``positions`` (T, 24, 3), from an azimuth uniform in
    [0, 360), an elevation, a distance and a focal length drawn from ``cameras_cfg``'s ranges.

    A camera that does not frame the clip (:func:`frames_clip`: fewer than :data:`MIN_VISIBLE` of the
    keypoints in the image over the clip, or a joint nearer than :data:`MIN_DEPTH`) is drawn again
    (:data:`TRIES` times); then the last draw moves back by :data:`GROW` per try until it frames the clip.
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 3 or p.shape[0] == 0:
        raise UsdSynthError(f"positions must be (T, J, 3) with T >= 1, got {p.shape}", field="positions")
    target = np.nanmean(p.reshape(-1, 3), axis=0)
    if not np.all(np.isfinite(target)):
        raise UsdSynthError("positions have no finite joint", field="positions")
    cc = cameras_cfg
    hap = cc.horizontal_aperture_mm

    def make(az: float, el: float, d: float, focal: float) -> CameraModel:
        direction = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        return look_at_camera(target + d * direction, target, focal, hap, width, height)

    for _ in range(TRIES):
        az = np.radians(rng.uniform(0.0, 360.0))
        el = np.radians(rng.uniform(cc.elevation_deg.min, cc.elevation_deg.max))
        d = float(rng.uniform(cc.distance_m.min, cc.distance_m.max))
        focal = float(rng.uniform(cc.focal_length_mm.min, cc.focal_length_mm.max))
        camera = make(az, el, d, focal)
        if frames_clip(p, camera):
            return camera
    for _ in range(GROW_TRIES):
        d *= GROW
        camera = make(az, el, d, focal)
        if frames_clip(p, camera):
            return camera
    return camera  # a clip too large to frame: the farthest camera tried


def project_motion(motion: Motion | np.ndarray, camera: CameraModel) -> np.ndarray:
    """Pixel coordinates (T, 24, 2), float32, of a motion's joints (or of joint positions (T, 24, 3));
    joints behind the camera are NaN."""
    positions = motion.joint_positions() if isinstance(motion, Motion) else np.asarray(motion)
    uv, _ = camera.project(positions)
    return uv.astype(np.float32)


def real_views(
    motion: Motion,
    cameras_cfg: CamerasConfig,
    n_views: int,
    seed_key: tuple[KeyPart, ...],
    width: int,
    height: int,
) -> list[np.ndarray]:
    """``n_views`` projections (T, 24, 2) of ``motion`` through cameras from :func:`sample_camera`, drawn
    from ``rng_for(0, "real-views", *seed_key)`` so the same key gives the same views."""
    if n_views < 0:
        raise UsdSynthError(f"n_views must be non-negative, got {n_views}", field="n_views")
    rng = rng_for(0, "real-views", *seed_key)
    positions = motion.joint_positions()
    return [
        project_motion(positions, sample_camera(positions, cameras_cfg, rng, width, height))
        for _ in range(n_views)
    ]
