"""Warp initialisation and device choice, in one place."""

from __future__ import annotations

import functools

from usd_synth.errors import UsdSynthError


@functools.cache
def warp():
    """Import and initialise Warp once, quietly."""
    import warp as wp

    wp.config.quiet = True
    wp.init()
    return wp


def resolve_device(name: str | None = None) -> str:
    """Return a Warp device name: ``cpu``, ``cuda`` (when present) or the best one for ``None``/``auto``."""
    wp = warp()
    if name in (None, "auto"):
        return "cuda:0" if wp.get_cuda_device_count() > 0 else "cpu"
    if name == "cpu":
        return "cpu"
    if name.startswith("cuda"):
        if wp.get_cuda_device_count() == 0:
            raise UsdSynthError(
                f"--device {name}: no CUDA device is available on this machine; use --device cpu"
            )
        return "cuda:0" if name == "cuda" else name
    raise UsdSynthError(f"--device {name}: unknown device (use cpu, cuda or auto)")
