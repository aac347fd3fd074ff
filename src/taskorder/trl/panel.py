"""Per-task training signals of ``GRPOTrainer``: the per-task panel and the online signals.

TRL logs reward, entropy, KL and the zero-std fraction for the whole batch only. With
several tasks in one run (a mixed or online stage), what each task is doing is lost.
:class:`TaskPanel` recovers it without copying trainer code: it wraps four methods
of one trainer *instance* (as :mod:`taskorder.trl.apply` wraps the sampler hook):

- ``_calculate_rewards``: keeps the rewards of every completion (all processes, one
  column per reward function) that GRPO normalises;
- ``_generate_and_score_completions``: reads each completion's task from the batch's
  task column, computes per task the mean reward, mean ``|advantage|`` (GRPO's own
  advantages) and the *zero-advantage rate* (share of groups whose rewards are all
  equal, so that they carry no gradient), and adds a ``taskorder_task`` tensor to
  the generation batch (GRPO shuffles and splits it with the other tensors);
- ``_get_per_token_logps_and_entropies``: keeps the log-probabilities and entropies
  that ``_compute_loss`` computes for the loss (no extra forward pass);
- ``_compute_loss``: after GRPO's loss, averages entropy and KL to the reference
  per task over completion tokens and, when asked, takes each task's policy-gradient
  w.r.t. a small parameter subset (for gradient-alignment policies).

Per-task values go into GRPO's metric buffer under ``panel/<task>/<metric>``, so they
are averaged and written at every logging step with TRL's own ``reward`` and
``entropy``. After a generation's last micro-step, its per-task
:class:`~taskorder.online.policies.TaskSignal` objects are handed to every listener
(the online sampler).

KL to the reference exists only when ``beta > 0`` (otherwise TRL loads no reference
model); the panel then logs no ``kl``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError

__all__ = ["GenerationTaskStats", "TaskPanel", "generation_task_stats", "gradient_parameters"]

#: Key of the per-completion task index that the panel adds to GRPO's batches.
TASK_KEY = "taskorder_task"
#: Parameter subsets :func:`gradient_parameters` knows.
GRADIENT_SUBSETS = ("final_norm", "lm_head")


@dataclass(frozen=True)
class GenerationTaskStats:
    """One task's statistics in one generation batch.

    Attributes
    ----------
    reward : float
        Mean (weighted-sum) reward of the task's completions; NaN if none was scorable.
    mean_abs_advantage : float
        Mean ``|advantage|`` of the task's completions (GRPO's advantages).
    zero_advantage_rate : float
        Share of the task's groups whose rewards are all equal.
    groups : int
        Number of the task's groups (prompts) in the batch.
    """

    reward: float
    mean_abs_advantage: float
    zero_advantage_rate: float
    groups: int


def generation_task_stats(
    tasks: Sequence[str],
    rewards: Any,
    advantages: Any,
    num_generations: int,
) -> dict[str, GenerationTaskStats]:
    """Per-task reward, ``|advantage|`` and zero-advantage rate of one generation batch.

    Parameters
    ----------
    tasks : sequence of str
        Task of every completion, in batch order (groups are ``num_generations``
        consecutive completions of one prompt).
    rewards : array-like, shape (n,)
        Each completion's reward (NaN: unscorable).
    advantages : array-like, shape (n,)
        Each completion's advantage.
    num_generations : int
        Group size.

    Returns
    -------
    dict of str to GenerationTaskStats
        For every task present, in order of first appearance.

    Raises
    ------
    InvalidParameterError
        If the lengths differ or are not a whole number of groups, or a group mixes tasks.

    Examples
    --------
    >>> stats = generation_task_stats(
    ...     ["a", "a", "b", "b", "a", "a"], [1, 1, 0, 1, 0, 1], [0, 0, -1, 1, -1, 1], 2
    ... )
    >>> stats["a"]
    GenerationTaskStats(reward=0.75, mean_abs_advantage=0.5, zero_advantage_rate=0.5, groups=2)
    >>> stats["b"].zero_advantage_rate
    0.0
    """
    rewards = np.asarray(rewards, dtype=float).reshape(-1)
    advantages = np.asarray(advantages, dtype=float).reshape(-1)
    n = len(tasks)
    if rewards.shape != (n,) or advantages.shape != (n,) or n % num_generations:
        raise InvalidParameterError(
            f"generation_task_stats needs one reward and one advantage per completion and a "
            f"whole number of groups of {num_generations}. Got {n} tasks, {rewards.size} "
            f"rewards, {advantages.size} advantages."
        )
    group_task: list[str] = []
    zero: list[bool] = []
    for start in range(0, n, num_generations):
        members = set(tasks[start : start + num_generations])
        if len(members) != 1:
            raise InvalidParameterError(
                f"The group of completions {start}..{start + num_generations - 1} mixes tasks "
                f"{sorted(members)}; a GRPO group is one prompt of one task."
            )
        group = rewards[start : start + num_generations]
        valid = group[~np.isnan(group)]
        group_task.append(tasks[start])
        zero.append(valid.size == 0 or bool(np.allclose(valid, valid[0], rtol=0, atol=1e-8)))
    labels = np.asarray(list(tasks), dtype=object)
    stats: dict[str, GenerationTaskStats] = {}
    for task in dict.fromkeys(tasks):
        mine = labels == task
        scored = rewards[mine][~np.isnan(rewards[mine])]
        flags = [flag for flag, owner in zip(zero, group_task) if owner == task]
        stats[task] = GenerationTaskStats(
            reward=float(scored.mean()) if scored.size else float("nan"),
            mean_abs_advantage=float(np.abs(advantages[mine]).mean()),
            zero_advantage_rate=float(np.mean(flags)),
            groups=len(flags),
        )
    return stats


def gradient_parameters(model: Any, subset: str = "final_norm") -> list[Any]:
    """The trainable parameters per-task gradients are taken with respect to.

    ``final_norm``: the last parameter whose name contains ``norm`` (the norm before
    the LM head in Llama/Qwen-style models); ``lm_head``: the output embedding matrix.
    Gradients w.r.t. these only back-propagate through the head, so they cost a
    fraction of a step.

    Raises
    ------
    InvalidParameterError
        If ``subset`` is unknown or the model has no such trainable parameter.
    """
    if subset == "lm_head":
        head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
        params = [] if head is None else [p for p in head.parameters() if p.requires_grad]
    elif subset == "final_norm":
        norms = [
            p for name, p in model.named_parameters() if "norm" in name.lower() and p.requires_grad
        ]
        params = norms[-1:]
    else:
        raise InvalidParameterError(
            f"The 'gradient_subset' parameter must be one of {', '.join(GRADIENT_SUBSETS)}. "
            f"Got {subset!r}."
        )
    if not params:
        raise InvalidParameterError(
            f"The model {type(model).__name__} has no trainable {subset!r} parameter to take "
            f"per-task gradients from; use another of {', '.join(GRADIENT_SUBSETS)}."
        )
    return params


class TaskPanel:
    """Per-task GRPO metrics at every logging step, and per-task signals per generation.

    Parameters
    ----------
    trainer : trl.GRPOTrainer
        The trainer to instrument (its train dataset needs ``task_column``).
    task_column : str, default "task"
        Column naming each row's task.
    gradients : bool, default False
        Also take each task's policy gradient w.r.t. ``gradient_subset`` at every
        micro-step (the gradient-alignment signal of ``tac``).
    gradient_subset : str, default "final_norm"
        See :func:`gradient_parameters`.

    Attributes
    ----------
    tasks : tuple of str
        The dataset's tasks (fixed order; index of the ``taskorder_task`` tensor).
    listeners : list of callable
        Called as ``listener(generation, signals)`` after a generation's last
        micro-step, with ``signals`` a dict task -> ``TaskSignal``.
    gradient_seconds : float
        Time spent on per-task gradients (overhead measurement).
    gradient_generations : callable or None
        ``f(generation) -> bool``: take gradients only for these generation batches
        (``None``: all); the online sampler limits them to its gradient-reading stages.

    Notes
    -----
    Call :meth:`install` once. The per-task gradient is the gradient of GRPO's on-policy
    surrogate ``-mean_i(A_i * mean_t log p_it)`` over the task's completions (the
    clipped ratio equals 1 on-policy; the KL term is left out), summed over the
    generation's micro-steps and divided by the task's completion count.
    """

    @classmethod
    def of(cls, trainer: Any, *, task_column: str = "task", gradients: bool = False) -> TaskPanel:
        """The panel installed on ``trainer``, installing one if there is none.

        Asking for ``gradients`` switches them on in an existing panel.
        """
        panel = getattr(trainer, "_taskorder_panel", None)
        if panel is None:
            panel = cls(trainer, task_column=task_column, gradients=gradients).install()
            trainer._taskorder_panel = panel
        elif gradients and not panel.gradients:
            panel._params = gradient_parameters(trainer.model, panel.gradient_subset)
            panel.gradients = True
        return panel

    def __init__(
        self,
        trainer: Any,
        *,
        task_column: str = "task",
        gradients: bool = False,
        gradient_subset: str = "final_norm",
    ) -> None:
        dataset = getattr(trainer, "train_dataset", None)
        names = list(getattr(dataset, "column_names", None) or [])
        if task_column not in names:
            raise InvalidParameterError(
                f"TaskPanel needs a train dataset with a {task_column!r} column; its columns "
                f"are {names}."
            )
        self.trainer = trainer
        self.task_column = task_column
        self.tasks = tuple(dict.fromkeys(str(t) for t in dataset[task_column]))
        self.gradients = bool(gradients)
        self.gradient_subset = gradient_subset
        self._params = gradient_parameters(trainer.model, gradient_subset) if gradients else []
        self.listeners: list[Callable[[int, dict[str, Any]], None]] = []
        self.gradient_generations: Callable[[int], bool] | None = None
        self.gradient_seconds = 0.0
        self._rewards: Any = None
        self._captured: Any = None
        self._capturing = False
        self._pending: dict[int, dict[str, Any]] = {}
        self._installed = False

    # -------------------------------------------------------------- install
    def install(self) -> TaskPanel:
        """Wrap the trainer's methods (once) and return ``self``."""
        if self._installed:
            return self
        trainer = self.trainer
        originals = {
            name: getattr(trainer, name)
            for name in (
                "_calculate_rewards",
                "_generate_and_score_completions",
                "_get_per_token_logps_and_entropies",
                "_compute_loss",
            )
        }
        self._originals = originals

        def calculate_rewards(*args, **kwargs):
            rewards = originals["_calculate_rewards"](*args, **kwargs)
            self._rewards = rewards
            return rewards

        def generate_and_score(inputs):
            if not trainer.model.training:
                return originals["_generate_and_score_completions"](inputs)
            return self._on_generation(inputs, originals["_generate_and_score_completions"])

        def logps_and_entropies(*args, **kwargs):
            result = originals["_get_per_token_logps_and_entropies"](*args, **kwargs)
            if self._capturing and kwargs.get("compute_entropy"):
                self._captured = result
            return result

        def compute_loss(model, inputs):
            if not trainer.model.training or TASK_KEY not in inputs:
                return originals["_compute_loss"](model, inputs)
            self._capturing, self._captured = True, None
            try:
                loss = originals["_compute_loss"](model, inputs)
            finally:
                self._capturing = False
            self._on_loss(inputs)
            return loss

        trainer._calculate_rewards = calculate_rewards
        trainer._generate_and_score_completions = generate_and_score
        trainer._get_per_token_logps_and_entropies = logps_and_entropies
        trainer._compute_loss = compute_loss
        self._installed = True
        return self

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """The unfinished generations' accumulators, JSON-serialisable (for checkpoints)."""
        return {
            str(generation): {
                "stats": {t: asdict(v) for t, v in pending["stats"].items()},
                "gradient": {t: np.asarray(g).tolist() for t, g in pending["gradient"].items()},
                "count": dict(pending["count"]),
            }
            for generation, pending in self._pending.items()
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (a run resumed in the middle of a generation)."""
        self._pending = {
            int(generation): {
                "stats": {t: GenerationTaskStats(**v) for t, v in pending["stats"].items()},
                "gradient": {
                    t: np.asarray(g, dtype=float) for t, g in pending["gradient"].items()
                },
                "count": {t: float(c) for t, c in pending["count"].items()},
            }
            for generation, pending in state.items()
        }

    # ------------------------------------------------------------ internals
    def _generation(self) -> int:
        trainer = self.trainer
        return int(trainer._step) // (int(trainer.args.steps_per_generation) * int(trainer.num_iterations))

    def _log(self, task: str, metric: str, value: float) -> None:
        self.trainer._metrics["train"][f"panel/{task}/{metric}"].append(float(value))

    def _on_generation(self, inputs: list[dict[str, Any]], original: Callable) -> dict[str, Any]:
        import torch
        from accelerate.utils import gather_object

        trainer = self.trainer
        local_tasks = [str(row[self.task_column]) for row in inputs]
        unknown = sorted(set(local_tasks) - set(self.tasks))
        if unknown:
            raise InvalidParameterError(
                f"The batch has rows of tasks {unknown} that the train dataset did not have "
                f"when TaskPanel was installed ({list(self.tasks)})."
            )
        self._rewards = None
        output = original(inputs)
        if self._rewards is None:
            raise InvalidParameterError(
                "TaskPanel did not see GRPO's rewards (_calculate_rewards was not called); this "
                "TRL version scores completions differently. Remove the panel or pin trl 1.16."
            )
        all_tasks = [str(t) for t in gather_object(local_tasks)]
        per_func = self._rewards.detach().float().cpu()
        weights = trainer.reward_weights.detach().float().cpu()
        rewards = (per_func * weights.unsqueeze(0)).nansum(dim=1)
        rewards[torch.isnan(per_func).all(dim=1)] = float("nan")
        advantages = trainer.accelerator.gather(output["advantages"].detach()).float().cpu()
        stats = generation_task_stats(
            all_tasks, rewards.numpy(), advantages.numpy(), int(trainer.num_generations)
        )
        for task, values in stats.items():
            self._log(task, "reward", values.reward)
            self._log(task, "abs_advantage", values.mean_abs_advantage)
            self._log(task, "zero_advantage_rate", values.zero_advantage_rate)
            self._log(task, "groups", values.groups)
        self._pending[self._generation()] = {
            "stats": stats,
            "gradient": {},
            "count": {},
        }
        index = {task: position for position, task in enumerate(self.tasks)}
        output[TASK_KEY] = torch.tensor(
            [index[t] for t in local_tasks], device=output["advantages"].device
        )
        return output

    def _on_loss(self, inputs: Mapping[str, Any]) -> None:
        import torch

        trainer = self.trainer
        if self._captured is None:
            raise InvalidParameterError(
                "TaskPanel did not see the log-probabilities of GRPO's loss; this TRL version "
                "computes them differently. Remove the panel or pin trl 1.16."
            )
        logps, entropies, _ = self._captured
        self._captured = None
        task_ids = inputs[TASK_KEY]
        mask = inputs["completion_mask"]
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        mask = mask.float()
        n_tasks = len(self.tasks)
        one_hot = torch.nn.functional.one_hot(task_ids.long(), n_tasks).float()  # (B, n)
        tokens = one_hot.T @ mask.sum(-1)
        rows = [(one_hot.T @ (entropies.detach() * mask).sum(-1))]
        has_kl = "ref_per_token_logps" in inputs and trainer.beta != 0.0
        if has_kl:
            delta = inputs["ref_per_token_logps"] - logps.detach()
            kl = torch.exp(delta) - delta - 1
            rows.append(one_hot.T @ (kl * mask).sum(-1))
        totals = trainer.accelerator.reduce(torch.stack([tokens, *rows]), reduction="sum")
        for position, task in enumerate(self.tasks):
            count = float(totals[0, position])
            if count > 0:
                self._log(task, "entropy", float(totals[1, position]) / count)
                if has_kl:
                    self._log(task, "kl", float(totals[2, position]) / count)
        generation = self._generation()
        pending = self._pending.get(generation)
        wanted = self.gradient_generations is None or self.gradient_generations(generation)
        if pending is not None and self.gradients and wanted:
            self._task_gradients(pending, logps, inputs["advantages"], mask, one_hot)
        per_generation = int(trainer.args.steps_per_generation) * int(trainer.num_iterations)
        if pending is not None and int(trainer._step) % per_generation == per_generation - 1:
            finished = self._pending.pop(generation)
            if self.listeners:
                self._deliver(generation, finished)

    def _task_gradients(self, pending, logps, advantages, mask, one_hot) -> None:
        import time

        import torch

        started = time.perf_counter()
        advantages = advantages.detach().float()
        if advantages.dim() > 1:
            advantages = advantages.mean(-1)
        per_sequence = (logps * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)
        counts = one_hot.sum(0)
        grads = []
        for position in range(len(self.tasks)):
            if counts[position] == 0:
                grads.append(torch.zeros(sum(p.numel() for p in self._params)))
                continue
            surrogate = -(one_hot[:, position] * advantages * per_sequence).sum()
            parts = torch.autograd.grad(
                surrogate, self._params, retain_graph=True, allow_unused=True
            )
            grads.append(
                torch.cat(
                    [
                        (torch.zeros_like(p) if g is None else g).detach().float().reshape(-1)
                        for g, p in zip(parts, self._params)
                    ]
                ).cpu()
            )
        table = torch.cat([counts.float().reshape(-1, 1).cpu(), torch.stack(grads)], dim=1)
        reduced = self.trainer.accelerator.reduce(table.to(counts.device), reduction="sum").cpu()
        for position, task in enumerate(self.tasks):
            count = float(reduced[position, 0])
            if count > 0:
                vector = reduced[position, 1:].numpy().astype(float)
                pending["gradient"][task] = pending["gradient"].get(task, 0.0) + vector
                pending["count"][task] = pending["count"].get(task, 0.0) + count
        self.gradient_seconds += time.perf_counter() - started

    def _deliver(self, generation: int, pending: dict[str, Any]) -> None:
        from taskorder.online.policies import TaskSignal

        signals = {}
        for task, stats in pending["stats"].items():
            gradient = None
            if task in pending["gradient"]:
                gradient = pending["gradient"][task] / pending["count"][task]
            signals[task] = TaskSignal(
                task=task,
                mean_abs_advantage=stats.mean_abs_advantage,
                mean_reward=stats.reward,
                groups=stats.groups,
                gradient=gradient,
            )
        for listener in self.listeners:
            listener(generation, signals)
