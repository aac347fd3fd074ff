"""``compare``: curriculum orders vs joint, interleaved, block training and model merging."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taskorder.checks import check_choice, check_int
from taskorder.compare import merging, online_methods, schedules
from taskorder.compare.report import ALPHA, CompareReport, Comparison, MethodResult
from taskorder.compare.stats import paired_p_value, relative_gain, relative_performance
from taskorder.exceptions import InvalidParameterError
from taskorder.seeds import derive_seed

__all__ = ["METHODS", "CompareReport", "Comparison", "MethodResult", "compare"]

#: Every method ``compare`` knows, in report order; ``"random"`` adds ``n_random`` rows.
METHODS = (
    "solver",
    "rank_rule",
    "refresh",
    "hybrid",
    "random",
    "joint",
    "interleaved",
    "blocks",
    "sec",
    "tac",
    "worst_task",
    "merge_average",
    "merge_task_arithmetic",
    "merge_ties",
)


def _probe(
    runner: Any, stage_steps: int, seed: int, directory: str | Path | None
) -> tuple[Any, dict[str, Any]]:
    """Probe the matrix; return it (forward, own scores, standard errors) and the probe's cost."""
    from taskorder.estimate import make_plan, run_campaign

    plan = make_plan(runner.tasks, steps=stage_steps, seed=seed)
    folder = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="taskorder-compare-"))
    result = run_campaign(runner, plan, folder)
    matrix = result.estimate.matrix
    steps = sum(p.steps for p in plan.probes() if p.kind != "base")
    info = {
        "directory": str(folder),
        "probes": len(plan.probes()),
        "training_steps": steps,
        "elapsed_s": result.elapsed_s,
        "bwt": matrix.bwt.tolist(),
    }
    return matrix, info


#: Methods whose plan comes from the probed matrix.
PROBED = ("solver", "rank_rule", "refresh", "hybrid")


