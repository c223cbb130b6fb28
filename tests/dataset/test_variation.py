"""Tests of the dataset builder's motion variations (usd_synth.dataset.variation)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from usd_synth.dataset.config import Chance, Interval, VariationConfig
from usd_synth.dataset.variation import (
    add_joint_noise,
    apply_variation,
    mean_rotation,
    mirror,
    sample_variation,
    scale_amplitude,
    time_scale,
)
from usd_synth.errors import UsdSynthError
from usd_synth.motion.library import make_motion
from usd_synth.motion.model import Motion
from usd_synth.motion.quality import cleanup_contacts
from usd_synth.rotations import quat_angle, quat_to_matrix
from usd_synth.skeleton import JOINT_INDEX, MIRROR

S = np.diag([-1.0, 1.0, 1.0])
LEFT_WRIST, RIGHT_WRIST = JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]


@pytest.fixture(scope="module")
def wave() -> Motion:
    return make_motion("wave", seed=0)


@pytest.fixture(scope="module")
def walk() -> Motion:
    return make_motion("walk", seed=1)


def same_rotations(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    """Equal as rotations (q and -q are the same)."""
    return bool(np.all(quat_angle(a, b) < max(atol, 1e-7)) or np.allclose(a, b, atol=atol))


def assert_same_motion(a: Motion, b: Motion, atol: float = 1e-9) -> None:
    assert a.fps == b.fps and a.num_frames == b.num_frames and a.label == b.label
    np.testing.assert_allclose(a.rotations, b.rotations, atol=atol)
    np.testing.assert_allclose(a.translation, b.translation, atol=atol)
    np.testing.assert_allclose(a.offsets, b.offsets, atol=atol)


def snapshot(m: Motion) -> Motion:
    return copy.deepcopy(m)


def wrist_travel(m: Motion, joint: int) -> float:
    """Mean distance (m) of a joint from its mean position in the pelvis's frame (the root's sway removed)."""
    world_r, world_p = m.world_transforms()
    p = np.einsum("tji,tj->ti", world_r[:, 0], world_p[:, joint] - m.translation)
    return float(np.linalg.norm(p - p.mean(0), axis=-1).mean())


# ------------------------------------------------------------------------------------------ purity ----
@pytest.mark.parametrize(
    "vary",
    [
        lambda m: time_scale(m, 1.3),
        lambda m: scale_amplitude(m, 1.5),
        mirror,
        lambda m: add_joint_noise(m, 3.0, np.random.default_rng(0)),
        lambda m: apply_variation(
            m, {"tempo": 0.9, "amplitude": 1.2, "noise_deg": 1.0}, np.random.default_rng(0), mirrored=True
        ),
    ],
    ids=["tempo", "amplitude", "mirror", "noise", "apply"],
)
def test_inputs_are_never_modified_and_source_is_copied(wave: Motion, vary) -> None:
    before = snapshot(wave)
    out = vary(wave)
    assert_same_motion(wave, before, atol=0)
    assert wave.source == before.source and "variation" not in wave.source
    assert out is not wave and out.rotations is not wave.rotations
    assert out.source["action"] == "wave" and out.source["variation"]
    out.source["params"]["hand"] = "changed"
    assert wave.source["params"]["hand"] == "right"


# -------------------------------------------------------------------------------------------- tempo ----
def test_time_scale_by_two_keeps_every_other_frame(walk: Motion) -> None:
    out = time_scale(walk, 2.0)
    assert out.fps == walk.fps
    assert out.num_frames == (walk.num_frames - 1) // 2 + 1
    np.testing.assert_allclose(out.translation, walk.translation[::2], atol=1e-12)
    assert same_rotations(out.rotations, walk.rotations[::2])
    assert out.source["variation"] == {"tempo": 2.0}
    assert "resampled_from_fps" not in out.source


@pytest.mark.parametrize("factor", [0.7, 1.15, 1.5])
def test_time_scale_follows_the_same_path_at_another_speed(walk: Motion, factor: float) -> None:
    out = time_scale(walk, factor)
    assert out.duration == pytest.approx(walk.duration / factor, abs=1.5 / walk.fps)
    # Reference: the translation as a function of time, sampled at factor x the original times.
    times = np.arange(out.num_frames) * factor
    src = np.arange(walk.num_frames)
    ref = np.stack([np.interp(times, src, walk.translation[:, k]) for k in range(3)], axis=-1)
    np.testing.assert_allclose(out.translation, ref, atol=1e-12)


def test_time_scale_by_one_is_identity(wave: Motion) -> None:
    assert_same_motion(time_scale(wave, 1.0), wave, atol=0)


@pytest.mark.parametrize("factor", [0.0, -1.0, 10.5, float("nan"), float("inf")])
def test_time_scale_rejects_bad_factors_naming_tempo(wave: Motion, factor: float) -> None:
    with pytest.raises(UsdSynthError, match="tempo") as err:
        time_scale(wave, factor)
    assert err.value.field == "tempo"


# ---------------------------------------------------------------------------------------- amplitude ----
def test_amplitude_one_is_identity(wave: Motion) -> None:
    out = scale_amplitude(wave, 1.0)
    np.testing.assert_allclose(out.rotations, wave.rotations, atol=1e-9)
    assert out.source["variation"] == {"amplitude": 1.0}


def test_amplitude_zero_freezes_every_joint_at_its_mean(wave: Motion) -> None:
    out = scale_amplitude(wave, 0.0)
    mean = mean_rotation(wave.rotations[:, 1:])
    assert np.all(quat_angle(out.rotations[:, 1:], mean[None]) < 1e-6)
    np.testing.assert_allclose(out.rotations[:, 0], wave.rotations[:, 0], atol=0)
    np.testing.assert_allclose(out.translation, wave.translation, atol=0)
    assert wrist_travel(out, RIGHT_WRIST) < 1e-6


def test_mean_rotation_matches_a_numpy_reference() -> None:
    rng = np.random.default_rng(3)
    base = Rotation.random(random_state=4)
    small = Rotation.from_rotvec(rng.normal(scale=0.2, size=(50, 3)))
    quats = (base * small).as_quat()
    quats[::3] *= -1  # sign must not matter
    got = mean_rotation(quats[:, None])[0]
    ref = Rotation.from_quat((base * small).as_quat()).mean()  # scipy's chordal L2 mean
    assert (Rotation.from_quat(got).inv() * ref).magnitude() < 1e-2


@pytest.mark.parametrize("factor", [0.5, 1.7])
def test_amplitude_matches_a_scipy_reference(wave: Motion, factor: float) -> None:
    out = scale_amplitude(wave, factor)
    for j in (RIGHT_WRIST, JOINT_INDEX["right_elbow"], JOINT_INDEX["spine2"]):
        q = wave.rotations[:, j]
        m = Rotation.from_quat(mean_rotation(q[:, None])[0])
        ref = m * Rotation.from_rotvec(factor * (m.inv() * Rotation.from_quat(q)).as_rotvec())
        assert np.all(quat_angle(out.rotations[:, j], ref.as_quat()) < 1e-7)
        # The swing about the mean is scaled by exactly the factor.
        before = quat_angle(q, m.as_quat()[None])
        after = quat_angle(out.rotations[:, j], m.as_quat()[None])
        np.testing.assert_allclose(after, factor * before, atol=1e-7)


def wrist_path(m: Motion, joint: int) -> float:
    """Length (m) of a joint's path in the pelvis's frame: grows with the swing's angular speed."""
    world_r, world_p = m.world_transforms()
    p = np.einsum("tji,tj->ti", world_r[:, 0], world_p[:, joint] - m.translation)
    return float(np.linalg.norm(np.diff(p, axis=0), axis=-1).sum())


