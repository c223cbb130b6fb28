"""A stand-in backend: flat grey images, the real camera model and instance table, no GL."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from usd_synth.render.camera import camera_model
from usd_synth.render.protocol import Instance
from usd_synth.render.scene_reader import find_cameras, open_usd, resolve_camera


class FakeSession:
    def __init__(self, stage_path: Path, camera, resolution, passes) -> None:
        self.stage = open_usd(stage_path)
        self.camera_path = resolve_camera(self.stage, find_cameras(self.stage), camera, stage_path)
        self.width, self.height = resolution
        self.passes = tuple(passes)
        actors = self.stage.GetPrimAtPath("/World/Actors")
        kids = actors.GetChildren() if actors else []
        self.instances = {str(p.GetPath()): Instance(i + 1, 1, "person") for i, p in enumerate(kids)}
        self.rendered: list[float] = []

    def camera(self, time_code):
        return camera_model(self.stage.GetPrimAtPath(self.camera_path), time_code, self.width, self.height)

    def render(self, time_code):
        self.rendered.append(time_code)
        h, w = self.height, self.width
        out = {
            "rgb": np.full((h, w, 3), 128, np.uint8),
            "depth": np.zeros((h, w), np.float32),
            "instance": np.zeros((h, w), np.uint16),
            "semantic": np.zeros((h, w), np.uint16),
            "normals": np.zeros((h, w, 3), np.float32),
        }
        return {k: v for k, v in out.items() if k in self.passes}

    def close(self) -> None:
        pass


class FakeRenderer:
    name = "fake"
    description = "flat grey frames (test backend)"

    def open(self, stage_path, camera_path=None, resolution=(320, 240), passes=("rgb",)):
        return FakeSession(Path(stage_path), camera_path, resolution, passes)
