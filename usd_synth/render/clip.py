"""Render one clip of a stage: open a backend session, loop the frames, label them, write the clip folder.

:func:`render_clip` is what ``usd-synth render`` and the dataset builder call. The clip folder is built
under a temporary name beside ``out`` and renamed when complete, so a failure leaves no partial output.
The labels, effects and writers modules are imported inside the function: this module (and the backends)
import without them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from usd_synth.config_files import read_config_file
from usd_synth.errors import UsdSynthError
from usd_synth.render.protocol import ALL_PASSES, DEFAULT_PASSES, IMAGE_PASSES

log = logging.getLogger(__name__)


def parse_passes(passes: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"rgb,depth"`` or a sequence -> a checked tuple of pass names (order kept, duplicates dropped)."""
    if passes is None:
        return DEFAULT_PASSES
    items = passes.split(",") if isinstance(passes, str) else list(passes)
    names = tuple(dict.fromkeys(p.strip() for p in items if p.strip()))
    if not names:
        raise UsdSynthError("passes: no pass given", field="passes")
    for name in names:
        if name not in ALL_PASSES:
            raise UsdSynthError(
                f"passes: unknown pass {name!r}; known: {', '.join(ALL_PASSES)}", field="passes"
            )
    return names


def parse_frames(text: str | None) -> tuple[int, int] | None:
    """``"START:END"`` (END exclusive, either may be empty) -> (start, end) with None for an open side."""
    if text is None:
        return None
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start = int(parts[0]) if parts[0].strip() else None
        end = int(parts[1]) if parts[1].strip() else None
    except ValueError:
        raise UsdSynthError(f"frames must be START:END (e.g. 0:30), got {text!r}", field="frames") from None
    return start, end


def parse_resolution(text: str | Sequence[int]) -> tuple[int, int]:
    """``"320x240"`` or (w, h) -> (w, h), checked."""
    if isinstance(text, str):
        try:
            w, h = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise UsdSynthError(
                f"resolution must be WIDTHxHEIGHT (e.g. 320x240), got {text!r}", field="resolution"
            ) from None
    else:
        w, h = (int(v) for v in text)
    if not (8 <= w <= 8192 and 8 <= h <= 8192):
        raise UsdSynthError(
            f"resolution must be between 8 and 8192 pixels a side, got {w}x{h}", field="resolution"
        )
    return w, h


def load_effects(effects: str | Path | dict | None):
    """An effects config from a YAML/JSON file (bare or under ``effects:``) or a mapping; None: none."""
    if effects is None:
        return None
    from usd_synth.render.effects import EffectsConfig, effects_config

    if isinstance(effects, EffectsConfig):
        return effects

    if isinstance(effects, dict):
        return effects_config(effects["effects"] if set(effects) == {"effects"} else effects)
    path = Path(effects)
    data = read_config_file(path, field="effects", section="effects")
    return effects_config(data, path)


def clip_frames(
    stage_frames: list[int], frames: tuple[int | None, int | None] | None, path: Path
) -> list[int]:
    """The frames to render: the stage's, cut to ``frames`` = (start, end exclusive)."""
    first, last = stage_frames[0], stage_frames[-1]
    if frames is None:
        return list(stage_frames)
    start = first if frames[0] is None else frames[0]
    end = last + 1 if frames[1] is None else frames[1]
    if start < first or end > last + 1 or end <= start:
        raise UsdSynthError(
            f"frames {start}:{end} is outside the stage's frames {first}:{last + 1} (END is exclusive)",
            path,
            field="frames",
        )
    return list(range(start, end))


