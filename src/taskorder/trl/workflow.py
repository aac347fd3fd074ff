"""The whole loop on one machine: probe transfer with GRPO, solve the order, train it.

:func:`probe_bwt` is a thin call into the probe-campaign path of
:mod:`taskorder.estimate` (:func:`~taskorder.estimate.make_plan` +
:func:`~taskorder.estimate.run_campaign`, which ends in
:func:`~taskorder.estimate.estimate_from_evaluations`): the same probes, seeds, store
and estimator as ``taskorder probe CONFIG``, so its matrices and standard errors are
exactly the campaign's, and rerunning it on the same folder resumes.

:func:`probe_solve_train` chains :func:`probe_bwt` → :func:`taskorder.solve` →
:func:`~taskorder.trl.pipeline.train_schedule` and is what both examples
(``examples/trl_offline.py``, ``examples/trl_gpu.py``) run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorder.schedule import Schedule

__all__ = ["WorkflowReport", "probe_bwt", "probe_solve_train"]


def probe_bwt(
    runner: Any,
    directory: str | Path,
    *,
    steps: int,
    seed: int = 0,
    tasks: Sequence[str] | None = None,
    repeats: int = 1,
    executor: Any = "inprocess",
    on_probe: Callable[[str], None] | None = None,
) -> Any:
    """Measure backward (and forward) transfer between every ordered pair of tasks.

    A thin call into the campaign path: ``make_plan(runner.tasks, tasks=tasks,
    repeats=repeats, steps=steps, seed=seed)`` run by
    :func:`~taskorder.estimate.run_campaign` into ``directory``. With ``s(t | path)``
    the score of task ``t`` after training the stages in ``path`` (``steps`` steps
    each) from the starting state:

    - ``bwt[i, j] = s(i | i, j) - s(i | i)``: what training ``j`` after ``i`` does to ``i``;
    - ``forward[i, j] = s(j | i) - s(j | base)``: what training ``i`` first does to ``j``;
    - ``own_scores[i] = s(i | i)``.

    See :data:`taskorder.SIGN_CONVENTION` and :mod:`taskorder.estimate.estimates` for
    the standard errors (over repeats with ``repeats >= 2``; from the evaluations'
    own errors with one repeat, which understates the noise).

    Parameters
    ----------
    runner : Runner
        Any runner protocol implementation (:class:`~taskorder.trl.runner.TRLProbeRunner`,
        :class:`~taskorder.learner.BuiltinRunner`, ...).
    directory : str or Path
        The campaign folder (store and first-stage states); rerunning resumes.
    steps : int
        Training steps per probe stage.
    seed : int
        Campaign seed; every probe seed is derived from it
        (:mod:`taskorder.estimate.plan`).
    tasks : sequence of str, optional
        The tasks to probe (default: all of ``runner.tasks``).
    repeats : int
        Independent repeats (2 or more for standard errors that include training noise).
    executor : Executor or {"inprocess", "process", "ray"}
        Where probes run (:mod:`taskorder.estimate.executors`).
    on_probe : callable, optional
        Called with a one-line message after every recorded probe.

    Returns
    -------
    CampaignResult
        ``result.estimate.matrix`` is the transfer matrix with standard errors and
        ``own_scores``; ``result.estimate`` also holds base scores and entropy transfer.

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> result = probe_bwt(runner, tempfile.mkdtemp(), steps=10)
    >>> result.ran, result.estimate.matrix.tasks == runner.tasks
    (5, True)
    """
    from taskorder.estimate import make_plan, run_campaign

    plan = make_plan(runner.tasks, tasks=tasks, repeats=repeats, steps=steps, seed=seed)

    def progress(update: Any) -> None:
        if on_probe is not None and (update.key or update.note):
            where = f"probe {update.done}/{update.total}"
            on_probe(f"{where}: {update.key}" if update.key else f"{where}: {update.note}")

    return run_campaign(runner, plan, directory, executor=executor, progress=progress)


@dataclass
class WorkflowReport:
    """Probe, solve and train results of :func:`probe_solve_train`.

    Attributes
    ----------
    probe : CampaignResult
        The probe campaign (its ``estimate.matrix`` is what was solved).
    solved : SolveResult
        The solver's order and objective.
    train : TrainResult
        The scheduled GRPO run.
    timings : dict
        Seconds per phase.
    """

    probe: Any
    solved: Any
    train: Any
    timings: dict[str, float]

    def summary(self) -> str:
        """A plain-text report: matrix, order, per-stage table, GEM metrics, timings."""
        m = self.probe.estimate.matrix
        width = max(16, *(len(t) + 2 for t in m.tasks))
        lines = ["measured bwt[i, j] ± stderr (row i trained first, then column j):"]
        lines.append(" " * width + "".join(f"{t:>{width}}" for t in m.tasks))
        for i, task in enumerate(m.tasks):
            cells = "".join(
                f"{'':>{width}}" if i == j else f"{_cell(m, i, j):>{width}}"
                for j in range(m.n_tasks)
            )
            lines.append(f"{task:<{width}}{cells}")
        lines.append(
            f"standard errors from: {self.probe.estimate.stderr_source} "
            f"({self.probe.estimate.n_repeats} repeat(s)); probes run {self.probe.ran}, "
            f"reused {self.probe.reused}"
        )
        solved = self.solved
        lines.append(
            f"solved order: {' -> '.join(solved.order)} ({solved.status}, {solved.method}); "
            f"objective {solved.objective:+.4f} vs rank rule {solved.baselines['rank_rule']:+.4f}"
            f" and random mean {solved.baselines['random_mean']:+.4f}"
        )
        lines.append("per-stage score/entropy on held-out prompts:")
        lines.append(self.train.results.format_table())
        try:
            gem = self.train.results.gem()
            fwt = "n/a" if gem.fwt is None else f"{gem.fwt:+.4f}"
            lines.append(f"measured in the run: ACC {gem.acc:.4f}  BWT {gem.bwt:+.4f}  FWT {fwt}")
        except ValueError:
            pass
        lines.append(
            "timings: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings.items())
        )
        return "\n".join(lines)


def _cell(matrix: Any, i: int, j: int) -> str:
    """``bwt[i, j]`` with its standard error when there is one."""
    import math

    value = float(matrix.bwt[i, j])
    if math.isnan(value):
        return "missing"
    se = None if matrix.bwt_stderr is None else float(matrix.bwt_stderr[i, j])
    return f"{value:+.3f}" if se is None or math.isnan(se) else f"{value:+.3f}±{se:.3f}"


def probe_solve_train(
    model_path: str | Path,
    tasks: Sequence[Any],
    work_dir: str | Path,
    *,
    probe_steps: int,
    stage_steps: int,
    grpo: Mapping[str, Any] | None = None,
    evaluation: Any = None,
    seed: int = 0,
    repeats: int = 1,
    dtype: str = "auto",
    objective: str = "all_pairs",
    on_event: Callable[[str], None] | None = None,
) -> WorkflowReport:
    """Probe BWT with GRPO, solve the best order, then train all tasks in that order.

    Parameters
    ----------
    model_path : str or Path
        Starting model directory.
    tasks : sequence of RLTask
        The tasks (training rows, held-out rows, reward).
    work_dir : str or Path
        ``probe/`` (the probe campaign: store, states; rerunning resumes it) and
        ``train/`` (the run) are created inside.
    probe_steps, stage_steps : int
        GRPO steps per probe stage and per training stage.
    grpo : mapping, optional
        Extra ``GRPOConfig`` fields (shared by probing and training).
    evaluation : EvalConfig, optional
        Held-out evaluation settings.
    seed : int
        Seed of everything (the probe campaign's seed, the solver's and the run's).
    repeats : int
        Probe repeats (2 or more for standard errors that include training noise).
    dtype : str
        ``auto``, ``float32`` or ``bfloat16``.
    objective : str
        Solver objective (``all_pairs`` or ``adjacent``).
    on_event : callable, optional
        Progress messages.

    Returns
    -------
    WorkflowReport
    """
    from taskorder.solvers import solve
    from taskorder.trl.evaluation import EvalConfig
    from taskorder.trl.pipeline import train_schedule
    from taskorder.trl.runner import TRLProbeRunner, TRLRunnerConfig

    say = on_event or (lambda message: None)
    work_dir = Path(work_dir)
    evaluation = evaluation or EvalConfig(seed=seed)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    runner = TRLProbeRunner(
        list(tasks),
        TRLRunnerConfig(
            model_path=str(model_path),
            work_dir=str(work_dir / "probe" / "trl-states"),
            grpo=dict(grpo or {}),
            evaluation=evaluation,
            dtype=dtype,
        ),
    )
    probe = probe_bwt(
        runner, work_dir / "probe", steps=probe_steps, seed=seed, repeats=repeats, on_probe=say
    )
    timings["probe"] = time.perf_counter() - start
    start = time.perf_counter()
    solved = solve(probe.estimate.matrix, objective=objective, seed=seed)
    timings["solve"] = time.perf_counter() - start
    say(f"order: {' -> '.join(solved.order)} ({solved.status})")
    start = time.perf_counter()
    result = train_schedule(
        model_path,
        list(tasks),
        Schedule.from_order(solved.order, steps=stage_steps),
        work_dir / "train",
        grpo=grpo,
        evaluation=evaluation,
        seed=seed,
        dtype=dtype,
        solved=solved.to_dict(),
        on_event=say,
        on_stage_end=lambda record: say(_stage_line(record)),
    )
    timings["train"] = time.perf_counter() - start
    return WorkflowReport(probe=probe, solved=solved, train=result, timings=timings)


def _stage_line(record: Any) -> str:
    """``stage 1 (qa): qa 0.500, ...``: one progress line per evaluated stage."""
    where = "start" if record.stage < 0 else f"stage {record.stage} ({record.label})"
    return f"{where}: " + ", ".join(f"{t} {s:.3f}" for t, s in record.scores.items())
