"""A cross-corpus transfer on the site: its report (``reports/<name>/transfer.json``, aggregates only,
published whole like a dataset's notebooks) and its page and index card, the same for both renderers.

A transfer is published under its params file's name (``params/daic_woz_to_e_daic.yaml`` ->
``reports/daic_woz_to_e_daic/``): it trains on one corpus and scores another, so it is neither
corpus's dataset. Its numbers are :mod:`learning.transfer`'s: each model's macro-F1 on the test
corpus with a participant bootstrap interval (one test set, no folds), the same models' within-corpus
macro-F1 on the same participants, and the transfer gap with a paired bootstrap interval.
"""
from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

from markupsafe import Markup

from . import captions
from ..corpora.cache import replace_dir
from .captions import display_name
from ..learning.intervals import BOOTSTRAP_KEY, ci_text, number
from ..learning.transfer import ADAPTATIONS, MODELS, TRANSFER_JSON, TRANSFER_VERSION, best_trivial
from ..params import Params
from .privacy import check_published, private_paths, scrub

PAGE = "transfer"  # reports/<name>/transfer.html (and .qmd for Quarto)
PAGE_TITLE = "Cross-corpus transfer"
MODEL_NAMES = {"network": "network (CNN-LSTM)", "feature_model": "motion-feature model", "fused_model": "fused model"}
BASELINE_NAMES = {"majority": "majority class", "always_depressed": "always depressed",
                  "stratified_random": "stratified random", "gender_only": "gender only", "data_quality": "data quality"}
ADAPTATION_NAMES = {"none": "no adaptation", "standardise": "each corpus standardised by its own inputs"}
BOOTSTRAP = "participant bootstrap"  # how the page names its interval
UNIT = (0.0, 1.0)


def transfer_name(params_file: str) -> str:
    """The site folder of a transfer: its params file's stem."""
    return Path(params_file).stem


