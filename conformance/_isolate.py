"""Run test cases in worker processes so that a crash or a hang costs one case, not the run.

Each worker is a fresh ``spawn``ed interpreter that imports the case runner once and then takes
one case at a time over a pipe. The parent waits on all pipes: a case over its time limit gets
its worker killed (status ``timeout``), a worker that dies mid-case gives ``crash``; either way a
new worker takes its place. Workers are recycled after ``max_cases`` cases to bound memory.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

# one thread per worker: the workers are the parallelism
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "MXNET_CPU_WORKER_NTHREADS": "1",
               "MXNET_OMP_MAX_THREADS": "1", "MXNET_SUBGRAPH_VERBOSE": "0",
               "MXNET_ENGINE_TYPE": "NaiveEngine"}


def _worker_main(conn: Connection, runner: str) -> None:
    os.environ.update(_WORKER_ENV)
    import warnings
    warnings.filterwarnings("ignore")
    module, name = runner.split(":")
    fn = getattr(importlib.import_module(module), name)
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(("done", fn(task)))


class _Worker:
    def __init__(self, ctx: Any, runner: str) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, runner), daemon=True)
        self.proc.start()
        child.close()
        self.task: Any = None
        self.started = 0.0
        self.done = 0
        self.ready = False

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def run_isolated(tasks: Iterable[Any], runner: str, *, jobs: int, timeout: float,
                 on_lost: Callable[[Any, str, float], Any],
                 max_cases: int = 150) -> Iterator[Any]:
    """Yield ``runner(task)`` for every task (in completion order).

    ``runner`` is ``"module:function"``, imported in each worker. A task whose worker hangs or
    dies yields ``on_lost(task, "timeout" | "crash", seconds)`` instead.
    """
    os.environ.update({k: os.environ.get(k, v) for k, v in _WORKER_ENV.items()})
    ctx = mp.get_context("spawn")
    pending = list(tasks)[::-1]
    workers = [_Worker(ctx, runner) for _ in range(max(1, min(jobs, len(pending))))]
    startup = 120.0
    born = {id(w): time.monotonic() for w in workers}
    try:
        while pending or any(w.task is not None for w in workers):
            for i, w in enumerate(workers):
                if w.ready and w.task is None and pending:
                    if w.done >= max_cases:
                        w.conn.send(None)
                        w.kill()
                        workers[i] = w = _Worker(ctx, runner)
                        born[id(w)] = time.monotonic()
                        continue
                    w.task = pending.pop()
                    w.started = time.monotonic()
                    w.conn.send(w.task)
            busy = [w for w in workers if w.task is not None or not w.ready]
            if not busy:
                break
            now = time.monotonic()
            waits = [w.started + timeout - now for w in busy if w.task is not None]
            waits += [born[id(w)] + startup - now for w in busy if not w.ready]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                         timeout=max(0.05, min(waits)))
            for i, w in enumerate(list(workers)):
                lost = None
                if w.conn in ready:
                    try:
                        kind, payload = w.conn.recv()
                    except (EOFError, OSError):
                        lost = "crash"
                    else:
                        if kind == "ready":
                            w.ready = True
                        else:
                            task, w.task = w.task, None
                            w.done += 1
                            yield payload
                            continue
                elif w.proc.sentinel in ready and not w.proc.is_alive():
                    lost = "crash"
                elif w.task is not None and time.monotonic() - w.started > timeout:
                    lost = "timeout"
                elif not w.ready and time.monotonic() - born[id(w)] > startup:
                    raise RuntimeError("a worker process failed to start")
                if lost is None:
                    continue
                task, seconds = w.task, time.monotonic() - w.started
                w.kill()
                workers[i] = nw = _Worker(ctx, runner)
                born[id(nw)] = time.monotonic()
                if task is not None:
                    yield on_lost(task, lost, seconds)
                elif lost == "crash":
                    raise RuntimeError("a worker process died while starting")
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            w.kill()
