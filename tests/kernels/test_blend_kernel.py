"""The batched slerp kernel against its numpy reference, on every device the ``device`` fixture offers
(CPU, and CUDA when one is present)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from usd_synth.errors import UsdSynthError
from usd_synth.kernels import blend as kb
from usd_synth.kernels.device import warp


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    q = rng.normal(size=shape + (4,))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _inputs(
    seed: int = 0, pairs: int = 3, frames: int = 40, joints: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs, with the hard cases planted: equal, antipodal, nearly equal, nearly opposite."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    a = _unit(rng, (pairs, frames, joints))
    b = _unit(rng, (pairs, frames, joints))
    if frames >= 4:
        b[0, 0] = a[0, 0]
        b[0, 1] = -a[0, 1]
        near = a[0, 2] + 1e-4 * rng.normal(size=a[0, 2].shape)
        b[0, 2] = near / np.linalg.norm(near, axis=-1, keepdims=True)
        b[0, 3] = -b[0, 2]
    return a, b


def test_reference_matches_scipy_slerp() -> None:
    """The reference is a real shortest-arc slerp: compare with SciPy's Slerp on a handful of pairs."""
    from scipy.spatial.transform import Slerp

    a, b = _inputs(1, pairs=1, frames=6, joints=3)
    for f in range(6):
        for j in range(3):
            for w in (0.0, 0.3, 0.7, 1.0):
                ref = Slerp([0.0, 1.0], Rotation.from_quat([a[0, f, j], b[0, f, j]]))([w]).as_quat()[0]
                got = kb.slerp_np(a[0, f, j], b[0, f, j], w)
                assert min(np.abs(ref - got).max(), np.abs(ref + got).max()) < 1e-9


def test_kernel_matches_reference(device: str) -> None:
    a, b = _inputs(2)
    weights = np.array([0.0, 0.1, 0.333, 0.5, 0.9, 1.0])
    got = kb.blend_rotations(a, b, weights, device=device)
    ref = kb.blend_rotations_np(a, b, weights)
    assert got.shape == (3, 6, 40, 24, 4) and got.dtype == np.float32
    assert np.abs(got - ref).max() < 1e-5
    assert np.abs(np.linalg.norm(got, axis=-1) - 1.0).max() < 1e-5


def test_endpoints_and_shortest_arc(device: str) -> None:
    a, b = _inputs(3)
    out = kb.blend_rotations(a, b, np.array([0.0, 0.5, 1.0]), device=device)
    a32 = a.astype(np.float32)
    b32 = np.where(np.sum(a * b, -1, keepdims=True) < 0, -b, b).astype(np.float32)
    assert np.array_equal(out[:, 0], a32)  # w = 0 gives A bit for bit
    assert np.abs(out[:, 2] - b32).max() < 1e-7  # w = 1 gives B in A's hemisphere
    # Shortest arc: the midpoint is half way, never the long way round.
    angle_ab = 2 * np.arccos(np.clip(np.abs(np.sum(a * b, -1)), 0, 1))
    angle_am = 2 * np.arccos(np.clip(np.abs(np.sum(a * out[:, 1], -1)), 0, 1))
    assert np.abs(angle_am - angle_ab / 2).max() < 1e-3


def test_per_pair_weights(device: str) -> None:
    a, b = _inputs(4, pairs=2, frames=5)
    w = np.array([[0.2, 0.4], [0.6, 0.8]])
    got = kb.blend_rotations(a, b, w, device=device)
    assert np.abs(got - kb.blend_rotations_np(a, b, w)).max() < 1e-5
    assert np.abs(got[1, 0] - kb.slerp_np(a[1], b[1], 0.6)).max() < 1e-5


def test_empty_batch_needs_no_launch(device: str) -> None:
    a, b = _inputs(7, pairs=2, frames=0)
    out = kb.blend_rotations(a, b, [0.5], device=device)
    assert out.shape == (2, 1, 0, 24, 4) and out.dtype == np.float32


def test_bad_shapes_and_weights() -> None:
    a, b = _inputs(5, pairs=1, frames=2)
    with pytest.raises(UsdSynthError, match="shape"):
        kb.blend_rotations(a, b[:, :1], [0.5])
    with pytest.raises(UsdSynthError, match=r"\[0, 1\]"):
        kb.blend_rotations(a, b, [1.2])
    with pytest.raises(UsdSynthError, match="weights must have shape"):
        kb.blend_rotations_np(a, b, np.ones((2, 3)))


def test_batch_of_64_pairs_by_9_weights_is_one_launch(monkeypatch: pytest.MonkeyPatch, device: str) -> None:
    """The acceptance batch (64 pairs x 9 weights x 200 frames x 24 joints) goes through one launch."""
    wp = warp()
    launches = []
    real_launch = wp.launch

    def counting_launch(*args, **kwargs):
        launches.append(kwargs.get("dim"))
        return real_launch(*args, **kwargs)

    monkeypatch.setattr(wp, "launch", counting_launch)
    a, b = _inputs(6, pairs=64, frames=200)
    weights = np.linspace(0.1, 0.9, 9)
    out = kb.blend_rotations(a, b, weights, device=device)
    assert launches == [(64, 200, 24)]  # one thread per pair, frame and joint, looping over weights
    assert out.shape == (64, 9, 200, 24, 4)
    rows = [0, 31, 63]  # spot-check against the reference without building the whole float64 batch
    assert np.abs(out[rows] - kb.blend_rotations_np(a[rows], b[rows], weights)).max() < 1e-5
