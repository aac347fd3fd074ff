"""The offline real-LM suite: disjoint splits, seeded rows, gold answers score 1, configs load."""

import re

import pytest
import yaml
from typer.testing import CliRunner

from taskorder.cli import app
from taskorder.configs import load_config
from taskorder.exceptions import InvalidParameterError
from taskorder.rewards import choice_reward, math_reward
from taskorder.trl.config import load_train_config
from taskorder.trl.suite import SUITE_KINDS, SUITE_REWARDS, suite_rows, write_suite

cli = CliRunner()


def _operands(row):
    a, b = re.fullmatch(r"What is (\d) \+ (\d)\? Reply with only the number\.", _text(row)).groups()
    return int(a), int(b)


def _text(row):
    (message,) = row["prompt"]
    assert message["role"] == "user"
    return message["content"]


def _choice_item(row):
    return row["options"]["ABCD".index(row["answer"])]


def _subject(row):
    return re.search(r"(?:poem about|someone who) (.+)\.$", _text(row)).group(1)


KEYS = {"arithmetic": _operands, "choice": _choice_item, "poem": _subject, "advice": _subject}


@pytest.mark.parametrize("task", sorted(SUITE_REWARDS))
def test_train_and_eval_share_no_operands_items_or_subjects(task):
    for seed in (0, 1):
        train = {KEYS[task](row) for row in suite_rows(task, "train", seed=seed, n_rows=400)}
        held = {KEYS[task](row) for row in suite_rows(task, "eval", seed=seed, n_rows=200)}
        assert train and held and not train & held
    # another seed splits differently
    assert {KEYS[task](r) for r in suite_rows(task, "eval", seed=0, n_rows=200)} != {
        KEYS[task](r) for r in suite_rows(task, "eval", seed=1, n_rows=200)
    }


@pytest.mark.parametrize("task", sorted(SUITE_REWARDS))
def test_rows_are_determined_by_the_seed(task):
    first = suite_rows(task, "train", seed=3, n_rows=20)
    assert first == suite_rows(task, "train", seed=3, n_rows=20)
    assert first != suite_rows(task, "train", seed=4, n_rows=20)
    assert all(row["task"] == task for row in first)
    assert len(suite_rows(task, "eval", seed=0)) == 48 and len(suite_rows(task, "train")) == 256


def test_gold_answers_score_one_and_wrong_answers_zero():
    rows = suite_rows("arithmetic", "eval", seed=0, n_rows=30)
    gold = [[{"role": "assistant", "content": row["answer"]}] for row in rows]
    answers = [row["answer"] for row in rows]
    assert math_reward(completions=gold, answer=answers) == [1.0] * len(rows)
    wrong = [[{"role": "assistant", "content": str(int(a) + 1)}] for a in answers]
    assert math_reward(completions=wrong, answer=answers) == [0.0] * len(rows)
    for a, b in map(_operands, rows):
        assert 0 <= a <= 9 and 0 <= b <= 9
    rows = suite_rows("choice", "eval", seed=0, n_rows=30)
    columns = {"options": [r["options"] for r in rows], "answer": [r["answer"] for r in rows]}
    gold = [[{"role": "assistant", "content": row["answer"]}] for row in rows]
    assert choice_reward(completions=gold, **columns) == [1.0] * len(rows)
    wrong = [
        [{"role": "assistant", "content": "ABCD"[("ABCD".index(r["answer"]) + 1) % 4]}]
        for r in rows
    ]
    assert choice_reward(completions=wrong, **columns) == [0.0] * len(rows)


def test_choice_rows_have_exactly_one_right_option():
    """Every distractor is from another category and cannot be read as the asked one."""
    from taskorder.trl.suite import _CATEGORIES

    # words that name members of two categories (orange: fruit / colour; plane: tool / vehicle)
    two_ways = {"orange", "plane"}
    for row in suite_rows("choice", "train", seed=0, n_rows=200):
        category = re.search(r"Which of these is an? (\w+)\?", _text(row)).group(1)
        assert _choice_item(row) in _CATEGORIES[category]
        assert len(set(row["options"])) == 4
        for option in row["options"]:
            if option != _choice_item(row):
                assert option not in _CATEGORIES[category] and option not in two_ways, row


