"""Estimating transfer: the runner protocol that probe campaigns drive.

Importing this package is light (no torch); trainer-specific runners live in
their own subpackages and import their heavy dependencies when used.
"""

from taskorder.estimate.runner import Evaluation, Runner, TaskSpec, check_runner

__all__ = ["Evaluation", "Runner", "TaskSpec", "check_runner"]
