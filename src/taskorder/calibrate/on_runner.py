"""Calibrated search on a runner: :func:`run_calibrated` (see :mod:`taskorder.calibrate`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from taskorder.calibrate.model import CalibratedSearch, calibrated_search
from taskorder.matrix import TransferMatrix
from taskorder.solvers.problem import ProblemSpec

__all__ = ["CURRICULA_LOG", "RESULT_NAME", "CalibratedRun", "run_calibrated"]

#: Files :func:`run_calibrated` writes into the campaign folder.
RESULT_NAME, CURRICULA_LOG = "calibrated.json", "calibrated_curricula.jsonl"


@dataclass
class CalibratedRun:
    """What :func:`run_calibrated` did and recommends.

    Attributes
    ----------
    search : CalibratedSearch
        The recommendation (``order``, ``predicted`` ± ``predicted_sd``: the posterior
        mean final score over tasks) and every curriculum observed.
    prior : TransferMatrix
        The cheap design's measured ``bwt`` with the other pairs imputed (flagged).
    campaign : CampaignResult
        The cheap probe campaign (``ran`` now, ``reused`` from the store).
    curricula : list of dict
        Per curriculum: ``order``, ``seed``, ``per_seed`` mean final scores,
        ``outcome``, ``stderr`` and ``reused`` (replayed from the log, not trained).
    path : Path
        The JSON result (``calibrated.json`` in the campaign folder).
    """

    search: CalibratedSearch
    prior: TransferMatrix
    campaign: Any
    curricula: list[dict[str, Any]]
    path: Any

    @property
    def stages(self) -> dict[str, int]:
        """Training stages the method needs: probes (first + second) and curricula."""
        plan = self.campaign.estimate
        n_tasks = self.prior.n_tasks
        n_pairs = n_tasks * (n_tasks - 1) - len(plan.missing)
        per_seed = sum(len(row["per_seed"]) for row in self.curricula)
        return {"probes": plan.n_repeats * (n_tasks + n_pairs), "curricula": per_seed * n_tasks}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``calibrated.json`` holds)."""
        return {
            "order": list(self.search.order),
            "predicted": self.search.predicted,
            "predicted_sd": self.search.predicted_sd,
            "best_observed": list(self.search.best_observed),
            "curricula": self.curricula,
            "search": self.search.observed,
            "stages": self.stages,
            "probes": {"ran": self.campaign.ran, "reused": self.campaign.reused},
            "measured_pairs": [list(p) for p in _measured(self.prior)],
            "prior": self.prior.to_dict(),
        }


def _measured(matrix: TransferMatrix) -> list[tuple[str, str]]:
    off = ~np.eye(matrix.n_tasks, dtype=bool) & ~np.asarray(matrix.imputed)
    return [(matrix.tasks[i], matrix.tasks[j]) for i, j in np.argwhere(off)]


def run_calibrated(
    runner: Any,
    directory: Any,
    *,
    n_curricula: int,
    steps: int,
    tasks: Sequence[str] | None = None,
    repeats: int = 1,
    seed: int = 0,
    curriculum_seeds: int = 1,
    impute_method: str = "row_col",
    n_candidates: int = 16,
    executor: Any = "inprocess",
    on_event: Callable[[str], None] | None = None,
    spec: ProblemSpec | None = None,
) -> CalibratedRun:
    """Cheap probes, an imputed prior, then ``n_curricula`` curricula chosen by calibrated search.

    Parameters
    ----------
    runner : Runner
        Any runner protocol implementation (:mod:`taskorder.runner`).
    directory : str or Path
        The campaign folder: the cheap probes go into its store (a plan over the same
        folder, steps and seed as ``taskorder probe``, so either reuses the other's
        probes); ``calibrated_curricula.jsonl`` (every trained curriculum, replayed by
        a rerun) and ``calibrated.json`` are written there.
    n_curricula : int
        Complete curricula to train (the budget beyond the probes), at least 1.
    steps : int
        Training steps of every stage (probes and curricula).
    tasks : sequence of str, optional
        The tasks to order (default: all of ``runner.tasks``).
    repeats : int
        Probe repeats.
    seed : int
        Root seed: the probe campaign's, the search's and (derived) each curriculum's.
    curriculum_seeds : int
        Seeds per curriculum; its outcome is their mean (with a standard error from 2).
    impute_method : {"row_col", "row_mean", "zero"}
        How the pairs the cheap design leaves out are filled (:func:`taskorder.estimate.impute`).
    n_candidates : int
        Thompson samples per step of the search.
    executor : Executor or {"inprocess", "process", "ray"}
        Where probes and curriculum seeds run.
    on_event : callable, optional
        Called with a one-line message after every probe and every curriculum.
    spec : ProblemSpec, optional
        Order constraints (``first``, ``last``, ``before``) every curriculum and the
        recommendation respect, as in :func:`calibrated_search`.

    Returns
    -------
    CalibratedRun

    Raises
    ------
    InvalidParameterError
        Out-of-range numbers, an unknown imputation method or a spec with more than
        order constraints (checked before training).

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=2)
    >>> run = run_calibrated(runner, tempfile.mkdtemp(), n_curricula=2, steps=5)
    >>> sorted(run.search.order) == sorted(runner.tasks), len(run.curricula)
    (True, 2)
    >>> run.stages
    {'probes': 9, 'curricula': 6}
    """
    import itertools
    import json
    from pathlib import Path

    from taskorder.active import constraint_spec
    from taskorder.estimate import make_plan
    from taskorder.seeds import derive_seed

    _check_run_arguments(n_curricula, curriculum_seeds, impute_method)
    spec = constraint_spec(spec, "run_calibrated")
    say = on_event or (lambda message: None)
    directory = Path(directory)
    # the full plan checks the task list (with make_plan's messages); the cheap one is run
    plan = make_plan(runner.tasks, tasks=tasks, repeats=repeats, steps=steps, seed=seed)
    plan = make_plan(
        runner.tasks,
        tasks=plan.tasks,
        pairs=_cheap_pairs(plan.tasks),
        repeats=repeats,
        steps=steps,
        seed=seed,
    )
    campaign, prior = _cheap_prior(runner, plan, directory, impute_method, executor, say)
    log = _CurriculumLog(directory / CURRICULA_LOG, runner.config_hash(), steps)
    calls = itertools.count()
    curricula: list[dict[str, Any]] = []

    def run(order: tuple[str, ...]) -> tuple[float, float]:
        step = next(calls)
        seed_k = derive_seed(seed, "calibrated", step)
        row = log.find(order, seed_k, curriculum_seeds) or log.train(
            runner, order, seed_k, curriculum_seeds, executor
        )
        curricula.append(row)
        say(
            f"curriculum {step + 1}/{n_curricula}: {' > '.join(order)}: mean final score "
            f"{row['outcome']:.4f}" + (" (recorded)" if row["reused"] else "")
        )
        return row["outcome"], row["stderr"]

    search = calibrated_search(
        prior, run, n_curricula=n_curricula, n_candidates=n_candidates, seed=seed, spec=spec
    )
    result = CalibratedRun(search, prior, campaign, curricula, directory / RESULT_NAME)
    text = json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
    result.path.write_text(text, encoding="utf-8")
    return result


