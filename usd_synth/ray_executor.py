"""A Ray executor behind the :class:`usd_synth.executors.Executor` interface (extra ``usd-synth[ray]``).

Why Ray: the same jobs that run in local processes run across a cluster with no change; a job is a plain
function of its inputs, so the results are the same bytes either way. Without an address a local Ray
instance is started for the run (sized to ``workers`` CPUs, small object store, no dashboard) and shut down
at the end; with one (``ray://host:10001`` or ``auto``) the run joins that cluster and leaves it running.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from usd_synth.errors import UsdSynthError

T = TypeVar("T")
R = TypeVar("R")

#: Object store of a local instance: jobs return small records, never arrays.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UsdSynthError(
            "the ray executor needs Ray: pip install 'usd-synth[ray]'", field="executor"
        ) from None
    return ray


class RayExecutor:
    """Runs each call as a Ray task of one CPU; futures are :class:`concurrent.futures.Future` s."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        from usd_synth.executors import check_workers

        self.workers = check_workers(workers)
        ray = _import_ray()
        self._ray = ray
        self._started = False
        self._remotes: dict[Callable, Any] = {}
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}  # fmt: skip
            try:
                if address:
                    ray.init(address=address, **options)
                else:
                    ray.init(num_cpus=workers, object_store_memory=LOCAL_OBJECT_STORE_BYTES, **options)
            except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; one line names the cause
                where = f"at {address}" if address else "locally"
                cause = " ".join(str(exc).split())[:300]
                raise UsdSynthError(f"could not start or reach Ray {where}: {cause}",
                                    field="address" if address else "executor") from None  # fmt: skip
            self._started = True

    def submit(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> concurrent.futures.Future[R]:
        remote = self._remotes.get(fn)
        if remote is None:
            remote = self._remotes[fn] = self._ray.remote(num_cpus=1, max_retries=0)(fn)
        return remote.remote(*args, **kwargs).future()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        futures = [self.submit(fn, item) for item in items]
        for f in futures:
            yield f.result()

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
