"""Run per-file work in worker processes with a time limit, so one hostile file cannot stall a batch.

A worker that runs past the limit, or dies (a crash in a parser's native code, a stack
overflow), is killed and replaced; the file gets an error and the batch goes on.
Results come back in submission order.
"""

from __future__ import annotations

import multiprocessing
import pickle
import time
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess


class Failed:
    """The place of a result that could not be produced."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _serve(connection: Connection, function: Callable[..., Any]) -> None:
    while True:
        task = connection.recv()
        if task is None:
            return
        try:
            connection.send((True, function(*task)))
        except Exception as exc:  # reported to the parent as this file's failure
            connection.send((False, f"{type(exc).__name__} while reading"))


class _Worker:
    def __init__(self, context: Any, function: Callable[..., Any]) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(target=_serve, args=(child, function), daemon=True)
        self.process.start()
        child.close()
        self.task: int | None = None
        self.deadline = 0.0

    def stop(self, grace: float = 0.0) -> None:
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def _dispatch(pool: list[_Worker], pending: list[int], tasks: list[tuple[Any, ...]], timeout: float) -> None:
    for worker in pool:
        if worker.task is None and pending:
            worker.task = pending.pop()
            worker.deadline = time.monotonic() + timeout
            worker.connection.send(tasks[worker.task])


def run(function: Callable[..., Any], tasks: list[tuple[Any, ...]], workers: int, timeout: float) -> Iterator[Any]:
    """Yield function(*task) for each task, in order (or a Failed), using up to `workers` processes."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    pool = [_Worker(context, function) for _ in range(max(1, min(workers, len(tasks))))]
    results: dict[int, Any] = {}
    pending = list(range(len(tasks)))
    pending.reverse()
    emitted = 0
    try:
        while emitted < len(tasks):
            _dispatch(pool, pending, tasks, timeout)
            busy = [w for w in pool if w.task is not None]
            if busy:
                left = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                ready = wait([w.connection for w in busy], timeout=left)
            else:
                ready = []
            received: list[tuple[int, bytes]] = []
            for index, worker in enumerate(pool):
                if worker.task is None:
                    continue
                if worker.connection in ready:
                    try:
                        received.append((worker.task, worker.connection.recv_bytes()))
                        worker.task = None
                        continue
                    except (EOFError, OSError):
                        results[worker.task] = Failed("the reader crashed on this file")
                elif time.monotonic() >= worker.deadline:
                    results[worker.task] = Failed(f"reading took longer than {timeout:g} s: stopped")
                else:
                    continue
                worker.stop()
                pool[index] = _Worker(context, function)
            _dispatch(pool, pending, tasks, timeout)  # workers get their next file before results are unpacked
            for task, payload in received:
                try:
                    ok, value = pickle.loads(payload)
                except Exception:  # a result that does not unpack is that file's failure
                    ok, value = False, "the reader's result could not be read"
                results[task] = value if ok else Failed(value)
            while emitted in results:
                yield results.pop(emitted)
                emitted += 1
    finally:
        for worker in pool:
            graceful = worker.task is None and worker.process.is_alive()
            if graceful:
                try:
                    worker.connection.send(None)
                except OSError:
                    graceful = False
            worker.stop(grace=5.0 if graceful else 0.0)