def test_bigger_amplitude_makes_a_bigger_wave(wave: Motion) -> None:
    # Distance from the mean position saturates (the wave's raise is ~90 degrees of shoulder, so 1.5 x
    # takes the arm over the head); the path length scales with the angular swing.
    base = wrist_path(wave, RIGHT_WRIST)
    assert wrist_path(scale_amplitude(wave, 1.5), RIGHT_WRIST) > 1.3 * base
    assert wrist_path(scale_amplitude(wave, 0.5), RIGHT_WRIST) < 0.6 * base


@pytest.mark.parametrize("factor", [-0.1, 11.0, float("nan")])
def test_amplitude_rejects_bad_factors(wave: Motion, factor: float) -> None:
    with pytest.raises(UsdSynthError, match="amplitude"):
        scale_amplitude(wave, factor)


# ------------------------------------------------------------------------------------------- mirror ----
@pytest.mark.parametrize("action", ["wave", "walk"])
def test_mirror_reflects_world_positions_and_swaps_sides(action: str) -> None:
    m = make_motion(action, seed=2)
    out = mirror(m)
    expected = m.joint_positions()[:, MIRROR] @ S.T
    np.testing.assert_allclose(out.joint_positions(), expected, atol=1e-6)
    np.testing.assert_allclose(out.translation, m.translation @ S.T, atol=0)
    np.testing.assert_allclose(out.offsets, m.offsets[MIRROR] @ S.T, atol=0)


