"""Regenerate every number README.md and docs/*.md quote, from committed raw outputs.

    python benchmarks/report.py --check    # exit 1 and a diff when a page differs (default)
    python benchmarks/report.py --write    # rewrite the generated blocks in place
    python benchmarks/report.py --show NAME   # print one block

Nothing here trains: every block reads CSV / JSONL / JSON files under
``benchmarks/results/`` written by the benchmark scripts. A page carries a block as::

    <!-- report:NAME -->
    (generated text: do not edit by hand)
    <!-- /report:NAME -->

**Adding a block** (e.g. for docs/solvers.md or docs/learner.md): in a module beside this
file (``report_solvers.py``, say) write::

    from report_common import RESULTS, read_csv, registry, spread
    BLOCKS, block = registry()

    @block("solvers-lolib")
    def solvers_lolib() -> str:
        rows = read_csv(RESULTS / "lolib_io_summary.csv")
        return ...   # markdown; tables over instances state their statistic in the header

list the module in ``BLOCK_MODULES`` below, put the two markers in the page and run
``--write``. Block modules: ``report_evidence`` (evidence.py's CSVs), ``report_learner``
(re-planning floors, active probing, entropy models, noise-aware choice),
``report_engineering`` (plot speed, probe wall time, judge and sandbox costs) and
``real_lm_report`` (the real-LM run). ``tests/test_report.py`` runs ``--check``, so a page
that drifts from its raw outputs fails the tests.

Conventions, written once:

- **Percentile**: the value stored by the benchmark, computed by
  :func:`taskorder.percentile.order_percentile` (strictly worse plus half the ties; a
  random order scores 50). No other definition is used.
- **Spread**: every table over worlds shows *min / median / max* in every row (and says
  so in its header); real-LM tables show *mean ± standard error* over repeats or seeds.
- **Held-out**: the splits of ``benchmarks/evidence.py`` other than ``dev`` (or
  ``evidence.HELDOUT`` when that script defines it), pooled. Development worlds appear only
  where a page explains how a default was chosen, and are labelled so.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

#: Pages that may carry blocks.
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
#: Modules beside this file whose ``BLOCKS`` dict (name -> function returning markdown) the
#: pages use; add yours here.
BLOCK_MODULES = [
    "report_evidence",
    "report_learner",
    "report_engineering",
    "real_lm_report",
    "report_online",
]
MARKER = re.compile(
    r"<!-- report:(?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /report:(?P=name) -->", re.DOTALL
)


def blocks() -> dict[str, Callable[[], str]]:
    found: dict[str, Callable[[], str]] = {}
    for name in BLOCK_MODULES:
        for key, func in importlib.import_module(name).BLOCKS.items():
            if key in found:
                raise ValueError(f"block {key!r} is registered twice ({name})")
            found[key] = func
    return found


def wrap_markdown(text: str, width: int = 96) -> str:
    """Fill prose lines (bullets and paragraphs) to ``width``; tables and headings stay."""
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        indent = line[: len(line) - len(stripped)]
        if not stripped or stripped.startswith(("|", "#")) or len(line) <= width:
            out.append(line)
            continue
        follow = indent + ("  " if stripped.startswith("- ") else "")
        out.append(
            textwrap.fill(
                line,
                width,
                initial_indent="",
                subsequent_indent=follow,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(out)


def render_page(text: str, renderers: dict[str, Callable[[], str]], cache: dict) -> str:
    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in cache:
            try:
                cache[name] = wrap_markdown(renderers[name]().strip("\n"))
            except Exception as error:
                raise RuntimeError(f"block {name!r} failed: {error!r}") from error
        return f"<!-- report:{name} -->\n\n{cache[name]}\n\n<!-- /report:{name} -->"

    return MARKER.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="diff, exit 1 on drift (default)")
    group.add_argument("--write", action="store_true", help="rewrite the blocks in place")
    group.add_argument("--show", metavar="NAME", help="print one block")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="PAGE",
        default=PAGES,
        help="only these pages (paths from the repository root)",
    )
    args = parser.parse_args(argv)
    renderers = blocks()
    if args.show:
        print(renderers[args.show]())
        return 0
    cache: dict[str, str] = {}
    drift, used = [], set()
    for page in args.pages:
        path = args.root / page
        if not path.exists():
            continue
        old = path.read_text(encoding="utf-8")
        used |= {m["name"] for m in MARKER.finditer(old)}
        unknown = sorted({m["name"] for m in MARKER.finditer(old)} - set(renderers))
        if unknown:
            print(
                f"{page}: unknown report block(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(renderers))}",
                file=sys.stderr,
            )
            return 2
        new = render_page(old, renderers, cache)
        if new == old:
            continue
        if args.write:
            path.write_text(new, encoding="utf-8")
            print(f"updated {page}")
        else:
            drift.append(page)
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"{page} (committed)",
                    f"{page} (from raw outputs)",
                )
            )
    unused = sorted(set(renderers) - used)
    if unused and args.pages == PAGES:
        print(f"blocks no page uses: {', '.join(unused)}", file=sys.stderr)
    if drift:
        print(
            f"\n{len(drift)} page(s) differ from their raw outputs: {', '.join(drift)}; "
            "run `python benchmarks/report.py --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
