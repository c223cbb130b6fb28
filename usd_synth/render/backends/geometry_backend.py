"""The ``geometry`` backend: no pixels, only the stage's cameras and posed actors, for skeleton datasets.

Why: skeleton-based recognizers and the optimize loop's built-in evaluator need 2D/3D keypoints through
the dataset's cameras, not images; rasterizing 48 frames to throw them away costs ~90% of a clip. This
backend reads the stage like any other (from the USD file only) and returns no layers, so the labels
module computes everything geometrically: keypoints projected through USD's own camera model, visibility
= inside the image and in front of the camera (no occlusion test, as there is no depth), boxes from the
projected skinned mesh instead of an instance mask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.render.camera import CameraModel, camera_model
from usd_synth.render.protocol import DEFAULT_PASSES, Instance


class GeometryRenderer:
    """Labels without pixels (see the module docstring)."""

    name = "geometry"
    description = "no images: cameras and keypoint labels only (fast skeleton datasets)"
    #: render_clip reads this: a backend without images takes only the keypoints pass.
    images = False

    def open(
        self,
        stage_path: Path,
        camera_path: str | None = None,
        resolution: tuple[int, int] = (320, 240),
        passes: tuple[str, ...] = DEFAULT_PASSES,
    ) -> GeometrySession:
        return GeometrySession(Path(stage_path), camera_path, resolution, passes)


class GeometrySession:
    """One stage through one camera; :meth:`render` returns no layers."""

    passes: tuple[str, ...] = ()

    def __init__(self, stage_path: Path, camera: str | None, resolution, passes) -> None:
        from usd_synth.render.clip import parse_resolution
        from usd_synth.render.scene_reader import read_scene, resolve_camera

        asked = [p for p in passes if p not in ("depth", "instance", "keypoints")]
        if asked:
            raise UsdSynthError(
                f"passes: the geometry backend renders no images (asked for {', '.join(asked)}); "
                "use it with the keypoints pass",
                field="passes",
            )
        self.width, self.height = parse_resolution(resolution)
        self.desc = read_scene(stage_path)
        self.camera_path = resolve_camera(self.desc.stage, self.desc.cameras, camera, stage_path)
        self.instances: dict[str, Instance] = dict(self.desc.instances)

    def render(self, time_code: float) -> dict[str, np.ndarray]:
        return {}

    def camera(self, time_code: float) -> CameraModel:
        prim = self.desc.stage.GetPrimAtPath(self.camera_path)
        return camera_model(prim, float(time_code), self.width, self.height)

    def close(self) -> None:
        pass
