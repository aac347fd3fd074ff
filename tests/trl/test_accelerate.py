"""Scale-out as users launch it: two processes (gloo on CPU) run ``taskorder train``.

Every rank must be fed its scheduled stage: the rewards of :mod:`tests.trl.rank_log`
log, per rank and GRPO step, the task of every row that rank generated and scored.

The launch is ``accelerate launch --multi_gpu --num_processes 2`` with
``ACCELERATE_USE_CPU=true``: accelerate 1.15's ``--cpu`` flag takes its single-process
launcher (several CPU processes need mpirun and a hostfile there), while ``--multi_gpu``
starts the ranks through ``torch.distributed.run`` and ``ACCELERATE_USE_CPU`` makes
transformers pick the CPU and the gloo backend (docs/trl.md, "Several processes and vLLM").
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import TINY_EVAL, TINY_GRPO

REPO = Path(__file__).parents[2]
ACCELERATE = shutil.which("accelerate", path=str(Path(sys.executable).parent))


def test_vllm_settings_pass_through_to_grpo_config(tmp_path, toy_world, toy_files):
    """``grpo: {use_vllm: true, vllm_mode: colocate}`` reaches trl.GRPOConfig unchanged."""
    from taskorder.exceptions import InvalidParameterError
    from taskorder.trl.config import load_train_config
    from taskorder.trl.grpo_args import make_grpo_config

    model_dir, _ = toy_world
    vllm = {"use_vllm": True, "vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.25}
    config = {
        "model": str(model_dir),
        "output_dir": "run",
        "tasks": {"qa": toy_files["qa"], "arithmetic": toy_files["arithmetic"]},
        "schedule": {"order": ["qa", "arithmetic"], "steps_per_stage": 2},
        "grpo": {**TINY_GRPO, **vllm},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    loaded = load_train_config(path)
    args = make_grpo_config(tmp_path / "out", loaded.grpo)
    assert (args.use_vllm, args.vllm_mode, args.vllm_gpu_memory_utilization) == (
        True,
        "colocate",
        0.25,
    )
    path.write_text(yaml.safe_dump({**config, "grpo": {"use_vlm": True}}), encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="use_vlm"):
        load_train_config(path)


@pytest.mark.slow
@pytest.mark.skipif(ACCELERATE is None, reason="needs the accelerate command")
def test_two_ranks_are_each_fed_their_scheduled_stage(tmp_path, toy_world, toy_files):
    model_dir, _ = toy_world
    config = {
        "model": str(model_dir),
        "output_dir": str(tmp_path / "run"),
        "tasks": {
            "qa": {**toy_files["qa"], "reward": "tests.trl.rank_log:choice"},
            "arithmetic": {**toy_files["arithmetic"], "reward": "tests.trl.rank_log:math"},
        },
        "schedule": {"order": ["qa", "arithmetic"], "steps_per_stage": 2},
        "grpo": dict(TINY_GRPO),  # 8 completions per rank and step: 2 prompts x 4
        "evaluation": dict(TINY_EVAL),
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    logs = tmp_path / "ranks"
    logs.mkdir()
    env = {
        **os.environ,
        "ACCELERATE_USE_CPU": "true",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
        "TASKORDER_TEST_RANK_LOG": str(logs),
        "HF_HUB_OFFLINE": "1",
    }
    command = [
        ACCELERATE,
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "29517",
        "-m",
        "taskorder",
        "train",
        str(path),
        "--json",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    fed: dict[int, dict[int, set[str]]] = {}
    prompts: dict[int, dict[int, list[str]]] = {}
    for rank in (0, 1):
        for line in (logs / f"rank-{rank}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert record["rank"] == rank
            fed.setdefault(rank, {}).setdefault(record["step"], set()).update(record["tasks"])
            prompts.setdefault(rank, {}).setdefault(record["step"], []).extend(record["prompts"])
    scheduled = {0: {"qa"}, 1: {"qa"}, 2: {"arithmetic"}, 3: {"arithmetic"}}
    assert fed == {0: scheduled, 1: scheduled}
    # the ranks share each generation batch (4 prompts): 2 prompts x 4 completions each
    for step in scheduled:
        mine, theirs = prompts[0][step], prompts[1][step]
        assert len(mine) == len(theirs) == 8
        assert len(set(mine)) == len(set(theirs)) == 2 and not set(mine) & set(theirs)
    stages = json.loads((tmp_path / "run" / "stages.json").read_text(encoding="utf-8"))
    assert [(r["stage"], r["step"]) for r in stages["records"]] == [(-1, 0), (0, 2), (1, 4)]
