"""What a trained session network's encoder knows: linear probes of its window features and session
embedding, against the same probes of an untrained network of the same shape (the control).

For every finished ``bench_quality`` run folder given, each fold's network embeds its own test
participants (out of fold: no participant is probed by a network that trained on it):

- window probe: its window features (mean- and max-pooled CNN maps, 96 numbers) -> the window's
  label-free targets (:func:`window_targets`: per signal, peak and dip in robust SDs of the
  session, time above / below 4 robust SDs, spread, motion); ridge regression, 5-fold CV grouped
  by participant; R² per kind of target (the mean over signals of max(R², 0));
- session probe: its session embedding (mean / SD / max / attention pooling of the LSTM, 256
  numbers) -> each session functional of the feature model (event rates, levels, spreads), ridge
  with 5-fold CV; median R² over functionals, and R² of the event rates by name;
- fit: each fold network's ROC-AUC on its inner-training, inner-validation and test participants
  (how well it fits what it trained on, against what it generalises to), and its chosen epoch;
- label probe: an L2 logistic regression on the session embedding -> the label (5-fold CV, ROC-AUC),
  beside the same on the feature model's functionals.

Prints one row per run and network (trained / untrained). Usage:
    python benchmarks/probe_windows.py benchmarks/out/runs/<run> [...] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pseudoface.corpora.read import load_corpus
from pseudoface.encoding.encode import _value_channels, encode_corpus
from pseudoface.learning.model import model_from_params
from pseudoface.learning.runs import load_metrics, load_models
from pseudoface.params import params_from_dict

# The window targets: label-free descriptions of each window, per value channel and row of the
# pseudo-image, relative to the whole session's median and robust SD (1.4826 x MAD): peak and dip in
# robust SDs, the fraction of time steps beyond 4 robust SDs above / below (the feature model's event
# threshold), the window's SD in robust SDs, and its mean absolute velocity relative to the session's.
# (Issue 30 also trained the network on them; measured and not adopted: docs/experiments.md.)
EVENT_SDS = 4.0  # as features.EVENT_MADS: an event stands this many robust SDs from the reference
STATS = ("peak", "dip", "above", "below", "spread", "motion")
_FLOOR = 1e-3  # robust SD floor in encoded units: a row that never moves (masked, constant) stays finite
_CLAMP = 20.0  # robust SDs: a window far outside its span counts as far, not as infinite


@torch.no_grad()
def window_targets(x: torch.Tensor) -> torch.Tensor:
    """(B, L, C, R, W) spans of windows -> (B, L, 6 x Cv x R) targets (see the module docstring: per signal, relative to
    the example's own median and robust SD)."""
    B, L, C, R, W = x.shape
    cv = _value_channels(C)
    values = x[:, :, :cv].float()  # (B, L, Cv, R, W)
    span = values.permute(0, 2, 3, 1, 4).reshape(B, cv, R, L * W)
    median = span.median(dim=-1).values  # (B, Cv, R)
    mad = (span - median[..., None]).abs().median(dim=-1).values
    scale = (1.4826 * mad).clamp_min(_FLOOR)
    z = ((values - median[:, None, ..., None]) / scale[:, None, ..., None]).clamp(-_CLAMP, _CLAMP)
    stats = [z.amax(-1), (-z).amax(-1), (z > EVENT_SDS).float().mean(-1), (z < -EVENT_SDS).float().mean(-1),
             values.std(-1, unbiased=False) / scale[:, None]]
    if C > cv:  # velocity channels: 0.5 = no change
        change = (x[:, :, cv:2 * cv].float() - 0.5).abs().mean(-1)  # (B, L, Cv, R)
        stats.append(change / change.mean(dim=1, keepdim=True).clamp_min(_FLOOR))
    else:
        stats.append(torch.zeros_like(stats[0]))
    return torch.stack(stats, dim=2).reshape(B, L, -1)  # (B, L, 6 x Cv x R)


RATES = ("smile_rate_per_min", "blink_rate_per_min", "brow_raise_rate_per_min")


def ridge() -> object:
    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))


@torch.no_grad()
def embeddings(net, images: dict, pids: list) -> tuple[list, list, list]:
    """Per participant: window features (T, F), window targets (T, K), session embedding (E,)."""
    feats, targets, sessions = [], [], []
    for pid in pids:
        x = torch.tensor(images[pid][None])
        f = net.window_features(x)
        feats.append(f[0].numpy())
        targets.append(window_targets(x)[0].numpy())
        sessions.append(net.embed_windows(f)[0].numpy())
    return feats, targets, sessions


