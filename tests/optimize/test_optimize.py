"""The optimize loop: planted noisy objectives through real commands, resume without re-evaluation, failing
evaluators, module and registered evaluators, the built-in evaluator on a micro skeleton config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.optimize.evaluators import (
    CommandEvaluator,
    EvalRequest,
    evaluator_names,
    make_evaluator,
    parse_score,
)
from usd_synth.optimize.runner import optimize

CONFIG = "classes:\n  wave: {sources: [{builtin: wave, count: 2}]}\n"


def planted(opt: float, sigma: float = 0.01, counter: Path | None = None, sleep: float = 0.0) -> str:
    """A command printing {"score": 0.8 - 1.5 (w - opt)^2 + noise}; each finished evaluation appends a line to
    ``counter``. The noise is seeded by the weight and ``opt`` (same weight, same score) so that the test
    gives the same verdict on every run; across weights it is independent Gaussian noise."""
    code = (
        "import json, random, sys, time; w = float(sys.argv[1]); "
        f"random.seed(round(w * 1e4) * 1000 + round({opt} * 100)); "
        f"time.sleep({sleep}); "
        f"s = 0.8 - 1.5 * (w - {opt}) ** 2 + random.gauss(0, {sigma}); "
        + (f"open({str(counter)!r}, 'a').write(sys.argv[1] + '\\n'); " if counter else "")
        + "print('training...'); print(json.dumps({'score': s}))"
    )
    return f'command:{sys.executable} -c "{code}" {{weight}}'


@pytest.fixture()
def config(tmp_path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize("opt", [0.62, 0.15, 0.85])
def test_default_search_finds_a_planted_noisy_optimum(config, tmp_path, opt) -> None:
    best = optimize(config, tmp_path / "run", planted(opt), budget=12, skip_generate=True)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history) <= 12 and all(h["status"] == "ok" for h in history)
    assert abs(best["weight"] - opt) <= 0.05, (best, [(h["weight"], round(h["score"], 3)) for h in history])
    assert (tmp_path / "run" / "search.png").stat().st_size > 5000
    assert "Recommendation" in (tmp_path / "run" / "report.html").read_text()
    assert json.loads((tmp_path / "run" / "best.json").read_text())["weight"] == best["weight"]


def test_resume_reuses_every_evaluation_it_has(config, tmp_path) -> None:
    counter = tmp_path / "count.txt"
    run = tmp_path / "run"
    ev = planted(0.4, counter=counter)
    optimize(config, run, ev, budget=6, skip_generate=True)
    assert len(counter.read_text().split()) == 6
    # as if killed after evaluation 4 was cached but before history.json recorded 5 and 6
    history = json.loads((run / "history.json").read_text())
    (run / "history.json").write_text(json.dumps(history[:4]))
    best = optimize(config, run, ev, budget=6, skip_generate=True, resume=True)
    resumed = json.loads((run / "history.json").read_text())
    assert [h["params"] for h in resumed] == [h["params"] for h in history]  # replayed from the cache
    assert best["reused_evaluations"] == 2 and len(counter.read_text().split()) == 6  # nothing run again
    optimize(config, run, ev, budget=8, skip_generate=True, resume=True)  # a larger budget: 2 more
    assert len(json.loads((run / "history.json").read_text())) == 8
    assert len(counter.read_text().split()) == 8
    with pytest.raises(UsdSynthError, match="resume"):
        optimize(config, run, ev, budget=8, skip_generate=True)
    with pytest.raises(UsdSynthError, match="another run"):
        optimize(config, run, ev, budget=8, skip_generate=True, search="grid")


@pytest.mark.slow
def test_sigkill_then_resume_does_not_re_evaluate(config, tmp_path) -> None:
    counter = tmp_path / "count.txt"
    run = tmp_path / "run"
    args = [sys.executable, "-m", "usd_synth.cli.main", "optimize", str(config), "-o", str(run)]
    args += ["--budget", "8", "--skip-generate", "--evaluator", planted(0.3, counter=counter, sleep=0.3)]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if counter.is_file() and len(counter.read_text().split()) >= 3:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = json.loads((run / "history.json").read_text())
    before = counter.read_text().split()
    cached = len(list((run / "cache").glob("*.json")))  # evaluations whose result was recorded
    assert 3 <= len(before) < 8 and len(done) <= cached <= len(before)
    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 8 and history[: len(done)] == done
    after = counter.read_text().split()
    # every evaluation the killed run recorded is reused; only the rest runs (an evaluation whose command
    # finished but whose result the kill prevented from being recorded runs again)
    assert len(after) - len(before) == 8 - cached


def test_failing_command_stops_with_its_exit_code_and_stderr(config, tmp_path) -> None:
    run = tmp_path / "run"
    with pytest.raises(UsdSynthError, match="exit 3") as err:
        optimize(config, run, "command:echo 'cuda out of memory' >&2; exit 3", budget=4, skip_generate=True)
    assert "keep_going" in err.value.fields or "keep_going" in str(err.value)
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 1 and history[0]["status"] == "failed"
    assert history[0]["returncode"] == 3 and "cuda out of memory" in history[0]["stderr_tail"]
    assert (run / "report.html").is_file() and (run / "search.png").is_file()


def test_keep_going_records_failures_and_spends_the_budget(config, tmp_path) -> None:
    flaky = f"command:{sys.executable} -c \"import sys; w = float(sys.argv[1]); sys.exit(5) if w < 0.4 else print('{{\\\"score\\\": ' + str(1 - w) + '}}')\" {{weight}}"  # noqa: E501
    best = optimize(config, tmp_path / "run", flaky, budget=5, skip_generate=True, keep_going=True)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history) == 5
    assert {h["status"] for h in history} == {"ok", "failed"}
    assert all(h["returncode"] == 5 for h in history if h["status"] == "failed")
    assert best["params"] is not None


def test_every_evaluation_failing_is_an_error_even_with_keep_going(config, tmp_path) -> None:
    with pytest.raises(UsdSynthError, match="none of the 2"):
        optimize(config, tmp_path / "run", "command:exit 1", budget=2, skip_generate=True, keep_going=True)


def test_command_without_a_score_line_or_past_its_timeout_fails(tmp_path) -> None:
    req = EvalRequest(None, {"weight": 0.5}, tmp_path)
    with pytest.raises(UsdSynthError, match="no JSON line") as err:
        CommandEvaluator("echo hello").evaluate(req)
    assert err.value.details["stdout_tail"].strip() == "hello"
    with pytest.raises(UsdSynthError, match="past 0.5 s"):
        CommandEvaluator("sleep 5", timeout_s=0.5).evaluate(req)


def test_placeholders_are_quoted(tmp_path) -> None:
    req = EvalRequest(tmp_path / "my data", {"weight": 0.25}, tmp_path / "r u n")
    cmd = CommandEvaluator("train {dataset} --w {weight} --out {run_dir}").command(req)
    assert cmd == f"train '{tmp_path}/my data' --w 0.2500 --out '{tmp_path}/r u n'"


def test_parse_score_takes_the_last_json_line() -> None:
    assert parse_score('{"score": 0.1}\nlog\n{"score": 0.7, "acc": 1}\n') == {"score": 0.7, "acc": 1}
    assert parse_score('{"score": NaN}\n{"score": "high"}\n{"score": true}') is None
    assert parse_score("") is None


def test_module_evaluator_and_registered_names(config, tmp_path) -> None:
    assert "builtin" in evaluator_names()
    best = optimize(config, tmp_path / "run", "module:tests.optimize.planted_module.score", budget=6,
                    skip_generate=True)  # fmt: skip
    assert best["params"] is not None
    with pytest.raises(UsdSynthError, match="unknown"):
        make_evaluator("nonesuch")
    with pytest.raises(UsdSynthError, match="package.function"):
        make_evaluator("module:nodots")
    with pytest.raises(UsdSynthError, match="No module"):
        make_evaluator("module:no_such_package.fn")


def test_bad_budget_params_and_search_are_refused(config, tmp_path) -> None:
    cases = (({"budget": 0}, "budget"), ({"budget": 3, "params": ["wieght"]}, "unknown parameter"),
             ({"budget": 3, "search": "annealing"}, "search"))  # fmt: skip
    for kwargs, needle in cases:
        with pytest.raises(UsdSynthError, match=needle):
            optimize(config, tmp_path / "run", "command:echo", skip_generate=True, **kwargs)
    assert not (tmp_path / "run").exists()


def test_builtin_evaluator_on_a_micro_skeleton_config(tmp_path) -> None:
    cfg = tmp_path / "micro.yaml"
    cfg.write_text(
        "classes:\n  wave: {sources: [{builtin: wave, count: 3}]}\n"
        "  squat: {sources: [{builtin: squat, count: 3}]}\n"
        "evaluation: {held_out: 0.34, views: 2, seeds: 1, epochs: 20}\nbalance: {target: 3}\n"
        "render: {backend: geometry, passes: [keypoints], frames: 16}\noutputs: {layouts: [skeletons]}\n"
        "split: {train: 1.0, val: 0.0, test: 0.0}\n"
    )
    best = optimize(cfg, tmp_path / "run", "builtin", budget=2, executor="serial")
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history) == 2
    for h in history:
        assert h["status"] == "ok" and 0 <= h["score"] <= 1 and 0 <= h["real_only_score"] <= 1
        assert (
            h["clips"]["synthetic"] == 6 and h["clips"]["held_out"] == 2 * 2 * 1
        )  # 2 classes x 1 motion x 2 views
        assert (tmp_path / "run" / h["dataset"] / "manifest.jsonl").is_file()
    assert best["real_only_score"] == history[0]["real_only_score"]
    # the generated datasets never contain a held-out motion
    from usd_synth.dataset.config import load_dataset_config
    from usd_synth.optimize.builtin_eval import held_out_ids

    _, held = held_out_ids(load_dataset_config(cfg), tmp_path)
    manifests = [(tmp_path / "run" / h["dataset"] / "manifest.jsonl").read_text() for h in history]
    used = {s for text in manifests for line in text.splitlines() for s in json.loads(line)["sources"]}
    assert used and not used & held


@pytest.mark.slow
def test_builtin_evaluator_on_tiny_with_a_budget_of_3(tmp_path) -> None:
    """The acceptance run: rendered clips of examples/tiny.yaml, their skeletons scored by the classifier."""
    tiny = Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml"
    best = optimize(tiny, tmp_path / "run", "builtin", budget=3, workers=2)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history) == 3 and all(h["status"] == "ok" for h in history)
    assert all(0 <= h["score"] <= 1 and 0 <= h["real_only_score"] <= 1 for h in history)
    assert best["weight"] is not None and 0 <= best["real_only_score"] <= 1


def test_two_parameters_through_a_module_evaluator(config, tmp_path) -> None:
    best = optimize(config, tmp_path / "run", "module:tests.optimize.planted_module.score_2d", budget=16,
                    params=["weight", "amplitude"], skip_generate=True)  # fmt: skip
    assert abs(best["params"]["weight"] - 0.7) <= 0.15 and abs(best["params"]["amplitude"] - 0.3) <= 0.15, (
        best
    )


def test_params_rewrite_the_config_and_per_class_weights_reach_the_plan(tmp_path) -> None:
    from usd_synth.dataset.config import dataset_config
    from usd_synth.dataset.plan import plan_jobs
    from usd_synth.optimize.params import apply_params, make_space

    cfg = dataset_config({
        "classes": {c: {"sources": [{"builtin": c, "count": 4}]} for c in ("walk", "wave")},
        "mixes": {"real_mix": 1.0, "synthetic_mix": 0.0}, "balance": {"target": 6},
        "split": {"train": 1.0, "val": 0.0, "test": 0.0},
    })  # fmt: skip
    space = make_space(["weight"], True, list(cfg.classes))
    assert [p.name for p in space] == ["weight.walk", "weight.wave"]
    varied = apply_params(cfg, {"weight.walk": 0.2, "weight.wave": 0.9}, tmp_path)
    jobs = plan_jobs(varied, tmp_path).jobs
    assert {j.weight for j in jobs if j.cls == "walk"} == {0.2} and {
        j.weight for j in jobs if j.cls == "wave"
    } == {0.9}
    v = apply_params(
        cfg, {"weight": 0.4, "amplitude": 0.5, "tempo": 1.0, "noise": 0.0, "mirror": 0.3}, tmp_path
    )
    assert v.mixes.weight_range.min == v.mixes.weight_range.max == 0.4
    assert v.variation.amplitude.probability == 1 and v.variation.amplitude.range.min == 0.75
    assert v.variation.tempo.range.max == 1.3 and v.variation.noise.probability == 0
    assert v.variation.mirror.probability == 0.3
    assert apply_params(cfg, {"synthetic_share": 0.5}, tmp_path).balance.max_synthetic_per_class == 3
    assert apply_params(cfg, {"synthetic_share": 0.0}, tmp_path).balance.max_synthetic_per_class == 1
    with pytest.raises(UsdSynthError, match="per_class"):
        make_space(["amplitude"], True, ["walk"])