def _curricula(
    runner: Any,
    methods: Sequence[str],
    n_random: int,
    seed: int,
    stage_steps: int,
    probe_dir: str | Path | None,
    matrix: Any = None,
    *,
    notes: list[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    probe_steps: int | None = None,
) -> tuple[dict[str, tuple], dict[str, Any] | None]:
    """The plans of the probed methods and the random orders, and the probe's record."""
    out: dict[str, tuple] = {}
    probe = None
    notes = [] if notes is None else notes
    if "hybrid" in methods and online_methods.online_kind(runner) is None:
        notes.append(online_methods.skip_note("hybrid", runner))
        methods = [m for m in methods if m != "hybrid"]
    if set(methods) & set(PROBED):
        if matrix is None:
            matrix, probe = _probe(runner, stage_steps, seed, probe_dir)
        else:
            probe = _given_probe(runner, matrix, probe_steps, notes)
        out.update(_probed_plans(matrix, methods, seed, stage_steps, probe, options))
    if "random" in methods:
        out.update(_random_orders(runner.tasks, n_random, seed, stage_steps))
    return out, probe


def _given_probe(
    runner: Any, matrix: Any, probe_steps: int | None, notes: list[str]
) -> dict[str, Any]:
    """The probe record of a matrix passed to ``compare`` (no campaign runs)."""
    if sorted(matrix.tasks) != sorted(runner.tasks):
        raise InvalidParameterError(
            f"The 'matrix' parameter of compare must cover the runner's tasks "
            f"{sorted(runner.tasks)}. Got a matrix of {sorted(matrix.tasks)}."
        )
    probe = {
        "directory": None,
        "probes": 0,
        "training_steps": probe_steps or 0,
        "elapsed_s": 0.0,
        "bwt": matrix.bwt.tolist(),
        "given": True,
    }
    if probe_steps is None:
        notes.append(
            "matrix given without its probe cost: probe_steps counted as 0 "
            "(pass probe_steps to count it)."
        )
    return probe


def _probed_plans(
    matrix: Any,
    methods: Sequence[str],
    seed: int,
    stage_steps: int,
    probe: dict[str, Any],
    options: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, tuple]:
    """Plans of the methods of :data:`PROBED` in ``methods``, from ``matrix``; records the
    recommendation, the orders and the refresh / hybrid plans in ``probe`` (in place)."""
    from taskorder.recommend import recommend
    from taskorder.solvers import solve

    out: dict[str, tuple] = {}
    recommendation = recommend(matrix, seed=seed)
    bwt_only = matrix.replace(forward=None, forward_stderr=None)
    orders = {
        "solver": recommendation.order,
        "rank_rule": solve(bwt_only, method="rank").order,
    }
    probe["recommendation"] = recommendation.to_dict()
    for name in ("solver", "rank_rule"):
        if name in methods:
            out[name] = (
                "curriculum",
                " > ".join(orders[name]),
                schedules.sequential(orders[name], stage_steps),
            )
    probe["orders"] = {k: list(v) for k, v in orders.items()}
    if "refresh" in methods:
        kind, text, schedule, info = online_methods.refresh_schedule(
            matrix, orders["solver"], stage_steps
        )
        out["refresh"] = (kind, text, schedule)
        probe["refresh"] = info
    if "hybrid" in methods:
        kind, text, recipe, info = online_methods.hybrid_recipe(
            matrix, orders["solver"], stage_steps, (options or {}).get("hybrid", {})
        )
        out["hybrid"] = (kind, text, recipe)
        probe["hybrid"] = info
    return out


def _random_orders(
    tasks: Sequence[str], n_random: int, seed: int, stage_steps: int
) -> dict[str, tuple]:
    """``n_random`` seeded random curricula, ``random_0``, ``random_1``, ..."""
    out: dict[str, tuple] = {}
    rng = np.random.default_rng(derive_seed(seed, "compare", "orders"))
    for k in range(n_random):
        order = tuple(tasks[t] for t in rng.permutation(len(tasks)))
        out[f"random_{k}"] = (
            "curriculum",
            " > ".join(order),
            schedules.sequential(order, stage_steps),
        )
    return out


def _mixtures(
    tasks: tuple[str, ...],
    methods: Sequence[str],
    stage_steps: int,
    groups: Sequence[Sequence[str]] | None,
    notes: list[str],
) -> dict[str, tuple]:
    n = len(tasks)
    out: dict[str, tuple] = {}
    if "joint" in methods:
        out["joint"] = (
            "mixture",
            f"one stage, every task 1/{n}, {n * stage_steps} steps",
            schedules.joint(tasks, stage_steps),
        )
    if "interleaved" in methods:
        rounds = min(n, stage_steps)
        out["interleaved"] = (
            "mixture",
            f"{rounds} round-robin rounds of {n} single-task stages",
            schedules.interleaved(tasks, stage_steps, rounds=rounds),
        )
    if "blocks" in methods:
        try:
            chosen = schedules.group_by_prefix(tasks) if groups is None else groups
        except InvalidParameterError as error:
            notes.append(f"blocks skipped: {error}")
        else:
            text = " then ".join("{" + ", ".join(g) + "}" for g in chosen)
            out["blocks"] = ("mixture", text, schedules.blocks(chosen, stage_steps))
    return out


def _merge_variants(runner: Any, methods: Sequence[str], notes: list[str]) -> list[str]:
    from importlib.util import find_spec

    chosen = [m for m in methods if m in merging.MERGE_VARIANTS]
    if chosen and not merging.supports_merging(runner):
        notes.append(
            f"merging skipped: {type(runner).__name__} defines no state_to_params / "
            "params_to_state (see taskorder.compare.merging)."
        )
        return []
    if "merge_ties" in chosen and (find_spec("torch") is None or find_spec("peft") is None):
        chosen.remove("merge_ties")
        notes.append("merge_ties skipped: needs torch and peft (pip install 'taskorder[trl]').")
    return chosen


def _run_seed(
    runner: Any,
    plans: dict[str, tuple],
    variants: Sequence[str],
    stage_steps: int,
    seed: int,
    s: int,
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, tuple[float, float]]]:
    """Every method's final scores for seed index ``s``, the specialists' scores, and the
    online methods' ``(overhead_s, elapsed_s)``."""
    tasks = runner.tasks
    base = runner.initial_state(derive_seed(seed, "compare", "init", s))
    eval_seed = derive_seed(seed, "compare", "eval", s)

    def measure(state: Any) -> np.ndarray:
        return np.array([runner.evaluate(state, t, seed=eval_seed).score for t in tasks])

    specialists = [
        runner.train(
            base,
            t,
            steps=stage_steps,
            seed=derive_seed(seed, "compare", "train", s, repr([(t, stage_steps)])),
        )
        for t in tasks
    ]
    own = np.array(
        [runner.evaluate(st, t, seed=eval_seed).score for st, t in zip(specialists, tasks)]
    )
    out: dict[str, np.ndarray] = {}
    timing: dict[str, tuple[float, float]] = {}
    for name, (_, _, schedule) in plans.items():
        if isinstance(schedule, online_methods.OnlineRecipe):
            state, overhead_s, elapsed_s = schedule.run(
                runner, base, derive_seed(seed, "compare", "train", s, name)
            )
            out[name] = measure(state)
            timing[name] = (overhead_s, elapsed_s)
            continue
        # A stage's seed depends on the schedule so far: equal prefixes give equal states.
        prefix = [
            (st.tasks if isinstance(st.tasks, str) else sorted(st.mixture.items()), st.steps)
            for st in schedule
        ]

        def seed_of(k: int, prefix=prefix) -> int:
            return derive_seed(seed, "compare", "train", s, repr(prefix[: k + 1]))

        out[name] = measure(schedules.run_schedule(runner, base, schedule, seed_of=seed_of))
    for variant in variants:
        merged = merging.merge_specialists(
            runner,
            base,
            specialists,
            variant=variant,
            seed=derive_seed(seed, "compare", "merge", s),
        )
        out[variant] = measure(merged)
    return out, own, timing


