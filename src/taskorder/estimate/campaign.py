"""Run a probe campaign: plan, schedule, record, resume.

:func:`run_campaign` is the coordinator. It opens (or creates) the campaign store in
the output folder, registers the plan's probes, resets probes a previous process
left ``running``, and hands ready probes to an executor: base and first-stage probes
at once, each second-stage probe as soon as its first stage is recorded. It writes
every result itself, one transaction per probe. Killing it at any moment and
calling it again with the same arguments resumes: finished probes are not run
again, a probe that was running is redone from scratch. An interrupted call
(``KeyboardInterrupt``, an error) sets the probes it had in flight back to
``pending`` before it returns.

Only one coordinator runs per campaign: it holds the folder's lock for the whole
call (:mod:`taskorder.estimate.lock`), and a second one is refused with a message
naming the first. On every call it also brings finished probes up to the plan
(:mod:`taskorder.estimate.repair`): base and first-stage probes are evaluated on
tasks added to the plan since they ran, and a first stage whose state file is lost
or unreadable runs again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorder.estimate.estimates import ProbeEstimate, estimate_from_evaluations
from taskorder.estimate.executors import Executor, make_executor
from taskorder.estimate.lock import CampaignLock
from taskorder.estimate.plan import KINDS, Probe, ProbePlan
from taskorder.estimate.repair import StateReader, UnreadableStateError, evaluate_more, plan_repairs
from taskorder.estimate.store import (
    ESTIMATOR_VERSION,
    STORE_NAME,
    CampaignStore,
    CampaignStoreError,
    probe_from_row,
)
from taskorder.estimate.store_errors import damaged_store
from taskorder.estimate.worker import run_probe
from taskorder.exceptions import TaskorderError

__all__ = [
    "STATE_DIR",
    "CampaignResult",
    "ProbeFailedError",
    "Progress",
    "campaign_guard",
    "load_estimate",
    "run_campaign",
]

#: Folder (inside the output folder) holding first-stage states.
STATE_DIR = "states"


class ProbeFailedError(TaskorderError, RuntimeError):
    """Some probes raised; the others are recorded and a rerun retries the failed ones."""


@dataclass(frozen=True)
class Progress:
    """One progress report: probes finished (this plan) and the total, the last key.

    ``note`` is set when the campaign repaired something or took over a stale lock
    (a line for the user); it is ``None`` otherwise.
    """

    done: int
    total: int
    key: str | None
    ran_now: int
    note: str | None = None


@dataclass(frozen=True)
class CampaignResult:
    """What :func:`run_campaign` returns.

    Attributes
    ----------
    estimate : ProbeEstimate
        Matrices with standard errors (see :mod:`taskorder.estimate.estimates`).
    directory : Path
        The output folder (store and state files).
    ran : int
        Probes run by this call (0 when everything was already recorded).
    reused : int
        Finished probes found in the store and not run again.
    elapsed_s : float
        Wall-clock seconds of this call.
    executor : str
        Executor name.
    notes : tuple of str
        What the call repaired or took over (stale lock, interrupted probes,
        evaluations of new tasks, rebuilt states); empty when nothing.
    """

    estimate: ProbeEstimate
    directory: Path
    ran: int
    reused: int
    elapsed_s: float
    executor: str
    notes: tuple[str, ...] = ()


def campaign_guard(runner: Any, plan: ProbePlan) -> dict[str, Any]:
    """What a probe's result depends on; a store refuses to resume under another guard.

    The task subset, pairs and repeat count are *not* part of it: a probe's result
    depends only on its key, so a plan can grow (more pairs, more repeats) and
    reuse every probe already finished.
    """
    return {
        "runner_config_hash": runner.config_hash(),
        "runner_type": type(runner).__qualname__,
        "steps": plan.steps,
        "seed": plan.seed,
        "estimator_version": ESTIMATOR_VERSION,
    }


def _execute(runner: Any, probe: Any, tasks: tuple[str, ...], state_dir: str) -> dict[str, Any]:
    return run_probe(StateReader(runner), probe, tasks, state_dir)


def run_campaign(
    runner: Any,
    plan: ProbePlan,
    directory: str | Path,
    *,
    executor: Executor | str = "inprocess",
    workers: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    max_probes: int | None = None,
) -> CampaignResult:
    """Run (or resume) the probe campaign ``plan`` with ``runner``; results go to ``directory``.

    Parameters
    ----------
    runner : Runner
        See :mod:`taskorder.runner`. Must be picklable for the process and
        Ray executors.
    plan : ProbePlan
        From :func:`taskorder.estimate.make_plan`.
    directory : str or Path
        Output folder: ``campaign.sqlite``, ``campaign.lock`` and ``states/`` live there.
    executor : Executor or {"inprocess", "process", "ray"}
        Where probes run (see :mod:`taskorder.estimate.executors`).
    workers : int, optional
        Workers for an executor given by name.
    progress : callable, optional
        Called with a :class:`Progress` after every recorded probe, once at start,
        and with a ``note`` whenever something was repaired or taken over.
    max_probes : int, optional
        Stop after running this many probes (the campaign stays resumable).

    Returns
    -------
    CampaignResult

    Raises
    ------
    CampaignLockedError
        Another process is running this campaign (the message names it).
    CampaignMismatchError
        The store in ``directory`` was made with another runner configuration,
        step count or seed.
    CampaignStoreError
        The store is damaged, was changed on disk, or cannot be written.
    ProbeFailedError
        Some probes raised (the others are recorded; a rerun retries).

    Notes
    -----
    When the plan's task list grew, finished base and first-stage probes are
    evaluated on the new tasks only (see :mod:`taskorder.estimate.repair`). If the
    call is interrupted (``KeyboardInterrupt``, an error), probes it left running are
    set back to ``pending``; calling it again resumes.

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.estimate.plan import make_plan
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> folder = tempfile.mkdtemp()
    >>> result = run_campaign(runner, make_plan(runner.tasks, steps=10), folder)
    >>> result.ran, result.estimate.matrix.missing()
    (5, [])
    >>> run_campaign(runner, make_plan(runner.tasks, steps=10), folder).ran
    0
    """
    start = time.perf_counter()
    directory = Path(directory)
    if isinstance(executor, str):
        executor = make_executor(executor, workers=workers)
    with CampaignLock(directory) as lock:
        store = CampaignStore(directory / STORE_NAME, campaign_guard(runner, plan))
        try:
            ran, reused, notes = _run_locked(
                store,
                runner,
                plan,
                executor,
                str(directory / STATE_DIR),
                progress,
                max_probes,
                list(lock.notes),
            )
            estimate = estimate_from_evaluations(plan, store.evaluations())
        finally:
            try:
                store.reset_interrupted()  # we hold the lock: nothing else is running
            except CampaignStoreError:
                pass  # the error that got us here says what is wrong with the store
            store.close()
    return CampaignResult(
        estimate,
        directory,
        ran,
        reused,
        time.perf_counter() - start,
        executor.name,
        tuple(notes),
    )


def _run_locked(
    store: CampaignStore,
    runner: Any,
    plan: ProbePlan,
    executor: Executor,
    state_dir: str,
    progress: Callable[[Progress], None] | None,
    max_probes: int | None,
    notes: list[str],
) -> tuple[int, int, list[str]]:
    """Register, repair, schedule; raise :class:`ProbeFailedError` if probes failed."""
    store.register(plan)
    store.verify()  # refuse a store changed on disk before running anything
    interrupted = store.reset_interrupted()
    if interrupted:
        notes.append(
            f"{len(interrupted)} probe(s) left running by an interrupted run go again: "
            + ", ".join(interrupted[:5])
        )
    top_ups, reopened = plan_repairs(store, plan, state_dir)
    if reopened:
        notes.append(f"state file missing, first stage runs again: {', '.join(reopened[:5])}")
    if top_ups:
        new = sorted({task for _, tasks in top_ups for task in tasks}, key=plan.tasks.index)
        notes.append(
            f"the task list grew: {len(top_ups)} finished probe(s) are evaluated on "
            f"{', '.join(new)} (nothing is trained again)"
        )
    keys = {probe.key for probe in plan.probes()}
    rows = store.probes(keys)
    done = {row["key"] for row in rows if row["status"] == "done"}
    pending = [probe_from_row(row) for row in rows if row["status"] != "done"]
    scheduler = _Scheduler(
        store, executor, plan, state_dir, done, len(keys), progress, max_probes, notes
    )
    for note in notes:
        scheduler.report(note)
    scheduler.report(None)
    if pending or top_ups:
        with executor.started(runner):
            scheduler.run(pending, top_ups)
    if scheduler.failures:
        failures = scheduler.failures
        shown = "; ".join(f"{key}: {error}" for key, error in list(failures.items())[:3])
        raise ProbeFailedError(
            f"{len(failures)} probe(s) failed ({shown}). The other results are recorded in "
            f"{store.path}; fix the cause and rerun to retry the failed probes."
        )
    return scheduler.ran, len(keys) - len(pending), notes


@dataclass
class _Job:
    """A probe to run (``tasks`` is None) or a finished one to evaluate on ``tasks``."""

    probe: Probe
    tasks: tuple[str, ...] | None = None
    after_rebuild: bool = False  # submitted after its state was rebuilt in this run


class _Scheduler:
    """Hands ready jobs to the executor and records what comes back."""

    def __init__(self, store, executor, plan, state_dir, done, total, progress, max_probes, notes):
        self.store, self.executor, self.plan, self.state_dir = store, executor, plan, state_dir
        self.done, self.total, self.progress, self.notes = done, total, progress, notes
        self.budget = math.inf if max_probes is None else max_probes
        self.ran = 0
        self.failures: dict[str, str] = {}
        self.failed: set[str] = set()  # probes that failed (their second stages cannot run)
        self.rebuilt: set[str] = set()
        self.in_flight: dict[Future, _Job] = {}

    def report(self, note: str | None, key: str | None = None) -> None:
        if self.progress:
            self.progress(Progress(len(self.done), self.total, key, self.ran, note))

    def run(self, pending: list[Probe], top_ups: list[tuple[Probe, tuple[str, ...]]]) -> None:
        self.pending = [_Job(probe) for probe in pending]
        self.pending += [_Job(probe, tasks) for probe, tasks in top_ups]
        while True:
            self._submit_ready()
            if not self.in_flight:
                return
            finished, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: self.in_flight[f].probe.key):
                self._collect(self.in_flight.pop(future), future)

    def _submit_ready(self) -> None:
        rank = {kind: k for k, kind in enumerate(KINDS)}
        self.pending.sort(
            key=lambda j: (j.tasks is None, rank[j.probe.kind], j.probe.repeat, j.probe.key)
        )
        running = sum(job.tasks is None for job in self.in_flight.values())
        for job in list(self.pending):
            if len(self.in_flight) >= self.executor.max_in_flight:
                return
            probe = job.probe
            if job.tasks is not None:
                self.pending.remove(job)
                future = self.executor.submit(evaluate_more, probe, job.tasks, self.state_dir)
                self.in_flight[future] = job
                continue
            if self.ran + running >= self.budget:
                return
            if probe.depends_on in self.failed:
                self.pending.remove(job)
                self.failures.setdefault(probe.key, f"its first stage {probe.depends_on} failed")
                continue
            if probe.depends_on is not None and probe.depends_on not in self.done:
                continue
            self.pending.remove(job)
            job.after_rebuild = probe.depends_on in self.rebuilt
            self.store.mark_running(probe.key)
            self.in_flight[
                self.executor.submit(_execute, probe, self.plan.tasks, self.state_dir)
            ] = job
            running += 1

    def _collect(self, job: _Job, future: Future) -> None:
        key = job.probe.key
        error = future.exception()
        if error is None and job.tasks is not None:
            self.store.add_evaluations(key, future.result()["evaluations"])
        elif error is None:
            self.store.record(future.result())
            self.done.add(key)
            self.ran += 1
            self.report(None, key)
        elif not (isinstance(error, UnreadableStateError) and self._rebuild(job, error)):
            message = f"{type(error).__name__}: {error}"
            if isinstance(error, UnreadableStateError):
                message += (
                    " It was rebuilt in this run and still cannot be loaded: the runner's save "
                    "and load do not agree."
                )
            if job.tasks is None:
                self.store.mark_failed(key, message)
                self.failed.add(key)
            self.failures[key] = message

    def _rebuild(self, job: _Job, error: BaseException) -> bool:
        """Run the first stage whose state ``job`` could not load again; False if it was."""
        parent = job.probe.key if job.tasks is not None else job.probe.depends_on
        if job.after_rebuild or (job.tasks is not None and parent in self.rebuilt):
            return False
        if parent not in self.rebuilt:
            self.rebuilt.add(parent)
            self.store.reopen([parent], f"state file unreadable; rebuilt ({error})"[:2000])
            self.done.discard(parent)
            self.pending.append(_Job(probe_from_row(self.store.probes([parent])[0])))
            self.notes.append(f"{error} {parent} runs again to rebuild it.")
            self.report(self.notes[-1])
        if job.tasks is None:
            self.store.reopen([job.probe.key], f"waits for the rebuilt state of {parent}")
            self.pending.append(_Job(job.probe))
        return True


def load_estimate(directory: str | Path, plan: ProbePlan | None = None) -> ProbeEstimate:
    """The estimate from a campaign folder's store (its last plan unless ``plan`` is given)."""
    import json

    store = CampaignStore.open_existing(Path(directory) / STORE_NAME)
    try:
        if plan is None:
            try:
                data = json.loads(store.meta("plan") or "{}")
                plan = ProbePlan(
                    tuple(data["tasks"]),
                    tuple(tuple(p) for p in data["pairs"]),
                    data["repeats"],
                    data["steps"],
                    data["seed"],
                )
            except (ValueError, KeyError, TypeError) as error:
                raise damaged_store(
                    store.path, f"its plan record is unreadable: {error!r}"
                ) from None
        return estimate_from_evaluations(plan, store.evaluations())
    finally:
        store.close()
