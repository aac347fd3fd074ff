"""Saved states for re-planning: probing from a saved state, training once, the run's fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorder.exceptions import InvalidParameterError

__all__ = ["RUN_FILE", "StateRunner", "claim_directory", "train_once"]

RUN_FILE = "run.json"


@dataclass
class StateRunner:
    """A runner whose starting state is a saved state of another runner.

    Probe campaigns start from ``runner.initial_state``; wrapping lets the same campaign
    machinery (store, executors, resume) probe from the middle of a training run.
    ``config_hash`` includes ``tag``, so each starting point has its own probe cache.
    Picklable when ``runner`` is.

    Examples
    --------
    >>> import tempfile
    >>> from taskorder.learner import make_learner
    >>> runner = make_learner(n_structured=1, n_open=1)
    >>> state = runner.train(runner.initial_state(0), "open_0", steps=5, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     runner.save(state, folder + "/s")
    ...     wrapped = StateRunner(runner, folder + "/s", tag="after-open_0")
    ...     wrapped.initial_state(seed=3) == state
    True
    """

    runner: Any
    path: str
    tag: str

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.runner.tasks

    def initial_state(self, seed: int) -> Any:
        return self.runner.load(self.path)

    def train(self, state: Any, task: Any, *, steps: int, seed: int) -> Any:
        """The wrapped runner's ``train``.

        Parameters
        ----------
        state : Any
            State to train from (left as is).
        task : str or mapping of str to float
            Task name, or ``{name: proportion}`` for a mixed stage.
        steps : int
            Training steps.
        seed : int
            Training seed.
        """
        return self.runner.train(state, task, steps=steps, seed=seed)

    def evaluate(self, state: Any, task: str, *, seed: int) -> Any:
        """The wrapped runner's ``evaluate``.

        Parameters
        ----------
        state : Any
            State to evaluate.
        task : str
            Task whose held-out prompts are used.
        seed : int
            Evaluation seed.
        """
        return self.runner.evaluate(state, task, seed=seed)

    def save(self, state: Any, path: str | Path) -> None:
        self.runner.save(state, path)

    def load(self, path: str | Path) -> Any:
        return self.runner.load(path)

    def config_hash(self) -> str:
        text = f"{self.runner.config_hash()}|{self.tag}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def train_once(runner: Any, path: Path, state: Any, task: str, steps: int, seed: int) -> Any:
    """``runner.train`` once: the result is saved at ``path`` and loaded on a rerun.

    Parameters
    ----------
    runner : Runner
        Trains, saves and loads states.
    path : Path
        Where the new state is saved; if it exists, it is loaded instead of training.
    state : Any
        State to train from.
    task : str
        Task to train.
    steps : int
        Training steps.
    seed : int
        Training seed.

    Returns
    -------
    Any
        The trained (or reloaded) state.
    """
    from taskorder.estimate.worker import write_state_atomically

    if path.exists():
        return runner.load(path)
    new = runner.train(state, task, steps=steps, seed=seed)
    write_state_atomically(runner, new, path)
    return new


def _fingerprint(runner: Any, settings: dict[str, Any]) -> str:
    text = json.dumps({"runner": runner.config_hash(), **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def claim_directory(directory: Path, runner: Any, settings: dict[str, Any]) -> None:
    """Refuse a directory that holds a re-planning run with other settings; else claim it.

    Parameters
    ----------
    directory : Path
        The run's directory (it must exist); ``run.json`` in it records the fingerprint.
    runner : Runner
        Its ``config_hash()`` is part of the fingerprint.
    settings : dict
        The rest of the fingerprint (:meth:`ReplanSettings.fingerprint_fields`).

    Raises
    ------
    InvalidParameterError
        If ``run.json`` holds another fingerprint (or cannot be read).
    """
    fingerprint = _fingerprint(runner, settings)
    run_file = directory / RUN_FILE
    if run_file.exists():
        try:
            previous = json.loads(run_file.read_text("utf-8")).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous != fingerprint:
            raise InvalidParameterError(
                f"The 'directory' parameter of replan_training names {directory}, which holds a "
                f"re-planning run with other settings (fingerprint {previous}, these "
                f"{fingerprint}); resuming it would mix two runs. Use another directory."
            )
    run_file.write_text(json.dumps({"fingerprint": fingerprint}) + "\n", "utf-8")
