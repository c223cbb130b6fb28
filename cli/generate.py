"""``usd-synth generate`` (a dataset from a config) and ``usd-synth init-config`` (a commented template)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import Command, output_option, overwrite_option, progress_callback, workers_option

_PATH = click.Path(path_type=Path)
#: Jobs listed by --dry-run (the counts above them cover every job).
PLAN_LINES = 40


def _table(title: str, rows: dict[str, dict[str, int]], columns: list[str]) -> list[str]:
    lines = [f"{title:<18}" + "".join(f"{c:>15}" for c in columns)]
    for name, counts in rows.items():
        lines.append(f"{name:<18}" + "".join(f"{counts.get(c, 0):>15}" for c in columns))
    return lines


def _print_plan(summary: dict) -> None:
    counts = summary["counts"]
    per_class = {c: {k: counts[k][c] for k in ("real", "synthetic", "total")} for c in counts["real"]}
    for line in _table("class", per_class, ["real", "synthetic", "total"]):
        click.echo(line)
    splits = summary["splits"]
    by_class = {c: {s: splits[s][c] for s in splits} for c in counts["real"]}
    for line in _table("clips by split", by_class, list(splits)):
        click.echo(line)
    for line in _table("mixes", summary["mixes"], ["real-mix", "synthetic-mix", "single"]):
        click.echo(line)
    jobs = summary.get("plan", [])
    for job in jobs[:PLAN_LINES]:
        weight = f"w {job['weight']:.3f}" if job["weight"] is not None else ""
        click.echo(f"job {job['id']}  {job['cls']:<14} {job['split']:<5} {job['mix']:<13} {weight:<7} "
                   f"{'mirrored ' if job['mirrored'] else ''}{' + '.join(job['sources'])}")  # fmt: skip
    if len(jobs) > PLAN_LINES:
        click.echo(f"... and {len(jobs) - PLAN_LINES} more jobs")
    est = summary["estimate"]
    click.echo(
        f"{summary['jobs']} jobs, {summary['clips']} clips; estimate: "
        f"{est['seconds_one_worker'] / 60:.1f} min on one worker, {est['bytes'] / 1e6:.0f} MB"
    )


@click.command(cls=Command, field_flags={"config": "CONFIG", "out": "--output"})
@click.argument("config", type=_PATH)
@output_option("Dataset folder.", folder=True, required=False)
@workers_option("Jobs run in parallel, one process (or Ray task) each; the output does not depend on it.")
@click.option("--executor", type=click.Choice(["processes", "ray", "serial"]), default="processes",
              show_default=True, help="Where jobs run: local processes, Ray, or this process.")  # fmt: skip
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray instance).")
@click.option("--resume", is_flag=True, help="Finish a run of the same config, skipping verified clips.")
@click.option("--max-failures", type=int, default=None, help="Stop after more than N failed jobs.")
@click.option("--dry-run", is_flag=True, help="Print the plan, counts and an estimate; write nothing.")
@overwrite_option("Replace a folder made with a different config (or holding other files).")
def generate(config, out, workers, executor, address, resume, max_failures, dry_run, overwrite) -> None:
    """Generate the dataset CONFIG describes (see 'usd-synth init-config') into a folder."""
    from usd_synth.dataset.builder import generate as build
    from usd_synth.errors import UsdSynthError

    if out is None and not dry_run:
        raise UsdSynthError("out: an output folder is needed (or pass dry_run)", field="out",
                            mentions=("dry_run",))  # fmt: skip
    with progress_callback("jobs", rate_unit="jobs") as update:
        summary = build(config, out, workers=workers, executor=executor, address=address, resume=resume,
                        overwrite=overwrite, max_failures=max_failures, dry_run=dry_run,
                        progress=update)  # fmt: skip
    if dry_run:
        _print_plan(summary)
        return
    failed = summary["failed"]
    click.echo(
        f"made {summary['made']} clips, {len(failed)} failed jobs, {summary['skipped']} jobs skipped "
        f"(already complete) in {summary['seconds']:.0f} s; {summary['clips_in_manifest']} of "
        f"{summary['clips']} clips in {out / 'manifest.jsonl'}; open {out / 'report.html'}"
    )
    for f in failed[:10]:
        click.echo(f"failed: job {f['job']} ({f['class']}): {f['error']}", err=True)
    if failed:
        sys.exit(1)


@click.command(cls=Command)
@output_option("Write the template to this file instead of printing it.", required=False)
@overwrite_option("Replace an existing file.")
def init_config(out, overwrite) -> None:
    """Print a commented dataset config template (every key, with its default)."""
    from usd_synth.dataset.template import template_text
    from usd_synth.errors import UsdSynthError

    text = template_text()
    if out is None:
        click.echo(text, nl=False)
        return
    if out.exists() and not overwrite:
        raise UsdSynthError("the file exists; pass overwrite to replace it", out, field="out",
                            mentions=("overwrite",))  # fmt: skip
    from usd_synth.fileio import atomic_path

    with atomic_path(out, field="out") as tmp:
        tmp.write_text(text)
    click.echo(f"wrote {out}")
