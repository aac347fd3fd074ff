"""Re-planning during training (taskorder.replan and ``taskorder probe replan``)."""

from __future__ import annotations

import itertools
import json
import pickle
from dataclasses import dataclass

import numpy as np
import pytest
from typer.testing import CliRunner

from taskorder import solve
from taskorder.cli import app
from taskorder.estimate import make_plan, run_campaign, run_curricula
from taskorder.exceptions import InvalidParameterError
from taskorder.learner import make_learner
from taskorder.replan import StateRunner, replan_cost, replan_training
from taskorder.runner import Evaluation

# ----------------------------------------------------------------- a state-dependent toy


@dataclass(frozen=True)
class FlipState:
    scores: tuple[float, ...]
    trained: tuple[str, ...]


class FlipRunner:
    """Four tasks whose pairwise forgetting flips once task ``a`` has been trained.

    Training a task sets its score to 1 and makes every task trained before it forget
    ``F[earlier, task]``. Before ``a`` is trained, ``d`` after ``c`` costs ``c`` 0.5 (so
    ``d`` should come first); after ``a``, it is ``c`` after ``d`` that costs ``d`` 0.5.
    ``a`` itself makes everyone forget 0.3 and is never forgotten, so it goes first.
    A plan made once at the start therefore puts ``d`` before ``c`` and is wrong.
    """

    tasks = ("a", "b", "c", "d")

    def __init__(self) -> None:
        self.train_calls = 0

    def forget(self, earlier: str, task: str, trained: tuple[str, ...]) -> float:
        if earlier == "a":
            return 0.0
        if task == "a":
            return 0.3
        flipped = "a" in trained
        if (earlier, task) == ("c", "d"):
            return 0.0 if flipped else 0.5
        if (earlier, task) == ("d", "c"):
            return 0.5 if flipped else 0.0
        return 0.05

    def initial_state(self, seed: int) -> FlipState:
        return FlipState((0.0,) * 4, ())

    def train(self, state: FlipState, task, *, steps: int, seed: int) -> FlipState:
        if task not in self.tasks:
            raise InvalidParameterError(f"unknown task {task!r}")
        self.train_calls += 1
        scores = list(state.scores)
        for earlier in state.trained:
            scores[self.tasks.index(earlier)] -= self.forget(earlier, task, state.trained)
        scores[self.tasks.index(task)] = 1.0
        return FlipState(tuple(scores), (*state.trained, task))

    def evaluate(self, state: FlipState, task: str, *, seed: int) -> Evaluation:
        if task not in self.tasks:
            raise InvalidParameterError(f"unknown task {task!r}")
        return Evaluation(score=float(state.scores[self.tasks.index(task)]), entropy=1.0)

    def save(self, state, path) -> None:
        with open(path, "wb") as handle:
            pickle.dump(state, handle)

    def load(self, path):
        with open(path, "rb") as handle:
            return pickle.load(handle)

    def config_hash(self) -> str:
        return "flip-v1"


def realised(runner, order) -> float:
    state = runner.initial_state(0)
    for task in order:
        state = runner.train(state, task, steps=1, seed=0)
    return float(np.mean(state.scores))


def test_replanning_changes_a_plan_that_went_stale_and_gains(tmp_path):
    runner = FlipRunner()
    result = replan_training(runner, tmp_path, steps=1, horizon=1)
    # The plan made at the start (what training without --replan does) puts d before c.
    assert result.initial_plan[0] == "a"
    assert result.initial_plan.index("d") < result.initial_plan.index("c")
    # After a is trained, the re-measured matrix says the opposite, and the plan changes.
    second = result.decisions[1]
    assert second.how == "probe_matrix" and second.changed
    assert second.plan.index("c") < second.plan.index("d")
    assert second.value > second.previous_value
    assert "replaced" in second.reason
    assert result.order.index("c") < result.order.index("d") and result.changed
    # In reality the re-planned order is better than the static plan, by the 0.5 / 4 flip.
    gain = realised(FlipRunner(), result.order) - realised(FlipRunner(), result.initial_plan)
    assert gain == pytest.approx(0.5 / 4)
    # The recorded scores are the real run's.
    assert result.final == pytest.approx(dict(zip(runner.tasks, np.array(result.scores[-1]))))
    assert np.mean(result.scores[-1]) == pytest.approx(realised(FlipRunner(), result.order))
    # The trained model is saved and is the state the final scores were measured on.
    saved = runner.load(result.final_path)
    assert saved == result.final_state and saved.trained == result.order


