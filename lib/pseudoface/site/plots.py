"""Plot functions: arrays or tidy frames in, a plotly figure out. Notebooks only show them. This module
holds the conventions, the offline renderer and the figures of the corpus (participant flow, quality,
the 3-D face, signals, amplitude by label, pseudo-images: notebooks 01 and 02); the figures of a
finished run are :mod:`result_plots`', of the occlusion explanations :mod:`explain_plots`'.

Conventions: every axis has a title with its unit; classes are blue (not depressed) and red
(depressed) everywhere; one colour per outer fold, the same in every panel; signed values and
differences on a diverging map centred on 0, magnitudes on a sequential map.
"""
from __future__ import annotations

import os
import re
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.io._base_renderers import NotebookRenderer
from plotly.subplots import make_subplots

from ..corpora.face import REGIONS

CLASS_COLORS = {0: "#4C78A8", 1: "#E45756"}
CLASS_NAMES = {0: "not depressed", 1: "depressed"}
FOLD_COLORS = qualitative.D3 + qualitative.Dark24
FACE_AXES = ("x (image right)", "depth", "up")  # the same names in stills and animation
TEMPLATE = "plotly_white"


OFFLINE_RENDERER = "plotly_mimetype+offline_notebook"  # JupyterLab's plotly JSON + HTML that draws offline
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "displayModeBar": "hover"}


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's `notebook` renderer (plotly.js embedded once per notebook) without the MathJax
    ``<script src>`` from a CDN that plotly 7 writes into every figure: no figure here uses LaTeX,
    and a page must draw air-gapped without asking the internet for anything."""

    def to_mimebundle(self, fig_dict):
        bundle = super().to_mimebundle(fig_dict)
        bundle["text/html"] = re.sub(r'<script src="https?://[^"]*"></script>', "", bundle["text/html"])
        return bundle


def use_offline_renderer() -> None:
    """Register the offline renderer and make ``$PLOTLY_RENDERER`` (default: JupyterLab's plotly JSON
    + the offline HTML) the default, for the notebooks' setup calls."""
    pio.renderers["offline_notebook"] = OfflineNotebookRenderer(config=PLOTLY_CONFIG)
    pio.renderers.default = os.environ.get("PLOTLY_RENDERER", OFFLINE_RENDERER)


def _layout(fig: go.Figure, title: str, height: int, **kw) -> go.Figure:
    margin = kw.pop("margin", dict(l=70, r=30, t=70, b=60))
    return fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height, template=TEMPLATE,
                             margin=margin, **kw)


def flow_figure(flow: pd.DataFrame) -> go.Figure:
    """flow: columns step, participants (ordered)."""
    fig = go.Figure(go.Funnel(y=flow.step, x=flow.participants, textinfo="value", marker_color="#4C78A8"))
    return _layout(fig, "Participant flow", 320, margin=dict(l=170, r=30, t=60, b=40))


def overview_figure(labels: pd.DataFrame) -> go.Figure:
    """labels: split, label, gender per participant -> counts by split and by gender, stacked by label."""
    fig = make_subplots(1, 2, subplot_titles=("Participants per split", "Participants per gender"))
    splits = sorted(labels.split.unique())
    genders = sorted(labels.gender.astype(str).unique())
    for lab in (0, 1):
        sub = labels[labels.label == lab]
        fig.add_bar(x=splits, y=[int((sub.split == s).sum()) for s in splits], name=CLASS_NAMES[lab],
                    marker_color=CLASS_COLORS[lab], row=1, col=1, legendgroup=str(lab))
        fig.add_bar(x=genders, y=[int((sub.gender.astype(str) == g).sum()) for g in genders], name=CLASS_NAMES[lab],
                    marker_color=CLASS_COLORS[lab], row=1, col=2, legendgroup=str(lab), showlegend=False)
    fig.update_xaxes(title_text="split", row=1, col=1)
    fig.update_xaxes(title_text="gender", row=1, col=2)
    fig.update_yaxes(title_text="participants")
    return _layout(fig, "Corpus overview", 380, barmode="stack")


