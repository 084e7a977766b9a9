"""Run per-file work in worker processes with a time limit, so one hostile file cannot stall a batch.

A worker that runs past the limit, or dies (a crash in a parser's native code, a stack
overflow), is killed and replaced; the file gets an error and the batch goes on.
Results come back in submission order.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import signal
import threading
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
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
    """Yield function(*task) for each task, in order (or a Failed), using up to `workers` processes.

    A thread hands out tasks and collects results, so workers get their next task at once even
    while the caller is busy with a result; results are unpacked here, in the caller's thread.
    """
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    pool = [_Worker(context, function) for _ in range(max(1, min(workers, len(tasks))))]
    done: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
    stop = threading.Event()
    driver = threading.Thread(
        target=_drive, args=(pool, tasks, timeout, lambda: _Worker(context, function), done, stop), daemon=True
    )
    driver.start()
    results: dict[int, Any] = {}
    try:
        for emitted in range(len(tasks)):
            while emitted not in results:
                task, value = done.get()
                if task < 0:  # the driver failed
                    raise value
                results[task] = value
            value = results.pop(emitted)
            yield _unpack(value) if isinstance(value, bytes) else value
    finally:
        stop.set()
        driver.join()
        for worker in pool:
            graceful = worker.task is None and worker.process.is_alive()
            if graceful:
                try:
                    worker.connection.send(None)
                except OSError:
                    graceful = False
            worker.stop(grace=5.0 if graceful else 0.0)


def _unpack(payload: bytes) -> Any:
    try:
        ok, value = pickle.loads(payload)
    except Exception:  # a result that does not unpack is that file's failure
        return Failed("the reader's result could not be read")
    return value if ok else Failed(value)


def _drive(
    pool: list[_Worker],
    tasks: list[tuple[Any, ...]],
    timeout: float,
    new_worker: Callable[[], _Worker],
    done: queue.SimpleQueue[tuple[int, Any]],
    stop: threading.Event,
) -> None:
    """Keep every worker busy until all tasks are done (or `stop`); put (task, pickled result or
    Failed) into `done`, or (-1, exception) if this loop itself fails."""
    pending = list(range(len(tasks)))
    pending.reverse()
    finished = 0
    try:
        while finished < len(tasks) and not stop.is_set():
            _dispatch(pool, pending, tasks, timeout)
            busy = [w for w in pool if w.task is not None]
            if not busy:
                break
            left = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.connection for w in busy], timeout=min(left, 0.2))  # 0.2 s: notice `stop`
            for index, worker in enumerate(pool):
                if worker.task is None:
                    continue
                if worker.connection in ready:
                    try:
                        done.put((worker.task, worker.connection.recv_bytes()))
                        worker.task = None
                        finished += 1
                        continue
                    except (EOFError, OSError):
                        done.put((worker.task, Failed("the reader crashed on this file")))
                elif time.monotonic() >= worker.deadline:
                    done.put((worker.task, Failed(f"reading took longer than {timeout:g} s: stopped")))
                else:
                    continue
                finished += 1
                worker.task = None
                worker.stop()
                pool[index] = new_worker()
    except BaseException as exc:  # handed to the caller's thread
        done.put((-1, exc))
