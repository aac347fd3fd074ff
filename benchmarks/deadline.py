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

``--format npz`` gives both kinds of rows the same matrix as a NumPy ``.npz`` file
(``taskorder.io.write_matrix``, read back from the CSV so the values are the same) and
prints, per size, a comment line with the time to read the square CSV and the ``.npz``
once each; ``--format square,npz`` runs both inputs one after the other, so the CSV rows
are the baseline of the same run. ``deadline_npz.txt`` is::

    nice -n 5 .venv/bin/python benchmarks/deadline.py --sizes 2000 --limits 0.5,1,2,5 \\
        --format square,npz > benchmarks/results/deadline_npz.txt

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
from taskorder.io import write_matrix as save_matrix


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


def as_npz(csv_path: Path, n_tasks: int) -> Path:
    """The matrix of ``csv_path`` written as ``.npz`` next to it; prints both read times."""
    began = time.perf_counter()
    matrix = read_matrix(csv_path)
    csv_s = time.perf_counter() - began
    npz_path = save_matrix(matrix, csv_path.with_suffix(".npz"))
    began = time.perf_counter()
    again = read_matrix(npz_path)
    npz_s = time.perf_counter() - began
    assert again.bwt.tobytes() == matrix.bwt.tobytes()
    print(
        f"# n={n_tasks}: read square CSV {csv_s:.3f} s ({csv_path.stat().st_size / 1e6:.1f} MB), "
        f".npz {npz_s:.3f} s ({npz_path.stat().st_size / 1e6:.1f} MB), ratio {csv_s / npz_s:.0f}",
        flush=True,
    )
    return npz_path


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


def size_rows(path: Path, n_tasks: int, limits: list[float], args) -> None:
    """Print the ``lib`` rows (and the ``cli`` rows unless ``--no-cli``) for one input file."""
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
        return
    for limit in limits:
        row = cli_row(path, limit, args.seed)
        print(
            f"{n_tasks:>5} {'cli':>4} {limit:>6g} {'':>7} {row['wall']:>7.2f} "
            f"{row['wall'] - limit:>+7.2f} {'yes' if row['ok'] else 'NO':>3} "
            f"{'':>8} {'':>7} {'':>9} {row['value']:>14.6f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--limits", default="0.5,1,2,5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cli", action="store_true", help="library rows only")
    parser.add_argument(
        "--format",
        default="square",
        help="input files, comma-separated: 'square' (the CSV) and/or 'npz' (the same "
        "matrix as .npz); each gets its block of rows, after a '# input' line",
    )
    parser.add_argument("--label", default="", help="a note for the header (e.g. the commit)")
    parser.add_argument(
        "--post-seconds-per-cell",
        type=float,
        default=None,
        help="what-if: set taskorder.solvers.POST_SECONDS_PER_CELL (what solve keeps back "
        "for its work after the solver) for the library rows; use with --no-cli",
    )
    args = parser.parse_args(argv)
    formats = args.format.split(",")
    if not formats or not set(formats) <= {"square", "npz"}:
        parser.error(
            f"--format takes 'square', 'npz' or both, comma-separated; got {args.format!r}"
        )
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
            csv_path = write_matrix(Path(folder), n_tasks, args.seed)
            for fmt in formats:
                if formats != ["square"]:
                    print(f"# input {fmt}", flush=True)
                path = as_npz(csv_path, n_tasks) if fmt == "npz" else csv_path
                size_rows(path, n_tasks, limits, args)


if __name__ == "__main__":
    main()