def test_judged_rows_carry_a_rubric_and_unknown_names_are_refused():
    for task, kind in SUITE_KINDS.items():
        row = suite_rows(task, "train", n_rows=1)[0]
        assert ("rubric" in row) == (kind == "open") == (SUITE_REWARDS[task] == "judge")
    with pytest.raises(InvalidParameterError, match="Unknown suite task 'sql'"):
        suite_rows("sql", "train")
    with pytest.raises(InvalidParameterError, match="'train' or 'eval'"):
        suite_rows("poem", "test")


def test_suite_write_gives_a_config_that_every_command_reads(tmp_path):
    result = cli.invoke(
        app,
        [
            "suite",
            "write",
            str(tmp_path / "s"),
            "--task",
            "arithmetic",
            "--task",
            "poem",
            "--model",
            "my-model",
            "--seed",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    path = tmp_path / "s" / "real_lm.yaml"
    assert result.stdout.strip() == str(path)
    config = load_train_config(path)
    assert sorted(config.tasks) == ["arithmetic", "poem"]
    assert config.model.kind == "path" and config.model.path == tmp_path / "s" / "my-model"
    assert config.tasks["poem"].reward == "judge" and config.judge is not None
    assert config.tasks["arithmetic"].train == tmp_path / "s" / "arithmetic.train.jsonl"
    assert config.schedule.bwt == tmp_path / "s" / "out" / "probes" / "matrix.json"
    written = [yaml.safe_load(line) for line in config.tasks["poem"].eval.read_text().splitlines()]
    assert written == suite_rows("poem", "eval", seed=2)
    probe = load_config(path)
    assert probe.runner.kind == "trl" and probe.plan.steps == 6
    assert probe.output_path == tmp_path / "s" / "out" / "probes"
    demo = load_train_config(write_suite(tmp_path / "d", tasks=["choice", "advice"], n_train=4))
    assert demo.model.kind == "demo" and demo.judge.model.kind == "demo"
    bad = cli.invoke(app, ["suite", "write", str(tmp_path / "x"), "--task", "sql"])
    assert bad.exit_code == 2 and "'sql' is not one of 'arithmetic'" in bad.stderr
    assert not (tmp_path / "x").exists()


def _write(tmp_path, changes):
    path = write_suite(tmp_path, tasks=["arithmetic", "choice"], n_train=4, n_eval=2)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["model"] = str(tmp_path / "no-model")
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        section = config
        for key in parents:
            section = section.setdefault(key, {})
        if value is None:
            section.pop(last)
        else:
            section[last] = value
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"probe.plan.steps": None}, "probe.plan.steps is required"),
        ({"tasks.choice.reward": "choise"}, "Unknown reward 'choise'"),
        ({"probe.plan.tasks": ["arithmetic", "poem"]}, "'poem'"),
        ({"probe.plan.pairs": [["arithmetic", "advice"]]}, "'advice'"),
        ({"probe.plan.repeat": 2}, "probe.plan.repeat: unknown key (accepted: "),
        ({"model": {"demo": "gpt5"}}, "unknown demo model 'gpt5'"),
    ],
)
def test_bad_real_model_configs_are_one_clear_error(tmp_path, changes, message):
    """Refused while reading the config: before any model is resolved, nothing written."""
    path = _write(tmp_path, changes)
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        load_config(path)
    result = cli.invoke(app, ["probe", "run", str(path), "--quiet"])
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_missing_model_is_refused_before_the_campaign_starts(tmp_path):
    path = _write(tmp_path, {})
    assert load_config(path).runner.kind == "trl"
    result = cli.invoke(app, ["probe", "run", str(path), "--quiet"])
    assert result.exit_code == 1 and "no-model: not a model folder" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out" / "probes").exists()
