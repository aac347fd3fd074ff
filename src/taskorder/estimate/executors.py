"""Executors: where probe runs execute. The coordinator stays in the calling process.

Every executor has one method that matters, ``submit(function, *args)``, which runs
``function(runner, *args)`` somewhere and returns a :class:`concurrent.futures.Future`;
the coordinator waits on those futures and writes every result itself.

``"inprocess"`` (default)
    Runs each call at once in the calling process. No parallelism, no overhead.
``"process"``
    A local pool of ``workers`` processes (``spawn`` start method); the runner is
    sent to each worker once.
``"ray"``
    Ray tasks, one CPU each, on a running cluster (``address``) or a local
    instance started for the campaign with ``workers`` CPUs. The runner is put in
    the object store once. State files are passed by path, so on a multi-machine
    cluster the output folder must be on a shared file system.

Results never depend on the executor: every seed comes from the probe key
(see :mod:`taskorder.estimate.plan`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from taskorder.exceptions import InvalidParameterError, require

__all__ = [
    "EXECUTORS",
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "make_executor",
]

#: Executor kinds accepted by :func:`make_executor`.
EXECUTORS = ("inprocess", "process", "ray")

_WORKER_RUNNER: Any = None


class Executor:
    """Base class: runs ``function(runner, *args)`` calls and returns futures.

    Subclasses implement :meth:`start`, :meth:`submit` and :meth:`close`; use an
    executor as a context manager (``with executor.started(runner): ...``).
    """

    #: Calls the coordinator keeps in flight at once.
    max_in_flight: int = 1
    name: str = "base"

    def start(self, runner: Any) -> None:
        raise NotImplementedError

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (default: nothing to release)."""

    def abort(self) -> None:
        """Stop at once, abandoning calls in flight (after an interrupt); default: ``close``."""
        self.close()

    def started(self, runner: Any) -> _Started:
        """Context manager: ``start(runner)`` on entry; on exit ``close()``, or ``abort()``
        when an exception (e.g. ``KeyboardInterrupt``) is leaving the block."""
        return _Started(self, runner)


class _Started:
    def __init__(self, executor: Executor, runner: Any) -> None:
        self.executor, self.runner = executor, runner

    def __enter__(self) -> Executor:
        self.executor.start(self.runner)
        return self.executor

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.executor.close()
        else:
            self.executor.abort()


class InProcessExecutor(Executor):
    """Run every call immediately in this process (returns completed futures).

    Examples
    --------
    >>> executor = InProcessExecutor()
    >>> with executor.started(runner=10):
    ...     executor.submit(lambda runner, x: runner + x, 5).result()
    15
    """

    name = "inprocess"

    def __init__(self) -> None:
        self.max_in_flight = 1

    def start(self, runner: Any) -> None:
        self.runner_ = runner

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(function(self.runner_, *args))
        except BaseException as error:
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            future.set_exception(error)
        return future


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)  # the coordinator died (e.g. SIGKILL): do not linger as an orphan


def _init_worker(runner: Any, parent: int) -> None:
    import threading

    global _WORKER_RUNNER
    _WORKER_RUNNER = runner
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _call_in_worker(function: Callable[..., Any], *args: Any) -> Any:
    return function(_WORKER_RUNNER, *args)


class ProcessExecutor(Executor):
    """A local pool of ``workers`` processes.

    Workers exit on their own when the coordinating process dies (even by SIGKILL).
    Scripts that use it must guard their entry point with
    ``if __name__ == "__main__":`` (the ``spawn`` start method re-imports the script).

    Parameters
    ----------
    workers : int
        Number of processes (at least 1).
    """

    name = "process"

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def start(self, runner: Any) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.max_in_flight = self.workers
        self.pool_ = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(runner, os.getpid()),
        )

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        return self.pool_.submit(_call_in_worker, function, *args)

    def close(self) -> None:
        pool = getattr(self, "pool_", None)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Terminate the workers (probes in flight are abandoned; a rerun redoes them)."""
        pool = getattr(self, "pool_", None)
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _ray_call(runner: Any, function: Callable[..., Any], *args: Any) -> Any:
    return function(runner, *args)


class RayExecutor(Executor):
    """Ray tasks (one CPU each) on a cluster or on a local instance.

    Parameters
    ----------
    workers : int, optional
        Calls kept in flight. For a local instance started here, also its CPU count
        (default: all CPUs). For a cluster, default: the cluster's CPU count.
    address : str, optional
        Address of a running cluster (``"auto"``, ``"ray://host:10001"``, ...).
        When Ray is already initialised in this process, that instance is used and
        ``address`` is ignored. Otherwise, without an address a local instance is
        started and shut down when the campaign ends.
    """

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self.workers = workers
        self.address = address

    def start(self, runner: Any) -> None:
        require("ray", "ray")
        import ray

        self.owns_ray_ = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address is not None:
                options["address"] = self.address
            else:
                options["num_cpus"] = self.workers or os.cpu_count() or 1
            ray.init(**options)
            self.owns_ray_ = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.max_in_flight = max(1, self.workers or cpus)
        self.runner_ref_ = ray.put(runner)
        self.remote_ = ray.remote(num_cpus=1, max_retries=0)(_ray_call)

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        return self.remote_.remote(self.runner_ref_, function, *args).future()

    def close(self) -> None:
        import ray

        if getattr(self, "owns_ray_", False) and ray.is_initialized():
            ray.shutdown()


def make_executor(
    kind: str = "inprocess", *, workers: int | None = None, address: str | None = None
) -> Executor:
    """Build an executor by name.

    Parameters
    ----------
    kind : {"inprocess", "process", "ray"}
    workers : int, optional
        Processes (``"process"``, default: the CPU count) or Ray CPUs and calls in
        flight (``"ray"``, default: the instance's CPUs). Ignored by ``"inprocess"``.
    address : str, optional
        Ray cluster address (``"ray"`` only).

    Raises
    ------
    InvalidParameterError
        Unknown kind, ``workers < 1``, or an address for a non-Ray executor.

    Examples
    --------
    >>> make_executor("process", workers=2).workers
    2
    >>> make_executor("threads")
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'kind' parameter of make_executor must be one of 'inprocess', 'process', 'ray'. Got 'threads' instead.
    """
    from taskorder.checks import check_choice, check_int

    check_choice(kind, EXECUTORS, "kind", "make_executor")
    if workers is not None:
        check_int(workers, "workers", "make_executor")
    if address is not None and kind != "ray":
        raise InvalidParameterError(
            "The 'address' parameter of make_executor only applies to the 'ray' executor. "
            f"Got kind {kind!r}."
        )
    if kind == "inprocess":
        return InProcessExecutor()
    if kind == "process":
        return ProcessExecutor(workers or os.cpu_count() or 1)
    return RayExecutor(workers, address)
