"""A probe for issue 10: does a session-level head on the trained network's embeddings score
participants better than the network's own mean logit over clips?

For each run folder given (a `pseudoface cv` run with checkpoints, e.g. under
benchmarks/out/runs/ from bench_quality.py), per outer fold: every participant's non-overlapping
clips go through that fold's checkpoint; the clip summaries (the LSTM's mean state) and the window
features (the CNN's pooled output) are pooled over the session (mean, SD, 90th percentile of the
window features) and an L2 logistic regression (standardised inputs, balanced classes, strength by
5-fold CV, threshold by out-of-fold predictions, all on the outer-training participants only)
scores the test participants. The same head on an untrained network of the same shape (random
convolutions, input scaling from the training participants) is the control: how much of the
result is the trained weights. Prints macro-F1 / ROC-AUC (means over folds) of the run's CNN-LSTM,
its feature model, and the two pooled heads. Not part of the library: a measurement of a lead.

Usage: python benchmarks/bench_pooling.py RUN_DIR [RUN_DIR ...]
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pseudoface.encode import encode_corpus
from pseudoface.evaluate import best_threshold, macro_f1
from pseudoface.model import model_from_params, set_input_scaling
from pseudoface.params import params_from_dict
from pseudoface.read import load_corpus
from pseudoface.runs import load_models
from pseudoface.train import eval_clips


@torch.no_grad()
def session_embedding(model, images: np.ndarray, K: int) -> np.ndarray:
    windows, summary = model.embed(torch.from_numpy(eval_clips(images, K)))  # (B, K, F), (B, hidden)
    flat = windows.flatten(0, 1)
    spread = summary.std(0) if len(summary) > 1 else torch.zeros_like(summary[0])
    return torch.cat([summary.mean(0), spread, flat.mean(0), flat.std(0), flat.quantile(0.9, dim=0)]).numpy()


def pooled_head(X_train, y_train, X_test) -> tuple[np.ndarray, float]:
    clf = make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=np.logspace(-4, 1, 11), cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="neg_log_loss",
        class_weight="balanced", max_iter=2000))
    oof = cross_val_predict(clf, X_train, y_train, cv=StratifiedKFold(5, shuffle=True, random_state=1),
                            method="predict_proba")[:, 1]
    threshold = best_threshold(y_train, oof)
    return clf.fit(X_train, y_train).predict_proba(X_test)[:, 1], threshold


def probe(run: Path) -> str:
    models, meta = load_models(run)
    params = params_from_dict(meta["config"])
    enc = encode_corpus(load_corpus(params), params)
    labels = dict(zip(enc.table.participant_id, enc.table.label))
    K = params.model.clip_windows
    scores = {"trained": [], "untrained": []}
    for (model, _, _), fold_json in zip(models, sorted((run / "folds").glob("*.json"))):
        fold = json.loads(fold_json.read_text())
        train, test = fold["train_ids"], fold["test_ids"]
        y_train = np.array([labels[p] for p in train])
        y_test = np.array([labels[p] for p in test])
        torch.manual_seed(0)
        fresh = model_from_params(params.model, enc.images[train[0]].shape[1:]).eval()
        set_input_scaling(fresh, [enc.images[p] for p in train])
        for name, net in (("trained", model), ("untrained", fresh)):
            emb = {p: session_embedding(net, enc.images[p], K) for p in train + test}
            p, t = pooled_head(np.stack([emb[q] for q in train]), y_train, np.stack([emb[q] for q in test]))
            scores[name].append((macro_f1(y_test, (p >= t).astype(int)), roc_auc_score(y_test, p)))
    m = json.loads((run / "metrics.json").read_text())
    feat = m["baselines"]["feature_model"]
    line = (f"{run.name}: CNN-LSTM {m['macro_f1']['mean']:.3f}/{m['roc_auc']['mean']:.3f}  "
            f"feature model {feat['macro_f1']['mean']:.3f}/{feat['roc_auc']['mean']:.3f}")
    for name, s in scores.items():
        a = np.array(s)
        line += f"  pooled head ({name}) {a[:, 0].mean():.3f}/{a[:, 1].mean():.3f}"
    return line


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__.splitlines()[-1].strip())
    for category in (UserWarning, FutureWarning):  # torch read-only arrays, sklearn attribute notices
        warnings.filterwarnings("ignore", category=category)
    torch.set_num_threads(2)
    print("macro-F1 / ROC-AUC, means over the run's outer folds")
    for run in sys.argv[1:]:
        print(probe(Path(run)), flush=True)


if __name__ == "__main__":
    main()
