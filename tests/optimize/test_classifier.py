"""The built-in evaluator: features, the tiny TCN, training and scoring on separable projected motions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from usd_synth.compose.config import CamerasConfig
from usd_synth.errors import UsdSynthError
from usd_synth.motion.library import make_motion
from usd_synth.optimize.classifier import FEATURES, T_FIXED, TinyTCN, normalise, train_and_score
from usd_synth.optimize.projection import real_views

ACTIONS = ("walk", "wave", "squat")


@pytest.fixture(scope="module")
def split():
    """Three actions x 4 motion seeds x 4 views; motion seeds 0-1 train, 2-3 test."""
    cc = CamerasConfig()
    train_x, train_y, test_x, test_y = [], [], [], []
    for label, name in enumerate(ACTIONS):
        for seed in range(4):
            views = real_views(make_motion(name, seed=seed), cc, 4, (name, seed), 640, 360)
            xs, ys = (train_x, train_y) if seed < 2 else (test_x, test_y)
            xs.extend(views)
            ys.extend([label] * len(views))
    return train_x, train_y, test_x, test_y


def _clip(seed: int = 0, t: int = 45) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(t, 24, 2)) * 20 + [300, 200]).astype(np.float32)


def test_normalise_shape_and_finite():
    kp = _clip()
    kp[3, 5] = np.nan
    kp[10] = np.nan
    out = normalise(kp)
    assert out.shape == (T_FIXED, FEATURES) == (32, 50) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    for odd in (np.zeros((0, 24, 2)), np.zeros((1, 24, 2)), np.full((7, 24, 2), np.nan)):
        res = normalise(odd)
        assert res.shape == (32, 50) and np.all(np.isfinite(res))
    with pytest.raises(UsdSynthError):
        normalise(np.zeros((10, 17, 2)))


def test_normalise_invariant_to_translation_and_scale():
    kp = _clip(1).astype(np.float64)
    ref = normalise(kp)
    np.testing.assert_allclose(normalise(kp + [123.0, -45.0]), ref, atol=1e-4)
    np.testing.assert_allclose(normalise(kp * 2.5 + [7.0, 9.0]), ref, atol=1e-4)
    # pelvis-centred: joint 0 sits at the origin; the velocity sees locomotion
    assert np.allclose(ref[:, :2], 0)
    moving = kp + np.arange(len(kp))[:, None, None] * [5.0, 0.0]
    assert normalise(moving)[1:, -2].mean() > ref[1:, -2].mean()


def test_tiny_tcn_shapes():
    net = TinyTCN(5)
    assert net(torch.zeros(3, FEATURES, T_FIXED)).shape == (3, 5)


def test_separable_actions_are_learned(split):
    train_x, train_y, test_x, test_y = split
    res = train_and_score(train_x, train_y, test_x, test_y, num_classes=3)
    assert set(res) == {"mean", "std", "scores", "seconds"}
    assert len(res["scores"]) == 3 and all(0 <= s <= 1 for s in res["scores"])
    assert res["mean"] >= 0.8, res
    again = train_and_score(train_x, train_y, test_x, test_y, num_classes=3, seeds=(1,))
    assert again["scores"] == res["scores"][1:2]  # deterministic per seed


def test_shuffled_labels_score_near_chance(split):
    train_x, train_y, test_x, test_y = split
    shuffled = list(np.random.default_rng(0).permutation(train_y))
    res = train_and_score(train_x, shuffled, test_x, test_y, num_classes=3, seeds=(0, 1), epochs=100)
    assert res["mean"] <= 0.6, res


def test_degenerate_inputs(split):
    train_x, train_y, test_x, test_y = split
    with pytest.raises(UsdSynthError) as err:
        train_and_score(train_x, train_y, [], [], num_classes=3)
    assert err.value.field == "held_out"
    empty = train_and_score([], [], test_x[:4], test_y[:4], num_classes=3, seeds=(0,))
    assert 0 <= empty["mean"] <= 1
    keep = [i for i, y in enumerate(train_y) if y != 2]  # class 2 never seen in training
    missing = train_and_score(
        [train_x[i] for i in keep],
        [train_y[i] for i in keep],
        test_x,
        test_y,
        num_classes=3,
        seeds=(0,),
        epochs=20,
    )
    assert 0 <= missing["mean"] <= 1
    with pytest.raises(UsdSynthError):
        train_and_score(train_x, train_y[:-1], test_x, test_y, num_classes=3)
