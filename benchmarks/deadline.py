"""Is ``--time-limit`` a wall-clock deadline at large n? (issue 17: within 5 % + 0.5 s).

For each size ``n`` a random matrix (``numpy.random.default_rng(seed)``: standard normal
entries, zero diagonal, six decimals, tasks ``t0 .. t{n-1}``) is written as a square CSV
to a temporary folder. Then, for each time limit ``L``:

- ``lib``: ``solve(matrix, time_limit=L)`` (``method="auto"``, which routes n >= 500 to
  the local search), timed around the call; the matrix is read once before (``read_s``).
- ``cli``: ``python -m taskorder solve FILE --time-limit L --json`` in a fresh process,
  timed from the process start to its end: interpreter start-up, imports, reading the
  file, solving and printing. The CLI counts the limit from the start of the command
  and gives ``solve`` what is left after reading (at least 0.05 s).

Columns: ``wall_s`` (seconds), ``over_s = wall_s - L``, ``ok``: ``lib`` rows within
``L + 0.5`` s, ``cli`` rows within ``1.05 L + 0.5`` s. ``solver_s`` is the solver's own
time (``SolveResult.elapsed_s``), ``first_s`` the solver's first answer (its anytime
curve's first point), ``arm`` the local search arm that ran (``none``: the deadline came
during the first descent). The machine these numbers come from has 2 cores shared with
other jobs (``load`` is the 1-minute load average at the start): wall times move with it.

Run from the repository root::

    PYTHONPATH=src nice -n 5 python benchmarks/deadline.py --sizes 500,1000,2000 \\
        --limits 0.5,1,2,5 > benchmarks/results/deadline.txt

``deadline_long.txt``: ``--sizes 1000,2000 --limits 10,30`` (the arms that run at longer
limits: memetic at n = 1,000, iterated at 2,000). ``benchmarks/results/deadline_before.txt`` is the same command on the sources of commit
dde19ce (``git archive dde19ce src | tar -x -C /tmp/before``, then
``PYTHONPATH=/tmp/before/src`` and ``--label "(sources of dde19ce)"``), the state before
the fixed costs after the search were cut. ``deadline_post.txt`` is the what-if for a
smaller reserve after the solver (``--no-cli --post-seconds-per-cell 5e-8``, library
rows only: the CLI runs in another process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from taskorder import solve
from taskorder.io import read_matrix


def write_matrix(folder: Path, n_tasks: int, seed: int) -> Path:
    """The seeded random matrix of the module docstring, as a square CSV."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n_tasks, n_tasks))
    np.fill_diagonal(weights, 0.0)
    names = [f"t{i}" for i in range(n_tasks)]
    path = folder / f"random_{n_tasks}_{seed}.csv"
    with path.open("w") as handle:
        handle.write("task," + ",".join(names) + "\n")
        for name, row in zip(names, weights):
            handle.write(name + "," + ",".join(f"{x:.6f}" for x in row) + "\n")
    return path


def library_row(matrix, limit: float, seed: int) -> dict:
    began = time.perf_counter()
    result = solve(matrix, time_limit=limit, seed=seed)
    wall = time.perf_counter() - began
    arm = str(result.extras.get("local_arm", result.method)).split(" ")[0].rstrip(":")
    return {
        "wall": wall,
        "ok": wall <= limit + 0.5,
        "solver": result.elapsed_s,
        "first": result.anytime[0][0] if result.anytime else float("nan"),
        "arm": arm,
        "value": result.objective,
    }


def cli_row(path: Path, limit: float, seed: int) -> dict:
    command = [sys.executable, "-m", "taskorder", "solve", str(path), "--time-limit", str(limit)]
    command += ["--seed", str(seed), "--json"]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-500:]}")
    value = json.loads(done.stdout).get("objective", float("nan"))
    return {"wall": wall, "ok": wall <= 1.05 * limit + 0.5, "value": value}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--limits", default="0.5,1,2,5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cli", action="store_true", help="library rows only")
    parser.add_argument("--label", default="", help="a note for the header (e.g. the commit)")
    parser.add_argument(
        "--post-seconds-per-cell",
        type=float,
        default=None,
        help="what-if: set taskorder.solvers.POST_SECONDS_PER_CELL (what solve keeps back "
        "for its work after the solver) for the library rows; use with --no-cli",
    )
    args = parser.parse_args(argv)
    if args.post_seconds_per_cell is not None:
        import taskorder.solvers

        taskorder.solvers.POST_SECONDS_PER_CELL = args.post_seconds_per_cell
        args.label += f" POST_SECONDS_PER_CELL={args.post_seconds_per_cell:g}"
    sizes = [int(s) for s in args.sizes.split(",")]
    limits = [float(s) for s in args.limits.split(",")]
    print(f"# deadline benchmark: sizes {sizes}, limits {limits}, seed {args.seed}, ", end="")
    print(f"load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cpus {args.label}".rstrip())
    print(f"{'n':>5} {'how':>4} {'limit':>6} {'read_s':>7} {'wall_s':>7} {'over_s':>7} ", end="")
    print(f"{'ok':>3} {'solver_s':>8} {'first_s':>7} {'arm':>9} {'value':>14}")
    with tempfile.TemporaryDirectory() as folder:
        for n_tasks in sizes:
            path = write_matrix(Path(folder), n_tasks, args.seed)
            began = time.perf_counter()
            matrix = read_matrix(path)
            read_s = time.perf_counter() - began
            for limit in limits:
                row = library_row(matrix, limit, args.seed)
                print(
                    f"{n_tasks:>5} {'lib':>4} {limit:>6g} {read_s:>7.2f} {row['wall']:>7.2f} "
                    f"{row['wall'] - limit:>+7.2f} {'yes' if row['ok'] else 'NO':>3} "
                    f"{row['solver']:>8.2f} {row['first']:>7.3f} {row['arm']:>9} "
                    f"{row['value']:>14.6f}",
                    flush=True,
                )
            if args.no_cli:
                continue
            for limit in limits:
                row = cli_row(path, limit, args.seed)
                print(
                    f"{n_tasks:>5} {'cli':>4} {limit:>6g} {'':>7} {row['wall']:>7.2f} "
                    f"{row['wall'] - limit:>+7.2f} {'yes' if row['ok'] else 'NO':>3} "
                    f"{'':>8} {'':>7} {'':>9} {row['value']:>14.6f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