def _check_methods_and_counts(methods: Sequence[str], seeds: Any, n_random: Any, seed: Any) -> None:
    if isinstance(methods, str) or not methods:
        raise InvalidParameterError(
            f"The 'methods' parameter of compare must be a non-empty list of methods among "
            f"{list(METHODS)}. Got {methods!r}."
        )
    for method in methods:
        check_choice(method, METHODS, "methods", "compare")
    for name, value, low in (("seeds", seeds, 1), ("n_random", n_random, 0), ("seed", seed, 0)):
        check_int(value, name, "compare", minimum=low)


def _run_seeds(
    runner: Any,
    plans: dict[str, tuple],
    variants: Sequence[str],
    stage_steps: int,
    seed: int,
    seeds: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[dict[str, np.ndarray]], np.ndarray, list[dict[str, tuple[float, float]]]]:
    """:func:`_run_seed` for every seed index: the scores per seed, the specialists' scores
    (shape ``(seeds, n_tasks)``) and the online timings per seed."""
    runs, own, timings = [], [], []
    for s in range(seeds):
        scores, specialist, timing = _run_seed(runner, plans, variants, stage_steps, seed, s)
        runs.append(scores)
        own.append(specialist)
        timings.append(timing)
        if progress:
            progress(s + 1, seeds)
    return runs, np.array(own), timings


def _method_results(
    names: Sequence[str],
    plans: dict[str, tuple],
    runs: list[dict[str, np.ndarray]],
    timings: list[dict[str, tuple[float, float]]],
    specialist: np.ndarray,
    *,
    n_tasks: int,
    stage_steps: int,
    probe: dict[str, Any] | None,
) -> dict[str, MethodResult]:
    """The report row of every method in ``names`` (plans and merge variants), from every
    seed's run; the probed methods carry the probe campaign's training steps as their cost."""
    results = {}
    for name in names:
        if name in plans:
            kind, text, steps = (*plans[name][:2], plans[name][2].total_steps)
        else:
            method = merging.MERGE_VARIANTS[name]["method"]
            text = f"{n_tasks} specialists x {stage_steps} steps, merged ({method})"
            kind, steps = "merge", n_tasks * stage_steps
        scores = np.array([run[name] for run in runs])
        timing = np.array([t.get(name, (0.0, 0.0)) for t in timings]).mean(axis=0)
        results[name] = MethodResult(
            name,
            kind,
            text,
            steps,
            scores,
            relative_performance(scores, specialist),
            probe_steps=int(probe["training_steps"]) if name in PROBED and probe else 0,
            overhead_s=float(timing[0]),
            elapsed_s=float(timing[1]),
        )
    return results


def _comparisons(results: dict[str, MethodResult], reference: str) -> list[Comparison]:
    pairs = [(m, reference) for m in results if m != reference]
    if "solver" in results:
        pairs += [("solver", m) for m in results if m not in ("solver", reference)]
    out = []
    for method, ref in pairs:
        a, b = results[method].seed_means, results[ref].seed_means
        p = paired_p_value(a, b)
        out.append(Comparison(method, ref, relative_gain(a, b), p, bool(p < ALPHA)))
    return out


