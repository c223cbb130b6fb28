"""``usd-synth demo``: the main job on built-in data, end to end, with a summary."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, check_output_folder, output_option, overwrite_option, progress, seed_option

#: What ``usd_synth.demo`` writes at the top of its folder (kept equal to its ``DEMO_OUTPUTS``).
DEMO_OUTPUTS = ("motions", "actors", "blends", "scene", "renders", "fractal", "summary.json")


@click.command(cls=Command)
@output_option("Output folder.", default="usd_synth_demo")
@seed_option("Run seed: varies the motions, bodies and fractals.")
@overwrite_option("Replace a non-empty output folder (a previous demo's folder is replaced anyway).")
def demo(out: Path, seed: int, overwrite: bool) -> None:
    """Run the flow on built-in data: motions, actors on sampled bodies, blends, a randomized stage with two
    actors rendered from each of its cameras (video, depth, masks, labels, contact sheet), a fractal set."""
    check_output_folder(out, overwrite, replaceable=DEMO_OUTPUTS)  # before any work or heavy import
    from usd_synth.demo import run_demo

    report = run_demo(
        out, seed=seed, progress=lambda items, n: progress(items, "demo", n), overwrite=overwrite
    )
    for row in report["files"]:
        extra = f"stature {row['stature_m']:.2f} m" if "stature_m" in row else f"w = {row.get('weight')}"
        click.echo(
            f"{row['file']:<30} {row['label']:<10} {row['frames']:>4} frames  {row['fps']:g} fps  "
            f"{extra:<16} validation errors: {row['errors']}"
        )
    if "scene" in report:
        sc = report["scene"]
        click.echo(
            f"{sc['folder'] + '/scene.usda':<30} {sc['template']}: {' + '.join(sc['actors'])}, "
            f"{len(sc['cameras'])} cameras, {sc['frames']} frames  validation errors: {sc['errors']}"
        )
    for r in report.get("renders", []):
        click.echo(f"{r['folder'] + '/':<30} rgb.mp4, depth, instance, semantic, labels.json, coco.json")
    if "fractal" in report:
        f = report["fractal"]
        click.echo(f"{f['folder'] + '/':<30} {f['classes']} fractal classes, {f['clips']} clips")
    for row in report.get("rejected_blends", []):
        reasons = "; ".join(row["reasons"])
        click.echo(f"left out: blend w = {row['weight']:g}, rejected by the quality check ({reasons})")
    n_err = sum(row["errors"] for row in report["files"])
    click.echo(
        f"wrote {len(report['files'])} USD files ({n_err} validation errors) to {out}; summary: "
        f"{out / 'summary.json'}"
    )
    if report.get("renders"):
        click.echo(f"open first: {out / report['renders'][0]['contact_sheet']}")
