"""`solve(method="auto")` against a restarted insertion local search, same run, same limit.

Two baselines, each given the same time limit and seed as ``solve``, one after the
other in the same process, so machine load hits all alike: compare the delta columns,
not the seconds (the machine these numbers come from has 2 cores shared with other jobs).

- ``afternoon``: written here, independent of the package (numpy only, ~40 lines): every
  pass builds the row prefix sums of ``D = W - W.T`` in the current order (O(n^2),
  vectorised), applies the best insertion, and repeats to a local optimum; then it
  kicks the best order with five random insertions and descends again, until the limit.
- ``ils``: the package's iterated insertion search
  (``taskorder.solvers.heuristics.insertion_restarts``, run directly on the weights: no
  ``solve`` overhead), which applies all non-overlapping improving insertions per sweep.

Run from the repository root::

    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 5,10 \
        > benchmarks/results/portfolio_after.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 30 \
        --rows p40-05,t59b11xx,sgb75.01,r100a2 > benchmarks/results/portfolio_rows.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 60 --proven IO \
        > benchmarks/results/portfolio_io.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 60 --routes \
        lazy-rebuild,lazy-incremental,full --rows r100a2:50,r100a2:70,r100b2:70,r100b2:85,\
    r100c2:70,r100d2:70,r100e2:70,r100c2:85 > benchmarks/results/portfolio_mb_routes.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 60 --routes \
        lazy-rebuild,lazy-incremental --rows t59b11xx,be75np,stabu70,usa79,sgb75.01 \
        > benchmarks/results/portfolio_lp_io.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 60 --routes \
        lazy-rebuild,lazy-incremental --rows "$(PYTHONPATH=src python -c 'import sys; \
    sys.path.insert(0, "benchmarks"); import lolib; \
    print(",".join(i.name for i in lolib.instances("IO")))')" \
        > benchmarks/results/portfolio_lp_io_all.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 60 --routes \
        lazy-rebuild,lazy-incremental --rows sgb75.01,sgb75.02,sgb75.03,sgb75.04,sgb75.05 \
        > benchmarks/results/portfolio_lp_sgb.txt
    PYTHONPATH=src python benchmarks/portfolio.py --large-only \
        --large 500:5,1000:30,2000:5,2000:10 > benchmarks/results/portfolio_large.txt
    PYTHONPATH=src python benchmarks/portfolio.py --read 1000,2000 \
        > benchmarks/results/portfolio_read.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 10 --arms \
        t1d150.01,t1d200.01,tiw56n67_150,t75d11xx_150,tiw56n67_250,be75eec_250 \
        > benchmarks/results/portfolio_arms.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 5 --arms \
        generated500,generated700,generated1000,generated2000 \
        > benchmarks/results/portfolio_arms_generated.txt
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 15 --arms generated2000 \
        > benchmarks/results/portfolio_arms_2000.txt  # then --time-limits 30, appended
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 10,5 --route-check \
        usa79,econ61,econ64,econ67,econ71,econ73,econ77,t2d100.01,t2d100.03,t2d100.05,\
    be75np,sgb75.01,t1d100.01,t1d100.03,p40-05,p50-02,p50-15,r100b2 \
        > benchmarks/results/portfolio_route_staged.txt  # staged was the default then
    PYTHONPATH=src python benchmarks/portfolio.py --time-limits 10,5 \
        --portfolio-modes staged,parallel --route-check usa79,econ61,econ64,econ67,econ71,\
    econ73,econ77,t2d100.01,t2d100.03,t2d100.05 > benchmarks/results/portfolio_route_modes.txt
    PYTHONPATH=src python benchmarks/portfolio.py --slack IO,Spec,RandA2,MB,SGB,RandB,RandA1 \
        > benchmarks/results/portfolio_route_slack.txt
    PYTHONPATH=src python benchmarks/portfolio.py --lp-gap usa79,econ77,t2d100.01,\
    sgb75.01,r100b2,t1d100.03,p50-15 > benchmarks/results/portfolio_route_lp_gap.txt
    PYTHONPATH=src python benchmarks/portfolio.py --wall \
        p50-02:10:ilp,p50-15:10:ilp,t1d100.03:10:ilp,r100b2:10:ilp,r100b2:30:ilp,p50-02:10:auto \
        > benchmarks/results/portfolio_wall.txt

``--rows NAME:k`` runs the leading ``k x k`` block of a LOLIB matrix (MB n = 100
instances take over a minute per route on the shared machine; their blocks are proved
in seconds). ``ratio`` there is wall time over the first route's, same instance, same run.

``d_aft_%`` / ``d_ils_%`` are ``100 * (auto - baseline) / |baseline|`` (positive: auto is
ahead);
``gap_%`` is the distance to the LOLIB best-known (generated instances: none);
``wall_s`` is the wall time of the whole ``solve`` call (reading excluded).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import lolib
from solvers import generated_matrix, lolib_matrix

from taskorder import solve

LOLIB_CASES = ("p40-05", "p50-02", "p50-15", "t1d100.03", "t1d150.01", "r100b2")
GENERATED_SIZES = (500, 1000)


def baseline_search(weights: np.ndarray, time_limit: float, seed: int) -> float:
    """Restarted insertion local search; returns the best value found in ``time_limit``."""
    start, rng = time.perf_counter(), np.random.default_rng(seed)
    n_tasks = weights.shape[0]
    diff = weights - weights.T
    rows = np.arange(n_tasks)

    def left() -> bool:
        return time.perf_counter() - start < time_limit

    def value(order: np.ndarray) -> float:
        return float(np.triu(weights[np.ix_(order, order)], 1).sum())

    def descend(order: np.ndarray) -> np.ndarray:
        while left():
            prefix = np.zeros((n_tasks, n_tasks + 1))
            np.cumsum(diff[np.ix_(order, order)], axis=1, out=prefix[:, 1:])
            target = prefix.argmin(axis=1)
            gain = prefix[rows, rows] - prefix[rows, target]
            p = int(gain.argmax())
            if gain[p] <= 1e-9:
                break
            q = int(target[p]) if target[p] <= p else int(target[p]) - 1
            order = np.insert(np.delete(order, p), q, order[p])
        return order

    best = descend(np.argsort(-diff.sum(axis=1), kind="stable"))
    best_value = value(best)
    while left():
        order = best.copy()
        for _ in range(5):
            order = _random_insertion(order, rng)
        order = descend(order)
        candidate = value(order)
        if candidate >= best_value:
            best, best_value = order, candidate
    return best_value


def ils_search(weights: np.ndarray, time_limit: float, seed: int) -> float:
    """The package's iterated insertion search alone; best value found in ``time_limit``."""
    from taskorder.solvers.heuristics.budget import Budget
    from taskorder.solvers.heuristics.insertion_restarts import iterated_insertion
    from taskorder.solvers.heuristics.local_search import constructive_starts
    from taskorder.solvers.problem import Constraints, Problem

    n_tasks = weights.shape[0]
    problem = Problem(weights, "all_pairs", Constraints(n_tasks, predecessors=(0,) * n_tasks))
    budget = Budget(time_limit=time_limit)
    starts = constructive_starts(problem)
    return iterated_insertion(problem, starts, budget, np.random.default_rng(seed))[1]


