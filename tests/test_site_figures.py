"""Issue 31, point 11: the figures' layout, checked on the figure objects so that a regression fails
without a browser: subplot titles that fit their panels, names that do not run over bars, duration
axes from 0, epochs from 1 on both learning-curve panels, the zero-residual line named as such, and
"calibrated logit" only where the run calibrates."""
import json

import numpy as np
import pandas as pd
import pytest

from pseudoface.site import explain_plots, plots, result_plots

NARROW_PLOT_PX = 640  # a figure's plotting width on a narrow page: the titles must fit even there


def _text_lines(text: str) -> list[str]:
    return text.split("<br>")


def _assert_titles_fit_their_panels(fig):
    """Each subplot title's widest line (about 0.6 x the font size per character) is narrower than its
    panel on a narrow page: side-by-side titles no longer run together."""
    domains = [fig.layout[k].domain for k in fig.layout if k.startswith("xaxis")]
    assert fig.layout.annotations, "no subplot titles"
    for a in fig.layout.annotations:
        lo, hi = next(d for d in domains if d[0] <= a.x <= d[1])  # the title is centred over its panel
        panel_px = (hi - lo) * NARROW_PLOT_PX
        size = a.font.size or 16  # plotly's subplot-title default
        widest = max(len(line) for line in _text_lines(a.text)) * 0.6 * size
        assert widest <= panel_px, (a.text, widest, panel_px)


EDAIC_COLUMNS = ["SD of head translation (mm)", "SD of head rotation (degrees)", "SD of gaze direction (unit vector)",
                 "SD of gaze angle (degrees)", "SD of AU intensity (0–5)"]


def test_the_five_e_daic_amplitude_titles_fit_their_panels():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(0.1, 2, (8, 5)), columns=EDAIC_COLUMNS).assign(label=[0, 1] * 4)
    fig = plots.distribution_figure(table, EDAIC_COLUMNS, "Movement amplitude per participant")
    _assert_titles_fit_their_panels(fig)
    assert [a.text.replace("<br>", " ") for a in fig.layout.annotations] == [c.split(" (")[0] for c in EDAIC_COLUMNS]
    assert fig.layout.margin.t >= 70 + 18  # room above the panels for the titles' second line


COMPARISON = pd.DataFrame({
    "name": ["default (window layout, aligned)", "seed preset (frame layout)", "CNN-LSTM on clips (the paper's design)"],
    "mean": [0.470, 0.450, 0.603], "std": [0.227, 0.374, 0.269],
    "difference": [np.nan, -0.020, 0.133], "diff_low": [np.nan, -0.324, -0.312], "diff_high": [np.nan, 0.284, 0.578]})


def test_comparison_names_sit_left_of_both_panels_not_over_the_bars():
    fig = result_plots.comparison_figure(COMPARISON, "Variants on the same folds", "Variant minus default (same folds)")
    bars, diffs = fig.data
    assert bars.type == "bar" and bars.orientation == "h"
    assert bars.text is None  # a number printed on a bar was crossed by its error bar: it is in the row's name
    assert list(bars.y) == [f"{n}<br>{m:.3f} ± {s:.3f}" for n, m, s in zip(COMPARISON.name, COMPARISON["mean"],
                                                                               COMPARISON["std"])]
    # the differences sit on the bars' rows, named once on the left: no names drawn between the panels
    assert fig.layout.yaxis2.matches == "y" and fig.layout.yaxis2.showticklabels is False
    assert set(diffs.y) <= set(bars.y) and diffs.xaxis == "x2"
    assert fig.layout.yaxis.autorange == "reversed"  # the reference (first row) on top
    assert tuple(fig.layout.xaxis.range) == (0, 1) and fig.layout.xaxis.title.text == "macro-F1"
    _assert_titles_fit_their_panels(fig)


def test_a_comparison_without_differences_is_one_panel_of_bars():
    fig = result_plots.comparison_figure(COMPARISON[["name", "mean", "std"]], "Baselines")
    assert len(fig.data) == 1 and fig.data[0].orientation == "h" and "xaxis2" not in fig.layout


