"""Plot functions: arrays or tidy frames in, a plotly figure out. Notebooks only show them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .face import REGIONS

CLASS_COLORS = {0: "#4C78A8", 1: "#E45756"}
CLASS_NAMES = {0: "not depressed", 1: "depressed"}


def flow_figure(flow: pd.DataFrame) -> go.Figure:
    """flow: columns step, participants (ordered)."""
    fig = go.Figure(go.Funnel(y=flow.step, x=flow.participants, textinfo="value"))
    return fig.update_layout(title="Participant flow", height=320, margin=dict(l=160))


def overview_figure(labels: pd.DataFrame) -> go.Figure:
    """labels: split, label, gender per participant -> counts by split and label, and by gender."""
    fig = make_subplots(1, 2, subplot_titles=("Participants per split", "Gender by label"))
    for lab in (0, 1):
        sub = labels[labels.label == lab]
        fig.add_bar(x=sub.split.value_counts().index, y=sub.split.value_counts().values, name=CLASS_NAMES[lab],
                    marker_color=CLASS_COLORS[lab], row=1, col=1, legendgroup=str(lab))
        fig.add_bar(x=sub.gender.value_counts().index, y=sub.gender.value_counts().values, name=CLASS_NAMES[lab],
                    marker_color=CLASS_COLORS[lab], row=1, col=2, legendgroup=str(lab), showlegend=False)
    return fig.update_layout(barmode="stack", height=360)


def quality_figure(quality: pd.DataFrame) -> go.Figure:
    """quality: duration_min, valid_percent, label -> histograms by label."""
    fig = make_subplots(1, 2, subplot_titles=("Session duration (min)", "Valid frames (%)"))
    for lab in (0, 1):
        sub = quality[quality.label == lab]
        fig.add_histogram(x=sub.duration_min, name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab], opacity=0.7,
                          row=1, col=1, legendgroup=str(lab))
        fig.add_histogram(x=sub.valid_percent, name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab], opacity=0.7,
                          row=1, col=2, legendgroup=str(lab), showlegend=False)
    return fig.update_layout(barmode="overlay", height=340)


def _face_traces(xyz: np.ndarray, color: str = "#333") -> list:
    traces = []
    for name, idx in REGIONS.items():
        p = xyz[list(idx)]
        traces.append(go.Scatter3d(x=p[:, 0], y=p[:, 2], z=-p[:, 1], mode="markers+lines", name=name,
                                   marker=dict(size=3), line=dict(width=2)))
    return traces


def face_figure(face: np.ndarray, title: str = "Mean face") -> go.Figure:
    """face: (68, 3) x right, y down, z depth -> 3-D scatter by region (drawn with y up)."""
    fig = go.Figure(_face_traces(face))
    return fig.update_layout(title=title, height=480, scene=dict(aspectmode="data", xaxis_title="x",
                                                                 yaxis_title="depth", zaxis_title="up"))


def face_animation(frames: np.ndarray, fps: float, title: str = "Session excerpt") -> go.Figure:
    """frames: (T, 68, 3) normalised landmarks -> animated 3-D face with a frame slider."""
    fig = go.Figure(_face_traces(frames[0]))
    fig.frames = [go.Frame(data=_face_traces(f), name=str(i)) for i, f in enumerate(frames)]
    lim = [float(np.nanmin(frames)), float(np.nanmax(frames))]
    steps = [dict(method="animate", args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True))],
                  label=f"{i / fps:.1f}s") for i in range(len(frames))]
    return fig.update_layout(
        title=title, height=520,
        scene=dict(aspectmode="cube", xaxis=dict(range=lim), yaxis=dict(range=lim), zaxis=dict(range=lim)),
        sliders=[dict(steps=steps, currentvalue=dict(prefix="t = "))],
        updatemenus=[dict(type="buttons", buttons=[dict(label="play", method="animate", args=[
            None, dict(frame=dict(duration=1000 / fps, redraw=True), fromcurrent=True)])])])


def signals_figure(t: np.ndarray, signals: dict, title: str) -> go.Figure:
    """signals: name -> (T,) series against time t (s)."""
    fig = make_subplots(len(signals), 1, shared_xaxes=True, subplot_titles=list(signals))
    for i, (name, y) in enumerate(signals.items(), start=1):
        fig.add_scatter(x=t, y=y, mode="lines", name=name, row=i, col=1, showlegend=False)
    fig.update_xaxes(title_text="time (s)", row=len(signals), col=1)
    return fig.update_layout(title=title, height=170 * len(signals) + 80)


def distribution_figure(table: pd.DataFrame, columns: list, title: str) -> go.Figure:
    """table: one row per participant with ``label`` and the given columns -> box plots by label."""
    fig = make_subplots(1, len(columns), subplot_titles=columns)
    for j, col in enumerate(columns, start=1):
        for lab in (0, 1):
            sub = table[table.label == lab]
            fig.add_box(y=sub[col], name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab], row=1, col=j,
                        showlegend=j == 1, legendgroup=str(lab), boxpoints="all", jitter=0.4)
    return fig.update_layout(title=title, height=380)


def pseudo_image_figure(image: np.ndarray, row_names: tuple, title: str, channel_names=("X", "Y", "Z"),
                        zmid: float | None = 0.5, x_title: str = "frame in window") -> go.Figure:
    """image: (C, R, W) -> one heatmap per channel, rows labelled by region, time on x."""
    C = image.shape[0]
    fig = make_subplots(1, C, subplot_titles=[channel_names[c] if c < len(channel_names) else f"ch{c}"
                                              for c in range(C)], shared_yaxes=True)
    for c in range(C):
        fig.add_heatmap(z=image[c], y=list(row_names), colorscale="RdBu_r", zmid=zmid, row=1, col=c + 1,
                        showscale=c == C - 1)
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=7))
    fig.update_xaxes(title_text=x_title)
    return fig.update_layout(title=title, height=max(380, 7 * image.shape[1] + 120))


def learning_curves_figure(history: pd.DataFrame, chosen: pd.DataFrame) -> go.Figure:
    """history: repeat, fold, epoch, train_loss, val_loss; chosen: repeat, fold, best_epoch."""
    fig = make_subplots(1, 2, subplot_titles=("inner-train loss", "inner-validation loss"))
    for (r, f), g in history.groupby(["repeat", "fold"]):
        name = f"r{r} f{f}"
        fig.add_scatter(x=g.epoch, y=g.train_loss, mode="lines", name=name, legendgroup=name, row=1, col=1)
        fig.add_scatter(x=g.epoch, y=g.val_loss, mode="lines", name=name, legendgroup=name, showlegend=False,
                        row=1, col=2)
    for row in chosen.itertuples():
        g = history[(history.repeat == row.repeat) & (history.fold == row.fold) & (history.epoch == row.best_epoch)]
        fig.add_scatter(x=g.epoch, y=g.val_loss, mode="markers", marker=dict(size=10, symbol="star", color="black"),
                        showlegend=False, row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    return fig.update_layout(title="Learning curves (star: epoch chosen on inner validation)", height=380)


def roc_figure(predictions: pd.DataFrame) -> go.Figure:
    """Per-fold ROC curves, their mean +- SD band on a common FPR grid, and the chance line."""
    from sklearn.metrics import roc_curve
    grid = np.linspace(0, 1, 101)
    fig, tprs = go.Figure(), []
    for (r, f), g in predictions.groupby(["repeat", "fold"]):
        if g.label.nunique() < 2:
            continue
        fpr, tpr, _ = roc_curve(g.label, g.score)
        tprs.append(np.interp(grid, fpr, tpr))
        fig.add_scatter(x=fpr, y=tpr, mode="lines", line=dict(width=1), opacity=0.5, name=f"r{r} f{f}")
    if tprs:
        mean, sd = np.mean(tprs, 0), np.std(tprs, 0, ddof=1) if len(tprs) > 1 else np.zeros_like(grid)
        fig.add_scatter(x=np.r_[grid, grid[::-1]], y=np.r_[np.clip(mean + sd, 0, 1), np.clip(mean - sd, 0, 1)[::-1]],
                        fill="toself", fillcolor="rgba(100,100,100,0.2)", line=dict(width=0), name="mean ± SD")
        fig.add_scatter(x=grid, y=mean, mode="lines", line=dict(width=3, color="black"), name="mean ROC")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"), name="chance")
    return fig.update_layout(title="ROC per outer fold", xaxis_title="false positive rate",
                             yaxis_title="true positive rate", height=460, width=560)


def confusion_figure(confusion: np.ndarray, title: str = "Confusion matrix (all outer folds)") -> go.Figure:
    """confusion: [[tn, fp], [fn, tp]]."""
    z = np.asarray(confusion)
    fig = go.Figure(go.Heatmap(z=z, x=["pred: not", "pred: depressed"], y=["true: not", "true: depressed"],
                               text=z, texttemplate="%{text}", colorscale="Blues", showscale=False))
    return fig.update_layout(title=title, height=340, width=420, yaxis=dict(autorange="reversed"))


def threshold_sweep_figure(sweep: pd.DataFrame) -> go.Figure:
    """sweep: threshold, macro_f1, predicted_positive_rate (a diagnostic, not a choice)."""
    fig = go.Figure()
    fig.add_scatter(x=sweep.threshold, y=sweep.macro_f1, name="macro-F1")
    fig.add_scatter(x=sweep.threshold, y=sweep.predicted_positive_rate, name="predicted-positive rate")
    return fig.update_layout(title="Threshold sweep on out-of-fold scores — diagnostic only (thresholds are "
                                   "chosen on inner validation)", xaxis_title="threshold", height=380)


def comparison_figure(table: pd.DataFrame, title: str) -> go.Figure:
    """table: name, mean, std (macro-F1) -> bars with SD error bars."""
    fig = go.Figure(go.Bar(x=table["name"], y=table["mean"], error_y=dict(type="data", array=table["std"]),
                           marker_color=["#E45756" if i == 0 else "#9ecae9" for i in range(len(table))]))
    return fig.update_layout(title=title, yaxis_title="macro-F1 (mean ± SD over folds)", yaxis_range=[0, 1],
                             height=380)


def scatter_errors_figure(table: pd.DataFrame) -> go.Figure:
    """table: valid_percent, duration_min, correct (bool), label -> errors against data quality."""
    fig = go.Figure()
    for ok, name, color in ((True, "correct", "#54A24B"), (False, "error", "#E45756")):
        sub = table[table.correct == ok]
        fig.add_scatter(x=sub.valid_percent, y=sub.duration_min, mode="markers", name=name,
                        marker=dict(color=color, size=9, symbol=[("circle" if l == 0 else "diamond") for l in sub.label]))
    return fig.update_layout(title="Errors against data quality (diamond: depressed)", xaxis_title="valid frames (%)",
                             yaxis_title="duration (min)", height=380)