# long: the signature alone is 16 lines (13 parameters, one a line); the body is one
# straight sequence (check, build every method's plan, run the seeds, assemble the report)
# whose steps are the helpers above.
def compare(
    runner: Any,
    *,
    methods: Sequence[str] = METHODS,
    seeds: int = 3,
    n_random: int = 3,
    seed: int = 0,
    stage_steps: int | None = None,
    reference: str = "joint",
    groups: Sequence[Sequence[str]] | None = None,
    probe_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    matrix: Any = None,
    probe_steps: int | None = None,
    policy_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> CompareReport:
    """Compare training recipes at equal total steps (``n_tasks * stage_steps`` each).

    Every method starts each seed from the same base state (``runner.initial_state``
    with a seed derived from ``seed`` and the seed index) and spends
    ``n_tasks * stage_steps`` training steps: the curricula (method ``"solver"``: the
    recommended order, :func:`taskorder.recommend.recommend` on the probed matrix, its
    route and reason in ``report.probe["recommendation"]``; the rank rule's order;
    ``n_random`` random orders), the
    mixtures of :mod:`taskorder.compare.schedules` (joint, interleaved, blocks), the
    merges of :mod:`taskorder.compare.merging` (one specialist per task, merged), and
    the online methods of :mod:`taskorder.compare.online_methods` (``sec``, ``tac``,
    ``worst_task``: a policy picks each batch's mixture; ``refresh`` and ``hybrid``:
    the recommended order with refresh stages, or with a bandit within each stage).

    Gains and tests are defined in :mod:`taskorder.compare.stats`:
    ``gain(A over B) = (mean_score(A) - mean_score(B)) / mean_score(B) * 100`` on the
    mean final score over tasks and seeds; relative performance is the mean over tasks
    of ``score_t / specialist_t``; significance is a paired t-test over seeds, p < 0.05.
    The probe campaign (for the recommendation, the rank rule, ``refresh`` and
    ``hybrid``) is not part of the equal training budget; it is their cost:
    ``MethodResult.probe_steps`` (``n + n(n-1)`` probe stages times the repeats, in
    steps), beside the online methods' measured overhead. ``report.planning`` says,
    per probed method, whether it beats the best online method significantly.

    Parameters
    ----------
    runner : Runner
    methods : sequence of str
        Names among :data:`METHODS`; ``"random"`` stands for ``n_random`` random orders.
    seeds : int, default 3
    n_random : int, default 3
    seed : int, default 0
        Root seed (probe plan, base states, training, random orders).
    stage_steps : int, optional
        Steps of one task's stage; default ``runner.config.stage_steps`` or 40.
    reference : str, default "joint"
        The method every other one is compared with.
    groups : sequence of sequences of str, optional
        The blocks of ``"blocks"`` (default: tasks named ``structured*``, then ``open*``).
    probe_dir : path, optional
        Where the probe campaign is stored (default: a temporary folder); reused if present.
    progress : callable, optional
        Called with ``(seeds done, seeds)``.
    matrix : TransferMatrix, optional
        An already measured matrix (e.g. from ``taskorder probe``) that the solver's
        and the rank rule's orders come from; no probe campaign runs then.
    probe_steps : int, optional
        With ``matrix``: the training steps its probe campaign cost (the cost column).
    policy_options : mapping, optional
        Options per online method, e.g. ``{"sec": {"tau": 0.1}, "hybrid": {"anchor":
        0.6}}`` (:func:`taskorder.online.make_policy`, :func:`taskorder.online.plan_hybrid`).

    Returns
    -------
    CompareReport

    Raises
    ------
    InvalidParameterError
        Unknown methods, bad counts, or a ``reference`` that is not run.

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> report = compare(runner, methods=["joint", "interleaved"], seeds=2, stage_steps=4)
    >>> sorted(report.methods), report.methods["joint"].total_steps
    (['interleaved', 'joint'], 8)
    """
    start = time.perf_counter()
    _check_methods_and_counts(methods, seeds, n_random, seed)
    if stage_steps is None:
        stage_steps = int(getattr(getattr(runner, "config", None), "stage_steps", 40))
    check_int(stage_steps, "stage_steps", "compare")
    tasks, notes = tuple(runner.tasks), []
    plans, probe = _curricula(
        runner,
        methods,
        n_random,
        seed,
        stage_steps,
        probe_dir,
        matrix,
        notes=notes,
        options=policy_options,
        probe_steps=probe_steps,
    )
    plans.update(_mixtures(tasks, methods, stage_steps, groups, notes))
    plans.update(online_methods.online_plans(runner, methods, stage_steps, policy_options, notes))
    variants = _merge_variants(runner, methods, notes)
    names = [*plans, *variants]
    check_choice(reference, names, "reference", "compare")  # one of the methods run
    runs, specialist, timings = _run_seeds(
        runner, plans, variants, stage_steps, seed, seeds, progress
    )
    results = _method_results(
        names,
        plans,
        runs,
        timings,
        specialist,
        n_tasks=len(tasks),
        stage_steps=stage_steps,
        probe=probe,
    )
    if seeds < 2:
        notes.append("one seed: no significance test (p is null).")
    return CompareReport(
        tasks,
        stage_steps,
        seeds,
        results,
        specialist,
        reference,
        _comparisons(results, reference),
        probe,
        "paired t-test over seeds (two-sided)",
        notes,
        time.perf_counter() - start,
        online_methods.planning(results, PROBED),
    )
