"""TRLProbeRunner states: LoRA merged into plain folders, the train cache, weights for merging.

Also ``compare(..., matrix=...)``: a measured matrix replaces the probe campaign.
"""

import numpy as np
import pytest
import torch

from taskorder.trl.evaluation import EvalConfig
from taskorder.trl.runner import TRLProbeRunner, TRLRunnerConfig

from .conftest import TINY_EVAL, TINY_GRPO


def _runner(model_dir, tasks, work_dir, **changes):
    config = TRLRunnerConfig(
        model_path=str(model_dir),
        work_dir=str(work_dir),
        grpo=dict(TINY_GRPO),
        evaluation=EvalConfig(**TINY_EVAL),
        **changes,
    )
    return TRLProbeRunner(tasks, config)


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


@pytest.fixture(scope="module")
def plain_runner(toy_world, toy_tasks, tmp_path_factory):
    model_dir, _ = toy_world
    return _runner(model_dir, toy_tasks, tmp_path_factory.mktemp("states"))


def test_lora_trains_and_saves_a_merged_plain_model(toy_world, toy_tasks, tmp_path):
    from transformers import AutoModelForCausalLM

    model_dir, _ = toy_world
    runner = _runner(model_dir, toy_tasks, tmp_path, lora={"r": 4, "alpha": 8})
    assert runner.config.lora["r"] == 4 and runner.config.lora["target_modules"] == "all-linear"
    trained = runner.train(runner.initial_state(0), "describe", steps=2, seed=0)
    folder = tmp_path / trained.rsplit("/", 1)[1]
    assert not (folder / "adapter_config.json").exists()  # merged, not an adapter
    model = AutoModelForCausalLM.from_pretrained(folder)  # a plain model folder
    assert not hasattr(model, "peft_config")
    start, after = _weights(model_dir), _weights(folder)
    assert sorted(after) == sorted(start)  # no lora_A / lora_B / base_layer keys left
    changed = [name for name in start if not torch.equal(start[name], after[name])]
    assert changed and all(name.endswith("proj.weight") or "mlp" in name for name in changed)
    # only the adapted linear layers moved; embeddings and norms are the base model's
    assert torch.equal(start["model.embed_tokens.weight"], after["model.embed_tokens.weight"])
    assert runner.evaluate(trained, "qa", seed=0).n_samples == 12
    plain = _runner(model_dir, toy_tasks, tmp_path)
    assert plain.config_hash() != runner.config_hash()


def test_same_arguments_return_the_same_state_without_training(plain_runner, tmp_path):
    base = plain_runner.initial_state(0)
    first = plain_runner.train(base, "arithmetic", steps=1, seed=3)
    weights = plain_runner._state_dir(first) / "model.safetensors"
    stamp = (weights.stat().st_ino, weights.stat().st_mtime_ns)
    import trl

    calls = []
    original = trl.GRPOTrainer.train
    trl.GRPOTrainer.train = lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    try:
        again = plain_runner.train(base, "arithmetic", steps=1, seed=3)
        assert again == first and calls == []
        assert (weights.stat().st_ino, weights.stat().st_mtime_ns) == stamp
        other = plain_runner.train(base, "arithmetic", steps=1, seed=4)
        assert other != first and calls == [1]
    finally:
        trl.GRPOTrainer.train = original
    # a fresh runner object over the same work_dir reuses the finished state too
    fresh = _runner(
        plain_runner.config.model_path,
        list(plain_runner._tasks.values()),
        plain_runner.config.work_dir,
    )
    assert fresh.train(base, "arithmetic", steps=1, seed=3) == first
    # a state folder without its completion marker (an interrupted call) is trained again
    (plain_runner._state_dir(first) / ".taskorder-state-complete").unlink()
    assert plain_runner.train(base, "arithmetic", steps=1, seed=3) == first
    assert weights.stat().st_ino != stamp[0] or weights.stat().st_mtime_ns != stamp[1]


def test_params_round_trip_and_a_merge_is_a_loadable_state(plain_runner):
    from transformers import AutoModelForCausalLM

    base = plain_runner.initial_state(0)
    params = plain_runner.state_to_params(base)
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in params.values())
    copy = plain_runner.params_to_state(params, like=base)
    again = plain_runner.state_to_params(copy)
    assert sorted(again) == sorted(params)
    assert all(np.array_equal(again[k], params[k]) for k in params)
    assert plain_runner.params_to_state(params, like=base) == copy  # named by content
    trained = plain_runner.train(base, "qa", steps=1, seed=0)
    other = plain_runner.state_to_params(trained)
    mean = {k: (params[k] + other[k]) / 2 for k in params}
    merged = plain_runner.params_to_state(mean, like=trained)
    model = AutoModelForCausalLM.from_pretrained(merged)
    name = "model.layers.0.self_attn.q_proj.weight"
    assert np.allclose(model.state_dict()[name].numpy(), mean[name])
    assert plain_runner.evaluate(merged, "qa", seed=0).n_samples == 12


