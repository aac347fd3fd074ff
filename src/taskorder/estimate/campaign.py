"""Run a probe campaign: plan, schedule, record, resume.

:func:`run_campaign` is the coordinator. It opens (or creates) the campaign store in
the output folder, registers the plan's probes, resets probes a previous process
left ``running``, and hands ready probes to an executor: base and first-stage probes
at once, each second-stage probe as soon as its first stage is recorded. It writes
every result itself, one transaction per probe. Killing it at any moment and
calling it again with the same arguments resumes: finished probes are not run
again, a probe that was running is redone from scratch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorder.estimate.estimates import ProbeEstimate, estimate_from_evaluations
from taskorder.estimate.executors import Executor, make_executor
from taskorder.estimate.plan import KINDS, ProbePlan
from taskorder.estimate.store import ESTIMATOR_VERSION, STORE_NAME, CampaignStore, probe_from_row
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
    """One progress report: probes finished (this plan) and the total, and the last key."""

    done: int
    total: int
    key: str | None
    ran_now: int


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
    """

    estimate: ProbeEstimate
    directory: Path
    ran: int
    reused: int
    elapsed_s: float
    executor: str


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
    return run_probe(runner, probe, tasks, state_dir)


def _reopen_lost_states(store: CampaignStore, keys: set[str]) -> None:
    """First stages whose state file vanished, but with unfinished second stages, run again."""
    rows = {row["key"]: row for row in store.probes(keys)}
    needed = {
        row["depends_on"]
        for row in rows.values()
        if row["kind"] == "second" and row["status"] != "done"
    }
    lost = [
        key
        for key in needed
        if rows[key]["status"] == "done" and not Path(rows[key]["state_path"] or "").is_file()
    ]
    if lost:
        store.reopen(lost, "state file missing; rerun to rebuild it")


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
        See :mod:`taskorder.estimate.runner`. Must be picklable for the process and
        Ray executors.
    plan : ProbePlan
        From :func:`taskorder.estimate.make_plan`.
    directory : str or Path
        Output folder: ``campaign.sqlite`` and ``states/`` live there.
    executor : Executor or {"inprocess", "process", "ray"}
        Where probes run (see :mod:`taskorder.estimate.executors`).
    workers : int, optional
        Workers for an executor given by name.
    progress : callable, optional
        Called with a :class:`Progress` after every recorded probe (and once at start).
    max_probes : int, optional
        Stop after running this many probes (the campaign stays resumable).

    Returns
    -------
    CampaignResult

    Raises
    ------
    CampaignMismatchError
        The store in ``directory`` was made with another runner configuration,
        step count or seed.
    ProbeFailedError
        Some probes raised (the others are recorded; a rerun retries).

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
    state_dir = directory / STATE_DIR
    store = CampaignStore(directory / STORE_NAME, campaign_guard(runner, plan))
    try:
        store.register(plan)
        store.reset_interrupted()
        keys = {probe.key for probe in plan.probes()}
        _reopen_lost_states(store, keys)
        rows = store.probes(keys)
        done = {row["key"] for row in rows if row["status"] == "done"}
        pending = [probe_from_row(row) for row in rows if row["status"] != "done"]
        rank = {kind: k for k, kind in enumerate(KINDS)}
        pending.sort(key=lambda p: (rank[p.kind], p.repeat, p.key))
        reused, total = len(done), len(keys)
        if progress:
            progress(Progress(len(done), total, None, 0))
        ran, failures = 0, {}
        if pending:
            ran, failures = _schedule(
                store,
                executor,
                runner,
                plan,
                pending,
                done,
                str(state_dir),
                total,
                progress,
                max_probes,
            )
        if failures:
            shown = "; ".join(f"{key}: {error}" for key, error in list(failures.items())[:3])
            raise ProbeFailedError(
                f"{len(failures)} probe(s) failed ({shown}). The other results are recorded in "
                f"{store.path}; fix the cause and rerun to retry the failed probes."
            )
        estimate = estimate_from_evaluations(plan, store.evaluations())
    finally:
        store.close()
    return CampaignResult(
        estimate, directory, ran, reused, time.perf_counter() - start, executor.name
    )


def _schedule(
    store: CampaignStore,
    executor: Executor,
    runner: Any,
    plan: ProbePlan,
    pending: list,
    done: set[str],
    state_dir: str,
    total: int,
    progress: Callable[[Progress], None] | None,
    max_probes: int | None,
) -> tuple[int, dict[str, str]]:
    in_flight: dict[Future, Any] = {}
    failures: dict[str, str] = {}
    failed_keys: set[str] = set()
    ran = 0
    budget = len(pending) if max_probes is None else max_probes
    with executor.started(runner):
        while (pending or in_flight) and (ran + len(in_flight) < budget or in_flight):
            blocked = failed_keys
            for probe in list(pending):
                if len(in_flight) >= executor.max_in_flight or ran + len(in_flight) >= budget:
                    break
                if probe.depends_on in blocked:
                    pending.remove(probe)
                    failures.setdefault(probe.key, f"its first stage {probe.depends_on} failed")
                    continue
                if probe.depends_on is not None and probe.depends_on not in done:
                    continue
                pending.remove(probe)
                store.mark_running(probe.key)
                future = executor.submit(_execute, probe, plan.tasks, state_dir)
                in_flight[future] = probe
            if not in_flight:
                break
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: in_flight[f].key):
                probe = in_flight.pop(future)
                error = future.exception()
                if error is not None:
                    message = f"{type(error).__name__}: {error}"
                    store.mark_failed(probe.key, message)
                    failures[probe.key] = message
                    failed_keys.add(probe.key)
                    continue
                store.record(future.result())
                done.add(probe.key)
                ran += 1
                if progress:
                    progress(Progress(len(done), total, probe.key, ran))
    return ran, failures


def load_estimate(directory: str | Path, plan: ProbePlan | None = None) -> ProbeEstimate:
    """The estimate from a campaign folder's store (its last plan unless ``plan`` is given)."""
    import json

    store = CampaignStore.open_existing(Path(directory) / STORE_NAME)
    try:
        if plan is None:
            data = json.loads(store.meta("plan") or "{}")
            plan = ProbePlan(
                tuple(data["tasks"]),
                tuple(tuple(p) for p in data["pairs"]),
                data["repeats"],
                data["steps"],
                data["seed"],
            )
        return estimate_from_evaluations(plan, store.evaluations())
    finally:
        store.close()
