"""Re-planning during training vs a plan made once (built-in learner, all orders as truth).

Run: python benchmarks/replan.py [--mode exact|sampled] [--worlds 0 1 2 3 4 5] [--n-open 3]
     python benchmarks/replan.py --floors [--mode ...]   (entropy floors, see below)

For each world (2 structured + ``n_open`` open tasks) every order is trained from one
starting model (all methods share it) with 3 training seeds; an order's true value is its
mean final score over tasks and seeds (in exact mode the seeds do not matter). A method's
"percentile" is :func:`taskorder.percentile.order_percentile` of its trained order
among all orders' true values (strictly worse plus half the ties; random = 50). "stages" counts every training stage the method ran (probes, branches and
the training itself; a probe reused as a training stage counts once), by wrapping the
runner with a counter.

- static: one full probe campaign at the starting model, the exact optimum trained
  (what ``taskorder train`` does without ``--replan``): n^2 + n stages.
- static rank rule: the same campaign, the greedy "least to most forgettable" order.
- replan h=H design=D: :func:`taskorder.replan.replan_training` with that horizon and
  second-stage design.
- best of k random: k random complete curricula run (one seed each), the best measured
  kept; k is chosen so its stages match replan h=3 full (equal training budget).

"model pctl" ranks the *delivered model* instead of its order: the exact (noise-free)
mean final score of the model each method hands over (static: its order trained once;
re-planning: its final state; best of k: the run it kept), against the same true values
of all orders. In sampled mode a method that picks among noisy runs can deliver a model
better or worse than its order's average.

With ``--floors``: for each world and each open task, a floor is set ``--margin`` nats
above that task's final entropy in the unconstrained re-planned run (so it binds), and
two ways of honouring it are trained and *measured*: the static plan solved with the
floor on the probe entropy matrix (taskorder solve --entropy-floor), and re-planning with
the floor (h=3). Reported: whether the trained model's entropy met the floor, and the
mean final score.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

from taskorder import solve
from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.learner import make_learner
from taskorder.percentile import order_percentile
from taskorder.replan import replan_training

sys.path.insert(0, str(Path(__file__).parent))
from calibrated import percentile, truth


class FixedStart:
    """One pretrained model for every method: ``initial_state`` ignores its seed.

    A user re-plans one run from one starting model, so every method and the ground
    truth start from the same state (the learner's ``init_noise`` would otherwise give
    each seed a slightly different world).
    """

    def __init__(self, runner, start_seed: int = 0):
        self.runner, self.start_seed = runner, start_seed

    def __getattr__(self, name):
        return getattr(self.runner, name)

    @property
    def tasks(self):
        return self.runner.tasks

    def initial_state(self, seed):
        return self.runner.initial_state(self.start_seed)

    def config_hash(self):
        return f"{self.runner.config_hash()}-start{self.start_seed}"


class Counting:
    """Delegates to a runner and counts ``train`` calls."""

    def __init__(self, runner):
        self.runner, self.calls = runner, 0

    def __getattr__(self, name):
        return getattr(self.runner, name)

    @property
    def tasks(self):
        return self.runner.tasks

    def train(self, state, task, *, steps, seed):
        self.calls += 1
        return self.runner.train(state, task, steps=steps, seed=seed)


def train_order(runner, order, steps: int, seed: int):
    """One curriculum from the shared start; returns the final state."""
    state = runner.initial_state(0)
    for k, task in enumerate(order):
        state = runner.train(state, task, steps=steps, seed=seed * 100 + k)
    return state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="exact", choices=["exact", "sampled"])
    parser.add_argument("--worlds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--n-open", type=int, default=3)
    parser.add_argument("--floors", action="store_true", help="the entropy-floor table")
    parser.add_argument("--margin", type=float, default=0.1)
    parser.add_argument("--horizon", type=int, default=3, help="re-planning horizon (--floors)")
    parser.add_argument("--entropy-model", default="multiplicative",
                        help="re-planning's entropy model (--floors)")
    args = parser.parse_args()
    if args.floors:
        return floors_table(args)
    print(f"mode={args.mode}  tasks=2 structured + {args.n_open} open  worlds={args.worlds}")
    print("pctl: the trained order's rank among all orders' true values; model pctl: the "
          "delivered model's exact mean final score ranked the same way")
    print(f"{'world':>5} {'method':>26} {'stages':>6} {'pctl':>6} {'regret':>7} "
          f"{'model pctl':>10}  order")
    summary: dict[str, list[tuple[float, float, int, float]]] = {}

    def report(world, name, stages, order, real, delivered):
        pct = percentile(real, order)
        best, worst = max(real.values()), min(real.values())
        regret = (best - real[tuple(order)]) / (best - worst)
        model_pct = order_percentile(list(real.values()), delivered)
        summary.setdefault(name, []).append((pct, regret, stages, model_pct))
        print(f"{world:>5} {name:>26} {stages:>6} {pct:>6.1f} {regret:>7.3f} {model_pct:>10.1f}  "
              f"{' '.join(order)}", flush=True)

    for world in args.worlds:
        base = FixedStart(make_learner(2, args.n_open, seed=world, mode=args.mode))
        judge = make_learner(2, args.n_open, seed=world, mode=args.mode, eval_groups=0)

        def exact_mean(state, judge=judge, tasks=base.tasks):  # noise-free evaluation
            return float(np.mean([judge.evaluate(state, t, seed=0).score for t in tasks]))

        steps = base.runner.config.stage_steps
        n = len(base.tasks)
        real = truth(base, steps)
        with tempfile.TemporaryDirectory() as folder:
            counting = Counting(base)
            campaign = run_campaign(counting, make_plan(base.tasks, steps=steps, seed=world),
                                    Path(folder) / "static")
            matrix = campaign.estimate.matrix.replace(forward=None, forward_stderr=None)
            static_stages = counting.calls + n
            for name, method in (("static", "auto"), ("static rank rule", "rank")):
                order = solve(matrix, method=method).order
                delivered = exact_mean(train_order(base, order, steps, world))
                report(world, name, static_stages, order, real, delivered)
            budget = None
            for horizon, design in ((1, "full"), (2, "full"), (3, "full"), (3, "cheap")):
                counting = Counting(base)
                result = replan_training(counting, Path(folder) / f"h{horizon}{design}",
                                         steps=steps, horizon=horizon, design=design, seed=world)
                report(world, f"replan h={horizon} {design}", counting.calls, result.order, real,
                       exact_mean(result.final_state))
                if (horizon, design) == (3, "full"):
                    budget = counting.calls
        k = max(1, budget // n)
        rng = np.random.default_rng(world)
        orders = list(real)
        picks = [orders[i] for i in rng.choice(len(orders), size=k, replace=False)]
        finals = [train_order(base, order, steps, 999 + world + i) for i, order in enumerate(picks)]
        measured = [np.mean([base.evaluate(f, t, seed=world).score for t in base.tasks])
                    for f in finals]  # what a user sees: the runner's own (noisy) evaluation
        best = int(np.argmax(measured))
        report(world, f"best of {k} random", k * n, picks[best], real, exact_mean(finals[best]))
    print("\nsummary over worlds (percentile: median / mean / worst; regret = share of the "
          "best-worst range lost, mean / worst; stages: mean; model pctl: median / mean / worst)")
    for name, rows in summary.items():
        pct = np.array([r[0] for r in rows])
        reg = np.array([r[1] for r in rows])
        stages = np.mean([r[2] for r in rows])
        model = np.array([r[3] for r in rows])
        print(f"  {name:>26}: pctl {np.median(pct):5.1f} / {pct.mean():5.1f} / {pct.min():5.1f}"
              f"   regret {reg.mean():.3f} / {reg.max():.3f}   stages {stages:5.1f}"
              f"   model pctl {np.median(model):5.1f} / {model.mean():5.1f} / {model.min():5.1f}")


def floors_table(args) -> None:
    from taskorder.exceptions import ConstraintError

    print(f"mode={args.mode}  entropy floors = free re-planned run's final entropy + {args.margin}"
          f"  (floored re-planning with horizon {args.horizon})")
    print("feasible: orders (of all n!) whose trained model meets the floor, 1 seed each")
    print(f"{'world':>5} {'task':>7} {'floor':>6} {'free':>6} {'feasible':>8} | "
          f"{'static (additive)':>22} | {'static (multiplicative)':>23} | "
          f"{'replan (' + args.entropy_model[:4] + '.)':>22}")
    met = {"static": 0, "static_mult": 0, "replan": 0}
    reachable = {"static": 0, "static_mult": 0, "replan": 0}
    feasible_met = {"static": 0, "static_mult": 0, "replan": 0}
    total = n_feasible = 0
    for world in args.worlds:
        base = FixedStart(make_learner(2, args.n_open, seed=world, mode=args.mode))
        steps = base.runner.config.stage_steps
        with tempfile.TemporaryDirectory() as folder:
            estimate = run_campaign(base, make_plan(base.tasks, steps=steps, seed=world),
                                    Path(folder) / "static").estimate
            matrix = estimate.matrix.replace(forward=None, forward_stderr=None)
            free = replan_training(base, Path(folder) / "free", steps=steps, seed=world)
            every = run_curricula(base, list(itertools.permutations(base.tasks)), seeds=1,
                                  steps=steps, seed=world)
            for task in [t for t in base.tasks if t.startswith("open")]:
                column = base.tasks.index(task)
                floor = float(free.entropy[-1, column]) + args.margin
                total += 1
                feasible = sum(run.entropy[-1, column] >= floor for run in every)
                n_feasible += feasible > 0
                cells = []
                for key, model in (("static", "additive"), ("static_mult", "multiplicative")):
                    try:
                        order = solve(matrix, entropy=estimate.entropy,
                                      entropy_floor={task: floor}, entropy_model=model).order
                    except ConstraintError:
                        cells.append(f"{'refused (predicted)':>22}")
                        continue
                    run = next(r for r in every if r.order == tuple(order))
                    s_entropy = float(run.entropy[-1, column])
                    s_score = float(run.scores[-1].mean())
                    ok = s_entropy >= floor
                    cells.append(f"{s_entropy:6.3f} {'met' if ok else 'MISS':>4} {s_score:6.3f}")
                    reachable[key] += 1
                    met[key] += ok
                    feasible_met[key] += feasible > 0 and ok
                s_cell = f"{cells[0]:>22} | {cells[1]:>23}"
                held = replan_training(base, Path(folder) / f"held-{task}", steps=steps,
                                       seed=world, entropy_floor={task: floor},
                                       horizon=args.horizon, entropy_model=args.entropy_model)
                r_entropy = float(held.entropy[-1, column])
                r_score = float(held.scores[-1].mean())
                ok = r_entropy >= floor
                note = "met" if ok else "MISS"
                if not ok and any("no order meets" in d.reason for d in held.decisions):
                    note = "unr."
                else:
                    reachable["replan"] += 1
                met["replan"] += ok
                feasible_met["replan"] += feasible > 0 and ok
                print(f"{world:>5} {task:>7} {floor:6.3f} {free.entropy[-1, column]:6.3f} "
                      f"{feasible:>8} | "
                      f"{s_cell:>22} | {r_entropy:6.3f} {note:>4} {r_score:6.3f}", flush=True)
    print(f"\nfloors met in the trained model: static additive {met['static']}/{total} "
          f"(refused as unreachable: {total - reachable['static']}), static multiplicative "
          f"{met['static_mult']}/{total} (refused: {total - reachable['static_mult']}), re-planned "
          f"{met['replan']}/{total} (reported unreachable in its last {args.horizon} stages: "
          f"{total - reachable['replan']})")
    print(f"of the {n_feasible} floors some order meets: static additive met "
          f"{feasible_met['static']}, static multiplicative met {feasible_met['static_mult']}, "
          f"re-planned met {feasible_met['replan']}")


if __name__ == "__main__":
    sys.exit(main())
