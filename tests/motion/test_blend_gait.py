"""Blends of gaits starting on opposite feet (issue 10); the banded DTW's memory and result (issue 11)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from usd_synth.motion.align import (
    _band_rows,
    _dtw_band,
    align,
    dtw_path,
    gait_phase,
    gait_signal,
    pose_features,
    sample_rotations,
)
from usd_synth.motion.blend import blend_motions, ground_lift
from usd_synth.motion.library import make_motion
from usd_synth.motion.model import Motion
from usd_synth.motion.quality import ground_heights, skeleton_scale
from usd_synth.rotations import quat_angle
from usd_synth.skeleton import JOINT_INDEX, MIRROR

from ..conftest import smooth_random_motion

TOES = [JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]


def mirrored(m: Motion) -> Motion:
    """The motion reflected left-right (x -> -x in the world and in the body frame): the other foot leads."""
    rot = m.rotations[:, MIRROR].copy()
    rot[..., 1:3] *= -1.0
    trans = m.translation * np.array([-1.0, 1.0, 1.0])
    return Motion(m.fps, rot, trans, m.offsets[MIRROR] * np.array([-1.0, 1.0, 1.0]), m.label, dict(m.source))


def phase_of(m: Motion) -> np.ndarray:
    phase = gait_phase(gait_signal(pose_features(m.rotations, m.offsets), float(m.offsets[0, 1])))
    assert phase is not None
    return phase


def half_cycle_later(seed: int, fps: float, seconds: float) -> tuple[Motion, Motion]:
    """Two cuts of one long walk, the second starting half a gait cycle after the first."""
    long = make_motion("walk", seed=seed, fps=fps, seconds=seconds + 1.5)
    phase = phase_of(long)
    k = int(np.searchsorted(phase, phase[0] + 0.5))
    n = int(round(seconds * fps))

    def cut(start: int) -> Motion:
        return Motion(fps, long.rotations[start : start + n], long.translation[start : start + n],
                      long.offsets, "walk", dict(long.source))  # fmt: skip

    return cut(0), cut(k)


def peak_speed(m: Motion) -> float:
    """Largest angular speed (deg/s) of any local joint rotation between consecutive frames."""
    return float(np.degrees(quat_angle(m.rotations[1:], m.rotations[:-1])).max() * m.fps)


def lowest_toe(m: Motion) -> float:
    return float(ground_heights(m.joint_positions(), skeleton_scale(m))[:, TOES].min())


def opposite_feet_pairs() -> list[tuple[str, Motion, Motion]]:
    a = make_motion("walk", seed=0)
    first, later = half_cycle_later(5, 30.0, 4.0)
    return [
        ("mirrored", a, mirrored(a)),
        ("half_cycle_later", first, later),
        ("mirrored_other_rate", make_motion("walk", seed=1), mirrored(make_motion("walk", seed=1, fps=20.0))),
    ]


@pytest.mark.parametrize("case", [0, 1, 2], ids=["mirrored", "half_cycle_later", "mirrored_other_rate"])
def test_opposite_feet_blends_start_well(case: int) -> None:
    """Acceptance: no frame faster than 1.1x the inputs' peak, no toe below -1 cm, quality accepted."""
    _, a, b = opposite_feet_pairs()[case]
    phase_a, phase_b = phase_of(a), phase_of(b)
    assert abs(np.angle(np.exp(2j * np.pi * (phase_a[0] - phase_b[0])))) > 2.0  # really on opposite feet
    limit = 1.1 * max(peak_speed(a), peak_speed(b))
    for m in blend_motions(a, b, [0.25, 0.5, 0.75], device="cpu"):
        w = m.source["weight"]
        assert peak_speed(m) <= limit, (w, peak_speed(m), limit)
        assert lowest_toe(m) >= -0.01, (w, lowest_toe(m))
        assert not m.source["quality"]["rejected"], (w, m.source["quality"]["reasons"])
        assert m.source["align"]["step_pattern"].startswith("gait_phase")


def test_gait_alignment_starts_b_on_a_s_foot() -> None:
    a = make_motion("walk", seed=0)
    b = mirrored(a)
    al = align(a, b)
    frames = al.frames_b()
    assert frames.min() >= 0.0 and frames.max() <= b.num_frames - 1
    assert np.all(np.diff(al.index) >= 0)
    warped = sample_rotations(b.rotations, frames)
    phase_w = phase_of(Motion(a.fps, warped, np.zeros((a.num_frames, 3)), a.offsets))
    gap = np.angle(np.exp(2j * np.pi * (phase_w - phase_of(a))))
    assert np.abs(gap).max() < 2 * np.pi * 0.1  # within a tenth of a cycle everywhere
    # B (the same walk, other foot first) is found half a cycle in, and repeated past its end.
    assert al.loop is not None and al.index[-1] > b.num_frames - 1


def test_looped_root_has_no_jump() -> None:
    """Past B's end the loop carries B's path on: the w = 1 path moves no faster than B does."""
    a = make_motion("walk", seed=0)
    b = mirrored(a)
    (m1,) = blend_motions(a, b, [1.0], device="numpy")
    step = np.linalg.norm(np.diff(m1.translation[:, :2], axis=0), axis=-1)
    step_b = np.linalg.norm(np.diff(b.translation[:, :2], axis=0), axis=-1)
    assert step.max() <= 1.2 * step_b.max()
    assert np.all(np.diff(m1.translation[:, 1]) < 0)  # keeps walking forward (-Y)