def test_mirror_rotations_match_the_matrix_formula(wave: Motion) -> None:
    out = mirror(wave)
    r = quat_to_matrix(wave.rotations)
    ref = S @ r[:, MIRROR] @ S  # joints >= 1: S_b R_M[j] S_b; root: S_w R_0 S_b with S_w = S_b
    np.testing.assert_allclose(quat_to_matrix(out.rotations), ref, atol=1e-12)


def test_mirror_twice_is_identity(walk: Motion) -> None:
    twice = mirror(mirror(walk))
    assert_same_motion(twice, walk, atol=1e-12)
    assert mirror(walk).source["variation"] == {"mirror": True}
    assert twice.source["variation"] == {"mirror": False}


def test_mirrored_wave_moves_the_other_wrist(wave: Motion) -> None:
    assert wave.source["params"]["hand"] == "right"
    assert wrist_travel(wave, RIGHT_WRIST) > 5 * wrist_travel(wave, LEFT_WRIST)
    out = mirror(wave)
    assert wrist_travel(out, LEFT_WRIST) > 5 * wrist_travel(out, RIGHT_WRIST)
    assert wrist_travel(out, LEFT_WRIST) == pytest.approx(wrist_travel(wave, RIGHT_WRIST), rel=1e-6)


def test_mirror_keeps_an_asymmetric_skeleton_on_its_mirrored_sides(wave: Motion) -> None:
    offsets = wave.offsets.copy()
    offsets[LEFT_WRIST] *= 1.3  # a longer left forearm
    m = Motion(fps=wave.fps, rotations=wave.rotations, translation=wave.translation, offsets=offsets)
    lengths = mirror(m).bone_lengths()
    assert lengths[RIGHT_WRIST] == pytest.approx(m.bone_lengths()[LEFT_WRIST])
    assert lengths[LEFT_WRIST] == pytest.approx(m.bone_lengths()[RIGHT_WRIST])


# -------------------------------------------------------------------------------------------- noise ----
def _noise_angles(before: Motion, after: Motion) -> np.ndarray:
    return quat_angle(before.rotations[:, 1:], after.rotations[:, 1:])


@pytest.mark.parametrize("degrees", [1.0, 5.0])
def test_noise_has_the_requested_rms_angle(walk: Motion, degrees: float) -> None:
    out = add_joint_noise(walk, degrees, np.random.default_rng(7))
    angles = np.degrees(_noise_angles(walk, out))
    rms = np.sqrt(np.mean(angles**2))
    assert rms == pytest.approx(degrees, rel=0.3)
    np.testing.assert_allclose(out.rotations[:, 0], walk.rotations[:, 0], atol=0)
    np.testing.assert_allclose(out.translation, walk.translation, atol=0)
    assert out.source["variation"] == {"noise_deg": degrees}


def test_noise_is_smooth(walk: Motion) -> None:
    degrees = 5.0
    out = add_joint_noise(walk, degrees, np.random.default_rng(11))
    # The noise rotation per frame, in each joint's own frame: n_t = q_t^-1 q'_t.
    q = Rotation.from_quat(walk.rotations[:, 1:].reshape(-1, 4))
    n = (q.inv() * Rotation.from_quat(out.rotations[:, 1:].reshape(-1, 4))).as_quat()
    n = n.reshape(walk.num_frames, -1, 4)
    step = np.degrees(quat_angle(n[1:], n[:-1]))
    # White noise of the same RMS would change by ~1.4 x degrees a frame; a 0.25 s low-pass by far less.
    assert np.sqrt(np.mean(step**2)) < 0.2 * degrees
    assert step.max() < degrees


def test_noise_is_deterministic_for_a_seed(wave: Motion) -> None:
    a = add_joint_noise(wave, 2.0, np.random.default_rng(5))
    b = add_joint_noise(wave, 2.0, np.random.default_rng(5))
    c = add_joint_noise(wave, 2.0, np.random.default_rng(6))
    np.testing.assert_array_equal(a.rotations, b.rotations)
    assert not np.allclose(a.rotations, c.rotations, atol=1e-6)


def test_zero_noise_is_identity_and_draws_nothing(wave: Motion) -> None:
    rng = np.random.default_rng(1)
    state = copy.deepcopy(rng.bit_generator.state)
    out = add_joint_noise(wave, 0.0, rng)
    assert_same_motion(out, wave, atol=0)
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("degrees", [-1.0, 91.0, float("nan")])
def test_noise_rejects_bad_angles(wave: Motion, degrees: float) -> None:
    with pytest.raises(UsdSynthError, match="noise"):
        add_joint_noise(wave, degrees, np.random.default_rng(0))


