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
    """Generate every built-in action as an animated SMPL-24 USD, validate them and summarise."""
    from usd_synth.demo import run_demo

    from .common import progress

    report = run_demo(out, seed=seed, progress=lambda items, n: progress(items, "demo", n))
    for row in report["motions"]:
        click.echo(
            f"{row['file']:<28} {row['label']:<10} {row['frames']:>4} frames  {row['fps']:g} fps  "
            f"stature {row['stature_m']:.2f} m  validation errors: {row['errors']}"
        )
    click.echo(f"wrote {len(report['motions'])} motions to {out} (summary: {out / 'summary.json'})")
