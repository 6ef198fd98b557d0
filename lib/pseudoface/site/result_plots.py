"""Figures of a finished run: learning curves, calibration, ROC, confusion, the threshold sweep and the
errors against data quality (notebooks 03 and 04), models side by side with their paired differences
(baselines, comparison variants: notebooks 03 and 04, the Comparison page), sweeps (the Sweeps page) and
the PHQ-8 regression. Frames in, a plotly figure out, with the conventions of :mod:`plots` (its colours,
layout and subplot-title wrapping); the corpus exploration and pseudo-image figures are :mod:`plots`'.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .plots import CLASS_COLORS, CLASS_NAMES, FOLD_COLORS, TEMPLATE, _layout, duration_limit, fit_subplot_titles

def learning_curves_figure(history: pd.DataFrame, chosen: pd.DataFrame) -> go.Figure:
    """history: repeat, fold, epoch, train_loss, val_loss; chosen: repeat, fold, best_epoch."""
    fig = make_subplots(1, 2, subplot_titles=("Inner-training loss", "Inner-validation loss"), shared_yaxes=True)
    for i, ((r, f), g) in enumerate(history.groupby(["repeat", "fold"])):
        name, color = f"repeat {r}, fold {f}", FOLD_COLORS[i % len(FOLD_COLORS)]
        marker = dict(size=5, color=color)
        fig.add_scatter(x=g.epoch, y=g.train_loss, mode="lines+markers", name=name, legendgroup=name,
                        line=dict(color=color), marker=marker, row=1, col=1)
        fig.add_scatter(x=g.epoch, y=g.val_loss, mode="lines+markers", name=name, legendgroup=name, showlegend=False,
                        line=dict(color=color), marker=marker, row=1, col=2)
        best = chosen[(chosen.repeat == r) & (chosen.fold == f)].best_epoch
        at = g[g.epoch.isin(best)]
        fig.add_scatter(x=at.epoch, y=at.val_loss, mode="markers", legendgroup=name, showlegend=False,
                        marker=dict(size=15, symbol="star", color=color, line=dict(color="black", width=1)),
                        hovertemplate=f"{name}: chosen epoch %{{x}}<extra></extra>", row=1, col=2)
    last = int(history.epoch.max()) if len(history) else 1
    # epochs are counted from 1 on both panels (the chosen-epoch stars would otherwise pad one to 0)
    fig.update_xaxes(title_text="epoch", range=[0.5, last + 0.5], tick0=1, dtick=1 if last <= 20 else None)
    fig.update_yaxes(title_text="loss (on logits, class-weighted)", row=1, col=1)
    return _layout(fig, "Learning curves (star: the epoch chosen on inner validation)", 420)


def calibration_figure(bins: pd.DataFrame, brier: float, method: str) -> go.Figure:
    """bins: mean_score, observed_rate, count (pooled out-of-fold predictions) -> reliability curve."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"), name="perfect calibration")
    size = 8 + 22 * np.sqrt(bins["count"] / max(1, bins["count"].max()))
    fig.add_scatter(x=bins.mean_score, y=bins.observed_rate, mode="lines+markers", name="CNN-LSTM",
                    marker=dict(size=size, color=CLASS_COLORS[1]), line=dict(color=CLASS_COLORS[1]),
                    customdata=bins["count"], hovertemplate="mean score %{x:.2f}<br>observed %{y:.2f}<br>"
                                                            "%{customdata} participants<extra></extra>")
    fig.update_xaxes(title_text="mean predicted probability in bin", range=[0, 1], constrain="domain")
    fig.update_yaxes(title_text="observed rate of depressed", range=[0, 1], scaleanchor="x", scaleratio=1)
    return _layout(fig, f"Calibration (Brier score {brier:.3f}; calibration: {method})", 520)


def roc_figure(predictions: pd.DataFrame) -> go.Figure:
    """Per-fold ROC curves, their mean +- SD band on a common FPR grid, and the chance line."""
    from sklearn.metrics import roc_curve
    grid = np.linspace(0, 1, 101)
    fig, tprs = go.Figure(), []
    for i, ((r, f), g) in enumerate(predictions.groupby(["repeat", "fold"])):
        if g.label.nunique() < 2:
            continue
        fpr, tpr, _ = roc_curve(g.label, g.score)
        tprs.append(np.interp(grid, fpr, tpr))
        fig.add_scatter(x=fpr, y=tpr, mode="lines", line=dict(width=2, color=FOLD_COLORS[i % len(FOLD_COLORS)]),
                        opacity=0.85, name=f"repeat {r}, fold {f}")
    if tprs:
        mean, sd = np.mean(tprs, 0), np.std(tprs, 0, ddof=1) if len(tprs) > 1 else np.zeros_like(grid)
        fig.add_scatter(x=np.r_[grid, grid[::-1]], y=np.r_[np.clip(mean + sd, 0, 1), np.clip(mean - sd, 0, 1)[::-1]],
                        fill="toself", fillcolor="rgba(80,80,80,0.18)", line=dict(width=0), name="mean ± SD",
                        hoverinfo="skip")
        fig.add_scatter(x=grid, y=mean, mode="lines", line=dict(width=4, color="black"), name="mean ROC")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"), name="chance")
    fig.update_xaxes(title_text="false positive rate (1 − specificity)", range=[0, 1], constrain="domain")
    fig.update_yaxes(title_text="true positive rate (sensitivity)", range=[0, 1.01], scaleanchor="x", scaleratio=1)
    return _layout(fig, "ROC per outer fold", 600)


