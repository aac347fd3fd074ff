"""Calibrated outcome model: learn from a few complete curricula, with the probes as prior.

Pairwise probes can rank complete curricula poorly (``taskorder validate`` measures it).
A few short, complete curricula are direct evidence. This module fits an outcome model
on *precedence features* and searches orders with Bayesian optimisation.

Model
-----
For an order ``p`` let ``z_ij(p) = +1`` if ``i`` is trained before ``j`` and ``-1``
otherwise (one feature per unordered pair ``i < j``). The measured outcome (the mean
final score over tasks) is modelled as::

    y(p) = c + sum_{i<j} beta_ij z_ij(p) + noise,     beta_ij = a * b_ij + delta_ij

where ``b_ij = (W[i, j] - W[j, i]) / (2 n)`` is what the probe matrix predicts (the
additive model written in these features), ``a ~ N(1, prior_scale_sd^2)`` rescales the
probes, and ``delta_ij ~ N(0, prior_pair_sd^2)`` lets the data correct single pairs. The
model is linear-Gaussian, so its posterior is exact, and the posterior mean of
``y`` is again a Linear Ordering objective: its best order is found *exactly* by
:func:`taskorder.solve` on ``W'[i, j] = beta_ij = -W'[j, i]``.

Order search
------------
:func:`calibrated_search` runs curricula one at a time: it draws Thompson samples of
``beta``, solves each exactly (the acquisition's candidates), picks the candidate with
the highest expected improvement over the best outcome seen, runs it, updates the
posterior, and finally recommends the order that maximises the posterior mean.

On a runner
-----------
:func:`run_calibrated` does the whole job on any runner (built-in learner, TRL, a
python factory): the cheap probe design (every task's first stage and ``2 n`` second
stages, :func:`taskorder.active.initial_pairs`) through the campaign path
(:func:`taskorder.estimate.run_campaign`, resumable, sharing its store with
``taskorder probe CONFIG``), the unmeasured pairs imputed into the prior, then
``n_curricula`` complete curricula (:func:`taskorder.estimate.run_curricula`, recorded
so a rerun replays them) chosen by :func:`calibrated_search`. From the command line:
``taskorder probe calibrated CONFIG --curricula K``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix

__all__ = [
    "CalibratedRun",
    "CalibratedSearch",
    "PrecedenceModel",
    "calibrated_search",
    "precedence_features",
    "run_calibrated",
]

#: Files :func:`run_calibrated` writes into the campaign folder.
RESULT_NAME, CURRICULA_LOG = "calibrated.json", "calibrated_curricula.jsonl"


def precedence_features(order: Sequence[int], n_tasks: int) -> np.ndarray:
    """``z_ij`` for ``i < j`` (row-major), +1 if ``i`` comes before ``j``, else -1.

    Examples
    --------
    >>> precedence_features([2, 0, 1], 3).tolist()
    [1.0, -1.0, -1.0]
    """
    position = np.empty(n_tasks, dtype=int)
    position[list(order)] = np.arange(n_tasks)
    i, j = np.triu_indices(n_tasks, k=1)
    return np.where(position[i] < position[j], 1.0, -1.0)


class PrecedenceModel:
    """Bayesian linear model of curriculum outcomes with the probe matrix as prior.

    Parameters
    ----------
    prior : TransferMatrix
        The probe-derived matrix (its ``pair_weights`` give ``b_ij``).
    prior_scale_sd : float
        Prior standard deviation of the probe scale ``a`` (mean 1).
    prior_pair_sd : float, optional
        Prior standard deviation of each pair correction ``delta_ij``; default: the
        spread of ``b``.
    noise_sd : float, optional
        Standard deviation of one observed outcome; default estimated from repeats
        (or 10 % of the prior spread when there are none).
    """

    def __init__(
        self,
        prior: TransferMatrix,
        *,
        prior_scale_sd: float = 1.0,
        prior_pair_sd: float | None = None,
        noise_sd: float | None = None,
    ) -> None:
        self.prior = prior
        self.prior_scale_sd = prior_scale_sd
        self.prior_pair_sd = prior_pair_sd
        self.noise_sd = noise_sd

    def _probe_beta(self) -> np.ndarray:
        weights = self.prior.pair_weights()
        n = self.prior.n_tasks
        i, j = np.triu_indices(n, k=1)
        return (weights[i, j] - weights[j, i]) / (2.0 * n)

    def fit(
        self,
        orders: Sequence[Sequence[int]],
        outcomes: Sequence[float],
        outcome_sd: Sequence[float] | None = None,
    ) -> PrecedenceModel:
        """Posterior given observed ``outcomes`` of ``orders`` (task indices); returns self.

        Parameters
        ----------
        orders : sequence of sequences of int
            Each observed curriculum as task indices.
        outcomes : sequence of float
            Its measured mean final score.
        outcome_sd : sequence of float, optional
            Standard error of each outcome (default: ``noise_sd`` for all).
        """
        n = self.prior.n_tasks
        b = self._probe_beta()
        n_pairs = b.size
        y = np.asarray(outcomes, float)
        if len(orders) != y.size:
            raise InvalidParameterError(
                f"fit needs one outcome per order. Got {len(orders)} orders and {y.size} outcomes."
            )
        pair_sd = self.prior_pair_sd or max(float(np.std(b)), float(np.abs(b).max()) / 2, 1e-9)
        # parameters: [c, a, delta_1..delta_P]; prior means [mean(y) or 0, 1, 0...]
        prior_mean = np.concatenate([[float(y.mean()) if y.size else 0.0, 1.0], np.zeros(n_pairs)])
        intercept_var = max(float(np.var(y)) * 10, 1.0) if y.size else 1.0
        prior_var = np.concatenate(
            [[intercept_var, self.prior_scale_sd**2], np.full(n_pairs, pair_sd**2)]
        )
        if outcome_sd is not None:
            noise_var = np.maximum(np.asarray(outcome_sd, float) ** 2, 1e-12)
        else:
            sd = self.noise_sd if self.noise_sd is not None else 0.1 * pair_sd * np.sqrt(n_pairs)
            noise_var = np.full(y.size, sd**2)
        x = np.array([self._design(precedence_features(o, n), b) for o in orders])
        x = x.reshape(y.size, 2 + n_pairs)
        precision = np.diag(1.0 / prior_var)
        shift = prior_mean / prior_var
        if y.size:
            precision = precision + x.T @ (x / noise_var[:, None])
            shift = shift + x.T @ (y / noise_var)
        self.cov_ = np.linalg.inv(precision)
        self.mean_ = self.cov_ @ shift
        self.b_ = b
        self.n_tasks_ = n
        return self

    @staticmethod
    def _design(z: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([[1.0, float(z @ b)], z])

    def beta(self, params: np.ndarray) -> np.ndarray:
        """Pair effects ``beta = a b + delta`` for a parameter vector."""
        return params[1] * self.b_ + params[2:]

    def predict(self, order: Sequence[int]) -> tuple[float, float]:
        """Posterior mean and standard deviation of the outcome of ``order``."""
        x = self._design(precedence_features(order, self.n_tasks_), self.b_)
        return float(x @ self.mean_), float(np.sqrt(max(x @ self.cov_ @ x, 0.0)))

    def sample_params(self, rng: np.random.Generator) -> np.ndarray:
        chol = np.linalg.cholesky(self.cov_ + 1e-15 * np.eye(self.cov_.shape[0]))
        return self.mean_ + chol @ rng.standard_normal(self.mean_.size)

    def as_matrix(self, params: np.ndarray | None = None) -> TransferMatrix:
        """A matrix whose all-pairs objective is ``sum beta_ij z_ij`` (for exact solving)."""
        beta = self.beta(self.mean_ if params is None else params)
        n = self.n_tasks_
        weights = np.zeros((n, n))
        i, j = np.triu_indices(n, k=1)
        weights[i, j], weights[j, i] = beta, -beta
        return TransferMatrix(self.prior.tasks, weights)


@dataclass
class CalibratedSearch:
    """History and recommendation of :func:`calibrated_search`."""

    order: tuple[str, ...]
    predicted: float
    predicted_sd: float
    observed: list[dict[str, Any]] = field(default_factory=list)
    model: PrecedenceModel | None = None

    @property
    def best_observed(self) -> tuple[str, ...]:
        """The curriculum with the best measured outcome."""
        return tuple(max(self.observed, key=lambda row: row["outcome"])["order"])


def calibrated_search(
    prior: TransferMatrix,
    run: Callable[[tuple[str, ...]], tuple[float, float]],
    *,
    n_curricula: int,
    n_candidates: int = 16,
    seed: int = 0,
    start: Sequence[Sequence[str]] = (),
    solve_kwargs: dict[str, Any] | None = None,
    **model_kwargs: Any,
) -> CalibratedSearch:
    """Bayesian optimisation over orders with exact solving of the acquisition.

    Parameters
    ----------
    prior : TransferMatrix
        Probe-derived matrix (the prior).
    run : callable
        ``run(order) -> (mean outcome, its standard error)``: train one complete
        curriculum (e.g. a few seeds) and measure the mean final score.
    n_curricula : int
        How many curricula to run (the budget beyond the probes).
    n_candidates : int
        Thompson samples per step; each is solved exactly and scored by expected
        improvement.
    seed : int
        Seed of the Thompson samples and of the solver.
    start : sequence of orders
        Curricula to run first (default: the prior's best order).
    solve_kwargs : dict, optional
        Constraints etc. for :func:`taskorder.solve`.

    Returns
    -------
    CalibratedSearch
        The recommended order (posterior-mean optimum), its predicted outcome, and every
        observed curriculum with the recommendation after it (``recommended``) and the
        best curriculum measured so far (``best_observed``).
    """
    from taskorder.solvers import solve

    if n_curricula < 1:
        raise InvalidParameterError(
            f"The 'n_curricula' parameter of calibrated_search must be at least 1. "
            f"Got {n_curricula}."
        )
    solve_kwargs = dict(solve_kwargs or {})
    rng = np.random.default_rng(seed)
    tasks = prior.tasks
    index = {t: k for k, t in enumerate(tasks)}
    orders: list[list[int]] = []
    outcomes: list[float] = []
    errors: list[float] = []
    observed: list[dict[str, Any]] = []
    queue = [tuple(o) for o in start] or [solve(prior, seed=seed, **solve_kwargs).order]
    model = PrecedenceModel(prior, **model_kwargs).fit([], [])
    for step in range(n_curricula):
        if queue:
            order = tuple(queue.pop(0))
        else:
            order = _most_promising(
                model,
                max(outcomes),
                [model.sample_params(rng) for _ in range(n_candidates)],
                lambda matrix: solve(matrix, seed=seed, **solve_kwargs).order,
            )
        value, stderr = run(order)
        orders.append([index[t] for t in order])
        outcomes.append(float(value))
        errors.append(float(stderr))
        model = PrecedenceModel(prior, **model_kwargs).fit(
            orders, outcomes, outcome_sd=[max(e, 1e-6) for e in errors] if any(errors) else None
        )
        recommended = solve(model.as_matrix(), seed=seed, **solve_kwargs).order
        # the first curriculum with the highest outcome so far (an earlier one wins ties)
        best_observed = [tasks[k] for k in orders[int(np.argmax(outcomes))]]
        observed.append(
            {"step": step, "order": list(order), "outcome": float(value), "stderr": float(stderr)}
            | {"recommended": list(recommended), "best_observed": best_observed}
        )
    best = solve(model.as_matrix(), seed=seed, **solve_kwargs).order
    return CalibratedSearch(best, *model.predict([index[t] for t in best]), observed, model)


def _most_promising(
    model: PrecedenceModel,
    best_seen: float,
    draws: list[np.ndarray],
    solve_order: Callable[[TransferMatrix], tuple[str, ...]],
) -> tuple[str, ...]:
    """The candidate order (each draw's optimum and the posterior mean's) of highest
    expected improvement over ``best_seen``."""
    from scipy.stats import norm

    index = {t: k for k, t in enumerate(model.prior.tasks)}
    candidates = {solve_order(model.as_matrix(params)) for params in draws}
    candidates.add(solve_order(model.as_matrix()))
    scored = []
    for candidate in sorted(candidates):
        mu, sd = model.predict([index[t] for t in candidate])
        gap = mu - best_seen
        ei = gap * norm.cdf(gap / sd) + sd * norm.pdf(gap / sd) if sd > 0 else max(gap, 0.0)
        scored.append((ei, candidate))
    return max(scored)[1]


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
) -> CalibratedRun:
    """Cheap probes, an imputed prior, then ``n_curricula`` curricula chosen by calibrated search.

    Parameters
    ----------
    runner : Runner
        Any runner protocol implementation (:mod:`taskorder.estimate.runner`).
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

    Returns
    -------
    CalibratedRun

    Raises
    ------
    InvalidParameterError
        Out-of-range numbers or an unknown imputation method (checked before training).

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

    from taskorder.estimate import make_plan
    from taskorder.estimate.plan import derive_seed

    _check_run_arguments(n_curricula, curriculum_seeds, impute_method)
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
        prior, run, n_curricula=n_curricula, n_candidates=n_candidates, seed=seed
    )
    result = CalibratedRun(search, prior, campaign, curricula, directory / RESULT_NAME)
    text = json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
    result.path.write_text(text, encoding="utf-8")
    return result


def _check_run_arguments(n_curricula: int, curriculum_seeds: int, impute_method: str) -> None:
    """Refuse bad arguments of :func:`run_calibrated` before anything is trained."""
    from taskorder.estimate.impute import IMPUTATION_METHODS

    for name, value in (("n_curricula", n_curricula), ("curriculum_seeds", curriculum_seeds)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(
                f"The {name!r} parameter of run_calibrated must be an integer >= 1. Got {value!r}."
            )
    if impute_method not in IMPUTATION_METHODS:
        raise InvalidParameterError(
            f"The 'impute_method' parameter of run_calibrated must be one of "
            f"{', '.join(IMPUTATION_METHODS)}. Got {impute_method!r}."
        )


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
