"""Active probing through the real campaign store, executors and CLI."""

import json

from typer.testing import CliRunner

from taskorder.active import active_campaign
from taskorder.cli import app
from taskorder.learner import make_learner


def test_active_campaign_uses_the_store_and_resumes(tmp_path):
    runner = make_learner(2, 2, seed=1, mode="exact")
    first = active_campaign(runner, tmp_path, budget=8, batch_size=2, seed=0)
    assert first.n_probes <= 8
    assert first.matrix.forward is not None and first.matrix.own_scores is not None
    unmeasured = 4 * 3 - first.n_probes
    assert int(first.matrix.imputed.sum()) == unmeasured
    again = active_campaign(runner, tmp_path, budget=8, batch_size=2, seed=0)
    assert again.order == first.order and again.measured == first.measured


def test_cli_probe_budget(tmp_path):
    config = tmp_path / "probe.toml"
    config.write_text(
        f'output_dir = "{tmp_path / "out"}"\n[runner]\nkind = "builtin"\n'
        "[runner.learner]\nn_structured = 2\nn_open = 2\n[plan]\nsteps = 20\n"
    )
    result = CliRunner().invoke(
        app, ["probe", "run", str(config), "--budget", "8", "--batch-size", "2", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["probes"] <= 8 and summary["full_design"] == 12
    assert (tmp_path / "out" / "matrix.json").exists() and (
        tmp_path / "out" / "active.json"
    ).exists()
    solved = CliRunner().invoke(app, ["solve", str(tmp_path / "out" / "matrix.json"), "--json"])
    assert solved.exit_code == 0, solved.stderr
