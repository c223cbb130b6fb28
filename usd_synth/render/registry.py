"""Renderer backends, found through the ``usd_synth.renderers`` entry points (like the motion readers).

A third-party package adds a backend by declaring, in its own metadata::

    [project.entry-points."usd_synth.renderers"]
    mybackend = "my_package.module:MyRenderer"

where ``MyRenderer()`` satisfies :class:`usd_synth.render.protocol.Renderer`. Nothing in the core changes.
"""

from __future__ import annotations

import functools
import logging
from importlib.metadata import entry_points

from usd_synth.errors import UsdSynthError
from usd_synth.render.protocol import Renderer

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "usd_synth.renderers"
DEFAULT_BACKEND = "pyrender"


@functools.cache
def _entry_points() -> dict:
    return {ep.name: ep for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)}


def backend_names() -> list[str]:
    """Names of the registered backends (sorted; loading none of them)."""
    return list(_entry_points())


@functools.cache
def _load(name: str) -> Renderer:
    return _entry_points()[name].load()()


def get_renderer(name: str = DEFAULT_BACKEND) -> Renderer:
    """The backend registered as ``name``; a UsdSynthError naming the known ones otherwise."""
    if name not in _entry_points():
        known = ", ".join(backend_names()) or "none"
        raise UsdSynthError(f"backend {name!r} is unknown; known backends: {known}", field="backend")
    try:
        return _load(name)
    except UsdSynthError:
        raise
    except Exception as exc:  # a broken plugin: one clear line, not a traceback
        log.debug("backend %s failed to load", name, exc_info=True)
        raise UsdSynthError(
            f"backend {name!r} failed to load ({type(exc).__name__}: {exc})", field="backend"
        ) from None


def describe_backends() -> dict[str, str]:
    """name -> one-line description for every backend that loads (a broken one says so)."""
    out = {}
    for name in backend_names():
        try:
            out[name] = getattr(get_renderer(name), "description", "")
        except UsdSynthError as exc:
            out[name] = f"(unavailable: {exc.message})"
    return out


def clear_cache() -> None:
    """Forget the scanned entry points and loaded backends (after installing a plugin at run time)."""
    _entry_points.cache_clear()
    _load.cache_clear()
