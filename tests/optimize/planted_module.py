"""A planted evaluator for ``module:tests.optimize.planted_module.score`` (used by test_optimize)."""

from __future__ import annotations


def score(dataset, weight, run_dir, params) -> dict:
    return {"score": 0.8 - 1.5 * (weight - 0.3) ** 2, "note": "planted"}


def score_2d(dataset, weight, run_dir, params) -> float:
    """A planted 2-D objective over weight and amplitude (optimum at 0.7, 0.3)."""
    return 0.9 - (params["weight"] - 0.7) ** 2 - (params["amplitude"] - 0.3) ** 2
