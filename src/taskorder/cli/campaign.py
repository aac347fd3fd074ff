"""Running a probe campaign from the command line: progress bar, SIGTERM, interruption.

Used by ``probe run`` (and its active mode), ``validate`` and ``demo``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taskorder.cli.common import stderr

__all__ = ["interrupted_message", "progress_bar", "run_campaign_from_config", "sigterm_interrupts"]


def progress_bar(enabled: bool, label: str = "probing"):
    """A rich progress bar on stderr (done/total, elapsed, eta, the current probe key)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[key]}"),
        console=stderr,
        disable=not enabled,
        transient=False,
    )


def run_campaign_from_config(config: Any, executor: Any, quiet: bool) -> tuple[Any, Any]:
    """Run (or resume) the campaign of a loaded config with a progress bar on stderr.

    Parameters
    ----------
    config : ProbeConfig or real-model config
        A config from :func:`taskorder.configs.load_config`.
    executor : Executor
        Where the probes run (:func:`taskorder.estimate.config.build_executor`).
    quiet : bool
        No progress bar.

    Returns
    -------
    tuple
        The campaign result and the runner it built.
    """
    from taskorder.configs import build_runner
    from taskorder.estimate.campaign import run_campaign
    from taskorder.estimate.config import build_plan

    runner = build_runner(config)
    plan = build_plan(config, runner)
    with progress_bar(not quiet) as bar:
        task_id = bar.add_task("probe", total=len(plan.probes()), key="")

        def report(progress: Any) -> None:
            bar.update(task_id, completed=progress.done, key=progress.key or "")
            if progress.note:
                bar.console.print(f"note: {progress.note}", markup=False, highlight=False)

        with sigterm_interrupts():
            result = run_campaign(
                runner, plan, config.output_path, executor=executor, progress=report
            )
    return result, runner


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a batch scheduler's stop) like Ctrl-C while probing, so the
    campaign sets its in-flight probes back to pending and releases its lock."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_message(config: Any, config_path: Path) -> str:
    """What an interrupted ``probe run`` says: what is kept, and that a rerun resumes."""
    from taskorder.estimate.store import STORE_NAME

    return (
        f"interrupted. Every probe finished so far is recorded in "
        f"{config.output_path / STORE_NAME}; rerun 'taskorder probe {config_path}' to resume "
        "(finished probes are not run again, the interrupted ones start over)."
    )
