"""Time and pixel size of the heatmap and the transfer graph as the number of tasks grows.

Run: python benchmarks/plot_speed.py [--before REV] [--heatmap 10 50 200] [--graph 10 30 100]
     [--repeats 1] [--out benchmarks/results/plot_speed.md]

Each case draws the figure for a seeded random matrix (tasks named like real ones, up to 24
characters) in the order given, and saves it as a PNG at the default 150 dpi, as
``taskorder plot`` does; the time covers drawing and saving (the median of ``--repeats``).
With ``--before REV`` the same cases also run, each in a fresh interpreter, on the package
as it was at git revision ``REV`` (``git archive``), and the table gives the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from taskorder import TransferMatrix

ROOT = Path(__file__).parents[1]
NAMES = ["math", "code", "poetry", "creative_writing", "summarisation_news", "translation_de_en"]


def random_matrix(n_tasks: int, seed: int = 0) -> TransferMatrix:
    rng = np.random.default_rng(seed)
    tasks = [f"{NAMES[k % len(NAMES)]}_{k}" for k in range(n_tasks)]
    return TransferMatrix(tasks, rng.normal(0, 0.1, (n_tasks, n_tasks)) * (1 - np.eye(n_tasks)))


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def source_tree(revision: str) -> Path:
    """``src/`` of the repository at git ``revision``, extracted into a temporary folder."""
    folder = Path(tempfile.mkdtemp())
    archive = subprocess.run(
        ["git", "archive", revision, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def measure(
    kind: str, n_tasks: int, repeats: int, src: Path | None = None
) -> tuple[float, tuple[int, int]]:
    """Median seconds to draw and save, and the PNG's size; with ``src``, in a fresh
    interpreter that imports taskorder from ``src`` (this tree's or an older revision's)."""
    if src is not None:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", kind, str(n_tasks), str(repeats)],
            env={**os.environ, "PYTHONPATH": str(src)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        seconds, width, height = json.loads(out.splitlines()[-1])
        return seconds, (width, height)
    from taskorder import plot

    matrix = random_matrix(n_tasks)
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "figure.png"
        plot.save(plot.heatmap(random_matrix(3)), path)  # warm-up: imports, font caches
        for _ in range(repeats):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                figure = getattr(plot, kind)(matrix, order=list(matrix.tasks))
                plot.save(figure, path)
            times.append(time.perf_counter() - start)
        return statistics.median(times), png_size(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision to compare with")
    parser.add_argument("--heatmap", type=int, nargs="*", default=[10, 50, 200])
    parser.add_argument("--graph", type=int, nargs="*", default=[10, 30, 100])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)  # KIND N REPEATS, one case
    args = parser.parse_args(argv)
    if args.measure:
        kind, n_tasks, repeats = args.measure
        seconds, (width, height) = measure(kind, int(n_tasks), int(repeats))
        print(json.dumps([seconds, width, height]))
        return

    trees = {"now": ROOT / "src"}
    if args.before:
        trees = {"before": source_tree(args.before), **trees}
    header = "| figure | tasks | " + " | ".join(f"{name} s | {name} px" for name in trees)
    header += " | time ratio | pixel ratio |" if args.before else " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    print("\n".join(lines), flush=True)
    cases = [("heatmap", n) for n in args.heatmap] + [("transfer_graph", n) for n in args.graph]
    for kind, n_tasks in cases:
        row = {name: measure(kind, n_tasks, args.repeats, src) for name, src in trees.items()}
        cells = [f"{seconds:.2f} | {w}x{h}" for seconds, (w, h) in row.values()]
        line = f"| {kind} | {n_tasks} | " + " | ".join(cells) + " |"
        if args.before:
            (old_s, (old_w, old_h)), (new_s, (new_w, new_h)) = row["before"], row["now"]
            line += f" {old_s / new_s:.1f}x | {old_w * old_h / (new_w * new_h):.1f}x |"
        lines.append(line)
        print(line, flush=True)
    if args.out:
        command = "python benchmarks/plot_speed.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        args.out.write_text(f"{command}\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
