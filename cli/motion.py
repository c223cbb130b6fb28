"""``usd-synth motion ...``: import, generate, list and inspect motions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import FLOAT, Group, LibraryChoice, check_output_file, output_option, seed_option

#: ``--format``: a reader's name (``usd-synth motion formats``); the library detects it when not given.
_format_option = click.option(
    "--format",
    "fmt",
    default=None,
    help="Input format (default: detected from the content; see `usd-synth motion formats`).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(cls=Group)
def motion() -> None:
    """Import, generate and inspect motions on the SMPL-24 skeleton."""


@motion.command("import")
@click.argument("src", type=click.Path(path_type=Path))
@output_option("Output motion USD (.usd crate, .usda text).")
@_format_option
@click.option(
    "--fps",
    type=FLOAT,
    default=None,
    help="Frame rate of the input's frames (overrides the file's own; needed where the format has none).",
)
@click.option("--label", default=None, help="Action label stored with the motion.")
@click.option("--refine", is_flag=True, help="Refine the retargeting with torch (the 'refine' extra).")
@click.option(
    "--joint-map",
    "joint_map",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="BVH: JSON object {bvh_joint: smpl_joint} that wins over name and structure matching.",
)
@click.option(
    "--unit",
    type=LibraryChoice("usd_synth.motion.readers.bvh:UNITS"),
    default=None,
    help="BVH: length unit of the file (default: detected from the skeleton's size).",
)
@click.option("--target-fps", "target_fps", type=FLOAT, default=None, help="BVH: resample to this rate.")
@click.option(
    "--up-axis", "up_axis", type=LibraryChoice("usd_synth.motion.readers.bvh:UP_AXES"), default=None,
    help="BVH: the file's up axis (default y).",
)  # fmt: skip
@click.option(
    "--rig",
    type=LibraryChoice("usd_synth.motion.readers.bvh_rigs:RIG_NAMES"),
    default=None,
    help="BVH: use this rig family's joint names instead of the best match.",
)
def import_(
    src: Path,
    out: Path,
    fmt: str | None,
    fps: float | None,
    label: str | None,
    refine: bool,
    **options: Any,
) -> None:
    """Import SRC (joints, SMPL parameters, BVH or a motion USD) as an animated SMPL-24 UsdSkel file."""
    from usd_synth.motion.readers import read_motion
    from usd_synth.usd.authoring import check_usd_path

    check_usd_path(out)
    check_output_file(out)
    m = read_motion(src, format=fmt, fps=fps, refine=refine, **options)
    _write_and_report(m, out, label)


def _write_and_report(m: Any, out: Path, label: str | None) -> None:
    """Write motion ``m`` (relabelled when ``label`` is given) and print one summary line."""
    from usd_synth.usd.motion_io import write_motion

    if label is not None:
        m.label = label
    write_motion(m, out)
    residual = m.source.get("residual_mpjpe_m")
    extra = f", residual MPJPE {1000 * residual:.2f} mm" if residual is not None else ""
    via = f"hook {m.source['hook']}, " if "hook" in m.source else ""
    click.echo(f"wrote {out}: {m.num_frames} frames at {m.fps:g} fps ({via}{m.source.get('reader')}){extra}")


_hooks_file_option = click.option(
    "--hooks",
    "hooks_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="YAML file declaring the hooks (default: $USD_SYNTH_HOOKS, ./usd-synth-hooks.yaml, "
    "~/.config/usd-synth/hooks.yaml).",
)
_keep_option = click.option(
    "--keep",
    "keep_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep the hook's working files (its outputs and hook.log) in this folder.",
)


def _run_hook_command(name: str, hooks_file: Path | None, out: Path, keep_dir: Path | None, label: str | None,
                      **inputs: Any) -> None:  # fmt: skip
    """Run hook ``name`` on ``inputs`` and write what it made as a motion USD."""
    import tempfile

    from usd_synth.motion.hooks import get_hook, motion_from_hook
    from usd_synth.usd.authoring import check_usd_path

    check_usd_path(out)
    check_output_file(out)
    hook = get_hook(name, hooks_file)
    if keep_dir is not None:
        m = motion_from_hook(hook, keep_dir, label=label, **inputs)
    else:
        with tempfile.TemporaryDirectory(prefix="usd-synth-hook-") as work:
            m = motion_from_hook(hook, Path(work), label=label, **inputs)
    _write_and_report(m, out, None)


@motion.command("generate")
@click.option(
    "--text", required=True, help="What the person does, e.g. 'a person slips and falls backwards'."
)
@click.option(
    "--hook", "hook_name", required=True, help="A declared text-to-motion hook (`usd-synth motion hooks`)."
)
@output_option("Output motion USD (.usd crate, .usda text).")
@seed_option("Passed to the hook as {seed}.")
@click.option("--label", default=None, help="Action label (default: the hook's name).")
@_hooks_file_option
@_keep_option
def generate(text: str, hook_name: str, out: Path, seed: int, label: str | None, hooks_file: Path | None,
             keep_dir: Path | None) -> None:  # fmt: skip
    """Generate a motion from TEXT with an external text-to-motion model declared as a hook."""
    _run_hook_command(hook_name, hooks_file, out, keep_dir, label, text=text, seed=seed)


@motion.command("estimate")
@click.argument("video", type=click.Path(path_type=Path))
@click.option(
    "--hook", "hook_name", required=True, help="A declared pose-estimation hook (`usd-synth motion hooks`)."
)
@output_option("Output motion USD (.usd crate, .usda text).")
@click.option("--label", default=None, help="Action label (default: the hook's name).")
@_hooks_file_option
@_keep_option
def estimate(video: Path, hook_name: str, out: Path, label: str | None, hooks_file: Path | None,
             keep_dir: Path | None) -> None:  # fmt: skip
    """Estimate a motion from VIDEO with an external 3D pose estimator declared as a hook."""
    _run_hook_command(hook_name, hooks_file, out, keep_dir, label, video=video)


@motion.command("hooks")
@_hooks_file_option
def hooks(hooks_file: Path | None) -> None:
    """List the declared hooks: name, kind (text or video), reader, command."""
    from usd_synth.motion.hooks import find_hooks_file, load_hooks

    declared = load_hooks(hooks_file)
    if not declared:
        where = find_hooks_file(hooks_file)
        click.echo(f"no hooks declared{f' in {where}' if where else ''}", err=True)
    for hook in declared.values():
        click.echo(hook.describe())


@motion.command("builtin")
@click.argument("name")
@output_option("Output motion USD (.usd crate, .usda text).")
@seed_option("Varies speed, amplitude and style.")
@click.option("--seconds", type=FLOAT, default=None, help="Duration (default: per action).")
@click.option("--fps", type=FLOAT, default=30.0, show_default=True, help="Frame rate of the clip.")
def builtin(name: str, out: Path, seed: int, seconds: float | None, fps: float) -> None:
    """Generate the built-in action NAME (see `usd-synth motion list`)."""
    from usd_synth.output_limits import check_motion_length
    from usd_synth.usd.authoring import check_usd_path

    check_usd_path(out)
    check_output_file(out)
    if fps > 0 and (seconds is None or seconds > 0):  # the library tells other values
        check_motion_length(seconds or 0.0, fps)  # before generating anything
    from usd_synth.motion.library import make_motion  # noqa: I001 - after the cheap checks
    from usd_synth.usd.motion_io import write_motion

    m = make_motion(name, seed=seed, seconds=seconds, fps=fps)
    write_motion(m, out)
    click.echo(f"wrote {out}: {name} (seed {seed}), {m.num_frames} frames at {m.fps:g} fps")


@motion.command("list")
@click.option("--long", "long_", is_flag=True, help="Also show each action's description and parameters.")
def list_(long_: bool) -> None:
    """List the built-in actions, one per line (--long: with description, parameters and ranges)."""
    from usd_synth.motion.library import ACTIONS, describe

    for name in ACTIONS:
        if long_:
            click.echo("\n".join(describe(name)))
        else:
            click.echo(name)


@motion.command("info")
@click.argument("file", type=click.Path(path_type=Path))
@_json_option
@_format_option
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
@_json_option
@_format_option
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


__all__ = ["motion"]