def test_no_stage_is_trained_twice_and_a_rerun_reuses_every_probe(tmp_path):
    runner = FlipRunner()
    result = replan_training(runner, tmp_path, steps=1, horizon=1)
    # probes: 4 + 12 at the start, 3 + 6 after a, 2 + 2 after the next; the last stage
    # is trained; every other trained stage is a first-stage probe loaded from disk.
    assert result.probe_stages == 16 + 9 + 4
    assert runner.train_calls == 16 + 9 + 4 + 1
    again = FlipRunner()
    rerun = replan_training(again, tmp_path, steps=1, horizon=1)
    assert again.train_calls == 0  # probes, chosen stages and the last stage all reloaded
    assert rerun.order == result.order
    assert [d.to_dict() for d in rerun.decisions] == [d.to_dict() for d in result.decisions]
    log = json.loads((tmp_path / "decisions.json").read_text())
    assert [d["how"] for d in log["decisions"]] == ["probe_matrix"] * 3 + ["last"]


def test_enumeration_of_every_order_finds_the_true_best(tmp_path):
    runner = make_learner(n_structured=1, n_open=2, seed=3)
    result = replan_training(runner, tmp_path, steps=10, horizon=3, seed=1)
    assert [d.how for d in result.decisions] == ["enumerate"] * 3
    assert result.decisions[0].probe_stages == 3 + 6 + 6
    # Ground truth from the same starting model (exact mode: deterministic).
    fixed = StateRunner(runner, str(tmp_path / "start"), tag="start")
    runner.save(runner.initial_state(_replan_init_seed(1)), tmp_path / "start")
    orders = list(itertools.permutations(runner.tasks))
    runs = run_curricula(fixed, orders, seeds=1, steps=10, seed=0)
    truth = {run.order: float(np.mean(list(run.final.values()))) for run in runs}
    assert result.order == max(truth, key=truth.get)
    assert np.mean(result.scores[-1]) == pytest.approx(truth[result.order])
    assert result.decisions[0].value == pytest.approx(truth[result.order])


def _replan_init_seed(seed: int) -> int:
    from taskorder.seeds import derive_seed

    return derive_seed(seed, "replan", "init")


def test_probe_matrix_decision_is_the_optimum_of_the_matrix_measured_at_that_state(tmp_path):
    runner = make_learner(n_structured=2, n_open=2, seed=1)
    result = replan_training(runner, tmp_path / "run", steps=8, horizon=1, seed=4)
    second = result.decisions[1]
    start = tmp_path / "run" / "states" / "start-1.state"
    assert start.exists()
    # An independent campaign from that state (another seed: exact mode ignores it).
    wrapped = StateRunner(runner, str(start), tag="check")
    plan = make_plan(runner.tasks, tasks=second.remaining, steps=8, seed=99)
    matrix = run_campaign(wrapped, plan, tmp_path / "check").estimate.matrix
    assert tuple(solve(matrix.replace(forward=None, forward_stderr=None)).order) == second.plan


def test_same_seed_same_run_and_cheap_design_costs_less(tmp_path):
    runner = make_learner(
        n_structured=2, n_open=3, seed=0, mode="sampled", n_train_prompts=16, n_test_prompts=16
    )
    one = replan_training(runner, tmp_path / "one", steps=4, horizon=2, seed=7)
    two = replan_training(runner, tmp_path / "two", steps=4, horizon=2, seed=7)
    assert one.order == two.order and np.array_equal(one.scores, two.scores)
    cheap = replan_training(runner, tmp_path / "cheap", steps=4, horizon=2, design="cheap", seed=7)
    # full: 25 + 16 + 9 + 4 (enumerate 2); cheap: 5 + 10, 4 + 8, 3 + 6, then enumerate 2.
    assert one.probe_stages == 25 + 16 + 9 + 4
    assert cheap.probe_stages == 15 + 12 + 9 + 4


def test_a_given_matrix_takes_the_first_decision(tmp_path):
    runner = FlipRunner()
    from taskorder import TransferMatrix

    given = TransferMatrix(
        runner.tasks,
        -np.array([[0, 0, 0, 0], [0.3, 0, 0.05, 0.05], [0.3, 0.05, 0, 0.5], [0.3, 0.05, 0, 0]]),
    )
    result = replan_training(runner, tmp_path, steps=1, horizon=1, matrix=given)
    assert result.decisions[0].how == "given" and result.decisions[0].probe_stages == 0
    assert result.decisions[1].changed
    assert result.probe_stages == 9 + 4


