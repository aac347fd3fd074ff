"""Online schedules on the real LM: SEC, TAC and worst-task bandits beside the planned order.

The same SmolLM2-135M-Instruct, task rows, GRPO settings and evaluation as the committed
CPU run of ``benchmarks/real_lm.py`` (``benchmarks/results/real_lm_cpu/``), and
``compare``'s seeding, so every online run starts from the same base state and is
evaluated with the same evaluation seed as that run's curricula, joint training and
merge: the results pair with ``compare.json`` seed by seed.

Each online method is one stage of ``n_tasks * stage_steps`` GRPO steps (16) over all
four tasks, the policy choosing each generation batch's mixture from the step's own
per-task signals (:meth:`taskorder.trl.runner.TRLProbeRunner.train_online`). They pay
no probes; the planned order paid ``repeats * (n + n(n-1))`` probe stages first. The
``hybrid`` is compare's: the recommended order's stages, stage k an online ``sec`` stage
over the first k+1 tasks anchored (half of every batch) on the current one; it pays the
probes too.

Usage (resumable: finished states are reused)::

    python benchmarks/real_lm_online.py                # 2 seeds x sec, tac, worst_task

Needs the work folder of the CPU run (``runs/real_lm_cpu/suite``: its task rows; the
prepared model is re-made from the wheel if missing). Raw output:
``benchmarks/results/real_lm_cpu/online.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "real_lm_cpu"
METHODS = ("sec", "tac", "worst_task", "hybrid")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def runner_of_the_cpu_run(work: Path):
    """The TRL runner of the committed CPU run: its config and its task rows."""
    from taskorder.configs import build_runner, load_config

    config_path = work / "real_lm.yaml"
    if not config_path.exists():
        shutil.copy(RESULTS / "suite" / "real_lm.yaml", config_path)
    for name in (RESULTS / "suite").glob("*.jsonl"):
        if (work / name.name).read_bytes() != name.read_bytes():
            raise SystemExit(f"{work / name.name} differs from the committed rows {name}")
    return build_runner(load_config(config_path))


def main(argv: list[str] | None = None) -> int:
    from taskorder.seeds import derive_seed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=HERE.parent / "runs" / "real_lm_cpu" / "suite")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args(argv)
    previous = json.loads((RESULTS / "compare.json").read_text())
    steps = int(previous["total_steps"])
    runner = runner_of_the_cpu_run(args.work)
    tasks = list(runner.tasks)
    out_path = RESULTS / "online.json"
    out = json.loads(out_path.read_text()) if out_path.exists() else {"runs": []}
    done = {(r["method"], r["seed"]) for r in out["runs"]}
    for s in range(args.seeds):
        base = runner.initial_state(derive_seed(0, "compare", "init", s))
        eval_seed = derive_seed(0, "compare", "eval", s)
        for name in args.methods.split(","):
            if (name, s) in done:
                continue
            started = time.perf_counter()
            train_seed = derive_seed(0, "compare", "train", s, name)
            if name == "hybrid":
                state = hybrid(runner, base, previous, train_seed)
            else:
                state = runner.train_online(base, tasks, name, steps=steps, seed=train_seed)
            trained = time.perf_counter() - started
            scores = {t: float(runner.evaluate(state, t, seed=eval_seed).score) for t in tasks}
            out["runs"].append(
                {
                    "method": name,
                    "seed": s,
                    "scores": scores,
                    "mean": float(np.mean(list(scores.values()))),
                    "train_s": trained,
                    "total_s": time.perf_counter() - started,
                }
            )
            out_path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
            say(
                f"seed {s} {name}: mean {out['runs'][-1]['mean']:.3f} {scores} "
                f"({trained:.0f} s training)"
            )
    out["summary"] = summary(out["runs"], previous)
    out_path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    for row in out["summary"]["rows"]:
        say(
            f"{row['method']:<12} {row['mean']:.3f} (seeds {row['seed_means']}) "
            f"minus joint {row['minus_joint']:+.3f}; probe stages {row['probe_stages']}"
        )
    return 0


def hybrid(runner, base, previous: dict, seed: int):
    """compare's ``hybrid`` on the committed matrix: the recommended order, anchored stages."""
    from taskorder.compare.online_methods import REFRESH_SHARE
    from taskorder.io import read_matrix
    from taskorder.learner.hybrid import run_hybrid
    from taskorder.online.hybrid import plan_hybrid

    matrix = read_matrix(RESULTS / "matrix.json")
    order = previous["probe"]["orders"]["solver"]
    plan = plan_hybrid(
        matrix, stage_steps=int(previous["stage_steps"]), order=order, refresh_share=REFRESH_SHARE
    )
    return run_hybrid(runner, base, plan, seed=seed).state


def summary(runs: list[dict], previous: dict) -> dict:
    """Mean over seeds per method, beside ``compare.json``'s methods, paired with joint."""
    n = len(previous["tasks"])
    probe = previous.get("probe") or {}
    repeats = int(probe.get("repeats", 2)) if isinstance(probe, dict) else 2
    probe_stages = repeats * (n + n * (n - 1))
    joint = previous["methods"]["joint"]["seed_means"]
    rows = []
    means = {name: m["seed_means"] for name, m in previous["methods"].items()}
    for name in METHODS:
        mine = sorted((r for r in runs if r["method"] == name), key=lambda r: r["seed"])
        if mine:
            means[name] = [r["mean"] for r in mine]
    for name, seed_means in means.items():
        paired = [a - b for a, b in zip(seed_means, joint)]
        rows.append(
            {
                "method": name,
                "mean": float(np.mean(seed_means)),
                "seed_means": [round(x, 4) for x in seed_means],
                "minus_joint": float(np.mean(paired)),
                "minus_joint_se": float(np.std(paired, ddof=1) / math.sqrt(len(paired)))
                if len(paired) > 1
                else float("nan"),
                "probe_stages": probe_stages if name in ("solver", "rank_rule", "hybrid") else 0,
            }
        )
    return {
        "stage_steps": previous["stage_steps"],
        "total_steps": previous["total_steps"],
        "probe_stages_of_planning": probe_stages,
        "rows": rows,
    }


if __name__ == "__main__":
    raise SystemExit(main())