def test_non_gaits_keep_the_pinned_dtw() -> None:
    a, b = make_motion("wave", seed=0), make_motion("wave", seed=2, fps=20.0)
    al = align(a, b)
    assert al.params["step_pattern"] == "symmetricP1" and al.loop is None
    assert al.index[0] == 0 and al.index[-1] == pytest.approx(b.num_frames - 1)


def test_ground_lift_is_smooth_and_enough() -> None:
    low = np.zeros(60)
    low[20:25] = [-0.01, -0.03, -0.02, -0.005, 0.0]
    lift = ground_lift(low, np.zeros(60), 30.0)
    assert np.all(low + lift >= -1e-12) and lift[:10].max() == 0.0 and lift[40:].max() == 0.0
    assert np.abs(np.diff(lift)).max() < 0.01
    assert not ground_lift(np.zeros(10), np.zeros(10), 30.0).any()


# ---------------------------------------------------------------------------------------------------------
# banded DTW
# ---------------------------------------------------------------------------------------------------------


def full_matrix_dtw_path(cost: np.ndarray, band: int | None = None) -> np.ndarray:
    """The full-matrix DTW as it was before the band was stored alone (the reference)."""
    n = cost.shape[0]
    inf = np.inf
    c = cost.astype(np.float64, copy=True)
    if band is not None:
        frames = np.arange(n)
        c[np.abs(frames[:, None] - frames[None, :]) > band] = inf
    acc = np.full((n, n), inf)
    move = np.zeros((n, n), np.int8)
    acc[0, 0] = c[0, 0]
    for i in range(1, n):
        diag = np.full(n, inf)
        diag[1:] = acc[i - 1, :-1]
        up = np.full(n, inf)
        if i >= 2:
            up[1:] = acc[i - 2, :-1] + c[i - 1, 1:]
        left = np.full(n, inf)
        left[2:] = acc[i - 1, :-2] + c[i, 1:-1]
        stack = np.stack([diag, up, left])
        move[i] = np.argmin(stack, axis=0)
        acc[i] = c[i] + stack[move[i], np.arange(n)]
    path = [(n - 1, n - 1)]
    i = j = n - 1
    while i > 0 or j > 0:
        step = move[i, j]
        if step == 0:
            i, j = i - 1, j - 1
        elif step == 1:
            path.append((i - 1, j))
            i, j = i - 2, j - 1
        else:
            path.append((i, j - 1))
            i, j = i - 1, j - 2
        path.append((i, j))
    return np.array(path[::-1])


@pytest.mark.parametrize(("n", "band"), [(30, 5), (41, None), (57, 12), (10, 2), (80, 79), (3, 1), (64, 3)])
def test_banded_dtw_matches_the_full_matrix(n: int, band: int | None) -> None:
    rng = np.random.default_rng(np.random.SeedSequence([n, 3]))
    cost = rng.random((n, n))
    np.testing.assert_array_equal(dtw_path(cost, band), full_matrix_dtw_path(cost, band))


def test_banded_dtw_in_small_blocks_matches() -> None:
    """Cost rows arrive in blocks; any block size gives the same path."""
    rng = np.random.default_rng(np.random.SeedSequence([5]))
    cost = rng.random((50, 50))
    calls = []

    def rows(i0: int, i1: int) -> np.ndarray:
        calls.append((i0, i1))
        return _band_rows(cost, i0, i1, 7)

    np.testing.assert_array_equal(_dtw_band(rows, 50, 7), full_matrix_dtw_path(cost, 7))


def test_dtw_alignment_is_unchanged_on_non_gaits() -> None:
    """align() with the band-only DTW gives the warp the full cost matrix gave."""
    a, b = smooth_random_motion(num_frames=90, seed=0), smooth_random_motion(num_frames=70, seed=5, fps=20.0)
    lin = np.arange(90) * (69 / 89)
    fa = pose_features(a.rotations, a.offsets)
    fb = pose_features(sample_rotations(b.rotations, lin), a.offsets)
    cost = np.sqrt(np.maximum(np.sum(fa**2, 1)[:, None] + np.sum(fb**2, 1)[None] - 2.0 * fa @ fb.T, 0.0))
    cost /= np.sqrt(fa.shape[1] / 3)
    path = full_matrix_dtw_path(cost, int(np.ceil(0.25 * 90)))
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=90)
    u = sums / np.bincount(path[:, 0], minlength=90)
    u[1:-1] = (u[:-2] + u[1:-1] + u[2:]) / 3.0
    u[0], u[-1] = 0.0, 89
    expected = np.maximum.accumulate(u) * (69 / 89)
    al = align(a, b, gait=False)
    np.testing.assert_allclose(al.index, expected, atol=1e-9)
    assert al.params["mean_distance_m"] == round(float(cost[path[:, 0], path[:, 1]].mean()), 6)


@pytest.mark.slow
def test_blend_of_20000_frames_stays_under_2_gb() -> None:
    """Issue 11: the full matrices took about 13 GB at 20,000 frames; the band alone fits in 2 GB."""
    code = textwrap.dedent(
        """
        from tests.conftest import smooth_random_motion
        from usd_synth.motion.blend import blend
        a = smooth_random_motion(num_frames=20000, seed=1)
        b = smooth_random_motion(num_frames=20000, seed=2)
        m = blend(a, b, 0.5, device="numpy", gait=False)
        assert m.source["align"]["step_pattern"] == "symmetricP1"
        # VmHWM is this process's own peak: ru_maxrss would also count the parent's peak, which Linux
        # carries over the exec of a vforked child (pytest itself can hold more than 2 GB by then)
        status = open("/proc/self/status").read().split("VmHWM:")[1]
        print(int(status.split()[0]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    peak_mb = int(out.stdout.split()[-1]) / 1024
    assert peak_mb < 2048, peak_mb
