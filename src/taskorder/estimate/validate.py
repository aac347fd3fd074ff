"""Validation: do the predicted outcomes of orders match what training actually does?

:func:`validate` trains complete curricula with a runner (the solver's order, the
rank rule's order, each outcome model's best order, random orders, or all ``n!``
orders) with several seeds, and compares, over orders:

- **Fidelity** per outcome model (:data:`taskorder.model.MODELS`): Spearman and
  Kendall correlation between the predicted weighted mean final score and the
  observed one (averaged over seeds), and the mean absolute error per task between
  predicted and observed final scores.
- **Noise ceiling**: the split-half reliability of the observed ranking. The seeds
  are split into two halves many times; ``r_half`` is the mean Spearman correlation
  between the two halves' order means; the Spearman-Brown formula
  ``rel = 2 r_half / (1 + r_half)`` gives the reliability of the all-seed mean, and
  ``ceiling = sqrt(max(rel, 0))`` is the correlation a perfect predictor of the true
  ranking could expect with the observed one. A model's Spearman cannot
  meaningfully exceed it. (Spearman-Brown is exact for Pearson correlations of
  parallel measurements; for Spearman it is the customary approximation.)
- **Order test** (:func:`order_test`): a two-way ANOVA over the trained orders and seeds
  (the same seed is the same starting state for every order): do the orders differ by
  more than seed noise at all? Its answer opens the verdict (``ORDER MATTERS HERE`` /
  ``ORDER CANNOT BE TOLD APART HERE``); ``benchmarks/evidence_ftest.py`` measures how
  often it is right against a truth trained with other seeds (docs/evidence.md).
- **Recommendation first**: the order :func:`taskorder.recommend.recommend` presents
  (label ``"recommended"``: the route chosen on the development worlds, with its run-time
  verdict on whether the probes separate orders in ``recommendation``), its realised
  percentile and :func:`taskorder.recommend.verdict`: plain
  sentences saying whether it beat the rank rule and a random order, and if not,
  whether seed noise (noise ceiling) or model error is the likely reason.
- **Realised rank**: where the recommended order, the solver's order, the rank rule's
  order, each model's best order and a random order fall among the evaluated orders by observed mean
  (:func:`taskorder.percentile.order_percentile`: strictly worse plus half the ties,
  so a random order scores 50 in expectation; over all orders when ``all_orders=True``).
- **GEM metrics** (ACC, BWT, FWT) of every order, averaged over seeds.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.estimate.curricula import CurriculumRun, run_curricula
from taskorder.estimate.executors import Executor
from taskorder.exceptions import InvalidMatrixError, InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.model import MODELS, predict_many
from taskorder.percentile import order_percentile, rank_of
from taskorder.recommend import Recommendation, recommend
from taskorder.seeds import derive_seed

__all__ = [
    "MAX_ALL_ORDERS",
    "ORDER_TEST_ALPHA",
    "ValidationReport",
    "noise_ceiling",
    "order_test",
    "validate",
]

#: ``all_orders=True`` is accepted up to this many tasks (6! = 720 orders).
MAX_ALL_ORDERS = 6
#: Level of :func:`order_test` (the textbook 5 %, not tuned on any world).
ORDER_TEST_ALPHA = 0.05


@dataclass(frozen=True)
class ValidationReport:
    """The result of :func:`validate`; :meth:`to_dict` is its JSON form.

    Attributes
    ----------
    tasks : tuple of str
    orders : list of dict
        One per evaluated order: ``order``, ``labels`` (``"recommended"``, ``"solver"``,
        ``"rank_rule"``,
        ``"best:<model>"``, ``"random_<k>"``), ``observed_mean`` and its
        ``observed_se`` over seeds, ``observed_final`` (per task, seed mean),
        ``predicted`` (``{model: {"mean", "scores"}}``) and ``gem`` (seed means).
    models : dict
        Per model: ``spearman``, ``kendall``, ``mae``, ``mae_per_task``, or ``skipped``
        with the reason.
    noise_ceiling : dict
        ``r_half``, ``reliability``, ``ceiling``, ``n_splits``.
    order_test : dict
        :func:`order_test` over every evaluated order and seed: do the orders differ
        by more than seed noise?
    realised : dict
        Per label: ``rank`` (1 = best), ``percentile`` and ``observed_mean``.
    assumptions : dict
        Where the models' error comes from (empty without ``own_scores``):
        ``own_stage_drift`` per task, the mean of (score right after the task's own
        stage in a curriculum) - (``own_scores``, its probed score after training from
        the starting state), and ``own_stage_mae``: ``"backward_only"`` and
        ``"multiplicative"`` assume this drift is 0, ``"additive"`` attributes it to
        forward transfer. ``loss_mae`` per model, the mean
        absolute error of the predicted change *after* the own stage (observed: final
        score - score right after the own stage; predicted from ``bwt`` with the
        observed own-stage score), which isolates the transfer part of the model.
    recommendation : dict
        :meth:`taskorder.recommend.Recommendation.to_dict` of the recommended order.
    verdict : list of str
        :func:`taskorder.recommend.verdict`: how the recommended order did, in words.
    gains : dict
        Observed mean of the recommended order minus the mean of the random orders
        (with every order evaluated: of all orders, the exact expectation of a random
        order), with a paired standard error over seeds.
    seeds, steps, n_orders, elapsed_s
    """

    tasks: tuple[str, ...]
    orders: list[dict[str, Any]]
    models: dict[str, dict[str, Any]]
    noise_ceiling: dict[str, float]
    realised: dict[str, dict[str, float]]
    gains: dict[str, float]
    seeds: int
    steps: int
    n_orders: int
    elapsed_s: float
    notes: list[str] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)
    recommendation: dict[str, Any] = field(default_factory=dict)
    order_test: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> list[str]:
        """How the recommended order did, in plain sentences (:func:`taskorder.recommend.verdict`)."""
        from taskorder.recommend import verdict

        return verdict(
            {
                "realised": self.realised,
                "noise_ceiling": self.noise_ceiling,
                "n_orders": self.n_orders,
                "order_test": self.order_test,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes ``None``)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float):
                return None if not math.isfinite(value) else value
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        return clean(
            {
                "tasks": list(self.tasks),
                "recommendation": self.recommendation,
                "verdict": self.verdict,
                "seeds": self.seeds,
                "steps": self.steps,
                "n_orders": self.n_orders,
                "elapsed_s": self.elapsed_s,
                "models": self.models,
                "noise_ceiling": self.noise_ceiling,
                "order_test": self.order_test,
                "realised": self.realised,
                "gains": self.gains,
                "assumptions": self.assumptions,
                "notes": self.notes,
                "orders": self.orders,
            }
        )


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(spearmanr(a, b).statistic)


def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(kendalltau(a, b).statistic)


def noise_ceiling(
    per_seed: np.ndarray, *, max_splits: int = 200, seed: int = 0
) -> dict[str, float]:
    """Split-half reliability of the ranking of orders across seeds.

    Parameters
    ----------
    per_seed : ndarray, shape (n_orders, n_seeds)
        Observed outcome of every order under every seed.
    max_splits : int, default 200
        Random half-splits when there are more than this many distinct ones.
    seed : int
        Seed of the random splits.

    Returns
    -------
    dict
        ``r_half`` (mean Spearman between half means), ``reliability``
        (Spearman-Brown), ``ceiling`` (``sqrt(max(reliability, 0))``), ``n_splits``.
        NaN with fewer than 2 seeds or 3 orders.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = np.arange(10.0)
    >>> clean = noise_ceiling(truth[:, None] + 0.01 * rng.normal(size=(10, 4)))
    >>> round(clean["ceiling"], 3)
    1.0
    >>> noisy = noise_ceiling(rng.normal(size=(10, 4)))
    >>> noisy["ceiling"] < 0.9
    True
    """
    n_orders, n_seeds = per_seed.shape
    nan = {"r_half": math.nan, "reliability": math.nan, "ceiling": math.nan, "n_splits": 0}
    if n_seeds < 2 or n_orders < 3:
        return nan
    half = n_seeds // 2
    splits = [
        c for c in itertools.combinations(range(n_seeds), half) if 0 in c or 2 * half != n_seeds
    ]
    if len(splits) > max_splits:
        rng = np.random.default_rng(seed)
        splits = [tuple(rng.choice(n_seeds, size=half, replace=False)) for _ in range(max_splits)]
    values = []
    for first in splits:
        second = [s for s in range(n_seeds) if s not in first]
        r = _spearman(per_seed[:, list(first)].mean(axis=1), per_seed[:, second].mean(axis=1))
        if not math.isnan(r):
            values.append(r)
    if not values:
        return {**nan, "n_splits": len(splits)}
    r_half = float(np.mean(values))
    reliability = 2 * r_half / (1 + r_half) if r_half > -1 else -1.0
    return {
        "r_half": r_half,
        "reliability": reliability,
        "ceiling": math.sqrt(max(reliability, 0.0)),
        "n_splits": len(values),
    }


def order_test(per_seed: np.ndarray, *, alpha: float = ORDER_TEST_ALPHA) -> dict[str, Any]:
    """Do the trained orders differ by more than seed noise? A two-way ANOVA.

    Every order is trained with the same seeds (seed index ``s`` is the same starting
    state and evaluation seed for every order), so the table is orders x seeds without
    replication: F is the orders' mean square over the residual (order x seed) mean
    square, with ``(k - 1, (k - 1)(s - 1))`` degrees of freedom.

    Parameters
    ----------
    per_seed : ndarray, shape (n_orders, n_seeds)
        Observed outcome of every order under every seed.
    alpha : float, default :data:`ORDER_TEST_ALPHA`
        The orders differ (``matters``) when ``p < alpha``.

    Returns
    -------
    dict
        ``f``, ``p``, ``df_orders``, ``df_residual``, ``alpha`` and ``matters`` (None, with
        NaN ``f`` and ``p``, for fewer than 2 orders or 2 seeds). A residual of 0 gives
        ``p`` 0 when the orders differ and 1 when nothing does.

    Examples
    --------
    >>> order_test(np.array([[0.5, 0.6, 0.7], [0.4, 0.5, 0.6]]))["matters"]  # a constant gap
    True
    >>> result = order_test(np.array([[0.5, 0.4, 0.7], [0.4, 0.6, 0.5]]))  # seed noise
    >>> round(result["p"], 3), result["matters"]
    (0.808, False)
    """
    from scipy.stats import f as f_distribution

    per_seed = np.asarray(per_seed, dtype=float)
    k, s = per_seed.shape
    out: dict[str, Any] = {"f": math.nan, "p": math.nan, "df_orders": k - 1,
                           "df_residual": (k - 1) * (s - 1), "alpha": alpha, "matters": None}  # fmt: skip
    if k < 2 or s < 2:
        return out
    means = per_seed.mean(axis=1, keepdims=True)
    residual = per_seed - means - per_seed.mean(axis=0) + per_seed.mean()
    ss_orders = s * float(((means - per_seed.mean()) ** 2).sum())
    ss_residual = float((residual**2).sum())
    tol = 1e-12 * max(1.0, float(np.abs(per_seed).max()))
    if ss_residual <= tol:
        out["p"] = 0.0 if ss_orders > tol else 1.0
        out["f"] = math.inf if ss_orders > tol else math.nan
    else:
        out["f"] = (ss_orders / out["df_orders"]) / (ss_residual / out["df_residual"])
        out["p"] = float(f_distribution.sf(out["f"], out["df_orders"], out["df_residual"]))
    out["matters"] = bool(out["p"] < alpha)
    return out


def _choose_orders(
    matrix: TransferMatrix,
    models: Sequence[str],
    objective: str,
    n_random: int,
    all_orders: bool,
    seed: int,
    notes: list[str],
    recommendation: Recommendation,
) -> dict[tuple[str, ...], list[str]]:
    from taskorder.solvers import solve

    labelled: dict[tuple[str, ...], list[str]] = {}

    def add(order: Sequence[str], label: str) -> None:
        labelled.setdefault(tuple(order), []).append(label)

    add(recommendation.order, "recommended")
    add(solve(matrix, objective=objective, seed=seed).order, "solver")
    add(solve(matrix, method="rank", objective=objective).order, "rank_rule")
    for model in models:
        try:
            add(
                solve(matrix, model=model, objective=objective, seed=seed).order,
                f"best:{model}",
            )
        except InvalidMatrixError as error:
            notes.append(f"model {model!r} skipped: {error}")
    rng = np.random.default_rng(derive_seed(seed, "validate", "orders"))
    for k in range(n_random):
        add(tuple(matrix.tasks[t] for t in rng.permutation(matrix.n_tasks)), f"random_{k}")
    if all_orders:
        for order in itertools.permutations(matrix.tasks):
            labelled.setdefault(order, [])
    return labelled


def _percentile(values: np.ndarray, k: int) -> tuple[int, float]:
    """Rank (1 = best) and :func:`taskorder.percentile.order_percentile` of order ``k``."""
    return rank_of(values, values[k]), order_percentile(values, values[k])


def validate(
    runner: Any,
    matrix: TransferMatrix,
    *,
    seeds: int = 4,
    steps: int = 40,
    n_random: int = 10,
    all_orders: bool = False,
    models: Sequence[str] = MODELS,
    objective: str = "all_pairs",
    seed: int = 0,
    executor: Executor | str = "inprocess",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationReport:
    """Train several curricula with ``runner`` and measure how well ``matrix`` predicts them.

    Parameters
    ----------
    runner : Runner
        The same runner (and configuration) the matrix was probed with.
    matrix : TransferMatrix
        Complete, with ``own_scores`` (as a probe campaign writes it) so that
        predictions are absolute final scores.
    seeds : int, default 4
        Seeds per order (2 or more for a noise ceiling; 4 or more recommended).
    steps : int, default 40
        Steps per stage; use the probe campaign's.
    n_random : int, default 10
        Random orders (seeded) besides the solver's, the rank rule's and each
        model's best order.
    all_orders : bool, default False
        Also run every order (``n <= 6``); percentiles are then over all orders.
    models : sequence of str
        Outcome models to compare (default: all of :data:`taskorder.model.MODELS`).
    objective : {"all_pairs", "adjacent"}
    seed : int, default 0
        Root seed of the curricula and of the random orders.
    executor, workers
        Where the seeds run; see :mod:`taskorder.estimate.executors`.
    progress : callable, optional
        Called with ``(seeds done, seeds)`` (see :func:`run_curricula`).

    Returns
    -------
    ValidationReport

    Raises
    ------
    InvalidParameterError
        Bad counts, unknown models, ``all_orders`` with more than 6 tasks.
    MissingEntriesError
        The matrix has missing entries (impute them first).

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.estimate import make_plan, run_campaign
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=2)
    >>> estimate = run_campaign(runner, make_plan(runner.tasks, steps=10), tempfile.mkdtemp()).estimate
    >>> report = validate(runner, estimate.matrix, seeds=2, steps=10, all_orders=True)
    >>> report.n_orders, sorted(report.models)
    (6, ['additive', 'backward_only', 'multiplicative'])
    """
    start = time.perf_counter()
    for name, value, low in (("seeds", seeds, 1), ("n_random", n_random, 0), ("steps", steps, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidParameterError(
                f"The {name!r} parameter of validate must be an integer >= {low}. Got {value!r}."
            )
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InvalidParameterError(
            f"The 'models' parameter of validate must name models among {', '.join(MODELS)}. "
            f"Got {unknown}."
        )
    if all_orders and matrix.n_tasks > MAX_ALL_ORDERS:
        raise InvalidParameterError(
            f"The 'all_orders' option of validate runs n! curricula and accepts at most "
            f"{MAX_ALL_ORDERS} tasks. Got {matrix.n_tasks}; use n_random instead."
        )
    matrix.check_complete()
    notes: list[str] = []
    recommendation = recommend(matrix, objective=objective, seed=seed)
    labelled = _choose_orders(
        matrix, models, objective, n_random, all_orders, seed, notes, recommendation
    )
    runs = run_curricula(
        runner,
        list(labelled),
        seeds=seeds,
        steps=steps,
        seed=seed,
        executor=executor,
        workers=workers,
        progress=progress,
    )
    report = _analyse(matrix, labelled, runs, models, objective, seeds, seed, notes)
    return ValidationReport(
        **report,
        steps=steps,
        elapsed_s=time.perf_counter() - start,
        recommendation=recommendation.to_dict(),
    )


def _model_fidelity(
    matrix: TransferMatrix,
    index: np.ndarray,
    models: Sequence[str],
    objective: str,
    observed: np.ndarray,
    observed_final: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Predictions per model and their Spearman, Kendall and MAE against the observations."""
    weights = matrix.weights / matrix.weights.sum()
    predictions: dict[str, np.ndarray] = {}
    stats: dict[str, dict[str, Any]] = {}
    for model in models:
        try:
            predictions[model] = predict_many(matrix, index, objective=objective, model=model)
        except InvalidMatrixError as error:
            stats[model] = {"skipped": str(error)}
            continue
        predicted_mean = predictions[model] @ weights
        errors = np.abs(predictions[model] - observed_final).mean(axis=0)
        stats[model] = {
            "spearman": _spearman(predicted_mean, observed),
            "kendall": _kendall(predicted_mean, observed),
            "mae": float(errors.mean()),
            "mae_per_task": dict(zip(matrix.tasks, errors.tolist())),
        }
    return predictions, stats


