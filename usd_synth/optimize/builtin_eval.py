"""The ``builtin`` evaluator: does the synthetic set help a small skeleton classifier recognise real motions
it has never seen?

1. Each class's real motions (the config's ``sources``) are divided: ``evaluation.held_out`` of them are
   held out (drawn from ``rng_for(seed, "held-out", class)``); the dataset is generated from the rest only
   (:meth:`BuiltinEvaluator.prepare_config`), so no held-out motion reaches a synthetic clip.
2. Every real motion is cut like a dataset clip (the render frame rate, a centred window of
   ``render.frames``) and seen from ``evaluation.views`` cameras sampled like the dataset's (the scene's
   camera ranges), projected with the labels' camera model (:mod:`.projection`).
3. A small temporal conv net (:mod:`.classifier`) is trained on the training real clips alone, and on them
   plus every synthetic clip's 2D keypoints (``skeletons/*.npz``), ``evaluation.seeds`` times each; the
   score is the mean accuracy on the held-out real clips. The real-only score does not depend on the
   searched parameters, so it is computed once per run (``RUN/real_only.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from usd_synth.dataset.config import DatasetConfig
from usd_synth.dataset.plan import SourceRef, resolve_sources
from usd_synth.errors import UsdSynthError
from usd_synth.optimize.evaluators import EvalRequest
from usd_synth.randomize.seeding import rng_for


def held_out_ids(cfg: DatasetConfig, base: Path) -> tuple[dict[str, SourceRef], set[str]]:
    """Every source, and the ids of the held-out real motions (at least one kept and one held per class)."""
    sources = resolve_sources(cfg, base)
    held: set[str] = set()
    for cname in cfg.classes:
        ids = [i for i, s in sources.items() if s.cls == cname and not s.synthetic]
        if len(ids) < 2:
            raise UsdSynthError(
                f"evaluation.held_out: class {cname} has {len(ids)} real motion(s); the built-in evaluator "
                "needs at least 2 (one to train on, one held out)",
                field="evaluation.held_out",
            )
        n = min(len(ids) - 1, max(1, round(cfg.evaluation.held_out * len(ids))))
        order = rng_for(cfg.seed, "held-out", cname).permutation(len(ids))
        held.update(ids[int(k)] for k in order[:n])
    return sources, held


def _source_entry(ref: SourceRef) -> dict[str, Any]:
    if ref.builtin is not None:
        return {"builtin": ref.builtin, "seed": ref.seed, "count": 1}
    return {"file": ref.path, **({"format": ref.format} if ref.format else {})}


def _clip(motion, cfg: DatasetConfig):
    """A real motion cut like a dataset clip: the render frame rate, the centred ``render.frames`` window."""
    from usd_synth.compose.composer import cut, resample

    m = resample(motion, cfg.render.fps)
    frames = min(cfg.render.frames, m.num_frames)
    return cut(m, (m.num_frames - frames) // 2, frames)


class BuiltinEvaluator:
    """See the module docstring."""

    name = "builtin"
    needs_dataset = True

    def __init__(self) -> None:
        self._real_cache: dict[str, Any] = {}

    # -- 1. the generated config leaves the held-out motions out ---------------------------------------
    def prepare_config(self, cfg: DatasetConfig, base: Path) -> DatasetConfig:
        sources, held = held_out_ids(cfg, base)
        data = cfg.model_dump(mode="json")
        for cname, spec in data["classes"].items():
            spec["sources"] = [_source_entry(s) for i, s in sources.items()
                               if s.cls == cname and not s.synthetic and i not in held]  # fmt: skip
        return DatasetConfig.model_validate(data)

    # -- 2. real clips ---------------------------------------------------------------------------------
    def real_clips(self, cfg: DatasetConfig, base: Path) -> dict[str, list]:
        """``{"train": [(kp, label)], "held_out": [...]}``, computed once per config."""
        key = cfg.fingerprint()
        if key in self._real_cache:
            return self._real_cache[key]
        from usd_synth.dataset.job import load_source
        from usd_synth.optimize.projection import real_views

        sources, held = held_out_ids(cfg, base)
        classes = list(cfg.classes)
        w, h = (int(v) for v in cfg.render.resolution.split("x"))
        out: dict[str, list] = {"train": [], "held_out": []}
        for sid, ref in sources.items():
            if ref.synthetic:
                continue
            clip = _clip(load_source(ref), cfg)
            views = real_views(clip, cfg.scene.cameras, cfg.evaluation.views, (cfg.seed, sid), w, h)
            part = "held_out" if sid in held else "train"
            out[part] += [(kp, classes.index(ref.cls)) for kp in views]
        self._real_cache[key] = out
        return out

    # -- 3. synthetic clips and scores -------------------------------------------------------------------
    @staticmethod
    def synthetic_clips(dataset: Path, classes: list[str]) -> list:
        """Every clip of the dataset's manifest as (2D keypoints (T, 24, 2), class index)."""
        out = []
        manifest = Path(dataset) / "manifest.jsonl"
        if not manifest.is_file():
            raise UsdSynthError("the dataset has no manifest.jsonl", dataset, field="dataset")
        for line in manifest.read_text().splitlines():
            row = json.loads(line)
            npz = next((r for r in row["files"] if r.endswith(".npz")), None)
            if npz is None:
                raise UsdSynthError("the built-in evaluator needs the skeletons layout", dataset,
                                    field="outputs.layouts")  # fmt: skip
            with np.load(Path(dataset) / npz) as data:
                out.append(
                    (np.asarray(data["keypoints_2d"][..., :2], dtype=np.float32), classes.index(row["class"]))
                )
        return out

    def _score(self, cfg: DatasetConfig, train: list, test: list) -> dict[str, Any]:
        from usd_synth.optimize.classifier import train_and_score

        ev = cfg.evaluation
        return train_and_score([x for x, _ in train], [y for _, y in train], [x for x, _ in test],
                               [y for _, y in test], len(cfg.classes), seeds=tuple(range(ev.seeds)),
                               epochs=ev.epochs)  # fmt: skip

    def real_only(self, cfg: DatasetConfig, base: Path, run_dir: Path) -> dict[str, Any]:
        """The real-only score, computed once per run and config (``RUN/real_only.json``)."""
        path = Path(run_dir) / "real_only.json"
        key = cfg.fingerprint()
        if path.is_file():
            data = json.loads(path.read_text())
            if data.get("fingerprint") == key:
                return data
        real = self.real_clips(cfg, base)
        result = {"fingerprint": key, **self._score(cfg, real["train"], real["held_out"])}
        path.write_text(json.dumps(result, indent=1))
        return result

    def evaluate(self, request: EvalRequest) -> dict[str, Any]:
        cfg, base = request.config, Path(request.config_base or ".")
        real = self.real_clips(cfg, base)
        ro = self.real_only(cfg, base, request.run_dir)
        synth = (
            self.synthetic_clips(request.dataset, list(cfg.classes)) if request.dataset is not None else []
        )
        aug = self._score(cfg, real["train"] + synth, real["held_out"])
        return {
            "score": float(aug["mean"]),
            "score_std": float(aug["std"]),
            "scores": [float(s) for s in aug["scores"]],
            "real_only_score": float(ro["mean"]),
            "real_only_std": float(ro["std"]),
            "clips": {
                "real_train": len(real["train"]),
                "synthetic": len(synth),
                "held_out": len(real["held_out"]),
            },
        }
