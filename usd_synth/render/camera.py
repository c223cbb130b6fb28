"""The camera model every backend and every label uses: USD's own, expressed in OpenCV terms.

Why one model: labels must agree with pixels whatever renders them. A backend is given the intrinsics and
the world-to-camera transform from here, and labels project with the same numbers, so a stage rendered in
Omniverse later gets the same labels as long as that renderer honours USD's camera (it does).

What USD defines (``UsdGeom.Camera`` -> ``Gf.Camera``): a pinhole with ``focalLength`` and the film window
``horizontalAperture`` x ``verticalAperture`` (same unit as the focal length), shifted by the aperture
offsets, looking down the camera's -Z with +Y up; ``clippingRange`` gives near and far. An image of another
aspect ratio than the film window is *conformed* the way USD renderers do it by default
(``CameraUtilFit``): the window grows in width or height, never shrinks, so everything on the film stays
in the image.

What we give (OpenCV): ``K`` with ``fx = W * focal / aperture_h``, ``fy = H * focal / aperture_v`` (after
conforming), and the principal point at ``cx = (W - 1) / 2 - W * offset_h / aperture_h``,
``cy = (H - 1) / 2 + H * offset_v / aperture_v`` (a film window shifted right sees more of the right, so
the optical axis lands left of the centre). Pixel-centre convention: **pixel (u, v) has its centre at
integer coordinates (u, v)**, as OpenCV and COCO keypoints use; the image spans [-0.5, W - 0.5] x [-0.5,
H - 0.5]. ``world_to_camera`` maps world points (Z up, metres) into camera axes x right, y down, z forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pxr import Usd, UsdGeom

from usd_synth.errors import UsdSynthError

#: USD camera axes (x right, y up, looking down -z) -> OpenCV camera axes (x right, y down, z forward).
USD_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class CameraModel:
    """One camera at one time code, for one image size."""

    path: str
    width: int
    height: int
    K: np.ndarray  # (3, 3)
    world_to_camera: np.ndarray  # (4, 4), OpenCV axes
    near: float
    far: float

    @property
    def camera_to_world(self) -> np.ndarray:
        return np.linalg.inv(self.world_to_camera)

    @property
    def position(self) -> np.ndarray:
        """The camera centre in the world (3,)."""
        return self.camera_to_world[:3, 3]

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) in camera coordinates (OpenCV axes)."""
        p = np.asarray(points, dtype=np.float64)
        return p @ self.world_to_camera[:3, :3].T + self.world_to_camera[:3, 3]

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (..., 2) and depth along the optical axis (...,) of world points.

        Points behind the camera get NaN pixel coordinates (their depth is still returned).
        """
        cam = self.to_camera(points)
        z = cam[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam @ self.K.T)[..., :2] / z[..., None]
        uv[z <= 0] = np.nan
        return uv, z

    def in_image(self, uv: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Whether pixel coordinates fall inside the image (``margin`` pixels of slack)."""
        u, v = uv[..., 0], uv[..., 1]
        lo = -0.5 - margin
        return (u >= lo) & (v >= lo) & (u <= self.width - 0.5 + margin) & (v <= self.height - 0.5 + margin)


def conform_fit(aperture_h: float, aperture_v: float, aspect: float) -> tuple[float, float]:
    """The film window grown in width or height to the image ``aspect`` (USD's ``CameraUtilFit``)."""
    if aperture_h / aperture_v > aspect:
        return aperture_h, aperture_h / aspect
    return aperture_v * aspect, aperture_v


def camera_model(prim: Usd.Prim, time: float, width: int, height: int) -> CameraModel:
    """The :class:`CameraModel` of the ``UsdGeom.Camera`` at ``prim`` at ``time`` for a ``width`` x
    ``height`` image: intrinsics from USD's own ``Gf.Camera``, the pose from the prim's world transform."""
    if not prim or not prim.IsA(UsdGeom.Camera):
        raise UsdSynthError(f"{prim.GetPath() if prim else 'camera'} is not a UsdGeom.Camera", field="camera")
    if width < 1 or height < 1:
        raise UsdSynthError(f"resolution must be positive, got {width}x{height}", field="resolution")
    gf = UsdGeom.Camera(prim).GetCamera(Usd.TimeCode(time))
    if gf.focalLength <= 0 or gf.horizontalAperture <= 0 or gf.verticalAperture <= 0:
        raise UsdSynthError(f"{prim.GetPath()}: focal length and apertures must be positive", field="camera")
    hap, vap = conform_fit(gf.horizontalAperture, gf.verticalAperture, width / height)
    fx = width * gf.focalLength / hap
    fy = height * gf.focalLength / vap
    cx = (width - 1) / 2 - width * gf.horizontalApertureOffset / hap
    cy = (height - 1) / 2 + height * gf.verticalApertureOffset / vap
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    # Gf matrices act on row vectors: transpose to the column-vector convention.
    cam_to_world = np.array(gf.transform, dtype=np.float64).T
    world_to_usd_cam = np.linalg.inv(cam_to_world)
    w2c = np.eye(4)
    w2c[:3, :3] = USD_TO_OPENCV @ world_to_usd_cam[:3, :3]
    w2c[:3, 3] = USD_TO_OPENCV @ world_to_usd_cam[:3, 3]
    near, far = gf.clippingRange.min, gf.clippingRange.max
    return CameraModel(str(prim.GetPath()), int(width), int(height), K, w2c, float(near), float(far))
