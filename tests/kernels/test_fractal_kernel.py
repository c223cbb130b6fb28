"""The Warp chaos game against its numpy reference (same counter-based RNG, same inputs), on every device the
``device`` fixture offers (CPU, and CUDA when present)."""

from __future__ import annotations

import numpy as np
import pytest

from usd_synth.fractal.render import clip_times, framing_matrix, key_times, pixel_matrix
from usd_synth.fractal.system import sample_system
from usd_synth.kernels import fractal as K


def _case(seed: int, variation: int, frames: int = 3, size: int = 48):
    system = sample_system(np.random.default_rng(seed), frames, variation_p=0.0)
    tau = clip_times(frames)
    maps, probs, colors = system.maps_at(tau)
    framing = framing_matrix(system, None, key_times(frames), 1)
    assert framing is not None
    views = np.broadcast_to(pixel_matrix(size) @ framing, (frames, 1, 3, 3)).copy()
    return maps, probs, colors, views, size


def test_hash_rng_is_uniform_and_counter_based():
    keys = K.thread_keys_np(7, np.arange(4096))
    u = K.uniform_np(keys, 3)
    assert u.dtype == np.float32 and u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02 and abs(u.std() - np.sqrt(1 / 12)) < 0.02
    # Counter-based: draw k does not depend on the draws before it.
    assert np.array_equal(K.uniform_np(keys, 3), u)
    assert not np.array_equal(K.uniform_np(keys, 4), u)


def test_choice_table_follows_probabilities():
    probs = np.array([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0]])
    table = K.choice_table(probs)
    assert table.shape == (2, 1 << K.CHOICE_BITS)
    freq = np.bincount(table[0], minlength=3) / table.shape[1]
    assert np.allclose(freq, probs[0], atol=1e-3)
    assert (table[1] == 0).all()


@pytest.mark.parametrize("variation", range(len(K.VARIATIONS)))
def test_warp_histogram_matches_numpy(variation, device):
    maps, probs, _, views, size = _case(seed=variation + 1, variation=variation)
    args = (maps, probs, views, size, size, variation, 32, 300, 20, 12345)
    ref, _ = K.render_histograms_np(*args)
    got, _ = K.render_histograms(*args, device=device)
    assert got.shape == ref.shape == (3, size, size)
    # The same map sequence: almost every sample lands in the same pixel.
    assert abs(got.sum() - ref.sum()) <= 0.01 * ref.sum()
    assert np.abs(got - ref).sum() <= 0.02 * ref.sum()
    # And the result is not trivial: the fractal covers a good part of the view.
    assert (ref > 0).mean() > 0.02


def test_warp_colour_and_two_views_match_numpy(device):
    maps, probs, colors, views, size = _case(seed=5, variation=0)
    shifted = views.copy()
    shifted[:, 0, 0, 2] += 7.0  # second view: the same points moved 7 px right
    two = np.concatenate([views, shifted], axis=1)
    args = (maps, probs, two, size, size, 0, 16, 200, 10, 99)
    ref, ref_rgb = K.render_histograms_np(*args, colors=colors)
    got, got_rgb = K.render_histograms(*args, device=device, colors=colors)
    assert np.abs(got - ref).sum() <= 0.02 * ref.sum()
    assert np.abs(got_rgb - ref_rgb).sum() <= 0.02 * ref_rgb.sum()
    one, _ = K.render_histograms(maps, probs, views, size, size, 0, 16, 200, 10, 99, device=device)
    assert got.sum() > 1.5 * one.sum()  # both views splat


@pytest.mark.parametrize("variation", [0, 4])
def test_perspective_views_match_numpy(variation, device):
    # A perspective view cannot be folded into the maps: this runs the fractal-space specialisation.
    maps, probs, _, views, size = _case(seed=9, variation=variation)
    tilted = views.copy()
    tilted[:, 0, 2, :2] = [0.15, -0.1]  # a strong tilt; both sides drop points with w <= 0
    args = (maps, probs, tilted, size, size, variation, 32, 300, 20, 4321)
    ref, _ = K.render_histograms_np(*args)
    got, _ = K.render_histograms(*args, device=device)
    assert np.abs(got - ref).sum() <= 0.02 * ref.sum()
    plain, _ = K.render_histograms(
        maps, probs, views, size, size, variation, 32, 300, 20, 4321, device=device
    )
    assert np.abs(got - plain).sum() > 0.2 * plain.sum()  # the tilt did change the picture


