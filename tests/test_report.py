"""Every generated block of README.md and docs/*.md equals what its raw outputs give.

``benchmarks/report.py --check`` re-renders each ``<!-- report:NAME -->`` block from the
committed files under ``benchmarks/results/`` (no training) and fails with a diff when a page
drifts; ``--write`` fixes it.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def report():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("report", ROOT / "benchmarks" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pages_match_their_raw_outputs(report, capsys):
    code = report.main(["--check"])
    out = capsys.readouterr()
    assert code == 0, f"pages drifted from their raw outputs:\n{out.out[-4000:]}\n{out.err}"


def test_every_block_is_used_and_every_marker_is_known(report):
    names = set(report.blocks())
    used = set()
    for page in report.PAGES:
        used |= {m["name"] for m in report.MARKER.finditer((ROOT / page).read_text())}
    assert used <= names
    assert names <= used, f"blocks no page carries: {sorted(names - used)}"


def test_check_reports_a_drifted_page(report, tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    page = "<!-- report:evidence-worlds -->\n| typed by hand |\n<!-- /report:evidence-worlds -->\n"
    (tmp_path / "README.md").write_text(page)
    assert report.main(["--check", "--root", str(tmp_path)]) == 1
    assert "typed by hand" in capsys.readouterr().out
    assert report.main(["--write", "--root", str(tmp_path)]) == 0
    assert report.main(["--check", "--root", str(tmp_path)]) == 0


def test_spread_is_min_median_max(report):
    from report_common import spread, world_list

    assert spread([3, 1, 2]) == "1.0 / 2.0 / 3.0"
    assert spread([-1, 2, 0.5], digits=2, sign=True) == "-1.00 / +0.50 / +2.00"
    assert world_list([1000, 1001, 1002, 1005]) == "1000-1002, 1005"


def test_recommend_advice_quotes_the_current_held_out_medians(report):
    """taskorder.recommend.REPLAN_ADVICE prints held-out medians at run time: they must be
    the ones the evidence CSVs give (pooled held-out worlds, per mode)."""
    import numpy as np
    from report_common import MODES, heldout_rows

    from taskorder.recommend import REPLAN_ADVICE

    for mode in MODES:
        rows = heldout_rows(mode)
        worlds = len({r["world"] for r in rows})
        for method in ("replan", "recommended"):
            median = np.median([float(r["percentile"]) for r in rows if r["method"] == method])
            assert f"{median:.1f}" in REPLAN_ADVICE, (mode, method, median)
        assert f"{worlds} held-out worlds" in REPLAN_ADVICE
