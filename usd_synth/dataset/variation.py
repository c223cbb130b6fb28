"""Motion variations of the dataset builder: tempo, amplitude, left/right mirror and smooth joint noise.

A handful of real clips per class is too few to train on; the builder multiplies them by varying each
motion in ways that keep its label: played a little faster or slower, with a bigger or smaller swing,
performed with the other side of the body, or with the small irregularities no two repetitions share.

Every function here is pure: it never modifies the motion it is given and returns a new
:class:`~usd_synth.motion.model.Motion` whose ``source`` is a copy of the input's with the applied value
recorded under ``source["variation"][name]``, so a clip's provenance says how it was varied.

:func:`sample_variation` draws the values of one clip from a :class:`VariationConfig`;
:func:`apply_variation` applies them in a fixed order. Mirroring is decided at planning time (it may change
the class, see :class:`~usd_synth.dataset.config.MirrorConfig`), so it is an argument here, not a draw.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from usd_synth.compose.composer import resample
from usd_synth.dataset.config import Chance, VariationConfig
from usd_synth.errors import UsdSynthError
from usd_synth.motion.model import Motion
from usd_synth.rotations import axis_angle_to_quat, quat_conj, quat_mul, quat_normalize, quat_to_axis_angle
from usd_synth.skeleton import MIRROR

#: Largest tempo factor accepted: beyond it a clip collapses to a handful of frames.
MAX_TEMPO = 10.0
#: Largest amplitude factor accepted: beyond it rotations wrap around and the motion is no longer a
#: bigger version of itself.
MAX_AMPLITUDE = 10.0
#: Largest RMS noise angle (degrees) accepted: noise is meant to be small next to the motion.
MAX_NOISE_DEG = 90.0
#: Standard deviation (seconds) of the Gaussian low-pass of the noise: slow enough to look like a person's
#: irregularity, not like tremor.
NOISE_SMOOTHING_S = 0.25

#: The values :func:`sample_variation` returns when nothing is drawn; :func:`apply_variation` skips them.
NEUTRAL: dict[str, float] = {"tempo": 1.0, "amplitude": 1.0, "noise_deg": 0.0}

# A reflection conjugating a rotation, S R S with S = diag(-1, 1, 1), keeps the rotation angle and maps
# its axis a to det(S) S a = (a_x, -a_y, -a_z): on quaternions (x, y, z, w) it negates y and z.
_REFLECT_X = np.array([1.0, -1.0, -1.0, 1.0])


def _varied(motion: Motion, name: str, value: Any, **arrays: Any) -> Motion:
    """A new Motion like ``motion`` with ``arrays`` replaced and ``value`` recorded under ``name``.

    The source is deep-copied so that the new motion's provenance never aliases the input's.
    """
    source = copy.deepcopy(motion.source)
    variation = dict(source.get("variation") or {})
    variation[name] = value
    source["variation"] = variation
    fields = {
        "fps": motion.fps,
        "rotations": motion.rotations.copy(),
        "translation": motion.translation.copy(),
        "offsets": motion.offsets.copy(),
    }
    fields.update(arrays)
    return Motion(label=motion.label, source=source, **fields)


def _check(value: float, field: str, low: float, high: float, open_low: bool = False) -> float:
    """``value`` as a float, or a one-line UsdSynthError naming ``field`` if outside its interval."""
    v = float(value)
    below = v <= low if open_low else v < low
    if not math.isfinite(v) or below or v > high:
        interval = f"({low:g}, {high:g}]" if open_low else f"[{low:g}, {high:g}]"
        raise UsdSynthError(f"{field} must lie in {interval} (got {value})", field=field)
    return v


# -------------------------------------------------------------------------------------------- tempo ----
def time_scale(motion: Motion, factor: float) -> Motion:
    """The motion played ``factor`` times faster (``factor`` > 1: shorter), at the same frame rate.

    Why resampling: the motion is first *declared* to run at ``fps * factor`` (the same frames, shown
    faster), then resampled back to the original ``fps``, so the clip keeps its frame rate (the renderer's)
    while its duration becomes ``duration / factor``. The pelvis translation is resampled with the
    rotations, so the body takes the same path through space, only faster. The first frame is kept; the
    last is kept whenever ``(frames - 1) / factor`` is a whole number.
    """
    f = _check(factor, "tempo", 0.0, MAX_TEMPO, open_low=True)
    fast = Motion(
        fps=motion.fps * f,
        rotations=motion.rotations,
        translation=motion.translation,
        offsets=motion.offsets,
        label=motion.label,
    )
    out = resample(fast, motion.fps)
    return _varied(motion, "tempo", f, rotations=out.rotations, translation=out.translation)


# ---------------------------------------------------------------------------------------- amplitude ----
def mean_rotation(q: np.ndarray) -> np.ndarray:
    """Per-joint mean rotation (J, 4) of quaternions ``q`` (T, J, 4): the normalised sign-aligned average.

    q and -q are the same rotation, so each frame is first flipped into the hemisphere of the first frame;
    for the spread of one joint over a clip (well under 180 degrees) this is a close, cheap approximation
    of the geodesic mean.
    """
    sign = np.where(np.sum(q * q[:1], axis=-1, keepdims=True) < 0, -1.0, 1.0)
    mean = np.sum(q * sign, axis=0)
    # A joint whose quaternions cancel exactly (never in a real clip) falls back to its first frame.
    degenerate = np.linalg.norm(mean, axis=-1, keepdims=True) < 1e-12
    return quat_normalize(np.where(degenerate, q[0], mean))


def scale_amplitude(motion: Motion, factor: float) -> Motion:
    """The motion with its joint rotations swung ``factor`` times as far from the clip's mean pose.

    Why about the mean pose: scaling a rotation about the identity would also bend the pose a joint holds
    (a raised arm would rise further); scaling about the joint's own mean changes only how far it moves
    around that pose, so a wave becomes bigger (``factor`` > 1) or smaller (< 1) and ``factor`` 0 freezes
    every joint at its mean. Per joint j >= 1 and frame t, with ``m`` the mean rotation::

        r_t = m^-1 q_t,    q'_t = m exp(factor log r_t)

    The root rotation and the translation stay as they are: the body's heading and path are not part of
    the gesture. ``factor`` 1 returns the same rotations (to rounding).
    """
    f = _check(factor, "amplitude", 0.0, MAX_AMPLITUDE)
    q = motion.rotations[:, 1:]
    m = mean_rotation(q)[None]
    rel = quat_mul(quat_conj(m), q)
    scaled = quat_mul(m, axis_angle_to_quat(f * quat_to_axis_angle(rel)))
    # Keep each frame's sign next to the input's, so factor 1 gives back the very same quaternions.
    scaled = np.where(np.sum(scaled * q, axis=-1, keepdims=True) < 0, -scaled, scaled)
    rotations = motion.rotations.copy()
    rotations[:, 1:] = scaled
    return _varied(motion, "amplitude", f, rotations=rotations)


# ------------------------------------------------------------------------------------------- mirror ----
def mirror(motion: Motion) -> Motion:
    """The motion performed with the other side of the body (a right-hand wave becomes a left-hand one).

    Why both reflections: local rotations live in the SMPL body frame, whose x is the body's left, so
    swapping sides reflects them by ``S_b = diag(-1, 1, 1)`` and swaps each joint with its partner
    (:data:`usd_synth.skeleton.MIRROR`); the root rotation maps body to world, so it is reflected on the
    body side by ``S_b`` and on the world side by ``S_w = diag(-1, 1, 1)`` (world X), and so is the pelvis
    path. With ``M = MIRROR``::

        R'_j = S_b R_M[j] S_b  (j >= 1),   R'_0 = S_w R_0 S_b,   t' = S_w t,   offsets'[j] = S_b offsets[M[j]]

    World joint positions then are those of the input reflected by ``S_w`` with left and right swapped, the
    reflected skeleton (offsets) keeps an asymmetric body's proportions on their mirrored sides, and
    ``mirror(mirror(m))`` is ``m``. The recorded value toggles, so it says whether the result is mirrored.
    """
    s = np.array([-1.0, 1.0, 1.0])
    # Joint 0 is its own partner (MIRROR[0] == 0) and S_w = S_b, so the same sign flip is S_w R_0 S_b.
    rotations = motion.rotations[:, MIRROR] * _REFLECT_X
    translation = motion.translation * s
    offsets = motion.offsets[MIRROR] * s
    was = bool((motion.source.get("variation") or {}).get("mirror", False))
    return _varied(motion, "mirror", not was, rotations=rotations, translation=translation, offsets=offsets)


# -------------------------------------------------------------------------------------------- noise ----
def add_joint_noise(motion: Motion, degrees: float, rng: np.random.Generator) -> Motion:
    """The motion with a smooth, small random rotation composed onto each joint 1..23.

    Why smooth: white noise per frame would look like jitter (and fail jerk checks); people instead vary
    slowly from one repetition to the next. Each joint gets a rotation-vector signal of Gaussian white
    noise low-passed with a Gaussian of :data:`NOISE_SMOOTHING_S` seconds, rescaled so that its RMS angle
    over the clip is ``degrees``, and composed in the joint's own frame (``q' = q exp(v)``). The root and
    the translation are untouched, so the body's path stays. ``degrees`` 0 returns a copy and draws
    nothing; otherwise exactly ``frames * 23 * 3`` normals are drawn from ``rng``, so a given rng state
    gives the same noise.
    """
    deg = _check(degrees, "noise", 0.0, MAX_NOISE_DEG)
    if deg == 0.0:
        return _varied(motion, "noise_deg", 0.0)
    t = motion.num_frames
    white = rng.standard_normal((t, motion.rotations.shape[1] - 1, 3))
    sigma = NOISE_SMOOTHING_S * motion.fps
    smooth = gaussian_filter1d(white, sigma, axis=0, mode="reflect") if t > 1 else white
    rms = np.sqrt(np.mean(np.sum(smooth**2, axis=-1), axis=0, keepdims=True))[..., None]
    noise = smooth / np.maximum(rms, 1e-12) * np.radians(deg)
    rotations = motion.rotations.copy()
    rotations[:, 1:] = quat_mul(motion.rotations[:, 1:], axis_angle_to_quat(noise))
    return _varied(motion, "noise_deg", deg, rotations=rotations)


# -------------------------------------------------------------------------------- sample and apply ----
def _draw(chance: Chance, neutral: float, rng: np.random.Generator) -> float:
    """A value of ``chance``'s range with its probability, else ``neutral``; always two draws."""
    hit = rng.random() < chance.probability
    value = rng.uniform(chance.range.min, chance.range.max)
    return round(float(value if hit else neutral), 6)


