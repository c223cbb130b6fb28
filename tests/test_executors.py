"""The executor interface: ordered results on threads and processes, errors reach the caller, one worker
runs serially, bad settings are refused."""

from __future__ import annotations

import math
import threading
import time

import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.executors import (
    EXECUTOR_KINDS,
    Executor,
    PoolExecutor,
    SerialExecutor,
    make_executor,
)


def _slow_square(x: int) -> int:
    """Later items finish first, so an executor that yielded in completion order would be caught."""
    time.sleep(0.02 * (5 - x % 5))
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is bad")
    return x


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_results_come_in_input_order(kind: str) -> None:
    with make_executor(3, kind) as ex:
        assert isinstance(ex, PoolExecutor) and isinstance(ex, Executor) and ex.workers == 3
        assert list(ex.map(_slow_square, range(10))) == [x * x for x in range(10)]
        assert ex.submit(_slow_square, 7).result() == 49


def test_threads_really_run_in_parallel() -> None:
    barrier = threading.Barrier(2, timeout=10)

    def meet(x: int) -> int:
        barrier.wait()  # deadlocks (and times out) unless two calls run at once
        return x

    with make_executor(2, "threads") as ex:
        assert list(ex.map(meet, [1, 2])) == [1, 2]


@pytest.mark.parametrize("kind", ["serial", "threads", "processes"])
def test_exceptions_reach_the_caller(kind: str) -> None:
    with make_executor(2, kind) as ex:
        with pytest.raises(ValueError, match="three is bad"):
            list(ex.map(_fail_on_three, range(6)))
        future = ex.submit(math.sqrt, -1.0)
        with pytest.raises(ValueError):
            future.result()


def test_exception_leaves_the_context_and_stops_the_pool() -> None:
    with pytest.raises(ValueError), make_executor(2, "threads") as ex:
        list(ex.map(_fail_on_three, range(6)))
    with pytest.raises(RuntimeError):  # shut down: no new work
        ex.submit(abs, -1)


@pytest.mark.parametrize("kind", ["serial", "threads", "processes"])
def test_one_worker_runs_serially_in_this_thread(kind: str) -> None:
    ex = make_executor(1, kind)
    assert isinstance(ex, SerialExecutor) and ex.workers == 1
    caller = threading.get_ident()
    assert list(ex.map(lambda x: (x, threading.get_ident()), [1, 2])) == [(1, caller), (2, caller)]
    assert ex.submit(lambda: threading.get_ident()).result() == caller
    ex.close()


def test_serial_kind_ignores_the_worker_count() -> None:
    with make_executor(8, "serial") as ex:
        assert isinstance(ex, SerialExecutor)
        assert list(ex.map(_slow_square, [3, 1])) == [9, 1]


@pytest.mark.parametrize("kind", ["ray", "thread", "", None])
def test_unknown_kind_is_refused(kind) -> None:
    with pytest.raises(UsdSynthError, match="executor must be one of"):
        make_executor(2, kind)
    assert "threads" in EXECUTOR_KINDS and "processes" in EXECUTOR_KINDS


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True, None])
def test_bad_worker_counts_are_refused(workers) -> None:
    with pytest.raises(UsdSynthError, match="workers must be"):
        make_executor(workers, "threads")
