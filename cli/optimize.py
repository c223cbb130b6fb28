"""``usd-synth optimize``: tune the blend weight from a downstream model's score."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, output_option, overwrite_option, seed_option, workers_option

_PATH = click.Path(path_type=Path)


@click.command(cls=Command, field_flags={"config": "CONFIG", "out": "--output"})
@click.argument("config", type=_PATH)
@output_option("Run folder (history.json, best.json, search.png, report.html, datasets/).", folder=True)
@click.option("--evaluator", required=True,
              help="builtin, command:CMD (with {dataset} {weight} {run_dir}), module:package.function, "
                   "or a registered name.")  # fmt: skip
@click.option("--budget", type=int, required=True, help="Evaluations to spend.")
@click.option("--search", default="gp", show_default=True, help="gp (noise-robust), neighbourhood or grid.")
@click.option("--params", default="weight", show_default=True,
              help="Comma-separated: weight, synthetic_share, amplitude, tempo, noise, mirror.")  # fmt: skip
@click.option("--per-class", is_flag=True, help="One weight per class.")
@click.option("--skip-generate", is_flag=True, help="Hand the evaluator no dataset ({dataset} empty).")
@click.option("--resume", is_flag=True, help="Continue a run; evaluations it has are not run again.")
@click.option("--keep-going", is_flag=True, help="Record a failed evaluation and go on.")
@click.option("--eval-timeout", type=float, default=None, help="Seconds an evaluator command may run.")
@workers_option("Dataset jobs run in parallel.")
@click.option("--executor", type=click.Choice(["processes", "ray", "serial"]), default="processes",
              show_default=True, help="Where dataset jobs run.")  # fmt: skip
@seed_option("Seed of the search's random choices.")
@overwrite_option("Replace a run folder of another run.")
def optimize(config, out, evaluator, budget, search, params, per_class, skip_generate, resume, keep_going,
             eval_timeout, workers, executor, seed, overwrite) -> None:  # fmt: skip
    """Search the blend weight (and more) of CONFIG's dataset for the best downstream score."""
    from usd_synth.optimize.runner import optimize as run

    def show(done: int, total: int, entry: dict) -> None:
        p = ", ".join(f"{k} {v:.3f}" for k, v in entry["params"].items())
        score = (
            f"score {entry['score']:.4f}" if entry.get("status") == "ok" else f"failed: {entry.get('error')}"
        )
        click.echo(f"[{done}/{total}] {p}: {score} ({entry.get('seconds', 0):.1f} s)", err=True)

    best = run(config, out, evaluator, budget, search=search, params=params.split(","), per_class=per_class,
               skip_generate=skip_generate, resume=resume, keep_going=keep_going, overwrite=overwrite,
               workers=workers, executor=executor, eval_timeout=eval_timeout, seed=seed,
               progress=show)  # fmt: skip
    if best.get("params") is None:
        click.echo(f"no successful evaluation; see {out / 'history.json'}")
        return
    p = ", ".join(f"{k} = {v:.4f}" for k, v in best["params"].items())
    ro = best.get("real_only_score")
    click.echo(f"best: {p}, score {best['score']:.4f}" + (f" (real only {ro:.4f})" if ro is not None else ""))
    click.echo(
        f"wrote {out / 'best.json'}, {out / 'history.json'}, {out / 'search.png'}, {out / 'report.html'}"
    )
