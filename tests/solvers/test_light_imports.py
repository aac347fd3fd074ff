"""Solver modules import OR-tools only inside the functions that need it."""

import subprocess
import sys


def test_solver_modules_do_not_import_ortools():
    code = (
        "import sys, taskorder, taskorder.solvers, taskorder.solvers.exact.ilp, "
        "taskorder.solvers.exact.cpsat, taskorder.solvers.exact.ilp_model, "
        "taskorder.solvers.heuristics.local_search; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ortools'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
