"""Writing a rendered clip: video, image passes, labels, COCO keypoints and a contact sheet.

:class:`ClipWriter` collects frames (``add``) and writes the clip folder on ``close``::

    rgb.mp4                 H.264 (yuv420p) through usd_synth.fractal.video_io, after camera effects
    rgb/000000.png          the same frames as PNG (png_frames=True)
    depth/000000.png        uint16 millimetres along the optical axis, 0 = nothing (65535 = 65.535 m or more)
    instance/000000.png     uint16 instance ids (0 = background; ids in labels.json "instances")
    semantic/000000.png     uint16 semantic ids
    normals/000000.png      world-space unit normals as RGB = round((n + 1) / 2 * 255), 0 where nothing
    labels.json             {"clip": {...}, "instances": {...}, "frames": [frame labels, in frame order]}
    coco.json               COCO person-keypoints for the clip (images, annotations, categories)
    contact_sheet.png       ~12 frames in a grid with each actor's skeleton, COCO keypoints and box drawn

Frame PNG names are the frame index (``%06d``). Files are written under a temporary name and renamed, so a
failed clip leaves no half-written file of the same name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from usd_synth.errors import UsdSynthError
from usd_synth.fractal import video_io
from usd_synth.fractal.video_io import preview_grid, write_mp4
from usd_synth.render.coco import coco_document
from usd_synth.render.effects import EffectsConfig, apply_effects, effects_config, sample_effects
from usd_synth.render.labels import COCO_SKELETON
from usd_synth.render.png import write_png
from usd_synth.skeleton import SMPL_PARENTS

#: Passes written as PNG frames besides ``rgb``.
PNG_PASSES = ("depth", "instance", "semantic", "normals")
#: Frames on the contact sheet.
SHEET_FRAMES = 12
#: Largest tile width on the contact sheet, pixels.
SHEET_TILE_WIDTH = 320
#: One colour per actor (by instance id), cycled.
PALETTE = ((255, 64, 64), (64, 160, 255), (80, 220, 80), (255, 200, 0), (220, 80, 255), (0, 220, 220))


def depth_to_png(depth: np.ndarray) -> np.ndarray:
    """Metres (float) to uint16 millimetres; 0 stays 0 (nothing), far values saturate at 65535 (NaN and
    +inf are 0). In place on one float64 copy: this runs for every frame."""
    d = np.array(depth, dtype=np.float64)
    d[~np.isfinite(d) & ~(d < 0)] = 0.0  # NaN and +inf: nothing
    np.multiply(d, 1000.0, out=d)
    np.rint(d, out=d)
    np.clip(d, 0, 65535, out=d)
    return d.astype(np.uint16)


def depth_from_png(path: str | Path) -> np.ndarray:
    """A depth PNG back to float32 metres."""
    return iio.imread(path).astype(np.float32) / 1000.0


def normals_to_png(normals: np.ndarray) -> np.ndarray:
    """Unit normals (H, W, 3) to uint8 RGB ``round((n + 1) / 2 * 255)``; 0 where the normal is 0 (nothing)."""
    n = np.nan_to_num(np.asarray(normals, dtype=np.float64))
    out = np.clip(np.rint((n + 1.0) * 127.5), 0, 255).astype(np.uint8)
    out[~np.any(n != 0, axis=-1)] = 0
    return out


def labels_json(doc: dict) -> str:
    """``labels.json`` text: the clip and instances indented, then one frame per line.

    Why one line per frame: ``json.dumps(indent=...)`` runs Python's pure-Python encoder (~3 ms per frame
    of labels, as long as writing its PNGs), while unindented dumps use the C encoder; a line per frame
    still reads and diffs well. The text is ordinary JSON."""
    parts = []
    for key, value in doc.items():
        if key != "frames":  # JSON text has no raw newlines inside strings: indenting by lines is safe
            nested = json.dumps(value, indent=1).replace("\n", "\n ")
            parts.append(f" {json.dumps(key)}: {nested}")
    frames = ",\n  ".join(json.dumps(f) for f in doc.get("frames", []))
    parts.append(f' "frames": [\n  {frames}\n ]' if frames else ' "frames": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad odd heights/widths by one edge row/column (H.264 in yuv420p needs even sizes)."""
    h, w = frames.shape[1:3]
    if h % 2 == 0 and w % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