def render_clip(
    scene: str | Path,
    out: str | Path,
    backend: str = "pyrender",
    camera: str | None = None,
    resolution: tuple[int, int] | str = (320, 240),
    passes: str | Iterable[str] | None = ("rgb", "depth", "instance", "semantic", "keypoints"),
    frames: tuple[int | None, int | None] | str | None = None,
    effects: str | Path | dict | Any | None = None,
    seed: int = 0,
    overwrite: bool = False,
    png_frames: bool = False,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> dict[str, Any]:
    """Render ``scene`` through ``camera`` into the clip folder ``out``; returns a summary.

    ``passes``: any of :data:`~usd_synth.render.protocol.ALL_PASSES` (``keypoints`` asks for the labels'
    2D/3D keypoints; labels are written for every clip). ``frames``: ``(start, end)`` or ``"START:END"``,
    END exclusive (default: the whole stage). ``effects``: a camera-effects config (file or mapping),
    drawn from ``rng_for(seed, "render-effects", camera path)``. ``progress(iterable, length)`` wraps the
    frame loop (a progress bar).
    """
    from usd_synth.fileio import atomic_dir
    from usd_synth.randomize.seeding import rng_for
    from usd_synth.render.registry import get_renderer

    scene = Path(scene)
    passes = parse_passes(passes)
    resolution = parse_resolution(resolution)
    frames = parse_frames(frames) if isinstance(frames, str) else frames
    effects_cfg = load_effects(effects)
    renderer = get_renderer(backend)
    image_passes = tuple(p for p in passes if p in IMAGE_PASSES)
    # labels use depth and instance masks for visibility: render them whenever labels are written (a
    # backend without images, such as ``geometry``, labels from geometry alone and takes no image pass)
    render_passes = tuple(dict.fromkeys((*image_passes, "depth", "instance")))
    if not getattr(renderer, "images", True):
        render_passes = image_passes
    t_open = time.perf_counter()
    session = renderer.open(scene, camera, resolution, render_passes)
    timings = {"open": time.perf_counter() - t_open, "render": 0.0, "labels": 0.0, "write": 0.0}
    try:
        from usd_synth.render import labels as labels_mod
        from usd_synth.render.writers import ClipWriter

        stage_frames = getattr(getattr(session, "desc", None), "frames", None)
        stage = getattr(getattr(session, "desc", None), "stage", None)
        if stage is None:
            from usd_synth.render.scene_reader import open_usd

            stage = open_usd(scene)
        if stage_frames is None:
            start, end = int(stage.GetStartTimeCode()), int(stage.GetEndTimeCode())
            stage_frames = list(range(start, end + 1))
        todo = clip_frames(stage_frames, frames, scene)
        fps = float(stage.GetTimeCodesPerSecond())
        cam_path = session.camera(todo[0]).path
        rng = rng_for(seed, "render-effects", cam_path) if effects_cfg is not None else None
        info = {
            # relative to the clip folder, so that the clip and its scene move together and the labels of
            # the same scene are the same bytes wherever they are written
            "scene": Path(os.path.relpath(scene.resolve(), Path(out).resolve())).as_posix(),
            "camera": cam_path,
            "backend": backend,
            "seed": int(seed),
            "first_frame": todo[0],
            "last_frame": todo[-1],
        }
        rigs = labels_mod.cached_actor_rigs(stage)
        with atomic_dir(out, overwrite=overwrite, field="out") as tmp:
            writer = ClipWriter(
                tmp,
                fps,
                passes=(*image_passes, *(("keypoints",) if "keypoints" in passes else ())),
                png_frames=png_frames,
                effects=effects_cfg,
                rng=rng,
                clip_info=info,
                instances=session.instances,
            )
            loop = progress(todo, len(todo)) if progress is not None else todo
            for f in loop:
                t0 = time.perf_counter()
                layers = session.render(f)
                t1 = time.perf_counter()
                cam = session.camera(f)
                labels = labels_mod.frame_labels(stage, cam, f, layers, session.instances, frame=f, rigs=rigs)
                t2 = time.perf_counter()
                writer.add(f, {k: v for k, v in layers.items() if k in image_passes}, labels)
                timings["render"] += t1 - t0
                timings["labels"] += t2 - t1
                timings["write"] += time.perf_counter() - t2
            t3 = time.perf_counter()
            written = writer.close()
            timings["write"] += time.perf_counter() - t3
            (tmp / "render.json").write_text(
                json.dumps({**info, "passes": list(passes), "resolution": list(resolution)}, indent=1)
            )
    finally:
        session.close()
    n = len(todo)
    loop_s = timings["render"] + timings["labels"] + timings["write"]
    return {
        "out": str(out),
        "frames": n,
        "camera": cam_path,
        "backend": backend,
        "passes": list(passes),
        "resolution": list(resolution),
        "effects": written.get("effects", {}),
        "seconds": {k: round(v, 4) for k, v in timings.items()},
        "frames_per_second": round(n / loop_s, 3) if loop_s > 0 else None,
    }
