"""The TRIPOD+AI items of a run: answered from its own files or left to the researcher, written once.

TRIPOD+AI (Collins et al., BMJ 2024;385:e078378) is the reporting guideline for prediction models
built with regression or machine learning. :func:`reporting_items` walks its checklist
(:mod:`tripod`) for one run folder: an item the run's files answer (the Methods items in
:mod:`answers`, the Results items here) is ``answered``, with the answer computed from those files
and the published file and fields it comes from; every other item is ``for the researcher``, with
what to write. No number is written here by hand, no local path survives (:mod:`privacy`), and
per-participant values appear only with ``participant_data=True``. :func:`write_reporting` writes
``reporting.json`` and ``reporting.md`` into the run folder. :func:`reporting_document` is the one
rendering of the items (Markdown, ``templates/reporting.md.j2``): ``reporting.md`` is it, and so
is the site's reporting page (Markdown in Quarto's page, converted once by the fallback builder).
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .answers import (FOLD_FILES, METHODS, PARTICIPANT_TABLE, RunFiles, counts_text, flow_text, folds_text, headline, mean_sd_text, range_text, regression)
from ..corpora.cache import atomic_write_text
from .captions import render
from ..learning.evaluate import macro_f1
from ..learning.intervals import CORRECTED_T, CORRECTED_T_KEY, UNIT, number
from ..params import Params, ParamsError, params_from_dict, project_root
from .privacy import private_paths, scrub
from ..learning.runs import (FOLDS, PARTICIPANTS, PREDICTIONS, REPORTING_JSON, REPORTING_MD, load_metrics)
from ..learning.sanity import load_sanity, sanity_sentence, sanity_table
from .severity import REGRESSION_MODELS, regression_summaries
from .tripod import ANSWERED, CHECKLIST, GUIDELINE, RESEARCHER


def read_run(run_dir: str | Path, participant_data: bool = False) -> RunFiles:
    run_dir = Path(run_dir)
    metrics = load_metrics(run_dir)

    def table(name):
        return pd.read_csv(run_dir / name, dtype={"participant_id": str}) if (run_dir / name).is_file() else None
    folds = [{k: v for k, v in json.loads(p.read_text()).items() if k != "history"}
             for p in sorted((run_dir / FOLDS).glob("*.json"))]
    return RunFiles(metrics, metrics["config"], table(PARTICIPANTS), table(PREDICTIONS), folds, load_sanity(run_dir),
                    participant_data)


# ---------------------------------------------------------------- answers of the Results (and the rest)

def _f(x, digits: int = 3) -> str:
    return number(x, digits)


def _code(r: RunFiles):
    m = r.metrics
    return [("code, versions, configuration", f"pseudoface {m['code_version']}; "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; config hash {m['config_hash']}; data "
             f"fingerprint {m['data_fingerprint']}; device {m['device']}.",
             "metrics.json: code_version, versions, config_hash, data_fingerprint, device")]


def _participant_flow(r: RunFiles):
    m = r.metrics
    return [("participant flow", f"{flow_text(m)}. Analysed: {m['n_participants']} ({m['n_depressed']} with the "
             f"outcome, {m['n_participants'] - m['n_depressed']} without).",
             "metrics.json: participant_flow, n_excluded, n_depressed")]


def _characteristics(r: RunFiles):
    p = r.participants
    if p is None:
        return []
    return [("characteristics", f"Gender: {counts_text(p.gender)}; split: {counts_text(p.split)}; PHQ-8 median "
             f"{_f(p.phq_score.median(), 1)} (IQR {range_text(p.phq_score.quantile([.25, .75]), 1)}); session minutes "
             f"median {_f(p.duration_s.median() / 60, 1)}; valid-frame fraction median {_f(p.valid_fraction.median())}"
             ". Depressed by gender: " + ", ".join(f"{g} {int(s.sum())} of {len(s)}" for g, s in
                                                  p.groupby("gender").label) + ".", PARTICIPANT_TABLE)]


def _development_vs_evaluation(r: RunFiles):
    d, m = pd.DataFrame(r.metrics["fold_details"]), r.metrics
    return [("development versus evaluation data", f"Outer test folds of {range_text(d.n)} participants, "
             f"{range_text(d.n_depressed / d.n, 2)} of them depressed, against {_f(m['n_depressed'] / m['n_participants'], 2)}"
             " overall (folds stratified by label).", "metrics.json: fold_details.n, fold_details.n_depressed")]


def _per_analysis(r: RunFiles):
    d = pd.DataFrame(r.metrics["fold_details"])
    text = (f"Per outer fold: inner training {range_text(d.n_inner_train)}, inner validation {range_text(d.n_inner_val)}, "
            f"test {range_text(d.n)} participants ({range_text(d.n_depressed)} test events)")
    source = "metrics.json: fold_details"
    if r.participants is not None and r.folds:
        y = dict(zip(r.participants.participant_id, r.participants.label))
        text += (f"; events in inner training {range_text([sum(y[p] for p in f['inner_train_ids']) for f in r.folds])}, "
                 f"in inner validation {range_text([sum(y[p] for p in f['inner_val_ids']) for f in r.folds])}")
        source += f"; inner events: {FOLD_FILES}"
    return [("participants and events per analysis", text + ".", source)]


def _specification(r: RunFiles):
    m = r.metrics
    return [("model specification", f"{len(m['fold_details'])} fold models (checkpoints/*.pt in the run folder: state "
             "dict, " + ("target scale" if regression(r) else "threshold, calibration") + ", fusion weight, the feature "
             f"model's linear form), each of {m['model_parameters']} parameters over inputs "
             f"{' × '.join(map(str, m['input_shape']))}; the configuration in metrics.json rebuilds the network.",
             "metrics.json: fold_details, model_parameters, input_shape, config")]


def _brier(cal: dict | None) -> str:
    if not cal:
        return "not recorded"
    curve = f", {len(cal['bins'])} equal-count reliability bins" if cal.get("bins") else ""
    return f"Brier {_f(cal.get('brier'))}{curve}"


def _performance(r: RunFiles):
    m = r.metrics
    if regression(r):
        models = "; ".join(f"{REGRESSION_MODELS[key]}: MAE {headline(s['mae'], m, 2)}, RMSE {mean_sd_text(s['rmse'], 2)}, CCC "
                           f"{mean_sd_text(s['ccc'], 2)}, Pearson r {mean_sd_text(s['pearson'], 2)}"
                           for key, s in regression_summaries(m).items())
        screen = f"{headline(m['fused_model']['macro_f1'], m, bounds=UNIT)}" if "fused_model" in m else "n/a"
        return [("discrimination and calibration", f"PHQ-8 score, mean ± SD over {folds_text(m)}: {models}. The derived "
                 f"screen (predicted score ≥ 10), macro-F1 of the fused model {screen}; network "
                 f"{headline(m['macro_f1'], m, bounds=UNIT)}.", "metrics.json: regression, regression_baselines, "
                 "regression_fused_model, macro_f1, fused_model")]
    summaries = (("fused model (the headline)", m["fused_model"]), ("network", m),
                 ("feature model", m["baselines"]["feature_model"]))
    models = "; ".join(f"{name}: macro-F1 {headline(d['macro_f1'], m, bounds=UNIT)}, ROC-AUC {mean_sd_text(d['roc_auc'])}, "
                       f"predicted-positive rate {_f(d['predicted_positive_rate']['mean'], 2)}" for name, d in summaries)
    return [("discrimination and calibration", f"{models}. Calibration of the pooled out-of-fold probabilities of the "
             f"first repeat: fused model {_brier(m['fused_model'].get('calibration'))}; network "
             f"{_brier(m.get('calibration'))}.", "metrics.json: macro_f1, roc_auc, predicted_positive_rate, "
             "baselines.feature_model, fused_model, calibration")]


def _subgroups(r: RunFiles):
    m, p, pred = r.metrics, r.participants, r.predictions
    text = "By gender (network, every repeat): " + "; ".join(
        f"{g}: n {v['n']}, macro-F1 {_f(v['macro_f1'])}, predicted-positive rate {_f(v['predicted_positive_rate'], 2)}"
        for g, v in m.get("per_gender", {}).items())
    source = "metrics.json: per_gender"
    if p is not None and pred is not None:
        first = pred[pred.repeat == pred.repeat.min()].merge(p[["participant_id", "split"]], on="participant_id")
        text += ". By split (network, first repeat): " + "; ".join(
            f"{s}: n {len(g)}, macro-F1 {_f(macro_f1(g.label, g.prediction))}" for s, g in first.groupby("split"))
        source += "; by split: predictions.csv joined to the split of the run's participant table (not published)"
    return [("performance by subgroup", text + ".", source)]


def _baselines(r: RunFiles):
    m = r.metrics
    return [("baselines in the same folds", f"Macro-F1, mean ± SD over the same {folds_text(m)} (95% CI of the mean, "
             f"{CORRECTED_T}): " + "; ".join(
                 f"{name.replace('_', ' ')} {mean_sd_text(v['macro_f1'])} ({_ci_only(v['macro_f1'])})"
                 for name, v in m["baselines"].items()) + ".", "metrics.json: baselines")]


def _ci_only(summary: dict) -> str:
    lo, hi = summary.get(CORRECTED_T_KEY, [np.nan, np.nan])
    return f"{_f(lo)} to {_f(hi)}"


def _usability(r: RunFiles):
    d, e = r.config["data"], r.config["encode"]
    return [("poor-quality input", f"A session with less than {d['min_valid_seconds']:g} s of valid frames is not "
             f"scored and windows with more than {e['max_missing_fraction']:.0%} masked frames are skipped; "
             "`pseudoface predict` applies the same rules and names a session it cannot score.",
             "metrics.json: config.data.min_valid_seconds, config.encode.max_missing_fraction")]


ANSWERS = METHODS | {
    "18f": _code, "20a": _participant_flow, "20b": _characteristics, "20c": _development_vs_evaluation,
    "21": _per_analysis, "22": _specification,
    "23a": lambda r: _performance(r) + _subgroups(r) + _baselines(r)
    + [("shuffled-label sanity run", sanity_sentence(r.sanity),
        "sanity.json" if r.sanity else "metrics.json: config.cv.shuffled_labels")],
    "24": lambda r: [("model updating", "None: each fold's model is reported as fitted on its training participants.",
                      "metrics.json: config.train.calibration")],
    "27a": _usability,
}


def reporting_items(run_dir: str | Path, participant_data: bool = False) -> list[dict]:
    """One dict per TRIPOD+AI item (several for an item the run answers in parts): item, section,
    name, topic, status (``answered`` / ``for the researcher``), answer, source (file: fields) and
    researcher (what the researcher writes or adds; '' when nothing). Local paths are scrubbed."""
    r = read_run(run_dir, participant_data)
    items = []
    for item, section, name, todo in CHECKLIST:
        answers = ANSWERS[item](r) if item in ANSWERS else []
        items += [{"item": item, "section": section, "name": name, "topic": topic, "status": ANSWERED,
                   "answer": answer, "source": source, "researcher": todo} for topic, answer, source in answers]
        if not answers:
            items.append({"item": item, "section": section, "name": name, "topic": name, "status": RESEARCHER,
                          "answer": "", "source": "", "researcher": todo or "Describe this item for the study."})
    return scrub(items, _private_paths(r.config))


def _private_paths(config: dict) -> list:
    try:
        params = params_from_dict(config)
    except ParamsError:  # a run of an older configuration: its data root, the project and home at least
        params = params_from_dict({"data": {"root": config.get("data", {}).get("root") or Params().data.root}})
    return private_paths(params, project_root())


# ---------------------------------------------------------------- the one rendering

def _md(text) -> str:
    """Text for a Markdown table cell or paragraph, read the same by pandoc (Quarto) and mistune (the
    fallback): one line, pipes, asterisks and angle brackets escaped (backticks stay code)."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;")
            .replace("\n", " "))


