"""Importable helpers for subprocess tests (configs name them as module:attribute)."""

import os
import time

from taskorder.rewards import choice_reward


def slow_choice_reward(completions=None, **kwargs):
    """The choice reward, slowed down when TASKORDER_TEST_SLOW is set (widens a kill window)."""
    delay = float(os.environ.get("TASKORDER_TEST_SLOW", "0") or 0)
    if delay:
        time.sleep(delay)
    return choice_reward(completions=completions, **kwargs)
