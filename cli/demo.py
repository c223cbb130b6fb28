"""``usd-synth demo``: the main job on built-in data, end to end, with a summary."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "-o",
    "--output",
    "out",
    default="usd_synth_demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Output folder.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def demo(out: Path, seed: int) -> None:
    """Run the flow on built-in data: motions, actors on sampled bodies, blends, a fractal set."""
    from usd_synth.demo import run_demo

    from .common import progress

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
