"""A dead judge: how long one JudgeReward batch takes against a refused or a hung endpoint.

Run: python benchmarks/judge_dead.py [--completions 64] [--kind refuse|hang] [--timeout 1]

``refuse``: a local port where nothing listens (connection refused at once). ``hang``: a
local socket that listens (the kernel completes the connection) and never answers, with
the backend's ``timeout``. ``OpenAIBackend`` keeps its default retries and backoff.
Prints the seconds the batch took and the judge's counters.
"""

from __future__ import annotations

import argparse
import socket
import time

from taskorder.rewards import Judge, JudgeReward, OpenAIBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completions", type=int, default=64)
    parser.add_argument("--kind", choices=["refuse", "hang"], default="refuse")
    parser.add_argument("--timeout", type=float, default=1.0)
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
    rewards = reward(prompts=[f"q{i}" for i in range(n)], completions=[f"a{i}" for i in range(n)],
                     rubric=["r"] * n)
    elapsed = time.monotonic() - started
    print(f"{args.kind}: {n} completions in {elapsed:.2f} s, {rewards.count(None)} None, "
          f"{dict(reward.judge.stats_)}")
    listener.close()


if __name__ == "__main__":
    main()
