"""The optimize loop: propose parameters, generate a dataset with them, evaluate it, repeat until the budget
is spent; write the history, the recommendation, a plot and a report.

:func:`optimize` is what ``usd-synth optimize`` calls:

1. load the config, the evaluator and the search space; check the run folder (a folder of another run is
   refused unless ``overwrite``; one of this run needs ``resume``);
2. loop: the search proposes from the successful evaluations so far (a pure function of them, so a resumed
   run replays the same proposals); an evaluation already in the cache (``RUN/cache/<key>.json``, keyed by
   the parameters and how many times they were asked for) is reused instead of run again; otherwise the
   dataset is generated into ``RUN/datasets/<key>/`` (resumable too) and scored;
3. after every evaluation ``RUN/history.json`` is rewritten (atomically), so a kill loses at most the
   evaluation in flight;
4. a failed evaluation is recorded (exit code, stderr tail); the run stops with one line (exit 2) unless
   ``keep_going``; at the end ``best.json``, ``search.png`` and ``report.html`` are written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from usd_synth.dataset.config import DatasetConfig, config_base, load_dataset_config
from usd_synth.errors import UsdSynthError
from usd_synth.fileio import write_json
from usd_synth.optimize.evaluators import EvalRequest, EvaluationFailed, make_evaluator
from usd_synth.optimize.params import apply_params, make_space
from usd_synth.optimize.search import make_search

RUN_FILE = "run.json"
HISTORY = "history.json"
BEST = "best.json"


def _key(params: dict[str, float], repeat: int, salt: str) -> str:
    text = json.dumps({"params": {k: round(float(v), 4) for k, v in sorted(params.items())}, "repeat": repeat,
                       "salt": salt}, sort_keys=True)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _prepare_run_dir(run_dir: Path, identity: dict[str, Any], resume: bool, overwrite: bool) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise UsdSynthError("the run folder is a file", run_dir, field="out")
    from usd_synth.fileio import check_output_dir

    check_output_dir(run_dir, overwrite=True, field="out")  # never /, the home or working folder
    if run_dir.is_dir() and any(run_dir.iterdir()):
        try:
            same = json.loads((run_dir / RUN_FILE).read_text()).get("identity") == identity
        except (OSError, ValueError):
            same = False
        if overwrite:
            shutil.rmtree(run_dir)
        elif not same:
            raise UsdSynthError("the run folder holds another run (config, evaluator, search or space "
                                "differ); pass overwrite to replace it", run_dir, field="out",
                                mentions=("overwrite",))  # fmt: skip
        elif not resume:
            raise UsdSynthError("the run folder holds this run; pass resume to continue it or overwrite to "
                                "start again", run_dir, field="out",
                                mentions=("resume", "overwrite"))  # fmt: skip
    run_dir.mkdir(parents=True, exist_ok=True)


def _observations(history: list[dict]) -> list[tuple[dict[str, float], float]]:
    return [(h["params"], float(h["score"])) for h in history if h.get("status") == "ok"]


def _evaluate_one(evaluator, cfg: DatasetConfig, gen_cfg: DatasetConfig, base: Path, run_dir: Path,
                  params: dict[str, float], key: str, index: int, skip_generate: bool, generate_options: dict,
                  ) -> dict[str, Any]:  # fmt: skip
    """Generate (unless skipped) and evaluate one parameter set; an entry for the history."""
    from usd_synth.dataset.builder import generate

    t0 = time.perf_counter()
    entry: dict[str, Any] = {"evaluation": index, "key": key, "params": params,
                             "weight": params.get("weight")}  # fmt: skip
    dataset = None
    try:
        if not skip_generate:
            dataset = run_dir / "datasets" / key
            varied = apply_params(gen_cfg, params, base)
            resume = (dataset / "dataset.json").is_file()
            generate(varied, dataset, base=base, resume=resume, **generate_options)
        request = EvalRequest(dataset, dict(params), run_dir, cfg, base, index)
        result = evaluator.evaluate(request)
        entry.update(
            {k: v for k, v in result.items() if k not in entry}, status="ok", score=float(result["score"])
        )
    except EvaluationFailed as exc:
        entry.update(status="failed", error=exc.message, **exc.details)
    except UsdSynthError as exc:
        entry.update(status="failed", error=str(exc))
    entry["dataset"] = str(dataset.relative_to(run_dir)) if dataset is not None else None
    entry["seconds"] = round(time.perf_counter() - t0, 2)
    return entry


def best_record(search, history: list[dict]) -> dict[str, Any]:
    """The recommendation: the search's best parameters, the scores observed near them, and the real-only
    score."""
    obs = _observations(history)
    real_only = [h["real_only_score"] for h in history if h.get("status") == "ok" and "real_only_score" in h]
    out: dict[str, Any] = {"evaluations": len(history), "successful": len(obs),
                           "real_only_score": real_only[-1] if real_only else None}  # fmt: skip
    if not obs:
        return {**out, "weight": None, "params": None, "score": None}
    params = search.best(obs)
    top = max(obs, key=lambda o: o[1])

    def dist(p: dict[str, float]) -> float:
        return max(abs(float(p.get(k, 0)) - float(v)) for k, v in params.items())

    near = [s for p, s in obs if dist(p) <= 0.05] or [min(obs, key=lambda o: dist(o[0]))[1]]
    return {
        **out,
        "weight": params.get("weight"),
        "params": params,
        "score": round(sum(near) / len(near), 6),
        "score_from": f"mean of {len(near)} evaluation(s) within 0.05 of the recommendation",
        "best_observed": {"params": top[0], "score": top[1]},
    }


def optimize(
    config: str | Path,
    run_dir: str | Path,
    evaluator: str,
    budget: int,
    search: str = "gp",
    params: Sequence[str] = ("weight",),
    per_class: bool = False,
    skip_generate: bool = False,
    resume: bool = False,
    keep_going: bool = False,
    overwrite: bool = False,
    workers: int = 1,
    executor: str = "processes",
    eval_timeout: float | None = None,
    seed: int = 0,
    progress: Callable[[int, int, dict], None] | None = None,
) -> dict[str, Any]:
    """Run the loop (see the module docstring); returns ``best.json``'s content."""
    # 1. inputs and the run folder
    if isinstance(budget, bool) or not isinstance(budget, int) or not 1 <= budget <= 1000:
        raise UsdSynthError(f"budget must be a whole number in 1..1000, got {budget!r}", field="budget")
    cfg, base = load_dataset_config(config), config_base(config)
    ev = make_evaluator(evaluator, eval_timeout)
    space = make_space(params, per_class, list(cfg.classes))
    searcher = make_search(search, space, budget, seed)
    gen_cfg = ev.prepare_config(cfg, base) if hasattr(ev, "prepare_config") and not skip_generate else cfg
    run_dir = Path(run_dir)
    identity = {"config": cfg.fingerprint(), "evaluator": evaluator, "search": search, "seed": seed,
                "space": [p.name for p in space], "skip_generate": skip_generate}  # fmt: skip
    _prepare_run_dir(run_dir, identity, resume, overwrite)
    write_json(run_dir / RUN_FILE, {"identity": identity, "budget": budget, "config": str(config)})
    history: list[dict] = []
    if resume and (run_dir / HISTORY).is_file():
        history = json.loads((run_dir / HISTORY).read_text())
    salt = json.dumps(identity, sort_keys=True)
    options = {"workers": workers, "executor": executor}
    reused = 0
    stop_error: str | None = None
    # 2-4. the loop
    while len(history) < budget:
        proposal = searcher.propose(_observations(history), budget - len(history))
        if proposal is None:
            break
        repeat = sum(1 for h in history if h["params"] == proposal)
        key = _key(proposal, repeat, salt)
        cached = run_dir / "cache" / f"{key}.json"
        if cached.is_file():
            entry = json.loads(cached.read_text())
            entry["evaluation"] = len(history) + 1
            reused += 1
        else:
            entry = _evaluate_one(ev, cfg, gen_cfg, base, run_dir, proposal, key, len(history) + 1,
                                  skip_generate, options)  # fmt: skip
            if entry["status"] == "ok":
                write_json(cached, entry)
        history.append(entry)
        write_json(run_dir / HISTORY, history)
        if progress is not None:
            progress(len(history), budget, entry)
        if entry["status"] != "ok" and not keep_going:
            exit_note = "" if entry.get("returncode") is None else f" (exit {entry['returncode']})"
            stop_error = f"evaluation {entry['evaluation']} failed{exit_note}: {entry.get('error', '')}"
            break
    # the outputs
    best = best_record(searcher, history)
    best["reused_evaluations"] = reused
    write_json(run_dir / BEST, best)
    from usd_synth.optimize.report import write_plot, write_report

    write_plot(run_dir / "search.png", history, best)
    write_report(run_dir, history, best, identity)
    if stop_error is None and history and best.get("params") is None:
        stop_error = f"none of the {len(history)} evaluations succeeded"
    if stop_error is not None:
        raise UsdSynthError(f"{stop_error}; see {run_dir / HISTORY} (keep_going continues past failures)",
                            field="evaluator", mentions=("keep_going",))  # fmt: skip
    return best
