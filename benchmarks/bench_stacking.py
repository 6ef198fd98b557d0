"""Stacking the network's session embedding into the feature model, recomputed from finished runs
(no network training): the issue-30 fusion option beside the fixed-weight fused model.

For every ``bench_quality`` run folder given (dev seeds only) and each of its folds, the fold's
trained network embeds the fold's outer-training and test participants (the session embedding, 256
numbers, reduced to ``--components`` principal components fitted on the outer-training
participants); the feature model's own recipe (standardise, L2 logistic regression with balanced
class weights, strength by 5-fold inner CV on log-loss: ``baselines.feature_model``) is fitted on
the session functionals plus those components and decides the test participants at 0.5. Printed
per run: macro-F1 (mean over folds) of the stack, the feature model and the fixed-weight fused
model in the same folds. Note that 3/4 of the outer-training participants trained the network, so
their embeddings are in-sample: the stack sees them fitted better than the test participants.

Usage: python benchmarks/bench_stacking.py benchmarks/out/runs/<run> [...] [--components 4]
"""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import f1_score

from pseudoface.corpora.read import load_corpus
from pseudoface.encoding.encode import encode_corpus
from pseudoface.learning.baselines import feature_model
from pseudoface.learning.runs import load_metrics, load_models
from pseudoface.params import params_from_dict


@torch.no_grad()
def embed(net, images: dict, pids: list) -> np.ndarray:
    return np.stack([net.embed(torch.tensor(images[p][None]))[0].numpy() for p in pids])


def stack(run: Path, components: int) -> dict:
    meta = load_metrics(run)
    params = params_from_dict(meta["config"])
    enc = encode_corpus(load_corpus(params), params)
    table = enc.table.set_index("participant_id")
    models, _ = load_models(run)
    scores = {"stack": [], "feature": [], "fused": []}
    for fold_model, path in zip(models, sorted((run / "folds").glob("*.json"))):
        fold = json.loads(path.read_text())
        tr, te = fold["train_ids"], fold["test_ids"]
        pca = PCA(components, random_state=0).fit(embed(fold_model.network, enc.images, tr))
        x_tr = np.hstack([table.loc[tr, enc.feature_cols].to_numpy(float), pca.transform(embed(fold_model.network, enc.images, tr))])
        x_te = np.hstack([table.loc[te, enc.feature_cols].to_numpy(float), pca.transform(embed(fold_model.network, enc.images, te))])
        y_tr, y_te = table.loc[tr, "label"].to_numpy(int), table.loc[te, "label"].to_numpy(int)
        model = feature_model(0, int(min(y_tr.sum(), len(y_tr) - y_tr.sum()))).fit(x_tr, y_tr)
        scores["stack"].append(f1_score(y_te, model.predict(x_te), average="macro", zero_division=0))
        scores["feature"].append(f1_score(y_te, fold["baselines"]["feature_model"]["prediction"], average="macro",
                                          zero_division=0))
        scores["fused"].append(f1_score(y_te, fold["fused"]["prediction"], average="macro", zero_division=0))
    return {"run": run.name, **{k: float(np.mean(v)) for k, v in scores.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--components", type=int, default=4)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # scikit-learn's announced default changes
    rows = []
    for run in args.runs:
        rows.append(stack(run, args.components))
        print(" | ".join(f"{v:.3f}" if isinstance(v, float) else v for v in rows[-1].values()), flush=True)
    frame = pd.DataFrame(rows).set_index("run")
    print(f"\nmean over {len(rows)} runs (macro-F1; stack with {args.components} embedding components):")
    print(frame.mean().round(3).to_string())


if __name__ == "__main__":
    main()
