"""Action parameters: their specs, how they are drawn from the seed, and how overrides are checked.

Parameters are drawn from ``numpy.random.default_rng(SeedSequence([seed, crc32(name)]))`` in a fixed order
(every parameter is drawn even when overridden, so overriding one leaves the others unchanged) and are
recorded in ``motion.source["params"]``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from usd_synth.errors import UsdSynthError


@dataclass(frozen=True)
class _Param:
    """One action parameter: drawn uniformly from ``draw`` (or among ``choices``), overridable within
    ``limits`` (the range that still looks human)."""

    draw: tuple[float, float] = (0.0, 0.0)
    limits: tuple[float, float] = (-math.inf, math.inf)
    choices: tuple[str, ...] = ()
    help: str = ""

    def sample(self, rng: np.random.Generator) -> float | str:
        if self.choices:
            return self.choices[int(rng.integers(len(self.choices)))]
        return float(rng.uniform(*self.draw))

    def check(self, action: str, name: str, value: Any) -> float | str:
        if self.choices:
            if value not in self.choices:
                raise UsdSynthError(
                    f"{action}: parameter {name}={value!r} must be one of {', '.join(self.choices)}"
                )
            return str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsdSynthError(f"{action}: parameter {name}={value!r} must be a number") from None
        lo, hi = self.limits
        if not (math.isfinite(number) and lo <= number <= hi):
            raise UsdSynthError(f"{action}: parameter {name}={value!r} must be a number in [{lo}, {hi}]")
        return number


_HEADING = _Param(
    (0.0, 0.0), (-360.0, 360.0), help="facing, degrees counter-clockwise from -Y (seen from above)"
)


def _draw_params(name: str, specs: dict[str, _Param], seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """Draw every parameter in a fixed order from the (seed, action) stream, then apply the overrides."""
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise UsdSynthError(
            f"{name}: unknown parameter {', '.join(unknown)}; known parameters: {', '.join(specs)}"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))]))
    params: dict[str, Any] = {}
    for key, spec in specs.items():
        params[key] = spec.sample(rng)
        if key in overrides:
            params[key] = spec.check(name, key, overrides[key])
    return params
