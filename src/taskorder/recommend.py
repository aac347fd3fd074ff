"""The recommendation: which order taskorder presents as *the* answer, and why.

:func:`recommend` turns a probed matrix into one order by the route that won on the
development worlds of ``benchmarks/evidence.py`` (docs/evidence.md):

1. **Default route** :data:`DEFAULT_ROUTE`: an outcome model's exact optimum
   (``"additive"``, ``"backward_only"`` or ``"multiplicative"``, see
   :mod:`taskorder.model`) or the rank rule (``"rank_rule"``: least to most forgettable,
   :mod:`taskorder.solvers.heuristics.rank`), whichever had the highest median
   realised percentile over the development worlds (0-49) in both learner modes.
   It was chosen there only; held-out worlds are reported, never tuned on.
2. **Separation check**: the probes carry standard errors (``bwt_stderr``, from
   ``repeats >= 2``). The predicted gain of the chosen order over the mean random
   order is recomputed on ``samples`` matrices redrawn within those errors; when the
   gain is below ``z`` standard deviations of that spread, the probes cannot separate
   orders, and a model route falls back to the rank rule (the most robust route on
   the development worlds), with the advice to re-plan during training
   (``taskorder train --replan``) or run a calibrated search instead of trusting one
   plan.

3. **Training route**: on the development worlds re-planning during training
   (:func:`taskorder.replan.replan_training`, ``taskorder train --replan``, horizon 3)
   beat every order fixed in advance in both modes, at about the training cost of one
   probe campaign (:data:`REPLAN_ADVICE`). :attr:`Recommendation.advice` says so; the
   fixed order is what to train when re-planning is not possible (and what
   ``validate`` can check, since it trains fixed orders).

Everything a caller presents (``solve``, ``demo``, ``validate``, ``compare``) should
present :attr:`Recommendation.order` first, with :attr:`Recommendation.reason`.
:func:`verdict` turns a validation report into the plain sentences ``validate`` and
``demo`` print: the recommended order's realised percentile and, when it loses to the
rank rule or to random, the likely reason (seed noise vs model error).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.matrix import TransferMatrix
from taskorder.model import MODELS, predict_many

__all__ = [
    "DEFAULT_ROUTE",
    "NOISE_CEILING_FLOOR",
    "REPLAN_ADVICE",
    "ROUTES",
    "SEPARATION_Z",
    "Recommendation",
    "recommend",
    "verdict",
]

#: Routes :func:`recommend` can take: an outcome model's optimum or the rank rule.
ROUTES = (*MODELS, "rank_rule")

#: The route with the best median realised percentile on the development worlds of
#: ``benchmarks/evidence.py`` (both modes). Chosen on worlds 0-17 (36 instances:
#: multiplicative 85.0, backward_only 79.2, rank_rule 66.2, additive 58.3) before any
#: held-out world was run; worlds 18-49 confirmed it (route table in docs/evidence.md).
DEFAULT_ROUTE = "multiplicative"

#: A model's predicted gain over random must exceed this many standard deviations of
#: its redrawn spread, or the recommendation falls back to the rank rule. Chosen on the
#: same development worlds (3 had the highest median; 2, 4 and 8 were lower or tied);
#: it changes the answer in only a few instances, so the evidence for it is thin.
SEPARATION_Z = 3.0

#: Below this noise ceiling (split-half reliability of the observed ranking, as
#: ``validate`` measures it) orders are not separable from seed noise.
NOISE_CEILING_FLOOR = 0.5

#: The advice every recommendation carries. Re-planning (horizon 3) was chosen on the
#: development worlds and confirmed on 40 held-out worlds per mode (docs/evidence.md):
#: median percentile 91.7 (exact) and 85.4 (sampled) against 78.8 and 66.7 for the order
#: fixed in advance, beating the mean random order in 40 and 37 of 40 worlds, at fewer
#: training stages than probing plus training (31 against 36, median).
REPLAN_ADVICE = (
    "if you train with taskorder, prefer re-planning during training (taskorder train "
    "--replan): on 40 held-out worlds per mode it beat the order fixed in advance (median "
    "percentile 91.7 vs 78.8 exact, 85.4 vs 66.7 sampled) at fewer training stages "
    "(docs/evidence.md)"
)

_MAX_ENUMERATED = 7  # up to 7! = 5040 orders for the random mean; more are sampled


@dataclass(frozen=True)
class Recommendation:
    """The order :func:`recommend` presents, with the route and its reason.

    Attributes
    ----------
    order : tuple of str
    route : str
        The route taken (one of :data:`ROUTES`).
    requested : str
        The route asked for (default :data:`DEFAULT_ROUTE`); differs from ``route``
        after a fallback.
    predicted_gain : float
        Predicted mean final score of ``order`` minus that of the mean random order,
        under the requested model (``backward_only`` for the rank rule).
    gain_sd : float
        Standard deviation of that gain over matrices redrawn within the probes'
        standard errors (NaN without standard errors).
    separable : bool or None
        ``predicted_gain > z * gain_sd``; None when it cannot be checked.
    reason : str
    advice : str
        :data:`REPLAN_ADVICE`, preceded by what to do when the probes cannot separate
        orders.
    """

    order: tuple[str, ...]
    route: str
    requested: str
    predicted_gain: float
    gain_sd: float
    separable: bool | None
    reason: str
    advice: str = REPLAN_ADVICE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes ``None``)."""
        data = asdict(self)
        data["order"] = list(self.order)
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in data.items()
        }


