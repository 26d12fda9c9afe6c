"""Dynamic micro-batching: requests that arrive together share one model call.

Like Triton's dynamic batcher: a request waits at most ``max_wait_s`` for others to join it
while a run slot is free (none when it is 0: whatever is queued when a slot frees up goes
together), a batch holds at most ``max_batch`` items (a larger request runs alone), and at
most ``max_concurrency`` batches run at once, each in a worker thread. A batch that fails is
retried request by request, so one bad request never fails the others; a request cancelled
while it waits is never run.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

X = TypeVar("X")
Y = TypeVar("Y")
Z = TypeVar("Z")


@dataclass(eq=False, slots=True)
class _Request(Generic[X, Y]):
    items: Sequence[X]
    future: asyncio.Future[list[Y]]
    arrived: float


@dataclass(slots=True)
class _LoopState(Generic[X, Y]):
    """What one event loop's batcher holds: asyncio objects belong to their loop."""

    slots: asyncio.Semaphore
    pending: deque[_Request[X, Y]] = field(default_factory=deque)
    queued_items: int = 0
    more: asyncio.Event = field(default_factory=asyncio.Event)
    dispatcher: asyncio.Task[None] | None = None
    running: set[asyncio.Task[None]] = field(default_factory=set)


class MicroBatcher(Generic[X, Y]):
    """Runs ``run(items) -> results`` (one result per item, in order) in worker threads on
    batches formed from concurrent ``submit`` calls."""

    def __init__(
        self,
        run: Callable[[list[X]], list[Y]],
        *,
        max_batch: int = 8,
        max_wait_s: float = 0.0,
        max_concurrency: int = 1,
    ) -> None:
        if max_batch < 1 or max_concurrency < 1:
            raise ValueError("max_batch and max_concurrency must be at least 1")
        if max_wait_s < 0:
            raise ValueError("max_wait_s must not be negative")
        self._run = run
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.max_concurrency = max_concurrency
        self._threads = anyio.CapacityLimiter(max_concurrency)
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState[X, Y]] = (
            weakref.WeakKeyDictionary()
        )

    async def call(self, run: Callable[[], Z]) -> Z:
        """Run `run` alone in a worker thread, within the same limit on concurrent runs."""
        return await anyio.to_thread.run_sync(run, limiter=self._threads)

    async def submit(self, items: Sequence[X]) -> list[Y]:
        """The results for `items`, computed together with whatever else is queued."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState(asyncio.Semaphore(self.max_concurrency))
        request: _Request[X, Y] = _Request(items, loop.create_future(), loop.time())
        state.pending.append(request)
        state.queued_items += len(items)
        if state.queued_items >= self.max_batch:
            state.more.set()
        if state.dispatcher is None:
            state.dispatcher = loop.create_task(self._dispatch(state))
        try:
            return await request.future
        except asyncio.CancelledError:
            if request in state.pending:  # not taken yet: it will never run
                state.pending.remove(request)
                state.queued_items -= len(items)
            raise

    async def _dispatch(self, state: _LoopState[X, Y]) -> None:
        loop = asyncio.get_running_loop()
        try:
            while state.pending:
                await state.slots.acquire()
                try:
                    await self._gather(state, loop)
                    batch = self._take(state)
                except BaseException:
                    state.slots.release()
                    raise
                if not batch:  # everything queued was cancelled meanwhile
                    state.slots.release()
                    continue
                task = loop.create_task(self._execute(state, batch))
                state.running.add(task)
                task.add_done_callback(state.running.discard)
        finally:
            state.dispatcher = None

    async def _gather(self, state: _LoopState[X, Y], loop: asyncio.AbstractEventLoop) -> None:
        """With a slot free, wait until the batch is full or its oldest request's wait is up."""
        while state.pending and state.queued_items < self.max_batch:
            remaining = state.pending[0].arrived + self.max_wait_s - loop.time()
            if remaining <= 0:
                return
            state.more.clear()
            try:
                await asyncio.wait_for(state.more.wait(), remaining)
            except TimeoutError:
                return

    def _take(self, state: _LoopState[X, Y]) -> list[_Request[X, Y]]:
        batch: list[_Request[X, Y]] = []
        size = 0
        while state.pending and (not batch or size + len(state.pending[0].items) <= self.max_batch):
            request = state.pending.popleft()
            batch.append(request)
            size += len(request.items)
        state.queued_items -= size
        return batch

    async def _execute(self, state: _LoopState[X, Y], batch: list[_Request[X, Y]]) -> None:
        try:
            items = [item for request in batch for item in request.items]
            try:
                results = await self._call(items)
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0], error=error)
                    return
                for request in batch:  # find the request that failed; the others succeed
                    if request.future.done():
                        continue
                    try:
                        _settle(request, await self._call(list(request.items)))
                    except Exception as alone:
                        _settle(request, error=alone)
                return
            start = 0
            for request in batch:
                _settle(request, results[start : start + len(request.items)])
                start += len(request.items)
        finally:
            state.slots.release()

    async def _call(self, items: list[X]) -> list[Y]:
        results = await anyio.to_thread.run_sync(self._run, items, limiter=self._threads)
        if len(results) != len(items):
            raise RuntimeError(f"{len(results)} results for {len(items)} items")
        return results


def _settle(
    request: _Request[X, Y], results: list[Y] | None = None, error: Exception | None = None
) -> None:
    if request.future.done():  # the caller was cancelled: nobody waits for it
        return
    if error is not None:
        request.future.set_exception(error)
    else:
        request.future.set_result(results or [])
