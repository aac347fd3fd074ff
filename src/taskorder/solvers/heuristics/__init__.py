"""Heuristic solvers: fast answers without a proof of optimality."""
