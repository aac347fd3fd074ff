"""Figures are checked as images: pixel colours follow the data."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from typer.testing import CliRunner

from taskorder import InvalidParameterError, TransferMatrix, plot
from taskorder.cli import app

M = TransferMatrix(
    ["math", "code", "poetry"],
    [[0, 0.02, -0.3], [0.01, 0, -0.2], [0.05, np.nan, 0]],
)


def rendered(figure):
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)


def pixel(figure, ax, x, y):
    image = rendered(figure)
    px, py = ax.transData.transform((x, y))
    height = image.shape[0]
    return image[int(height - py), int(px)]


def test_heatmap_colours_follow_sign_and_missing_is_grey():
    figure = plot.heatmap(M, annotate=False)
    ax = figure.axes[0]
    red = pixel(figure, ax, 2, 0)  # bwt[math, poetry] = -0.3: forgetting
    assert red[0] > red[2] + 60
    blue = pixel(figure, ax, 0, 2)  # bwt[poetry, math] = +0.05: a little blue
    assert blue[2] >= blue[0]
    grey = pixel(figure, ax, 1, 2)  # missing
    assert abs(grey[0] - grey[2]) < 5 and 200 < grey[0] < 240
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["math", "code", "poetry"]
    assert "forgetting" in figure.axes[1].get_ylabel()


def test_heatmap_follows_order():
    figure = plot.heatmap(M.replace(bwt=np.nan_to_num(M.bwt)), order=["poetry", "math", "code"])
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["poetry", "math", "code"]


def test_transfer_graph_draws_order(tmp_path):
    full = M.replace(bwt=np.nan_to_num(M.bwt))
    figure = plot.transfer_graph(full, order=["poetry", "math", "code"])
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == ["2. math", "3. code", "1. poetry"]
    path = plot.save(figure, tmp_path / "g.png")
    image = __import__("matplotlib.image", fromlist=["imread"]).imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 500
    reds = ((image[..., 0] > 0.6) & (image[..., 2] < 0.4)).sum()
    assert reds > 100  # negative transfer edges are drawn in red


def test_predicted_vs_observed_and_curves():
    figure = plot.predicted_vs_observed(
        {"a": 1.0, "b": 2.0, "c": 3.0}, {"a": 1.5, "b": 2.5, "c": 2.8}
    )
    assert "Spearman rho = 1.00" in figure.axes[0].get_title()
    with pytest.raises(InvalidParameterError, match="same labels"):
        plot.predicted_vs_observed({"a": 1.0}, {"b": 1.0})
    figure = plot.curves(
        ["base", "math", "poetry"], {"math": [0.1, 0.8, 0.6]}, {"math": [0.4, 0.2, 0.9]}
    )
    assert len(figure.axes) == 2
    with pytest.raises(InvalidParameterError, match="one value per stage"):
        plot.curves(["base", "math"], {"math": [0.1]})


def test_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(InvalidParameterError, match=".png"):
        plot.save(plot.heatmap(M), tmp_path / "x.jpg")


def test_cli_plot_writes_images(tmp_path):
    from taskorder import write_matrix

    source = write_matrix(M.replace(bwt=np.nan_to_num(M.bwt)), tmp_path / "m.csv")
    runner = CliRunner()
    for kind in ("heatmap", "graph"):
        out = tmp_path / f"{kind}.svg"
        result = runner.invoke(app, ["plot", kind, str(source), "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        assert out.read_text().startswith("<?xml")
    result = runner.invoke(
        app, ["plot", "heatmap", str(tmp_path / "none.csv"), "-o", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_cli_plot_validation_and_curves_from_real_outputs(tmp_path):
    import json

    from taskorder.estimate import validate
    from taskorder.learner import make_learner

    runner = make_learner(2, 1, seed=0, mode="exact")
    matrix = TransferMatrix(runner.tasks, np.zeros((3, 3)) - 0.01 * np.arange(9).reshape(3, 3))
    report = validate(runner, matrix, seeds=2, all_orders=True)
    source = tmp_path / "validate.json"
    source.write_text(json.dumps(report.to_dict()))
    runner_cli = CliRunner()
    out = tmp_path / "v.png"
    result = runner_cli.invoke(app, ["plot", "validation", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 5000
    bad = runner_cli.invoke(
        app, ["plot", "validation", str(source), "-o", str(out), "--model", "nope"]
    )
    assert bad.exit_code == 2 and "'nope' is not one of 'additive'" in bad.stderr
    data = report.to_dict()
    for row in data["orders"]:
        row["predicted"].pop("additive")
    source.write_text(json.dumps(data))
    missing = runner_cli.invoke(
        app, ["plot", "validation", str(source), "-o", str(out), "--model", "additive"]
    )
    assert missing.exit_code == 1 and "no predictions for model 'additive'" in missing.stderr
    stages = {
        "tasks": ["a", "b"],
        "records": [
            {
                "stage": -1,
                "label": "start",
                "scores": {"a": 0.1, "b": 0.2},
                "entropies": {"a": 0.5, "b": 0.5},
            },
            {
                "stage": 0,
                "label": "a",
                "scores": {"a": 0.6, "b": 0.1},
                "entropies": {"a": 0.2, "b": 0.4},
            },
            {
                "stage": 1,
                "label": "b",
                "scores": {"a": 0.5, "b": 0.7},
                "entropies": {"a": 0.6, "b": 0.9},
            },
        ],
    }
    (tmp_path / "stages.json").write_text(json.dumps(stages))
    result = runner_cli.invoke(
        app, ["plot", "curves", str(tmp_path / "stages.json"), "-o", str(tmp_path / "c.svg")]
    )
    assert result.exit_code == 0, result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    result = runner_cli.invoke(app, ["plot", "curves", str(empty), "-o", str(tmp_path / "c.svg")])
    assert result.exit_code == 1 and "'records'" in result.stderr


def many_tasks(n_tasks, seed=0):
    rng = np.random.default_rng(seed)
    names = [f"summarisation_news_{k}" for k in range(n_tasks)]
    return TransferMatrix(names, rng.normal(0, 0.1, (n_tasks, n_tasks)) * (1 - np.eye(n_tasks)))


def png_size(path):
    import struct

    return struct.unpack(">II", path.read_bytes()[16:24])


# figures are at most 2400 px a side (taskorder.plot.figures.MAX_PIXELS); bbox_inches="tight"
# may add a small margin. Before the cap: 7185x807 px at 30 tasks, 17035x15471 at 200.
MAX_SIDE = 2600


def test_heatmap_of_many_tasks_is_capped_and_drops_cell_values(tmp_path):
    matrix = many_tasks(120)
    with pytest.warns(UserWarning, match="at most 25 tasks"):
        figure = plot.heatmap(matrix, annotate=True)
    ax = figure.axes[0]
    assert len(ax.texts) == 0
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["summarisation_news_0", "summarisation_news_2"]  # every other name
    assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= 5
    width, height = png_size(plot.save(figure, tmp_path / "h.png"))
    assert max(width, height) <= MAX_SIDE


def test_transfer_graph_of_many_tasks_is_capped_circular_and_thinned(tmp_path):
    matrix = many_tasks(30)
    figure = plot.transfer_graph(matrix, order=list(matrix.tasks))
    ax = figure.axes[0]
    assert "the 90 strongest of 870 pairs" in ax.get_title()
    labels = [t.get_text() for t in ax.texts]
    assert labels[0] == "1. summarisation_news_0" and len(labels) == 30
    width, height = png_size(plot.save(figure, tmp_path / "g.png"))
    assert max(width, height) <= MAX_SIDE and width < 1.5 * height


def test_long_task_names_are_shortened():
    matrix = TransferMatrix(["a" * 60, "b"], [[0, 0.1], [0.2, 0]])
    label = plot.heatmap(matrix).axes[0].get_xticklabels()[0].get_text()
    assert len(label) == 24 and label.endswith("\u2026")


def test_validation_plot_has_identity_line():
    figure = plot.predicted_vs_observed(
        {"a": 0.2, "b": 0.5, "c": 0.9}, {"a": 0.1, "b": 0.6, "c": 1.2}
    )
    lines = [line for line in figure.axes[0].get_lines() if line.get_label() == "y = x"]
    assert len(lines) == 1
    x, y = lines[0].get_data()
    assert np.allclose(x, y) and min(x) <= 0.1 and max(x) >= 1.2


def test_compare_chart_axis_starts_at_zero():
    from taskorder.compare import compare
    from taskorder.compare.figure import compare_bars
    from taskorder.learner import make_learner

    report = compare(make_learner(1, 1), methods=["joint", "interleaved"], seeds=2, stage_steps=2)
    assert min(float(np.min(r.seed_means)) for r in report.methods.values()) > 0.05
    assert compare_bars(report).axes[0].get_ylim()[0] == 0.0


def glyph_warnings(record):
    return [str(w.message) for w in record if "missing from font" in str(w.message)]


@pytest.mark.parametrize("names", [["poésie", "Übersetzung", "naïve"], ["⤀-arrows", "b", "c"]])
def test_unicode_names_draw_without_missing_glyphs(names, tmp_path):
    """Accented names are in the default font; others fall back to an installed font that has them."""
    import warnings

    matrix = TransferMatrix(names, [[0, 0.1, 0.2], [0.2, 0, 0.1], [0.1, 0.1, 0]])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for figure in (
            plot.heatmap(matrix),
            plot.transfer_graph(matrix, order=names),
            plot.curves(["base", *names], {name: [0.1, 0.2, 0.3, 0.4] for name in names}),
        ):
            figure.canvas.draw()
            plot.save(figure, tmp_path / "u.png")
    assert glyph_warnings(record) == []
    assert not [w for w in record if issubclass(w.category, plot.MissingGlyphWarning)]


def test_names_no_font_covers_warn_once_with_the_fix(tmp_path):
    import warnings

    from taskorder.plot.fonts import font_families

    names = ["数学", "诗歌", "code"]
    matrix = TransferMatrix(names, [[0, 0.1, 0.2], [0.2, 0, 0.1], [0.1, 0.1, 0]])
    families, missing = font_families(names)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        plot.save(plot.heatmap(matrix), tmp_path / "cjk.png")
    assert glyph_warnings(record) == []
    ours = [str(w.message) for w in record if issubclass(w.category, plot.MissingGlyphWarning)]
    if missing:  # no CJK font installed: one warning that names the characters and the fix
        assert len(ours) == 1 and "数" in ours[0] and "Noto Sans CJK" in ours[0]
    else:
        assert ours == [] and len(families) > 1


def test_transfer_graph_max_edges():
    full = M.replace(bwt=np.nan_to_num(M.bwt))
    figure = plot.transfer_graph(full, order=["poetry", "math", "code"], max_edges=2)
    assert "the 2 strongest of" in figure.axes[0].get_title()
    with pytest.raises(InvalidParameterError, match="'max_edges'"):
        plot.transfer_graph(full, max_edges=-1)
