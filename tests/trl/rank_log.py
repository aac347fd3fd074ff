"""Rewards that log, per rank, the task of every row each GRPO step scores (for launcher tests).

A config names them as ``tests.trl.rank_log:math`` and so on. Each call appends one JSON
line ``{"rank", "step", "tasks", "prompts"}`` to ``$TASKORDER_TEST_RANK_LOG/rank-<RANK>.jsonl`` and
returns the real reward of the same name. Held-out evaluation (no ``trainer_state``) is not
logged. TRL computes rewards on the rank that generated
the completions, so the log shows what every rank was fed.
"""

import json
import os
from pathlib import Path

from taskorder.trl.reward_specs import resolve_reward


class RankLoggedReward:
    """The named reward, logging the task column of every batch it scores."""

    def __init__(self, name):
        self.name = name
        self.__name__ = f"logged_{name}"

    def __call__(self, completions=None, task=None, trainer_state=None, **kwargs):
        folder = os.environ.get("TASKORDER_TEST_RANK_LOG")
        if folder and trainer_state is not None:  # held-out evaluation passes no state
            rank = int(os.environ.get("RANK", "0"))
            prompts = [str(prompt) for prompt in kwargs.get("prompts") or []]
            record = {
                "rank": rank,
                "step": trainer_state.global_step,
                "tasks": list(task),
                "prompts": prompts,
            }
            with (Path(folder) / f"rank-{rank}.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        real = resolve_reward(self.name)
        return real(completions=completions, task=task, trainer_state=trainer_state, **kwargs)


math = RankLoggedReward("math")
choice = RankLoggedReward("choice")