def probe(run: Path) -> list[dict]:
    meta = load_metrics(run)
    params = params_from_dict(meta["config"])
    enc = encode_corpus(load_corpus(params), params)
    models, _ = load_models(run)
    table = enc.table.set_index("participant_id")
    rows = []
    fit = {"inner_train_ids": [], "inner_val_ids": [], "test_ids": []}
    epochs = []
    for fold_model, path in zip(models, sorted((run / "folds").glob("*.json"))):
        fold = json.loads(path.read_text())
        epochs.append(fold["best_epoch"])
        for part in fit:
            ids = fold[part]
            y = table.loc[ids, "label"].to_numpy(int)
            with torch.no_grad():
                s = [float(fold_model.network(torch.tensor(enc.images[p][None]))[0]) for p in ids]
            fit[part].append(roc_auc_score(y, s) if 0 < y.sum() < len(y) else np.nan)
    fit_row = {f"AUC {k.replace('_ids', '')}": float(np.nanmean(v)) for k, v in fit.items()}
    fit_row["chosen epochs"] = " ".join(map(str, epochs))
    for trained in (True, False):
        feats, targets, sessions, pids = [], [], [], []
        for i, (fold_model, ckpt) in enumerate(zip(models, sorted((run / "folds").glob("*.json")))):
            test = json.loads(ckpt.read_text())["test_ids"]
            net = fold_model.network
            if not trained:  # same shape and input scaling, weights as initialised
                torch.manual_seed(i)
                fresh = model_from_params(params.model, meta["input_shape"])
                fresh.load_state_dict({k: v for k, v in net.state_dict().items() if k.startswith("input_")},
                                      strict=False)
                net = fresh.eval()
            f, t, s = embeddings(net, enc.images, test)
            feats += f
            targets += t
            sessions += s
            pids += test
        groups = np.concatenate([[p] * len(f) for p, f in zip(pids, feats)])
        F, T = np.concatenate(feats), np.concatenate(targets)
        pred = cross_val_predict(ridge(), F, T, cv=GroupKFold(5), groups=groups)
        r2 = np.array([r2_score(T[:, k], pred[:, k]) if T[:, k].std() > 1e-9 else np.nan for k in range(T.shape[1])])
        per_stat = r2.reshape(len(STATS), -1)
        row = {"run": run.name, "network": "trained" if trained else "untrained",
               **{f"window R² {s}": float(np.nanmean(np.clip(per_stat[i], 0, None))) for i, s in enumerate(STATS)}}
        E = np.stack(sessions)
        func = table.loc[pids, enc.feature_cols].to_numpy(float)
        keep = func.std(axis=0) > 1e-9
        fpred = cross_val_predict(ridge(), E, func[:, keep], cv=KFold(5, shuffle=True, random_state=0))
        names = [c for c, k in zip(enc.feature_cols, keep) if k]
        fr2 = {c: r2_score(func[:, keep][:, j], fpred[:, j]) for j, c in enumerate(names)}
        row["session R² median"] = float(np.median(list(fr2.values())))
        for c in RATES:
            row[f"R² {c}"] = float(fr2.get(c, np.nan))
        y = table.loc[pids, "label"].to_numpy(int)
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        logit = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=np.logspace(-3, 2, 11), cv=4, max_iter=2000))
        row["label AUC from embedding"] = float(roc_auc_score(y, cross_val_predict(logit, E, y, cv=cv,
                                                                                   method="predict_proba")[:, 1]))
        row["label AUC from functionals"] = float(roc_auc_score(y, cross_val_predict(logit, func[:, keep], y, cv=cv,
                                                                                     method="predict_proba")[:, 1]))
        rows.append(dict(row, **(fit_row if trained else {k: "" for k in fit_row})))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # scikit-learn's announced default changes
    rows = []
    for run in args.runs:
        rows += probe(run)
        print("\n".join(table(rows[-2:]).splitlines()[2:]), flush=True)
        if args.json:  # after every run: a cut-short probe keeps what finished
            Path(args.json).write_text(json.dumps(rows, indent=1))
    print(table(rows))


def table(rows: list[dict]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in x.values()) + " |" for x in rows]
    return "\n".join(out)


if __name__ == "__main__":
    main()
