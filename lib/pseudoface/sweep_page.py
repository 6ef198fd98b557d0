"""The website's Sweeps page: every sweep ``pseudoface sweep`` published under ``reports/_sweeps/``
(``sweep.json`` + ``sweep.csv`` per grid, aggregate scores only), one section each: macro-F1 ± SD
per point beside the feature model and stratified random on the same folds (:func:`plots.sweep_figure`)
and the table.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from . import results
from .captions import display_name
from .plots import PLOTLY_CONFIG, sweep_figure

SWEEPS = Path("reports") / "_sweeps"  # what `pseudoface sweep` publishes (sweep.csv + sweep.json per grid)


def published_sweeps(root: Path) -> dict[str, tuple[dict, pd.DataFrame]]:
    """{grid name: (its sweep.json, its sweep.csv)} of every sweep published under reports/_sweeps/."""
    out = {}
    for folder in sorted((Path(root) / SWEEPS).glob("*/")):
        if (folder / "sweep.csv").is_file() and (folder / "sweep.json").is_file():
            out[folder.name] = (json.loads((folder / "sweep.json").read_text()), pd.read_csv(folder / "sweep.csv"))
    return out


def sweeps_body(sweeps: dict[str, tuple[dict, pd.DataFrame]]) -> str:
    """One section per published sweep: the figure and the table (each point beside its baselines)."""
    parts = ["<p>Each point of a sweep (<code>pseudoface sweep GRID.yaml</code>) is an ordinary cross-validated run "
             "of its configuration; the feature model and stratified random are fitted in the same outer folds as "
             "the point's CNN-LSTM. Points differ in the grid's keys only.</p>"]
    if not sweeps:
        parts.append("<p>No sweep is published yet.</p>")
    f = results._f
    for name, (info, table) in sweeps.items():
        keys = [k for k in info.get("keys", []) if k in table.columns]
        kind = " (synthetic corpus)" if info.get("synthetic") else ""
        parts.append(f'<h2 id="{html.escape(name)}">{html.escape(name)}: {display_name(info.get("dataset", "?"))}{kind}</h2>')
        parts.append(f'<p class="pf-prov">Base <code>{html.escape(str(info.get("params", "?")))}</code> · grid over '
                     f'{", ".join(f"<code>{html.escape(k)}</code>" for k in keys)} · code version '
                     f'<code>{html.escape(str(info.get("code_version", "?")))}</code> · finished '
                     f'{html.escape(str(info.get("finished", "?"))[:16].replace("T", " "))}</p>')
        fig = sweep_figure(table, keys, f"{name}: macro-F1 per point")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG))
        shown = pd.DataFrame({
            "point": [", ".join(f"{k}={r[k]}" for k in keys) for _, r in table.iterrows()],
            "CNN-LSTM macro-F1": [f"{f(m)} ± {f(s)}" for m, s in zip(table.macro_f1_mean, table.macro_f1_std)],
            "ROC-AUC": [f"{f(m)} ± {f(s)}" for m, s in zip(table.roc_auc_mean, table.roc_auc_std)],
            "predicted positive": [f"{100 * x:.0f}%" for x in table.predicted_positive_rate],
            "feature model": [f"{f(m)} ± {f(s)}" for m, s in zip(table.feature_model_mean, table.feature_model_std)],
            "stratified random": [f"{f(m)} ± {f(s)}" for m, s in zip(table.stratified_random_mean,
                                                                       table.stratified_random_std)],
            "folds": [f"{n}" + (f" ({k} failed)" if k else "") for n, k in zip(table.folds, table.failed_folds)]})
        parts.append(shown.to_html(index=False, escape=True, border=0))
    return "\n".join(parts)
