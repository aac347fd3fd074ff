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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ACCELERATE is None, reason="needs the accelerate command"),
]


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
    for rank in (0, 1):
        for line in (logs / f"rank-{rank}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert record["rank"] == rank
            fed.setdefault(rank, {}).setdefault(record["step"], set()).update(record["tasks"])
    scheduled = {0: {"qa"}, 1: {"qa"}, 2: {"arithmetic"}, 3: {"arithmetic"}}
    assert fed == {0: scheduled, 1: scheduled}
    stages = json.loads((tmp_path / "run" / "stages.json").read_text(encoding="utf-8"))
    assert [(r["stage"], r["step"]) for r in stages["records"]] == [(-1, 0), (0, 2), (1, 4)]
