"""Shared fixtures: procedural motions and input files made on the fly (never the sample folder), and the
Warp ``device`` every kernel test runs on."""

from __future__ import annotations

import numpy as np
import pytest

from usd_synth.kinematics import REST_ROOT_QUAT
from usd_synth.motion.model import Motion
from usd_synth.rotations import axis_angle_to_quat, quat_mul
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS, template_offsets


def smooth_random_motion(num_frames: int = 90, fps: float = 30.0, seed: int = 0, amplitude: float = 0.5,
                         offsets: np.ndarray | None = None) -> Motion:  # fmt: skip
    """A smooth, bounded random motion: each joint swings on slow sines; the root turns and walks."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames)[:, None, None] / fps
    freq = rng.uniform(0.2, 1.2, (1, NUM_JOINTS, 3))
    phase = rng.uniform(0, 2 * np.pi, (1, NUM_JOINTS, 3))
    aa = amplitude * np.sin(2 * np.pi * freq * t + phase)
    # Hinges bend one way only, as in a real body: knees about +x, elbows forward.
    bend = amplitude * (1.2 + np.sin(2 * np.pi * freq[..., 0] * t[..., 0] + phase[..., 0]))
    for name, axis in (("left_knee", (1, 0, 0)), ("right_knee", (1, 0, 0)),
                       ("left_elbow", (0, -1, 0)), ("right_elbow", (0, 1, 0))):  # fmt: skip
        j = JOINT_INDEX[name]
        aa[:, j] = bend[:, j, None] * np.array(axis)
    rot = axis_angle_to_quat(aa)
    rot[:, 0] = quat_mul(REST_ROOT_QUAT, rot[:, 0])
    tt = t[:, 0, 0]
    trans = np.stack([0.5 * np.sin(tt), -0.8 * tt, 0.9 + 0.03 * np.sin(4 * tt)], axis=-1)
    return Motion(
        fps=fps,
        rotations=rot,
        translation=trans,
        offsets=template_offsets() if offsets is None else offsets,
        label="random",
    )


@pytest.fixture
def random_motion() -> Motion:
    return smooth_random_motion()


@pytest.fixture(params=["cpu", "cuda:0"], ids=["cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> str:
    """A Warp device name for kernel tests: the CPU always, and the first CUDA device when Warp sees one
    (the ``cuda`` case is skipped on machines without a GPU). Warp starts only when a test asks for CUDA."""
    if request.param != "cpu":
        from usd_synth.kernels.device import warp

        if warp().get_cuda_device_count() == 0:
            pytest.skip("no CUDA device on this machine")
    return request.param


def yup(points_zup: np.ndarray) -> np.ndarray:
    """Z-up world points back to a Y-up frame (the inverse of the documented import conversion)."""
    return np.stack([points_zup[..., 0], points_zup[..., 2], -points_zup[..., 1]], axis=-1)


def camera(points_zup: np.ndarray) -> np.ndarray:
    """Z-up world points to camera coordinates (x right, y down, z forward)."""
    return np.stack([points_zup[..., 0], -points_zup[..., 2], points_zup[..., 1]], axis=-1)