def test_compare_with_a_matrix_skips_the_probe_campaign(tmp_path):
    from taskorder.compare import compare
    from taskorder.learner import make_learner
    from taskorder.matrix import TransferMatrix
    from taskorder.recommend import recommend

    runner = make_learner(n_structured=1, n_open=2)
    tasks = list(runner.tasks)
    calls = []
    train = runner.train
    runner.train = lambda *a, **k: calls.append(1) or train(*a, **k)
    bwt = np.array([[0.0, -0.5, -0.5], [0.0, 0.0, -0.5], [0.0, 0.0, 0.0]])
    matrix = TransferMatrix(tasks[::-1], bwt)  # best order: tasks reversed
    report = compare(
        runner,
        methods=["solver", "joint"],
        seeds=2,
        stage_steps=3,
        matrix=matrix,
        probe_dir=tmp_path / "probe",
    )
    assert report.probe["given"] and report.probe["probes"] == 0
    assert report.probe["orders"]["solver"] == list(recommend(matrix, seed=0).order)
    assert not (tmp_path / "probe").exists()
    # 2 seeds x (3 solver stages + 1 joint stage + 3 specialists), no probe training
    assert len(calls) == 2 * (3 + 1 + 3)
    calls.clear()
    probed = compare(
        runner, methods=["solver", "joint"], seeds=2, stage_steps=3, probe_dir=tmp_path / "probe"
    )
    assert probed.probe["probes"] > 0 and (tmp_path / "probe").exists()
    assert len(calls) > 2 * (3 + 1 + 3)
    with pytest.raises(ValueError, match="must cover the runner's tasks"):
        compare(
            runner,
            methods=["solver"],
            seeds=1,
            stage_steps=3,
            matrix=TransferMatrix(tasks[:2], bwt[:2, :2]),
        )


def test_compare_runs_online_methods_on_the_trl_runner(plain_runner):
    """`compare --method sec` on a real-model runner: one online stage through train_online."""
    from taskorder.compare import compare

    tasks = list(plain_runner.tasks)
    calls = []
    online = plain_runner.train_online
    plain_runner.train_online = lambda *a, **k: calls.append(a[2]) or online(*a, **k)
    try:
        report = compare(plain_runner, methods=["sec", "joint"], seeds=1, stage_steps=1)
    finally:
        plain_runner.train_online = online
    assert calls == ["sec"]
    sec = report.methods["sec"]
    assert sec.kind == "online" and sec.probe_steps == 0 and sec.total_steps == len(tasks)
    assert report.methods["joint"].total_steps == len(tasks)


def test_compare_runs_the_hybrid_on_the_trl_runner(plain_runner):
    """The hybrid's mixed stages are anchored online stages of the real-model runner."""
    from taskorder.compare import compare
    from taskorder.matrix import TransferMatrix

    tasks = list(plain_runner.tasks)
    matrix = TransferMatrix(tasks, np.zeros((3, 3)), own_scores=[0.5, 0.5, 0.5])
    calls = []
    online = plain_runner.train_online
    plain_runner.train_online = lambda *a, **k: calls.append(k["options"]) or online(*a, **k)
    try:
        report = compare(
            plain_runner, methods=["hybrid", "joint"], seeds=1, stage_steps=1, matrix=matrix
        )
    finally:
        plain_runner.train_online = online
    order = report.probe["orders"]["solver"]
    # stage 0 trains the first task alone; stages 1 and 2 mix, anchored on their current task
    assert [c["anchor"]["task"] for c in calls] == order[1:]
    assert all(c["anchor"]["share"] == 0.5 for c in calls)
    assert report.methods["hybrid"].total_steps == len(tasks)


def test_save_links_the_state_files_instead_of_copying_them(plain_runner, tmp_path):
    from pathlib import Path

    state = plain_runner.initial_state(0)
    saved = tmp_path / "saved"
    plain_runner.save(state, saved)
    source = Path(plain_runner.load(state))
    assert sorted(p.name for p in saved.iterdir()) == sorted(p.name for p in source.iterdir())
    # one file on disk, not two (the same file system here)
    assert (saved / "config.json").stat().st_ino == (source / "config.json").stat().st_ino
    assert plain_runner.load(str(saved)) == str(saved)
    plain_runner.save(state, saved)  # saving again replaces the folder
    assert (saved / "config.json").is_file()
