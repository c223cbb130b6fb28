"""Evaluators: score a generated dataset by training a downstream model on it.

An evaluator has a ``name``, ``needs_dataset`` and ``evaluate(request) -> dict`` returning at least
``{"score": float}`` (higher is better), optionally ``real_only_score`` and anything else worth keeping in
the history. Three kinds, chosen by one string (``--evaluator``):

- a registered name: ``builtin`` (a small skeleton-sequence classifier, :mod:`.builtin_eval`) or any
  evaluator a package registers in the ``usd_synth.evaluators`` entry-point group (a class or factory
  taking no arguments), the way renderers and readers are found;
- ``command:CMD``: a user's trainer as a shell command, with ``{dataset}``, ``{weight}`` and ``{run_dir}``
  replaced (quoted); it prints a JSON line ``{"score": ...}`` (the last one counts);
- ``module:package.function``: ``function(dataset=..., weight=..., run_dir=..., params=...)`` returning a
  number or a dict with ``score``.

A failure (non-zero exit, timeout, no score line, an exception) raises :class:`EvaluationFailed`, which
carries the exit code and the tail of stderr into the history.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from usd_synth.errors import UsdSynthError

ENTRY_POINT_GROUP = "usd_synth.evaluators"
TAIL_CHARS = 2000
DEFAULT_TIMEOUT_S = 24 * 3600.0


@dataclass(frozen=True)
class EvalRequest:
    """What an evaluation gets: the dataset folder (None with ``--skip-generate``), the parameters, the run
    folder, the config (a :class:`usd_synth.dataset.config.DatasetConfig`) and its folder."""

    dataset: Path | None
    params: dict[str, float]
    run_dir: Path
    config: Any = None
    config_base: Path | None = None
    index: int = 0

    @property
    def weight(self) -> float | None:
        """The blend weight: ``weight``, or the mean of per-class weights."""
        if "weight" in self.params:
            return float(self.params["weight"])
        per_class = [v for k, v in self.params.items() if k.startswith("weight.")]
        return float(sum(per_class) / len(per_class)) if per_class else None


class EvaluationFailed(UsdSynthError):
    """An evaluation that gave no score; ``details`` (exit code, stderr tail...) go into the history."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, field="evaluator")
        self.details = dict(details or {})

    def __reduce__(self):
        return (type(self), (self.message, self.details))


@runtime_checkable
class Evaluator(Protocol):
    name: str
    needs_dataset: bool

    def evaluate(self, request: EvalRequest) -> dict[str, Any]: ...


def _tail(text: str | bytes | None) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text[-TAIL_CHARS:]


def parse_score(stdout: str) -> dict[str, Any] | None:
    """The last line of ``stdout`` that is a JSON object with a finite numeric ``score``."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not (line.startswith("{") and line.endswith("}")):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        score = data.get("score") if isinstance(data, dict) else None
        if isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score):
            return data
    return None


@dataclass
class CommandEvaluator:
    """``command:CMD`` (see the module docstring)."""

    template: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    name: str = "command"
    needs_dataset: bool = field(init=False)

    def __post_init__(self) -> None:
        if not self.template.strip():
            raise UsdSynthError("evaluator command:CMD needs a command", field="evaluator")
        self.needs_dataset = "{dataset}" in self.template

    def command(self, request: EvalRequest) -> str:
        weight = request.weight
        values = {
            "{dataset}": shlex.quote(str(request.dataset)) if request.dataset is not None else "''",
            "{weight}": f"{weight:.4f}" if weight is not None else "''",
            "{run_dir}": shlex.quote(str(request.run_dir)),
        }
        text = self.template
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    def evaluate(self, request: EvalRequest) -> dict[str, Any]:
        cmd = self.command(request)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise EvaluationFailed(
                f"the evaluator command ran past {self.timeout_s:g} s",
                {"command": cmd, "returncode": None, "stderr_tail": _tail(exc.stderr), "timeout": True},
            ) from None
        details = {
            "command": cmd,
            "returncode": proc.returncode,
            "stderr_tail": _tail(proc.stderr),
            "command_seconds": round(time.perf_counter() - t0, 3),
        }
        if proc.returncode != 0:
            last = details["stderr_tail"].strip().splitlines()[-1:] or [""]
            raise EvaluationFailed(
                f"the evaluator command exited with {proc.returncode}: {last[0][:200]}", details
            )
        data = parse_score(proc.stdout)
        if data is None:
            details["stdout_tail"] = _tail(proc.stdout)
            raise EvaluationFailed('the evaluator command printed no JSON line {"score": <number>}', details)
        return {**{k: v for k, v in data.items() if k != "score"}, "score": float(data["score"]), **details}


@dataclass
class ModuleEvaluator:
    """``module:package.function`` (see the module docstring)."""

    target: str
    name: str = "module"
    needs_dataset: bool = True

    def __post_init__(self) -> None:
        module_name, _, attr = self.target.rpartition(".")
        if not module_name or not attr:
            raise UsdSynthError(f"evaluator module:{self.target}: give package.function", field="evaluator")
        try:
            self.function = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise UsdSynthError(f"evaluator module:{self.target}: {exc}", field="evaluator") from None

    def evaluate(self, request: EvalRequest) -> dict[str, Any]:
        try:
            out = self.function(dataset=request.dataset, weight=request.weight, run_dir=request.run_dir,
                                params=dict(request.params))  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the user's function: recorded, not a crash
            raise EvaluationFailed(f"{self.target} raised {type(exc).__name__}: {exc}"[:300],
                                   {"exception": type(exc).__name__}) from None  # fmt: skip
        data = {"score": out} if isinstance(out, (int, float)) and not isinstance(out, bool) else out
        if not isinstance(data, dict) or not isinstance(data.get("score"), (int, float)):
            raise EvaluationFailed(
                f"{self.target} returned {type(out).__name__}, not a score or {{'score': ...}}"
            )
        if not math.isfinite(float(data["score"])):
            raise EvaluationFailed(f"{self.target} returned a non-finite score")
        return {**data, "score": float(data["score"])}


@functools.cache
def _registered() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def evaluator_names() -> list[str]:
    """Registered evaluator names (``builtin`` and any a package adds)."""
    return sorted(_registered())


def make_evaluator(spec: str, timeout_s: float | None = None) -> Evaluator:
    """The evaluator a ``--evaluator`` string names (see the module docstring)."""
    spec = (spec or "").strip()
    if spec.startswith("command:"):
        return CommandEvaluator(spec[len("command:") :], timeout_s or DEFAULT_TIMEOUT_S)
    if spec.startswith("module:"):
        return ModuleEvaluator(spec[len("module:") :])
    eps = _registered()
    if spec not in eps:
        known = ", ".join([*eps, "command:CMD", "module:package.function"])
        raise UsdSynthError(f"evaluator {spec!r} is unknown; use one of: {known}", field="evaluator")
    return eps[spec].load()()