def _route_order(matrix: TransferMatrix, route: str, objective: str, seed: int) -> tuple:
    from taskorder.solvers import solve
    from taskorder.solvers.multiplicative import best_order

    if route == "rank_rule":
        bwt_only = matrix.replace(forward=None, forward_stderr=None)
        return tuple(solve(bwt_only, method="rank", objective=objective).order)
    return tuple(best_order(matrix, model=route, objective=objective, seed=seed).order)


def _orders_for_mean(n_tasks: int, rng: np.random.Generator) -> np.ndarray:
    if n_tasks <= _MAX_ENUMERATED:
        return np.array(list(itertools.permutations(range(n_tasks))))
    return np.array([rng.permutation(n_tasks) for _ in range(512)])


def _gain(
    matrix: TransferMatrix, chosen: np.ndarray, orders: np.ndarray, model: str, objective: str
) -> float:
    weights = matrix.weights / matrix.weights.sum()
    values = predict_many(matrix, np.vstack([chosen, orders]), objective=objective, model=model)
    means = values @ weights
    return float(means[0] - means[1:].mean())


def _usable_model(matrix: TransferMatrix, route: str) -> str:
    model = "backward_only" if route == "rank_rule" else route
    own = matrix.own_scores
    if model == "multiplicative" and (own is None or not np.all(np.nan_to_num(own) > 0)):
        return "backward_only"
    return model


def recommend(
    matrix: TransferMatrix,
    *,
    route: str | None = None,
    objective: str = "all_pairs",
    z: float = SEPARATION_Z,
    samples: int = 64,
    seed: int = 0,
) -> Recommendation:
    """The order to train, by the development-worlds route, checked against probe noise.

    Parameters
    ----------
    matrix : TransferMatrix
        Complete probed matrix; ``own_scores`` for the multiplicative model and
        ``bwt_stderr`` (probe ``repeats >= 2``) for the separation check.
    route : str, optional
        One of :data:`ROUTES`; default :data:`DEFAULT_ROUTE`.
    objective : {"all_pairs", "adjacent"}
    z : float, default :data:`SEPARATION_Z`
        Standard deviations the predicted gain must clear.
    samples : int, default 64
        Matrices redrawn within the standard errors.
    seed : int
        Seed of the redraws and of the solvers.

    Returns
    -------
    Recommendation

    Raises
    ------
    InvalidParameterError
        Unknown route, ``samples < 2`` or ``z < 0``.

    Examples
    --------
    >>> m = TransferMatrix(["a", "b", "c"], [[0, -0.3, -0.3], [-0.1, 0, 0], [0, -0.2, 0]],
    ...                    own_scores=[0.6, 0.5, 0.4])
    >>> rec = recommend(m, route="backward_only")
    >>> rec.order, rec.route, rec.separable
    (('b', 'c', 'a'), 'backward_only', None)
    >>> noisy = m.replace(bwt_stderr=[[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    >>> fallback = recommend(noisy, route="backward_only")
    >>> fallback.route, fallback.separable
    ('rank_rule', False)
    """
    requested = DEFAULT_ROUTE if route is None else route
    _check_recommend_arguments(requested, z, samples)
    matrix.check_complete()
    model = _usable_model(matrix, requested)
    taken = requested if requested == "rank_rule" else model
    order = _route_order(matrix, taken, objective, seed)
    rng = np.random.default_rng(seed)
    index = {t: k for k, t in enumerate(matrix.tasks)}
    chosen = np.array([index[t] for t in order])
    orders = _orders_for_mean(matrix.n_tasks, rng)
    gain = _gain(matrix, chosen, orders, model, objective)
    stderr = matrix.bwt_stderr
    if stderr is None or not np.isfinite(stderr[~np.eye(matrix.n_tasks, dtype=bool)]).all():
        note = "" if taken == requested else f" ({requested} needs positive own scores)"
        return Recommendation(
            order,
            taken,
            requested,
            gain,
            math.nan,
            None,
            f"route {taken}{note}; no probe standard errors (repeats = 1), so whether the "
            "probes separate orders was not checked",
        )
    gains = []
    for _ in range(samples):
        redrawn = matrix.bwt + np.nan_to_num(stderr) * rng.standard_normal(matrix.bwt.shape)
        gains.append(_gain(matrix.replace(bwt=redrawn), chosen, orders, model, objective))
    spread = float(np.std(gains, ddof=1))
    return _separation_verdict(matrix, order, taken, requested, objective, z, seed, gain, spread)


