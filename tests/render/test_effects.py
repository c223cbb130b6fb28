"""Camera effects: shapes and dtypes kept, deterministic for a seed, config errors name the key."""

from __future__ import annotations

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.randomize import rng_for
from usd_synth.render.effects import (
    EffectsConfig,
    apply_effects,
    effects_config,
    jpeg_round_trip,
    sample_effects,
)

ALL_ON = {
    "noise": {"probability": 1.0},
    "motion_blur": {"probability": 1.0},
    "defocus": {"probability": 1.0},
    "exposure": {"probability": 1.0},
    "jpeg": {"probability": 1.0},
    "video": {"crf": {"min": 20, "max": 28}},
}


def clip(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.zeros((5, 40, 56, 3), np.uint8)
    base[:, 10:30, 15:40] = rng.integers(100, 255, 3)
    for t in range(5):
        base[t] = np.roll(base[t], 3 * t, axis=1)
    return base


def run(config, seed: int) -> tuple[np.ndarray, dict]:
    rng = rng_for(seed, "effects", "clip-0")
    plan = sample_effects(effects_config(config), rng)
    return apply_effects(clip(), plan, rng), plan


@pytest.mark.parametrize(
    "config",
    [ALL_ON]
    + [{k: ALL_ON[k]} for k in ("noise", "defocus", "exposure", "jpeg")]
    + [{"motion_blur": {"probability": 1.0, "kind": k}} for k in ("frames", "kernel")],
)
def test_effects_keep_shape_dtype_and_are_deterministic(config):
    a, plan_a = run(config, 7)
    b, plan_b = run(config, 7)
    assert a.shape == clip().shape and a.dtype == np.uint8
    assert plan_a == plan_b
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, clip())  # it did something
    c, _ = run(config, 8)
    if "noise" in config or len(config) > 1:
        assert not np.array_equal(a, c)


def test_plan_records_every_effect_and_defaults_are_off():
    _, plan = run(ALL_ON, 1)
    assert {"noise", "motion_blur", "defocus", "exposure", "jpeg"} <= set(plan)
    assert 20 <= plan["crf"] <= 28
    out, plan = run({}, 1)
    assert plan == {"crf": 18}
    np.testing.assert_array_equal(out, clip())
    assert effects_config(None) == EffectsConfig()


def test_probability_is_honoured():
    config = effects_config({"defocus": {"probability": 0.3}})
    hits = sum("defocus" in sample_effects(config, rng_for(0, "e", i)) for i in range(400))
    assert 80 < hits < 160


def test_jpeg_round_trip_keeps_the_image_close():
    f = clip()[0]
    back = jpeg_round_trip(f, 90)
    assert back.shape == f.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - f).mean() < 6


@pytest.mark.parametrize(
    "config, key",
    [
        ({"noise": {"probablity": 0.5}}, "effects.noise.probablity"),
        ({"noise": {"probability": 1.5}}, "effects.noise.probability"),
        ({"defocus": {"sigma_px": {"min": 2, "max": 1}}}, "effects.defocus.sigma_px"),
        ({"motion_blur": {"kind": "radial"}}, "effects.motion_blur.kind"),
        ({"video": {"crf": {"min": 10, "max": 60}}}, "effects.video"),
        ({"sparkle": {}}, "effects.sparkle"),
        ({"jpeg": {"quality": {"min": "high", "max": 90}}}, "effects.jpeg.quality.min"),
    ],
)
def test_bad_configs_name_the_key(config, key):
    with pytest.raises(UsdSynthError) as err:
        effects_config(config)
    assert str(err.value).startswith(key)
    assert err.value.field.startswith(key)


def test_non_mapping_config_and_bad_frames():
    with pytest.raises(UsdSynthError, match="effects must be a mapping"):
        effects_config([1, 2])
    with pytest.raises(UsdSynthError, match="uint8"):
        apply_effects(np.zeros((2, 4, 4, 3), np.float32), {"noise": {"sigma": 1.0}}, np.random.default_rng(0))
