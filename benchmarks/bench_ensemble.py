"""A probe for issue 10: does a cross-fitted ensemble of the fold's inner models score better than
the one model the library trains per outer fold?

Per outer fold (the library's own outer splits, 5 folds, 1 repeat) the outer-training participants
are split into N stratified inner folds; N networks are trained (``train_model``, each with its
own inner validation fold for epoch choice). Two ways to score the test participants:
- single: the first of those networks alone, with its threshold from its own inner validation
  (about 12 participants): what the library does today;
- ensemble: the mean logit of the N networks, with the threshold chosen on the out-of-fold inner
  predictions of all outer-training participants (each scored by the network that did not see it).
The feature model is fitted on the same outer folds (``baselines.fit_predict``). Nothing is tuned
on a test fold. Prints macro-F1 / ROC-AUC means over folds per cell, and the out-of-fold score IQR.
Not part of the library: a measurement of a lead.

Usage: python benchmarks/bench_ensemble.py --families smiles brows --seeds 1000 [--members 4]
       [--set key=value ...]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from scipy.special import expit
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from bench_quality import corpus
from pseudoface.baselines import fit_predict
from pseudoface.cv import outer_splits
from pseudoface.encode import encode_corpus
from pseudoface.evaluate import best_threshold, macro_f1
from pseudoface.params import params_from_dict
from pseudoface.read import load_corpus
from pseudoface.train import score_participants, train_model


def cell(family: str, seed: int, args) -> dict:
    root = corpus(family, seed, args.participants, args.seconds)
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(root)}},
                              ["cv.repeats=1", "cv.folds=5", f"cv.seed={seed}"] + args.overrides)
    enc = encode_corpus(load_corpus(params), params)
    labels = dict(zip(enc.table.participant_id, enc.table.label))
    table = enc.table.set_index("participant_id")
    K, device = params.model.clip_windows, torch.device("cpu")
    res = {"single": [], "ensemble": [], "feature": []}
    oof = {"single": [], "ensemble": []}
    for fold, train_ids, test_ids in outer_splits(enc.table, params, 0):
        y_tr = np.array([labels[p] for p in train_ids])
        y_te = np.array([labels[p] for p in test_ids])
        inner = StratifiedKFold(args.members, shuffle=True, random_state=seed + fold)
        test_logits, val_logit = [], {}
        for m, (tr, va) in enumerate(inner.split(np.zeros(len(y_tr)), y_tr)):
            tr_ids, va_ids = [train_ids[i] for i in tr], [train_ids[i] for i in va]
            trained = train_model(enc.images, labels, tr_ids, va_ids, params, seed + 1000 * m + fold, device)
            test_logits.append(score_participants(trained.model, enc.images, test_ids, K, device))
            val_logit.update(zip(va_ids, score_participants(trained.model, enc.images, va_ids, K, device)))
            if m == 0:
                single = (trained.probability(test_logits[0]), trained.threshold)
        ens = expit(np.mean(test_logits, axis=0))
        val_p = expit(np.array([val_logit[p] for p in train_ids]))
        ens_threshold = best_threshold(y_tr, val_p)
        feat_score, feat_pred = fit_predict("feature_model", table.loc[train_ids].reset_index(),
                                    table.loc[test_ids].reset_index(), enc.feature_cols, seed + fold)
        for name, (p, t) in (("single", single), ("ensemble", (ens, ens_threshold))):
            res[name].append((macro_f1(y_te, (p >= t).astype(int)), roc_auc_score(y_te, p)))
            oof[name].extend(p)
        res["feature"].append((macro_f1(y_te, feat_pred), roc_auc_score(y_te, feat_score)))
    out = {k: np.mean(v, axis=0) for k, v in res.items()}
    out["iqr"] = {k: float(np.subtract(*np.percentile(v, [75, 25]))) for k, v in oof.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", required=True)
    ap.add_argument("--seeds", nargs="+", type=int, required=True)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--participants", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    for category in (UserWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    torch.set_num_threads(2)
    print(f"members {args.members}, seeds {args.seeds}, overrides {args.overrides or 'none'}; "
          "macro-F1 / ROC-AUC means over 5 outer folds; IQR of out-of-fold scores", flush=True)
    rows = []
    for seed in args.seeds:
        for family in args.families:
            t = time.perf_counter()
            c = cell(family, seed, args)
            rows.append(c)
            print(f"  {family:12s} seed {seed}: single {c['single'][0]:.3f}/{c['single'][1]:.3f} "
                  f"(IQR {c['iqr']['single']:.3f})  ensemble {c['ensemble'][0]:.3f}/{c['ensemble'][1]:.3f} "
                  f"(IQR {c['iqr']['ensemble']:.3f})  feature {c['feature'][0]:.3f}/{c['feature'][1]:.3f}  "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
    for name in ("single", "ensemble", "feature"):
        a = np.mean([r[name] for r in rows], axis=0)
        print(f"average {name}: {a[0]:.3f} / {a[1]:.3f}")


if __name__ == "__main__":
    main()
