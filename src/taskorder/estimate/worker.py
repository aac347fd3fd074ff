"""What a worker does with one probe: train, save the state atomically, evaluate.

Workers never touch the campaign store; they return a plain dict that the
coordinator records (one writer). The only files a worker writes are state files,
written to a temporary name and renamed into place, so a killed worker never
leaves a half-written state under the final name.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from taskorder.estimate.plan import Probe

__all__ = ["run_probe", "state_path", "write_state_atomically"]

# Starting states per (runner hash, init seed), cached within one worker process:
# the base state of a repeat is rebuilt by each first-stage probe otherwise.
_BASE_CACHE: dict[tuple[str, int], Any] = {}
_BASE_CACHE_SIZE = 4


def state_path(state_dir: str | Path, key: str) -> Path:
    """Where the state of probe ``key`` is saved (``/`` in keys becomes ``__``)."""
    return Path(state_dir) / (key.replace("/", "__") + ".state")


def write_state_atomically(runner: Any, state: Any, path: Path) -> None:
    """``runner.save`` to a temporary name in the same folder, then rename into place.

    Works for runners that save one file and for runners that save a folder.

    Parameters
    ----------
    runner : Runner
        Its ``save`` writes the state.
    state : Any
        State to save.
    path : Path
        Final location (file or folder); missing parent folders are created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(temporary)
    try:
        runner.save(state, temporary)
        if temporary.is_file():
            with open(temporary, "rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            _remove(path)
        os.replace(temporary, path)
    finally:
        _remove(temporary)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def evaluate_tasks(
    runner: Any, state: Any, tasks: tuple[str, ...], seed: int
) -> dict[str, dict[str, Any]]:
    """``{task: {score, entropy, score_stderr, n_samples}}`` of ``state`` (JSON-ready).

    Parameters
    ----------
    runner : Runner
        Evaluates the state.
    state : Any
        State to evaluate.
    tasks : tuple of str
        Tasks to evaluate, in this order.
    seed : int
        Evaluation seed, the same for every task.
    """
    evaluations = {}
    for task in tasks:
        result = runner.evaluate(state, task, seed=seed)
        evaluations[task] = {
            "score": float(result.score),
            "entropy": float(result.entropy),
            "score_stderr": float(result.score_stderr),
            "n_samples": int(result.n_samples),
        }
    return evaluations


def _base_state(runner: Any, init_seed: int) -> Any:
    cache_key = (runner.config_hash(), init_seed)
    if cache_key not in _BASE_CACHE:
        if len(_BASE_CACHE) >= _BASE_CACHE_SIZE:
            _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
        _BASE_CACHE[cache_key] = runner.initial_state(init_seed)
    return _BASE_CACHE[cache_key]


def run_probe(
    runner: Any, probe: Probe, tasks: tuple[str, ...], state_dir: str | Path
) -> dict[str, Any]:
    """Run ``probe`` with ``runner`` and return its result as a JSON-ready dict.

    Parameters
    ----------
    runner : Runner
    probe : Probe
    tasks : tuple of str
        Tasks to evaluate (the plan's tasks).
    state_dir : path
        Folder of state files. First-stage states are saved there; second-stage
        probes load their first stage's state from there.

    Returns
    -------
    dict
        ``key``, ``evaluations`` (``{task: {score, entropy, score_stderr, n_samples}}``),
        ``state_path`` (first stage only), ``train_s``, ``eval_s``, ``started_at``,
        ``finished_at`` (Unix seconds) and ``worker`` (host:pid).
    """
    started = time.time()
    clock = time.perf_counter()
    saved = None
    if probe.kind == "base":
        state = _base_state(runner, probe.init_seed)
    elif probe.kind == "first":
        state = runner.train(
            _base_state(runner, probe.init_seed),
            probe.task,
            steps=probe.steps,
            seed=probe.train_seed,
        )
        saved = state_path(state_dir, probe.key)
        write_state_atomically(runner, state, saved)
    else:
        parent = runner.load(state_path(state_dir, probe.depends_on))
        state = runner.train(parent, probe.later, steps=probe.steps, seed=probe.train_seed)
    trained = time.perf_counter()
    evaluations = evaluate_tasks(runner, state, tasks, probe.eval_seed)
    return {
        "key": probe.key,
        "evaluations": evaluations,
        "state_path": None if saved is None else str(saved),
        "train_s": trained - clock,
        "eval_s": time.perf_counter() - trained,
        "started_at": started,
        "finished_at": time.time(),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
