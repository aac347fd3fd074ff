"""Each task's part of GRPO's gradient, w.r.t. the final norm before the LM head.

``tac`` scores a task by how well its gradient aligns with the other tasks'. A
gradient per task over all parameters would cost a backward pass per task; this
module takes it w.r.t. the parameters of the model's *final norm* (``model.norm`` in
Llama/Qwen-style models: ``hidden_size`` numbers, plus a bias for LayerNorm), in one
of two ways:

``"backward"`` (default, no extra pass)
    During GRPO's own loss forward a hook on the final norm keeps its output ``y`` and
    registers a gradient hook on it; GRPO's own backward then hands over
    ``g = dL/dy`` for every completion. A completion's hidden states only feed its own
    log-probabilities, so row ``i`` of ``g`` is the gradient of completion ``i``'s loss
    term, and since ``y = w * x_hat + b``, the task's gradient w.r.t. ``w`` is
    ``sum_{i in task} sum_t g_it * x_hat_it`` with ``x_hat = (y - b) / w`` (channels
    with ``|w| < 1e-12`` get 0), and w.r.t. ``b`` it is ``sum g_it``. Summed over the
    tasks this is exactly the gradient GRPO's step puts on those parameters (tested).
``"autograd"``
    One ``torch.autograd.grad`` per task of the on-policy surrogate
    ``-sum_i A_i * sum_t log p_it`` (``mean_t`` for ``loss_type`` grpo/sapo) over the
    task's completions, on the loss's graph.
    Same direction as GRPO's gradient on-policy without KL, but each call recomputes
    TRL's fused LM head: kept to measure what the hook saves (see the benchmark).

Vectors are summed over a generation's micro-steps and divided by the task's number
of completions when the generation ends; sums are reduced over processes then.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from taskorder.checks import check_choice
from taskorder.exceptions import InvalidParameterError

__all__ = ["GRADIENT_METHODS", "TaskGradients", "final_norm_module"]

#: Ways :class:`TaskGradients` can take the per-task gradients.
GRADIENT_METHODS = ("backward", "autograd")


def final_norm_module(model: Any) -> Any:
    """The last module named ``...norm`` with a trainable ``weight``.

    In Llama/Qwen-style models that is the final norm before the LM head; if it is
    frozen, the last trainable norm inside the last layer is used instead.

    Raises
    ------
    InvalidParameterError
        If the model has none (the message lists what was looked for).
    """
    found = None
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if name.lower().endswith("norm") and weight is not None and weight.requires_grad:
            found = module
    if found is None:
        raise InvalidParameterError(
            f"The model {type(model).__name__} has no module named '...norm' with a trainable "
            "weight (the final norm before the LM head), which per-task gradients are taken "
            "from. Train the norm (e.g. add it to LoRA's modules_to_save) or use sec."
        )
    return found


class TaskGradients:
    """Per-task gradients w.r.t. the final norm, accumulated per generation batch.

    Parameters
    ----------
    model : torch.nn.Module
        The policy.
    n_tasks : int
        Number of task indices (rows of the per-task tables).
    method : {"backward", "autograd"}
        See the module docstring.

    Attributes
    ----------
    size : int
        Length of one task's gradient vector.
    seconds : float
        Time spent computing them (overhead measurement).
    """

    def __init__(self, model: Any, n_tasks: int, method: str = "backward") -> None:
        check_choice(method, GRADIENT_METHODS, "method", "TaskGradients")
        self.module = final_norm_module(model)
        bias = getattr(self.module, "bias", None)
        self.params = [self.module.weight] + (
            [bias] if bias is not None and bias.requires_grad else []
        )
        self.size = sum(p.numel() for p in self.params)
        self.n_tasks = int(n_tasks)
        self.method = method
        self.seconds = 0.0
        self.sums: dict[int, Any] = {}
        self.counts: dict[int, Any] = {}

    # ------------------------------------------------------------ accumulate
    @contextmanager
    def watch(self, generation: int, one_hot: Any) -> Iterator[None]:
        """Around GRPO's loss forward: catch the final norm's output gradient (``backward``)."""
        if self.method != "backward":
            yield
            return
        module = self.module

        def on_grad(grad: Any, output: Any) -> None:
            import torch

            started = time.perf_counter()
            weight = module.weight.detach()
            bias = getattr(module, "bias", None)
            centred = output if bias is None else output - bias.detach()
            usable = weight.abs() >= 1e-12
            x_hat = centred / torch.where(usable, weight, torch.ones_like(weight)) * usable
            parts = [(grad * x_hat).sum(dim=1)]  # (rows, hidden): per completion
            if len(self.params) > 1:
                parts.append(grad.sum(dim=1))
            rows = torch.cat(parts, dim=-1).double()
            self._add_table(generation, one_hot.T.double() @ rows, one_hot.sum(0))
            self.seconds += time.perf_counter() - started

        def forward_hook(_module: Any, _inputs: Any, output: Any) -> None:
            if getattr(output, "requires_grad", False):
                kept = output.detach()
                output.register_hook(lambda grad: on_grad(grad, kept))

        handle = module.register_forward_hook(forward_hook)
        try:
            yield
        finally:
            handle.remove()

    def autograd(
        self,
        generation: int,
        one_hot: Any,
        logps: Any,
        advantages: Any,
        mask: Any,
        *,
        sequence_mean: bool = False,
    ) -> None:
        """``method="autograd"``: one ``autograd.grad`` per task on the loss's graph.

        Parameters
        ----------
        generation : int
            The generation batch the micro-batch belongs to.
        one_hot : Tensor, shape (B, n_tasks)
            Each completion's task.
        logps : Tensor, shape (B, T)
            Per-token log-probabilities of the loss's forward (with their graph).
        advantages : Tensor, shape (B,)
            GRPO's advantages.
        mask : Tensor, shape (B, T)
            Completion-token mask.
        sequence_mean : bool
            Average each completion's tokens first (``loss_type`` grpo or sapo);
            otherwise tokens are summed (dapo, bnpo, dr_grpo, ... normalise by a
            constant, which does not change the direction).
        """
        import torch

        if self.method != "autograd":
            return
        started = time.perf_counter()
        advantages = advantages.detach().float()
        if advantages.dim() > 1:
            advantages = advantages.mean(-1)
        per_sequence = (logps * mask).sum(-1)
        if sequence_mean:
            per_sequence = per_sequence / mask.sum(-1).clamp(min=1.0)
        vectors = []
        for position in range(self.n_tasks):
            if one_hot[:, position].sum() == 0:
                vectors.append(torch.zeros(self.size, dtype=torch.float64, device=logps.device))
                continue
            surrogate = -(one_hot[:, position] * advantages * per_sequence).sum()
            parts = torch.autograd.grad(surrogate, self.params, retain_graph=True)
            vectors.append(torch.cat([g.detach().reshape(-1) for g in parts]).double())
        self._add_table(generation, torch.stack(vectors), one_hot.sum(0))
        self.seconds += time.perf_counter() - started

    def _add_table(self, generation: int, table: Any, counts: Any) -> None:
        """Add per-task sums ``(n_tasks, size)`` and completion counts ``(n_tasks,)``."""
        import torch

        table, counts = table.detach().double(), counts.detach().to(torch.float64)
        if generation in self.sums:
            self.sums[generation] = self.sums[generation] + table
            self.counts[generation] = self.counts[generation] + counts
        else:
            self.sums[generation], self.counts[generation] = table, counts

    # ------------------------------------------------------------------ take
    def take(self, generation: int, accelerator: Any) -> dict[int, np.ndarray]:
        """Per task index: its mean gradient over the generation (all processes), then forget it."""
        import torch

        sums = self.sums.pop(generation, None)
        counts = self.counts.pop(generation, None)
        if sums is None:
            sums = torch.zeros(self.n_tasks, self.size, dtype=torch.float64)
            counts = torch.zeros(self.n_tasks, dtype=torch.float64)
        table = torch.cat([counts.reshape(-1, 1), sums], dim=1)
        device = self.params[0].device
        table = accelerator.reduce(table.to(device), reduction="sum").cpu().numpy()
        return {
            position: table[position, 1:] / table[position, 0]
            for position in range(self.n_tasks)
            if table[position, 0] > 0
        }

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Unfinished generations' sums (JSON-ready), for a checkpoint inside a generation."""
        return {
            str(g): {"sums": self.sums[g].cpu().tolist(), "counts": self.counts[g].cpu().tolist()}
            for g in self.sums
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        import torch

        device = self.params[0].device
        self.sums = {
            int(g): torch.tensor(v["sums"], dtype=torch.float64, device=device)
            for g, v in state.items()
        }
        self.counts = {
            int(g): torch.tensor(v["counts"], dtype=torch.float64, device=device)
            for g, v in state.items()
        }
