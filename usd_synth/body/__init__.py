"""Bodies on the SMPL-24 skeleton: the free Anny body (default), SMPL bodies from the user's model files,
shape sampling, and actors (a motion bound to a body).

:func:`make_body` is the one entry point: a model name, a seed (or a numpy Generator) and ``--set``-style
overrides in, a rigged :class:`~usd_synth.body.model.Body` out. The same seed always gives the same body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from usd_synth.body.model import MAX_INFLUENCES, Body
from usd_synth.errors import UsdSynthError
from usd_synth.randomize import rng_for

MODELS = ("anny", "smpl")


def body_rng(seed: int) -> np.random.Generator:
    """The Generator a body seed stands for: ``rng_for(seed, "body")`` (the project's seeding rule), so it
    is independent of the motions and other streams drawn from the same seed."""
    return rng_for(int(seed), "body")


def make_body(
    model: str = "anny",
    seed: int | np.random.Generator = 0,
    overrides: dict[str, Any] | None = None,
    smpl_dir: str | Path | None = None,
) -> Body:
    """A rigged body: Anny (phenotypes sampled from the seed) or SMPL (betas sampled, files from the user).

    ``overrides``: Anny phenotypes (gender, age, muscle, weight, height, proportions, each 0..1), ``years``,
    ``stature`` (metres), ``spread``, ``skin``, ``hands`` (``open``, ``relaxed`` (default) or ``fist``: the
    finger pose baked into the bind mesh); SMPL ``gender`` (neutral/male/female), ``betas``
    (comma-separated) or ``beta0``..``beta9``; both ``influences`` (skin influences per vertex, 1..8).
    """
    from usd_synth.body import shapes

    rng = seed if isinstance(seed, np.random.Generator) else body_rng(seed)
    seed_info = {} if isinstance(seed, np.random.Generator) else {"seed": int(seed)}
    ov = dict(overrides or {})
    influences = int(shapes.parse_override_float("influences", ov.pop("influences", MAX_INFLUENCES), 1, 8))
    if model == "anny":
        if smpl_dir is not None:
            raise UsdSynthError(
                "smpl_dir is only used with model smpl", field="smpl_dir", mentions=("model",)
            )
        from usd_synth.body.anny_body import anny_body, load_assets

        hands = str(ov.pop("hands", "relaxed"))
        strata = None if isinstance(seed, np.random.Generator) else shapes.seed_strata(int(seed))
        shape = shapes.sample_anny_shape(load_assets(), rng, ov, strata)
        params = {**seed_info, "years": shape["years"], "skin": shape["skin"], "influences": influences}
        return anny_body(shape["phenotypes"], influences, shape["color"], params, hands)
    if model == "smpl":
        if smpl_dir is None:
            raise UsdSynthError(
                "model smpl needs smpl_dir (a folder with the SMPL model files)",
                field="smpl_dir",
                mentions=("model",),
            )
        from usd_synth.body.smpl_body import smpl_body

        gender = str(ov.pop("gender", "neutral"))
        if str(ov.pop("hands", "open")) != "open":
            raise UsdSynthError(
                "overrides hands: SMPL bodies have no finger joints, so only hands=open", field="overrides"
            )
        betas = shapes.sample_smpl_betas(rng)
        skin = int(rng.integers(len(shapes.SKIN_TONES)))
        if "betas" in ov:
            text = str(ov.pop("betas"))
            try:
                given = [float(x) for x in text.split(",") if x.strip()]
            except ValueError:
                raise UsdSynthError(
                    f"overrides betas={text}: expected comma-separated numbers", field="overrides"
                ) from None
            betas = np.zeros(max(len(given), 1))
            betas[: len(given)] = given
        for key in [k for k in ov if k.startswith("beta") and k[4:].isdigit()]:
            i = int(key[4:])
            if i >= len(betas):
                betas = np.pad(betas, (0, i + 1 - len(betas)))
            betas[i] = shapes.parse_override_float(key, ov.pop(key), -10.0, 10.0)
        if "skin" in ov:
            skin = int(shapes.parse_override_float("skin", ov.pop("skin"), 0, len(shapes.SKIN_TONES) - 1))
        if ov:
            raise UsdSynthError(
                f"overrides {sorted(ov)[0]}: unknown for SMPL bodies (known: gender, betas, beta0..beta9, "
                "skin, influences, hands)",
                field="overrides",
            )
        params = {**seed_info, "skin": skin, "influences": influences}
        return smpl_body(smpl_dir, betas, gender, influences, shapes.SKIN_TONES[skin], params)
    raise UsdSynthError(f"model {model}: unknown body model (use {' or '.join(MODELS)})", field="model")


__all__ = ["Body", "MODELS", "body_rng", "make_body"]
