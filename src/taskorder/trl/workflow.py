"""The whole loop on one machine: probe transfer with GRPO, solve the order, train it.

:func:`probe_bwt` is the smallest complete probe: for every task ``i`` it trains
``i`` from the base model, and for every other task ``j`` it trains ``j`` after
``i``; each state is evaluated on every task. It is serial, single-seed and keeps
no store; for repeated seeds, parallel executors and resumable campaigns use
``taskorder probe`` (:mod:`taskorder.estimate`), which drives the same
:class:`~taskorder.trl.runner.TRLProbeRunner`.

:func:`probe_solve_train` chains probe → :func:`taskorder.solve` →
:func:`~taskorder.trl.pipeline.train_schedule` and is what both examples
(``examples/trl_offline.py``, ``examples/trl_gpu.py``) run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.matrix import TransferMatrix
from taskorder.schedule import Schedule

__all__ = ["ProbeReport", "WorkflowReport", "probe_bwt", "probe_solve_train"]


@dataclass
class ProbeReport:
    """A probed transfer matrix with the raw evaluations behind it.

    Attributes
    ----------
    matrix : TransferMatrix
        ``bwt``, ``forward``, their standard errors and ``own_scores``.
    base : dict
        Per task, the base model's evaluation score.
    after : dict
        ``after[(i, j)][t]``: score of task ``t`` after training ``i`` then ``j``
        (``j`` is ``None`` for the first stage alone).
    elapsed_s : float
        Wall-clock seconds.
    """

    matrix: TransferMatrix
    base: dict[str, float]
    after: dict[tuple[str, str | None], dict[str, float]] = field(repr=False)
    elapsed_s: float = 0.0


def probe_bwt(
    runner: Any,
    *,
    steps: int,
    seed: int = 0,
    tasks: Sequence[str] | None = None,
    on_probe: Callable[[str], None] | None = None,
) -> ProbeReport:
    """Measure backward (and forward) transfer between every ordered pair of tasks.

    With ``s(t | path)`` the score of task ``t`` after training the stages in
    ``path`` from the runner's initial state (``steps`` steps each):

    - ``bwt[i, j] = s(i | i, j) - s(i | i)``: what training ``j`` after ``i`` does to ``i``;
    - ``forward[i, j] = s(j | i) - s(j | base)``: what training ``i`` first does to ``j``;
    - ``own_scores[i] = s(i | i)``.

    See :data:`taskorder.SIGN_CONVENTION`. Every evaluation uses the same seed, so the
    differences compare the states on identical samples (common random numbers).

    Parameters
    ----------
    runner : Runner
        Any runner protocol implementation (:class:`~taskorder.trl.runner.TRLProbeRunner`).
    steps : int
        Training steps per probe stage.
    seed : int
        Seed of training and evaluation.
    tasks : sequence of str, optional
        The tasks to probe (default: all of ``runner.tasks``).
    on_probe : callable, optional
        Called with a one-line message after every trained state.

    Returns
    -------
    ProbeReport
    """
    started = time.perf_counter()
    names = list(tasks or runner.tasks)
    say = on_probe or (lambda message: None)
    base_state = runner.initial_state(seed)

    def evaluate_all(state: Any) -> dict[str, Any]:
        return {t: runner.evaluate(state, t, seed=seed) for t in names}

    base = evaluate_all(base_state)
    after: dict[tuple[str, str | None], dict[str, Any]] = {}
    n = len(names)
    bwt, forward = np.zeros((n, n)), np.zeros((n, n))
    bwt_err, forward_err = np.zeros((n, n)), np.zeros((n, n))
    for a, first in enumerate(names):
        first_state = runner.train(base_state, first, steps=steps, seed=seed)
        after[(first, None)] = evaluate_all(first_state)
        say(f"probe {first}: {after[(first, None)][first].score:.3f}")
        for b, second in enumerate(names):
            if a == b:
                continue
            state = runner.train(first_state, second, steps=steps, seed=seed)
            after[(first, second)] = evaluate_all(state)
            own, later = after[(first, None)][first], after[(first, second)][first]
            bwt[a, b] = later.score - own.score
            bwt_err[a, b] = math.hypot(later.score_stderr, own.score_stderr)
            fwd, ref = after[(first, None)][second], base[second]
            forward[a, b] = fwd.score - ref.score
            forward_err[a, b] = math.hypot(fwd.score_stderr, ref.score_stderr)
            say(f"probe {first} -> {second}: bwt {bwt[a, b]:+.3f}")
    matrix = TransferMatrix(
        names,
        bwt,
        forward=forward,
        bwt_stderr=bwt_err,
        forward_stderr=forward_err,
        own_scores={t: after[(t, None)][t].score for t in names},
    )
    return ProbeReport(
        matrix=matrix,
        base={t: e.score for t, e in base.items()},
        after={key: {t: e.score for t, e in value.items()} for key, value in after.items()},
        elapsed_s=time.perf_counter() - started,
    )


@dataclass
class WorkflowReport:
    """Probe, solve and train results of :func:`probe_solve_train`."""

    probe: ProbeReport
    solved: Any
    train: Any
    timings: dict[str, float]

    def summary(self) -> str:
        """A plain-text report: matrix, order, per-stage table, GEM metrics, timings."""
        m = self.probe.matrix
        width = max(12, *(len(t) + 2 for t in m.tasks))
        lines = ["measured bwt[i, j] (row i trained first, then column j):"]
        lines.append(" " * width + "".join(f"{t:>{width}}" for t in m.tasks))
        for i, task in enumerate(m.tasks):
            cells = "".join(
                f"{'':>{width}}" if i == j else f"{m.bwt[i, j]:>+{width}.3f}"
                for j in range(m.n_tasks)
            )
            lines.append(f"{task:<{width}}{cells}")
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
        ``probe/`` (probe states) and ``train/`` (the run) are created inside.
    probe_steps, stage_steps : int
        GRPO steps per probe stage and per training stage.
    grpo : mapping, optional
        Extra ``GRPOConfig`` fields (shared by probing and training).
    evaluation : EvalConfig, optional
        Held-out evaluation settings.
    seed : int
        Seed of everything.
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
            work_dir=str(work_dir / "probe"),
            grpo=dict(grpo or {}),
            evaluation=evaluation,
            dtype=dtype,
        ),
    )
    probe = probe_bwt(runner, steps=probe_steps, seed=seed, on_probe=say)
    timings["probe"] = time.perf_counter() - start
    start = time.perf_counter()
    solved = solve(probe.matrix, objective=objective, seed=seed)
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
        on_stage_end=lambda record: say(
            f"{'start' if record.stage < 0 else f'stage {record.stage} ({record.label})'}: "
            + ", ".join(f"{t} {s:.3f}" for t, s in record.scores.items())
        ),
    )
    timings["train"] = time.perf_counter() - start
    return WorkflowReport(probe=probe, solved=solved, train=result, timings=timings)
