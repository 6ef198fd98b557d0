"""Figures of :mod:`explain`: tidy frames and arrays in, plotly figures out (the conventions of
:mod:`plots`: axis titles with units, signed values on a diverging map centred on 0)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .plots import _layout, robust_limit

MODEL_COLORS = {"network": "#4C78A8", "feature_model": "#F58518"}
MODEL_LABELS = {"network": "network (CNN-LSTM)", "feature_model": "motion-feature model"}


def group_bar_figure(stability: pd.DataFrame) -> go.Figure:
    """``explain.stability`` frame (model, group, mean_abs_delta, sd_abs_delta, folds) -> one panel per
    model, each on its own y-axis (the network's and the feature model's logits have different
    scales), bars of mean |Δ logit| per group, largest first (the order the sentence ranks in); error
    bars the SD over folds, the lower one clipped at 0 (|Δ| cannot be negative). A group only the
    other model has is named under the panel that has no bar for it."""
    models = list(dict.fromkeys(stability.sort_values("model", key=lambda s: s != "network", kind="stable").model))
    fig = make_subplots(rows=1, cols=max(1, len(models)), horizontal_spacing=0.12,
                        subplot_titles=[MODEL_LABELS.get(m, m) for m in models] or None)
    for col, model in enumerate(models, start=1):
        sub = stability[stability.model == model].sort_values("mean_abs_delta", ascending=False, kind="stable")
        sd = sub.sd_abs_delta.fillna(0).to_numpy()
        fig.add_trace(go.Bar(x=sub.group, y=sub.mean_abs_delta, name=MODEL_LABELS.get(model, model),
                             marker_color=MODEL_COLORS.get(model), showlegend=False,
                             error_y=dict(type="data", symmetric=False, array=sd, visible=True,
                                          arrayminus=np.minimum(sd, sub.mean_abs_delta.to_numpy())),
                             hovertemplate="%{x}: %{y:.3f} ± %{error_y.array:.3f}<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title=f"mean |Δ logit|, {MODEL_LABELS.get(model, model)}", rangemode="tozero", row=1, col=col)
        fig.update_xaxes(title="input group", row=1, col=col)
        missing = sorted(set(stability.group) - set(sub.group))
        if missing:
            fig.add_annotation(text=f"no bar for {', '.join(missing)}: not in this model's input", showarrow=False,
                               xref=f"x{col if col > 1 else ''} domain", yref=f"y{col if col > 1 else ''} domain",
                               x=1, y=1, xanchor="right", yanchor="top", font=dict(size=11))
    folds = int(stability.folds.max()) if len(stability) else 0
    return _layout(fig, f"What each model uses: mean ± SD over {folds} folds (each model on its own scale)", 460)


def logit_name(calibration: str) -> str:
    """What the network's explained output is called: its logit after the Platt map when
    ``train.calibration`` is ``platt``; with ``none`` that map is the identity, the plain logit."""
    return "calibrated logit" if calibration == "platt" else "logit"


def profile_note(profile: dict, calibration: str) -> str:
    """``explain.profile_sentence``, naming the logit as the run's ``train.calibration`` has it."""
    from ..learning import explain
    return explain.profile_sentence(profile, calibration)


def time_profile_figure(profile: dict, calibration: str = "none") -> go.Figure:
    """``explain.participant_profile`` dict -> top: the participant's pseudo-image (value channels,
    from each row's neutral) over the session; bottom: each group x stretch's contribution to the
    network's logit (calibrated when ``calibration`` is ``platt``; positive: pushes the score towards
    depressed)."""
    delta = f"Δ {logit_name(calibration)}"
    fps = profile["fps"]
    image = np.asarray(profile["image"])  # (rows x channels, frames)
    t = np.arange(image.shape[1]) / fps
    grid = np.asarray(profile["grid"])  # (G, S)
    starts, ends = np.array(profile["spans"]).T
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.6, 0.4], subplot_titles=("pseudo-image (value − neutral)",
                                                                f"contribution of group × stretch ({delta})"))
    lim = robust_limit(image) or 1.0
    fig.add_trace(go.Heatmap(z=image, x=t, y=profile["image_rows"], colorscale="RdBu_r", zmid=0, zmin=-lim, zmax=lim,
                             colorbar=dict(title="value", y=0.72, len=0.55),
                             hovertemplate="%{y} at %{x:.1f} s: %{z:.3f}<extra></extra>"), row=1, col=1)
    glim = float(np.max(np.abs(grid))) or 1.0
    centres = (starts + ends) / 2
    fig.add_trace(go.Heatmap(z=grid, x=centres, y=profile["groups"], colorscale="RdBu_r", zmid=0, zmin=-glim,
                             zmax=glim, colorbar=dict(title=delta, y=0.2, len=0.38),
                             hovertemplate="%{y} around %{x:.0f} s: %{z:+.3f}<extra></extra>"), row=2, col=1)
    fig.update_xaxes(title="time in the session (s)", row=2, col=1)
    fig.update_yaxes(showticklabels=len(profile["image_rows"]) <= 30, row=1, col=1)
    label = "depressed" if profile["label"] else "not depressed"
    return _layout(fig, f"Participant {profile['participant_id']} ({label}): where and when the network looks", 620)