@pytest.mark.parametrize("minutes", [[0.5] * 6, [12.0, 14.5, 20.1, 9.3, 16.0, 11.1, 18.7, 13.3]])
def test_duration_axes_start_at_0(minutes):
    """A constant duration (the E-DAIC stand-in) is a strip plot whose padded autorange ran to
    −0.5 min; varied durations are a histogram: both duration axes start at 0."""
    n = len(minutes)
    quality = pd.DataFrame({"duration_min": minutes, "valid_percent": np.linspace(80, 99, n), "label": [0, 1] * (n // 2)})
    fig = plots.quality_figure(quality)
    axis = fig.layout.yaxis if len(set(minutes)) <= 5 else fig.layout.xaxis
    assert axis.range[0] == 0 and axis.range[1] >= max(minutes), axis.range
    errors = quality.assign(correct=[True, False] * (n // 2))
    fig = result_plots.scatter_errors_figure(errors)
    if len(set(minutes)) > 1:
        assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= max(minutes)


def test_both_learning_curve_panels_count_epochs_from_1():
    history = pd.DataFrame([{"repeat": 0, "fold": f, "epoch": e, "train_loss": 1 / e, "val_loss": 1 / e + 0.1}
                            for f in (0, 1) for e in range(1, 7)])
    chosen = pd.DataFrame({"repeat": [0, 0], "fold": [0, 1], "best_epoch": [1, 4]})
    fig = result_plots.learning_curves_figure(history, chosen)
    for axis in (fig.layout.xaxis, fig.layout.xaxis2):
        assert tuple(axis.range) == (0.5, 6.5) and axis.tick0 == 1 and axis.dtick == 1
        assert axis.title.text == "epoch"


def test_the_residual_panel_names_its_zero_line_not_identity():
    rng = np.random.default_rng(1)
    true = rng.integers(0, 25, 12)
    predictions = pd.DataFrame({"repeat": 0, "fold": [0, 1, 2] * 4, "true_score": true,
                                "predicted_score": np.clip(true + rng.normal(0, 3, 12), 0, 24)})
    fig = result_plots.regression_figure(predictions)
    assert not any(t.name == "identity" for t in fig.data)
    dashed = [t for t in fig.data if t.line.dash == "dash"]
    assert [t.xaxis for t in dashed] == ["x", "x2"] and {t.name for t in dashed} == {"predicted = true"}
    assert [t.showlegend for t in dashed] == [None, False]  # one legend entry for both dashed lines
    assert list(dashed[1].y) == [0, 0]  # the zero-residual line: predicted − true = 0


def _profile() -> dict:
    rows = ["mouth X", "mouth Y"]
    return {"participant_id": "322", "label": 1, "fold": "r0_f1", "logit": 0.77, "groups": ["mouth", "eyes"],
            "grid": np.array([[0.1, -0.4], [0.05, 0.2]]), "spans": [(0.0, 4.0), (2.0, 6.0)],
            "image": np.zeros((2, 30)), "image_rows": rows, "fps": 5.0}


def _figure_text(fig) -> str:
    return json.dumps(fig.to_plotly_json()["layout"], ensure_ascii=False) + json.dumps(
        [t.to_plotly_json().get("colorbar", {}) for t in fig.data], ensure_ascii=False)


def test_calibrated_logit_only_where_the_run_calibrates():
    plain = explain_plots.time_profile_figure(_profile(), "none")
    assert "calibrated" not in _figure_text(plain)
    assert "contribution of group × stretch (Δ logit)" in _figure_text(plain)
    assert plain.data[1].colorbar.title.text == "Δ logit"
    platt = explain_plots.time_profile_figure(_profile(), "platt")
    assert platt.data[1].colorbar.title.text == "Δ calibrated logit"
    assert "(depressed, logit +0.77, test participant" in explain_plots.profile_note(_profile(), "none")
    assert "calibrated logit +0.77" in explain_plots.profile_note(_profile(), "platt")


def test_square_figures_fit_the_page_column():
    """Quarto 1.7.34's page column is ~680 px beside its sidebar and table of contents: a ROC drawn 760 px
    wide had its legend cut off. No figure fixes its width; the square ones stay square by their axes."""
    predictions = pd.DataFrame({"repeat": 0, "fold": [0] * 6 + [1] * 6, "label": [0, 1] * 6,
                                "score": np.linspace(0.1, 0.9, 12)})
    bins = pd.DataFrame({"mean_score": [0.2, 0.5, 0.8], "observed_rate": [0.1, 0.5, 0.9], "count": [4, 4, 4]})
    for fig in (result_plots.roc_figure(predictions), result_plots.calibration_figure(bins, 0.2, "none"),
                result_plots.confusion_figure(np.array([[5, 1], [2, 4]]))):
        assert fig.layout.width is None, fig.layout.title.text
    for fig in (result_plots.roc_figure(predictions), result_plots.calibration_figure(bins, 0.2, "none")):
        assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.xaxis.constrain == "domain"


def test_colour_bar_labels_of_short_blocks_do_not_run_together():
    """Seen with Quarto 1.7.34 on E-DAIC page 2: a block of three rows (head rotation, its velocity) had a
    90 px colour bar with five or six tick labels that ran into each other. Each bar carries at most one
    label per 24 px of its own length (font size 10); a short bar is labelled at its ends and 0, so that it
    still shows its range."""
    rng = np.random.default_rng(0)
    rows = [3, 3, 6, 2, 17]  # E-DAIC's row groups: head translation, rotation, gaze direction, gaze angle, AUs
    blocks = [{"z": rng.normal(0, 2, (2, n, 60)), "rows": [f"row {g}.{i}" for i in range(n)], "unit": "degrees"}
              for g, n in enumerate(rows)]
    for signed in (True, False):
        fig = plots.pseudo_image_figure(blocks, "difference", ("value", "velocity"), signed=signed)
        plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
        short = 0
        for i in range(len(rows)):
            axis = fig.layout[f"coloraxis{i + 1}" if i else "coloraxis"]
            bar, bar_px = axis.colorbar, axis.colorbar.len * plot_px
            labels = len(bar.tickvals) if bar.tickmode == "array" else bar.nticks
            assert labels and labels * 24 <= bar_px + 1e-6, (i, labels, bar_px)
            assert bar.tickfont.size == 10
            if bar.tickmode == "array":  # the ends of the colour range, and 0
                short += 1
                assert bar.tickvals[-1] == axis.cmax and bar.tickvals[0] == axis.cmin
                assert list(bar.ticktext) == [f"{v:.2g}".replace("-", "−") for v in bar.tickvals]  # plotly's minus sign
        assert short >= 2  # the two- and three-row blocks
