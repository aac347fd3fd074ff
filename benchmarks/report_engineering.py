"""Blocks for engineering measurements: plot speed, probe wall time, judge and sandbox costs."""

from __future__ import annotations

import json

from report_common import HERE, RESULTS, read_csv, registry, spread

BLOCKS, block = registry()


@block("plot-speed")
def plot_speed() -> str:
    """docs/cli.md: the largest heatmap and transfer graph of the plot_speed table."""
    path = RESULTS / "plot_speed.md"
    cells = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = [x.strip() for x in line.split("|")]
        if len(parts) > 7 and parts[1] in ("heatmap", "transfer_graph"):
            cells[(parts[1], int(parts[2]))] = parts
    heat = cells[max(k for k in cells if k[0] == "heatmap")]
    graph = cells[max(k for k in cells if k[0] == "transfer_graph")]
    return (
        f"Speed and size (`python benchmarks/plot_speed.py --before REV`, raw output "
        f"`benchmarks/results/plot_speed.md`; one run per cell on 2 shared cores, so times "
        f"are indicative and pixel sizes exact): a {heat[2]}-task heatmap takes {heat[5]} s "
        f"and {heat[6]} px (it took {heat[3]} s and {heat[4]} px before the caps); a "
        f"{graph[2]}-task graph {graph[5]} s and {graph[6]} px (was {graph[3]} s, "
        f"{graph[4]} px)."
    )


@block("probes-walltime")
def probes_walltime() -> str:
    """docs/estimator.md: probe-campaign wall time by executor (benchmarks/probes.py)."""
    rows = read_csv(RESULTS / "probes_walltime.csv")
    if not rows:
        return (
            "(not run: `python benchmarks/probes.py --out benchmarks/results/probes_walltime.csv`)"
        )
    first = rows[0]
    settings = list(dict.fromkeys((r["executor"], r["workers"]) for r in rows))
    names = {("bare loop", "1"): "bare loop", ("inprocess", "1"): "in-process"}
    head = [
        names.get(k, f"{k[1]} {'worker' if k[1] == '1' else 'workers'} ({k[0]})") for k in settings
    ]
    lines = [
        (
            f"`python benchmarks/probes.py --out benchmarks/results/probes_walltime.csv` "
            f"({first['mode']}, {first['steps']} steps, {first['repeats']} repeat, learner "
            f"v{first['learner_version']}; {first['cpus']} CPU cores at load average "
            f"{first['load_avg']}; one run per cell, wall seconds):"
        ),
        "",
        "| n | probes | " + " | ".join(head) + " | matrix identical |",
        "|---|---|" + "---|" * len(head) + "---|",
    ]
    overhead = []
    for n in dict.fromkeys(r["n"] for r in rows):
        mine = {(r["executor"], r["workers"]): r for r in rows if r["n"] == n}
        same = all(r["same_matrix"] in ("True", "") for r in mine.values())
        cells = [f"{float(mine[k]['wall_s']):.2f} s" if k in mine else "" for k in settings]
        lines.append(
            f"| {n} | {mine[settings[0]]['probes']} | "
            + " | ".join(cells)
            + f" | {'yes' if same else 'no'} |"
        )
        if ("bare loop", "1") in mine and ("inprocess", "1") in mine:
            overhead.append(
                1000
                * (
                    float(mine[("inprocess", "1")]["wall_s"])
                    - float(mine[("bare loop", "1")]["wall_s"])
                )
                / int(mine[("inprocess", "1")]["probes"])
            )
    if overhead:
        lines += [
            "",
            (
                f"Coordinator overhead (in-process minus bare loop, per probe; min / median "
                f"/ max over n): {spread(overhead, 0, ' ms')}."
            ),
        ]
    return "\n".join(lines)


@block("judge-dead")
def judge_dead() -> str:
    """docs/rewards.md: a dead judge endpoint's cost per batch (benchmarks/judge_dead.py)."""
    runs = json.loads((RESULTS / "judge_dead.json").read_text(encoding="utf-8"))
    refuse, hang = runs["refuse"], runs["hang"]
    return (
        f"Measured with `python benchmarks/judge_dead.py --kind refuse|hang --out "
        f"benchmarks/results/judge_dead.json` ({refuse['cpus']} busy cores, load average "
        f"{refuse['load_avg']:.0f}, one run each), `JudgeReward` on {refuse['completions']} "
        f"completions, `OpenAIBackend` with default retries: against a refused port "
        f"**{refuse['seconds']:.2f} s** ({refuse['stats'].get('backend_errors', 0)} errors, "
        f"{refuse['stats'].get('circuit_open', 0)} refused by the breaker); against a server "
        f"that accepts and never answers, `timeout={hang['timeout']:g}`, "
        f"**{hang['seconds']:.2f} s** ({hang['stats'].get('backend_errors', 0)} errors, "
        f"{hang['stats'].get('circuit_open', 0)} refused by the breaker)."
    )


@block("judge-batch")
def judge_batch() -> str:
    """docs/rewards.md: local judge, one generate per completion vs batches."""
    rows = read_csv(HERE / "judge_batch.csv")
    first = rows[0]
    parts = [f"{r['way']} {float(r['seconds']):.2f} s" for r in rows]
    same = all(r["same_replies"] == "True" for r in rows)
    return (
        f"**Local judge speed** (`benchmarks/judge_batch.py`, raw rows in "
        f"`benchmarks/judge_batch.csv`): SmolLM2-135M's width and vocabulary with random "
        f"weights, {first['layers']} of 30 layers, {first['completions']} judge prompts, "
        f"{first['max_new_tokens']} new tokens, {first['threads']} threads, one run each on "
        f"a shared CPU (so only the ratio means anything): "
        + "; ".join(parts)
        + (", same replies." if same else "; the replies differ.")
    )


@block("sandbox-cost")
def sandbox_cost() -> str:
    """docs/rewards.md: seconds per sandboxed run (benchmarks/sandbox_cost.py)."""
    data = json.loads((RESULTS / "sandbox_cost.json").read_text(encoding="utf-8"))
    levels = "; ".join(
        f"`{name}` {v['median_s']:.2f} s ({v['min_s']:.2f}-{v['max_s']:.2f})"
        for name, v in data["levels"].items()
    )
    numpy = (
        f" A snippet that imports numpy takes {data['numpy_median_s']:.2f} s (median)."
        if "numpy_median_s" in data
        else ""
    )
    return (
        f"Cost here (`python benchmarks/sandbox_cost.py`, raw output "
        f"`benchmarks/results/sandbox_cost.json`; {data['cpus']} busy cores at load average "
        f"{data['load_avg']:.0f}; median and min-max of {data['runs']} runs of a one-test "
        f"snippet): {levels}.{numpy}"
    )
