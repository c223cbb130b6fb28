"""``usd-synth motion ...``: import, generate, list and inspect motions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from usd_synth.errors import UsdSynthError


@click.group()
def motion() -> None:
    """Import, generate and inspect motions on the SMPL-24 skeleton."""


@motion.command("import")
@click.argument("src", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output motion USD (.usd crate, .usda text).",
)
@click.option("--format", "fmt", default=None, help="Input format (default: detected from the content).")
@click.option("--fps", type=float, default=None, help="Frame rate of the input when the file lacks it.")
@click.option("--label", default=None, help="Action label stored with the motion.")
@click.option("--refine", is_flag=True, help="Refine the retargeting with torch (the 'refine' extra).")
def import_(
    src: Path, out: Path, fmt: str | None, fps: float | None, label: str | None, refine: bool
) -> None:
    """Import SRC (joints, SMPL parameters or a motion USD) as an animated SMPL-24 UsdSkel file."""
    from usd_synth.motion.readers import read_motion
    from usd_synth.usd.skel import write_motion
    from usd_synth.usd.stage import check_usd_path

    check_usd_path(out)
    m = read_motion(src, format=fmt, fps=fps, refine=refine)
    if label is not None:
        m.label = label
    write_motion(m, out)
    residual = m.source.get("residual_mpjpe_m")
    extra = f", residual MPJPE {1000 * residual:.2f} mm" if residual is not None else ""
    click.echo(f"wrote {out}: {m.num_frames} frames at {m.fps:g} fps ({m.source.get('reader')}){extra}")


@motion.command("builtin")
@click.argument("name")
@click.option(
    "-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="Output motion USD."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Varies speed, amplitude and style.")
@click.option("--seconds", type=float, default=None, help="Duration (default: per action).")
@click.option("--fps", type=float, default=30.0, show_default=True)
def builtin(name: str, out: Path, seed: int, seconds: float | None, fps: float) -> None:
    """Generate the built-in action NAME (see `usd-synth motion list`)."""
    from usd_synth.motion.library import make_motion
    from usd_synth.usd.skel import write_motion
    from usd_synth.usd.stage import check_usd_path

    check_usd_path(out)
    m = make_motion(name, seed=seed, seconds=seconds, fps=fps)
    write_motion(m, out)
    click.echo(f"wrote {out}: {name} (seed {seed}), {m.num_frames} frames at {m.fps:g} fps")


@motion.command("list")
def list_() -> None:
    """List the built-in actions, one per line."""
    from usd_synth.motion.library import ACTIONS

    for name in ACTIONS:
        click.echo(name)


@motion.command("info")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--format", "fmt", default=None, help="Input format (default: detected).")
def info(file: Path, as_json: bool, fmt: str | None) -> None:
    """Summarise a motion file (any readable format)."""
    from usd_synth.motion.readers import read_motion
    from usd_synth.motion.summary import summarize

    summary = summarize(read_motion(file, format=fmt))
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


@motion.command("formats")
def formats() -> None:
    """List the input formats (reader plugins) with what each expects."""
    from usd_synth.motion.readers import readers

    for name, reader in readers().items():
        click.echo(f"{name}\t{reader.description}")


@motion.command("quality")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--format", "fmt", default=None, help="Input format (default: detected).")
def quality(file: Path, as_json: bool, fmt: str | None) -> None:
    """Score a motion: foot skate, ground penetration, floating, jerk, joint-limit violations."""
    from usd_synth.motion.quality import evaluate, rejection_reasons
    from usd_synth.motion.readers import read_motion

    report = evaluate(read_motion(file, format=fmt))
    reasons = rejection_reasons(report)
    data = {**report.to_dict(), "rejected": bool(reasons), "reasons": reasons}
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


__all__ = ["motion", "UsdSynthError"]
