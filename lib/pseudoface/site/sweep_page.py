"""The website's Sweeps page: every sweep ``pseudoface sweep`` published under ``reports/_sweeps/``
(``sweep.json`` + ``sweep.csv`` per grid, aggregate scores only), one section each: macro-F1 ± SD
per point beside the feature model and stratified random on the same folds (:func:`result_plots.sweep_figure`)
and the table (markup: ``templates/sweeps.html.j2``).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from . import captions
from ..learning.intervals import number
from .captions import display_name
from .plots import PLOTLY_CONFIG
from .result_plots import sweep_figure

SWEEPS = Path("reports") / "_sweeps"  # what `pseudoface sweep` publishes (sweep.csv + sweep.json per grid)


def published_sweeps(root: Path) -> dict[str, tuple[dict, pd.DataFrame]]:
    """{grid name: (its sweep.json, its sweep.csv)} of every sweep published under reports/_sweeps/."""
    out = {}
    for folder in sorted((Path(root) / SWEEPS).glob("*/")):
        if (folder / "sweep.csv").is_file() and (folder / "sweep.json").is_file():
            out[folder.name] = (json.loads((folder / "sweep.json").read_text()), pd.read_csv(folder / "sweep.csv"))
    return out


def sweeps_body(sweeps: dict[str, tuple[dict, pd.DataFrame]]) -> str:
    """One section per published sweep: the figure and the table (each point beside its baselines);
    the markup is ``templates/sweeps.html.j2``."""
    f = number
    sections = []
    for name, (info, table) in sweeps.items():
        keys = [k for k in info.get("keys", []) if k in table.columns]
        fig = sweep_figure(table, keys, f"{name}: macro-F1 per point")
        shown = pd.DataFrame({
            "point": [", ".join(f"{k}={r[k]}" for k in keys) for _, r in table.iterrows()],
            "CNN-LSTM macro-F1": [f"{f(m)} ± {f(s)}" for m, s in zip(table.macro_f1_mean, table.macro_f1_std)],
            "ROC-AUC": [f"{f(m)} ± {f(s)}" for m, s in zip(table.roc_auc_mean, table.roc_auc_std)],
            "predicted positive": [f"{100 * x:.0f}%" for x in table.predicted_positive_rate],
            "feature model": [f"{f(m)} ± {f(s)}" for m, s in zip(table.feature_model_mean, table.feature_model_std)],
            "stratified random": [f"{f(m)} ± {f(s)}" for m, s in zip(table.stratified_random_mean,
                                                                       table.stratified_random_std)],
            "folds": [f"{n}" + (f" ({k} failed)" if k else "") for n, k in zip(table.folds, table.failed_folds)]})
        sections.append({"name": name, "dataset": display_name(info.get("dataset", "?")),
                         "synthetic": info.get("synthetic"), "params": str(info.get("params", "?")), "grid": keys,
                         "code_version": str(info.get("code_version", "?")),
                         "finished": str(info.get("finished", "?"))[:16].replace("T", " "),
                         "figure": Markup(fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)),
                         "table": Markup(shown.to_html(index=False, escape=True, border=0))})
    return captions.render("sweeps.html.j2", sweeps=sections)
