"""Render the tables of docs/real-lm.md from the committed raw outputs of benchmarks/real_lm.py.

    python benchmarks/real_lm_report.py            # print the markdown
    python benchmarks/real_lm_report.py --write    # replace the block in docs/real-lm.md

Every number in docs/real-lm.md's results block (and README's real-LM bullet) comes from
here; nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "real-lm.md"
BEGIN, END = "<!-- real-lm results: begin -->", "<!-- real-lm results: end -->"


def _load(folder: Path, name: str):
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else None


def _f(value, digits=3, sign=False):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def render(folder: Path) -> str:
    sys.path.insert(0, str(HERE.parent / "src"))
    from taskorder.io import read_matrix

    out = [f"Raw outputs: `{folder.relative_to(HERE.parent)}/` "
           f"(`python benchmarks/real_lm.py`; this block: `python benchmarks/real_lm_report.py`)."]
    timings = {}
    for path in sorted(folder.glob("timings_*.json")):
        timings.update(json.loads(path.read_text()))
    if timings:
        parts = [f"{k[:-2]} {v / 60:.1f} min" for k, v in timings.items() if k.endswith("_s")]
        out.append(f"Wall time on {timings.get('cpu_count')} CPU cores: " + ", ".join(parts) + ".")
    judge = _load(folder, "judge_check.json")
    if judge:
        out += ["", "**The local judge** (SmolLM2-135M-Instruct grading its own kind, 1-5 scale, "
                "probability-weighted): on 8 good and 7 bad hand-written answers, AUC "
                f"{judge['auc_nonempty']:.2f} (0.5 = chance); mean grade good "
                f"{judge['good_mean']:.3f}, bad {judge['bad_mean']:.3f} on [0, 1]."]
    matrix_path = folder / "matrix.json"
    summary = _load(folder, "probe_summary.json")
    if matrix_path.is_file() and summary:
        matrix = read_matrix(matrix_path)
        tasks = list(matrix.tasks)
        se = matrix.bwt_stderr if matrix.bwt_stderr is not None else np.full_like(matrix.bwt, np.nan)
        out += ["", f"**BWT matrix** (row: trained first, column: trained after it; change of the "
                f"row task's score; ± standard error over {summary['n_repeats']} repeats):", "",
                "| earlier \\ later | " + " | ".join(tasks) + " |",
                "|---|" + "---|" * len(tasks)]
        for i, a in enumerate(tasks):
            cells = ["" if i == j else f"{matrix.bwt[i, j]:+.3f} ± {se[i, j]:.3f}"
                     for j in range(len(tasks))]
            out.append(f"| {a} | " + " | ".join(cells) + " |")
        out += ["", "| task | base score | own-stage gain | base entropy (nats) |",
                "|---|---|---|---|"]
        for t in tasks:
            out.append(f"| {t} | {_f(summary['base_scores'].get(t))} | "
                       f"{_f(summary['own_score_change'].get(t), sign=True)} | "
                       f"{_f(summary['base_entropy'].get(t))} |")
        off = matrix.bwt[~np.eye(len(tasks), dtype=bool)]
        off_se = se[~np.eye(len(tasks), dtype=bool)]
        big = int(np.sum(np.abs(off) > 2 * off_se))
        out += ["", f"Off-diagonal BWT entries: {len(off)}; beyond 2 standard errors: {big}; "
                f"median |BWT| {np.median(np.abs(off)):.3f} against median standard error "
                f"{np.nanmedian(off_se):.3f}."]
    dynamics = _load(folder, "entropy_dynamics.json")
    if dynamics:
        out += ["", "**Entropy after one stage on each task** (change from the starting model, "
                "mean ± standard error over repeats):", "",
                "| trained on | kind | ΔH on its own prompts | ΔH on all prompts | "
                "Δscore on its own prompts |", "|---|---|---|---|---|"]
        for r in dynamics:
            out.append(f"| {r['task']} | {r['kind']} | {_f(r['entropy_change_own'], sign=True)} "
                       f"± {_f(r['se_own'])} | {_f(r['entropy_change_all'], sign=True)} ± "
                       f"{_f(r['se_all'])} | {_f(r['score_change_own'], sign=True)} ± "
                       f"{_f(r['se_score'])} |")
    compare = _load(folder, "compare.json")
    if compare:
        ref = compare["reference"]
        gains = {(c["method"], c["reference"]): c for c in compare["comparisons"]}
        out += ["", f"**compare** at equal training ({compare['total_steps']} GRPO steps per "
                f"method, {compare['seeds']} seeds, paired t-test over seeds; gain vs {ref}):", "",
                "| method | what | mean final score | seed means | gain vs " + ref + " | p |",
                "|---|---|---|---|---|---|"]
        for name, m in compare["methods"].items():
            c = gains.get((name, ref))
            seeds = ", ".join(f"{x:.3f}" for x in m["seed_means"])
            out.append(f"| {name} | {m['description']} | {m['mean_score']:.3f} | {seeds} | "
                       f"{_f(c['gain_pct'], 1, True) + ' %' if c else ''} | "
                       f"{_f(c['p_value']) if c else ''} |")
        rows = compare.get("predicted_vs_observed", [])
        if rows:
            out += ["", "**Predicted vs observed** (additive model on the probed matrix, mean "
                    "final score over tasks):", "",
                    "| method | order | predicted | observed |", "|---|---|---|---|"]
            for r in rows:
                out.append(f"| {r['method']} | {' > '.join(r['order'])} | "
                           f"{r['predicted_mean']:.3f} | {r['observed_mean']:.3f} |")
            distinct = {tuple(r["order"]): r for r in rows}.values()
            if len(distinct) >= 3:
                from scipy.stats import spearmanr

                rho = spearmanr([r["predicted_mean"] for r in distinct],
                                [r["observed_mean"] for r in distinct]).statistic
                out.append(f"\nSpearman (predicted, observed) over the {len(distinct)} distinct "
                           f"trained orders: {rho:+.2f} (few orders: a weak check).")
        recommendation = (compare.get("probe") or {}).get("recommendation")
        if recommendation:
            out.append(f"\nRecommendation: {recommendation.get('route', '')} - "
                       f"{recommendation.get('reason', '')}")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="cpu")
    parser.add_argument("--write", action="store_true", help="update docs/real-lm.md")
    args = parser.parse_args(argv)
    text = render(HERE / "results" / f"real_lm_{args.size}")
    if not args.write:
        print(text)
        return 0
    doc = DOC.read_text(encoding="utf-8")
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOC.write_text(doc[:start] + "\n" + text + doc[end:], encoding="utf-8")
    print(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