def test_result_does_not_depend_on_points_per_thread(monkeypatch, device):
    # Each point keeps its own random stream, and counts are sums of 1.0 (exact in float32), so
    # running 4, 2 or 1 points per CPU thread must give the very same histogram (a GPU runs one point
    # per thread whatever CPU_LANES says: there, this checks that repeated runs agree).
    maps, probs, _, views, size = _case(seed=3, variation=0)
    results = []
    for lanes in (4, 2, 1):
        monkeypatch.setattr(K, "CPU_LANES", lanes)
        assert K.lanes_for(32, "cpu") == lanes
        results.append(
            K.render_histograms(maps, probs, views, size, size, 0, 32, 200, 10, 5, device=device)[0]
        )
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])
    monkeypatch.undo()
    assert K.lanes_for(30, "cpu") == 2 and K.lanes_for(7, "cpu") == 1 and K.lanes_for(32, "cuda:0") == 1


def test_a_singular_view_is_rendered_without_the_pixel_space_shortcut(device):
    # A view of scale 0 cannot be inverted to conjugate the maps; every point lands on one pixel.
    maps, probs, _, views, size = _case(seed=3, variation=0)
    flat = np.zeros_like(views)
    flat[..., 0, 2], flat[..., 1, 2], flat[..., 2, 2] = 10.5, 20.5, 1.0
    args = (maps, probs, flat, size, size, 0, 8, 50, 10, 2)
    got, _ = K.render_histograms(*args, device=device)
    assert np.array_equal(got, K.render_histograms_np(*args)[0])
    assert got[:, 20, 10].tolist() == [8 * 40] * 3 and got.sum() == 3 * 8 * 40


def test_bad_views_and_variation_are_refused():
    maps, probs, _, views, size = _case(seed=3, variation=0)
    three = np.concatenate([views, views, views], axis=1)
    with pytest.raises(ValueError, match="views must be"):
        K.render_histograms(maps, probs, three, size, size, 0, 4, 10, 0, 1)
    with pytest.raises(ValueError, match="unknown variation"):
        K.render_histograms(maps, probs, views, size, size, len(K.VARIATIONS), 4, 10, 0, 1)


def test_fast_sine_is_close_to_libm():
    x = np.linspace(-50, 50, 20001, dtype=np.float32)
    assert np.abs(K.fast_sin_np(x) - np.sin(x)).max() < 1e-3
    assert np.abs(K.fast_cos_np(x) - np.cos(x)).max() < 1e-3


def test_variations_stay_finite():
    x = np.linspace(-3, 3, 101, dtype=np.float32)
    y = x[::-1].copy()
    e = np.full_like(x, 0.3)
    for v in range(len(K.VARIATIONS)):
        nx, ny = K.apply_variation_np(v, x, y, e, e)
        assert np.isfinite(nx).all() and np.isfinite(ny).all(), K.VARIATIONS[v]


@pytest.mark.parametrize("variation", [0, 3])
def test_device_matches_cpu(variation, device):
    # Counts are exact sums of 1.0, and a point's path differs only by float rounding between the two
    # devices (one point per GPU thread, four per CPU thread; the same random streams). On the CPU
    # itself this checks that two runs agree.
    maps, probs, colors, views, size = _case(seed=11, variation=variation)
    args = (maps, probs, views, size, size, variation, 64, 400, 20, 77)
    cpu, cpu_rgb = K.render_histograms(*args, device="cpu", colors=colors)
    dev, dev_rgb = K.render_histograms(*args, device=device, colors=colors)
    assert dev.sum() == pytest.approx(cpu.sum(), rel=1e-3)
    assert np.abs(dev - cpu).sum() <= 0.01 * cpu.sum()
    assert np.abs(dev_rgb - cpu_rgb).sum() <= 0.01 * cpu_rgb.sum()


def test_kernel_specialisations_are_built_once_per_key(device):
    flags = (0, False, False, False, K.lanes_for(32, device), False)
    kernel = K.chaos_game_kernel(*flags[:5], device, flags[5])
    assert kernel is K.chaos_game_kernels(*flags, device=device)
    assert K.chaos_game_kernel(3, False, False, False, 1, device) is not kernel
