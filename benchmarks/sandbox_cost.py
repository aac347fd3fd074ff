"""Cost of one sandboxed code run (the code reward's sandbox), per isolation level.

Run: python benchmarks/sandbox_cost.py [--runs 15] [--out benchmarks/results/sandbox_cost.json]

A one-test snippet (``def double(x): return 2 * x`` and ``assert double(2) == 4``) is run
``--runs`` times at each isolation level that works here (``root-namespaces`` needs root),
and once more with ``import numpy`` in the code. Reported: the median and the min / max of
the wall seconds per run (``SandboxResult.elapsed`` as the sandbox measures it), the load
average at the start and the CPU count. ``benchmarks/report.py`` renders docs/rewards.md's
sentence from the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from taskorder.exceptions import TaskorderError
from taskorder.rewards.sandbox import run_python_tests

CODE = "def double(x):\n    return 2 * x"
TESTS = ["assert double(2) == 4"]


def time_level(level: str, runs: int, code: str = CODE) -> list[float] | None:
    seconds = []
    for _ in range(runs):
        try:
            result = run_python_tests(code, TESTS, isolation=level)
        except TaskorderError as error:  # a level that does not work on this machine
            print(f"{level}: {error}")
            return None
        if result.passed != (True,):
            raise RuntimeError(f"{level}: the snippet did not pass: {result}")
        seconds.append(result.elapsed)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "sandbox_cost.json"
    )
    args = parser.parse_args()
    out = {"runs": args.runs, "cpus": os.cpu_count(), "load_avg": os.getloadavg()[0], "levels": {}}
    for level in ("root-namespaces", "plain"):
        seconds = time_level(level, args.runs)
        if seconds:
            out["levels"][level] = {
                "median_s": statistics.median(seconds),
                "min_s": min(seconds),
                "max_s": max(seconds),
            }
    numpy = time_level("root-namespaces", args.runs, "import numpy\n" + CODE) or time_level(
        "plain", args.runs, "import numpy\n" + CODE
    )
    if numpy:
        out["numpy_median_s"] = statistics.median(numpy)
    print(json.dumps(out, indent=2))
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