def test_entropy_floor_holds_in_the_trained_model_when_an_order_can_meet_it(tmp_path):
    runner = make_learner(n_structured=2, n_open=2, seed=3)
    column = runner.tasks.index("open_1")
    free = replan_training(runner, tmp_path / "free", steps=10, horizon=4, seed=1)
    assert free.entropy[-1, column] < 0.75  # the best-scoring order ends open_1 below 0.75
    held = replan_training(
        runner, tmp_path / "held", steps=10, horizon=4, seed=1, entropy_floor={"open_1": 0.75}
    )
    assert held.entropy[-1, column] >= 0.75  # measured on the trained model, not predicted
    assert np.mean(held.scores[-1]) < np.mean(free.scores[-1])  # the floor has a price
    assert "meet the floors" in held.decisions[0].reason
    never = replan_training(
        runner, tmp_path / "never", steps=10, horizon=4, seed=1, entropy_floor={"open_1": 5.0}
    )
    assert "no order meets the entropy floors" in never.decisions[0].reason
    assert never.entropy[-1, column] > held.entropy[-1, column]  # the closest: highest


def test_entropy_floors_reach_the_solver_and_unreachable_ones_are_dropped(tmp_path):
    runner = make_learner(n_structured=2, n_open=2, seed=3)
    kept = replan_training(
        runner, tmp_path / "kept", steps=10, horizon=1, seed=1, entropy_floor={"open_1": 0.0}
    )
    assert "entropy floors {'open_1': 0.0} kept" in kept.decisions[0].reason
    dropped = replan_training(
        runner, tmp_path / "dropped", steps=10, horizon=1, seed=1, entropy_floor={"open_1": 50.0}
    )
    assert "dropped unreachable floors: open_1" in dropped.decisions[0].reason
    assert dropped.order == kept.order  # with the floor gone the same matrix decides
    with pytest.raises(InvalidParameterError, match="'entropy_floor'.*'poetry'"):
        replan_training(runner, tmp_path / "bad", entropy_floor={"poetry": 1.0})


@pytest.mark.parametrize(
    ("horizon", "design", "given"),
    [
        (1, "full", False),
        (2, "full", False),
        (3, "cheap", False),
        (4, "full", False),
        (1, "full", True),
        (2, "cheap", True),
    ],
)
def test_replan_cost_equals_the_training_stages_actually_run(tmp_path, horizon, design, given):
    runner = FlipRunner()
    matrix = None
    if given:
        from taskorder import TransferMatrix

        matrix = TransferMatrix(runner.tasks, np.zeros((4, 4)))
    replan_training(runner, tmp_path, steps=1, horizon=horizon, design=design, matrix=matrix)
    assert runner.train_calls == replan_cost(4, horizon=horizon, design=design, given_matrix=given)


def test_a_directory_with_other_settings_is_refused(tmp_path):
    replan_training(FlipRunner(), tmp_path, steps=1, horizon=1)
    with pytest.raises(InvalidParameterError, match="other settings"):
        replan_training(FlipRunner(), tmp_path, steps=1, horizon=2)


