"""Shared inputs for the composer tests: built-in motions written once per session, and ten composed
scenes (seeds 0..9) reused by the acceptance checks, so the default run stays short."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from usd_synth.compose import compose_scene
from usd_synth.motion.model import Motion
from usd_synth.rotations import axis_angle_to_quat, quat_mul
from usd_synth.skeleton import JOINT_INDEX
from usd_synth.usd.motion_io import write_motion

from ..conftest import smooth_random_motion

#: Ten consecutive seeds. Templates are stratified over consecutive seeds (a fixed shuffled cycle), so ten
#: seeds meet all seven templates unless the actors do not fit one.
SEEDS = range(0, 10)


@pytest.fixture(scope="session")
def motions(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("motions")
    out = {}
    for name, frames, fps, seed, moves in (
        ("walk", 75, 30.0, 1, True),  # walks about 2 m
        ("wave", 60, 30.0, 2, False),
        ("squat", 60, 20.0, 3, False),  # another frame rate: resampled to the scene's 30 fps
    ):
        out[name] = write_motion(procedural(name, frames, fps, seed, moves), folder / f"{name}.usd")
    return out


def procedural(label: str, frames: int, fps: float, seed: int, moves: bool) -> Motion:
    """A smooth procedural motion labelled ``label`` (walking along -Y, or in place)."""
    m = smooth_random_motion(frames, fps, seed, amplitude=0.15)
    # arms down (the rest pose holds them out sideways): about the body's forward axis at the shoulders
    for joint, sign in (("left_shoulder", -1.0), ("right_shoulder", 1.0)):
        down = axis_angle_to_quat(np.array([0.0, 0.0, sign * 1.2]))
        j = JOINT_INDEX[joint]
        m.rotations[:, j] = quat_mul(np.broadcast_to(down, m.rotations[:, j].shape), m.rotations[:, j])
    if not moves:
        m.translation[:, :2] = 0.05 * np.sin(np.arange(frames) / fps)[:, None]
    m.label = label
    return m


@pytest.fixture(scope="session")
def scenes(tmp_path_factory, motions) -> dict[int, Path]:
    """Ten scenes from the same two motions, one per seed."""
    root = tmp_path_factory.mktemp("scenes")
    out = {}
    for seed in SEEDS:
        compose_scene([motions["walk"], motions["squat"]], root / f"s{seed}", seed)
        out[seed] = root / f"s{seed}" / "scene.usda"
    return out
