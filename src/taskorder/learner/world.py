"""The synthetic world of the built-in learner: tasks, prompts and answer keys.

Everything here is fixed by :attr:`LearnerConfig.seed`; nothing is learned.

How tasks share structure:

- **Prompts.** There are ``n_topics`` latent topic vectors in feature space. Each
  task mixes them with its own Dirichlet weights, and each prompt is the task's
  mix plus Gaussian noise (``prompt_noise``). Tasks whose mixes overlap have
  prompts that point the same way, so a gradient step on one moves the other's
  logits.
- **Answer keys.** Each task has a linear key ``M_t`` (features -> answer scores)
  that is ``key_overlap`` parts a common key and the rest its own, and draws its
  answers from its own seeded subset of ``answers_per_task`` answers of the shared
  vocabulary. A structured prompt's right answer is the top-scoring answer of the
  subset; an open-ended prompt's acceptable answers are the top ``open_acceptable``.
- **Pretraining.** The pretrained policy's preferences are the common key plus noise:
  it already half-knows every task, as an instruct model does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taskorder.learner.config import LearnerConfig

__all__ = ["Task", "World", "build_world"]

_WORLD_STREAM = 7101


@dataclass(frozen=True, eq=False)
class Task:
    """One synthetic task: prompts (features) and which answers each prompt accepts.

    Attributes
    ----------
    name : str
        Task name.
    kind : {"structured", "open"}
        Structured: one acceptable answer per prompt. Open: ``open_acceptable`` of them.
    train_features, test_features : ndarray, shape (n_prompts, n_features)
        Training and held-out prompts.
    train_accept, test_accept : ndarray of bool, shape (n_prompts, n_answers)
        Acceptable answers of each prompt.
    train_default, test_default : ndarray of int, shape (n_prompts,)
        The answer the pretrained policy prefers on each prompt.
    """

    name: str
    kind: str
    train_features: np.ndarray
    test_features: np.ndarray
    train_accept: np.ndarray
    test_accept: np.ndarray
    train_default: np.ndarray
    test_default: np.ndarray


@dataclass(frozen=True, eq=False)
class World:
    """All tasks of a learner.

    Attributes
    ----------
    tasks : tuple of Task
        In the order of :attr:`LearnerConfig.task_names`.
    """

    tasks: tuple[Task, ...]

    def task(self, name: str) -> Task:
        """The task called ``name`` (callers validate the name first)."""
        return self.tasks[[task.name for task in self.tasks].index(name)]


def _accept_mask(scores: np.ndarray, allowed: np.ndarray, n_accept: int) -> np.ndarray:
    masked = np.where(allowed, scores, -np.inf)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :n_accept]
    accept = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(accept, top, True, axis=1)
    return accept


def build_world(config: LearnerConfig) -> World:
    """Generate the tasks of ``config`` (deterministic in ``config.seed``).

    Examples
    --------
    >>> world = build_world(LearnerConfig(n_structured=1, n_open=1))
    >>> [(task.name, task.kind) for task in world.tasks]
    [('structured_0', 'structured'), ('open_0', 'open')]
    >>> world.tasks[1].test_accept.sum(axis=1)[:3].tolist()
    [4, 4, 4]
    """
    rng = np.random.default_rng([config.seed, _WORLD_STREAM])
    d, k = config.n_features, config.n_answers
    topics = rng.normal(size=(config.n_topics, d)) / np.sqrt(d) * 2.0
    common_key = rng.normal(size=(d, k))
    pretrained_key = common_key + 0.5 * rng.normal(size=(d, k))
    family_keys = {kind: rng.normal(size=(d, k)) for kind in ("structured", "open")}
    tasks = []
    for name in config.task_names:
        kind = "structured" if name.startswith("structured") else "open"
        mix = rng.dirichlet(np.full(config.n_topics, 0.7))
        center = mix @ topics
        own_key = rng.normal(size=(d, k))
        own_key = (
            np.sqrt(config.family_overlap) * family_keys[kind]
            + np.sqrt(1 - config.family_overlap) * own_key
        )
        key = np.sqrt(config.key_overlap) * common_key + np.sqrt(1 - config.key_overlap) * own_key
        allowed = np.zeros(k, dtype=bool)
        allowed[rng.choice(k, size=config.answers_per_task, replace=False)] = True
        n_accept = 1 if kind == "structured" else config.open_acceptable
        split = []
        defaults = []
        for n_prompts in (config.n_train_prompts, config.n_test_prompts):
            noise = rng.normal(size=(n_prompts, d)) * config.prompt_noise / np.sqrt(d)
            features = center + noise
            features /= np.linalg.norm(features, axis=1, keepdims=True)
            split.append((features, _accept_mask(features @ key, allowed, n_accept)))
            defaults.append(np.argmax(features @ pretrained_key, axis=1))
        (train_x, train_a), (test_x, test_a) = split
        tasks.append(Task(name, kind, train_x, test_x, train_a, test_a, defaults[0], defaults[1]))
    return World(tuple(tasks))
