"""``usd-synth fractal``: write a fractal video pre-training set (see docs/fractal.md)."""

from __future__ import annotations

import sys

import click

from usd_synth.errors import UsdSynthError


@click.command()
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder (written atomically).",
)
@click.option("--classes", type=int, default=None, help="Number of classes (labelled mode).")
@click.option("--clips-per-class", type=int, default=5, show_default=True, help="Clips per class.")
@click.option("--unlabelled", is_flag=True, help="No classes: every clip gets its own system.")
@click.option("--clips", type=int, default=None, help="Number of clips in --unlabelled mode.")
@click.option("--frames", type=int, default=18, show_default=True, help="Frames per clip.")
@click.option("--size", type=int, default=256, show_default=True, help="Frame width and height in pixels.")
@click.option("--fps", type=int, default=12, show_default=True, help="Frame rate written to the mp4.")
@click.option(
    "--emulate",
    default="default",
    show_default=True,
    help="Real-video properties: none, default, or a JSON file of overrides.",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Clips rendered in parallel, one thread each (output does not depend on it).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Run seed.")
@click.option("--points", type=int, default=128, show_default=True, help="Chaos-game points per frame.")
@click.option("--iterations", type=int, default=7500, show_default=True, help="Map applications per point.")
@click.option("--color/--gray", default=False, show_default=True, help="Coloured or grayscale clips.")
@click.option(
    "--format",
    "video_format",
    type=click.Choice(["mp4", "png"]),
    default="mp4",
    show_default=True,
    help="mp4 files or folders of PNG frames.",
)
@click.option(
    "--val-fraction",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of each class's clips (or of all clips) written to the val split.",
)
@click.option(
    "--variation-p",
    type=float,
    default=0.2,
    show_default=True,
    help="Probability that a system gets a non-linear variation.",
)
@click.option(
    "--instance-jitter",
    type=float,
    default=1.0,
    show_default=True,
    help="Strength of the per-clip perturbation of the class parameters (0: copies).",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
def fractal(
    output: str,
    classes: int | None,
    clips_per_class: int,
    unlabelled: bool,
    clips: int | None,
    frames: int,
    size: int,
    fps: int,
    emulate: str,
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
    from usd_synth.fractal.emulation import load_emulation
    from usd_synth.kernels.device import resolve_device

    if unlabelled:
        if classes is not None:
            raise UsdSynthError("--unlabelled and --classes exclude each other")
        if clips is None or clips < 1:
            raise UsdSynthError(f"--clips must be at least 1 with --unlabelled (got {clips})")
    else:
        if classes is None:
            raise UsdSynthError("--classes is required (or pass --unlabelled --clips N)")
        if clips is not None:
            raise UsdSynthError("--clips is for --unlabelled mode; use --clips-per-class with --classes")
    spec = FractalDatasetSpec(
        classes=0 if unlabelled else int(classes or 0),
        clips_per_class=0 if unlabelled else clips_per_class,
        unlabelled_clips=int(clips or 0) if unlabelled else 0,
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
        emulation=load_emulation(emulate),
    )
    spec.validate()  # before starting Warp, so bad input fails fast
    dev = resolve_device(device)

    bar = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=1, label="fractal clips", file=sys.stderr)
        bar.__enter__()

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.length = total
            bar.update(done - bar.pos)

    try:
        manifest = generate_dataset(
            spec, output, device=dev, workers=workers, progress=progress, overwrite=overwrite
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    n = len(manifest["clips"])
    bad = manifest["degenerate_clips"]
    click.echo(f"wrote {n} clips to {output}" + (f" ({bad} kept although degenerate)" if bad else ""))
