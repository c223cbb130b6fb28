"""``usd-synth blend A B``: time-aligned rotation-space blends of two motions, one file per weight.

Blends the quality check rejects are never shipped silently: they go into a ``rejected/`` folder beside
the output (``OUT_DIR/rejected/`` with ``--weights``, ``rejected/OUT.usd`` next to ``OUT.usd`` with
``--weight``) and are reported as rejected, or are left out with ``--drop-rejected``.
"""

from __future__ import annotations

from pathlib import Path

import click

from usd_synth.errors import UsdSynthError

from .common import (
    FLOAT,
    Command,
    LibraryChoice,
    check_output_file,
    check_output_folder,
    device_option,
    output_option,
    overwrite_option,
)

#: Where blends the quality check rejects are written (beside the output), unless --drop-rejected.
REJECTED_DIR = "rejected"


def _parse_weights(text: str) -> list[float]:
    """``0.1,0.3,0.5`` -> floats (range and duplicates are checked by the library)."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsdSynthError(f"--weights {text}: give comma-separated numbers, e.g. 0.1,0.3,0.5") from None


def _summary(path: Path, motion) -> str:
    q = motion.source.get("quality", {})
    verdict = f"REJECTED ({'; '.join(q['reasons'])})" if q.get("rejected") else "ok"
    return (
        f"wrote {path}: w={motion.source['weight']:g}, {motion.num_frames} frames at {motion.fps:g} fps, "
        f"foot skate {q.get('foot_skate', float('nan')):.3f} m/s, {verdict}"
    )


@click.command(cls=Command)
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@output_option("Output motion USD (with --weight) or a folder (with --weights).")
@click.option("--weight", type=FLOAT, default=None, help="Blend weight in [0, 1]: 0 gives A, 1 gives B.")
@click.option(
    "--weights",
    default=None,
    help="Comma-separated weights; writes OUT/<A>_<B>_w<weight>.usd for each, in one batched launch.",
)
@click.option(
    "--align",
    "align_method",
    type=LibraryChoice("usd_synth.motion.align:ALIGN_METHODS"),
    default=None,
    help="Time alignment of B to A (default: dtw; synthda always uses linear).",
)
@click.option(
    "--formula",
    type=LibraryChoice("usd_synth.motion.blend:FORMULAS"),
    default="slerp",
    show_default=True,
    help="slerp: rotation-space blend; synthda: the reference tool's position formula, retargeted.",
)
@click.option(
    "--duration",
    type=LibraryChoice("usd_synth.motion.blend:DURATIONS"),
    default="a",
    show_default=True,
    help="a: on A's timeline; blend: the duration interpolated between A's and B's with the weight.",
)
@click.option(
    "--band", type=FLOAT, default=0.25, show_default=True, help="DTW band, a fraction of A's frames."
)
@click.option("--cleanup", is_flag=True, help="Clean up foot contacts (remove skate and ground penetration).")
@click.option(
    "--drop-rejected",
    is_flag=True,
    help="Do not write blends that fail the quality thresholds (default: write them into rejected/).",
)
@device_option("auto")
@click.option("--usda", is_flag=True, help="With --weights: write text .usda files instead of .usd crate.")
@overwrite_option("With --weights: replace an existing, non-empty OUT folder.")
def blend(
    a: Path,
    b: Path,
    out: Path,
    weight: float | None,
    weights: str | None,
    align_method: str | None,
    formula: str,
    duration: str,
    band: float,
    cleanup: bool,
    drop_rejected: bool,
    device: str,
    usda: bool,
    overwrite: bool,
) -> None:
    """Blend motion A towards motion B (any readable motion files) with weight W.

    The blend keeps A's skeleton and timeline; its provenance (inputs, weight, alignment, quality) is
    stored in the output's metadata.
    """
    from usd_synth.fileio import atomic_dir
    from usd_synth.motion.blend import blend_motions, blend_synthda, check_weights, output_names
    from usd_synth.motion.readers import read_motion
    from usd_synth.usd.authoring import check_usd_path
    from usd_synth.usd.motion_io import write_motion

    if (weight is None) == (weights is None):
        raise UsdSynthError("give exactly one of --weight W or --weights W1,W2,...")
    # Parsed here so that a bad weight fails before the inputs are read; named by the option given.
    if weight is not None:
        w_list = check_weights([weight], "weight")
    else:
        w_list = check_weights(_parse_weights(weights or ""), "weights")
    if formula == "synthda" and align_method == "dtw":
        raise UsdSynthError(
            "--formula synthda resamples linearly, as the reference tool does; drop --align dtw"
        )
    if formula == "synthda" and duration != "a":
        raise UsdSynthError("--formula synthda always uses A's timeline; drop --duration")
    if weight is not None:
        check_output_file(check_usd_path(out))
    else:  # before the work: a full folder, a file, or the working folder (never replaced)
        check_output_folder(out, overwrite)

    motion_a = read_motion(a)
    motion_b = read_motion(b)
    names = (a.name, b.name)
    if formula == "synthda":
        blends = blend_synthda(motion_a, motion_b, w_list, cleanup=cleanup, names=names)
    else:
        blends = blend_motions(
            motion_a,
            motion_b,
            w_list,
            align_method=align_method or "dtw",
            band=band,
            duration=duration,
            device=device,
            cleanup=cleanup,
            names=names,
        )

    if weight is not None:
        m = blends[0]
        if m.source["quality"]["rejected"]:
            if drop_rejected:
                click.echo(f"not written ({'; '.join(m.source['quality']['reasons'])}): {out}")
                return
            out = out.parent / REJECTED_DIR / out.name
        write_motion(m, out)
        click.echo(_summary(out, m))
        return
    files = output_names(a, b, w_list, ".usda" if usda else ".usd")
    lines = []
    with atomic_dir(out, overwrite=overwrite, field="out") as tmp:
        for name, m in zip(files, blends, strict=True):
            if m.source["quality"]["rejected"]:
                if drop_rejected:
                    lines.append(f"not written ({'; '.join(m.source['quality']['reasons'])}): {out / name}")
                    continue
                name = f"{REJECTED_DIR}/{name}"
                (tmp / REJECTED_DIR).mkdir(exist_ok=True)
            write_motion(m, tmp / name)
            lines.append(_summary(out / name, m))
    for line in lines:
        click.echo(line)