def _by_label_panel(fig: go.Figure, values: pd.Series, labels: pd.Series, col: int, show_legend: bool) -> None:
    """Overlaid histograms with shared bins, or a strip plot when there are few distinct values
    (a histogram of a constant is one uninformative bar)."""
    distinct = values.nunique()
    if distinct <= 5:
        for lab in (0, 1):
            v = values[labels == lab]
            fig.add_box(x=[CLASS_NAMES[lab]] * len(v), y=v, name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab],
                        boxpoints="all", jitter=0.5, pointpos=0, fillcolor="rgba(0,0,0,0)", line_width=0,
                        row=1, col=col, legendgroup=str(lab), showlegend=show_legend)
        return
    lo, hi = float(values.min()), float(values.max())
    size = (hi - lo) / min(20, max(5, distinct // 2))
    for lab in (0, 1):
        fig.add_histogram(x=values[labels == lab], name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab],
                          opacity=0.55, marker_line=dict(color=CLASS_COLORS[lab], width=1.5),
                          xbins=dict(start=lo, end=hi + size, size=size), row=1, col=col,
                          legendgroup=str(lab), showlegend=show_legend)


def quality_figure(quality: pd.DataFrame) -> go.Figure:
    """quality: duration_min, valid_percent, label -> per measure, the two classes overlaid."""
    fig = make_subplots(1, 2, subplot_titles=("Session duration", "Valid frames"))
    for col, (name, unit) in enumerate((("duration_min", "duration (min)"), ("valid_percent", "valid frames (%)")), 1):
        _by_label_panel(fig, quality[name], quality.label, col, col == 2)
        strip = quality[name].nunique() <= 5
        fig.update_xaxes(title_text="label" if strip else unit, row=1, col=col)
        fig.update_yaxes(title_text=unit if strip else "participants", row=1, col=col)
    # a duration cannot be negative: its axis starts at 0 (autorange pads a constant duration to below 0)
    duration_axis = fig.update_yaxes if quality.duration_min.nunique() <= 5 else fig.update_xaxes
    duration_axis(range=[0, duration_limit(quality.duration_min)], row=1, col=1)
    return _layout(fig, "Data quality by label (classes overlaid)", 380, barmode="overlay")


def duration_limit(minutes: pd.Series) -> float:
    """The upper end of a duration axis that starts at 0: 5% above the longest session (1 min when none)."""
    return 1.05 * float(minutes.max()) if len(minutes) and minutes.max() > 0 else 1.0


def _face_traces(xyz: np.ndarray, showlegend: bool = True) -> list:
    traces = []
    for i, (name, idx) in enumerate(REGIONS.items()):
        p = xyz[list(idx)]
        traces.append(go.Scatter3d(x=p[:, 0], y=p[:, 2], z=-p[:, 1], mode="markers+lines", name=name,
                                   marker=dict(size=3, color=FOLD_COLORS[i]), line=dict(width=3, color=FOLD_COLORS[i]),
                                   showlegend=showlegend))
    return traces


def _face_scene(points: np.ndarray) -> dict:
    """A frontal camera (looking along +depth, up is up) and ranges that hold every point with a margin."""
    xyz = np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1).reshape(-1, 3)
    lo, hi = np.nanmin(xyz, axis=0), np.nanmax(xyz, axis=0)
    pad = 0.08 * (hi - lo).max()
    lo, hi = lo - pad, hi + pad
    span = hi - lo
    axes = {f"{a}axis": dict(range=[float(lo[i]), float(hi[i])], title=FACE_AXES[i], showticklabels=a != "y")
            for i, a in enumerate("xyz")}  # depth points at the viewer: its tick labels would pile up
    return dict(**axes, aspectmode="manual", aspectratio=dict(zip("xyz", (span / span.max()).tolist())),
                camera=dict(eye=dict(x=0.0, y=-1.9, z=0.25), up=dict(x=0, y=0, z=1), center=dict(x=0, y=0, z=0)))


