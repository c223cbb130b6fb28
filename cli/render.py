"""``usd-synth render``: a scene stage -> one labelled clip (video, depth, masks, keypoints, COCO)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, output_option, overwrite_option, progress, seed_option

_PATH = click.Path(path_type=Path)


@click.command(cls=Command, field_flags={"out": "--output", "scene": "SCENE"})
@click.argument("scene", type=_PATH, required=False)
@output_option(
    "Output clip folder (rgb.mp4, depth/, instance/, semantic/, labels.json, coco.json).",
    folder=True,
    required=False,
)
@click.option(
    "--backend", default="pyrender", show_default=True, help="Renderer backend (see --list-backends)."
)
@click.option("--camera", default=None, help="Camera prim name or path (default: the stage's first camera).")
@click.option("--resolution", default="320x240", show_default=True, help="Image size WIDTHxHEIGHT.")
@click.option(
    "--passes",
    default="rgb,depth,instance,semantic,keypoints",
    show_default=True,
    help="Comma-separated: rgb, depth, instance, semantic, normals, keypoints.",
)
@click.option(
    "--frames", default=None, help="Frame range START:END (END exclusive; default: the whole stage)."
)
@click.option("--effects", type=_PATH, default=None, help="Camera effects config (YAML or JSON).")
@click.option("--png-frames", is_flag=True, help="Also write rgb/%06d.png.")
@seed_option("Seed of the camera effects.")
@click.option("--list-backends", is_flag=True, help="List the renderer backends and exit.")
@overwrite_option()
def render(
    scene,
    out,
    backend,
    camera,
    resolution,
    passes,
    frames,
    effects,
    png_frames,
    seed,
    list_backends,
    overwrite,
) -> None:
    """Render SCENE (a stage from 'usd-synth stage') into a labelled clip folder."""
    from usd_synth.errors import UsdSynthError

    if list_backends:
        from usd_synth.render.registry import backend_names

        for name in backend_names():
            click.echo(name)
        return
    if scene is None:
        raise UsdSynthError("a SCENE stage file is needed", field="scene")
    if out is None:
        raise UsdSynthError("an output folder is needed", field="out")
    from usd_synth.fileio import check_output_dir
    from usd_synth.render.clip import parse_frames, parse_passes, parse_resolution, render_clip

    # cheap checks first, so that bad input never waits for a GL context
    parse_passes(passes)
    parse_resolution(resolution)
    parse_frames(frames)
    check_output_dir(out, overwrite=overwrite, field="out")
    if effects is not None:
        from usd_synth.render.clip import load_effects

        try:
            effects = load_effects(effects)
        except UsdSynthError as exc:  # config keys are not flags: report them as the file's keys
            raise UsdSynthError(exc.message, exc.path or effects) from None
    summary = render_clip(
        scene,
        out,
        backend=backend,
        camera=camera,
        resolution=resolution,
        passes=passes,
        frames=frames,
        effects=effects,
        seed=seed,
        overwrite=overwrite,
        png_frames=png_frames,
        progress=lambda items, n: progress(items, "rendering", length=n),
    )
    click.echo(
        f"wrote {out}: {summary['frames']} frames from {summary['camera']} with {backend} "
        f"({summary['frames_per_second']} frames/s)"
    )


__all__ = ["render"]