def sample_variation(cfg: VariationConfig, rng: np.random.Generator) -> dict[str, float]:
    """Draw one clip's variation: ``{"tempo", "amplitude", "noise_deg"}``, neutral where not drawn.

    Why a fixed number of draws: both the coin and the value are drawn for every kind whether it applies
    or not (six draws in all), so changing one probability never shifts the values drawn after it, and a
    plan stays reproducible item by item. Values are Python floats rounded to 6 digits, for JSON plans.
    Mirroring is not drawn here: it is decided at planning, where it may change the class.
    """
    return {
        "tempo": _draw(cfg.tempo, NEUTRAL["tempo"], rng),
        "amplitude": _draw(cfg.amplitude, NEUTRAL["amplitude"], rng),
        "noise_deg": _draw(cfg.noise, NEUTRAL["noise_deg"], rng),
    }


def apply_variation(
    motion: Motion, values: dict[str, float], rng: np.random.Generator, mirrored: bool = False
) -> Motion:
    """``motion`` varied by ``values`` (as :func:`sample_variation` returns them), mirrored if asked.

    Order: mirror, tempo, amplitude, noise. Mirroring first makes the other steps independent of the side;
    amplitude is scaled about the mean pose of the final timing; noise comes last so that it is not scaled
    along with the gesture. Neutral values (tempo 1, amplitude 1, noise 0, missing keys) are skipped
    exactly, so an all-neutral variation returns an unchanged copy and draws nothing from ``rng``.

    Changing the joint rotations (amplitude, noise) changes stride length and leg height while the root
    path stays, so planted feet would slide (a walk at amplitude 0.8: foot skate 0.05 -> 0.41 m/s) and sink;
    the contacts are then cleaned by moving the root only (:func:`usd_synth.motion.quality.cleanup_contacts`,
    back to 0.04 m/s), which keeps the varied pose itself.
    """
    out = mirror(motion) if mirrored else motion.copy()
    tempo = float(values.get("tempo", NEUTRAL["tempo"]))
    amplitude = float(values.get("amplitude", NEUTRAL["amplitude"]))
    noise = float(values.get("noise_deg", NEUTRAL["noise_deg"]))
    if tempo != NEUTRAL["tempo"]:
        out = time_scale(out, tempo)
    if amplitude != NEUTRAL["amplitude"]:
        out = scale_amplitude(out, amplitude)
    if noise != NEUTRAL["noise_deg"]:
        out = add_joint_noise(out, noise, rng)
    if amplitude != NEUTRAL["amplitude"] or noise != NEUTRAL["noise_deg"]:
        from usd_synth.motion.quality import cleanup_contacts

        out = cleanup_contacts(out)
    return out