def confusion_figure(confusion: np.ndarray, title: str = "Confusion matrix, all outer folds") -> go.Figure:
    """confusion: [[tn, fp], [fn, tp]] -> counts with the share of each true class, sensitivity and specificity."""
    z = np.asarray(confusion)
    rates = z / np.maximum(z.sum(axis=1, keepdims=True), 1)
    text = [[f"{z[i, j]}<br>({100 * rates[i, j]:.0f}% of {CLASS_NAMES[i]})" for j in range(2)] for i in range(2)]
    fig = go.Figure(go.Heatmap(z=rates, x=["predicted not depressed", "predicted depressed"],
                               y=["not depressed", "depressed"], text=text, texttemplate="%{text}",
                               colorscale="Blues", zmin=0, zmax=1, showscale=False, hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed", title_text="true label")
    sens, spec = rates[1, 1], rates[0, 0]
    return _layout(fig, f"{title}: sensitivity {sens:.2f}, specificity {spec:.2f}", 400)


def threshold_sweep_figure(sweep: pd.DataFrame, chosen: list | None = None) -> go.Figure:
    """sweep: threshold, macro_f1, predicted_positive_rate over the observed score range (a diagnostic,
    not a choice); chosen: the thresholds the folds chose on inner validation (drawn as a band)."""
    fig = go.Figure()
    if chosen:
        fig.add_vrect(x0=min(chosen), x1=max(chosen), fillcolor="rgba(228,87,86,0.15)", line_width=0,
                      annotation_text="thresholds chosen per fold", annotation_position="top left")
    fig.add_scatter(x=sweep.threshold, y=sweep.macro_f1, mode="lines+markers", name="macro-F1", marker_size=5)
    fig.add_scatter(x=sweep.threshold, y=sweep.predicted_positive_rate, mode="lines+markers",
                    name="predicted-positive rate", marker_size=5)
    fig.update_xaxes(title_text="decision threshold on the out-of-fold score")
    fig.update_yaxes(title_text="value", range=[0, 1.05])
    return _layout(fig, "Threshold sweep over the observed scores (diagnostic only)", 420)


def comparison_figure(table: pd.DataFrame, title: str, difference_title: str = "") -> go.Figure:
    """table: name, mean, std (macro-F1) [+ difference, diff_low, diff_high: paired difference to a
    reference on the same participants, with its 95% interval] -> horizontal bars with SD error bars,
    and the differences with their intervals beside them (0 = no difference). The panels share one
    row per model, named once on the left with its mean ± SD under the name: names drawn between the
    panels ran over the bars, and numbers printed on a bar were crossed by its error bar."""
    paired = "difference" in table and table["difference"].notna().any()
    fig = make_subplots(1, 2 if paired else 1, column_widths=[0.55, 0.45] if paired else None, shared_yaxes=True,
                        subplot_titles=("macro-F1, mean ± SD over outer folds", difference_title) if paired else None,
                        horizontal_spacing=0.06)
    lines = fit_subplot_titles(fig)
    rows = {n: f"{n}<br>{m:.3f} ± {sd:.3f}" for n, m, sd in zip(table["name"], table["mean"], table["std"].fillna(0))}
    names = list(rows.values())
    colors = ["#E45756" if i == 0 else "#9ecae9" for i in range(len(table))]
    fig.add_bar(y=names, x=table["mean"], orientation="h", error_x=dict(type="data", array=table["std"], color="#333"),
                marker_color=colors, showlegend=False, hovertemplate="%{y}<extra></extra>", row=1, col=1)
    fig.update_xaxes(title_text="macro-F1", range=[0, 1], row=1, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed", automargin=True)
    if paired:
        t = table[table["difference"].notna()]
        fig.add_scatter(y=t["name"].map(rows), x=t["difference"], mode="markers", marker=dict(size=11, color="#333"),
                        error_x=dict(type="data", symmetric=False, array=t["diff_high"] - t["difference"],
                                     arrayminus=t["difference"] - t["diff_low"]), showlegend=False, row=1, col=2)
        fig.add_vline(x=0, line_dash="dash", line_color="grey", row=1, col=2)
        fig.update_xaxes(title_text="paired difference in macro-F1 (95% CI)", zeroline=False, row=1, col=2)
    extra = 18 * (lines - 1)  # room above the panels for wrapped titles
    return _layout(fig, title, max(300, 150 + 55 * len(table)) + extra, margin=dict(l=70, r=30, t=70 + extra, b=60))


def scatter_errors_figure(table: pd.DataFrame) -> go.Figure:
    """table: valid_percent, duration_min, correct (bool), label -> errors against data quality: valid
    frames against session duration, or, when every session lasts the same, valid frames per class (a
    constant duration would be a flat line). Axes start at 0 or above, as the quantities do."""
    fig = go.Figure()
    constant = table.duration_min.max() - table.duration_min.min() < 0.01 * max(1e-9, table.duration_min.max())
    for ok, name, color in ((True, "correct", "#54A24B"), (False, "error", "#E45756")):
        for lab, symbol in ((0, "circle"), (1, "diamond")):
            sub = table[(table.correct == ok) & (table.label == lab)]
            y = [CLASS_NAMES[lab]] * len(sub) if constant else sub.duration_min
            fig.add_scatter(x=sub.valid_percent, y=y, mode="markers", name=f"{name}, {CLASS_NAMES[lab]}",
                            marker=dict(color=color, size=10, symbol=symbol, line=dict(color="white", width=1)))
    low = float(table.valid_percent.min()) if len(table) else 0.0
    fig.update_xaxes(title_text="valid frames (%)", range=[max(0.0, low - 0.05 * (100 - low) - 0.5), 100.5])
    if constant:
        fig.update_yaxes(title_text=f"true class (every session lasts {table.duration_min.iloc[0]:.1f} min)",
                         categoryorder="array", categoryarray=[CLASS_NAMES[0], CLASS_NAMES[1]])
    else:
        fig.update_yaxes(title_text="session duration (min)", range=[0, duration_limit(table.duration_min)])
    return _layout(fig, "Errors against data quality (first repeat)", 420)


def sweep_figure(table: pd.DataFrame, keys: list[str], title: str):
    """macro-F1 mean ± SD per point (CNN-LSTM), with the feature model and stratified random on the same folds."""
    labels = [", ".join(f"{k}={r[k]}" for k in keys) for _, r in table.iterrows()]
    fig = go.Figure()
    for name, col, color, symbol in (("CNN-LSTM", "macro_f1", "#E45756", "circle"),
                                     ("feature model", "feature_model", "#4C78A8", "diamond"),
                                     ("stratified random", "stratified_random", "#9d9d9d", "x")):
        fig.add_scatter(x=labels, y=table[f"{col}_mean"], mode="markers", name=name,
                        marker=dict(size=11 if col == "macro_f1" else 9, color=color, symbol=symbol),
                        error_y=dict(type="data", array=table[f"{col}_std"], color=color, thickness=1.2))
    fig.update_yaxes(title_text="macro-F1, mean ± SD over outer folds", range=[0, 1])
    fig.update_layout(title=title, height=420, template=TEMPLATE, legend=dict(orientation="h", y=-0.25),
                      scattermode="group", scattergap=0.6,
                      margin=dict(l=60, r=20, t=50, b=40))
    return fig


def regression_figure(predictions: pd.DataFrame) -> go.Figure:
    """predictions (a regression run's, first repeat): predicted against true PHQ-8 score (identity
    line, the cut-off at 10 on both axes, one colour per outer fold), and the residual against the
    true score (are severe cases pulled towards the mean?)."""
    p = predictions[predictions.repeat == predictions.repeat.min()]
    fig = make_subplots(1, 2, subplot_titles=("Predicted against true score", "Residual (predicted − true)"),
                        horizontal_spacing=0.12)
    for i, (fold, sub) in enumerate(p.groupby("fold")):
        color = qualitative.Plotly[i % len(qualitative.Plotly)]
        for col, y in ((1, sub.predicted_score), (2, sub.predicted_score - sub.true_score)):
            fig.add_scatter(x=sub.true_score, y=y, mode="markers", name=f"fold {fold}", legendgroup=f"fold {fold}",
                            showlegend=col == 1, marker=dict(color=color, size=9, line=dict(color="white", width=1)),
                            row=1, col=col)
    # one legend entry for both dashed lines: the identity line (left) is the zero-residual line (right)
    dashed = dict(mode="lines", name="predicted = true", legendgroup="exact", line=dict(color="grey", dash="dash"),
                  hoverinfo="skip")
    fig.add_scatter(x=[0, 24], y=[0, 24], row=1, col=1, **dashed)
    fig.add_scatter(x=[-0.5, 24.5], y=[0, 0], showlegend=False, row=1, col=2, **dashed)
    for col in (1, 2):
        fig.add_vline(x=10, line_dash="dot", line_color="#E45756", row=1, col=col)
    fig.add_hline(y=10, line_dash="dot", line_color="#E45756", row=1, col=1)
    fig.update_xaxes(title_text="true PHQ-8 score (dotted: the cut-off at 10)", range=[-0.5, 24.5])
    fig.update_yaxes(title_text="predicted PHQ-8 score", range=[-0.5, 24.5], row=1, col=1)
    fig.update_yaxes(title_text="predicted − true", row=1, col=2)
    return _layout(fig, "PHQ-8 severity: the network's out-of-fold predictions (first repeat)", 440)
