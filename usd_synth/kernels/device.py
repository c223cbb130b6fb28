"""Warp initialisation and device choice, in one place."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator

from usd_synth.errors import UsdSynthError


def _has_cuda_driver() -> bool:
    import ctypes

    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for native code, then restore it."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@functools.cache
def warp():
    """Import and initialise Warp once, quietly."""
    import warp as wp

    # Keep Warp's start-up banner and module-load lines off stdout (CLI output stays clean and pipeable).
    if hasattr(wp.config, "log_level") and hasattr(wp, "LOG_WARNING"):
        wp.config.log_level = max(wp.config.log_level, wp.LOG_WARNING)
    else:  # older Warp
        wp.config.quiet = True
    if _has_cuda_driver():
        wp.init()
    else:
        # On CPU-only machines Warp's native code warns on stderr that it found no CUDA driver, on every
        # run; that is expected here, so keep it out of the CLI's one-line error channel.
        with _stderr_silenced():
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
