"""``usd-synth body | actor | bake``: make a rigged body, bind a motion to it, bake skinning to points."""

from __future__ import annotations

from pathlib import Path

import click

from usd_synth.errors import UsdSynthError

from .common import (
    Command,
    LibraryChoice,
    check_output_file,
    device_option,
    output_option,
    progress,
    seed_option,
)

_PATH = click.Path(path_type=Path)


@click.command(cls=Command)
@output_option("Output body USD (.usd crate, .usda).")
@click.option(
    "--model",
    type=LibraryChoice("usd_synth.body:MODELS"),
    default="anny",
    show_default=True,
    help="anny: free, commercially usable (default); smpl: your SMPL model files (--smpl-dir).",
)
@click.option(
    "--smpl-dir", type=_PATH, default=None, help="Folder with SMPL_NEUTRAL/MALE/FEMALE .pkl or .npz."
)
@seed_option("Body shape seed (same seed, same body).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a shape value: anny gender/age/muscle/weight/height/proportions (0..1), years, stature "
    "(m), spread, skin; smpl gender, betas=b0,b1,.., beta3=..; both influences (per vertex, default 4).",
)
def body(out: Path, model: str, smpl_dir: Path | None, seed: int, overrides: tuple[str, ...]) -> None:
    """Write a body rigged onto the SMPL-24 skeleton as a skinned UsdSkel asset."""
    from usd_synth.body import make_body
    from usd_synth.body.shapes import parse_overrides
    from usd_synth.usd.authoring import check_usd_path
    from usd_synth.usd.body_io import write_body

    check_usd_path(out)
    check_output_file(out)
    b = make_body(model, seed, parse_overrides(overrides), smpl_dir)
    write_body(b, out)
    click.echo(
        f"wrote {out}: {model} body (seed {seed}), stature {b.stature:.2f} m, {b.num_points} vertices, "
        f"{len(b.faces)} triangles, {b.influences} influences per vertex"
    )


@click.command(cls=Command)
@click.argument("motion_file", type=_PATH)
@output_option("Output actor USD (.usd, .usda).")
@click.option("--body", "body_file", type=_PATH, default=None, help="Body USD from `usd-synth body`.")
@seed_option("Make a default (Anny) body from this seed instead.", default=None)
def actor(motion_file: Path, out: Path, body_file: Path | None, seed: int | None) -> None:
    """Bind the motion in MOTION_FILE to a body and write the animated, skinned actor."""
    from usd_synth.body import make_body
    from usd_synth.body.actor import make_actor
    from usd_synth.motion.readers import read_motion
    from usd_synth.usd.authoring import check_usd_path
    from usd_synth.usd.body_io import read_body, write_actor

    check_usd_path(out)
    check_output_file(out)
    if body_file is not None and seed is not None:
        raise UsdSynthError("give either --body or --seed, not both")
    m = read_motion(motion_file)
    b = read_body(body_file) if body_file is not None else make_body("anny", 0 if seed is None else seed)
    a = make_actor(m, b)
    write_actor(a, out)
    what = body_file if body_file is not None else f"anny body (seed {0 if seed is None else seed})"
    click.echo(f"wrote {out}: {m.num_frames} frames at {m.fps:g} fps on {what}, stature {b.stature:.2f} m")
    click.echo(a.summary())


@click.command(cls=Command)
@click.argument("src", type=_PATH)
@output_option("Output USD (.usd or .usdc crate).")
@device_option("cpu")
def bake(src: Path, out: Path, device: str) -> None:
    """Bake every skinned mesh of SRC into time-sampled points and normals (world space)."""
    from usd_synth.kernels.device import resolve_device
    from usd_synth.usd.authoring import check_usd_path
    from usd_synth.usd.bake import bake_file

    check_output_file(check_usd_path(out))
    dev = resolve_device(device)
    summary = bake_file(src, out, dev, progress=lambda it, length: progress(it, "baking", length=length))
    click.echo(
        f"wrote {out}: {len(summary['meshes'])} mesh(es), {summary['points']} points x "
        f"{summary['frames']} frames baked on {dev}"
    )


__all__ = ["actor", "bake", "body"]