def memetic_search(weights: np.ndarray, time_limit: float, seed: int) -> float:
    """The package's memetic search alone (from the descended best start, as ``solve``
    starts it); best value found in ``time_limit``."""
    from taskorder.solvers.heuristics.budget import Budget
    from taskorder.solvers.heuristics.insertion import InsertionTable
    from taskorder.solvers.heuristics.local_search import constructive_starts
    from taskorder.solvers.heuristics.memetic import memetic_linear_ordering
    from taskorder.solvers.problem import Constraints, Problem

    n_tasks = weights.shape[0]
    problem = Problem(weights, "all_pairs", Constraints(n_tasks, predecessors=(0,) * n_tasks))
    budget = Budget(time_limit=time_limit)
    starts = sorted(constructive_starts(problem), key=problem.value, reverse=True)
    table = InsertionTable(weights, starts[0])
    table.descend()
    first = table.order.tolist()
    rng = np.random.default_rng(seed)
    return memetic_linear_ordering(problem, [first, *starts[1:]], budget, rng)[1]


def arms_check(names: list[str], time_limit: float, seed: int) -> None:
    """The two ``all_pairs`` arms of the local search, each alone, same limit and seed,
    one after the other: gap to best-known (LOLIB) or ``100 (memetic - ils) / |ils|``."""
    known = lolib.best_known()
    print("# instance n limit_s ils memetic ils_gap_% memetic_gap_% memetic_minus_ils_%")
    for name in names:
        if name.startswith("generated"):
            weights, best = generated_matrix(int(name[9:]), seed).pair_weights(), None
        else:
            weights, best = known[name].weights(), known[name].best_known
        ils = ils_search(weights, time_limit, seed)
        memetic = memetic_search(weights, time_limit, seed)
        gaps = [f"{100 * (best - v) / best:.4f}" if best else "-" for v in (ils, memetic)]
        print(
            name,
            weights.shape[0],
            time_limit,
            _fmt(ils),
            _fmt(memetic),
            *gaps,
            f"{100 * (memetic - ils) / abs(ils):.5f}",
            flush=True,
        )