def face_figure(face: np.ndarray, title: str = "Mean face") -> go.Figure:
    """face: (68, 3) x right, y down, z depth -> 3-D landmarks by region, seen from the front (y drawn up)."""
    fig = go.Figure(_face_traces(face))
    return _layout(fig, title, 520, scene=_face_scene(face), margin=dict(l=0, r=0, t=60, b=0))


def face_animation(frames: np.ndarray, fps: float, title: str = "Session excerpt") -> go.Figure:
    """frames: (T, 68, 3) normalised landmarks -> animated 3-D face with a time slider, fixed axes."""
    fig = go.Figure(_face_traces(frames[0]))
    fig.frames = [go.Frame(data=_face_traces(f), name=str(i)) for i, f in enumerate(frames)]
    steps = [dict(method="animate", args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True))],
                  label=f"{i / fps:.1f}") for i in range(len(frames))]
    # step labels hidden (one per frame would overprint); the current time is shown above the slider
    return _layout(fig, title, 620, scene=_face_scene(frames), margin=dict(l=0, r=0, t=60, b=20),
                   sliders=[dict(steps=steps, x=0.1, len=0.9, ticklen=0, minorticklen=0,
                                 font=dict(color="rgba(0,0,0,0)"), currentvalue=dict(
                                     prefix="time (s): ", font=dict(color="#333", size=13)), pad=dict(t=10))],
                   updatemenus=[dict(type="buttons", x=0, y=0, xanchor="left", yanchor="top", pad=dict(t=10), buttons=[dict(
                       label="play", method="animate",
                       args=[None, dict(frame=dict(duration=1000 / fps, redraw=True), fromcurrent=True)])])])


HEATMAP_LINES = 8  # a panel of more lines than this is drawn as a heatmap


def signals_figure(t: np.ndarray, signals: dict, title: str) -> go.Figure:
    """signals: 'name (unit)' -> (T,) series against time t (s), one panel each; or -> {line name: (T,)}
    for several lines in one panel (with its own legend beside it), drawn as a heatmap (one row per
    line, sequential from 0) when more than ``HEATMAP_LINES`` (e.g. 17 action-unit intensities)."""
    heights = [3 if isinstance(y, dict) and len(y) > HEATMAP_LINES else 1 for y in signals.values()]
    fig = make_subplots(len(signals), 1, shared_xaxes=True, vertical_spacing=0.04, row_heights=heights)
    legends = {}
    for i, (name, y) in enumerate(signals.items(), start=1):
        lo, hi = fig.get_subplot(i, 1).yaxis.domain
        if not isinstance(y, dict):
            fig.add_scatter(x=t, y=y, mode="lines", name=name, row=i, col=1, showlegend=False, line=dict(width=1.2))
        elif len(y) > HEATMAP_LINES:
            fig.add_heatmap(x=t, y=list(y), z=np.stack(list(y.values())), zmin=0, zmax=robust_limit(*y.values()),
                            colorscale="Viridis", row=i, col=1,
                            hovertemplate="%{y}<br>%{x:.1f} s<br>%{z:.3g}<extra></extra>",
                            colorbar=dict(title=dict(text=name.split(" (")[-1].rstrip(")"), side="right"),
                                          y=(lo + hi) / 2, len=hi - lo, yanchor="middle", thickness=14))
            fig.update_yaxes(autorange="reversed", type="category", tickfont=dict(size=10), row=i, col=1)
        else:
            legend = f"legend{len(legends) + 2}" if legends else "legend"
            legends[legend] = dict(y=hi, yanchor="top", x=1.01, xanchor="left", font=dict(size=11))
            for j, (line, v) in enumerate(y.items()):
                fig.add_scatter(x=t, y=v, mode="lines", name=line, row=i, col=1, legend=legend,
                                line=dict(width=1.2, color=FOLD_COLORS[j]))
        fig.update_yaxes(title_text=name.replace(" (", "<br>("), row=i, col=1)
    fig.update_xaxes(title_text="time (s)", row=len(signals), col=1)
    return _layout(fig, title, 150 * sum(heights) + 110, **legends)