def _realised_ranks(
    labelled: dict[tuple[str, ...], list[str]],
    orders: list[tuple[str, ...]],
    per_seed: np.ndarray,
    seeds: int,
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Rank and percentile of every labelled order; the recommended order's gain over the reference."""
    observed = per_seed.mean(axis=1)
    realised: dict[str, dict[str, float]] = {}
    for k, order in enumerate(orders):
        for label in labelled[order]:
            rank, percentile = _percentile(observed, k)
            realised[label] = {
                "rank": rank,
                "percentile": percentile,
                "observed_mean": float(observed[k]),
            }
    random_ks = [
        k for k, o in enumerate(orders) if any(x.startswith("random_") for x in labelled[o])
    ]
    if random_ks:
        realised["random_mean"] = {
            "percentile": float(np.mean([_percentile(observed, k)[1] for k in random_ks]))
        }
    every_order = len(orders) == math.factorial(len(orders[0]))
    reference = list(range(len(orders))) if every_order else random_ks
    chosen_k = next(k for k, o in enumerate(orders) if "recommended" in labelled[o])
    gains: dict[str, Any] = {}
    if reference:
        diff = per_seed[chosen_k] - per_seed[reference].mean(axis=0)
        gains = {
            "recommended_minus_reference": float(diff.mean()),
            "se": float(diff.std(ddof=1) / math.sqrt(seeds)) if seeds > 1 else math.nan,
            "reference": "all orders" if every_order else f"{len(random_ks)} random orders",
        }
    return realised, gains


def _assumptions(
    matrix: TransferMatrix,
    by_order: dict[tuple[str, ...], list[CurriculumRun]],
    orders: list[tuple[str, ...]],
    objective: str,
) -> dict[str, Any]:
    """Own-stage drift and the error of the predicted change after the own stage."""
    if matrix.own_scores is None or np.isnan(matrix.own_scores).any():
        return {}
    tasks, own = matrix.tasks, matrix.own_scores
    drift: list[list[float]] = [[] for _ in tasks]
    errors: dict[str, list[float]] = {"additive": [], "multiplicative": []}
    positive = bool((own > 0).all())
    for order in orders:
        idx = [tasks.index(t) for t in order]
        for run in by_order[order]:
            accuracy, _ = run.accuracy_matrix()
            for position, task in enumerate(idx):
                after_own = accuracy[position, position]
                drift[task].append(after_own - own[task])
                if objective == "all_pairs":
                    later = idx[position + 1 :]
                else:
                    later = idx[position + 1 : position + 2]
                observed = accuracy[-1, position] - after_own
                errors["additive"].append(abs(observed - matrix.bwt[task, later].sum()))
                if positive:
                    keep = np.maximum(0.0, 1.0 + matrix.bwt[task, later] / own[task]).prod()
                    errors["multiplicative"].append(abs(observed - after_own * (keep - 1.0)))
    return {
        "own_stage_drift": {t: float(np.mean(d)) for t, d in zip(tasks, drift)},
        "own_stage_mae": float(np.mean([abs(x) for d in drift for x in d])),
        "loss_mae": {m: float(np.mean(e)) for m, e in errors.items() if e},
    }


def _order_row(
    tasks: Sequence[str],
    order: tuple[str, ...],
    labels: list[str],
    runs: list[CurriculumRun],
    observed_mean: float,
    observed_se: float,
    observed_final: np.ndarray,
    predicted: dict[str, np.ndarray],
    weights: np.ndarray,
) -> dict[str, Any]:
    """The report entry of one order: observed and predicted outcomes, GEM metrics."""
    gem = [run.gem() for run in runs]
    return {
        "order": list(order),
        "labels": labels,
        "observed_mean": observed_mean,
        "observed_se": observed_se,
        "observed_final": dict(zip(tasks, observed_final.tolist())),
        "predicted": {
            m: {"mean": float(scores @ weights), "scores": dict(zip(tasks, scores.tolist()))}
            for m, scores in predicted.items()
        },
        "gem": {
            "acc": float(np.mean([g.acc for g in gem])),
            "bwt": float(np.mean([g.bwt for g in gem])),
            "fwt": float(np.mean([g.fwt for g in gem])),
        },
    }


def _analyse(
    matrix: TransferMatrix,
    labelled: dict[tuple[str, ...], list[str]],
    runs: list[CurriculumRun],
    models: Sequence[str],
    objective: str,
    seeds: int,
    seed: int,
    notes: list[str],
) -> dict[str, Any]:
    tasks = matrix.tasks
    orders = sorted(labelled)
    weights = matrix.weights / matrix.weights.sum()
    by_order: dict[tuple[str, ...], list[CurriculumRun]] = {}
    for run in runs:
        by_order.setdefault(run.order, []).append(run)
    # final[k, s, t]: observed final score of task t (matrix order) for order k, seed s.
    final = np.array(
        [[[run.final[t] for t in tasks] for run in by_order[order]] for order in orders]
    )
    per_seed = final @ weights  # (orders, seeds)
    observed = per_seed.mean(axis=1)
    observed_final = final.mean(axis=1)
    index = np.array([[tasks.index(t) for t in order] for order in orders])
    predictions, model_stats = _model_fidelity(
        matrix, index, models, objective, observed, observed_final
    )
    realised, gains = _realised_ranks(labelled, orders, per_seed, seeds)
    assumptions = _assumptions(matrix, by_order, orders, objective)
    spread = (
        per_seed.std(axis=1, ddof=1) / math.sqrt(seeds)
        if seeds > 1
        else np.full(len(orders), np.nan)
    )
    order_rows = [
        _order_row(
            tasks,
            order,
            labelled[order],
            by_order[order],
            float(observed[k]),
            float(spread[k]),
            observed_final[k],
            {m: p[k] for m, p in predictions.items()},
            weights,
        )
        for k, order in enumerate(orders)
    ]
    return {
        "tasks": tasks,
        "orders": order_rows,
        "models": model_stats,
        "noise_ceiling": noise_ceiling(per_seed, seed=derive_seed(seed, "validate", "splits")),
        "order_test": order_test(per_seed),
        "realised": realised,
        "gains": gains,
        "assumptions": assumptions,
        "seeds": seeds,
        "n_orders": len(orders),
        "notes": notes,
    }
