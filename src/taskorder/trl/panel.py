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
  per task over completion tokens and, when asked, collects each task's part of the
  gradient (:mod:`taskorder.trl.task_gradients`, for gradient-alignment policies);
- ``training_step``: after a generation's last micro-step (its backward included),
  hands the generation's per-task signals to the listeners.

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
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from taskorder.exceptions import InvalidParameterError

__all__ = ["GenerationTaskStats", "TaskPanel", "generation_task_stats"]

#: Key of the per-completion task index that the panel adds to GRPO's batches.
TASK_KEY = "taskorder_task"


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


class TaskPanel:
    """Per-task GRPO metrics at every logging step, and per-task signals per generation.

    Parameters
    ----------
    trainer : trl.GRPOTrainer
        The trainer to instrument (its train dataset needs ``task_column``).
    task_column : str, default "task"
        Column naming each row's task.
    gradients : bool, default False
        Also collect each task's gradient w.r.t. the final norm (the
        gradient-alignment signal of ``tac``).
    gradient_method : {"backward", "autograd"}
        How (:class:`~taskorder.trl.task_gradients.TaskGradients`); ``backward`` reads
        GRPO's own backward pass and costs no extra pass.

    Attributes
    ----------
    tasks : tuple of str
        The dataset's tasks (fixed order; index of the ``taskorder_task`` tensor).
    listeners : list of callable
        Called as ``listener(generation, signals)`` after a generation's last
        micro-step, with ``signals`` a dict task -> ``TaskSignal``.
    task_gradients : TaskGradients or None
        The gradient collector (``seconds``: time spent, for overhead measurement).
    gradient_generations : callable or None
        ``f(generation) -> bool``: take gradients only for these generation batches
        (``None``: all); the online sampler limits them to its gradient-reading stages.

    Notes
    -----
    Call :meth:`install` once (or use :meth:`of`, which installs one panel per trainer).
    """

    @classmethod
    def of(cls, trainer: Any, *, task_column: str = "task", gradients: bool = False) -> TaskPanel:
        """The panel installed on ``trainer``, installing one if there is none.

        Parameters
        ----------
        trainer : trl.GRPOTrainer
            The trainer.
        task_column : str
            Column naming each row's task (for a new panel).
        gradients : bool
            Collect per-task gradients; switches them on in an existing panel too.
        """
        panel = getattr(trainer, "_taskorder_panel", None)
        if panel is None:
            panel = cls(trainer, task_column=task_column, gradients=gradients).install()
            trainer._taskorder_panel = panel
        elif gradients and panel.task_gradients is None:
            from taskorder.trl.task_gradients import TaskGradients

            panel.task_gradients = TaskGradients(trainer.model, len(panel.tasks))
        return panel

    def __init__(
        self,
        trainer: Any,
        *,
        task_column: str = "task",
        gradients: bool = False,
        gradient_method: str = "backward",
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
        self.task_gradients = None
        if gradients:
            from taskorder.trl.task_gradients import TaskGradients

            self.task_gradients = TaskGradients(trainer.model, len(self.tasks), gradient_method)
        self.listeners: list[Callable[[int, dict[str, Any]], None]] = []
        self.gradient_generations: Callable[[int], bool] | None = None
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
        names = (
            "_calculate_rewards",
            "_generate_and_score_completions",
            "_get_per_token_logps_and_entropies",
            "_compute_loss",
            "training_step",
        )
        missing = [name for name in names if not hasattr(trainer, name)]
        if missing:
            raise InvalidParameterError(
                f"TaskPanel wraps GRPOTrainer methods {list(names)} (trl 1.16); "
                f"{type(trainer).__name__} has no {missing}. Remove the panel "
                "(StageCallbackConfig(panel=False)) or pin trl 1.16."
            )
        originals = {name: getattr(trainer, name) for name in names}
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
            import torch

            generation = self._generation()
            one_hot = torch.nn.functional.one_hot(inputs[TASK_KEY].long(), len(self.tasks))
            gradients = self._gradients_for(generation)
            self._capturing, self._captured = True, None
            try:
                with gradients.watch(generation, one_hot) if gradients else nullcontext():
                    loss = originals["_compute_loss"](model, inputs)
            finally:
                self._capturing = False
            self._on_loss(inputs, one_hot.float(), generation, gradients)
            return loss

        def training_step(*args, **kwargs):
            output = originals["training_step"](*args, **kwargs)
            self._on_step_done()
            return output

        trainer._calculate_rewards = calculate_rewards
        trainer._generate_and_score_completions = generate_and_score
        trainer._get_per_token_logps_and_entropies = logps_and_entropies
        trainer._compute_loss = compute_loss
        trainer.training_step = training_step
        self._installed = True
        return self

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Unfinished generations (stats, gradient sums), JSON-serialisable (for checkpoints)."""
        return {
            "stats": {
                str(g): {t: asdict(v) for t, v in stats.items()}
                for g, stats in self._pending.items()
            },
            "gradients": None if self.task_gradients is None else self.task_gradients.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (a run resumed in the middle of a generation)."""
        self._pending = {
            int(g): {t: GenerationTaskStats(**v) for t, v in stats.items()}
            for g, stats in state["stats"].items()
        }
        if self.task_gradients is not None and state.get("gradients") is not None:
            self.task_gradients.load_state_dict(state["gradients"])

    # ------------------------------------------------------------ internals
    def _generation(self) -> int:
        trainer = self.trainer
        return int(trainer._step) // (
            int(trainer.args.steps_per_generation) * int(trainer.num_iterations)
        )

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
        self._pending[self._generation()] = stats
        index = {task: position for position, task in enumerate(self.tasks)}
        output[TASK_KEY] = torch.tensor(
            [index[t] for t in local_tasks], device=output["advantages"].device
        )
        return output

    def _gradients_for(self, generation: int) -> Any:
        wanted = self.gradient_generations is None or self.gradient_generations(generation)
        return self.task_gradients if wanted else None

    def _on_loss(self, inputs: Mapping[str, Any], one_hot: Any, generation: int, gradients: Any):
        import torch

        trainer = self.trainer
        if self._captured is None:
            raise InvalidParameterError(
                "TaskPanel did not see the log-probabilities of GRPO's loss; this TRL version "
                "computes them differently. Remove the panel or pin trl 1.16."
            )
        logps, entropies, _ = self._captured
        self._captured = None
        mask = inputs["completion_mask"]
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        mask = mask.float()
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
        if gradients is not None:
            gradients.autograd(
                generation,
                one_hot,
                logps,
                inputs["advantages"],
                mask,
                sequence_mean=getattr(trainer, "loss_type", "") in ("grpo", "sapo"),
            )

    def _on_step_done(self) -> None:
        """After a micro-step's backward: hand over the generation it finished, if any."""
        trainer = self.trainer
        per_generation = int(trainer.args.steps_per_generation) * int(trainer.num_iterations)
        done = int(trainer._step) - 1  # GRPOTrainer.training_step has counted it
        if done % per_generation != per_generation - 1:
            return
        generation = done // per_generation
        stats = self._pending.pop(generation, None)
        gradients = self._gradients_for(generation)
        vectors = gradients.take(generation, trainer.accelerator) if gradients else {}
        if stats is not None and self.listeners:
            self._deliver(generation, stats, vectors)

    def _deliver(self, generation: int, stats: dict[str, Any], vectors: dict[int, Any]) -> None:
        from taskorder.online.policies import TaskSignal

        signals = {
            task: TaskSignal(
                task=task,
                mean_abs_advantage=values.mean_abs_advantage,
                mean_reward=values.reward,
                groups=values.groups,
                gradient=vectors.get(self.tasks.index(task)),
            )
            for task, values in stats.items()
        }
        for listener in self.listeners:
            listener(generation, signals)
