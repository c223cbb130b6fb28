"""``usd-synth fractal``: write a fractal video pre-training set (see docs/fractal.md)."""

from __future__ import annotations

from pathlib import Path

import click

from usd_synth.errors import UsdSynthError

from .common import (
    FLOAT,
    Command,
    check_output_folder,
    device_option,
    output_option,
    overwrite_option,
    progress_callback,
    seed_option,
    workers_option,
)


# The spec's unlabelled_clips > 0 is what --unlabelled selects; generate_dataset's out_dir is -o.
@click.command(cls=Command, field_flags={"unlabelled_clips": "--unlabelled", "out_dir": "--output"})
@output_option("Output folder (written atomically).", folder=True)
@click.option("--classes", type=int, default=None, help="Number of classes (labelled mode).")
@click.option("--clips-per-class", type=int, default=5, show_default=True, help="Clips per class.")
@click.option("--unlabelled", is_flag=True, help="No classes: every clip gets its own system.")
@click.option("--clips", type=int, default=None, help="Number of clips in --unlabelled mode.")
@click.option("--frames", type=int, default=18, show_default=True, help="Frames per clip.")
@click.option("--size", type=int, default=256, show_default=True, help="Frame width and height in pixels.")
@click.option("--fps", type=int, default=12, show_default=True, help="Frame rate written to the mp4.")
@click.option(
    "--emulate",
    "emulation",
    default="default",
    show_default=True,
    help="Real-video properties: none, default, or a JSON file of overrides.",
)
@device_option("cpu")
@workers_option("Clips rendered in parallel, one thread each (output does not depend on it).")
@seed_option("Run seed.")
@click.option("--points", type=int, default=128, show_default=True, help="Chaos-game points per frame.")
@click.option("--iterations", type=int, default=7500, show_default=True, help="Map applications per point.")
@click.option("--color/--gray", default=False, show_default=True, help="Coloured or grayscale clips.")
@click.option(
    "--format",
    "video_format",
    default="mp4",
    show_default=True,
    help="mp4 files, or png: a folder of PNG frames per clip.",
)
@click.option(
    "--val-fraction",
    type=FLOAT,
    default=0.0,
    show_default=True,
    help="Fraction of each class's clips (or of all clips) written to the val split.",
)
@click.option(
    "--variation-p",
    type=FLOAT,
    default=0.2,
    show_default=True,
    help="Probability that a system gets a non-linear variation.",
)
@click.option(
    "--instance-jitter",
    type=FLOAT,
    default=1.0,
    show_default=True,
    help="Strength of the per-clip perturbation of the class parameters (0: copies).",
)
@overwrite_option("Replace a non-empty output folder.")
def fractal(
    out: Path,
    classes: int | None,
    clips_per_class: int,
    unlabelled: bool,
    clips: int | None,
    frames: int,
    size: int,
    fps: int,
    emulation: str,
    device: str,
    workers: int,
    seed: int,
    points: int,
    iterations: int,
    color: bool,
    video_format: str,
    val_fraction: float,
    variation_p: float,
    instance_jitter: float,
    overwrite: bool,
) -> None:
    """Generate animated IFS fractal clips (formula-driven video pre-training data)."""
    from usd_synth.fractal.dataset import FractalDatasetSpec, generate_dataset
    from usd_synth.kernels.device import resolve_device
    from usd_synth.output_limits import check_fractal

    # Which flags go together is the CLI's business (the spec has no "unlabelled" switch: unlabelled_clips
    # > 0 selects that mode); every value is checked by the library.
    if unlabelled and (clips is None or clips < 1):
        raise UsdSynthError(f"--clips must be at least 1 with --unlabelled (got {clips})")
    if not unlabelled and classes is None:
        raise UsdSynthError("--classes is required (or pass --unlabelled --clips N)")
    if not unlabelled and clips is not None:
        raise UsdSynthError("--clips is for --unlabelled mode; use --clips-per-class with --classes")
    check_output_folder(out, overwrite)  # before any work: a full folder, the working folder, a file
    spec = FractalDatasetSpec(
        classes=classes or 0,
        clips_per_class=0 if unlabelled else clips_per_class,
        unlabelled_clips=(clips or 0) if unlabelled else 0,
        frames=frames,
        size=size,
        fps=fps,
        points=points,
        iterations=iterations,
        color=color,
        video_format=video_format,
        val_fraction=val_fraction,
        variation_p=variation_p,
        instance_jitter=instance_jitter,
        seed=seed,
        emulation=_load_emulation(emulation),
    )
    spec.validate()  # before starting Warp, so bad input fails fast
    check_fractal(
        clips=(clips or 0) if unlabelled else (classes or 0) * clips_per_class,
        clips_field="clips" if unlabelled else "clips_per_class",
        frames=frames, size=size, points=points, iterations=iterations, color=color,
        video_format=video_format, workers=max(workers, 1), out=out,
    )  # fmt: skip
    dev = resolve_device(device)
    with progress_callback("fractal clips") as progress:
        manifest = generate_dataset(
            spec, out, device=dev, workers=workers, progress=progress, overwrite=overwrite
        )
    n = len(manifest["clips"])
    bad = manifest["degenerate_clips"]
    click.echo(f"wrote {n} clips to {out}" + (f" ({bad} kept although degenerate)" if bad else ""))


#: Largest --emulate JSON file read (a config of overrides is a few kB).
MAX_EMULATION_BYTES = 1 << 20


def _load_emulation(value: str):
    """``--emulate``: none, default, or a JSON file; a file too big or nested too deep is one clear line."""
    from usd_synth.fractal.emulation import load_emulation

    path = Path(value)
    if value not in ("none", "default") and path.is_file() and path.stat().st_size > MAX_EMULATION_BYTES:
        raise UsdSynthError(
            f"--emulate: the file is larger than {MAX_EMULATION_BYTES // 1024} KiB; an emulation config is a "
            "small JSON object",
            path,
        )
    try:
        return load_emulation(value)
    except RecursionError:
        raise UsdSynthError("--emulate: the JSON is nested too deeply", path) from None
