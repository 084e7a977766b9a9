"""Run per-file work in worker processes with a time limit, so one hostile file cannot stall a batch.

A worker that runs past the limit, or dies (a crash in a parser's native code, a stack
overflow), is killed and replaced; the file gets an error and the batch goes on.
`run` returns results in submission order; `stream` passes on what a task yields as it comes
(the time limit then counts only the time spent waiting for the worker).
Workers end with their parent, even one stuck in native code: on Linux the kernel sends them
SIGKILL when it dies (PR_SET_PDEATHSIG); everywhere a watchdog thread ends them when it is gone.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from itertools import islice
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

BATCH = 512  # items a streaming worker sends at a time


class Failed:
    """The place of a result that could not be produced."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def too_long(timeout: float) -> Failed:
    return Failed(f"reading took longer than {timeout:g} s: stopped")


CRASHED = "the reader crashed on this file"


def _die_with_parent() -> None:
    """End this process when its parent ends (see the module's docstring)."""
    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if parent is None:
        return
    if parent.pid != os.getppid():  # it ended before the above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent.sentinel,), daemon=True).start()


def _watch(sentinel: int) -> None:
    wait([sentinel])
    os._exit(1)


def _serve(connection: Connection, function: Callable[..., Any], streaming: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
    for name in ("SIGTERM", "SIGHUP"):  # the parent's handlers are not ours
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _die_with_parent()
    while True:
        task = connection.recv()
        if task is None:
            return
        if streaming:
            _stream_one(connection, function, task)
            continue
        try:
            connection.send((True, function(*task)))
        except Exception as exc:  # reported to the parent as this file's failure
            connection.send((False, f"{type(exc).__name__} while reading"))


def _stream_one(connection: Connection, function: Callable[..., Any], task: tuple[Any, ...]) -> None:
    try:
        items = iter(function(*task))
        while batch := list(islice(items, BATCH)):
            connection.send(("more", batch))
    except Exception as exc:  # reported to the parent as this file's failure
        connection.send(("failed", f"{type(exc).__name__} while reading"))
        return
    connection.send(("done", None))


def _context() -> Any:
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


class _Worker:
    def __init__(self, context: Any, function: Callable[..., Any], streaming: bool = False) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(target=_serve, args=(child, function, streaming), daemon=True)
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

    def finish(self) -> None:
        """Ask an idle worker to end, else end it."""
        graceful = self.task is None and self.process.is_alive()
        if graceful:
            try:
                self.connection.send(None)
            except OSError:
                graceful = False
        self.stop(grace=5.0 if graceful else 0.0)


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
    if not tasks:
        return
    context = _context()
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
            worker.finish()


def stream(function: Callable[..., Any], tasks: list[tuple[Any, ...]], timeout: float) -> Iterator[Any]:
    """For each task in turn, yield what function(*task) yields, as a worker produces it, then
    `None` when the task is done (or a Failed: a task stopped at its time limit or by a crash
    keeps what it yielded before). One worker; `timeout` bounds the time spent waiting for it."""
    context = _context()
    worker: _Worker | None = None
    try:
        for task in tasks:
            if worker is None:
                worker = _Worker(context, function, streaming=True)
            worker.connection.send(task)
            worker.task, waited = 0, 0.0
            while True:
                started = time.monotonic()
                ready = worker.connection.poll(max(0.0, timeout - waited))
                waited += time.monotonic() - started
                failure: Failed | None = None
                if not ready:
                    failure = too_long(timeout)
                else:
                    try:
                        kind, payload = worker.connection.recv()
                    except (EOFError, OSError, pickle.UnpicklingError):
                        failure = Failed(CRASHED)
                    else:
                        if kind == "more":
                            yield from payload
                            continue
                        worker.task = None
                        yield None if kind == "done" else Failed(payload)
                        break
                worker.stop()
                worker = None
                yield failure
                break
    finally:
        if worker is not None:
            worker.finish()


def run_one(function: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> Any:
    """function(*args) in a guarded worker (or a Failed). Where this process may not have child
    processes of its own (a daemonic one, as Dask workers are by default), in a fresh interpreter."""
    if not multiprocessing.current_process().daemon:
        return next(run(function, [args], 1, timeout))
    payload = pickle.dumps((function, args))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "analyzer.run.pool"],
            input=payload,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed it
        return too_long(timeout)
    return _unpack(done.stdout) if done.returncode == 0 else Failed(CRASHED)


def _isolated() -> None:
    """The fresh interpreter of `run_one`: a pickled (function, args) in, its result out."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: end with the parent
    function, args = pickle.loads(sys.stdin.buffer.read())
    try:
        result: tuple[bool, Any] = (True, function(*args))
    except Exception as exc:
        result = (False, f"{type(exc).__name__} while reading")
    sys.stdout.buffer.write(pickle.dumps(result))


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
                        done.put((worker.task, Failed(CRASHED)))
                elif time.monotonic() >= worker.deadline:
                    done.put((worker.task, too_long(timeout)))
                else:
                    continue
                finished += 1
                worker.task = None
                worker.stop()
                pool[index] = new_worker()
    except BaseException as exc:  # handed to the caller's thread
        done.put((-1, exc))


if __name__ == "__main__":
    _isolated()
