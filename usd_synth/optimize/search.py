"""Searches over dataset parameters, driven by a noisy, expensive downstream score.

``usd-synth optimize`` tunes dataset parameters (by default the blend weight ``w`` in [0, 1]) from the
score of a model trained on each generated dataset. Each evaluation costs a dataset and a training run,
so a search gets few of them (typically 6-20), and the score is noisy: two datasets made with the same
parameters score differently. A search must therefore

* spend its budget where the optimum is likely (model-based, not a blind sweep),
* recommend a point from a *model* of all evaluations, not the luckiest single score, and
* be **resumable**: :meth:`Search.propose` is a pure function of (the history so far, ``budget_left``,
  the space, the search's seed). A search object holds no state between calls, so a restarted run that
  replays its history gets the same proposals and the runner can reuse its cached evaluations.

Searches (:data:`SEARCHES`, made by :func:`make_search`):

``gp`` (default)
    A small Gaussian-process search. An evenly spread (1-D) or Latin-hypercube (n-D) initial design,
    then the argmax of an upper confidence bound of a GP whose length scale and noise level are chosen
    by maximum marginal likelihood. Its recommendation is the argmax of the GP posterior *mean*, which
    averages the noise of neighbouring evaluations away.
``neighbourhood``
    The reference tool's local search, done right (1-D only): evaluate a centre and its two neighbours,
    move to a better neighbour or halve the step. Never evaluates a value twice.
``grid``
    ``budget`` evenly spaced points (1-D) or a Latin hypercube (n-D); the recommendation is the GP
    posterior-mean argmax as for ``gp``.

Proposed values are rounded to 4 decimals and clipped to their parameter's range. Failed evaluations
are simply left out of the history; a search tells a failure from a pending proposal by comparing the
attempts made (``budget - budget_left``) with the observations it was given, and moves on past a
design point that failed instead of proposing it again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular

from usd_synth.errors import UsdSynthError

#: Decimals kept in proposed values: enough for any dataset parameter, and it makes values in a
#: history (written to and read back from a run's records) compare equal to the proposals they came from.
DECIMALS = 4

#: The names :func:`make_search` accepts; the first is the default.
SEARCHES: tuple[str, ...] = ("gp", "neighbourhood", "grid")

# GP hyperparameter grid. Inputs are normalised to [0, 1] per parameter, scores to mean 0, std 1.
# Length scales below ~0.08 of the range would let the GP chase noise between neighbouring points;
# noise ratios (noise variance / signal variance) from nearly noiseless to as noisy as the signal.
# The noise ratio goes well above 1 because with a quadratic trend the residual may be all noise.
_LENGTH_SCALES = np.geomspace(0.08, 1.0, 12)
_NOISE_RATIOS = np.geomspace(1e-3, 1e2, 16)
#: A length scale shorter than this many typical spacings of the evaluations cannot be told from noise
#: (the GP would put a bump through every noisy score): such length scales are not fitted.
_MIN_SPACINGS = 1.5
_JITTER = 1e-8
#: Candidates closer than this (normalised, Euclidean) to an evaluated point are not proposed:
#: re-evaluating (almost) the same point teaches a noisy search little and wastes an expensive run.
_MIN_DISTANCE = 0.05
_KAPPA_START, _KAPPA_END = 2.0, 1.0
_GRID_1D = 1001
_TREND = "quadratic"
_RANDOM_CANDIDATES = 4000
_LOCAL_CANDIDATES = 1000


@dataclass(frozen=True)
class Param:
    """One tuned dataset parameter and its closed range ``[low, high]``."""

    name: str
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise UsdSynthError("a search parameter needs a name")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise UsdSynthError(
                f"parameter {self.name}: low must be below high, both finite (got {self.low}, {self.high})"
            )

    @property
    def span(self) -> float:
        return self.high - self.low


#: The parameters a search tunes, in a fixed order (the order of the normalised coordinates).
Space = list[Param]
#: One completed evaluation: the parameters it used and the score (higher is better).
Observation = tuple[dict[str, float], float]


@runtime_checkable
class Search(Protocol):
    """A search proposes parameters to evaluate and recommends the best one.

    Both methods are pure functions of their arguments and of how the search was made (space, budget,
    seed): the runner may discard the object and make a new one at any time (resume).
    """

    name: str

    def propose(self, history: list[Observation], budget_left: int) -> dict[str, float] | None:
        """The next parameters to evaluate, or ``None`` when the search is done (or no budget is left)."""
        ...

    def best(self, history: list[Observation]) -> dict[str, float]:
        """The recommended parameters given every evaluation so far."""
        ...


# --------------------------------------------------------------------------------------------------
# Gaussian process
# --------------------------------------------------------------------------------------------------


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return np.maximum(d, 0.0)


def _trend_basis(x: np.ndarray, quadratic: bool) -> np.ndarray:
    """Columns of the GP's mean function: a constant, or a constant plus a separable quadratic
    (``1, x_j, x_j^2`` per coordinate, centred on the middle of the range for conditioning)."""
    ones = np.ones((len(x), 1))
    if not quadratic:
        return ones
    c = x - 0.5
    return np.concatenate([ones, c, c * c], axis=1)


@dataclass(frozen=True)
class _Gp:
    """A fitted GP on normalised inputs: RBF kernel, a linear-in-parameters mean, Gaussian noise."""

    x: np.ndarray
    quadratic: bool
    length_scale: float
    noise_ratio: float
    beta: np.ndarray
    signal_var: float
    chol: np.ndarray
    alpha: np.ndarray
    ai_h: np.ndarray  # A^-1 H
    g_inv: np.ndarray  # (H' A^-1 H)^-1

    def predict(self, xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent (noise-free) function, in normalised
        score units. The variance includes the uncertainty of the estimated mean function, so the
        search still explores where the trend is extrapolated."""
        k = np.exp(-0.5 * _sq_dist(xc, self.x) / self.length_scale**2)
        h = _trend_basis(xc, self.quadratic)
        mean = h @ self.beta + k @ self.alpha
        v = solve_triangular(self.chol, k.T, lower=True)
        u = h - k @ self.ai_h
        var = self.signal_var * np.maximum(
            1.0 - (v * v).sum(0) + np.einsum("ij,jk,ik->i", u, self.g_inv, u), 0.0
        )
        return mean, np.sqrt(var)