def test_killed_run_resumes_to_the_same_result(tmp_path):
    """SIGKILL ``taskorder probe replan`` mid-run; the rerun finishes with the same result."""
    import os
    import signal
    import subprocess
    import sys
    import time

    text = CONFIG.replace("n_open = 2", "n_open = 4").replace("steps = 6", "steps = 60")
    (tmp_path / "probe.toml").write_text(text)
    (tmp_path / "clean.toml").write_text(text.replace('output_dir = "out"', 'output_dir = "clean"'))
    command = [sys.executable, "-m", "taskorder", "probe", "replan"]
    log = tmp_path / "out" / "replan" / "decisions.json"
    process = subprocess.Popen(
        [*command, str(tmp_path / "probe.toml"), "--horizon", "3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if log.exists() and len(json.loads(log.read_text())["decisions"]) >= 1:
            break
        time.sleep(0.05)
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    resumed = subprocess.run(
        [*command, str(tmp_path / "probe.toml"), "--horizon", "3", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    clean = subprocess.run(
        [*command, str(tmp_path / "clean.toml"), "--horizon", "3", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    first, second = json.loads(resumed.stdout), json.loads(clean.stdout)
    assert killed, "the run finished before it could be killed; make it longer"
    for key in ("order", "initial_plan", "scores", "entropy", "probe_stages"):
        assert first[key] == second[key]
    assert [d["reason"] for d in first["decisions"]] == [d["reason"] for d in second["decisions"]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tasks": ["a"]}, "'tasks'"),
        ({"tasks": ["a", "zzz"]}, "'tasks'"),
        ({"horizon": 0}, "'horizon'"),
        ({"horizon": 9}, "'horizon'"),
        ({"design": "half"}, "'design'"),
        ({"steps": 0}, "'steps'"),
    ],
)
def test_bad_parameters_are_named(tmp_path, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        replan_training(FlipRunner(), tmp_path, **kwargs)


# ----------------------------------------------------------------------------- CLI

CONFIG = """\
output_dir = "out"
[runner.learner]
n_structured = 1
n_open = 2
n_train_prompts = 16
n_test_prompts = 16
[plan]
steps = 6
seed = 2
"""


def test_cli_probe_replan_table_json_and_file(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text(CONFIG)
    cli = CliRunner()
    shown = cli.invoke(app, ["probe", "replan", str(config), "--horizon", "2"])
    assert shown.exit_code == 0, shown.output
    assert "Re-planning decisions" in shown.output and "probe_matrix" in shown.output
    saved = json.loads((tmp_path / "out" / "replan" / "replan.json").read_text())
    assert len(saved["decisions"]) == 3 and sorted(saved["order"]) == sorted(saved["tasks"])
    as_json = cli.invoke(app, ["probe", "replan", str(config), "--horizon", "2", "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["order"] == saved["order"]


def test_cli_probe_replan_errors(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text(CONFIG)
    cli = CliRunner()
    bad = cli.invoke(app, ["probe", "replan", str(config), "--design", "half"])
    assert bad.exit_code == 2 and "'--design'" in bad.output and "Traceback" not in bad.output
    usage = cli.invoke(app, ["probe", "replan", str(config), "--horizon", "0"])
    assert usage.exit_code == 2
    floor = cli.invoke(app, ["probe", "replan", str(config), "--entropy-floor", "open_0"])
    assert floor.exit_code == 2 and "TASK=VALUE" in floor.output
    unknown = cli.invoke(app, ["probe", "replan", str(config), "--entropy-floor", "poetry=1"])
    assert unknown.exit_code == 1 and "'poetry'" in unknown.output


def test_cli_probe_replan_entropy_floor_is_met_in_the_run_or_reported(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text(CONFIG)
    cli = CliRunner()

    def run(floor):
        result = cli.invoke(
            app,
            [
                "probe",
                "replan",
                str(config),
                "--horizon",
                "3",
                "--entropy-floor",
                f"open_0={floor}",
                "--json",
                "--out",
                str(tmp_path / f"floor-{floor}"),
            ],
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        return data["entropy"][-1][data["tasks"].index("open_0")], data["decisions"][0]["reason"]

    entropy, reason = run(0.3)  # reachable in this world: met on the trained model
    assert entropy >= 0.3 and "no order meets" not in reason
    entropy, reason = run(0.6)  # unreachable (max 0.458): the run goes on, the log says so
    assert entropy < 0.6 and "no order meets the entropy floors {'open_0': 0.6}" in reason
    shown = cli.invoke(app, ["probe", "replan", str(config), "--horizon", "3"])
    assert "final entropy:" in shown.output
    refused = cli.invoke(app, ["probe", "replan", str(config), "--horizon", "2"])
    assert refused.exit_code == 1 and "other settings" in refused.output


def test_process_executor_gives_the_same_run(tmp_path):
    runner = make_learner(n_structured=1, n_open=3, seed=2, n_train_prompts=16, n_test_prompts=16)
    here = replan_training(runner, tmp_path / "here", steps=5, horizon=2, seed=3)
    pool = replan_training(
        runner, tmp_path / "pool", steps=5, horizon=2, seed=3, executor="process", workers=2
    )
    assert pool.order == here.order
    assert np.array_equal(pool.scores, here.scores)
    assert [d.to_dict() for d in pool.decisions] == [d.to_dict() for d in here.decisions]
