"""usd-synth's own motion files (and any UsdSkel animation of an SMPL-24 skeleton).

Frames: the file already follows usd-synth's conventions (Z up, metres, time codes = frames), so the
motion comes back as it was written, to float32 precision.
"""

from __future__ import annotations

from pathlib import Path

from usd_synth.motion.model import Motion
from usd_synth.usd.stage import USD_SUFFIXES


class UsdMotionReader:
    """Animated SMPL-24 UsdSkel files (``.usd``, ``.usda``, ``.usdc``)."""

    name = "usd"
    retargets = False
    description = "usd-synth motion USD (SMPL-24 UsdSkel animation), .usd/.usda/.usdc"

    def sniff(self, path: Path) -> bool:
        if not path.is_file() or path.suffix.lower() not in USD_SUFFIXES:
            return False
        with open(path, "rb") as f:
            head = f.read(8)
        return head.startswith(b"#usda") or head.startswith(b"PXR-USDC")

    def read(self, path: Path, fps: float | None = None, refine: bool = False) -> Motion:
        from usd_synth.usd.skel import read_motion_usd

        motion = read_motion_usd(path)
        if fps is not None:
            motion.fps = float(fps)  # re-time: the same frames played at another rate
        return motion
