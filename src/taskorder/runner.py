"""The runner protocol: the one interface between taskorder and a trainer.

Everything taskorder measures (probe runs, the BWT matrix, validation of an
order) is expressed through six calls on a *runner*. The built-in learner
(:class:`taskorder.learner.BuiltinRunner`) implements it in numpy; a TRL GRPO
runner can implement it around a real model. A runner owns no run state: states
are values passed in and returned, so probe campaigns can branch from a saved
first-stage state.

=====================================  ==========================================
call                                   meaning
=====================================  ==========================================
``runner.tasks``                       tuple of task names
``runner.initial_state(seed)``         the pretrained starting point
``runner.train(state, task, *,         a new state after ``steps`` training steps
steps, seed)``                         on ``task`` (a name, or a mapping
                                       ``{name: proportion}`` for a mixed stage)
``runner.evaluate(state, task, *,      an :class:`Evaluation` of ``state`` on
seed)``                                ``task``'s held-out prompts
``runner.save(state, path)`` /         write / read a state (one file)
``runner.load(path)``
``runner.config_hash()``               stable string naming the configuration
                                       (keys probe caches)
=====================================  ==========================================

Contract: ``train`` must not modify the state it is given; the same arguments
and seed give the same result (bit-identical for the built-in learner); unknown
task names raise ``ValueError`` (taskorder's :class:`InvalidParameterError`).
:func:`check_runner` tests an implementation against this contract.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from taskorder.exceptions import InvalidParameterError

__all__ = ["Evaluation", "Runner", "TaskSpec", "check_runner"]

#: What ``train`` accepts as a stage: one task name, or ``{task name: proportion}``.
TaskSpec = str | Mapping[str, float]


@dataclass(frozen=True)
class Evaluation:
    """The result of evaluating one state on one task.

    Attributes
    ----------
    score : float
        Mean reward on the task's held-out prompts (higher is better).
    entropy : float
        Mean per-token entropy of the policy on those prompts, in nats.
    score_stderr : float
        Standard error of ``score`` from evaluation sampling; 0 when exact.
    n_samples : int
        Sampled answers behind ``score``; 0 when ``score`` is an exact expectation.

    Examples
    --------
    >>> Evaluation(score=0.5, entropy=0.3, score_stderr=0.0, n_samples=0).score
    0.5
    """

    score: float
    entropy: float
    score_stderr: float = 0.0
    n_samples: int = 0


@runtime_checkable
class Runner(Protocol):
    """A trainer that taskorder can probe and drive. See the module docstring."""

    @property
    def tasks(self) -> tuple[str, ...]:
        """The task names this runner can train and evaluate."""
        ...

    def initial_state(self, seed: int) -> Any:
        """The pretrained starting state."""
        ...

    def train(self, state: Any, task: TaskSpec, *, steps: int, seed: int) -> Any:
        """Return a new state after ``steps`` steps on ``task``; ``state`` is left as is.

        Parameters
        ----------
        state : Any
            State to train from.
        task : str or mapping of str to float
            Task name, or ``{name: proportion}`` for a mixed stage.
        steps : int
            Training steps.
        seed : int
            Training seed; the same arguments and seed give the same state.
        """
        ...

    def evaluate(self, state: Any, task: str, *, seed: int) -> Evaluation:
        """Evaluate ``state`` on ``task``'s held-out prompts.

        Parameters
        ----------
        state : Any
            State to evaluate.
        task : str
            Task name.
        seed : int
            Evaluation seed (sampling).

        Returns
        -------
        Evaluation
        """
        ...

    def save(self, state: Any, path: str | Path) -> None:
        """Write ``state`` to ``path``."""
        ...

    def load(self, path: str | Path) -> Any:
        """Read a state written by :meth:`save`."""
        ...

    def config_hash(self) -> str:
        """A stable string that changes whenever results could change."""
        ...


def _fail(problem: str) -> InvalidParameterError:
    return InvalidParameterError(f"The 'runner' parameter of check_runner {problem}")


def _check_evaluation(evaluation: Any, where: str) -> None:
    if not isinstance(evaluation, Evaluation):
        raise _fail(f"must return an Evaluation from {where}. Got {type(evaluation).__name__}.")
    for name in ("score", "entropy", "score_stderr"):
        value = getattr(evaluation, name)
        if not isinstance(value, float) or not math.isfinite(value):
            raise _fail(f"must return a finite float {name} from {where}. Got {value!r}.")
    if evaluation.entropy < 0 or evaluation.score_stderr < 0:
        raise _fail(f"must return non-negative entropy and score_stderr from {where}.")
    if not isinstance(evaluation.n_samples, int) or evaluation.n_samples < 0:
        raise _fail(f"must return a non-negative int n_samples from {where}.")


def check_runner(runner: Any, *, steps: int = 2, seed: int = 0) -> None:
    """Check that ``runner`` honours the runner contract; raise on the first breach.

    Checks: the protocol's members exist; ``tasks`` is a non-empty tuple of unique
    names; ``config_hash`` is a stable non-empty string; every task evaluates to a
    well-formed :class:`Evaluation`; training on one task and on a mixed stage works
    and is deterministic for a seed; ``train`` leaves its input state unchanged; a
    saved state loads back to the same evaluations; an unknown task raises
    ``ValueError``. It runs ``steps`` training steps a few times, so keep them few.

    Parameters
    ----------
    runner : Runner
        The implementation to check.
    steps : int, default 2
        Training steps per check run.
    seed : int, default 0
        Seed of every call.

    Raises
    ------
    InvalidParameterError
        Naming the first breach of the contract.

    Examples
    --------
    >>> from taskorder.learner import make_learner
    >>> check_runner(make_learner(n_structured=1, n_open=1))
    >>> check_runner(object())
    Traceback (most recent call last):
    ...
    taskorder.exceptions.InvalidParameterError: The 'runner' parameter of check_runner must implement the Runner protocol (tasks, initial_state, train, evaluate, save, load, config_hash). Got object.
    """
    if not isinstance(runner, Runner):
        raise _fail(
            "must implement the Runner protocol (tasks, initial_state, train, evaluate, save, "
            f"load, config_hash). Got {type(runner).__name__}."
        )
    tasks = runner.tasks
    if not isinstance(tasks, tuple) or not tasks or not all(isinstance(t, str) for t in tasks):
        raise _fail(f"must have a non-empty tuple of str as tasks. Got {tasks!r}.")
    if len(set(tasks)) != len(tasks):
        raise _fail(f"must have unique task names. Got {tasks!r}.")
    digest = runner.config_hash()
    if not isinstance(digest, str) or not digest or digest != runner.config_hash():
        raise _fail(f"must return the same non-empty str from config_hash. Got {digest!r}.")

    def evaluate_all(state: Any) -> list[Evaluation]:
        return [runner.evaluate(state, task, seed=seed) for task in tasks]

    base = runner.initial_state(seed)
    before = evaluate_all(base)
    for task, evaluation in zip(tasks, before):
        _check_evaluation(evaluation, f"evaluate(initial_state, {task!r})")
    if evaluate_all(runner.initial_state(seed)) != before:
        raise _fail("must give identical evaluations for two initial_state calls with one seed.")
    first = runner.train(base, tasks[0], steps=steps, seed=seed)
    if evaluate_all(base) != before:
        raise _fail("must not modify the state passed to train.")
    trained = evaluate_all(first)
    if evaluate_all(runner.train(base, tasks[0], steps=steps, seed=seed)) != trained:
        raise _fail("must give identical results for two train calls with the same seed.")
    mixed = {task: 1.0 / len(tasks) for task in tasks}
    for evaluation in evaluate_all(runner.train(base, mixed, steps=steps, seed=seed)):
        _check_evaluation(evaluation, "evaluate after a mixed stage")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state"
        runner.save(first, path)
        if evaluate_all(runner.load(path)) != trained:
            raise _fail("must load back a saved state with identical evaluations.")
    try:
        runner.evaluate(base, "\x00no such task", seed=seed)
    except ValueError:
        pass
    else:
        raise _fail("must raise ValueError when evaluating an unknown task.")
