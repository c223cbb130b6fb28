"""A short, JSON-friendly description of a motion (what ``usd-synth motion info`` prints)."""

from __future__ import annotations

from typing import Any

import numpy as np

from usd_synth.motion.model import Motion
from usd_synth.skeleton import HEAD_TOP_ABOVE_HEAD, JOINT_INDEX


def summarize(motion: Motion) -> dict[str, Any]:
    """Frames, timing, label, size of the skeleton and where the motion goes."""
    pos = motion.joint_positions()
    rest = motion.rest_positions()
    head = JOINT_INDEX["head"]
    stature = rest[head, 2] + HEAD_TOP_ABOVE_HEAD * motion.offsets[0, 1]
    root = motion.translation
    path = np.linalg.norm(np.diff(root[:, :2], axis=0), axis=-1).sum() if motion.num_frames > 1 else 0.0
    return {
        "label": motion.label,
        "frames": motion.num_frames,
        "fps": motion.fps,
        "duration_s": round(motion.duration, 4),
        "joints": 24,
        "stature_m": round(float(stature), 4),
        "root_path_length_m": round(float(path), 4),
        "lowest_point_m": round(float(pos[..., 2].min()), 4),
        "bounds_min_m": [round(float(v), 4) for v in pos.min(axis=(0, 1))],
        "bounds_max_m": [round(float(v), 4) for v in pos.max(axis=(0, 1))],
        "source": motion.source,
    }
