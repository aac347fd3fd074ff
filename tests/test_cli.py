"""The CLI: outputs, exit codes, and no traceback on any malformed input."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from taskorder import read_matrix, solve
from taskorder.cli import app

EXAMPLE = Path(__file__).parents[1] / "examples" / "four_domains.csv"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_solve_json_has_the_documented_keys():
    result = run("solve", EXAMPLE, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in (
        "order",
        "objective",
        "status",
        "bound",
        "method",
        "elapsed_s",
        "predicted",
        "baselines",
    ):
        assert key in data
    expected = solve(read_matrix(EXAMPLE))
    assert data["order"] == list(expected.order)
    assert data["objective"] == pytest.approx(expected.objective)
    assert data["status"] == "optimal"
    assert set(data["baselines"]) >= {"rank_rule", "random_mean"}
    assert result.stderr == ""


def test_solve_human_output_table_and_summary():
    result = run("solve", EXAMPLE)
    assert result.exit_code == 0
    for text in ("creative_writing", "status: optimal", "gain over the rank rule", "random order"):
        assert text in result.stdout


def test_solve_with_constraints_and_adjacent_objective():
    result = run(
        "solve",
        EXAMPLE,
        "--objective",
        "adjacent",
        "--first",
        "math",
        "--last",
        "code",
        "--before",
        "general_qa:creative_writing",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    order = json.loads(result.stdout)["order"]
    assert order[0] == "math" and order[-1] == "code"
    assert order.index("general_qa") < order.index("creative_writing")


def test_predict_json():
    result = run("predict", EXAMPLE, "--order", "math,code,general_qa,creative_writing", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["scores"]["math"] == pytest.approx(0.012 - 0.008 - 0.041)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["solve", "missing.csv"], 1, "no such file"),
        (["solve", EXAMPLE, "--method", "magic"], 2, "--method"),
        (["solve", EXAMPLE, "--objective", "up"], 2, "--objective"),
        (["solve", EXAMPLE, "--before", "math"], 2, "EARLIER:LATER"),
        (["solve", EXAMPLE, "--time-limit", "-1"], 2, "--time-limit"),
        (["solve", EXAMPLE, "--first", "nope"], 1, "unknown task 'nope'"),
        (["solve", EXAMPLE, "--before", "math:code", "--before", "code:math"], 1, "cycle"),
        (["predict", EXAMPLE, "--order", "math,code"], 1, "leaves out"),
        (["solve"], 2, "Missing argument"),
    ],
)
def test_errors_exit_codes_and_one_clear_line(args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
    st.sampled_from(["", " ", "nan", "1e999", "0,5", '"', "\ufeff", ";", "\r"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=5), min_size=0, max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    suffix=st.sampled_from([".csv", ".json", ".txt"]),
)
def test_cli_never_prints_a_traceback(tmp_path, rows, delimiter, suffix):
    path = tmp_path / f"generated{suffix}"
    path.write_text("\n".join(delimiter.join(row) for row in rows), encoding="utf-8")
    result = run("solve", path, "--json")
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    if result.exit_code == 0:
        json.loads(result.stdout)
    else:
        assert result.exit_code == 1
        assert result.stderr.startswith("taskorder: error: ")
        assert result.stderr.count("\n") == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=200))
def test_cli_survives_arbitrary_bytes(tmp_path, data):
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    result = run("solve", path)
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr


def test_solve_with_standard_errors_reports_confidence(tmp_path):
    errors = tmp_path / "se.csv"
    errors.write_text(
        "task,math,code,general_qa,creative_writing\n"
        "math,,0.01,0.01,0.01\ncode,0.01,,0.01,0.01\n"
        "general_qa,0.01,0.01,,0.01\ncreative_writing,0.01,0.01,0.01,\n"
    )
    result = run(
        "solve", EXAMPLE, "--stderr", errors, "--risk", "quantile", "--samples", "50", "--json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert 0 < data["robustness"]["p_optimal"] <= 1
    assert data["method"] == "robust[dp]"
    human = run("solve", EXAMPLE, "--stderr", errors, "--samples", "50")
    assert "P(this order is optimal)" in human.stdout
    bad = run("solve", EXAMPLE, "--stderr", EXAMPLE.with_name("four_domains.json"), "--risk", "x")
    assert bad.exit_code == 2 and "--risk" in bad.stderr


def test_solve_with_entropy_floor():
    entropy = EXAMPLE.with_name("four_domains_entropy.json")
    scores = EXAMPLE.with_name("four_domains.json")
    result = run(
        "solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing=0.8", "--json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["entropy"]["predicted"]["creative_writing"] >= 0.8
    impossible = run("solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing=3")
    assert impossible.exit_code == 1 and "most any order reaches" in impossible.stderr
    usage = run("solve", scores, "--entropy-floor", "creative_writing=0.8")
    assert usage.exit_code == 2 and "--entropy" in usage.stderr
    usage = run("solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing")
    assert usage.exit_code == 2 and "TASK=VALUE" in usage.stderr


@pytest.mark.parametrize("model", ["backward_only", "multiplicative"])
def test_solve_with_another_outcome_model(model):
    from taskorder import solve

    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--model", model, "--json")
    assert result.exit_code == 0, result.stderr
    expected = solve(read_matrix(scores), model=model)
    assert json.loads(result.stdout)["order"] == list(expected.order)


def test_max_min_objective_from_the_cli():
    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--objective", "max-min", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["objective"] == pytest.approx(min(data["predicted"].values()))
    again = run(
        "predict", scores, "--order", ",".join(data["order"]), "--objective", "max-min", "--json"
    )
    assert json.loads(again.stdout)["objective"] == pytest.approx(data["objective"])


def test_large_matrix_with_errors_skips_confidence_unless_asked(tmp_path):
    import numpy as np

    from taskorder import TransferMatrix, write_matrix

    rng = np.random.default_rng(0)
    big = TransferMatrix(
        [f"t{k}" for k in range(22)], rng.normal(size=(22, 22)), bwt_stderr=np.full((22, 22), 0.1)
    )
    path = write_matrix(big, tmp_path / "big.json")
    result = run("solve", path, "--json", "--time-limit", "2")
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stderr and json.loads(result.stdout)["robustness"] is None


def test_time_limit_counts_reading_and_says_when_reading_used_it_up(tmp_path):
    import numpy as np

    from taskorder import TransferMatrix, write_matrix

    rng = np.random.default_rng(1)
    path = write_matrix(
        TransferMatrix([f"t{k}" for k in range(40)], rng.normal(size=(40, 40))),
        tmp_path / "m.csv",
    )
    result = run("solve", path, "--json", "--time-limit", "0.001")
    assert result.exit_code == 0, result.stderr
    assert "of the 0.001 s time limit" in result.stderr
    assert sorted(json.loads(result.stdout)["order"]) == sorted(f"t{k}" for k in range(40))
    relaxed = run("solve", path, "--json", "--time-limit", "3")
    assert relaxed.exit_code == 0 and "time limit" not in relaxed.stderr


def test_solve_entropy_model_option():
    entropy = EXAMPLE.with_name("four_domains_entropy.json")
    scores = EXAMPLE.with_name("four_domains.json")
    result = run(
        "solve",
        scores,
        "--entropy",
        entropy,
        "--entropy-floor",
        "creative_writing=0.5",
        "--entropy-model",
        "multiplicative",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["entropy"]["predicted"]["creative_writing"] >= 0.5
    usage = run("solve", scores, "--entropy", entropy, "--entropy-model", "log")
    assert usage.exit_code == 2 and "--entropy-model" in usage.stderr


# ------------------------------------------------------------- issue 15: solve's inputs and CLI
FOUR = ("math", "code", "general_qa", "creative_writing")


def square_csv(path, values, tasks=FOUR):
    rows = ["task," + ",".join(tasks)]
    for i, task in enumerate(tasks):
        rows.append(
            task + "," + ",".join("" if i == j else str(values[i][j]) for j in range(len(tasks)))
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def zeros(n=4):
    return [[0.0] * n for _ in range(n)]


def test_version_option():
    from taskorder import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"taskorder {__version__}"


@pytest.mark.parametrize(
    "extra, option, message",
    [
        (
            ["--first", "math", "--first", "code"],
            "--first",
            "expected one task; got 2: 'math', 'code'",
        ),
        (["--last", "math", "--last", "code"], "--last", "Only one task can be last"),
        (["--risk", "quantile"], "--risk", "needs standard errors"),
        (["--samples", "20"], "--samples", "needs standard errors"),
        (["--quantile", "0.2"], "--quantile", "--risk quantile only"),
        (["--entropy-model", "multiplicative"], "--entropy-model", "needs --entropy FILE"),
        (["--impute", "median"], "--impute", "'none', 'row_col', 'row_mean', 'zero'"),
        (["--steps-per-stage", "5"], "--steps-per-stage", "--schedule-out only"),
        (["--schedule-out", "s.yaml"], "--schedule-out", "needs a stage length"),
        (
            ["--schedule-out", "s.yaml", "--steps-per-stage", "5", "--passes-per-stage", "1"],
            "--passes-per-stage",
            "one stage length",
        ),
        (
            ["--schedule-out", "s.yaml", "--passes-per-stage", "inf"],
            "--passes-per-stage",
            "positive",
        ),
        (["--schedule-out", "s.yaml", "--passes-per-stage", "0"], "--passes-per-stage", "positive"),
    ],
)
def test_ignored_or_conflicting_options_are_usage_errors(extra, option, message):
    """Issue 15: these were silently accepted (the last --first won, --risk did nothing...)."""
    result = run("solve", EXAMPLE, *extra)
    assert result.exit_code == 2, result.stdout
    assert option in result.stderr and message in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_repeating_the_same_first_task_is_fine():
    result = run("solve", EXAMPLE, "--first", "math", "--first", "math", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["order"][0] == "math"


def test_all_zero_matrix_says_all_orders_tie(tmp_path):
    """Issue 15: an all-zero matrix was reported "optimal" with P(optimal) = 1.00."""
    path = square_csv(tmp_path / "zero.csv", zeros())
    errors = square_csv(tmp_path / "zero_se.csv", zeros())
    for extra in ([], ["--stderr", errors]):
        result = run("solve", path, *extra)
        assert result.exit_code == 0, result.stderr
        assert "all orders tie" in result.stdout
        assert "status: optimal" not in result.stdout
        assert "P(this order is optimal)" not in result.stdout
        data = json.loads(run("solve", path, *extra, "--json").stdout)
        assert data["all_orders_tie"] is True
    measured = run("solve", EXAMPLE, "--json")
    assert "all_orders_tie" not in json.loads(measured.stdout)
    assert "all orders tie" not in run("solve", EXAMPLE).stdout


def test_matrix_zero_in_mean_but_uncertain_is_not_a_tie(tmp_path):
    path = square_csv(tmp_path / "zero.csv", zeros())
    errors = square_csv(tmp_path / "se.csv", [[0.1] * 4 for _ in range(4)])
    result = run("solve", path, "--stderr", errors, "--samples", "20")
    assert result.exit_code == 0, result.stderr
    assert "all orders tie" not in result.stdout and "P(this order is optimal)" in result.stdout


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("diag.csv", "task,a,b\na,0.2,1\nb,-1,\n", "bwt['a', 'a'] = 0.2"),
        (
            "w.json",
            json.dumps({"tasks": ["a", "b"], "bwt": [[0, 1], [-1, 0]], "weights": [0, 0]}),
            "at least one task a positive weight",
        ),
        (
            "own.json",
            '{"tasks": ["a", "b"], "bwt": [[0, 1], [-1, 0]], "own_scores": [1e400, 0]}',
            "'own_scores.0' must be a finite number",
        ),
    ],
)
def test_bad_matrix_contents_exit_1_with_one_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("solve", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("taskorder: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_impute_fills_missing_entries(tmp_path):
    values = [[0, 0.1, -0.2, 0.0], [0.05, 0, "", 0.1], [0.0, 0.02, 0, -0.1], [0.1, -0.3, 0.2, 0]]
    path = square_csv(tmp_path / "holes.csv", values)
    refused = run("solve", path)
    assert refused.exit_code == 1 and "--impute row_col" in refused.stderr
    for method in ("row_col", "row_mean", "zero"):
        result = run("solve", path, "--impute", method, "--json")
        assert result.exit_code == 0, result.stderr
        assert "imputed 1 missing entries" in result.stderr
        assert sorted(json.loads(result.stdout)["order"]) == sorted(FOUR)
    filled = run("solve", path, "--impute", "zero", "--json")
    values[1][2] = 0.0
    expected = solve(read_matrix(square_csv(tmp_path / "filled.csv", values)))
    assert json.loads(filled.stdout)["objective"] == pytest.approx(expected.objective)
    complete = run("solve", EXAMPLE, "--impute", "row_col", "--json")
    assert complete.exit_code == 0 and complete.stderr == ""


def test_impute_also_fills_the_entropy_matrix(tmp_path):
    scores = EXAMPLE.with_name("four_domains.json")
    entropy = json.loads(EXAMPLE.with_name("four_domains_entropy.json").read_text())
    entropy["bwt"][0][1] = None
    holes = tmp_path / "entropy.json"
    holes.write_text(json.dumps(entropy), encoding="utf-8")
    refused = run("solve", scores, "--entropy", holes, "--entropy-weight", "0.1")
    assert refused.exit_code == 1 and "missing entries" in refused.stderr
    result = run(
        "solve", scores, "--entropy", holes, "--entropy-weight", "0.1", "--impute", "row_mean"
    )
    assert result.exit_code == 0, result.stderr
    assert "imputed 1 missing entries of entropy.json (row_mean)" in result.stderr


def test_schedule_out_writes_a_schedule_section(tmp_path):
    import yaml

    from taskorder.trl.config import load_train_config

    out = tmp_path / "plans" / "schedule.yaml"
    result = run("solve", EXAMPLE, "--schedule-out", out, "--steps-per-stage", "25", "--json")
    assert result.exit_code == 0, result.stderr
    order = json.loads(result.stdout)["order"]
    document = yaml.safe_load(out.read_text())
    assert document == {"schedule": {"order": order, "steps_per_stage": 25}}
    # A train config without a schedule plus this section is a config `taskorder train` accepts.
    (tmp_path / "data").mkdir()
    base = {
        "model": "model",
        "output_dir": "run",
        "tasks": {task: {"train": f"data/{task}.jsonl", "reward": "math"} for task in FOUR},
    }
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(base) + out.read_text(), encoding="utf-8")
    loaded = load_train_config(config)
    assert len(loaded.explicit_schedule()) == len(order)
    assert list(loaded.schedule.order) == order and loaded.schedule.steps_per_stage == 25
    human = run("solve", EXAMPLE, "--schedule-out", out, "--passes-per-stage", "0.5")
    assert human.exit_code == 0 and f"wrote the schedule to {out}" in human.stderr
    assert yaml.safe_load(out.read_text())["schedule"]["passes_per_stage"] == 0.5


def test_schedule_out_with_a_train_config_writes_a_whole_config(tmp_path):
    import yaml

    from taskorder.trl.config import load_train_config

    folder = tmp_path / "configs"
    folder.mkdir()
    base = {
        "model": "models/tiny",
        "output_dir": "runs/a",
        "tasks": {task: {"train": f"data/{task}.jsonl", "reward": "math"} for task in FOUR},
        "schedule": {"bwt": "probes/bwt.csv", "steps_per_stage": 40},
    }
    (folder / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    out = folder / "solved.yaml"
    result = run(
        "solve", EXAMPLE, "--schedule-out", out, "--train-config", folder / "base.yaml", "--json"
    )
    assert result.exit_code == 0, result.stderr
    order = json.loads(result.stdout)["order"]
    written = yaml.safe_load(out.read_text())
    assert written == {**base, "schedule": {"order": order, "steps_per_stage": 40}}
    config = load_train_config(out)
    assert list(config.schedule.order) == order and config.schedule.steps_per_stage == 40
    assert config.tasks["math"].train == folder / "data" / "math.jsonl"
    given = run(
        "solve",
        EXAMPLE,
        "--schedule-out",
        out,
        "--train-config",
        folder / "base.yaml",
        "--passes-per-stage",
        "2",
    )
    assert (
        given.exit_code == 0
        and yaml.safe_load(out.read_text())["schedule"]["passes_per_stage"] == 2
    )


@pytest.mark.parametrize(
    "out, config, message",
    [
        ("elsewhere/solved.yaml", "configs/base.yaml", "must be in the folder of --train-config"),
        ("configs/base.yaml", "configs/base.yaml", "is the --train-config itself"),
        ("configs/s.yaml", "configs/other.yaml", "Expected the same tasks"),
        ("configs/s.yaml", "configs/missing.yaml", "no such train config"),
        ("configs/s.json", "configs/base.yaml", ".yaml or .yml"),
    ],
)
def test_schedule_out_with_a_train_config_refusals(tmp_path, out, config, message):
    import yaml

    (tmp_path / "configs").mkdir()
    base = {
        "model": "m",
        "output_dir": "r",
        "tasks": {t: {"train": "d.jsonl", "reward": "math"} for t in FOUR},
    }
    (tmp_path / "configs" / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    other = {**base, "tasks": {"a": {"train": "a.jsonl", "reward": "math"}}}
    (tmp_path / "configs" / "other.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    result = run(
        "solve", EXAMPLE, "--schedule-out", tmp_path / out, "--train-config", tmp_path / config
    )
    assert result.exit_code == 1 and message in result.stderr
    assert yaml.safe_load((tmp_path / "configs" / "base.yaml").read_text()) == base


@pytest.fixture
def slow_solver(monkeypatch):
    import time

    from taskorder import solvers
    from taskorder.cli import solve_extras

    real = solvers.solve

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(solvers, "solve", slow)
    monkeypatch.setattr(solve_extras, "PROGRESS_DELAY_S", 0.05)


def test_long_solves_show_progress_on_stderr_only(slow_solver):
    result = run("solve", EXAMPLE)
    assert result.exit_code == 0
    assert "solving the order of 4 tasks" in result.stderr
    assert "solving" not in result.stdout
    quiet = run("solve", EXAMPLE, "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    json.loads(quiet.stdout)


def test_fast_solves_show_no_progress():
    result = run("solve", EXAMPLE)
    assert result.exit_code == 0 and "solving" not in result.stderr


def test_progress_spinner_on_a_terminal(monkeypatch):
    import io
    import time

    from rich.console import Console

    from taskorder.cli import solve_extras

    terminal = io.StringIO()
    monkeypatch.setattr(solve_extras, "stderr", Console(file=terminal, force_terminal=True))
    with solve_extras.progress("solving things", enabled=True, delay=0.0):
        time.sleep(0.3)
    assert "solving things" in terminal.getvalue()


def test_overflowing_values_are_one_clear_error_without_numpy_warnings(tmp_path):
    """Issue 15: 1.7e308 everywhere reported "No order satisfies the constraints" plus warnings."""
    path = square_csv(tmp_path / "huge.csv", [[1.7e308] * 4 for _ in range(4)])
    result = run("solve", path)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "RuntimeWarning" not in result.stderr
    assert "huge.csv: The 'bwt' values must be at most 1e+100 in absolute value" in result.stderr


def test_choice_options_are_the_librarys_own_lists():
    """Issue 14: each CLI choice is an Enum made from the library's tuple (one list)."""
    from typing import get_args

    from taskorder.cli import options
    from taskorder.compare import METHODS
    from taskorder.estimate.executors import EXECUTORS
    from taskorder.estimate.impute import IMPUTATION_METHODS
    from taskorder.learner.config import LearnerConfig
    from taskorder.model import MODELS
    from taskorder.replan.settings import DESIGNS
    from taskorder.solvers import SOLVERS
    from taskorder.solvers.problem import ENTROPY_MODELS, RISKS, SOLVER_OBJECTIVES
    from taskorder.trl.suite import SUITE_REWARDS

    expected = {
        options.Objective: tuple(name.replace("_", "-") for name in SOLVER_OBJECTIVES),
        options.SolverMethod: ("auto", *SOLVERS),
        options.Impute: ("none", *IMPUTATION_METHODS),
        options.Risk: RISKS,
        options.EntropyModel: ENTROPY_MODELS,
        options.Model: MODELS,
        options.Executor: EXECUTORS,
        options.Design: DESIGNS,
        options.LearnerMode: get_args(LearnerConfig.model_fields["mode"].annotation),
        options.CompareMethod: METHODS,
        options.SuiteTask: tuple(SUITE_REWARDS),
    }
    for enum, values in expected.items():
        assert tuple(member.value for member in enum) == tuple(values), enum.__name__
        assert all(isinstance(member, str) for member in enum)


