"""Action parameters: their specs, how they are drawn from the seed, and how overrides are checked.

Parameters are drawn from ``rng_for(seed, "motion", name)`` (:mod:`usd_synth.randomize.seeding`, the
project's one seeding rule: an action's stream depends on the seed and the action's name only) in a fixed
order (every parameter is drawn even when overridden, so overriding one leaves the others unchanged) and
are recorded in ``motion.source["params"]``.

:class:`Param`, :data:`HEADING` and :func:`draw_params` are public because the catalogue
(:mod:`~usd_synth.motion.library.catalogue`) declares every action's parameters with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.randomize.seeding import rng_for


@dataclass(frozen=True)
class Param:
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
                    f"{action}: parameter {name}={value!r} must be one of {', '.join(self.choices)}",
                    field=name,
                )
            return str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsdSynthError(
                f"{action}: parameter {name}={value!r} must be a number", field=name
            ) from None
        lo, hi = self.limits
        if not (math.isfinite(number) and lo <= number <= hi):
            raise UsdSynthError(
                f"{action}: parameter {name}={value!r} must be a number in [{lo}, {hi}]", field=name
            )
        return number

    def describe(self) -> str:
        """The drawn range (or the choices) and the range an override may take, for listings."""
        if self.choices:
            return "one of " + "|".join(self.choices)
        lo, hi = self.draw
        text = f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"
        return f"{text} (allowed {self.limits[0]:g}..{self.limits[1]:g})"


#: The facing parameter every action shares (0 unless overridden, so clips face -Y by default).
HEADING = Param(
    (0.0, 0.0), (-360.0, 360.0), help="facing, degrees counter-clockwise from -Y (seen from above)"
)


def draw_params(
    name: str, specs: dict[str, Param], seed: int, overrides: dict[str, Any]
) -> tuple[dict[str, Any], np.random.Generator]:
    """Draw every parameter in a fixed order from the (seed, action) stream, then apply the overrides.

    Returns the parameters and the stream, positioned after them: what an action draws next (its
    :class:`~usd_synth.motion.library.life.Life`) comes from the same stream, after the parameters."""
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise UsdSynthError(
            f"{name}: unknown parameter {', '.join(unknown)}; known parameters: {', '.join(specs)}"
        )
    rng = rng_for(seed, "motion", name)
    params: dict[str, Any] = {}
    for key, spec in specs.items():
        params[key] = spec.sample(rng)
        if key in overrides:
            params[key] = spec.check(name, key, overrides[key])
    return params, rng