def _fit_gp(x: np.ndarray, y: np.ndarray) -> _Gp:
    """Fit by maximum marginal likelihood over the (length scale, noise ratio) grid.

    The signal variance and the mean function's coefficients are profiled out in closed form, so the
    grid is only two-dimensional: for kernel matrix ``s2 * A`` (``A = C + r I``) the coefficients are the
    GLS estimate, ``s2 = resid' A^-1 resid / n``, and the negative log likelihood is
    ``n/2 log s2 + 1/2 log|A|``.

    The mean is quadratic once there are a few more observations than its coefficients (else
    constant). Why: a dataset parameter's score is usually unimodal and smooth over the range, and near
    the optimum the noise swamps the local change in score; a quadratic trend locates the optimum from
    the fall-off on both sides, which a constant-mean GP cannot see, while the GP residual still
    follows a score that is not quadratic.
    """
    n, d = x.shape
    quadratic = _TREND == "quadratic" and n >= 2 * d + 1 + 2
    h = _trend_basis(x, quadratic)
    best: tuple[float, _Gp] | None = None
    d2 = _sq_dist(x, x)
    nearest = np.sqrt(d2 + np.diag(np.full(n, np.inf))).min(1)
    spacing = float(np.median(nearest[np.isfinite(nearest)])) if n > 1 else 0.0
    min_ls = _MIN_SPACINGS * spacing
    scales = np.array([ls for ls in _LENGTH_SCALES if ls >= min_ls])
    for ls in scales if len(scales) else _LENGTH_SCALES[-1:]:
        c = np.exp(-0.5 * d2 / ls**2)
        for r in _NOISE_RATIOS:
            a = c + (r + _JITTER) * np.eye(n)
            try:
                chol = cholesky(a, lower=True)
                ai_h = cho_solve((chol, True), h)
                g_inv = np.linalg.inv(h.T @ ai_h)
            except np.linalg.LinAlgError:
                continue
            beta = g_inv @ (ai_h.T @ y)
            resid = y - h @ beta
            alpha = cho_solve((chol, True), resid)
            s2 = max(float(resid @ alpha) / n, 1e-12)
            nll = 0.5 * n * math.log(s2) + float(np.log(np.diag(chol)).sum())
            if best is None or nll < best[0] - 1e-12:
                best = (nll, _Gp(x, quadratic, float(ls), float(r), beta, s2, chol, alpha, ai_h, g_inv))
    if best is None:  # pragma: no cover - the noise ratio floor keeps A positive definite
        raise RuntimeError("no GP hyperparameters gave a positive definite kernel")
    return best[1]


