"""Time and pixel size of the heatmap and the transfer graph as the number of tasks grows.

Run: python benchmarks/plot_speed.py [--before REV] [--heatmap 10 50 200] [--graph 10 30 100]
     [--repeats 1] [--out benchmarks/results_plot_speed.txt]

Each case draws the figure for a seeded random matrix (tasks named like real ones, up to 24
characters) in the order given, and saves it as a PNG at the default 150 dpi, as
``taskorder plot`` does; the time covers drawing and saving (the median of ``--repeats``).
With ``--before REV`` the same cases also run on ``src/taskorder/plot/figures.py`` as it was
at git revision ``REV``, and the table gives the ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
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
from taskorder.plot import figures

ROOT = Path(__file__).parents[1]
NAMES = ["math", "code", "poetry", "creative_writing", "summarisation_news", "translation_de_en"]


def random_matrix(n_tasks: int, seed: int = 0) -> TransferMatrix:
    rng = np.random.default_rng(seed)
    tasks = [f"{NAMES[k % len(NAMES)]}_{k}" for k in range(n_tasks)]
    return TransferMatrix(tasks, rng.normal(0, 0.1, (n_tasks, n_tasks)) * (1 - np.eye(n_tasks)))


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def old_figures(revision: str):
    """``taskorder.plot.figures`` as it was at ``revision``, loaded as a separate module."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/taskorder/plot/figures.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "figures_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("figures_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(module, kind: str, n_tasks: int, repeats: int, folder: Path) -> tuple[float, tuple[int, int]]:
    matrix = random_matrix(n_tasks)
    times = []
    path = folder / f"{kind}-{n_tasks}.png"
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            figure = getattr(module, kind)(matrix, order=list(matrix.tasks))
            module.save(figure, path)
        times.append(time.perf_counter() - start)
    return statistics.median(times), png_size(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision to compare with")
    parser.add_argument("--heatmap", type=int, nargs="*", default=[10, 50, 200])
    parser.add_argument("--graph", type=int, nargs="*", default=[10, 30, 100])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)

    modules = {"now": figures}
    if args.before:
        modules = {"before": old_figures(args.before), **modules}
    header = "| figure | tasks | " + " | ".join(
        f"{name} s | {name} px" for name in modules) + (" | time ratio | pixel ratio |" if args.before else " |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    cases = [("heatmap", n) for n in args.heatmap] + [("transfer_graph", n) for n in args.graph]
    with tempfile.TemporaryDirectory() as folder:
        for module in modules.values():  # warm-up: imports and font caches are not timed
            measure(module, "heatmap", 3, 1, Path(folder))
        for kind, n_tasks in cases:
            row = {name: measure(module, kind, n_tasks, args.repeats, Path(folder)) for name, module in modules.items()}
            cells = [f"{seconds:.2f} | {w}x{h}" for seconds, (w, h) in row.values()]
            line = f"| {kind} | {n_tasks} | " + " | ".join(cells) + " |"
            if args.before:
                (old_s, (old_w, old_h)), (new_s, (new_w, new_h)) = row["before"], row["now"]
                line += f" {old_s / new_s:.1f}x | {old_w * old_h / (new_w * new_h):.1f}x |"
            lines.append(line)
            print(line if len(lines) > 3 else "\n".join(lines), flush=True)
    if args.out:
        command = "python benchmarks/plot_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
        args.out.write_text(f"{command}\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