class ClipWriter:
    """Write one rendered clip to ``out_dir`` (see the module docstring).

    Args:
        out_dir: the clip folder (created).
        fps: frames per second of the video.
        passes: layers to write; ``rgb`` gives ``rgb.mp4``; ``depth``, ``instance``, ``semantic`` give PNG
            frames. Labels, COCO and the contact sheet are written whenever frames carry labels.
        png_frames: also write ``rgb/%06d.png``.
        effects: camera effects (an :class:`EffectsConfig` or a mapping) applied to RGB before writing.
        rng: the Generator effects draw from (required when ``effects`` is given).
        clip_info: extra clip-level values for ``labels.json`` (scene, camera, backend, seed...).
        instances: prim path -> (instance id, semantic id, class label) of the render session.
    """

    def __init__(
        self,
        out_dir: str | Path,
        fps: float,
        passes=("rgb", "depth", "instance", "semantic"),
        png_frames: bool = False,
        effects: EffectsConfig | dict | None = None,
        rng: np.random.Generator | None = None,
        clip_info: dict | None = None,
        instances: dict | None = None,
    ) -> None:
        if fps <= 0:
            raise UsdSynthError(f"fps must be positive, got {fps}", field="fps")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.fps = float(fps)
        self.passes = tuple(passes)
        self.png_frames = bool(png_frames)
        self.effects = effects_config(effects) if effects is not None else None
        if self.effects is not None and rng is None:
            raise UsdSynthError("effects need a Generator (rng)", field="rng", mentions=("effects",))
        self.rng = rng
        self.clip_info = dict(clip_info or {})
        self.instances = {
            str(k): dict(zip(("id", "semantic_id", "label"), tuple(v), strict=True))
            for k, v in (instances or {}).items()
        }
        self._rgb: list[np.ndarray] = []
        self._labels: list[dict] = []
        self._indices: list[int] = []
        self._size: tuple[int, int] | None = None
        self._closed = False
        for name in PNG_PASSES:
            if name in self.passes:
                (self.out_dir / name).mkdir(exist_ok=True)

    def add(self, frame_index: int, layers: dict[str, np.ndarray], labels: dict | None = None) -> None:
        """Add one frame: its layers (``rgb`` (H, W, 3) uint8, ``depth`` float metres, ``instance`` and
        ``semantic`` uint16) and its labels (from :func:`usd_synth.render.labels.frame_labels`)."""
        if self._closed:
            raise UsdSynthError("the clip writer is closed", field="frame_index")
        if self._indices and frame_index <= self._indices[-1]:
            raise UsdSynthError(
                f"frame_index {frame_index} after {self._indices[-1]}: frames must come in order",
                field="frame_index",
            )
        shapes = {name: np.asarray(a).shape[:2] for name, a in layers.items()}
        if len(set(shapes.values())) > 1:
            raise UsdSynthError(f"layers differ in size: {shapes}", field="layers")
        size = next(iter(shapes.values()), self._size)
        if self._size is not None and size != self._size:
            raise UsdSynthError(f"frame {frame_index} is {size}, earlier frames {self._size}", field="layers")
        rgb = np.asarray(layers.get("rgb")) if "rgb" in self.passes else None
        if rgb is not None and (rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8):
            raise UsdSynthError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}", field="layers")
        self._size = size
        if rgb is not None:
            self._rgb.append(rgb)
        name = f"{frame_index:06d}.png"
        for p in PNG_PASSES:
            if p in self.passes and p in layers:
                a = (
                    depth_to_png(layers[p])
                    if p == "depth"
                    else normals_to_png(layers[p])
                    if p == "normals"
                    else np.asarray(layers[p]).astype(np.uint16)
                )
                write_png(self.out_dir / p / name, a)
        self._indices.append(int(frame_index))
        self._labels.append(labels if labels is not None else {"frame": int(frame_index)})

    def close(self) -> dict[str, Any]:
        """Apply effects, write the video, PNG frames, labels, COCO and contact sheet; returns a summary."""
        if self._closed:
            return {}
        self._closed = True
        plan = sample_effects(self.effects, self.rng) if self.effects is not None else {}
        frames = np.stack(self._rgb) if self._rgb else None
        if frames is not None:
            frames = apply_effects(frames, plan, self.rng) if plan else frames
            crf = int(plan.get("crf", video_io.DEFAULT_CRF))
            _write_atomic(self.out_dir / "rgb.mp4", lambda p: write_mp4(p, _even(frames), self.fps, crf=crf))
            if self.png_frames:
                (self.out_dir / "rgb").mkdir(exist_ok=True)
                for i, f in zip(self._indices, frames, strict=True):
                    write_png(self.out_dir / "rgb" / f"{i:06d}.png", f)
        height, width = self._size or (0, 0)
        clip = {
            "fps": self.fps,
            "width": width,
            "height": height,
            "frames": len(self._indices),
            "frame_indices": self._indices,
            "passes": list(self.passes),
            "video": "rgb.mp4" if frames is not None else None,
            "video_padded": bool(frames is not None and (height % 2 or width % 2)),
            "effects": plan,
            "pixel_convention": "pixel (u, v) has its centre at integer (u, v); image spans [-0.5, W-0.5]",
            "depth_png": "uint16 millimetres along the optical axis, 0 = nothing",
            **self.clip_info,
        }
        doc = {"clip": clip, "instances": self.instances, "frames": self._labels}
        _write_atomic(self.out_dir / "labels.json", lambda p: p.write_text(labels_json(doc)))
        coco = coco_document(self._labels, width, height, self._indices, self.png_frames, clip)
        _write_atomic(self.out_dir / "coco.json", lambda p: p.write_text(json.dumps(coco)))
        if frames is not None:
            sheet = contact_sheet(frames, self._labels)
            _write_atomic(self.out_dir / "contact_sheet.png", lambda p: write_png(p, sheet))
        return {"out_dir": str(self.out_dir), "frames": len(self._indices), "effects": plan}

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


