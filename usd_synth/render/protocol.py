"""The Renderer protocol: what a backend provides, in backend-neutral terms.

A backend is a class registered under the ``usd_synth.renderers`` entry-point group (see
:mod:`usd_synth.render.registry`). It reads the stage from its USD file only, never from the composer's
Python objects, so a stage written today renders the same tomorrow, on any backend.

``Renderer.open(stage_path, camera_path, resolution, passes)`` returns a :class:`RenderSession`, whose
``render(time_code)`` gives named layers for one frame:

==============  ===================  ================================================================
layer           array                meaning
==============  ===================  ================================================================
``rgb``         (H, W, 3) uint8      the lit colour image (sRGB)
``depth``       (H, W) float32       metres along the optical axis (camera-space z), 0 where nothing
``instance``    (H, W) uint16        instance id (0 background); ids in ``session.instances``
``semantic``    (H, W) uint16        semantic class id (0 background)
``normals``     (H, W, 3) float32    world-space unit normals, 0 where nothing (optional)
==============  ===================  ================================================================

Pixel (u, v) has its centre at integer coordinates, as :mod:`usd_synth.render.camera` defines; a backend
renders exactly the :class:`~usd_synth.render.camera.CameraModel` that ``session.camera(time)`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from usd_synth.render.camera import CameraModel

#: Layers a backend can render (``keypoints`` is a label pass, computed by the labels module).
IMAGE_PASSES = ("rgb", "depth", "instance", "semantic", "normals")
#: Every pass a user may ask for.
ALL_PASSES = (*IMAGE_PASSES, "keypoints")
#: What a render produces when the caller does not say.
DEFAULT_PASSES = ("rgb", "depth", "instance", "semantic")


@dataclass(frozen=True)
class Instance:
    """One labelled thing of the stage: its instance id, semantic id and class label."""

    instance_id: int
    semantic_id: int
    label: str

    def __iter__(self):  # unpacks as (instance id, semantic id, class label)
        return iter((self.instance_id, self.semantic_id, self.label))


@runtime_checkable
class RenderSession(Protocol):
    """One opened stage seen through one camera at one resolution."""

    #: prim path -> (instance id, semantic id, class label); actors first (ids 1..N in /World/Actors order).
    instances: dict[str, Instance]
    #: the passes this session renders
    passes: tuple[str, ...]

    def render(self, time_code: float) -> dict[str, np.ndarray]:
        """The named layers of one frame (see the module docstring)."""
        ...

    def camera(self, time_code: float) -> CameraModel:
        """The camera model used for the frame at ``time_code``."""
        ...

    def close(self) -> None:
        """Free the GL context and buffers (idempotent)."""
        ...


@runtime_checkable
class Renderer(Protocol):
    """A backend: a name, a one-line description and ``open``."""

    name: str
    description: str

    def open(
        self,
        stage_path: Path,
        camera_path: str | None,
        resolution: tuple[int, int],
        passes: tuple[str, ...] = DEFAULT_PASSES,
    ) -> RenderSession:
        """Open ``stage_path`` (a .usd/.usda/.usdc/.usdz file) for rendering through ``camera_path``
        (a prim path or a camera name under /World/Cameras; None: the first camera) at
        ``resolution`` = (width, height). Raise :class:`~usd_synth.errors.UsdSynthError` for bad input."""
        ...
