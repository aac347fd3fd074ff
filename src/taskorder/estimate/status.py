"""Progress of a probe campaign, read from its store (safe while the campaign runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taskorder.estimate.lock import lock_holder
from taskorder.estimate.plan import KINDS
from taskorder.estimate.store import STORE_NAME, CampaignMismatchError, CampaignStore

__all__ = ["campaign_status"]

_STATUSES = ("done", "running", "pending", "failed")


def campaign_status(target: str | Path) -> dict[str, Any]:
    """Counts, attempts, timings and failures of the campaign in ``target``.

    Parameters
    ----------
    target : path
        The campaign's output folder (:func:`taskorder.configs.campaign_folder` gives
        it for a configuration file).

    Returns
    -------
    dict
        ``directory``, ``total``, ``done``, ``percent``, ``attempts`` (probe starts),
        ``runs`` (results recorded), ``restarted`` (probes started more than once),
        ``by_kind`` (per kind: counts per status and mean seconds per finished probe),
        ``remaining_serial_s`` (pending probes times their kind's mean seconds),
        ``failures`` (key and error), ``coordinator`` (``pid``, ``host``,
        ``started_at`` of the process running the campaign, or ``None``) and
        ``interrupted`` (probes a dead run left ``running``: they count as
        ``pending``, since the next run starts them again).

    Raises
    ------
    CampaignMismatchError
        ``target`` does not exist, or its folder holds no campaign store.
    """
    directory = Path(target)
    if not directory.is_dir():
        raise CampaignMismatchError(
            f"{directory}: no such campaign folder (taskorder.configs.campaign_folder gives "
            "the folder of a configuration file)."
        )
    coordinator = lock_holder(directory)
    store = CampaignStore.open_existing(directory / STORE_NAME)
    try:
        rows = store.probes()
    finally:
        store.close()
    interrupted = 0
    if coordinator is None:  # nothing runs: a probe marked running was interrupted
        interrupted = sum(r["status"] == "running" for r in rows)
        rows = [{**r, "status": "pending"} if r["status"] == "running" else r for r in rows]
    by_kind: dict[str, dict[str, Any]] = {}
    remaining = 0.0
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        counts = {s: sum(r["status"] == s for r in mine) for s in _STATUSES}
        seconds = [r["train_s"] + r["eval_s"] for r in mine if r["status"] == "done"]
        mean = sum(seconds) / len(seconds) if seconds else None
        remaining += (mean or 0.0) * (counts["pending"] + counts["running"] + counts["failed"])
        by_kind[kind] = {**counts, "mean_seconds": mean}
    done = sum(r["status"] == "done" for r in rows)
    return {
        "directory": str(directory),
        "total": len(rows),
        "done": done,
        "percent": 100.0 * done / len(rows) if rows else 0.0,
        "attempts": sum(r["attempts"] for r in rows),
        "runs": sum(r["runs"] for r in rows),
        "restarted": sum(r["attempts"] > 1 for r in rows),
        "by_kind": by_kind,
        "remaining_serial_s": remaining,
        "coordinator": coordinator,
        "interrupted": interrupted,
        "failures": [
            {"key": r["key"], "error": r["error"]} for r in rows if r["status"] == "failed"
        ],
    }