def _normalise_scores(scores: np.ndarray) -> np.ndarray:
    std = float(scores.std())
    return (scores - scores.mean()) / (std if std > 1e-12 else 1.0)


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in [0, 1]^d, one in each of the ``n`` strata of every coordinate."""
    u = np.empty((n, d))
    for j in range(d):
        u[:, j] = (rng.permutation(n) + rng.uniform(0.0, 1.0, n)) / n
    return u


def _spread_1d(n: int) -> np.ndarray:
    """Evenly spread points for a 1-D design: 5 -> 0.1 ... 0.9, 3 -> 0.2, 0.5, 0.8, 1 -> 0.5.

    The margin shrinks as points are added, so a small design neither wastes points at the edges nor
    leaves the middle unexplored.
    """
    if n <= 1:
        return np.array([0.5])
    margin = max(0.35 - 0.05 * n, 0.5 / n)
    return np.linspace(margin, 1.0 - margin, n)


class _Base:
    """Normalisation, rounding and history handling shared by the searches."""

    name = ""

    def __init__(self, space: Sequence[Param], budget: int, seed: int = 0) -> None:
        self.space: Space = list(space)
        self.budget = int(budget)
        self.seed = int(seed)
        self._low = np.array([p.low for p in self.space])
        self._span = np.array([p.span for p in self.space])

    @property
    def dim(self) -> int:
        return len(self.space)

    # Conversions -----------------------------------------------------------------------------------

    def _params(self, u: np.ndarray) -> dict[str, float]:
        """Normalised point -> parameters, rounded and clipped (what is proposed and recommended)."""
        out = {}
        for p, ui in zip(self.space, np.clip(u, 0.0, 1.0), strict=True):
            out[p.name] = float(min(max(round(p.low + float(ui) * p.span, DECIMALS), p.low), p.high))
        return out

    def _round_unit(self, u: np.ndarray) -> np.ndarray:
        """Normalised points (rows) moved to where their rounded, clipped parameters lie."""
        high = self._low + self._span
        values = np.clip(np.round(self._low + np.clip(u, 0.0, 1.0) * self._span, DECIMALS), self._low, high)
        return (values - self._low) / self._span

    def _unit(self, params: dict[str, float]) -> np.ndarray:
        try:
            values = np.array([float(params[p.name]) for p in self.space])
        except KeyError as e:
            raise UsdSynthError(f"an observation lacks the search parameter {e.args[0]}") from None
        return (values - self._low) / self._span

    def _key(self, params: dict[str, float]) -> tuple[float, ...]:
        """What makes two points the same evaluation: their values rounded as proposals are."""
        return tuple(self._params(self._unit(params)).values())

    def _observations(self, history: Sequence[Observation]) -> tuple[np.ndarray, np.ndarray]:
        """Normalised inputs and raw scores of the usable observations (a non-finite score counts as a
        failed evaluation)."""
        xs, ys = [], []
        for params, score in history:
            if math.isfinite(float(score)):
                xs.append(np.clip(self._unit(params), 0.0, 1.0))
                ys.append(float(score))
        return np.array(xs, float).reshape(-1, self.dim), np.array(ys, float)

    def _failures(self, history: Sequence[Observation], budget_left: int) -> int:
        """Attempts that left no usable observation: the runner spent budget on them."""
        attempts = self.budget - int(budget_left)
        return max(0, attempts - len(self._observations(history)[1]))

    def _next_design(
        self, design: np.ndarray, history: Sequence[Observation], budget_left: int
    ) -> dict[str, float] | None:
        """The first design point not yet evaluated, skipping one for each failed attempt (so a point
        whose evaluation fails is not proposed again and again)."""
        done = {self._key(p) for p, s in history if math.isfinite(float(s))}
        pending = [self._params(u) for u in design]
        pending = [p for p in pending if tuple(p.values()) not in done]
        skip = self._failures(history, budget_left)
        return pending[skip] if skip < len(pending) else None

    # Recommendation --------------------------------------------------------------------------------

    def _best_raw(self, history: Sequence[Observation]) -> dict[str, float]:
        x, y = self._observations(history)
        if len(y) == 0:
            return self._params(np.full(self.dim, 0.5))
        return self._params(x[int(np.argmax(y))])

    def _candidates(
        self, x: np.ndarray, rng: np.random.Generator, incumbent: np.ndarray | None
    ) -> np.ndarray:
        """Points where the GP is evaluated: a fine grid in 1-D; in n-D seeded uniform points, points
        near the incumbent (where the optimum is refined) and the evaluated points."""
        if self.dim == 1:
            return np.linspace(0.0, 1.0, _GRID_1D)[:, None]
        parts = [rng.uniform(0.0, 1.0, (_RANDOM_CANDIDATES, self.dim)), x]
        if incumbent is not None:
            half = _LOCAL_CANDIDATES // 2
            parts.append(incumbent + rng.normal(0.0, 0.03, (half, self.dim)))
            parts.append(incumbent + rng.normal(0.0, 0.1, (_LOCAL_CANDIDATES - half, self.dim)))
        return np.clip(np.concatenate(parts), 0.0, 1.0)

    def _rng(self, purpose: int, n_obs: int) -> np.random.Generator:
        # Seeded by the search's seed, what the draw is for and how far the search is: the same history
        # always draws the same candidates, so a replay proposes the same points.
        return np.random.default_rng([self.seed, purpose, n_obs])

    def _posterior_best(self, history: Sequence[Observation]) -> dict[str, float]:
        """Argmax of the GP posterior mean: the noise of single evaluations averages out."""
        x, y = self._observations(history)
        if len(y) < 3:
            return self._best_raw(history)
        gp = _fit_gp(x, _normalise_scores(y))
        incumbent = x[int(np.argmax(gp.predict(x)[0]))]
        cand = self._candidates(x, self._rng(1, len(y)), incumbent)
        mean, _ = gp.predict(cand)
        return self._params(cand[int(np.argmax(mean))])


# --------------------------------------------------------------------------------------------------
# The searches
# --------------------------------------------------------------------------------------------------


class GpSearch(_Base):
    """Gaussian-process search with an upper-confidence-bound proposal; robust to a noisy score."""

    name = "gp"

    def __init__(self, space: Sequence[Param], budget: int, seed: int = 0) -> None:
        super().__init__(space, budget, seed)
        if self.dim == 1:
            self.design = _spread_1d(min(5, self.budget))[:, None]
        else:
            n = min(self.budget, max(5, 2 * self.dim + 1))
            self.design = _latin_hypercube(n, self.dim, np.random.default_rng([self.seed, 0]))

    def _kappa(self, budget_left: int) -> float:
        """Exploration weight: broad early, exploiting on the last proposals."""
        after_design = max(1, self.budget - len(self.design) - 1)
        frac = min(max((budget_left - 1) / after_design, 0.0), 1.0)
        return _KAPPA_END + (_KAPPA_START - _KAPPA_END) * frac

    def propose(self, history: list[Observation], budget_left: int) -> dict[str, float] | None:
        """The next unevaluated design point, then the argmax of mean + kappa * sd of the GP."""
        if budget_left <= 0:
            return None
        nxt = self._next_design(self.design, history, budget_left)
        if nxt is not None:
            return nxt
        x, y = self._observations(history)
        rng = self._rng(2, len(y))
        if len(y) < 2:  # too little to model (failed evaluations): fill the space instead
            cand = self._candidates(x, rng, None)
            if len(y) == 0:
                return self._params(np.full(self.dim, 0.5))
            far = np.sqrt(_sq_dist(cand, x)).min(1)
            return self._params(cand[int(np.argmax(far))])
        gp = _fit_gp(x, _normalise_scores(y))
        incumbent = x[int(np.argmax(gp.predict(x)[0]))]
        cand = self._candidates(x, rng, incumbent)
        mean, sd = gp.predict(cand)
        ucb = mean + self._kappa(budget_left) * sd
        cand = self._round_unit(cand)  # round first, then exclude: the rounded point is what is proposed
        near = np.sqrt(_sq_dist(cand, x)).min(1) < _MIN_DISTANCE
        if near.all():
            return None  # every candidate has been evaluated: nothing left to learn
        ucb[near] = -np.inf
        return self._params(cand[int(np.argmax(ucb))])

    def best(self, history: list[Observation]) -> dict[str, float]:
        """Argmax of the GP posterior mean (best raw score with fewer than 3 observations)."""
        return self._posterior_best(history)


class NeighbourhoodSearch(_Base):
    """Local search: a centre and its two neighbours; move to a better neighbour or halve the step.

    Its state (centre, step) is recomputed by replaying the rule over the history, so it is a pure
    function of the history. A value already evaluated is never proposed again: its score is reused.
    """

    name = "neighbourhood"
    #: Stop when the step falls below this fraction of the range.
    tolerance = 0.01

    def __init__(self, space: Sequence[Param], budget: int, seed: int = 0) -> None:
        super().__init__(space, budget, seed)
        if self.dim != 1:
            raise UsdSynthError(
                f"search neighbourhood tunes one parameter (got {self.dim}); use gp or grid", field="search"
            )

    def _value(self, v: float) -> float:
        p = self.space[0]
        return float(min(max(round(v, DECIMALS), p.low), p.high))

    def propose(self, history: list[Observation], budget_left: int) -> dict[str, float] | None:
        """Replay the rule over the history; the first point it needs and lacks is the proposal."""
        if budget_left <= 0:
            return None
        p = self.space[0]
        scores: dict[float, list[float]] = {}
        for params, score in history:
            if math.isfinite(float(score)):
                value = self._value(p.low + float(self._unit(params)[0]) * p.span)
                scores.setdefault(value, []).append(float(score))
        known = {v: float(np.mean(s)) for v, s in scores.items()}
        failures_left = self._failures(history, budget_left)
        centre, step = self._value(p.low + p.span / 2), p.span / 4
        while step >= self.tolerance * p.span:
            trio = [centre, self._value(centre - step), self._value(centre + step)]
            missing = [v for v in dict.fromkeys(trio) if v not in known]
            # A failed evaluation leaves its value missing. Replaying a sequential run, the failures
            # were the first values missing when they happened: score them worst and go on, rather
            # than retrying the same value until the budget runs out.
            k = min(failures_left, len(missing))
            known.update(dict.fromkeys(missing[:k], -math.inf))
            failures_left -= k
            if missing[k:]:
                return {p.name: missing[k]}
            better = max(trio[1:], key=lambda v: known[v])
            if known[better] > known[centre]:
                centre = better
            else:
                step /= 2
        return None

    def best(self, history: list[Observation]) -> dict[str, float]:
        """The best observed score: a local search has no model to average the noise with."""
        return self._best_raw(history)


class GridSearch(_Base):
    """``budget`` evenly spread points (1-D) or a seeded Latin hypercube (n-D), in a fixed order."""

    name = "grid"

    def __init__(self, space: Sequence[Param], budget: int, seed: int = 0) -> None:
        super().__init__(space, budget, seed)
        if self.dim == 1:
            self.design = ((np.arange(self.budget) + 0.5) / self.budget)[:, None]
        else:
            self.design = _latin_hypercube(self.budget, self.dim, np.random.default_rng([self.seed, 0]))

    def propose(self, history: list[Observation], budget_left: int) -> dict[str, float] | None:
        """The next grid point not yet evaluated."""
        if budget_left <= 0:
            return None
        return self._next_design(self.design, history, budget_left)

    def best(self, history: list[Observation]) -> dict[str, float]:
        """Argmax of the GP posterior mean over the grid's evaluations (best raw with fewer than 3)."""
        return self._posterior_best(history)


_CLASSES = {"gp": GpSearch, "neighbourhood": NeighbourhoodSearch, "grid": GridSearch}


def make_search(name: str, space: Sequence[Param], budget: int, seed: int = 0) -> Search:
    """Make the search called ``name`` (one of :data:`SEARCHES`) over ``space`` with ``budget``
    evaluations. ``seed`` fixes its random draws (n-D designs and candidates), so a resumed run with
    the same seed proposes the same points."""
    if name not in _CLASSES:
        raise UsdSynthError(f"search must be one of {', '.join(SEARCHES)} (got {name!r})", field="search")
    space = list(space)
    if not space:
        raise UsdSynthError("a search needs at least one parameter to tune")
    names = [p.name for p in space]
    if len(set(names)) != len(names):
        raise UsdSynthError(f"search parameters must have distinct names (got {', '.join(names)})")
    if int(budget) < 1:
        raise UsdSynthError(f"budget must be at least 1 (got {budget})", field="budget")
    return _CLASSES[name](space, int(budget), int(seed))
