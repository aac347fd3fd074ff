"""The probe plan: which short runs measure the transfer matrix, and their seeds.

A campaign over tasks ``t_1 .. t_n`` with ``R`` repeats consists of three kinds of
probe, each identified by a *key* (a short string):

``base/r{r}``
    Evaluate every task at the starting state ``base_r = initial_state(init_seed_r)``.
``first/{i}/r{r}``
    Train ``base_r`` on task ``i`` (state ``theta_i``), save it, evaluate every task.
``second/{i}/{j}/r{r}``
    Load ``theta_i``, train on task ``j`` (state ``theta_ij``), evaluate every task.
    It depends on ``first/{i}/r{r}``; all second stages after ``i`` share that state.

From these (see :mod:`taskorder.estimate.estimates`)::

    bwt[i, j]     = score_i(theta_ij) - score_i(theta_i)
    forward[i, j] = score_j(theta_i)  - score_j(base)

following :data:`taskorder.SIGN_CONVENTION` (rows: the task trained earlier).

Seeds
-----
Every seed is derived from the campaign seed and a fixed string (:func:`taskorder.seeds.derive_seed`),
never from a counter or the execution order, so a probe gives the same result
whichever executor runs it, in whatever order, after however many restarts:

- ``init_seed`` of repeat ``r``: ``derive_seed(seed, "init", r)``; it is the same for
  all probes of the repeat, which therefore share one starting state.
- ``train_seed`` of a probe: ``derive_seed(seed, "train", key)``.
- ``eval_seed`` of repeat ``r``: ``derive_seed(seed, "eval", r)``; shared by every
  evaluation of the repeat (common random numbers: the same sampling noise enters
  both terms of a difference, which makes the differences less noisy).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from taskorder.exceptions import InvalidParameterError
from taskorder.seeds import derive_seed

__all__ = ["KINDS", "Probe", "ProbePlan", "make_plan", "probe_key"]

#: Probe kinds, in the order a campaign schedules them.
KINDS = ("base", "first", "second")


@dataclass(frozen=True)
class Probe:
    """One probe run: what to train, from which state, and its seeds.

    Attributes
    ----------
    key : str
        Unique name, e.g. ``"second/math/code/r0"``.
    kind : {"base", "first", "second"}
    task : str or None
        The first-stage task (``None`` for base probes).
    later : str or None
        The second-stage task (second probes only).
    repeat : int
        Repeat index ``r``.
    depends_on : str or None
        Key of the probe whose saved state this one starts from.
    init_seed, train_seed, eval_seed : int
        See the module docstring.
    steps : int
        Training steps of each stage.
    """

    key: str
    kind: str
    task: str | None
    later: str | None
    repeat: int
    depends_on: str | None
    init_seed: int
    train_seed: int
    eval_seed: int
    steps: int


def _check_name(name: str) -> None:
    if "/" in name or not name.strip():
        raise InvalidParameterError(
            f"Task names used in a probe plan must be non-empty and contain no '/'. Got {name!r}."
        )


@dataclass(frozen=True)
class ProbePlan:
    """The probes of one campaign. Build it with :func:`make_plan`.

    Attributes
    ----------
    tasks : tuple of str
        Tasks in the matrix, in matrix order.
    pairs : tuple of (str, str)
        Ordered pairs ``(earlier, later)`` whose backward transfer is measured.
    repeats : int
        Independent repeats (distinct init, train and evaluation seeds).
    steps : int
        Training steps of every stage.
    seed : int
        Campaign seed; every probe seed is derived from it.
    """

    tasks: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    repeats: int
    steps: int
    seed: int

    @property
    def n_pairs_total(self) -> int:
        """``n (n - 1)``: ordered pairs of the full matrix."""
        return len(self.tasks) * (len(self.tasks) - 1)

    def _probe(
        self, kind: str, task: str | None, later: str | None, r: int, depends: str | None = None
    ) -> Probe:
        key = probe_key(kind, task, later, repeat=r)
        return Probe(
            key,
            kind,
            task,
            later,
            r,
            depends,
            init_seed=derive_seed(self.seed, "init", r),
            train_seed=derive_seed(self.seed, "train", key),
            eval_seed=derive_seed(self.seed, "eval", r),
            steps=self.steps,
        )

    def probes(self) -> list[Probe]:
        """Every probe, base first, then first stages, then second stages."""
        out = []
        for r in range(self.repeats):
            out.append(self._probe("base", None, None, r))
            firsts = {task: self._probe("first", task, None, r) for task in self.tasks}
            out.extend(firsts.values())
            for earlier, later in self.pairs:
                out.append(self._probe("second", earlier, later, r, firsts[earlier].key))
        order = {kind: rank for rank, kind in enumerate(KINDS)}
        return sorted(out, key=lambda p: (order[p.kind], p.repeat, p.key))

    def to_dict(self) -> dict:
        """A JSON-ready description (recorded in the campaign store)."""
        return {
            "tasks": list(self.tasks),
            "pairs": [list(pair) for pair in self.pairs],
            "repeats": self.repeats,
            "steps": self.steps,
            "seed": self.seed,
        }


def probe_key(
    kind: str, task: str | None = None, later: str | None = None, *, repeat: int = 0
) -> str:
    """The key of a probe (see the module docstring): the one place the format is written.

    Parameters
    ----------
    kind : {"base", "first", "second"}
        Kind of probe.
    task : str, optional
        The task trained first (``first`` and ``second`` probes).
    later : str, optional
        The task trained second (``second`` probes).
    repeat : int, default 0
        Index of the repeat.

    Returns
    -------
    str
        ``kind[/task][/later]/r{repeat}``.

    Examples
    --------
    >>> probe_key("base"), probe_key("first", "a"), probe_key("second", "a", "b", repeat=1)
    ('base/r0', 'first/a/r0', 'second/a/b/r1')
    """
    return "/".join([kind, *(t for t in (task, later) if t is not None), f"r{repeat}"])


def make_plan(
    runner_tasks: Sequence[str],
    *,
    tasks: Sequence[str] | None = None,
    pairs: Iterable[Sequence[str]] | None = None,
    repeats: int = 1,
    steps: int = 40,
    seed: int = 0,
) -> ProbePlan:
    """Plan a probe campaign over (a subset of) a runner's tasks.

    Parameters
    ----------
    runner_tasks : sequence of str
        Every task the runner knows (``runner.tasks``).
    tasks : sequence of str, optional
        The tasks of the matrix (default: all of ``runner_tasks``), at least 2.
    pairs : iterable of (str, str), optional
        Ordered pairs ``(earlier, later)`` to measure (default: all ``n (n - 1)``).
        Pairs left out are reported as missing, never as 0.
    repeats : int, default 1
        Independent repeats; 2 or more give standard errors that include training noise.
    steps : int, default 40
        Training steps of every stage (first and second).
    seed : int, default 0
        Campaign seed.

    Returns
    -------
    ProbePlan

    Raises
    ------
    InvalidParameterError
        Unknown or repeated tasks, malformed pairs, or out-of-range numbers.

    Examples
    --------
    >>> plan = make_plan(["a", "b", "c"], repeats=2)
    >>> len(plan.probes()), plan.n_pairs_total
    (20, 6)
    >>> [p.key for p in make_plan(["a", "b"], pairs=[("a", "b")]).probes()]
    ['base/r0', 'first/a/r0', 'first/b/r0', 'second/a/b/r0']
    """
    known = tuple(runner_tasks)
    chosen = known if tasks is None else tuple(tasks)
    unknown = [task for task in chosen if task not in known]
    if unknown:
        raise InvalidParameterError(
            f"The 'tasks' parameter of make_plan must name tasks of the runner {list(known)}. "
            f"Got unknown tasks {unknown}."
        )
    if len(set(chosen)) != len(chosen) or len(chosen) < 2:
        raise InvalidParameterError(
            f"The 'tasks' parameter of make_plan must list at least 2 distinct tasks. Got {list(chosen)}."
        )
    for name in chosen:
        _check_name(name)
    if pairs is None:
        pair_list = list(itertools.permutations(chosen, 2))
    else:
        pair_list = []
        for pair in pairs:
            pair = tuple(pair)
            if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(chosen):
                raise InvalidParameterError(
                    "The 'pairs' parameter of make_plan must hold (earlier, later) pairs of two "
                    f"different tasks among {list(chosen)}. Got {pair!r}."
                )
            if pair not in pair_list:
                pair_list.append(pair)
    for name, value, low in (("repeats", repeats, 1), ("steps", steps, 0), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidParameterError(
                f"The {name!r} parameter of make_plan must be an integer >= {low}. Got {value!r}."
            )
    return ProbePlan(chosen, tuple(pair_list), repeats, steps, seed)
