"""The demo job: every built-in action to a validated motion USD, with a JSON summary.

Later stages of the flow (bodies, stages, rendering, datasets) extend this same entry point.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from usd_synth.fileio import atomic_path
from usd_synth.motion.library import ACTIONS, make_motion
from usd_synth.motion.summary import summarize
from usd_synth.usd.skel import write_motion
from usd_synth.usd.validate import errors, validate_file


def _plain(items: Iterable, n: int) -> Iterator:
    return iter(items)


def run_demo(
    out: str | Path, seed: int = 0, progress: Callable[[Iterable, int], Iterator] = _plain
) -> dict[str, Any]:
    """Write ``out/motions/<action>.usd`` for each built-in action and ``out/summary.json``."""
    out = Path(out)
    rows = []
    for name in progress(list(ACTIONS), len(ACTIONS)):
        m = make_motion(name, seed=seed)
        path = write_motion(m, out / "motions" / f"{name}.usd")
        s = summarize(m)
        rows.append(
            {
                "file": str(path.relative_to(out)),
                "label": name,
                "frames": m.num_frames,
                "fps": m.fps,
                "stature_m": s["stature_m"],
                "errors": len(errors(validate_file(path))),
            }
        )
    report = {"seed": seed, "motions": rows}
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    return report