def _random_insertion(order: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p, q = rng.integers(order.size, size=2)
    return np.insert(np.delete(order, p), q, order[p])


def cases(names: list[str], sizes: list[int], seed: int):
    known = lolib.best_known()
    for name in names:
        inst = known[name]
        yield name, inst.family, lolib_matrix(inst.weights()), inst.best_known
    for n_tasks in sizes:
        yield f"generated{n_tasks}", "generated", generated_matrix(n_tasks, seed), None


def run(args) -> list[dict]:
    rows = []
    names = [n for n in args.instances.split(",") if n]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    plan = [(float(t), name) for t in args.time_limits.split(",") for name in names + sizes]
    for item in (i for i in args.long.split(",") if i):
        name, limit = item.split(":")
        plan.append((float(limit), int(name) if name.isdigit() else name))
    for time_limit, case in plan:
        name, family, matrix, best = next(
            cases(
                [case] if isinstance(case, str) else [],
                [case] if isinstance(case, int) else [],
                args.seed,
            )
        )
        weights = matrix.pair_weights()
        started = time.perf_counter()
        result = solve(matrix, time_limit=time_limit, seed=args.seed)
        wall = time.perf_counter() - started
        afternoon = baseline_search(weights, time_limit, args.seed)
        ils = ils_search(weights, time_limit, args.seed)
        ours = result.objective
        row = {
            "instance": name,
            "family": family,
            "n": matrix.n_tasks,
            "limit_s": time_limit,
            "method": result.method,
            "status": result.status,
            "wall_s": round(wall, 2),
            "auto": ours,
            "afternoon": afternoon,
            "ils": ils,
            "d_aft_%": 100 * (ours - afternoon) / abs(afternoon),
            "d_ils_%": 100 * (ours - ils) / abs(ils),
            "gap_%": 100 * (best - ours) / best if best else float("nan"),
            "aft_gap_%": 100 * (best - afternoon) / best if best else float("nan"),
            "ils_gap_%": 100 * (best - ils) / best if best else float("nan"),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def rounded(matrix, decimals: int = 6):
    """``matrix`` with its values rounded to 6 decimals, as a measured matrix would be
    written (and as the earlier ``--read`` / ``--large`` runs were measured)."""
    from taskorder import TransferMatrix

    return TransferMatrix(matrix.tasks, np.round(matrix.bwt, decimals))


def first_answer(n_tasks: int, time_limit: float, seed: int) -> dict:
    """Read a square CSV of generated data and ``solve`` it with ``time_limit``: the
    wall time of both (the target: within 5 % + 0.5 s of the limit) and the first
    anytime point (seconds after ``solve`` was called)."""
    import tempfile

    from taskorder import read_matrix, write_matrix

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"generated{n_tasks}.csv"
        write_matrix(rounded(generated_matrix(n_tasks, seed)), path)
        started = time.perf_counter()
        matrix = read_matrix(path)
        read_s = time.perf_counter() - started
        result = solve(matrix, time_limit=max(0.01, time_limit - read_s), seed=seed)
        wall = time.perf_counter() - started
    first = result.anytime[0][0] if result.anytime else None
    return {
        "n": n_tasks,
        "limit_s": time_limit,
        "read_s": round(read_s, 2),
        "wall_s": round(wall, 2),
        "over_limit_s": round(wall - time_limit, 2),
        "within_target": wall <= 1.05 * time_limit + 0.5,
        "first_point_s": first,
        "method": result.method,
        "status": result.status,
        "objective": result.objective,
    }


_READ_CHILD = """
import json, re, time
from taskorder import io
if {general}:
    io._parse_square_fast = lambda path, text: None
def memory_kb(field):
    return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))
with open("/proc/self/clear_refs", "w") as handle:  # reset the peak to the current RSS
    handle.write("5")
before = memory_kb("VmRSS")
started = time.perf_counter()
io.read_matrix({path!r})
print(json.dumps({{"seconds": time.perf_counter() - started,
    "peak_mb": (memory_kb("VmHWM") - before) / 1024}}))
"""


def read_check(sizes: list[int], repeats: int, seed: int) -> None:
    """``read_matrix`` on a square CSV of generated data (6 decimals, as a measured matrix
    would be written): the numpy fast path against the general parser, each read in a
    fresh process (peak RSS during the read above the RSS before it, Linux), the two
    alternating; ``ratio`` is fast over general, same size, same repeat."""
    import subprocess
    import tempfile

    from taskorder import write_matrix

    print("# n repeat parser seconds peak_mb ratio_seconds ratio_peak")
    for n_tasks in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bwt.csv"
            write_matrix(rounded(generated_matrix(n_tasks, seed)), path)
            for repeat in range(repeats):
                runs = {}
                for parser in ("general", "fast"):
                    code = _READ_CHILD.format(general=parser == "general", path=str(path))
                    out = subprocess.run(
                        [sys.executable, "-c", code], capture_output=True, text=True, check=True
                    )
                    runs[parser] = json.loads(out.stdout.strip().splitlines()[-1])
                for parser, run_ in runs.items():
                    print(
                        n_tasks,
                        repeat,
                        parser,
                        round(run_["seconds"], 3),
                        round(run_["peak_mb"], 1),
                        round(run_["seconds"] / runs["general"]["seconds"], 3),
                        round(run_["peak_mb"] / max(runs["general"]["peak_mb"], 1e-9), 3),
                        flush=True,
                    )


#: Exact routes ``--rows`` can compare: name -> solve_ilp keyword arguments.
ROUTES = {
    "full": {"rows": "full"},
    "lazy-rebuild": {"rows": "lazy", "lp": "rebuild"},
    "lazy-incremental": {"rows": "lazy", "lp": "incremental"},
    # issue 17's cut cap (measured there on the rebuilt LP), on the incremental LP
    "lazy-incremental-cap2000": {"rows": "lazy", "lp": "incremental", "cap": 2000},
    "lazy-rebuild-cap2000": {"rows": "lazy", "lp": "rebuild", "cap": 2000},
    # incremental rounds by warm dual simplex only (the default since the run in
    # results/portfolio_lp_barrier.txt, whose "lazy-incremental" had barrier_ratio 1.0)
    "lazy-incremental-simplex": {"rows": "lazy", "lp": "incremental", "barrier_ratio": 1e18},
    # barrier + crossover for a round after more new rows than columns
    "lazy-incremental-barrier": {"rows": "lazy", "lp": "incremental", "barrier_ratio": 1.0},
}


def summarise_rows(path: str) -> None:
    """Per route, from a ``--rows`` output: proven count and min / median / max of the
    wall-time ratio to the first route (over the instances both proved)."""
    path, _, only = path.partition("@")  # "file@name,name": those instances only
    lines = [line.split() for line in Path(path).read_text().splitlines()]
    rows = [line for line in lines if line and not line[0].startswith("#")]
    if only:
        rows = [r for r in rows if r[0] in only.split(",")]
    proven = {(r[0], r[2]) for r in rows if r[3] == "optimal"}
    routes = list(dict.fromkeys(r[2] for r in rows))
    print("# route proven_of ratio_min ratio_median ratio_max (instances both proved)")
    for route in routes:
        mine = [r for r in rows if r[2] == route]
        ratios = [
            float(r[7]) for r in mine if (r[0], route) in proven and (r[0], routes[0]) in proven
        ]
        stats = (
            " ".join(f"{q:.3f}" for q in np.quantile(ratios, [0, 0.5, 1])) if ratios else "- - -"
        )
        print(
            route, f"{sum((r[0], route) in proven for r in mine)}/{len(mine)}", stats, len(ratios)
        )


def rows_check(names: list[str], time_limit: float, routes: list[str]) -> None:
    """``solve_ilp`` by each route in ``routes``, same instance, same limit, one after
    the other; ``ratio`` is wall time over the first route's (same instance, same run)."""
    from taskorder.solvers.exact import ilp
    from taskorder.solvers.problem import Constraints, Problem

    known = lolib.best_known()
    for item in names:
        name, _, size = item.partition(":")  # "r100a2:60": its leading 60 x 60 block
        inst = known[name]
        weights = inst.weights()
        if size:
            weights = weights[: int(size), : int(size)]
        n_tasks = weights.shape[0]
        best_known = inst.best_known if n_tasks == inst.n_tasks else None
        problem = Problem(weights, "all_pairs", Constraints(n_tasks, predecessors=(0,) * n_tasks))
        first = None
        for route in routes:
            options = dict(ROUTES[route])
            saved = ilp.MAX_CUTS_PER_ROUND, ilp.BARRIER_ADDED_ROW_RATIO
            ilp.MAX_CUTS_PER_ROUND = options.pop("cap", saved[0])
            ilp.BARRIER_ADDED_ROW_RATIO = options.pop("barrier_ratio", saved[1])
            started = time.perf_counter()
            try:
                solution = ilp.solve_ilp(problem, time_limit=time_limit, **options)
            finally:
                ilp.MAX_CUTS_PER_ROUND, ilp.BARRIER_ADDED_ROW_RATIO = saved
            wall = time.perf_counter() - started
            first = first or wall
            extras = solution.extras
            print(
                item,
                n_tasks,
                route,
                solution.status,
                solution.value,
                best_known,
                round(wall, 2),
                round(wall / first, 3),
                extras["lp_rounds"],
                extras["mip_rounds"],
                extras["cuts"],
                flush=True,
            )


def proven_check(family: str, time_limit: float, seed: int) -> None:
    """``solve`` (auto) on every instance of a LOLIB family: proven count and seconds."""
    seconds, proven = [], 0
    for inst in lolib.instances(family):
        result = solve(lolib_matrix(inst.weights()), time_limit=time_limit, seed=seed)
        at_best = inst.best_known is None or result.objective >= inst.best_known
        proven += result.status == "optimal" and at_best
        seconds.append(result.elapsed_s)
        print(
            inst.name,
            inst.n_tasks,
            result.method,
            result.status,
            result.objective,
            inst.best_known,
            round(result.elapsed_s, 2),
            flush=True,
        )
    print(
        f"# {family}: {proven} of {len(seconds)} proven optimal at the best-known value; "
        f"median {np.median(seconds):.2f} s, total {sum(seconds):.1f} s"
    )


def route_check(names: list[str], limits: list[float], seed: int, modes: list[str]) -> None:
    """``auto`` before and after the slack-share portfolio route, same run, same limit.

    Where ``auto`` now picks ``portfolio`` it picked ``local`` before (n = 61-100, limit
    under 30 s), so the "before" column is ``method="local"``, run right after; elsewhere
    the route did not change and "before" is the same call. Both against the afternoon
    baseline and the package's iterated search at the same limit and seed. ``modes``:
    the portfolio's modes (:data:`taskorder.solvers.portfolio.MODES`); the first is
    ``auto``'s "after", each other one is run too where ``auto`` picks the portfolio
    (columns ``<mode>_status``, ``<mode>_gap_%``)."""
    import taskorder.solvers.portfolio as portfolio_module

    known = lolib.best_known()
    rows = []
    for time_limit in limits:
        for name in names:
            inst = known[name]
            matrix, weights = lolib_matrix(inst.weights()), inst.weights()
            portfolio_module.PORTFOLIO_MODE = modes[0]
            started = time.perf_counter()
            after = solve(matrix, time_limit=time_limit, seed=seed)
            wall = time.perf_counter() - started
            before, others = after, {}
            if after.method == "portfolio":
                before = solve(matrix, method="local", time_limit=time_limit, seed=seed)
                for mode in modes[1:]:
                    portfolio_module.PORTFOLIO_MODE = mode
                    others[mode] = solve(matrix, time_limit=time_limit, seed=seed)
                portfolio_module.PORTFOLIO_MODE = modes[0]
            afternoon = baseline_search(weights, time_limit, seed)
            ils = ils_search(weights, time_limit, seed)
            best = inst.best_known
            row = {
                "instance": name,
                "family": inst.family,
                "n": inst.n_tasks,
                "limit_s": time_limit,
                "route": after.method,
                "status": after.status,
                "found_by": after.extras.get("found_by"),
                "wall_s": round(wall, 2),
                "before_route": before.method,
                "before_status": before.status,
                "gap_%": 100 * (best - after.objective) / best,
                "before_gap_%": 100 * (best - before.objective) / best,
                "aft_gap_%": 100 * (best - afternoon) / best,
                "ils_gap_%": 100 * (best - ils) / best,
            }
            for mode in modes[1:]:
                other = others.get(mode, after)
                row[f"{mode}_status"] = other.status
                row[f"{mode}_gap_%"] = 100 * (best - other.objective) / best
            rows.append(row)
            print(json.dumps(row), flush=True)
    columns = ["instance", "n", "limit_s", "route", "status", "wall_s", "before_route"]
    columns += ["before_status", "gap_%", "before_gap_%", "aft_gap_%", "ils_gap_%"]
    columns += [f"{mode}_{c}" for mode in modes[1:] for c in ("status", "gap_%")]
    print("\n# after vs before (same run, same limit, same seed); gaps to best-known")
    print("  ".join(columns))
    for row in rows:
        print("  ".join(_fmt(row[c]) for c in columns))
    for mode in modes[1:]:
        other = f"{mode}_gap_%"
        worse = [f"{r['instance']}@{r['limit_s']:g}" for r in rows if r[other] > r["gap_%"] + 1e-9]
        better = [f"{r['instance']}@{r['limit_s']:g}" for r in rows if r[other] < r["gap_%"] - 1e-9]
        print(f"# {mode} worse than {modes[0]} on {worse}, better on {better}")
        print(f"# {mode} proven: {sum(r[f'{mode}_status'] == 'optimal' for r in rows)}")
    for other in ("before_gap_%", "aft_gap_%", "ils_gap_%"):
        worse = [f"{r['instance']}@{r['limit_s']:g}" for r in rows if r["gap_%"] > r[other] + 1e-9]
        print(f"# after worse than {other[:-6]} on {len(worse)} of {len(rows)} runs {worse}")
    proven = [(r["before_status"], r["status"]) for r in rows if r["route"] == "portfolio"]
    print(
        f"# portfolio runs: {len(proven)}; proven after {sum(a == 'optimal' for _, a in proven)}, "
        f"before {sum(b == 'optimal' for b, _ in proven)}"
    )


def slack_check(families: list[str]) -> None:
    """The slack share of every LOLIB instance with 17-100 tasks in ``families`` (the
    feature ``auto`` routes by) and each family's range."""
    from taskorder.solvers import make_problem
    from taskorder.solvers.choose import slack_share
    from taskorder.solvers.problem import Constraints

    print("# instance family n slack_share")
    for family in families:
        shares = []
        for inst in lolib.instances(family):
            if not 16 < inst.n_tasks <= 100:
                continue
            matrix = lolib_matrix(inst.weights())
            share = slack_share(make_problem(matrix, "all_pairs", Constraints.from_names(matrix)))
            shares.append(share)
            print(inst.name, family, inst.n_tasks, f"{share:.3f}", flush=True)
        if shares:
            print(
                f"# {family}: {len(shares)} instances, slack share {min(shares):.3f}-{max(shares):.3f}"
            )


def lp_gap_check(names: list[str], rounds: int) -> None:
    """The LP gap after the first ``rounds`` cut rounds as a routing feature: the
    incremental HiGHS model of the MIP route, ``(LP bound - descent) / (B - R)`` next to
    the slack share ``(B - D) / (B - R)`` (B: pairwise bound, D: quick descent, R:
    random-order mean), and the seconds the rounds took."""
    from taskorder.solvers.choose import slack_share
    from taskorder.solvers.exact.highs_lp import IncrementalLP
    from taskorder.solvers.exact.ilp import MAX_CUTS_PER_ROUND, SLACK_ROW_SHARE
    from taskorder.solvers.exact.triangles import precedence_matrix, violated_triangles
    from taskorder.solvers.heuristics.local_search import (
        cheap_upper_bound,
        constructive_starts,
        quick_descent,
    )
    from taskorder.solvers.integer_weights import integer_weights
    from taskorder.solvers.problem import Constraints, Problem

    known = lolib.best_known()
    print("# instance family n slack_share lp_gap_share best_known_share rounds seconds")
    for name in names:
        inst = known[name]
        weights, n_tasks = inst.weights(), inst.n_tasks
        problem = Problem(weights, "all_pairs", Constraints(n_tasks, predecessors=(0,) * n_tasks))
        started = time.perf_counter()
        scaled = integer_weights(problem)
        model = IncrementalLP(problem, scaled)
        bound, done = float("inf"), 0
        for _ in range(rounds):
            outcome = model.solve(None)
            bound, done = outcome.dual_bound / scaled.scale, done + 1
            pairs = outcome.values[: n_tasks * (n_tasks - 1) // 2]
            triples = violated_triangles(
                precedence_matrix(pairs, n_tasks), limit=MAX_CUTS_PER_ROUND
            )
            if triples.size == 0:
                break
            model.drop_slack_rows(SLACK_ROW_SHARE)
            model.add_triangles(triples)
        seconds = time.perf_counter() - started
        room = cheap_upper_bound(problem) - 0.5 * float(weights.sum() - weights.trace())
        descent = problem.value(quick_descent(problem, constructive_starts(problem)))
        print(
            name,
            inst.family,
            n_tasks,
            f"{slack_share(problem):.3f}",
            f"{(bound - descent) / room:.4f}",
            f"{(bound - inst.best_known) / room:.4f}",
            done,
            f"{seconds:.2f}",
            flush=True,
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default=",".join(LOLIB_CASES))
    parser.add_argument("--sizes", default=",".join(map(str, GENERATED_SIZES)))
    parser.add_argument("--time-limits", default="5,10")
    parser.add_argument("--long", default="t1d100.03:30", help="extra name:limit runs")
    parser.add_argument(
        "--large", default="2000:2", help="n:limit items for the read + solve wall-time check"
    )
    parser.add_argument("--large-only", action="store_true", help="only the --large check")
    parser.add_argument("--wall", default="", help="name:limit:method items: wall time only")
    parser.add_argument("--summarise", default="", help="a --rows output file: ratio summary")
    parser.add_argument("--read", default="", help="sizes: numpy vs general CSV reading only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--proven", default="", help="a LOLIB family: proven count only")
    parser.add_argument("--arms", default="", help="names (generatedN too): ils vs memetic")
    parser.add_argument("--rows", default="", help="LOLIB names: exact routes compared only")
    parser.add_argument("--route-check", default="", help="LOLIB names: auto before/after")
    parser.add_argument("--lp-gap", default="", help="LOLIB names: LP gap after cut rounds")
    parser.add_argument("--lp-rounds", type=int, default=3)
    parser.add_argument("--slack", default="", help="LOLIB families: slack shares, n 17-100")
    parser.add_argument("--portfolio-modes", default="parallel", help="of parallel, staged")
    parser.add_argument(
        "--routes", default="lazy-rebuild,lazy-incremental,full", help=f"of {', '.join(ROUTES)}"
    )
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  argv: {' '.join(sys.argv[1:])}")
    if args.slack:
        slack_check(args.slack.split(","))
        return
    if args.lp_gap:
        lp_gap_check(args.lp_gap.split(","), args.lp_rounds)
        return
    if args.route_check:
        print(f"# portfolio modes: {args.portfolio_modes} (the first is auto's)")
        limits = [float(t) for t in args.time_limits.split(",")]
        route_check(args.route_check.split(","), limits, args.seed, args.portfolio_modes.split(","))
        return
    if args.arms:
        arms_check(args.arms.split(","), float(args.time_limits.split(",")[0]), args.seed)
        return
    if args.proven:
        proven_check(args.proven, float(args.time_limits.split(",")[0]), args.seed)
        return
    if args.rows:
        print("# instance n route status value best_known wall_s ratio lp_rounds mip_rounds cuts")
        routes = args.routes.split(",")
        rows_check(args.rows.split(","), float(args.time_limits.split(",")[0]), routes)
        return
    if args.wall:
        wall_check(args.wall, args.seed)
        return
    if args.summarise:
        summarise_rows(args.summarise)
        return
    if args.read:
        read_check([int(n) for n in args.read.split(",")], 3, args.seed)
        return
    if args.large_only:
        large_check(args.large, args.seed)
        return
    rows = run(args)
    print("\n# auto vs baseline (same run, same limit, same seed)")
    columns = [
        "instance",
        "n",
        "limit_s",
        "method",
        "status",
        "wall_s",
        "d_aft_%",
        "d_ils_%",
        "gap_%",
        "aft_gap_%",
        "ils_gap_%",
    ]
    print("  ".join(columns))
    for row in rows:
        print("  ".join(_fmt(row[c]) for c in columns))
    for column in ("d_aft_%", "d_ils_%"):
        worse = [r["instance"] + "@" + _fmt(r["limit_s"]) for r in rows if r[column] < -1e-9]
        print(f"# {column}: auto worse on {len(worse)} of {len(rows)} runs {worse}")
    large_check(args.large, args.seed)


def wall_check(plan: str, seed: int) -> None:
    """``name:limit:method`` items (LOLIB): wall time of ``solve`` against the limit, and
    which part found the answer (``extras["found_by"]``)."""
    known = lolib.best_known()
    for item in (i for i in plan.split(",") if i):
        name, limit, method = item.split(":")
        inst = known[name]
        matrix = lolib_matrix(inst.weights())
        started = time.perf_counter()
        result = solve(matrix, method=method, time_limit=float(limit), seed=seed)
        wall = time.perf_counter() - started
        row = {
            "instance": name,
            "n": inst.n_tasks,
            "method": result.method,
            "limit_s": float(limit),
            "wall_s": round(wall, 2),
            "within_target": wall <= 1.05 * float(limit) + 0.5,
            "status": result.status,
            "found_by": result.extras.get("found_by"),
            "gap_%": round(100 * (inst.best_known - result.objective) / inst.best_known, 4),
        }
        print("# wall:", json.dumps(row), flush=True)


def large_check(plan: str, seed: int) -> None:
    """``n:limit`` items: read + solve wall time against the limit (see first_answer)."""
    for item in (i for i in plan.split(",") if i):
        n_tasks, _, limit = item.partition(":")
        row = first_answer(int(n_tasks), float(limit or 2.0), seed)
        print("# first answer:", json.dumps(row), flush=True)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.0f}"
    return str(value)


if __name__ == "__main__":
    main()