def _check_run_arguments(n_curricula: int, curriculum_seeds: int, impute_method: str) -> None:
    """Refuse bad arguments of :func:`run_calibrated` before anything is trained."""
    from taskorder.checks import check_choice, check_int
    from taskorder.estimate.impute import IMPUTATION_METHODS

    check_int(n_curricula, "n_curricula", "run_calibrated")
    check_int(curriculum_seeds, "curriculum_seeds", "run_calibrated")
    check_choice(impute_method, IMPUTATION_METHODS, "impute_method", "run_calibrated")


def _cheap_pairs(tasks: Sequence[str]) -> list[tuple[str, str]]:
    """The cheap design's ordered pairs: every row and column twice (cyclic shifts)."""
    from taskorder.active import initial_pairs

    return [(tasks[i], tasks[j]) for i, j in initial_pairs(len(tasks))]


def _cheap_prior(
    runner: Any,
    plan: Any,
    directory: Any,
    impute_method: str,
    executor: Any,
    say: Callable[[str], None],
) -> tuple[Any, TransferMatrix]:
    """Run (or resume) the cheap campaign; its ``bwt`` with the other pairs imputed."""
    from taskorder.estimate import impute, run_campaign

    def progress(update: Any) -> None:
        if update.key or update.note:
            say(f"probe {update.done}/{update.total}: {update.key or update.note}")

    campaign = run_campaign(runner, plan, directory, executor=executor, progress=progress)
    cheap = campaign.estimate.matrix.replace(forward=None, bwt_stderr=None, forward_stderr=None)
    return campaign, impute(cheap, impute_method)


class _CurriculumLog:
    """Trained curricula, one JSON line each, keyed by runner config, steps, order and seed."""

    def __init__(self, path: Any, config_hash: str, steps: int) -> None:
        import json

        self.path, self.key = path, {"config_hash": config_hash, "steps": steps}
        self.rows = []
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a line cut by a kill: that curriculum runs again
                if isinstance(row, dict) and all(row.get(k) == v for k, v in self.key.items()):
                    self.rows.append(row)

    def find(self, order: tuple[str, ...], seed: int, seeds: int) -> dict[str, Any] | None:
        for row in self.rows:
            same = row.get("order") == list(order) and row.get("seed") == seed
            if same and row.get("seeds") == seeds:
                return {**_public(row), "reused": True}
        return None

    def train(
        self, runner: Any, order: tuple[str, ...], seed: int, seeds: int, executor: Any
    ) -> dict[str, Any]:
        import json

        from taskorder.estimate import run_curricula

        runs = run_curricula(
            runner, [order], seeds=seeds, steps=self.key["steps"], seed=seed, executor=executor
        )
        per_seed = [float(np.mean(list(r.final.values()))) for r in runs]
        stderr = float(np.std(per_seed, ddof=1) / np.sqrt(seeds)) if seeds >= 2 else 0.0
        row = {
            **self.key,
            "order": list(order),
            "seed": seed,
            "seeds": seeds,
            "per_seed": per_seed,
            "outcome": float(np.mean(per_seed)),
            "stderr": stderr,
        }
        with self.path.open("a+b") as handle:
            if handle.seek(0, 2) > 0:
                handle.seek(-1, 2)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")  # end a line cut by a kill: this record stays readable
            handle.write(json.dumps(row).encode("utf-8") + b"\n")
        self.rows.append(row)
        return {**_public(row), "reused": False}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("order", "seed", "per_seed", "outcome", "stderr")
    return {k: row[k] for k in keys}
