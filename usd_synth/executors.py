"""One interface for running independent jobs in parallel, and the local implementations.

Why one place: fractal sets, bakes, and (later) the dataset builder all fan work out over workers. Each
caller used to write its own pool; now they ask for an :class:`Executor` by kind and worker count, and a
Ray executor can implement the same three methods. Determinism is the caller's side of the contract: a job
must depend only on its own inputs (see :mod:`usd_synth.randomize.seeding`), and :meth:`Executor.map`
returns results in input order, so output never depends on which worker finished first.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar, runtime_checkable

from usd_synth.errors import UsdSynthError

T = TypeVar("T")
R = TypeVar("R")

#: Executor kinds the local factory knows; a Ray executor adds ``"ray"`` when its extra is installed.
EXECUTOR_KINDS: tuple[str, ...] = ("serial", "threads", "processes")


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn`` over items, in parallel where it can."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Results of ``fn`` over ``items``, in input order, yielded as soon as each next one is ready."""
        ...

    def submit(self, fn: Callable[..., R], *args, **kwargs) -> concurrent.futures.Future[R]:
        """Run one call; its future."""
        ...

    def close(self) -> None:
        """Stop the workers, cancelling work not yet started."""
        ...


class SerialExecutor:
    """Runs everything in the calling thread: ``workers == 1``, and the reference for the others."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return map(fn, items)

    def submit(self, fn: Callable[..., R], *args, **kwargs) -> concurrent.futures.Future[R]:
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PoolExecutor:
    """A thread or process pool behind the :class:`Executor` interface.

    Threads suit work that releases the GIL (Warp launches, large numpy operations, the video encoder) and
    start instantly; processes suit pure-Python work and pay an import per worker (about a second with
    scipy and Warp).
    """

    def __init__(self, workers: int, kind: str = "threads", name: str = "usd-synth") -> None:
        self.workers = int(workers)
        if kind == "threads":
            self._pool: concurrent.futures.Executor = concurrent.futures.ThreadPoolExecutor(
                self.workers, thread_name_prefix=name
            )
        else:
            import multiprocessing

            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return self._pool.map(fn, items)

    def submit(self, fn: Callable[..., R], *args, **kwargs) -> concurrent.futures.Future[R]:
        return self._pool.submit(fn, *args, **kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PoolExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_workers(workers: object) -> int:
    """``workers`` as a whole number of at least 1 (booleans refused), or a one-line error naming it."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsdSynthError(f"workers must be a whole number of at least 1, got {workers!r}", field="workers")
    return workers


def make_executor(
    workers: int = 1, kind: str = "threads", name: str = "usd-synth"
) -> SerialExecutor | PoolExecutor:
    """An executor of ``kind`` with ``workers`` workers; one worker always runs serially in this thread.

    Use it as a context manager so the workers stop even when a job raises.
    """
    if kind not in EXECUTOR_KINDS:
        raise UsdSynthError(f"executor must be one of {', '.join(EXECUTOR_KINDS)}, got {kind!r}")
    check_workers(workers)
    if workers == 1 or kind == "serial":
        return SerialExecutor()
    return PoolExecutor(workers, kind, name)
