"""The parameters ``usd-synth optimize`` searches, each in [0, 1], and how each one rewrites a dataset config.

Why these: an independent few-shot experiment found that same-class blends alone add about a point over
real-only training, while tempo and amplitude perturbations add two or three, because held-out people
differ in how big and how fast they move. So besides the blend weight the loop can search the synthetic
share and the strength of each variation:

=====================  ==================================================================================
``weight``             every blend at this weight (``mixes.weight_range = [w, w]``)
``weight.<class>``     per-class weights (``--per-class``; ``mixes.class_weights``)
``synthetic_share``    synthetic clips per class x s, at least 1 (``balance.max_synthetic_per_class``)
``amplitude``          always applied, range ``[1 - 0.5 a, 1 + 0.5 a]``
``tempo``              always applied, range ``[1 - 0.3 t, 1 + 0.3 t]``
``noise``              joint noise in ``[0, 4 n]`` degrees
``mirror``             mirroring probability
=====================  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from usd_synth.dataset.config import DatasetConfig
from usd_synth.errors import UsdSynthError
from usd_synth.optimize.search import Param

PARAMS: dict[str, str] = {
    "weight": "blend weight of every mix",
    "synthetic_share": "share of the planned synthetic clips made",
    "amplitude": "strength of the amplitude variation",
    "tempo": "strength of the tempo variation",
    "noise": "strength of the joint noise",
    "mirror": "probability of mirroring",
}


def make_space(names: Sequence[str], per_class: bool, classes: Sequence[str]) -> list[Param]:
    """The search space: the named parameters (``weight`` becomes one per class with ``per_class``)."""
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not names:
        raise UsdSynthError("params: name at least one parameter", field="params")
    space = []
    for n in names:
        if n not in PARAMS:
            raise UsdSynthError(
                f"params: unknown parameter {n!r}; known: {', '.join(PARAMS)}", field="params"
            )
        if n == "weight" and per_class:
            space += [Param(f"weight.{c}") for c in classes]
        else:
            space.append(Param(n))
    if per_class and "weight" not in names:
        raise UsdSynthError("per_class needs the weight parameter", field="per_class", mentions=("params",))
    return space


def _chance(p: float, lo: float, hi: float) -> dict[str, Any]:
    return {"probability": p, "range": {"min": lo, "max": hi}}


def apply_params(cfg: DatasetConfig, params: dict[str, float], base: Path) -> DatasetConfig:
    """``cfg`` with ``params`` written into it (see the module docstring); ``base``: the config's folder."""
    data = cfg.model_dump(mode="json")
    mixes, variation = data["mixes"], data["variation"]
    for name, value in params.items():
        v = float(value)
        if name == "weight":
            mixes["weights"] = None
            mixes["weight_range"] = {"min": v, "max": v}
        elif name.startswith("weight."):
            mixes["class_weights"] = {**(mixes.get("class_weights") or {}), name[len("weight.") :]: v}
        elif name == "synthetic_share":
            from usd_synth.dataset.plan import balance, real_counts

            planned = max(balance(cfg, real_counts(cfg, base)).values(), default=0)
            data["balance"]["max_synthetic_per_class"] = max(1, round(v * planned))
        elif name == "amplitude":
            variation["amplitude"] = _chance(1.0 if v > 0 else 0.0, 1 - 0.5 * v, 1 + 0.5 * v)
        elif name == "tempo":
            variation["tempo"] = _chance(1.0 if v > 0 else 0.0, 1 - 0.3 * v, 1 + 0.3 * v)
        elif name == "noise":
            variation["noise"] = _chance(1.0 if v > 0 else 0.0, 0.0, 4.0 * v)
        elif name == "mirror":
            variation["mirror"] = {**variation["mirror"], "probability": v}
        else:
            raise UsdSynthError(f"params: unknown parameter {name!r}", field="params")
    return DatasetConfig.model_validate(data)
