"""The files a published report offers for download (``reports/<dataset>/downloads/``) and what
their columns mean: metrics.json, the fold and baseline tables, the training history, out-of-fold
predictions (anonymous for a licensed corpus: a random key per participant, no PHQ-8 score, rows
shuffled), the comparisons, the sanity run, the TRIPOD+AI items, the explanations and
data_dictionary.csv. Every text is scrubbed of local paths (:mod:`privacy`) and written atomically.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..corpora.cache import atomic_write_text
from .privacy import scrub
from ..learning.runs import (COMPARISONS, HISTORY, METRICS, PREDICTIONS, REPORTING_JSON, REPORTING_MD, SANITY, load_metrics)

DOWNLOADS = "downloads"  # reports/<dataset>/downloads/


def _anonymous_predictions(predictions: pd.DataFrame, seed: int | None = None) -> pd.DataFrame:
    """Out-of-fold predictions without participant ids: a random key per participant (the same in
    every repeat), the PHQ-8 score dropped (it links rows to the corpus' label files), rows shuffled."""
    rng = np.random.default_rng(seed)
    ids = predictions.participant_id.unique()
    keys = dict(zip(ids, (f"k{v:06x}" for v in rng.choice(16 ** 6, size=len(ids), replace=False))))
    out = predictions.assign(key=predictions.participant_id.map(keys)).drop(columns=["participant_id", "phq_score"])
    out = out[["key"] + [c for c in out.columns if c != "key"]]
    return out.iloc[rng.permutation(len(out))].reset_index(drop=True)


# What every column of the published CSV files means (data_dictionary.csv); tests check it covers them all.
COLUMNS = {
    "repeat": "repeat of the outer fold split (0 = the first)",
    "fold": "outer fold within the repeat (0-based)",
    "n": "participants in the outer test fold",
    "n_depressed": "depressed participants in the outer test fold",
    "macro_f1": "macro-F1 of the network on the fold (mean of the F1 of both classes)",
    "f1_depressed": "F1 of the depressed class on the fold",
    "balanced_accuracy": "balanced accuracy on the fold (mean of sensitivity and specificity)",
    "roc_auc": "ROC-AUC on the fold (0.5 is chance; undefined with one class)",
    "predicted_positive_rate": "share of the fold's participants called depressed",
    "best_epoch": "training epoch chosen on the fold's inner-validation participants",
    "threshold": "decision threshold on the network's score, chosen on inner validation",
    "name": "model, baseline or variant",
    "mean": "macro-F1, mean over outer folds",
    "std": "macro-F1, SD over outer folds (ddof = 1)",
    "ppr": "predicted-positive rate: share called depressed, mean over outer folds",
    "ci95_low": "lower end of the 95% interval of the mean macro-F1 over outer folds (corrected resampled t)",
    "ci95_high": "upper end of the 95% interval of the mean macro-F1 over outer folds (corrected resampled t)",
    "difference": "difference in mean macro-F1 to the reference named in the page (baselines: minus the "
                  "motion-feature model; comparisons: variant minus default), the mean of the per-fold differences "
                  "over the same outer folds",
    "diff_low": "lower end of the difference's 95% interval (corrected resampled t)",
    "diff_high": "upper end of the difference's 95% interval (corrected resampled t)",
    "epoch": "training epoch (1-based)",
    "train_loss": "loss on the inner-training participants (class-weighted BCE on logits)",
    "val_loss": "loss on the inner-validation participants",
    "val_macro_f1": "macro-F1 on the inner-validation participants",
    "key": "random key of a participant (the same in every repeat; not the corpus identifier)",
    "participant_id": "participant identifier of the corpus (synthetic or allowed corpora only)",
    "phq_score": "PHQ-8 score of the label file (synthetic or allowed corpora only)",
    "label": "label trained and scored (1 = depressed), by the run's label rule",
    "gender": "gender as the corpus codes it (named when the params file names the codes)",
    "score": "network's probability of depression (out of fold)",
    "prediction": "network's decision at the fold's threshold (1 = depressed)",
    "feature_score": "motion-feature model's probability of depression (decided at 0.5)",
    "feature_prediction": "motion-feature model's decision (1 = depressed)",
    "fused_score": "fused model's probability of depression (decided at 0.5)",
    "fused_prediction": "fused model's decision (1 = depressed)",
    "comparisons.csv:roc_auc": "the variant network's ROC-AUC, mean over outer folds",
    "run": "the variant's run folder (under the report's runs)",
    "feature": "motion-feature model's macro-F1 (mean over folds) in the variant's folds",
    "fused": "fused model's macro-F1 (mean over folds) in the variant's folds",
    "parameters": "trainable parameters of the variant's network",
    "input": "one pseudo-image's shape: channels × rows × columns",
    "seconds": "wall-clock seconds of the cross-validation",
    "model": "network or feature_model (the motion-feature model)",
    "kind": "group (an input group replaced by its neutral value) or time (one stretch of the session)",
    "group": "the input group (rows of the pseudo-image, the same signals among the feature model's functionals) "
             "or the stretch of time",
    "class": "the test participants summarised: all, depressed or not depressed",
    "mean_abs_delta": "mean |change of the logit| when the group is replaced by its neutral value",
    "sd_abs_delta": "SD of that |change| over the fold's test participants",
    "mean_contribution": "mean signed contribution to the logit (score with the group minus score without it; "
                         "positive pushes towards depressed)",
    "sd_contribution": "SD of that contribution over the fold's test participants",
    "explanations.csv:n": "test participants of the fold in the class",
}


def data_dictionary(files: dict[str, str]) -> str:
    """data_dictionary.csv: file, column, meaning, for every column of the CSV texts in ``files``."""
    import io
    rows = []
    for name, text in sorted(files.items()):
        if name.endswith(".csv"):
            for column in pd.read_csv(io.StringIO(text), nrows=0).columns:
                meaning = COLUMNS.get(f"{name}:{column}", COLUMNS.get(column))
                if meaning is None:
                    raise KeyError(f"{name}: column {column!r} has no entry in downloads.COLUMNS (the data dictionary)")
                rows.append({"file": name, "column": column, "meaning": meaning})
    return pd.DataFrame(rows).to_csv(index=False)


def write_downloads(run_root: Path, out: Path, participant_data: bool, paths: list[tuple[str, str]]) -> list[str]:
    """The run's published files into ``out``: metrics.json, folds.csv, baselines.csv, history.csv,
    predictions.csv (anonymous unless ``participant_data``), comparisons.csv when it ran, and
    data_dictionary.csv (what each of their columns means)."""
    from . import results
    main = run_root / "main"
    metrics = load_metrics(main)
    if not participant_data and metrics.get("problems"):
        # data problems name session files, i.e. participant ids: only their number is published
        metrics["problems"] = [f"{len(metrics['problems'])} data problem{'s' * (len(metrics['problems']) != 1)}, listed in the run's own metrics.json"]
    files = {METRICS: json.dumps(scrub(metrics, paths), indent=1, default=float),
             "folds.csv": results.fold_table(metrics).to_csv(index=False),
             "baselines.csv": results.baseline_table(metrics).to_csv(index=False),
             HISTORY: (main / HISTORY).read_text()}
    predictions = pd.read_csv(main / PREDICTIONS, dtype={"participant_id": str})
    files[PREDICTIONS] = (predictions if participant_data else _anonymous_predictions(predictions)).to_csv(index=False)
    if (run_root / COMPARISONS).is_file():
        files[COMPARISONS] = (run_root / COMPARISONS).read_text()
    from ..learning.sanity import load_sanity
    if load_sanity(main) is not None:  # the shuffled-label sanity run of this very run
        files[SANITY] = (main / SANITY).read_text()
    from ..learning.explain import EXPLANATIONS, is_current
    if is_current(main):  # what the models use (occlusion by input group), per fold and class: no participant
        files[EXPLANATIONS] = (main / EXPLANATIONS).read_text()
    items = read_json(main / REPORTING_JSON)
    if items and items.get("config_hash") == metrics.get("config_hash"):  # the reporting items of this run
        files[REPORTING_JSON], files[REPORTING_MD] = (main / REPORTING_JSON).read_text(), (main / REPORTING_MD).read_text()
    files[DICTIONARY] = data_dictionary(files)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        atomic_write_text(out / name, scrub(text, paths))
    return sorted(files)
DICTIONARY = "data_dictionary.csv"
DOWNLOAD_NAMES = {DICTIONARY: "data dictionary", METRICS: "metrics (JSON)", "folds.csv": "fold table", "baselines.csv": "baseline table",
                  HISTORY: "training history", PREDICTIONS: "out-of-fold predictions", COMPARISONS: "comparisons",
                  SANITY: "shuffled-label sanity run (JSON)", "explanations.csv": "what the models use (occlusion)", REPORTING_MD: "TRIPOD+AI items (Markdown)",
                  REPORTING_JSON: "TRIPOD+AI items (JSON)"}


def read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None
