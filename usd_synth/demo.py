"""The demo job: the whole flow that exists today, on built-in data, validated, with a JSON summary.

1. every built-in action as an animated SMPL-24 motion USD;
2. each motion on its own sampled Anny body (a skinned actor);
3. a real-mix of two walks of different styles at three weights (time-aligned rotation blending); blends
   the quality check rejects are left out and listed, with the reasons, under ``rejected_blends`` in the
   summary (``keep_rejected=True`` writes them anyway, marked ``rejected``);
4. a small fractal pre-training set.

Every USD file is checked with USD's validators (and NVIDIA's asset validator when installed). Later
stages of the flow (stages, rendering, datasets) extend this same entry point.

Seeds: the motions use the run seed itself (the library keys it by action name); the bodies and the second
walk of the blend get theirs from the seeding rule, ``rng_for(seed, "demo")`` (see :func:`demo_seeds`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from usd_synth.fileio import atomic_dir, atomic_path
from usd_synth.motion.library import make_motion
from usd_synth.motion.summary import summarize
from usd_synth.randomize import rng_for
from usd_synth.usd.motion_io import write_motion
from usd_synth.usd.validate import errors, validate_file

BLEND_WEIGHTS = (0.25, 0.5, 0.75)
#: The built-in actions the demo shows: one of each kind (gaits, gestures, a fall, a transition, stillness),
#: not the whole library, so the demo stays short.
DEMO_ACTIONS = ("walk", "run", "wave", "squat", "fall_forward", "sit_down", "idle")


def _plain(items: Iterable, n: int) -> Iterator:
    return iter(items)


def demo_seeds(seed: int) -> dict[str, Any]:
    """The demo's derived seeds: ``bodies`` (action -> body seed) and ``second_walk`` (the seed of the walk
    blended with the built-in one). Body seeds are consecutive from a base drawn from
    ``rng_for(seed, "demo")``, so the demo's bodies spread over ages and heights (consecutive body seeds are
    stratified, see :func:`usd_synth.body.shapes.seed_strata`)."""
    base, second_walk = (int(x) for x in rng_for(seed, "demo").integers(0, 2**31, size=2))
    return {"bodies": {name: base + k for k, name in enumerate(DEMO_ACTIONS)}, "second_walk": second_walk}


#: What the demo writes at the top of its folder; a folder holding only these is a previous demo's output,
#: replaced without ``overwrite``.
DEMO_OUTPUTS = ("motions", "actors", "blends", "scene", "renders", "fractal", "summary.json")
#: Rough size of the demo's output (checked against the free space before starting).
DEMO_BYTES_ESTIMATE = 60e6


def run_demo(
    out: str | Path,
    seed: int = 0,
    progress: Callable[[Iterable, int], Iterator] = _plain,
    fractal: bool = True,
    overwrite: bool = False,
    keep_rejected: bool = False,
    render: bool = True,
) -> dict[str, Any]:
    """Write the demo into ``out`` and return (and save as ``out/summary.json``) what was made.

    The folder is built beside ``out`` under a temporary name and renamed into place at the end, so an
    error or interruption leaves nothing behind; a non-empty ``out`` is refused unless ``overwrite`` (or it
    holds only a previous demo's output). Blends the quality check rejects are left out unless
    ``keep_rejected``; the summary lists them under ``rejected_blends``.
    """
    from usd_synth.output_limits import check_disk

    check_disk(out, DEMO_BYTES_ESTIMATE)
    with atomic_dir(out, overwrite=overwrite, field="out", replaceable=DEMO_OUTPUTS) as tmp:
        return _run_demo(tmp, seed, progress, fractal, keep_rejected, render)


def _run_demo(
    out: Path,
    seed: int,
    progress: Callable[[Iterable, int], Iterator],
    fractal: bool,
    keep_rejected: bool = False,
    render: bool = True,
) -> dict[str, Any]:
    from usd_synth.body import make_body
    from usd_synth.body.actor import make_actor
    from usd_synth.motion.blend import blend_motions
    from usd_synth.usd.body_io import write_actor

    out = Path(out)
    rows: list[dict[str, Any]] = []

    def record(kind: str, path: Path, label: str, motion, **extra: Any) -> None:
        rows.append({
            "kind": kind, "file": str(path.relative_to(out)), "label": label, "frames": motion.num_frames,
            "fps": motion.fps, "errors": len(errors(validate_file(path))), **extra,
        })  # fmt: skip

    seeds = demo_seeds(seed)
    dropped: list[dict[str, Any]] = []  # blends the quality check rejected (left out unless keep_rejected)
    steps = (
        [("motion", name) for name in DEMO_ACTIONS]
        + [("actor", name) for name in DEMO_ACTIONS]
        + [("blend", "")]
    )
    motions = {}
    for kind, name in progress(steps, len(steps)):
        if kind == "motion":
            motions[name] = make_motion(name, seed=seed)
            path = write_motion(motions[name], out / "motions" / f"{name}.usd")
            record("motion", path, name, motions[name], stature_m=summarize(motions[name])["stature_m"])
        elif kind == "actor":
            body_seed = seeds["bodies"][name]
            body = make_body("anny", body_seed)
            actor = make_actor(motions[name], body)
            path = write_actor(actor, out / "actors" / f"{name}.usd")
            record("actor", path, name, actor.motion, stature_m=round(body.stature, 3), body_seed=body_seed)
        else:
            a, b = motions["walk"], make_motion("walk", seed=seeds["second_walk"], fps=20.0)
            for w, mixed in zip(BLEND_WEIGHTS, blend_motions(a, b, list(BLEND_WEIGHTS)), strict=True):
                quality = mixed.source.get("quality", {})
                if quality.get("rejected") and not keep_rejected:
                    # Never shipped silently: left out, and listed in the summary with the reasons.
                    dropped.append(
                        {"kind": "blend", "label": "walk", "weight": w, "reasons": quality["reasons"]}
                    )
                    continue
                path = write_motion(mixed, out / "blends" / f"walk_walk_w{w:.2f}.usd")
                record("blend", path, "walk", mixed, weight=w, foot_skate_m_s=quality.get("foot_skate"),
                       rejected=bool(quality.get("rejected")))  # fmt: skip
    report: dict[str, Any] = {"seed": seed, "files": rows, "rejected_blends": dropped}
    if render:
        report["scene"], report["renders"] = _scene_and_renders(out, seed, rows, progress)
    if fractal:
        report["fractal"] = _fractal(out / "fractal", seed)
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _scene_and_renders(
    out: Path, seed: int, rows: list[dict[str, Any]], progress: Callable[[Iterable, int], Iterator]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rest of the flow on the demo's own files: a randomized stage with two actors (the middle
    real-mix blend, or the walk when the quality check rejected every blend, beside a fall), then one
    labelled clip per camera at 320x240 with its contact sheet."""
    from usd_synth.compose import compose_scene
    from usd_synth.render.clip import render_clip

    blends = [r for r in rows if r["kind"] == "blend"]
    mover = min(blends, key=lambda r: abs(r["weight"] - 0.5))["file"] if blends else "motions/walk.usd"
    actors = [out / mover, out / "motions" / "fall_forward.usd"]
    manifest = compose_scene(actors, out / "scene", seed)
    scene = {
        "folder": "scene",
        "template": manifest["template"],
        "actors": [str(a.relative_to(out)) for a in actors],
        "cameras": [c["name"] for c in manifest["cameras"]],
        "frames": manifest["frames"],
        "errors": len(errors(validate_file(out / "scene" / "scene.usda"))),
    }
    renders = []
    for cam in progress(scene["cameras"], len(scene["cameras"])):
        clip = out / "renders" / cam
        render_clip(out / "scene" / "scene.usda", clip, camera=cam, resolution=(320, 240), seed=seed)
        renders.append({
            "camera": cam, "folder": str(clip.relative_to(out)), "frames": scene["frames"],
            "video": str((clip / "rgb.mp4").relative_to(out)),
            "contact_sheet": str((clip / "contact_sheet.png").relative_to(out)),
        })  # fmt: skip
    return scene, renders


def _fractal(out: Path, seed: int) -> dict[str, Any]:
    """A tiny fractal set: 3 classes x 2 clips, 64 px, 12 frames."""
    from usd_synth.fractal.dataset import FractalDatasetSpec, generate_dataset

    spec = FractalDatasetSpec(
        classes=3, clips_per_class=2, frames=12, size=64, points=64, iterations=2000, seed=seed
    )
    manifest = generate_dataset(spec, out, overwrite=True)
    return {"folder": out.name, "clips": len(manifest["clips"]), "classes": spec.classes}
