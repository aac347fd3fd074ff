"""Exact solvers: they prove optimality (status ``optimal``)."""
