"""A planted evaluator for ``module:tests.optimize.planted_module.score`` (used by test_optimize)."""

from __future__ import annotations


def score(dataset, weight, run_dir, params) -> dict:
    return {"score": 0.8 - 1.5 * (weight - 0.3) ** 2, "note": "planted"}