def au_intensity_figure(table: pd.DataFrame) -> go.Figure:
    """table: label, au, intensity (one row per participant and action unit) -> box plots by AU, the
    classes side by side, every participant a point."""
    fig = go.Figure()
    for lab in (0, 1):
        sub = table[table.label == lab]
        fig.add_box(x=sub.au, y=sub.intensity, name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab],
                    boxpoints="all", jitter=0.4, pointpos=0, marker_size=4)
    fig.update_xaxes(title_text="action unit")
    fig.update_yaxes(title_text="mean intensity over the session (0–5)", rangemode="tozero")
    return _layout(fig, "Mean action-unit intensity by label", 440, boxmode="group")


def distribution_figure(table: pd.DataFrame, columns: list, title: str) -> go.Figure:
    """table: one row per participant with ``label`` and the given columns -> box plots by label."""
    fig = make_subplots(1, len(columns), subplot_titles=[c.split(" (")[0] for c in columns], horizontal_spacing=0.08)
    for j, col in enumerate(columns, start=1):
        for lab in (0, 1):
            sub = table[table.label == lab]
            fig.add_box(y=sub[col], name=CLASS_NAMES[lab], marker_color=CLASS_COLORS[lab], row=1, col=j,
                        showlegend=j == 1, legendgroup=str(lab), boxpoints="all", jitter=0.4, pointpos=0)
        unit = col.split(" (")[1].rstrip(")") if " (" in col else ""
        fig.update_yaxes(title_text=unit, row=1, col=j, title_standoff=2)
    fig.update_xaxes(showticklabels=False)
    lines = fit_subplot_titles(fig)
    return _layout(fig, title, 420 + 18 * (lines - 1), margin=dict(l=70, r=30, t=70 + 18 * (lines - 1), b=60))


SUBPLOT_TITLE_SIZE = 13  # px
PAGE_PLOT_WIDTH = 640  # px: a figure's plotting width on a narrow page (both builds' text column is wider)


def fit_subplot_titles(fig: go.Figure) -> int:
    """Break each subplot title at spaces (``<br>``, at :data:`SUBPLOT_TITLE_SIZE`) so that every line
    fits its panel on a narrow page (:data:`PAGE_PLOT_WIDTH`, about 0.6 × the font size per
    character): side-by-side titles that ran together (five panels on E-DAIC page 1) each keep to
    their own panel. Returns the most lines a title has."""
    centres = {round(sum(fig.layout[k].domain) / 2, 6): fig.layout[k].domain for k in fig.layout if k.startswith("xaxis")}
    lines = 1
    for a in fig.layout.annotations:
        lo, hi = centres.get(round(a.x, 6), (0, 1))
        width = max(8, int((hi - lo) * PAGE_PLOT_WIDTH / (0.6 * SUBPLOT_TITLE_SIZE)))
        a.text = "<br>".join(textwrap.wrap(a.text, width, break_long_words=False)) or a.text
        a.font.size = SUBPLOT_TITLE_SIZE
        lines = max(lines, a.text.count("<br>") + 1)
    return lines