@pytest.mark.parametrize(
    "command, option, shown",
    [
        (["solve"], "--risk", "<mean|quantile|probability>"),
        (["solve"], "--impute", "<none|row_col|row_mean|zero>"),
        (["solve"], "--entropy-model", "<additive|multiplicative>"),
        (["solve"], "--objective", "<all-pairs|adjacent|max-min>"),
        (["predict"], "--objective", "<all-pairs|adjacent|max-min>"),
        (["probe", "run"], "--executor", "<inprocess|process|ray>"),
        (["probe", "replan"], "--design", "<full|cheap>"),
        (["train"], "--design", "<full|cheap>"),
        (["demo"], "--mode", "<exact|sampled>"),
        (["compare"], "--mode", "<exact|sampled>"),
        (["plot", "validation"], "--model", "<additive|backward_only|multiplicative>"),
    ],
)
def test_help_lists_the_choices_and_other_values_exit_2(command, option, shown):
    help_text = " ".join(run(*command, "--help").stdout.split())
    assert f"{option} {shown}" in help_text
    result = run(*command, option, "nonsense")
    assert result.exit_code == 2 and "'nonsense' is not one of" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("spelling", ["max-min", "max_min", "MAX-MIN", "Max_Min"])
def test_objective_takes_either_spelling_in_any_case(spelling):
    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--objective", spelling, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["objective_name"] == "max_min"
