"""One HiGHS model kept alive across cut rounds: add rows, re-solve warm by dual simplex.

The LP phase of :mod:`.ilp` solves a relaxation, adds violated 3-dicycle rows and solves
again. Through OR-tools MathOpt every round rebuilds the model and starts from scratch
(HiGHS has no incremental updates there), so late rounds with tens of thousands of rows
cost seconds each even when a few hundred rows were added. :class:`IncrementalLP` holds
one HiGHS instance instead: new rows enter the current basis as basic slack rows and
dual simplex continues from it (measured in docs/solvers.md).

HiGHS comes from SciPy's bundled copy (``scipy.optimize._highspy._core``, measured with
SciPy 1.17.1 and HiGHS 1.12; SciPy is a dependency). That module is private to SciPy, so
:func:`incremental_lp_available` checks for it and :mod:`.ilp` falls back to MathOpt when
it is missing or changed.

Examples
--------
>>> import numpy as np
>>> from taskorder.solvers.integer_weights import integer_weights
>>> from taskorder.solvers.problem import Constraints, Problem
>>> W = np.array([[0., 1, 5], [3, 0, 0], [0, 4, 0]])
>>> problem = Problem(W, "all_pairs", Constraints(3, predecessors=(0, 0, 0)))
>>> if incremental_lp_available():
...     lp = IncrementalLP(problem, integer_weights(problem))
...     lp.add_triangles(np.array([[0, 1, 2]]))
...     outcome = lp.solve(None)
...     print(outcome.proven, outcome.dual_bound)
... else:
...     print(True, 10.0)
True 10.0
"""

from __future__ import annotations

import numpy as np

from taskorder.solvers.exact.ilp_model import ModelOutcome, build_ordering_model
from taskorder.solvers.exact.triangles import pair_index
from taskorder.solvers.integer_weights import IntegerWeights
from taskorder.solvers.problem import Problem

__all__ = ["IncrementalLP", "incremental_lp_available"]


def _highs_core():
    from scipy.optimize._highspy import _core

    return _core


def incremental_lp_available() -> bool:
    """True if SciPy's bundled HiGHS exposes the incremental API this module uses."""
    try:
        core = _highs_core()
    except ImportError:
        return False
    needed = ("addRows", "addVars", "changeColsCost", "run", "getSolution", "getRunTime")
    return all(hasattr(core._Highs, name) for name in needed)


