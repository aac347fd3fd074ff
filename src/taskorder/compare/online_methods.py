"""The online and planned-online methods of :func:`taskorder.compare.compare`.

Each spends ``n_tasks * stage_steps`` training steps, as every other method:

``sec``, ``tac``, ``worst_task``
    One online stage over every task (:func:`taskorder.learner.online.train_online`):
    the policy of that name picks each generation batch's mixture. No probes; their
    cost is their own overhead, measured (``overhead_s``: the policy's updates plus,
    for ``tac``, keeping per-task gradients apart and their cosines).
``refresh``
    The recommended order (``solver``) with short refresh stages at the end, chosen by
    :func:`taskorder.online.refresh.with_refresh` from the probed BWT (the main stages
    give up ``refresh_share`` of their steps to the refresh budget). Pays the probes.
``hybrid``
    :func:`taskorder.online.hybrid.plan_hybrid` on the probed matrix and the solver's
    order: stage ``k`` mixes the current task with the earlier ones by an anchored
    ``sec`` bandit, then the refresh stages. Pays the probes and the bandit's overhead.

Online methods need a runner with online stages: the built-in learner (``update="grpo"``),
whose overhead is measured, or any runner with a method ``train_online(state, tasks,
policy, *, steps, seed, options=None)`` taking the policy's name (the TRL runner has one);
such a runner applies its own policy defaults and reports no overhead; ``hybrid`` anchors
its stages through ``options``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError
from taskorder.schedule import Schedule, Stage

__all__ = [
    "ONLINE_METHODS",
    "PLANNED_METHODS",
    "OnlineRecipe",
    "online_kind",
    "online_plans",
    "planning",
    "skip_note",
    "supports_online",
]

#: Methods that decide during training and pay no probes.
ONLINE_METHODS = ("sec", "tac", "worst_task")
#: Methods that use the probed matrix and an online element (refresh stages, a bandit).
PLANNED_METHODS = ("refresh", "hybrid")

#: Share of each main stage given to refresh stages by ``refresh`` and ``hybrid``.
REFRESH_SHARE = 0.1


def online_kind(runner: Any) -> str | None:
    """``"builtin"`` (the built-in GRPO learner), ``"runner"`` (a runner with its own
    ``train_online``) or ``None`` (no online stages)."""
    from taskorder.learner import BuiltinRunner

    if isinstance(runner, BuiltinRunner):
        return "builtin" if runner.config.update == "grpo" else None
    return "runner" if callable(getattr(runner, "train_online", None)) else None


def supports_online(runner: Any) -> bool:
    """True for a runner that can train online stages (see :func:`online_kind`)."""
    return online_kind(runner) is not None


@dataclass(frozen=True)
class OnlineRecipe:
    """A method that is not a plain :class:`~taskorder.schedule.Schedule`.

    ``run(runner, base, seed)`` returns ``(state, overhead_s, elapsed_s)``.
    """

    total_steps: int
    run: Callable[[Any, Any, int], tuple[Any, float, float]] = field(repr=False)


def online_recipe(
    name: str, tasks: Sequence[str], stage_steps: int, options: Mapping[str, Any]
) -> tuple[str, str, OnlineRecipe]:
    """``(kind, description, recipe)`` of ``sec`` / ``tac`` / ``worst_task``.

    Parameters
    ----------
    name : {"sec", "tac", "worst_task"}
        The online policy (:func:`taskorder.online.make_policy`).
    tasks : sequence of str
        The tasks the policy mixes: every task of the runner.
    stage_steps : int
        Steps per task; the stage spends ``len(tasks) * stage_steps``.
    options : mapping
        The policy's options; checked here, before any training.

    Returns
    -------
    (str, str, OnlineRecipe)
        ``"online"``, a description, and the recipe.
    """
    from taskorder.learner.online import train_online
    from taskorder.online import make_policy

    steps = len(tasks) * stage_steps
    make_policy(name, tasks, **options)  # refuse bad options before any training

    def run(runner: Any, base: Any, seed: int) -> tuple[Any, float, float]:
        if online_kind(runner) == "runner":  # its own online stage; overhead not reported
            tick = time.perf_counter()
            state = runner.train_online(base, list(tasks), name, steps=steps, seed=seed)
            return state, 0.0, time.perf_counter() - tick
        policy = make_policy(name, tasks, seed=seed, **options)
        stage = train_online(runner, base, policy, steps=steps, seed=seed)
        return stage.state, stage.alignment_s, stage.elapsed_s

    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    text = (
        f"one online stage, {name}{f' ({shown})' if shown else ''} picks each batch, {steps} steps"
    )
    return "online", text, OnlineRecipe(steps, run)


def refresh_schedule(
    matrix: Any, order: Sequence[str], stage_steps: int
) -> tuple[str, str, Schedule, dict[str, Any]]:
    """``(kind, description, schedule, refresh plan as a dict)`` of ``refresh``.

    Parameters
    ----------
    matrix : TransferMatrix
        The probed matrix (:func:`taskorder.online.refresh.with_refresh`).
    order : sequence of str
        The recommended order of the main stages.
    stage_steps : int
        Steps per task before :data:`REFRESH_SHARE` of each stage goes to the refresh budget.

    Returns
    -------
    (str, str, Schedule, dict)
        ``"planned"``, a description, the main then refresh stages, and
        :meth:`RefreshPlan.to_dict <taskorder.online.refresh.RefreshPlan.to_dict>`.
    """
    from taskorder.online.refresh import with_refresh

    main, plan = with_refresh(matrix, order, stage_steps=stage_steps, refresh_share=REFRESH_SHARE)
    stages = [Stage(t, steps=s) for t, s in main] + [Stage(t, steps=s) for t, s in plan.stages]
    refreshed = ", ".join(f"{t}:{s}" for t, s in plan.stages) or "none (budget back to stages)"
    text = f"{' > '.join(order)}, then refresh {refreshed}"
    return "planned", text, Schedule(stages), plan.to_dict()


def hybrid_recipe(
    matrix: Any, order: Sequence[str], stage_steps: int, options: Mapping[str, Any]
) -> tuple[str, str, OnlineRecipe, dict[str, Any]]:
    """``(kind, description, recipe, plan as a dict)`` of ``hybrid``.

    Parameters
    ----------
    matrix : TransferMatrix
        The probed matrix (:func:`taskorder.online.hybrid.plan_hybrid`).
    order : sequence of str
        The recommended order.
    stage_steps : int
        Steps per task.
    options : mapping
        Further keyword arguments of :func:`~taskorder.online.hybrid.plan_hybrid`
        (``policy``, ``anchor``, the bandit's options).

    Returns
    -------
    (str, str, OnlineRecipe, dict)
        ``"planned"``, the plan's description, the recipe, and the plan (order, stages,
        refresh plan, policy, anchor).
    """
    from taskorder.learner.hybrid import run_hybrid
    from taskorder.online.hybrid import plan_hybrid

    plan = plan_hybrid(
        matrix,
        stage_steps=stage_steps,
        order=order,
        refresh_share=REFRESH_SHARE,
        **dict(options),
    )

    def run(runner: Any, base: Any, seed: int) -> tuple[Any, float, float]:
        result = run_hybrid(runner, base, plan, seed=seed)
        return result.state, result.alignment_s, result.elapsed_s

    info = {"order": list(plan.order), "stages": [[list(t), s] for t, s in plan.stages],
            "refresh": plan.refresh.to_dict(), "policy": plan.policy, "anchor": plan.anchor}  # fmt: skip
    return "planned", plan.describe(), OnlineRecipe(plan.total_steps, run), info


_NO_ONLINE = (
    "{name} skipped: {runner} has no online stages (the built-in learner with update='grpo' "
    "has; the TRL path has its own online sampler)."
)


def online_plans(
    runner: Any,
    methods: Sequence[str],
    stage_steps: int,
    options: Mapping[str, Mapping[str, Any]] | None,
    notes: list[str],
) -> dict[str, tuple]:
    """``{name: (kind, description, recipe)}`` of the online methods in ``methods``.

    Parameters
    ----------
    runner : Runner
        The runner compared on; methods it cannot run online are skipped with a note.
    methods : sequence of str
        The methods asked for; only those of :data:`ONLINE_METHODS` are built here.
    stage_steps : int
        Steps per task.
    options : mapping of str to mapping, optional
        Options per method (``compare``'s ``policy_options``); a runner with its own
        ``train_online`` takes none.
    notes : list of str
        Appended to (in place) for every skipped method.

    Raises
    ------
    InvalidParameterError
        Options given for a runner whose ``train_online`` takes none.
    """
    out: dict[str, tuple] = {}
    for name in ONLINE_METHODS:
        if name not in methods:
            continue
        kind = online_kind(runner)
        if kind is None:
            notes.append(skip_note(name, runner))
            continue
        if kind == "runner" and (options or {}).get(name):
            raise InvalidParameterError(
                f"The 'policy_options' parameter of compare sets options of {name!r}, which "
                f"{type(runner).__name__}.train_online does not take (it gets the policy's "
                "name only). Drop them or use the built-in learner."
            )
        out[name] = online_recipe(
            name, tuple(runner.tasks), stage_steps, (options or {}).get(name, {})
        )
    return out


def skip_note(name: str, runner: Any) -> str:
    """The note ``compare`` adds when ``runner`` cannot run the online method ``name``."""
    return _NO_ONLINE.format(name=name, runner=type(runner).__name__)


def planning(results: Mapping[str, Any], probed: Sequence[str]) -> list[dict[str, Any]]:
    """Is each method of ``probed`` that ran worth its probes against the best online method?

    ``worth_probes``: it beats the online method with the highest mean score, at equal
    training steps, by a paired t-test over seeds with p < ``ALPHA``.
    """
    from taskorder.compare.report import ALPHA
    from taskorder.compare.stats import paired_p_value, relative_gain

    online = [m for m in ONLINE_METHODS if m in results]
    if not online:
        return []
    best = max(online, key=lambda m: results[m].mean)
    out = []
    for name in probed:
        if name not in results:
            continue
        result = results[name]
        a, b = result.seed_means, results[best].seed_means
        p = paired_p_value(a, b)
        gain = relative_gain(a, b)
        out.append(
            {
                "method": name,
                "best_online": best,
                "gain_pct": gain,
                "p_value": None if np.isnan(p) else p,
                "probe_steps": result.probe_steps,
                "probe_cost_runs": result.probe_steps / result.total_steps,
                "worth_probes": bool(gain > 0 and p < ALPHA),
            }
        )
    return out