def _check_recommend_arguments(requested: str, z: float, samples: int) -> None:
    if requested not in ROUTES:
        raise InvalidParameterError(
            f"The 'route' parameter of recommend must be one of {', '.join(ROUTES)}. "
            f"Got {requested!r}."
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise InvalidParameterError(
            f"The 'samples' parameter of recommend must be an integer >= 2. Got {samples!r}."
        )
    if not z >= 0:
        raise InvalidParameterError(f"The 'z' parameter of recommend must be >= 0. Got {z!r}.")


def _separation_verdict(
    matrix: TransferMatrix,
    order: tuple[str, ...],
    taken: str,
    requested: str,
    objective: str,
    z: float,
    seed: int,
    gain: float,
    spread: float,
) -> Recommendation:
    """The recommendation once the gain and its spread under probe noise are known.

    Keeps ``order`` when the gain clears ``z`` spreads; otherwise falls back to the rank
    rule's order, with advice on what to do instead.
    """
    separable = bool(gain > z * spread)
    if separable:
        noise = (
            f"{gain / spread:.1f} sd of probe noise"
            if spread > 0
            else "above zero, and the probes show no noise (standard errors 0)"
        )
        reason = f"route {taken}: predicted gain over a random order {gain:.4f} is {noise}"
        return Recommendation(order, taken, requested, gain, spread, True, reason)
    advice = (
        "the probes cannot separate orders: re-plan during training, run a calibrated "
        "search over a few curricula (taskorder.calibrate), or probe with more "
        "repeats; " + REPLAN_ADVICE
    )
    if taken != "rank_rule":
        order = _route_order(matrix, "rank_rule", objective, seed)
        taken = "rank_rule"
    reason = (
        f"predicted gain over a random order {gain:.4f} is within {z:g} sd "
        f"({spread:.4f}) of probe noise; showing the rank rule's order"
    )
    return Recommendation(order, taken, requested, gain, spread, False, reason, advice)


def verdict(report: dict[str, Any]) -> list[str]:
    """Plain sentences on how the recommended order did in a validation report.

    Parameters
    ----------
    report : dict
        :meth:`taskorder.estimate.validate.ValidationReport.to_dict` with a
        ``"recommended"`` entry in ``realised``.

    Returns
    -------
    list of str
        First the recommended order's realised percentile; then, if it loses to the
        rank rule or to random (the mean random order, percentile 50), the likely
        reason: seed noise when the noise ceiling is below
        :data:`NOISE_CEILING_FLOOR`, otherwise model error.

    Examples
    --------
    >>> report = {"realised": {"recommended": {"percentile": 40.0, "rank": 4},
    ...                        "rank_rule": {"percentile": 80.0, "rank": 2}},
    ...           "noise_ceiling": {"ceiling": 0.3}, "n_orders": 6}
    >>> for line in verdict(report):
    ...     print(line)
    recommended order: realised percentile 40 (rank 4 of 6; a random order scores 50)
    it LOSES to the rank rule (percentile 80) and to a random order (50)
    likely reason: seed noise. The noise ceiling is 0.30 (< 0.5): repeated training runs do not agree on the ranking of orders, so no order can be told apart reliably here.
    """
    realised = report.get("realised", {})
    mine = realised.get("recommended")
    if not mine:
        return ["no recommended order in this report"]
    pct = mine["percentile"]
    first = (
        f"recommended order: realised percentile {pct:.0f} (rank {mine['rank']} of "
        f"{report.get('n_orders', '?')}; a random order scores 50)"
    )
    lines = [first]
    losses = []
    rank_rule = realised.get("rank_rule")
    if rank_rule and rank_rule["percentile"] > pct + 1e-9:
        losses.append(f"the rank rule (percentile {rank_rule['percentile']:.0f})")
    if pct < 50:
        losses.append("a random order (50)")
    ceiling = (report.get("noise_ceiling") or {}).get("ceiling")
    noisy = ceiling is not None and math.isfinite(ceiling) and ceiling < NOISE_CEILING_FLOOR
    if not losses:
        lines.append(
            "it beats a random order" + (" and matches or beats the rank rule" if rank_rule else "")
        )
        if noisy:
            lines.append(
                f"caution: the noise ceiling is {ceiling:.2f} (< {NOISE_CEILING_FLOOR:g}); "
                "orders are not separable from seed noise here, so this win may be luck."
            )
        return lines
    lines.append("it LOSES to " + " and to ".join(losses))
    if ceiling is None or not math.isfinite(ceiling):
        lines.append("likely reason: unknown (no noise ceiling: run 2 or more seeds)")
    elif ceiling < NOISE_CEILING_FLOOR:
        lines.append(
            f"likely reason: seed noise. The noise ceiling is {ceiling:.2f} (< "
            f"{NOISE_CEILING_FLOOR:g}): repeated training runs do not agree on the ranking of "
            "orders, so no order can be told apart reliably here."
        )
    else:
        lines.append(
            f"likely reason: model error. The noise ceiling is {ceiling:.2f}, so the ranking "
            "of orders is reproducible, but the probed matrix predicts it poorly (see the "
            "models' Spearman); prefer re-planning (taskorder train --replan) or a "
            "calibrated search."
        )
    return lines