def publish_transfer(name: str, params: Params, root: Path, summary: dict) -> Path:
    """Write ``summary`` (private paths scrubbed, stamped) into ``reports/<name>/`` in one rename."""
    paths = private_paths(params, root)
    staging = root / "reports" / "_partial" / name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    stamp = {"report": uuid.uuid4().hex[:12], "name": name, "published": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (staging / TRANSFER_JSON).write_text(json.dumps(scrub(summary | {"stamp": stamp}, paths), indent=1, default=float))
    check_published(staging, paths)
    final = root / "reports" / name
    replace_dir(staging, final, root / "reports" / "_partial" / f"{name}.previous")
    return final


def published_transfers(root: Path) -> dict[str, dict]:
    """{name: transfer.json} of every published transfer under reports/ (by name)."""
    out = {}
    reports = Path(root) / "reports"
    for path in sorted(reports.glob(f"*/{TRANSFER_JSON}")) if reports.is_dir() else []:
        if path.parent.name.startswith(("_", ".")):
            continue
        summary = json.loads(path.read_text())
        if summary.get("version") == TRANSFER_VERSION and "stamp" in summary:
            out[path.parent.name] = summary
    return out


def corpus_name(side: dict) -> str:
    """'DAIC-WOZ', or for a synthetic corpus the layout it was written in ('synthetic E-DAIC layout')."""
    if side["dataset"] == "synthetic":
        return f"synthetic {display_name(side.get('layout', ''))} layout"
    return display_name(side["dataset"])


def direction(s: dict) -> str:
    """'DAIC-WOZ → E-DAIC' ('synthetic DAIC-WOZ layout → synthetic E-DAIC layout')."""
    return f"{corpus_name(s['training'])} → {corpus_name(s['test'])}"


def _interval(d: dict, prose: bool = True) -> str:
    """'0.734 (95% CI 0.645 to 0.815)' in a sentence, '0.734 (0.645 to 0.815)' in a table cell."""
    return f"{number(d['macro_f1'])} ({'95% CI ' if prose else ''}{ci_text(d[BOOTSTRAP_KEY], bounds=UNIT)})"


def _gap(d: dict, prose: bool = True) -> str:
    lo, hi = d[BOOTSTRAP_KEY]
    return f"{number(d['macro_f1'], sign=True)} ({'95% CI ' if prose else ''}{number(lo, sign=True)} to {number(hi, sign=True)})"


def verdicts(s: dict, adaptation: str = "none") -> list[tuple[str, bool, str]]:
    """Per model: (model name, transferred?, one sentence). A model transferred when its macro-F1 on
    the test corpus is above the best trivial baseline there and its interval's lower end is too."""
    a = s["adaptations"][adaptation]
    base, base_f1 = best_trivial(a)
    out = []
    for key in MODELS:
        m = a["models"][key]
        low = m["cross"][BOOTSTRAP_KEY][0]
        ok = m["cross"]["macro_f1"] > base_f1 and low > base_f1
        where = ("above" if ok else "not shown above" if m["cross"]["macro_f1"] > base_f1 else "not above")
        gap = m["gap"]
        gap_text = (f"it scores {number(m['within']['macro_f1'])} when trained within the test corpus, a transfer gap of "
                    f"{_gap(gap)}" + (", within noise" if gap[BOOTSTRAP_KEY][0] <= 0 <= gap[BOOTSTRAP_KEY][1] else ""))
        name = MODEL_NAMES[key][0].upper() + MODEL_NAMES[key][1:]
        out.append((MODEL_NAMES[key], ok, f"{name}: {number(m['cross']['macro_f1'])} on the test "
                    f"corpus, {where} the best trivial baseline ({BASELINE_NAMES.get(base, base)}, {number(base_f1)}); "
                    f"{gap_text}."))
    return out


def lead_sentence(s: dict) -> str:
    """What transferred and what did not, in one sentence (no adaptation, the run as trained)."""
    v = verdicts(s)
    did = [name for name, ok, _ in v if ok]
    did_not = [name for name, ok, _ in v if not ok]
    if did and not did_not:
        return "Every model transferred: all three are above the best trivial baseline on the test corpus."
    if not did:
        return "Nothing transferred: no model is shown above the best trivial baseline on the test corpus."
    return f"Transferred: {', '.join(did)}; not shown to transfer: {', '.join(did_not)}."


def _rows(s: dict) -> list[dict]:
    rows = []
    for key in MODELS:
        r = {"model": MODEL_NAMES[key]}
        for a in ADAPTATIONS:
            m = s["adaptations"][a]["models"][key]
            r |= {a: _interval(m["cross"], False), f"{a}_auc": number(m["cross"]["roc_auc"]),
                  f"{a}_gap": _gap(m["gap"], False)}
        r |= {"within": _interval(s["adaptations"]["none"]["models"][key]["within"], False),
              "within_auc": number(s["adaptations"]["none"]["models"][key]["within"]["roc_auc"])}
        rows.append(r)
    return rows


def _baseline_rows(s: dict) -> list[dict]:
    a = s["adaptations"]["none"]["baselines"]
    return [{"model": BASELINE_NAMES.get(k, k), "macro": _interval(v, False)} for k, v in a.items()]


def transfer_figure(s: dict):
    """Macro-F1 on the test corpus per model: within the test corpus (its own CV), and trained on the
    other corpus without and with adaptation, each with its participant bootstrap interval; the best
    trivial baseline as a line."""
    import plotly.graph_objects as go
    names = [MODEL_NAMES[k] for k in MODELS]
    fig = go.Figure()
    series = [("within the test corpus (its own CV)", lambda k: s["adaptations"]["none"]["models"][k]["within"])]
    series += [(f"trained on the other corpus, {ADAPTATION_NAMES[a]}",
                lambda k, a=a: s["adaptations"][a]["models"][k]["cross"]) for a in ADAPTATIONS]
    for label, get in series:
        values = [get(k) for k in MODELS]
        f1 = [v["macro_f1"] for v in values]
        fig.add_trace(go.Scatter(
            x=names, y=f1, mode="markers", name=label, marker={"size": 10},
            error_y={"type": "data", "symmetric": False, "array": [v[BOOTSTRAP_KEY][1] - y for v, y in zip(values, f1)],
                     "arrayminus": [y - v[BOOTSTRAP_KEY][0] for v, y in zip(values, f1)]}))
    base, base_f1 = best_trivial(s["adaptations"]["none"])
    fig.add_hline(y=base_f1, line_dash="dot", annotation_text=f"best trivial baseline ({BASELINE_NAMES.get(base, base)})",
                  annotation_position="bottom right")
    fig.update_layout(scattermode="group", height=380, margin={"t": 30, "b": 40},
                      yaxis={"title": "macro-F1 on the test corpus", "range": [0, 1]},
                      legend={"orientation": "h", "y": -0.15})
    return fig


def transfer_body(name: str, s: dict) -> str:
    """The transfer's page: what was trained on what, the verdicts, the figure and the tables."""
    from .plots import PLOTLY_CONFIG
    fig = transfer_figure(s)
    return captions.render(
        "transfer.html.j2", s=s, name=name, direction=direction(s), lead=lead_sentence(s),
        verdicts=[text for _, _, text in verdicts(s)], rows=_rows(s), baselines=_baseline_rows(s),
        adaptations=ADAPTATION_NAMES, adaptation_short={"none": "none", "standardise": "standardised"}, bootstrap=BOOTSTRAP, test_name=corpus_name(s["test"]),
        train_name=corpus_name(s["training"]), within=s["within_cv"],
        banner=Markup(captions.banner_html() if s.get("synthetic") else ""),
        figure=Markup(fig.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)))


def transfer_card(name: str, s: dict) -> str:
    """The index's box for a transfer: the direction, the lead sentence, one line per model, the link."""
    return captions.render("transfer_card.html.j2", name=name, direction=direction(s), lead=lead_sentence(s),
                           verdicts=[text for _, _, text in verdicts(s)], s=s, page=f"reports/{name}/{PAGE}.html")
