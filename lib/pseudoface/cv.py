"""``pseudoface cv``: participant-grouped cross-validation with baselines; writes a run folder.

Run folder (default ``runs/<dataset>/<config-hash>/``): ``metrics.json``, ``predictions.csv``
(one row per participant per repeat), ``history.csv`` (per repeat, fold, epoch), ``folds/*.json``
(finished folds, which ``--resume`` keeps) and ``checkpoints/*.pt`` (state dicts with plain
metadata: they load with ``torch.load(..., weights_only=True)``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from . import __version__
from .baselines import BASELINES, fit_predict
from .corpus import Corpus, load_corpus
from .evaluate import paired_bootstrap_difference, summarise
from .model import CNNLSTM, count_parameters, pick_device
from .params import Params, ParamsError, load_params, params_from_dict
from .pipeline import encode_corpus
from .textio import atomic_write_bytes, atomic_write_text
from .train import check_protocol, score_participants, train_model


@dataclass
class Prepared:
    corpus: Corpus
    images: dict  # participant_id -> (N, C, R, W)
    table: pd.DataFrame  # one row per usable participant: labels, quality, motion features
    feature_cols: list
    encode_summary: pd.DataFrame
    fingerprint: str


def code_version() -> str:
    try:
        root = Path(__file__).resolve().parents[2]
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "lib"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        if head:
            return f"{__version__}+{head}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        pass
    return __version__


def config_hash(params: Params) -> str:
    cfg = params.to_dict()
    cfg.pop("report", None)
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:12]


def prepare(params: Params, progress: bool = False) -> Prepared:
    corpus = load_corpus(params)
    encoded, summary = encode_corpus(corpus, params, progress=progress)
    images = {pid: enc.images for pid, enc in encoded.items()}
    labels = corpus.usable_labels().set_index("participant_id")
    rows = []
    for pid, s in corpus.sessions.items():
        if images[pid].shape[0] == 0:
            continue  # counted in the encode summary (every window skipped)
        feats = encoded[pid].motion  # computed with the pseudo-images from one normalisation
        rows.append({"participant_id": pid, "label": int(labels.at[pid, "label"]),
                     "phq_score": labels.at[pid, "phq_score"], "gender": labels.at[pid, "gender"],
                     "split": labels.at[pid, "split"], "valid_fraction": s.valid_fraction,
                     "duration_s": s.duration_s, **feats})
    table = pd.DataFrame(rows)
    no_windows = [pid for pid in corpus.sessions if images[pid].shape[0] == 0]
    for pid in no_windows:
        corpus.flow.dropped.append((pid, "usable", "no pseudo-image window passed encode.max_missing_fraction"))
    feature_cols = [c for c in table.columns if c not in
                    ("participant_id", "label", "phq_score", "gender", "split", "valid_fraction", "duration_s")]
    fp = hashlib.sha256(json.dumps(
        [(r.participant_id, r.label, corpus.sessions[r.participant_id].n_frames,
          int(corpus.sessions[r.participant_id].valid.sum())) for r in table.itertuples()]).encode()).hexdigest()[:16]
    return Prepared(corpus, {p: images[p] for p in table.participant_id}, table, feature_cols, summary, fp)


def outer_splits(table: pd.DataFrame, params: Params, repeat: int) -> list:
    """[(fold, train_ids, test_ids)]: stratified by label, grouped by participant (one group per
    participant id, so a participant present in two corpora is one group)."""
    ids, y = table.participant_id.to_numpy(), table.label.to_numpy()
    if params.cv.protocol == "official":
        split = table.split.to_numpy()
        folds = [(0, ids[split == "train"], ids[split == "dev"])]
        if (split == "test").any():
            folds.append((1, ids[np.isin(split, ["train", "dev"])], ids[split == "test"]))
        return [(f, list(a), list(b)) for f, a, b in folds]
    k = params.cv.folds
    if min(np.bincount(y, minlength=2)) < k:
        raise ParamsError(f"cv.folds: {k} folds need at least {k} participants per class "
                          f"(have {np.bincount(y, minlength=2).tolist()})")
    sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=params.cv.seed + 1000 * repeat)
    return [(f, list(ids[tr]), list(ids[te])) for f, (tr, te) in enumerate(sgkf.split(ids, y, groups=ids))]


def inner_split(train_ids: list, labels: dict, fraction: float, seed: int) -> tuple[list, list]:
    """Stratified participant split of the outer-training set into inner train / validation."""
    y = np.array([labels[p] for p in train_ids])
    n_val = max(2, int(round(fraction * len(train_ids))))
    sss = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
    tr, va = next(sss.split(np.zeros(len(y)), y))
    return [train_ids[i] for i in tr], [train_ids[i] for i in va]


def run_fold(prep: Prepared, params: Params, repeat: int, fold: int, train_ids: list, test_ids: list,
             device: torch.device, progress=None) -> dict:
    labels = dict(zip(prep.table.participant_id, prep.table.label))
    seed = params.cv.seed + 1000 * repeat + fold
    inner_train, inner_val = inner_split(train_ids, labels, params.train.inner_val_fraction, seed)
    assert not set(inner_train) & set(inner_val) and not set(train_ids) & set(test_ids)
    t0 = time.perf_counter()
    trained = train_model(prep.images, labels, inner_train, inner_val, params, seed, device, progress)
    logits = score_participants(trained.model, prep.images, test_ids, params.model.clip_windows, device)
    prob = 1 / (1 + np.exp(-logits))
    pred = (prob >= trained.threshold).astype(int)
    table = prep.table.set_index("participant_id")
    rows = [{"repeat": repeat, "fold": fold, "participant_id": pid, "label": int(labels[pid]),
             "phq_score": float(table.at[pid, "phq_score"]), "gender": table.at[pid, "gender"],
             "score": float(p), "threshold": trained.threshold, "prediction": int(d)}
            for pid, p, d in zip(test_ids, prob, pred)]
    tr, te = table.loc[train_ids].reset_index(), table.loc[test_ids].reset_index()
    base = {}
    for name in BASELINES:
        score, bpred = fit_predict(name, tr, te, prep.feature_cols, seed)
        base[name] = {"score": [float(s) for s in score], "prediction": [int(b) for b in bpred]}
    return {"repeat": repeat, "fold": fold, "train_ids": train_ids, "test_ids": test_ids,
            "inner_train_ids": inner_train, "inner_val_ids": inner_val, "best_epoch": trained.best_epoch,
            "threshold": trained.threshold, "pos_weight": trained.pos_weight, "seconds": time.perf_counter() - t0,
            "history": [h | {"repeat": repeat, "fold": fold} for h in trained.history],
            "predictions": rows, "baselines": base, "state": trained.model.state_dict()}


def _save_fold(out: Path, result: dict) -> None:
    name = f"r{result['repeat']}_f{result['fold']}"
    state = result.pop("state")
    meta = {"repeat": result["repeat"], "fold": result["fold"], "threshold": result["threshold"],
            "best_epoch": result["best_epoch"]}
    atomic_write_bytes(out / "checkpoints" / f"{name}.pt", lambda fh: torch.save({"state_dict": state, "meta": meta}, fh))
    atomic_write_text(out / "folds" / f"{name}.json", json.dumps(result))


def run_cv(params: Params, out: Path, resume: bool = False, progress: bool = True,
           prep: Prepared | None = None, replace: bool = False) -> dict:
    """Cross-validate (or run the official split) and write the run folder; returns metrics.

    A folder holding another configuration's run is an error, unless ``replace`` (used for the
    report's own run folders), which removes that run's files first and says so."""
    from tqdm import tqdm  # text bars (tqdm.auto wants ipywidgets inside notebooks)
    check_protocol(params)
    out = Path(out)
    run_file = out / "run.json"
    chash = config_hash(params)
    if run_file.is_file():
        previous = json.loads(run_file.read_text())
        if previous["config_hash"] != chash and replace:
            print(f"{out}: replacing a run of another configuration ({previous['config_hash']})")
            for sub in ("folds", "checkpoints"):
                shutil.rmtree(out / sub, ignore_errors=True)
            for name in ("run.json", "metrics.json", "predictions.csv", "history.csv", "participants.csv"):
                (out / name).unlink(missing_ok=True)
        elif previous["config_hash"] != chash:
            raise ParamsError(f"{out}: holds a run of another configuration ({previous['config_hash']}); "
                              "use another --out")
        if not resume:
            for f in list((out / "folds").glob("*.json")):
                f.unlink()
    prep = prep or prepare(params, progress=progress)
    atomic_write_text(run_file, json.dumps({"config_hash": chash, "config": params.to_dict()}, indent=1))
    device = pick_device(params.train.device)
    started = time.perf_counter()
    plan = [(r, f, a, b) for r in range(params.cv.repeats) for f, a, b in outer_splits(prep.table, params, r)]
    results = []
    bar = tqdm(plan, desc="cv folds", disable=None if progress else True)
    for r, f, train_ids, test_ids in bar:
        path = out / "folds" / f"r{r}_f{f}.json"
        if resume and path.is_file():
            results.append(json.loads(path.read_text()))
            continue
        result = run_fold(prep, params, r, f, train_ids, test_ids, device, bar if progress else None)
        _save_fold(out, result)
        results.append(result)
    return write_outputs(out, params, prep, results, time.perf_counter() - started, str(device))


def write_outputs(out: Path, params: Params, prep: Prepared, results: list, seconds: float, device: str) -> dict:
    predictions = pd.DataFrame([row for r in results for row in r["predictions"]])
    history = pd.DataFrame([h for r in results for h in r["history"]])
    summary = summarise(predictions, params.cv.bootstrap, params.cv.seed)
    baselines, base_preds = {}, {}
    for name in BASELINES:
        rows = [dict(p, score=s, prediction=d) for r in results for p, s, d in
                zip(r["predictions"], r["baselines"][name]["score"], r["baselines"][name]["prediction"])]
        frame = pd.DataFrame(rows)
        base_preds[name] = frame
        baselines[name] = {k: v for k, v in summarise(frame, 200, params.cv.seed).items() if k != "folds"}
    first = predictions[predictions.repeat == 0].sort_values("participant_id")
    feat = base_preds["feature_model"]
    feat = feat[feat.repeat == 0].sort_values("participant_id")
    paired = paired_bootstrap_difference(first.label.to_numpy(), first.prediction.to_numpy(),
                                         feat.prediction.to_numpy(), params.cv.bootstrap, params.cv.seed)
    in_ch = next(iter(prep.images.values())).shape[1]
    c = prep.corpus
    metrics = {
        "dataset": params.dataset, "protocol": params.cv.protocol, "label_rule": params.data.label_rule,
        "synthetic": c.synthetic,
        "n_participants": int(len(prep.table)), "n_depressed": int(prep.table.label.sum()),
        "n_excluded": int(len(c.flow.dropped)), "participant_flow": c.flow.counts,
        "excluded_reasons": sorted({step for _, step, _ in c.flow.dropped}),
        "problems": c.problems,
        "config": params.to_dict(), "config_hash": config_hash(params), "code_version": code_version(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "sklearn": __import__("sklearn").__version__},
        "data_fingerprint": prep.fingerprint, "seed": params.cv.seed, "device": device,
        "model_parameters": count_parameters(CNNLSTM(in_ch, params.model.preset)),
        "input_shape": list(next(iter(prep.images.values())).shape[1:]),
        **{k: v for k, v in summary.items() if k != "folds"},
        "fold_details": [dict(f, best_epoch=r["best_epoch"], threshold=r["threshold"], seconds=r["seconds"],
                              n_inner_train=len(r["inner_train_ids"]), n_inner_val=len(r["inner_val_ids"]))
                         for f, r in zip(summary["folds"], sorted(results, key=lambda r: (r["repeat"], r["fold"])))],
        "baselines": baselines,
        "paired_vs_feature_model": paired,
        "encode": {"windows": int(prep.encode_summary.windows.sum()),
                   "skipped_windows": int(prep.encode_summary.skipped_windows.sum()),
                   "clip_rate": float(prep.encode_summary.clip_rate.mean())},
        "seconds": seconds,
        "session_minutes": float(sum(s.duration_s for s in c.sessions.values()) / 60),
    }
    atomic_write_text(out / "predictions.csv", predictions.to_csv(index=False))
    atomic_write_text(out / "history.csv", history.to_csv(index=False))
    atomic_write_text(out / "participants.csv", prep.table.to_csv(index=False))
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=1, default=float))
    return metrics


def default_run_dir(params: Params) -> Path:
    return Path("runs") / params.dataset / config_hash(params)


def headline(metrics: dict) -> str:
    m, b = metrics["macro_f1"], metrics["baselines"]
    parts = [f"macro-F1 {m['mean']:.3f} ± {m['std']:.3f} (pooled {np.mean(list(m['pooled'].values())):.3f}, "
             f"95% CI {m['ci95'][0]:.2f}-{m['ci95'][1]:.2f}), predicted-positive rate "
             f"{metrics['predicted_positive_rate']['mean']:.2f}"]
    parts += [f"  {name}: {v['macro_f1']['mean']:.3f} ± {v['macro_f1']['std']:.3f}" for name, v in b.items()]
    return "\n".join(parts)


def cmd_cv(args) -> int:
    from .cli import corpus_summary, ensure_synthetic
    overrides = list(args.overrides) + ([f"cv.protocol={args.protocol}"] if args.protocol else [])
    params = load_params(args.params, overrides)
    ensure_synthetic(params)
    out = Path(args.out) if args.out else default_run_dir(params)
    prep = prepare(params, progress=True)
    print("\n".join(corpus_summary(prep.corpus)))
    metrics = run_cv(params, out, resume=args.resume, prep=prep)
    print(f"{params.dataset} ({params.cv.protocol}, {metrics['n_participants']} participants): " + headline(metrics))
    print(f"wrote {out}/metrics.json in {metrics['seconds']:.0f} s")
    for p in prep.corpus.problems:
        print(f"problem: {p}", file=sys.stderr)
    return 0


def load_models(run: Path) -> tuple[list, dict]:
    meta = json.loads((run / "metrics.json").read_text())
    params = params_from_dict(meta["config"])
    models = []
    for ckpt in sorted((run / "checkpoints").glob("*.pt")):
        blob = torch.load(ckpt, map_location="cpu", weights_only=True)
        model = CNNLSTM(meta["input_shape"][0], params.model.preset, params.model.dropout)
        model.load_state_dict(blob["state_dict"])
        models.append((model.eval(), float(blob["meta"]["threshold"])))
    if not models:
        raise ParamsError(f"{run}: no checkpoints (run `pseudoface cv` first)")
    return models, meta


def cmd_predict(args) -> int:
    """Score sessions with every fold model of a run: mean logit, median fold threshold."""
    from .inspect_data import detect, read_one_session
    from .pipeline import encode_session
    from .textio import DataError
    run = Path(args.run)
    models, meta = load_models(run)
    params = params_from_dict(meta["config"])
    threshold = float(np.median([t for _, t in models]))
    problems = []
    print("participant,score,prediction")
    for raw in args.paths:
        try:
            _, dataset = detect(Path(raw))
            session = read_one_session(Path(raw), dataset, params)
            images = {"x": encode_session(session, params).images}
            if images["x"].shape[0] == 0:
                raise DataError(f"{raw}: no usable pseudo-image window")
            logits = [score_participants(m, images, ["x"], params.model.clip_windows, torch.device("cpu"))[0]
                      for m, _ in models]
            prob = float(1 / (1 + np.exp(-np.mean(logits))))
            print(f"{session.participant_id},{prob:.4f},{int(prob >= threshold)}")
        except DataError as exc:
            problems.append(str(exc))
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0
