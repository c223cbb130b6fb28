"""Sampling body shapes: Anny phenotypes (and SMPL betas) from a seeded numpy Generator.

A training set needs bodies that cover the people it will be used on, children to tall adults, thin to
heavy. The sampler draws:

1. an age in years from a mixture of age groups (:data:`AGE_GROUPS`: children, teenagers, adults, elders),
   turned into Anny's age parameter with Anny's own morphological-age table;
2. a sex (Anny's ``gender`` parameter near 0 for men, near 1 for women);
3. ``height``, ``weight`` and ``muscle`` from Anny's WHO-calibrated Beta distributions for that age and
   sex; the height uniformly between the 0.5th and 99.9th percentile of its distribution (``spread=1``,
   the default) so that short and tall people are as common as average ones (a detector should see
   them too), or from the population distribution itself with ``--set spread=0``;
4. ``proportions`` uniformly, and a skin tone from :data:`SKIN_TONES`.

Every draw is made in a fixed order whatever the overrides, so overriding one value (``--set age=0.3``)
leaves the others as they were for that seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.randomize import rng_for

#: (youngest, oldest, probability) of each age group, years.
AGE_GROUPS: tuple[tuple[float, float, float], ...] = (
    (1.5, 4.0, 0.15),
    (4.0, 12.0, 0.18),
    (12.0, 18.0, 0.09),
    (18.0, 65.0, 0.45),
    (65.0, 90.0, 0.13),
)

#: Default height sampling: uniform between these quantiles of the calibrated (population) distribution,
#: so short and tall people are as common as average ones; ``spread=0`` samples the population itself.
HEIGHT_QUANTILES = (0.005, 0.999)

#: Skin tones, linear RGB albedo, light to dark (approximating the Monk skin tone scale).
SKIN_TONES: tuple[tuple[float, float, float], ...] = (
    (0.85, 0.68, 0.58),
    (0.78, 0.57, 0.45),
    (0.70, 0.48, 0.36),
    (0.58, 0.38, 0.26),
    (0.45, 0.28, 0.18),
    (0.33, 0.20, 0.13),
    (0.22, 0.13, 0.08),
    (0.14, 0.08, 0.05),
)

#: Keys ``--set`` accepts for Anny bodies besides the phenotypes themselves.
EXTRA_KEYS = ("years", "stature", "spread", "skin", "influences", "hands")


def _interp_anchors(value: float, anchors: np.ndarray, values: np.ndarray) -> float:
    """Piecewise-linear map, extrapolated linearly past the ends (Anny's morphological-age table)."""
    i = int(np.clip(np.searchsorted(anchors, value, side="left"), 1, len(anchors) - 1))
    lo, hi = anchors[i - 1], anchors[i]
    alpha = (value - lo) / (hi - lo)
    return float((1 - alpha) * values[i - 1] + alpha * values[i])


def years_to_anny_age(assets, years: float) -> float:
    """Anny's age parameter for an age in years (Anny's calibration; 0 = newborn, 1 = 110 years)."""
    key = "calib/boys/morphological_age_mapping/"
    return float(
        np.clip(
            _interp_anchors(
                years, assets[key + "morphological_age_anchors"], assets[key + "anny_age_anchors"]
            ),
            0.0,
            1.0,
        )
    )


def _beta_params(assets, sex: str, group: str, age: float) -> tuple[float, float]:
    key = f"calib/{sex}/conditional_{group}_distribution/"
    anchors = assets[key + "age_anchors"]
    a = float(np.interp(age, anchors, assets[key + "alpha_anchors"]))
    b = float(np.interp(age, anchors, assets[key + "beta_anchors"]))
    return max(a, 1e-3), max(b, 1e-3)


def _beta(
    rng: np.random.Generator, a: float, b: float, uniform: bool = False, u: float | None = None
) -> float:
    """A Beta(a, b) draw; with ``uniform``, a uniform draw between its :data:`HEIGHT_QUANTILES` instead
    (at position ``u`` in [0, 1) when given, else a random one)."""
    if uniform:
        from scipy.stats import beta

        lo, hi = beta.ppf(HEIGHT_QUANTILES, a, b)
        draw = rng.random()
        return float(np.clip(lo + (draw if u is None else u) * (hi - lo), 0.0, 1.0))
    return float(np.clip(rng.beta(a, b), 0.0, 1.0))


#: The real root of x^4 = x + 1: its R3 sequence spreads consecutive seeds evenly over the unit cube.
_R3 = 1.22074408460575947536


def seed_strata(seed: int) -> tuple[float, float, float]:
    """Quasi-random (age, height, sex) positions in [0, 1)^3 for an integer body seed (the R3 sequence).

    The tallest bodies are adult men at a high height quantile, the smallest young children: drawing
    age, height or sex independently per seed leaves about a third of all 20-seed runs without a child
    under 1 m or an adult over 1.9 m (seeds 0-1000, with age and height stratified but the sex drawn).
    Positions from a three-dimensional low-discrepancy sequence make runs of consecutive seeds cover
    ages, heights and both sexes together (94 % of those runs span 1.0-1.9 m), while each seed
    stays a fixed body.
    """
    return (
        float((0.5 + seed / _R3) % 1.0),
        float((0.5 + seed / _R3**2) % 1.0),
        float((0.5 + seed / _R3**3) % 1.0),
    )


def _group_at(u: float) -> tuple[tuple[float, float, float], float]:
    """The age group at position ``u`` of the groups' cumulative probabilities, and where in it u falls."""
    probs = np.array([g[2] for g in AGE_GROUPS])
    cdf = np.cumsum(probs / probs.sum())
    i = int(min(np.searchsorted(cdf, u, side="right"), len(AGE_GROUPS) - 1))
    lo = 0.0 if i == 0 else cdf[i - 1]
    return AGE_GROUPS[i], float(np.clip((u - lo) / (cdf[i] - lo), 0.0, 1.0))


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["age=0.3", "height=0.7"]`` -> dict; a malformed pair is a UsdSynthError about ``overrides``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsdSynthError(f"overrides {pair!r}: expected key=value", field="overrides")
        out[key.strip()] = value.strip()
    return out


def parse_override_float(key: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    """The override ``key=value`` as a finite float in ``[lo, hi]`` (a bound of ``None`` is open), or a
    :class:`UsdSynthError` about ``overrides`` naming the key."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise UsdSynthError(f"overrides {key}={value}: not a number", field="overrides") from None
    if not np.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        raise UsdSynthError(f"overrides {key}={value}: must lie in [{lo}, {hi}]", field="overrides")
    return x


def sample_anny_shape(
    assets,
    rng: np.random.Generator,
    overrides: dict[str, Any] | None = None,
    strata: tuple[float, float, float] | None = None,
) -> dict[str, Any]:
    """Phenotypes (and years, skin colour) of one Anny body; see the module docstring.

    ``overrides`` may set any phenotype (0..1), ``years`` (age in years), ``spread`` (1: uniform heights, 0:
    the population's distribution),
    ``skin`` (index into :data:`SKIN_TONES`), and ``stature`` (metres: the height phenotype is then solved
    for it, see :func:`solve_height`). ``strata`` (see :func:`seed_strata`) place the age, the height
    quantile and the sex instead of the generator's draws, which are still made so the other values stay
    the same.
    """
    from usd_synth.body.anny_body import PHENOTYPES

    ov = dict(overrides or {})
    unknown = set(ov) - set(PHENOTYPES) - set(EXTRA_KEYS)
    if unknown:
        known = ", ".join(PHENOTYPES + EXTRA_KEYS)
        raise UsdSynthError(
            f"overrides {sorted(unknown)[0]}: unknown for Anny bodies (known: {known})", field="overrides"
        )
    # Fixed order of draws, whatever is overridden.
    probs = np.array([g[2] for g in AGE_GROUPS])
    group = AGE_GROUPS[int(rng.choice(len(AGE_GROUPS), p=probs / probs.sum()))]
    years = float(rng.uniform(group[0], group[1]))
    if strata is not None:
        group, within = _group_at(strata[0])
        years = group[0] + within * (group[1] - group[0])
    female = bool(rng.random() < 0.5)
    if strata is not None:
        female = strata[2] < 0.5
    gender = float(rng.uniform(0.75, 1.0) if female else rng.uniform(0.0, 0.25))
    # Height, weight and muscle each get a stream of their own (keyed by a draw from ``rng``), so the
    # uniform-height option, which draws differently, does not shift the other two.
    u_height, u_weight, u_muscle = (int(u) for u in rng.integers(0, 2**63, size=3))
    proportions = float(rng.random())
    skin = int(rng.integers(len(SKIN_TONES)))
    jitter = rng.uniform(0.95, 1.05, size=3)

    if "years" in ov:
        years = parse_override_float("years", ov["years"], 0.0, 110.0)
    uniform = parse_override_float("spread", ov.get("spread", 1), 0, 1) > 0
    if "gender" in ov:
        gender = parse_override_float("gender", ov["gender"], 0.0, 1.0)
    age = years_to_anny_age(assets, years)
    if "age" in ov:
        age = parse_override_float("age", ov["age"], 0.0, 1.0)
    sex = "girls" if gender > 0.5 else "boys"
    shape = {
        "gender": gender,
        "age": age,
        "height": _beta(
            rng_for(u_height, "body", "height"),
            *_beta_params(assets, sex, "height", age),
            uniform,
            None if strata is None else strata[1],
        ),
        "weight": _beta(rng_for(u_weight, "body", "weight"), *_beta_params(assets, sex, "weight", age)),
        "muscle": _beta(rng_for(u_muscle, "body", "muscle"), *_beta_params(assets, sex, "muscle", age)),
        "proportions": proportions,
    }
    for key in ("height", "weight", "muscle", "proportions"):
        if key in ov:
            shape[key] = parse_override_float(key, ov[key], 0.0, 1.0)
    if "stature" in ov:
        shape["height"] = solve_height(
            assets, shape, parse_override_float("stature", ov["stature"], 0.3, 2.6)
        )
    if "skin" in ov:
        skin = int(parse_override_float("skin", ov["skin"], 0, len(SKIN_TONES) - 1))
    color = tuple(float(c) for c in np.clip(np.array(SKIN_TONES[skin]) * jitter, 0.0, 1.0))
    return {"phenotypes": shape, "years": round(years, 2), "skin": skin, "color": color}


def solve_height(assets, phenotypes: dict[str, float], stature: float) -> float:
    """The ``height`` phenotype that gives ``stature`` metres with the other phenotypes fixed.

    Stature is close to linear in ``height`` (its blend shapes enter linearly); a secant step on the
    two ends and one refinement are enough. Out-of-range statures are clamped to what Anny can reach.
    """
    from usd_synth.body.anny_body import stature_of

    lo = stature_of(assets, {**phenotypes, "height": 0.0})
    hi = stature_of(assets, {**phenotypes, "height": 1.0})
    h = float(np.clip((stature - lo) / max(hi - lo, 1e-9), 0.0, 1.0))
    s = stature_of(assets, {**phenotypes, "height": h})
    h = float(np.clip(h + (stature - s) / max(hi - lo, 1e-9), 0.0, 1.0))
    return h


def sample_smpl_betas(rng: np.random.Generator, num_betas: int = 10, scale: float = 1.0) -> np.ndarray:
    """SMPL shape coefficients: standard normal (SMPL's PCA space is whitened), clipped to +-3 sd."""
    return np.clip(rng.standard_normal(num_betas) * scale, -3.0, 3.0)