# ----------------------------------------------------------------------------------- sample & apply ----
def _cfg(p: float) -> VariationConfig:
    return VariationConfig(
        tempo=Chance(probability=p, range=Interval(min=0.8, max=1.2)),
        amplitude=Chance(probability=p, range=Interval(min=0.5, max=1.5)),
        noise=Chance(probability=p, range=Interval(min=1.0, max=3.0)),
    )


def test_sample_variation_never_and_always() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert sample_variation(_cfg(0.0), rng) == {"tempo": 1.0, "amplitude": 1.0, "noise_deg": 0.0}
    for _ in range(50):
        v = sample_variation(_cfg(1.0), rng)
        assert 0.8 <= v["tempo"] <= 1.2 and 0.5 <= v["amplitude"] <= 1.5 and 1.0 <= v["noise_deg"] <= 3.0
        assert all(type(x) is float and x == round(x, 6) for x in v.values())
        assert v["tempo"] != 1.0 and v["noise_deg"] != 0.0


def test_sample_variation_draws_the_same_number_of_values_whatever_the_outcome() -> None:
    states = []
    for p in (0.0, 0.5, 1.0):
        rng = np.random.default_rng(42)
        sample_variation(_cfg(p), rng)
        states.append(rng.random())
    assert states[0] == states[1] == states[2]


def test_sample_variation_applies_each_kind_with_its_probability() -> None:
    rng = np.random.default_rng(9)
    draws = [sample_variation(VariationConfig(), rng) for _ in range(2000)]
    # Defaults: tempo 0.5, amplitude 0.5, noise 0.3.
    assert np.mean([d["tempo"] != 1.0 for d in draws]) == pytest.approx(0.5, abs=0.05)
    assert np.mean([d["amplitude"] != 1.0 for d in draws]) == pytest.approx(0.5, abs=0.05)
    assert np.mean([d["noise_deg"] != 0.0 for d in draws]) == pytest.approx(0.3, abs=0.05)


def test_apply_neutral_variation_returns_an_identical_copy(wave: Motion) -> None:
    rng = np.random.default_rng(0)
    state = copy.deepcopy(rng.bit_generator.state)
    out = apply_variation(wave, {"tempo": 1.0, "amplitude": 1.0, "noise_deg": 0.0}, rng)
    assert out is not wave
    assert_same_motion(out, wave, atol=0)
    assert out.source == wave.source
    assert rng.bit_generator.state == state
    assert_same_motion(apply_variation(wave, {}, rng), wave, atol=0)


def test_apply_variation_composes_in_order(wave: Motion) -> None:
    values = {"tempo": 1.1, "amplitude": 1.3, "noise_deg": 2.0}
    out = apply_variation(wave, values, np.random.default_rng(3), mirrored=True)
    ref = mirror(wave)
    ref = time_scale(ref, 1.1)
    ref = scale_amplitude(ref, 1.3)
    ref = add_joint_noise(ref, 2.0, np.random.default_rng(3))
    ref = cleanup_contacts(ref)  # the contacts, last (see test_varied_walk_keeps_its_feet_planted)
    assert_same_motion(out, ref, atol=0)
    assert out.source["variation"] == {"mirror": True, "tempo": 1.1, "amplitude": 1.3, "noise_deg": 2.0}
    assert wrist_travel(out, LEFT_WRIST) > wrist_travel(out, RIGHT_WRIST)


def test_apply_variation_skips_neutral_values(wave: Motion) -> None:
    out = apply_variation(wave, {"tempo": 1.0, "amplitude": 0.0, "noise_deg": 0.0}, np.random.default_rng(0))
    assert out.source["variation"] == {"amplitude": 0.0}
    assert out.num_frames == wave.num_frames


@pytest.mark.parametrize("factor", [0.8, 1.2])
def test_varied_walk_keeps_its_feet_planted(factor: float) -> None:
    """Amplitude changes stride length while the root path stays; apply_variation cleans the contacts
    (root only), so the walk does not skate (raw scaling: 0.05 -> 0.3-0.4 m/s)."""
    from usd_synth.motion.quality import evaluate

    walk = make_motion("walk", seed=0)
    raw = evaluate(scale_amplitude(walk, factor))
    varied = apply_variation(walk, {"amplitude": factor}, np.random.default_rng(0))
    report = evaluate(varied)
    assert raw.foot_skate > 0.2  # the problem is real
    assert report.foot_skate <= evaluate(walk).foot_skate + 0.02
    assert report.ground_penetration < 0.005
    assert varied.source.get("cleanup") == "foot_contacts"
    np.testing.assert_allclose(varied.rotations, scale_amplitude(walk, factor).rotations)