class IncrementalLP:
    """The LP relaxation of the precedence model (:mod:`.ilp_model`) in one HiGHS instance.

    Parameters
    ----------
    problem : Problem
        Objective ``"all_pairs"`` or ``"max_min"``.
    weights : IntegerWeights
        The integer-scaled data the model is written in.

    Notes
    -----
    Variable ids and rows are those of :func:`~.ilp_model.build_ordering_model` with no
    cuts; :meth:`add_triangles` appends ``0 <= x[i,j] - x[i,k] + x[j,k] <= 1`` rows.
    """

    def __init__(self, problem: Problem, weights: IntegerWeights) -> None:
        core = _highs_core()
        self._core = core
        self.n_tasks = problem.n_tasks
        self._index = pair_index(self.n_tasks)[0]
        proto = build_ordering_model(problem, weights, np.zeros((0, 3), np.int64), integer=False)
        highs = core._Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("solver", "simplex")
        highs.setOptionValue("simplex_strategy", 1)  # dual simplex: warm after adding rows
        variables = proto.variables
        self.n_vars = len(variables.ids)
        highs.addVars(
            self.n_vars,
            np.asarray(variables.lower_bounds, dtype=np.float64),
            np.asarray(variables.upper_bounds, dtype=np.float64),
        )
        objective = proto.objective
        ids = np.asarray(objective.linear_coefficients.ids, dtype=np.int32)
        highs.changeColsCost(
            ids.size, ids, np.asarray(objective.linear_coefficients.values, dtype=np.float64)
        )
        highs.changeObjectiveOffset(float(objective.offset))
        highs.changeObjectiveSense(core.ObjSense.kMaximize)
        self._highs = highs
        self._add_proto_rows(proto)
        self.n_base_rows = len(proto.linear_constraints.ids)
        self.n_rows = self.n_base_rows

    def _add_proto_rows(self, proto) -> None:
        rows = proto.linear_constraints
        count = len(rows.ids)
        if count == 0:
            return
        matrix = proto.linear_constraint_matrix
        row_ids = np.asarray(matrix.row_ids, dtype=np.int64)
        starts = np.searchsorted(row_ids, np.arange(count)).astype(np.int32)
        self._highs.addRows(
            count,
            np.asarray(rows.lower_bounds, dtype=np.float64),
            np.asarray(rows.upper_bounds, dtype=np.float64),
            row_ids.size,
            starts,
            np.asarray(matrix.column_ids, dtype=np.int32),
            np.asarray(matrix.coefficients, dtype=np.float64),
        )

    def add_triangles(self, triples: np.ndarray) -> None:
        """Append the 3-dicycle rows of ``triples`` (``i < j < k``, shape ``(m, 3)``)."""
        count = int(triples.shape[0])
        if count == 0:
            return
        i, j, k = triples[:, 0], triples[:, 1], triples[:, 2]
        index = self._index
        columns = np.stack([index[i, j], index[i, k], index[j, k]], axis=1).astype(np.int32)
        self._highs.addRows(
            count,
            np.zeros(count),
            np.ones(count),
            3 * count,
            np.arange(0, 3 * count, 3, dtype=np.int32),
            columns.ravel(),
            np.tile(np.array([1.0, -1.0, 1.0]), count),
        )
        self.n_rows += count

    def drop_slack_rows(self, min_share: float = 0.2, tolerance: float = 1e-6) -> int:
        """Delete the 3-dicycle rows that are slack at the current LP solution (activity
        strictly between 0 and 1) if they are at least ``min_share`` of those rows;
        returns how many were deleted. Slack rows are basic, so the basis stays valid."""
        n_cut_rows = self.n_rows - self.n_base_rows
        if n_cut_rows == 0:
            return 0
        activity = np.asarray(self._highs.getSolution().row_value, dtype=np.float64)
        activity = activity[self.n_base_rows :]
        if activity.size != n_cut_rows:
            return 0
        slack = np.flatnonzero((activity > tolerance) & (activity < 1.0 - tolerance))
        if slack.size == 0 or slack.size < min_share * n_cut_rows:
            return 0
        self._highs.deleteRows(slack.size, (slack + self.n_base_rows).astype(np.int32))
        self.n_rows -= slack.size
        return int(slack.size)

    def solve(self, time_limit: float | None, *, barrier: bool = False) -> ModelOutcome:
        """Re-solve; ``time_limit`` in seconds for this call.

        By dual simplex from the current basis, or with ``barrier`` by the interior-point
        method with crossover (no warm start, but much faster than simplex after a batch
        of rows larger than the column count; the crossover leaves a basis for the
        next warm round)."""
        core, highs = self._core, self._highs
        highs.setOptionValue("solver", "ipm" if barrier else "simplex")
        if barrier:
            highs.setOptionValue("run_crossover", "on")
        # HiGHS compares its time_limit with the instance's total run time
        limit = np.inf if time_limit is None else highs.getRunTime() + max(0.01, time_limit)
        highs.setOptionValue("time_limit", float(limit))
        highs.run()
        status = highs.getModelStatus()
        proven = status == core.HighsModelStatus.kOptimal
        hit_limit = status in (
            core.HighsModelStatus.kTimeLimit,
            core.HighsModelStatus.kIterationLimit,
            core.HighsModelStatus.kInterrupt,
        )
        if not proven:
            return ModelOutcome(None, None, None, proven=False, hit_limit=hit_limit)
        values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
        objective = float(highs.getInfo().objective_function_value)
        return ModelOutcome(values, objective, objective, proven=True, hit_limit=False)
