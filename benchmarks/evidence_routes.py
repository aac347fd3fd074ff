"""Matrix-only routes tried on the development worlds only (issue 13), before the fresh split.

Scores each candidate route's order on the stored truth of every development world
(``benchmarks/results/evidence_dev_*.jsonl``; no training) and prints median / mean / min
percentile and worlds above the mean random order, per mode. None beat the multiplicative
model, so ``taskorder.recommend`` was left unchanged (row ``rec``: recommend's current
order; since the run-time verdict no longer falls back to the rank rule it equals the
multiplicative optimum). Output:
``benchmarks/results/evidence_routes_dev.txt``.

    python benchmarks/evidence_routes.py > benchmarks/results/evidence_routes_dev.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

from taskorder.matrix import TransferMatrix
from taskorder.model import predict_many
from taskorder.percentile import order_percentile
from taskorder.recommend import recommend

HERE = Path(__file__).resolve().parent


def load(split, mode):
    p = HERE / "results" / f"evidence_{split}_{mode}.jsonl"
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()]


def shrink(m, kind):
    b = m.bwt.copy()
    se = m.bwt_stderr
    n = m.n_tasks
    off = ~np.eye(n, dtype=bool)
    if se is None:
        return m
    v = np.nanvar(b[off])
    s2 = np.nanmean(se[off] ** 2)
    tau2 = max(v - s2, 1e-12)
    mu = b[off].mean() if kind == "grand" else 0.0
    f = tau2 / (tau2 + se**2)
    nb = np.where(off, mu + f * (b - mu), 0.0)
    return m.replace(bwt=nb)


def values(m, perms, route):
    if route in ("additive", "backward_only", "multiplicative"):
        return predict_many(m, perms, model=route).mean(axis=1)
    if route == "mult_fwd":
        base = predict_many(m, perms, model="multiplicative")
        # add forward: own + sum forward (j before i) scaled by retention
        fwd = predict_many(m, perms, model="additive") - predict_many(
            m, perms, model="backward_only"
        )
        return (base + fwd).mean(axis=1)
    if route.startswith("shrink0_"):
        return values(shrink(m, "zero"), perms, route[8:])
    if route.startswith("shrinkg_"):
        return values(shrink(m, "grand"), perms, route[8:])
    if route.startswith("post_"):
        rng = np.random.default_rng(0)
        acc = 0
        for _ in range(64):
            nb = m.bwt + rng.standard_normal(m.bwt.shape) * m.bwt_stderr
            np.fill_diagonal(nb, 0)
            acc = acc + values(m.replace(bwt=nb), perms, route[5:])
        return acc
    if route == "ens":
        tot = 0
        for r in ("additive", "backward_only", "multiplicative"):
            v = values(m, perms, r)
            tot = tot + (np.argsort(np.argsort(v)))
        return tot
    raise KeyError(route)


ROUTES = [
    "additive",
    "backward_only",
    "multiplicative",
    "mult_fwd",
    "shrink0_multiplicative",
    "shrinkg_multiplicative",
    "shrink0_additive",
    "shrink0_mult_fwd",
    "post_multiplicative",
    "ens",
    "rec",
]


def score(split):
    res = {r: [] for r in ROUTES}
    for mode in ("exact", "sampled"):
        for raw in load(split, mode):
            m = TransferMatrix.from_dict(raw["matrix"])
            tv = np.array(raw["per_seed"]).mean(axis=1)
            real = {tuple(o): v for o, v in zip(raw["orders"], tv)}
            perms = np.array([[m.tasks.index(t) for t in o] for o in raw["orders"]])
            for r in ROUTES:
                if r == "rec":
                    o = recommend(m, seed=raw["world"]).order
                else:
                    v = values(m, perms, r)
                    o = tuple(raw["orders"][int(np.argmax(v))])
                res[r].append(
                    (mode, order_percentile(tv, real[tuple(o)]), real[tuple(o)] > tv.mean() + 1e-12)
                )
    for r, xs in sorted(res.items(), key=lambda kv: -np.median([x[1] for x in kv[1]])):
        line = f"{r:28s}"
        for mode in ("exact", "sampled"):
            p = [x[1] for x in xs if x[0] == mode]
            w = sum(x[2] for x in xs if x[0] == mode)
            line += f" | {mode} med {np.median(p):5.1f} mean {np.mean(p):5.1f} min {min(p):5.1f} beat {w}/{len(p)}"
        print(line)


if __name__ == "__main__":
    score(sys.argv[1] if len(sys.argv) > 1 else "dev")
