"""Warp initialisation, device choice, and the one way usd-synth builds its Warp kernels.

Conventions shared by :mod:`~usd_synth.kernels.blend`, :mod:`~usd_synth.kernels.skinning` and
:mod:`~usd_synth.kernels.fractal`:

* **Lazy Warp.** Importing a kernel module does not import Warp (about half a second): the numpy references
  are used without it (``usd_synth.motion.align`` imports ``slerp_np``), and the CLI starts fast. Warp is
  imported and initialised, quietly, by :func:`warp` on first use.
* **One specialisation pattern.** Every kernel is made by a *builder*, a function decorated with
  :func:`kernel_family` that defines the kernel inside it, closes over its arguments and folds them in
  with ``wp.static`` (a flag turns a code path on or off at compile time, a constant becomes a literal)::

      @kernel_family
      def lbs_kernel(with_normals: bool):
          wp = warp()

          @wp.kernel(**KERNEL_OPTIONS)
          def lbs(...):
              ...
              if wp.static(with_normals):
                  ...

          return lbs

      wp.launch(lbs_kernel(True, device=device), dim=..., inputs=[...], device=device)

  ``lbs_kernel(*key, device=...)`` builds the kernel once per key and loads its module once per device,
  both under one process-wide lock (threads may ask for kernels at the same time, and Warp's module
  loading is not meant to run twice at once); afterwards it is a dictionary lookup, cheap enough for hot
  loops. :data:`KERNEL_OPTIONS` gives every specialisation a Warp module of its own (compiled, or loaded
  from Warp's kernel cache, the first time it is needed) with the backward pass off: nothing
  differentiates through these kernels, and forward-only modules compile about twice as fast.
* **Explicit devices.** Drivers take a device name, resolve it once with :func:`resolve_device`, and pass
  it to every allocation and launch (``device=``). There is no ``wp.ScopedDevice``: the scoped default
  device is process-wide state, and workers launch from several threads at once.
* **References beside kernels.** Each kernel sits next to the numpy function it must agree with, and so
  do ``wp.func`` helpers that kernels share (built once by a ``functools.cache``-d function, which only
  kernel builders call, so under the lock). The tests run the kernels on every device the ``device``
  fixture offers (CPU, and CUDA when present).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from usd_synth.errors import UsdSynthError

#: Options of every kernel: a module of its own per specialisation, forward code only.
KERNEL_OPTIONS: dict[str, Any] = {"module": "unique", "module_options": {"enable_backward": False}}


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
                f"device {name}: no CUDA device is available on this machine; use cpu", field="device"
            )
        return "cuda:0" if name == "cuda" else name
    raise UsdSynthError(f"device {name}: unknown device (use cpu, cuda or auto)", field="device")


#: Guards building kernels and loading their modules (see the module docstring).
_BUILD_LOCK = threading.Lock()


class KernelFamily:
    """Kernels made by one builder, one per key, loaded per device; see :func:`kernel_family`."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self._build = build
        self._built: dict[tuple, Any] = {}
        self._loaded: dict[tuple, Any] = {}  # (key, device) -> kernel whose module is loaded there
        functools.update_wrapper(self, build)

    def __call__(self, *key: Any, device: str) -> Any:
        """The kernel for ``key``, its module loaded on ``device`` (a name from :func:`resolve_device`)."""
        kernel = self._loaded.get((key, device))  # the fast path: no lock once loaded
        if kernel is None:
            kernel = self._load(key, device)
        return kernel

    def _load(self, key: tuple, device: str) -> Any:
        wp = warp()
        with _BUILD_LOCK:
            kernel = self._loaded.get((key, device))
            if kernel is None:
                kernel = self._built.get(key)
                if kernel is None:
                    kernel = self._built[key] = self._build(*key)
                wp.load_module(kernel.module, device=device)
                self._loaded[(key, device)] = kernel
        return kernel


def kernel_family(build: Callable[..., Any]) -> KernelFamily:
    """Decorator for kernel builders: ``build(*key)`` returns a kernel specialised on ``key``; the result,
    called as ``family(*key, device=name)``, builds each kernel once and loads it once per device, under
    one lock. Keys must be hashable (ints, bools, strings); see the module docstring for the pattern."""
    return KernelFamily(build)