# ---------------------------------------------------------------------------------------------------------
# contact sheet
# ---------------------------------------------------------------------------------------------------------


def sheet_indices(num_frames: int, count: int = SHEET_FRAMES) -> list[int]:
    """Up to ``count`` frame positions spread evenly over the clip, first and last included."""
    if num_frames <= count:
        return list(range(num_frames))
    return sorted({int(round(x)) for x in np.linspace(0, num_frames - 1, count)})


def draw_labels(frame: np.ndarray, labels: dict, scale: float = 1.0) -> np.ndarray:
    """``frame`` with each actor's box, SMPL skeleton (visible joints filled, hidden ones hollow) and COCO
    face keypoints drawn; ``scale`` maps label pixels to the frame's (for a resized tile)."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(frame)
    draw = ImageDraw.Draw(img)

    def px(x, y):  # label pixel centres at integers -> PIL's continuous coordinates
        return (x + 0.5) * scale - 0.5, (y + 0.5) * scale - 0.5

    for actor in labels.get("actors", []):
        color = PALETTE[((actor.get("id") or 1) - 1) % len(PALETTE)]
        if actor.get("bbox"):
            x, y, w, h = actor["bbox"]
            (x0, y0), (x1, y1) = px(x + 0.5, y + 0.5), px(x + w - 0.5, y + h - 0.5)  # first/last pixel
            draw.rectangle([round(x0), round(y0), round(x1), round(y1)], outline=color)
            if actor.get("label"):
                at = (round(x0), max(0, round(y0) - 11))
                text = str(actor["label"])[:16]
                draw.rectangle(draw.textbbox(at, text), fill=(0, 0, 0))
                draw.text(at, text, fill=color)
        kp = actor.get("keypoints_2d", [])
        for c, p in enumerate(SMPL_PARENTS):
            if p < 0 or kp[c][0] is None or kp[p][0] is None:
                continue
            both = kp[c][2] and kp[p][2]
            draw.line([px(*kp[p][:2]), px(*kp[c][:2])], fill=color if both else (160, 160, 160), width=1)
        # joint dots sized to the actor: 1 px radius for a 50 px tall person, up to 3
        radius = float(np.clip((actor["bbox"][3] if actor.get("bbox") else 100) * scale / 50, 1.0, 3.0))
        for x, y, v in kp:
            if x is None:
                continue
            cx, cy = px(x, y)
            box = [cx - radius, cy - radius, cx + radius, cy + radius]
            draw.ellipse(box, fill=color if v else None, outline=color)
        ckp = actor.get("coco_keypoints", [])
        for a, b in COCO_SKELETON[12:]:  # the face edges
            pa, pb = ckp[a - 1], ckp[b - 1]
            if pa[2] and pb[2]:
                draw.line([px(*pa[:2]), px(*pb[:2])], fill=(255, 255, 255), width=1)
        for x, y, v in ckp[:5]:
            if v:
                cx, cy = px(x, y)
                white = (255, 255, 255)
                draw.ellipse(
                    [cx - 1.5, cy - 1.5, cx + 1.5, cy + 1.5], fill=white if v == 2 else None, outline=white
                )
    draw.text((3, 2), str(labels.get("frame", "")), fill=(255, 255, 255))
    return np.asarray(img)


def contact_sheet(frames: np.ndarray, labels: list[dict], columns: int = 4) -> np.ndarray:
    """A grid of up to :data:`SHEET_FRAMES` frames with their labels drawn (uint8 RGB)."""
    from PIL import Image

    picks = sheet_indices(len(frames))
    h, w = frames.shape[1:3]
    scale = min(1.0, SHEET_TILE_WIDTH / w)
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    tiles = []
    for i in picks:
        f = frames[i] if scale == 1.0 else np.asarray(Image.fromarray(frames[i]).resize(size, Image.BILINEAR))
        tiles.append(draw_labels(f, labels[i], scale=size[0] / w))
    return preview_grid(tiles, columns=min(columns, len(tiles)), gap=2)
