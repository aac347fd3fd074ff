"""The built-in learner: a small, real RL learner for fast, honest experiments.

What it is
----------
A shared-parameter softmax policy over a small answer vocabulary,
``pi(answer | prompt) = softmax(x @ W + b)`` with prompt features ``x``, trained the
way the TRL path trains (``update="grpo"``, the default; see
:mod:`taskorder.learner.training` and :mod:`taskorder.learner.grpo`): per step a
generation batch of prompts, drawn from a mixed stage's tasks by their shares;
``G`` sampled answers per prompt; group-normalised advantages (a group whose
rewards are all equal gives no signal); then a few Adam updates of the clipped
policy-ratio objective with a KL penalty to the stage-start policy. Each
``train`` call is one stage: fresh Adam state and a new reference, as a fresh
``GRPOTrainer`` per stage. ``update="sgd"`` is the earlier learner (expected
policy gradient, plain SGD), kept so its results can be reproduced. One ``W``
and ``b`` serve every task, so training one task really moves the others:
transfer and forgetting *arise* from training, they are not written into a formula.

Tasks (see :mod:`taskorder.learner.world`) come in two kinds:

- **structured** (``structured_i``): one verifiable answer per prompt, reward 1/0;
- **open-ended** (``open_i``): several acceptable answers per prompt; an answer
  earns ``1/c`` if acceptable and repeated ``c`` times in its group, so a group
  earns (distinct acceptable answers) / G: varied acceptable answers pay.

Tasks share latent topics in their prompts and a common component in their
answer keys (plus one per kind), so some pairs help and others hurt each other.

The starting state is "pretrained": a supervised warm-up (in closed form) towards
a default answer per prompt, scaled to a low mean entropy (0.5 nats by default),
as an instruct model is peaked. From there, structured training lowers entropy and
open-ended training raises it, the dynamic taskorder is about; from a uniform start
every kind of training would lower it.

Two modes
---------
- ``mode="sampled"``: groups are sampled (stochastic given the seed); evaluation
  samples groups too and reports a standard error.
- ``mode="exact"``: each step uses the exact expectation of the sampled update
  over the generation batch: every training prompt of every task of the stage,
  weighted by its share, and the advantages in expectation over the groups
  (:func:`taskorder.learner.grpo.expected_gradient`); evaluation is the exact
  expected reward. Deterministic and noise-free, so model adequacy can be told
  apart from sampling noise: exact mode follows the mean gradient of sampled mode.

Online stages
-------------
:func:`~taskorder.learner.online.train_online` trains one stage whose mixture an online
policy (:mod:`taskorder.online`: ``sec``, ``tac``, ``worst_task``) chooses before every
generation batch from the learner's own per-task signals (``|advantage|``, reward, and
per-task gradients for ``tac``); decisions are logged and a stage stopped mid-way
resumes exactly (:func:`~taskorder.learner.online.resume_online`).

What it is not
--------------
Not a language model: answers are single tokens, prompts are feature vectors and
the policy is linear. Magnitudes
(scores, entropies, BWT) are not predictions for an LLM; what carries over is the
*kind* of interaction (entropy moved in opposite directions by the two task kinds,
forgetting that depends on order). Use it to test the pipeline and the solvers, to
calibrate noise handling and to study order effects cheaply.

Quick start
-----------
>>> from taskorder.learner import make_learner
>>> runner = make_learner(n_structured=1, n_open=1)
>>> state = runner.train(runner.initial_state(seed=0), "structured_0", seed=0)
>>> round(runner.evaluate(state, "structured_0", seed=0).score, 2) > 0.3
True
"""

from taskorder.learner.config import LEARNER_VERSION, LearnerConfig, make_config
from taskorder.learner.online import OnlineCheckpoint, OnlineStage, resume_online, train_online
from taskorder.learner.runner import BuiltinRunner, LearnerState, make_learner

__all__ = [
    "LEARNER_VERSION",
    "BuiltinRunner",
    "LearnerConfig",
    "LearnerState",
    "OnlineCheckpoint",
    "OnlineStage",
    "make_config",
    "make_learner",
    "resume_online",
    "train_online",
]
