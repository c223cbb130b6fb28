"""Units of the fractal generator: sampling, curves, perturbations, emulation config, quality checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.fractal.curves import CURVES, evaluate_curve, sample_curve
from usd_synth.fractal.emulation import (
    DEFAULTS,
    camera_matrices,
    homography_from_corners,
    load_emulation,
    sample_emulation,
)
from usd_synth.fractal.ifs import compose_maps, sample_map_params, sample_reflections, sigma_factor_range
from usd_synth.fractal.quality import degeneracy, frame_changes, lit_fractions
from usd_synth.fractal.render import RenderSettings, render_clip
from usd_synth.fractal.system import FractalSystem, sample_perturbation, sample_system, save_npz


@pytest.mark.parametrize("n_maps", range(3, 9))
def test_sigma_factor_constraints(n_maps):
    rng = np.random.default_rng(n_maps)
    lo, hi = sigma_factor_range(n_maps)
    for _ in range(50):
        p = sample_map_params(n_maps, rng)
        s1, s2 = p.sigma[:, 0], p.sigma[:, 1]
        assert (s1 <= 1.0 + 1e-12).all() and (s2 >= -1e-12).all() and (s2 <= s1 + 1e-12).all()
        alpha = (s1 + 2 * s2).sum()
        assert lo - 1e-9 <= alpha <= hi + 1e-9
        assert (np.abs(p.bias) <= 1).all()


def test_composed_maps_have_the_sampled_singular_values():
    rng = np.random.default_rng(0)
    p = sample_map_params(5, rng)
    maps, det = compose_maps(p, sample_reflections(5, rng))
    a = maps[:, :4].reshape(5, 2, 2)
    sv = np.linalg.svd(a, compute_uv=False)
    assert np.allclose(sv, p.sigma, atol=1e-9)
    assert np.allclose(det, np.abs(np.linalg.det(a)))
    assert np.allclose(maps[:, 4:], p.bias)


def test_curves_span_the_endpoints():
    rng = np.random.default_rng(1)
    tau = np.linspace(0, 1, 18)
    for kind, name in enumerate(CURVES):
        w = evaluate_curve(kind, sample_curve(kind, 4, 18, rng), tau)
        assert w.shape == (18, 4) and w.min() >= 0.0 and w.max() <= 1.0
        if name in ("linear", "sharp"):
            assert np.allclose(w[0], 0.0, atol=1e-9) and np.allclose(w[-1], 1.0, atol=1e-9), name
        assert np.ptp(w, axis=0).min() > 0.5, name  # every map really moves


def test_sharp_curve_holds_then_ramps_over_4_to_8_frames():
    rng = np.random.default_rng(2)
    kind = CURVES.index("sharp")
    for _ in range(20):
        w = evaluate_curve(kind, sample_curve(kind, 1, 18, rng), np.linspace(0, 1, 18))[:, 0]
        moving = np.flatnonzero(np.diff(w) > 1e-9)
        assert 4 <= len(moving) <= 8 and np.all(np.diff(moving) == 1)


def test_instances_stay_close_to_their_class():
    rng = np.random.default_rng(3)
    system = sample_system(rng, 18)
    tau = np.linspace(0, 1, 18)
    base = system.params_at(tau)
    inst = system.params_at(tau, sample_perturbation(system.n_maps, rng))
    copy = system.params_at(tau, sample_perturbation(system.n_maps, rng, jitter=0.0))
    assert np.allclose(copy.theta, base.theta) and np.allclose(copy.bias, base.bias)
    d_bias = np.abs(inst.bias - base.bias).max()
    assert 0.0 < d_bias < 1.0
    other = sample_system(rng, 18).params_at(tau)
    if other.bias.shape == base.bias.shape:
        assert np.abs(inst.bias - base.bias).mean() < np.abs(other.bias - base.bias).mean()


def test_system_npz_round_trip(tmp_path):
    system = sample_system(np.random.default_rng(4), 18, variation_p=1.0)
    path = tmp_path / "c.npz"
    save_npz(path, system.to_arrays())
    first = path.read_bytes()
    save_npz(path, system.to_arrays())
    assert path.read_bytes() == first  # no timestamps inside
    with np.load(path) as arrays:
        again = FractalSystem.from_arrays(arrays)
    tau = np.linspace(0, 1, 5)
    assert np.allclose(again.maps_at(tau)[0], system.maps_at(tau)[0])
    assert again.variation == system.variation > 0


def test_emulation_none_default_and_file(tmp_path):
    none = load_emulation("none")
    assert all(p.p == 0.0 for p in none.properties.values())
    assert set(load_emulation("default").properties) == set(DEFAULTS)
    cfg = tmp_path / "emu.json"
    cfg.write_text(json.dumps({"base": "none", "camera_pan": {"p": 1.0, "range": [0.1, 0.2]}}))
    loaded = load_emulation(str(cfg))
    emu = sample_emulation(loaded, np.random.default_rng(0))
    assert set(emu.applied) == {"camera_pan"}
    assert 0.1 <= float(np.hypot(*emu.pan)) <= 0.2


@pytest.mark.parametrize(
    "content, needle",
    [
        ({"camera_spin": {"p": 0.5}}, "unknown emulation key 'camera_spin'"),
        ({"blur": {"p": 0.5, "sigma": 2}}, "unknown emulation key 'blur.sigma'"),
        ({"noise": {"p": 2.0}}, "'noise.p' must be a probability"),
        ({"blur": {"range": [2, 1]}}, "'blur.range' must be [lo, hi]"),
        ([1, 2], "JSON object"),
    ],
)
def test_emulation_file_errors_name_file_and_key(tmp_path, content, needle):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps(content))
    with pytest.raises(UsdSynthError) as err:
        load_emulation(str(cfg))
    assert needle in str(err.value) and str(cfg) in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_emulation_preset():
    with pytest.raises(UsdSynthError, match="emulation strong") as err:
        load_emulation("strong")
    assert err.value.field == "emulation"


def test_perspective_homography_maps_corners():
    dst = np.array([[-0.9, -1.1], [1.0, -0.8], [1.2, 1.0], [-1.0, 0.9]])
    h = homography_from_corners(dst)
    src = np.array([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], float)
    out = src @ h.T
    assert np.allclose(out[:, :2] / out[:, 2:], dst)


def test_camera_without_emulation_is_identity():
    emu = sample_emulation(load_emulation("none"), np.random.default_rng(0))
    assert np.allclose(camera_matrices(emu, np.linspace(0, 1, 4)), np.eye(3))


def test_quality_measures():
    frames = np.zeros((4, 32, 32), np.uint8)
    assert degeneracy(frames).startswith("lit area")
    frames[:, :16] = 255
    assert np.allclose(lit_fractions(frames), 0.5)
    assert degeneracy(frames).startswith("frame change")  # lit but static
    frames[1::2, :16] = 0
    frames[1::2, 16:] = 255
    assert frame_changes(frames).min() == 1.0 and degeneracy(frames) is None


def test_render_clip_is_deterministic_and_fills_the_view(device):
    system = sample_system(np.random.default_rng(5), 6)
    settings = RenderSettings(size=32, frames=6, points=16, iterations=400, device=device)
    emu = sample_emulation(load_emulation("none"), np.random.default_rng(0))
    a = render_clip(system, None, emu, settings, seed=3)
    b = render_clip(system, None, emu, settings, seed=3)
    c = render_clip(system, None, emu, settings, seed=4)
    assert a is not None and a.shape == (6, 32, 32) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    lit = np.argwhere(a.max(axis=0) > 25)
    span = lit.max(axis=0) - lit.min(axis=0)
    assert span.max() >= 20  # framing: the fractal spans most of the frame
    colour = render_clip(system, None, emu, RenderSettings(size=32, frames=6, points=16, iterations=400,
                                                           color=True, device=device), seed=3)  # fmt: skip
    assert colour is not None and colour.shape == (6, 32, 32, 3)


@pytest.mark.parametrize("channels", [None, 3])
def test_mp4_round_trip_and_same_bytes(tmp_path, channels):
    from usd_synth.fractal.video_io import read_mp4, write_mp4

    rng = np.random.default_rng(0)
    shape = (6, 32, 48) + ((channels,) if channels else ())
    # Smooth content (x264 at crf 18 keeps it within a few grey levels) plus a moving bright square.
    yy, xx = np.mgrid[0:32, 0:48]
    base = (xx * 4 + yy * 2).astype(np.float32)
    frames = np.stack([base + 10 * t for t in range(6)])
    for t in range(6):
        frames[t, 8:16, 4 + 4 * t : 12 + 4 * t] = 250
    if channels:
        frames = np.stack([frames, frames * 0.5, 255 - frames], axis=-1)
    frames = np.clip(frames + rng.normal(0, 1, frames.shape), 0, 255).astype(np.uint8)
    assert frames.shape == shape
    write_mp4(tmp_path / "a.mp4", frames, 12)
    write_mp4(tmp_path / "b.mp4", frames, 12)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    back = read_mp4(tmp_path / "a.mp4", gray=channels is None)
    assert back.shape == shape
    # yuv420p halves chroma resolution, so colour edges blur; grey stays close everywhere.
    assert np.abs(back.astype(int) - frames).mean() < (2.0 if channels is None else 8.0)


def test_mp4_refuses_bad_frames(tmp_path):
    from usd_synth.fractal.video_io import write_mp4

    with pytest.raises(ValueError, match="frames must be"):
        write_mp4(tmp_path / "x.mp4", np.zeros((4, 16, 16, 2), np.uint8), 12)