def _pipe_table(frame: pd.DataFrame) -> str:
    """A Markdown pipe table: numbers to three decimals, a missing value as '–'; text columns aligned
    left and numbers right, by the separator row (which both renderers read)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "–" if not np.isfinite(v) else f"{v:.3f}"
        return _md(v)
    align = ["---:" if pd.api.types.is_numeric_dtype(frame[c]) else ":---" for c in frame.columns]
    lines = ["| " + " | ".join(_md(c) for c in frame.columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def reporting_document(reporting: dict | None, sanity: dict | None) -> str:
    """The reporting page's body in Markdown: what the items are, the shuffled-label sanity run
    (sentence and table), then each section's items as a table (answer and source, or what the
    researcher writes). ``reporting``: ``reporting.json``'s document (None: a run without items)."""
    sections = []
    for section, group in itertools.groupby((reporting or {}).get("items", []), key=lambda i: i["section"]):
        rows = []
        for i in group:
            name = i["name"] if i["topic"] == i["name"] else f"{i['name']}: {i['topic']}"
            text = _md(i["answer"]) + (f" *For the researcher: {_md(i['researcher'])}*" if i["researcher"] else "") \
                if i["status"] == ANSWERED else _md(i["researcher"])
            rows.append({"item": _md(i["item"]), "name": _md(name), "status": i["status"], "text": text,
                         "source": _md(i["source"]) or "–"})
        sections.append((section, rows))
    items = (reporting or {}).get("items", [])
    table = None if not sanity else sanity_table(sanity)
    return render("reporting.md.j2", reporting=reporting, guideline=_md((reporting or {}).get("guideline", GUIDELINE)),
                  answered=sum(i["status"] == ANSWERED for i in items),
                  left=sum(i["status"] != ANSWERED for i in items), estimator=CORRECTED_T,
                  sanity=_md(sanity_sentence(sanity)), sanity_table=None if table is None else _pipe_table(table),
                  sections=sections)


def write_reporting(run_dir: str | Path, participant_data: bool = False) -> list[dict]:
    """Write ``reporting.json`` and ``reporting.md`` (atomically) into ``run_dir``; returns the items."""
    run_dir = Path(run_dir)
    items = reporting_items(run_dir, participant_data)
    metrics = load_metrics(run_dir)
    doc = {"guideline": GUIDELINE, "dataset": metrics["dataset"], "config_hash": metrics["config_hash"],
           "code_version": metrics["code_version"], "participant_data": participant_data, "items": items}
    atomic_write_text(run_dir / REPORTING_JSON, json.dumps(doc, indent=1))
    atomic_write_text(run_dir / REPORTING_MD, f"# Reporting items: {metrics['dataset']}\n\n"
                      + reporting_document(doc, load_sanity(run_dir)))
    return items


def load_reporting(run_dir: str | Path) -> dict | None:
    """``reporting.json`` of a run folder (None when it has none)."""
    path = Path(run_dir) / REPORTING_JSON
    return json.loads(path.read_text()) if path.is_file() else None
