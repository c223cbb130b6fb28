"""``usd-synth demo``: the main job on built-in data, end to end, with a summary."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, output_option, progress, seed_option


@click.command(cls=Command)
@output_option("Output folder.", default="usd_synth_demo")
@seed_option("Run seed: varies the motions, bodies and fractals.")
def demo(out: Path, seed: int) -> None:
    """Run the flow on built-in data: motions, actors on sampled bodies, blends, a fractal set."""
    from usd_synth.demo import run_demo

    report = run_demo(out, seed=seed, progress=lambda items, n: progress(items, "demo", n))
    for row in report["files"]:
        extra = f"stature {row['stature_m']:.2f} m" if "stature_m" in row else f"w = {row.get('weight')}"
        click.echo(
            f"{row['file']:<30} {row['label']:<10} {row['frames']:>4} frames  {row['fps']:g} fps  "
            f"{extra:<16} validation errors: {row['errors']}"
        )
    if "fractal" in report:
        f = report["fractal"]
        click.echo(f"{f['folder'] + '/':<30} {f['classes']} fractal classes, {f['clips']} clips")
    n_err = sum(row["errors"] for row in report["files"])
    click.echo(
        f"wrote {len(report['files'])} USD files ({n_err} validation errors) to {out}; summary: "
        f"{out / 'summary.json'}"
    )
