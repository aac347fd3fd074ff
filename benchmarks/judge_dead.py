"""A dead judge: how long one JudgeReward batch takes against a refused or a hung endpoint.

Run: python benchmarks/judge_dead.py [--completions 64] [--kind refuse|hang] [--timeout 1]
     [--out benchmarks/results/judge_dead.json]   (adds this run under its kind)

``refuse``: a local port where nothing listens (connection refused at once). ``hang``: a
local socket that listens (the kernel completes the connection) and never answers, with
the backend's ``timeout``. ``OpenAIBackend`` keeps its default retries and backoff.
Prints the seconds the batch took and the judge's counters.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import time

from taskorder.rewards import Judge, JudgeReward, OpenAIBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=64)
    parser.add_argument("--kind", choices=["refuse", "hang"], default="refuse")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--out", default=None, help="JSON file to add this run to")
    args = parser.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if args.kind == "hang":
        listener.listen(128)
    else:
        listener.close()
    backend = OpenAIBackend(f"http://127.0.0.1:{port}/v1", "judge", timeout=args.timeout)
    reward = JudgeReward(Judge(backend))
    n = args.completions
    started = time.monotonic()
    rewards = reward(
        prompts=[f"q{i}" for i in range(n)],
        completions=[f"a{i}" for i in range(n)],
        rubric=["r"] * n,
    )
    elapsed = time.monotonic() - started
    print(
        f"{args.kind}: {n} completions in {elapsed:.2f} s, {rewards.count(None)} None, "
        f"{dict(reward.judge.stats_)}"
    )
    listener.close()
    if args.out:
        path = args.out
        runs = {}
        if os.path.exists(path):
            with open(path) as handle:
                runs = json.load(handle)
        runs[args.kind] = {
            "completions": n,
            "timeout": args.timeout,
            "seconds": elapsed,
            "none": rewards.count(None),
            "stats": dict(reward.judge.stats_),
            "cpus": os.cpu_count(),
            "load_avg": os.getloadavg()[0],
        }
        with open(path, "w") as handle:
            handle.write(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
