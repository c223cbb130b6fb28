"""``usd-synth stage`` (compose a randomized scene folder) and ``usd-synth package`` (scene -> .usdz)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Command, output_option, overwrite_option, seed_option

_PATH = click.Path(path_type=Path)


@click.command(cls=Command, field_flags={"actors": "--actor", "out": "--output"})
@click.option(
    "--actor", "actors", type=_PATH, multiple=True, help="Motion file or actor USD (repeat for more)."
)
@output_option("Output scene folder (scene.usda, manifest.json, assets).", folder=True, required=False)
@seed_option("Scene seed (same seed, same folder byte for byte).")
@click.option("--template", default=None, help="Stage template (default: drawn from the seed).")
@click.option("--config", "config_file", type=_PATH, default=None, help="Scene config (YAML or JSON).")
@click.option("--scene-id", type=int, default=0, show_default=True, help="Scene number within the run.")
@click.option("--list-templates", is_flag=True, help="List the stage templates and exit.")
@overwrite_option()
def stage(actors, out, seed, template, config_file, scene_id, list_templates, overwrite) -> None:
    """Compose a randomized OpenUSD scene from motion or actor files."""
    from usd_synth.compose.templates import load_template, template_names
    from usd_synth.errors import UsdSynthError

    if list_templates:
        for name in template_names():
            click.echo(f"{name}\t{load_template(name).description}")
        return
    if out is None:
        raise UsdSynthError("an output folder is needed", field="out")
    if not actors:
        raise UsdSynthError("at least one actor file is needed", field="actors")
    from usd_synth.compose import compose_scene, load_scene_config

    config = None
    if config_file is not None:
        try:
            config = load_scene_config(config_file)
        except UsdSynthError as exc:  # config keys are not flags: report them as the file's keys
            raise UsdSynthError(exc.message, exc.path or config_file) from None
    manifest = compose_scene(list(actors), out, seed, template, config, scene_id, overwrite)
    click.echo(
        f"wrote {out}/scene.usda: template {manifest['template']}, {len(manifest['actors'])} actor(s), "
        f"{len(manifest['props'])} prop(s), {len(manifest['cameras'])} camera(s), "
        f"{manifest['frames']} frames at {manifest['fps']:g} fps"
    )


@click.command(cls=Command, field_flags={"out": "--output"})
@click.argument("scene", type=_PATH)
@output_option("Output .usdz package.")
def package(scene: Path, out: Path) -> None:
    """Package SCENE (a scene.usda) with everything it references into one .usdz."""
    from usd_synth.compose.package import package_scene

    package_scene(scene, out)
    click.echo(f"wrote {out}")


__all__ = ["package", "stage"]
