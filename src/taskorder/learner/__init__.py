"""Built-in learner (placeholder docstring)."""

from taskorder.learner.config import LearnerConfig, make_config
from taskorder.learner.runner import BuiltinRunner, LearnerState, make_learner

__all__ = ["BuiltinRunner", "LearnerConfig", "LearnerState", "make_config", "make_learner"]
