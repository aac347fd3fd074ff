"""Solve the illustrative four-domain example with the library API.

Run: python examples/solve_four_domains.py

The matrix in four_domains.json is ILLUSTRATIVE (the shape a probe campaign produces),
not a measurement.
"""

from pathlib import Path

import taskorder

HERE = Path(__file__).parent

matrix = taskorder.read_matrix(HERE / "four_domains.json")
best = taskorder.solve(matrix)  # exact: the subset DP proves optimality for small n
rank = taskorder.solve(matrix, method="rank")  # the published least-to-most-forgettable rule

print("best order:     ", " -> ".join(best.order), f"({best.status})")
print("rank-rule order:", " -> ".join(rank.order))
print(
    f"objective: best {best.objective:+.3f}, rank rule {rank.objective:+.3f}, "
    f"random mean {best.baselines['random_mean']:+.3f}"
)
for task in best.order:
    print(f"  {task:17s} predicted final score {best.predicted[task]:.3f}")

# A constraint: creative writing must come last (e.g. it is the product's focus).
pinned = taskorder.solve(matrix, last="creative_writing")
print(
    "with creative_writing last:", " -> ".join(pinned.order), f"objective {pinned.objective:+.3f}"
)
