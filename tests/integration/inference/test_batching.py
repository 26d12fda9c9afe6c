"""MicroBatcher: shared runs, bounded batches and waits, isolated errors, cancellation."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from adapters.inference.batching import MicroBatcher

pytestmark = pytest.mark.integration


class Recorder:
    """run(items): doubles each item, remembers every call, fails on items < 0."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[list[int]] = []
        self.delay = delay
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, items: list[int]) -> list[int]:
        with self._lock:
            self.calls.append(list(items))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.delay)
            if any(item < 0 for item in items):
                raise ValueError("negative item")
            return [2 * item for item in items]
        finally:
            with self._lock:
                self.running -= 1


async def test_each_caller_gets_its_own_results() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=4, max_wait_s=0.005, max_concurrency=2)
    requests = [
        items for i in range(5) for items in ([i], [10 + i, 20 + i], [], [30 + i, 40 + i, 50 + i])
    ]
    results = await asyncio.gather(*(batcher.submit(items) for items in requests))
    expected = [[2 * x for x in items] for items in requests]
    assert results == expected


async def test_requests_arriving_together_share_one_run() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.05, max_concurrency=1)
    results = await asyncio.gather(*(batcher.submit([i]) for i in range(5)))
    assert results == [[0], [2], [4], [6], [8]]
    assert run.calls == [[0, 1, 2, 3, 4]]


async def test_batches_are_bounded_and_a_larger_request_runs_alone() -> None:
    run = Recorder(delay=0.01)
    batcher = MicroBatcher(run, max_batch=4, max_wait_s=0.01, max_concurrency=1)
    await asyncio.gather(*(batcher.submit([i]) for i in range(10)), batcher.submit(list(range(6))))
    assert max(len(call) for call in run.calls if call != list(range(6))) <= 4
    assert list(range(6)) in run.calls  # over max_batch: one run of its own, not split


async def test_concurrent_runs_are_bounded() -> None:
    run = Recorder(delay=0.02)
    batcher = MicroBatcher(run, max_batch=1, max_concurrency=2)
    await asyncio.gather(*(batcher.submit([i]) for i in range(8)))
    assert run.most_at_once == 2
    assert len(run.calls) == 8


async def test_a_lone_request_waits_at_most_max_wait() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.05, max_concurrency=1)
    start = time.perf_counter()
    assert await batcher.submit([1]) == [2]
    elapsed = time.perf_counter() - start
    assert 0.04 <= elapsed < 0.5


async def test_a_full_batch_goes_without_waiting() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=2, max_wait_s=30.0, max_concurrency=1)
    results = await asyncio.wait_for(asyncio.gather(batcher.submit([1]), batcher.submit([2])), 5)
    assert results == [[2], [4]]


async def test_no_wait_when_max_wait_is_zero() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.0, max_concurrency=1)
    start = time.perf_counter()
    await batcher.submit([1])
    assert time.perf_counter() - start < 0.5


async def test_a_failing_request_does_not_fail_the_others_in_its_batch() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.05, max_concurrency=1)
    results = await asyncio.gather(
        batcher.submit([1]), batcher.submit([-1]), batcher.submit([3, 4]), return_exceptions=True
    )
    assert results[0] == [2]
    assert isinstance(results[1], ValueError)
    assert results[2] == [6, 8]
    assert run.calls[0] == [1, -1, 3, 4]  # tried together first, then one by one


async def test_a_cancelled_waiting_request_is_never_run() -> None:
    gate = threading.Event()
    run = Recorder()

    def blocking(items: list[int]) -> list[int]:
        gate.wait(5)
        return run(items)

    batcher = MicroBatcher(blocking, max_batch=8, max_concurrency=1)
    first = asyncio.create_task(batcher.submit([1]))
    await asyncio.sleep(0.05)  # the first request holds the only run slot
    second = asyncio.create_task(batcher.submit([2]))
    await asyncio.sleep(0.01)
    second.cancel()
    third = asyncio.create_task(batcher.submit([3]))
    await asyncio.sleep(0.01)
    gate.set()
    assert await first == [2]
    assert await third == [6]
    with pytest.raises(asyncio.CancelledError):
        await second
    assert run.calls == [[1], [3]]


async def test_a_caller_cancelled_mid_run_does_not_disturb_the_others() -> None:
    run = Recorder(delay=0.05)
    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.01, max_concurrency=1)
    leaving = asyncio.create_task(batcher.submit([1]))
    staying = asyncio.create_task(batcher.submit([2]))
    await asyncio.sleep(0.03)  # both are in the running batch
    leaving.cancel()
    assert await staying == [4]
    assert run.calls == [[1, 2]]
    assert await batcher.submit([5]) == [10]  # the slot was given back


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MicroBatcher(Recorder(), max_batch=0)
    with pytest.raises(ValueError, match="at least 1"):
        MicroBatcher(Recorder(), max_concurrency=0)
    with pytest.raises(ValueError, match="negative"):
        MicroBatcher(Recorder(), max_wait_s=-1)
