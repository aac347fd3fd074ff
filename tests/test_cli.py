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
    for key in ("order", "objective", "status", "bound", "method", "elapsed_s", "predicted", "baselines"):
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
        "solve", EXAMPLE, "--objective", "adjacent", "--first", "math", "--last", "code",
        "--before", "general_qa:creative_writing", "--json",
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
    result = run("solve", EXAMPLE, "--stderr", errors, "--risk", "quantile", "--samples", "50", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert 0 < data["extras"]["p_optimal"] <= 1
    assert data["method"] == "robust[dp]"
    human = run("solve", EXAMPLE, "--stderr", errors, "--samples", "50")
    assert "P(this order is optimal)" in human.stdout
    bad = run("solve", EXAMPLE, "--stderr", EXAMPLE.with_name("four_domains.json"), "--risk", "x")
    assert bad.exit_code == 2 and "--risk" in bad.stderr


def test_solve_with_entropy_floor():
    entropy = EXAMPLE.with_name("four_domains_entropy.json")
    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing=0.8", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["extras"]["predicted_entropy"]["creative_writing"] >= 0.8
    impossible = run("solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing=3")
    assert impossible.exit_code == 1 and "most any order reaches" in impossible.stderr
    usage = run("solve", scores, "--entropy-floor", "creative_writing=0.8")
    assert usage.exit_code == 2 and "--entropy" in usage.stderr
    usage = run("solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing")
    assert usage.exit_code == 2 and "TASK=VALUE" in usage.stderr


@pytest.mark.parametrize("model", ["backward_only", "multiplicative"])
def test_solve_with_another_outcome_model(model):
    from taskorder.models_extra import best_order

    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--model", model, "--json")
    assert result.exit_code == 0, result.stderr
    expected = best_order(read_matrix(scores), model=model)
    assert json.loads(result.stdout)["order"] == list(expected.order)


def test_max_min_objective_from_the_cli():
    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--objective", "max-min", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["objective"] == pytest.approx(min(data["predicted"].values()))
    again = run("predict", scores, "--order", ",".join(data["order"]), "--objective", "max-min", "--json")
    assert json.loads(again.stdout)["objective"] == pytest.approx(data["objective"])


def test_large_matrix_with_errors_skips_confidence_unless_asked(tmp_path):
    import numpy as np

    from taskorder import TransferMatrix, write_matrix

    rng = np.random.default_rng(0)
    big = TransferMatrix([f"t{k}" for k in range(22)], rng.normal(size=(22, 22)),
                         bwt_stderr=np.full((22, 22), 0.1))
    path = write_matrix(big, tmp_path / "big.json")
    result = run("solve", path, "--json", "--time-limit", "2")
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stderr and "p_optimal" not in json.loads(result.stdout)["extras"]


def test_solve_entropy_model_option():
    entropy = EXAMPLE.with_name("four_domains_entropy.json")
    scores = EXAMPLE.with_name("four_domains.json")
    result = run("solve", scores, "--entropy", entropy, "--entropy-floor", "creative_writing=0.5",
                 "--entropy-model", "multiplicative", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["extras"]["predicted_entropy"]["creative_writing"] >= 0.5
    usage = run("solve", scores, "--entropy", entropy, "--entropy-model", "log")
    assert usage.exit_code == 2 and "--entropy-model" in usage.stderr
