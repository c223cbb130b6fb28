"""Writing clips (mp4 or PNG frames) and the preview grid, byte-identical for identical frames.

mp4 files are H.264 in yuv420p through the ffmpeg bundled with imageio-ffmpeg, with one encoder thread
and bit-exact flags, so the same frames always give the same bytes whatever the machine's core count.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np

#: x264 settings: constant quality; the fastest preset (with "medium" encoding took a third of the CPU
#: time of a clip; files are ~40 % larger than "veryfast" at the same error); one thread (frame threading
#: is the one source of run-to-run differences); no timestamps or encoder strings that could vary.
_X264_PARAMS = [
    "-crf", "18",
    "-preset", "ultrafast",
    "-threads", "1",
    "-x264-params", "threads=1:lookahead-threads=1",
    "-map_metadata", "-1",
    "-fflags", "+bitexact",
    "-flags:v", "+bitexact",
]  # fmt: skip


def write_mp4(path: str | Path, frames: np.ndarray, fps: int) -> None:
    """Encode ``frames`` (uint8 ``(T, H, W)`` grey or ``(T, H, W, 3)`` RGB; even H and W) to ``path``.

    One ffmpeg run with the whole clip on stdin: ``subprocess.run`` waits for the encoder to exit, where a
    frame-by-frame writer polls it with sleeps (a third of the encoding time of a short clip).
    """
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    height, width = frames.shape[1:3]
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "gray" if frames.ndim == 3 else "rgb24",
        "-s", f"{width}x{height}", "-r", str(int(fps)), "-i", "pipe:0",
        "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", *_X264_PARAMS,
        "-f", "mp4", "-y", str(path),
    ]  # fmt: skip
    done = subprocess.run(command, input=frames.tobytes(), capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"ffmpeg could not write {path}: {message[-1] if message else done.returncode}")


def read_mp4(path: str | Path, gray: bool = True) -> np.ndarray:
    """Decode an mp4 to uint8 ``(T, H, W)`` (grey) or ``(T, H, W, 3)``."""
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray" if gray else "rgb24", bpp=1 if gray else 3)
    meta = next(reader)
    width, height = meta["size"]
    shape = (height, width) if gray else (height, width, 3)
    frames = [np.frombuffer(buf, np.uint8).reshape(shape) for buf in reader]
    return np.stack(frames) if frames else np.zeros((0, *shape), np.uint8)


def write_png_frames(folder: str | Path, frames: np.ndarray) -> None:
    """One PNG per frame, ``00000.png`` upwards."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        iio.imwrite(folder / f"{i:05d}.png", frame)


def preview_grid(tiles: list[np.ndarray], columns: int = 8, gap: int = 2) -> np.ndarray:
    """Tile equally sized frames into one image, ``columns`` wide, with a ``gap`` of black between."""
    if not tiles:
        return np.zeros((16, 16), np.uint8)
    h, w = tiles[0].shape[:2]
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    shape = (rows * (h + gap) - gap, cols * (w + gap) - gap, *tiles[0].shape[2:])
    grid = np.zeros(shape, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    return grid