def _row_axis(rows: tuple) -> dict:
    """y ticks: one label per facial region (at its middle row) when rows are landmarks, else every row."""
    regions = [r.split(" ")[0] for r in rows]
    if len(rows) >= 60 and regions[0] == "jaw":
        ticks, start = [], 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or regions[i] != regions[start]:
                ticks.append((rows[(start + i - 1) // 2], regions[start]))
                start = i
        return dict(tickvals=[t for t, _ in ticks], ticktext=[n for _, n in ticks], regions=True)
    return dict(tickvals=list(rows), ticktext=list(rows))


def robust_limit(*arrays: np.ndarray, q: float = 99.0) -> float:
    """The q-th percentile of |values| over all arrays (colour limits that one outlier does not set)."""
    v = np.abs(np.concatenate([np.ravel(a) for a in arrays]))
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if v.size and np.percentile(v, q) > 0 else 1.0


COLORBAR_TICK_PX = 24  # px per colour-bar tick label at font size 10, with room between labels


def colorbar_ticks(height_px: float, limit: float, signed: bool) -> dict:
    """Tick settings of a colour bar ``height_px`` tall over [-limit, limit] (signed) or [0, limit]: at most
    one label per :data:`COLORBAR_TICK_PX`; a bar with room for fewer than four (a block of two or three
    rows) is labelled at its ends and 0 only (with plotly's minus sign), so that it still shows its range.
    A 90 px bar took five or six labels that ran into each other (E-DAIC page 2's head rotation bars)."""
    fits = int(height_px // COLORBAR_TICK_PX)
    if fits >= 4:
        return dict(nticks=fits, tickfont=dict(size=10))
    values = [-limit, 0.0, limit] if signed else [0.0, limit]
    labels = [f"{v:.2g}".replace("-", "−") for v in values]
    return dict(tickmode="array", tickvals=values, ticktext=labels, tickfont=dict(size=10))


def pseudo_image_figure(blocks: list, title: str, channel_names=("X", "Y", "Z"), signed: bool = True,
                        limits: list | None = None, x_title: str = "time in window (s)", x_values=None) -> go.Figure:
    """blocks: [{"z": (C, R, W), "rows": R names, "unit": colour-bar title, optional "title": a heading
    above the block}] -> one subplot row per block, one heatmap per channel; the channels of a block
    share one colour scale (its own colour bar).

    signed: diverging map centred on 0 with symmetric limits (values, differences); else a sequential
    map from 0 (magnitudes). limits: one per block (default: the block's 99th percentile of |z|)."""
    C = blocks[0]["z"].shape[0]
    # pixels per row: landmark rows are labelled per region, other rows one by one (readable labels)
    # (a block's colour-bar title needs about 90 px)
    heights = [max(len(b["rows"]) * (5 if "regions" in _row_axis(b["rows"]) else 13), 90 if len(blocks) > 1 else 40)
               for b in blocks]
    fig = make_subplots(len(blocks), C, shared_xaxes=True, horizontal_spacing=0.02, vertical_spacing=0.06,
                        row_heights=[h / sum(heights) for h in heights],
                        subplot_titles=[channel_names[c] if c < len(channel_names) else f"channel {c}"
                                        for c in range(C)] + [""] * (C * (len(blocks) - 1)))
    height = max(360, sum(heights) + 170)
    plot_px = height - 130  # less the top and bottom margins of _layout
    for b, block in enumerate(blocks):
        lim = limits[b] if limits else robust_limit(block["z"])
        lo, hi = fig.get_subplot(b + 1, 1).yaxis.domain  # each colour bar beside its own block
        axis = f"coloraxis{b + 1}" if b else "coloraxis"
        fig.update_layout({axis: dict(
            colorscale="RdBu_r" if signed else "Viridis", cmin=-lim if signed else 0, cmax=lim,
            colorbar=dict(title=dict(text=block["unit"], side="right"), len=hi - lo, y=(lo + hi) / 2, yanchor="middle",
                          thickness=14, **colorbar_ticks((hi - lo) * plot_px, lim, signed)))})
        if block.get("title"):
            fig.add_annotation(text=block["title"], xref="paper", yref="paper", x=0, y=hi, xanchor="left",
                               yanchor="bottom", showarrow=False, font=dict(size=12))
        x = x_values if x_values is not None else np.arange(block["z"].shape[-1])
        for c in range(C):
            fig.add_heatmap(z=block["z"][c], x=x, y=list(block["rows"]), coloraxis=axis,
                            hovertemplate="%{y}<br>%{x}<br>%{z:.3g}<extra></extra>", row=b + 1, col=c + 1)
            ticks = {k: v for k, v in _row_axis(block["rows"]).items() if k != "regions"}
            fig.update_yaxes(autorange="reversed", showticklabels=c == 0, type="category", row=b + 1, col=c + 1,
                             tickfont=dict(size=10), **ticks)
    fig.update_xaxes(title_text=x_title, row=len(blocks))
    return _layout(fig, title, height)
