"""The protocol: participant-grouped cross-validation (or the official split) with baselines in the
same folds, run or reused, the comparison variants, and scoring new sessions with a run.

Every choice a fold makes (epoch, threshold) is made on inner-validation participants drawn from
its outer-training set; the outer test fold only receives predictions. Folds are stratified by
label and grouped by participant id. Persistence (file names, checkpoints, metrics) is
:mod:`runs`'; analysis of finished runs is :mod:`results`'. Where the fold trainings run (this
process, or one Ray task each, several configurations in one pool) is :mod:`executor`'s.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from . import runs
from .baselines import BASELINES, fit_predict
from .encode import EncodedCorpus, encode_corpus, encode_session
from .model import pick_device
from .params import Params, ParamsError, params_from_dict
from .read import detect, load_corpus, read_one_session
from .textio import DataError
from .train import check_protocol, keep_freed_memory, score_participants, train_model

# The paper's central claim, measured on the same folds: the seed network on its frame layout
# against the default window layout, and rigid alignment on against off.
COMPARISONS = {
    "default (window layout, aligned)": [],
    # the seed as its code runs: no input scaling, last LSTM state, no augmentation, the first 16 frames
    "seed preset (frame layout)": ["encode.layout=frame", "model.preset=seed", "model.clip_windows=16",
                                   "encode.frame_count=16", "model.input_scaling=false", "model.pooling=last",
                                   "train.mirror=false", "model.stem=square", "model.row_bins=1",
                                   "encode.landmark_rows=true", "encode.geometry_rows=false"],
    "window layout, no alignment": ["normalise.align=false"],
}


def outer_splits(table: pd.DataFrame, params: Params, repeat: int) -> list:
    """[(fold, train_ids, test_ids)]: stratified by label, grouped by participant id."""
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


def run_fold(enc: EncodedCorpus, params: Params, repeat: int, fold: int, train_ids: list, test_ids: list,
             device: torch.device, progress=None) -> dict:
    """Train on the fold's outer-training participants (epoch and threshold on inner validation),
    predict its test participants, and fit every baseline on the same split."""
    labels = dict(zip(enc.table.participant_id, enc.table.label))
    seed = params.cv.seed + 1000 * repeat + fold
    inner_train, inner_val = inner_split(train_ids, labels, params.train.inner_val_fraction, seed)
    assert not set(inner_train) & set(inner_val) and not set(train_ids) & set(test_ids)
    t0 = time.perf_counter()
    trained = train_model(enc.images, labels, inner_train, inner_val, params, seed, device, progress)
    logits = score_participants(trained.model, enc.images, test_ids, params.model.clip_windows, device)
    prob = trained.probability(logits)
    pred = (prob >= trained.threshold).astype(int)
    table = enc.table.set_index("participant_id")
    rows = [{"repeat": repeat, "fold": fold, "participant_id": pid, "label": int(labels[pid]),
             "phq_score": float(table.at[pid, "phq_score"]), "gender": table.at[pid, "gender"],
             "score": float(p), "threshold": trained.threshold, "prediction": int(d)}
            for pid, p, d in zip(test_ids, prob, pred)]
    tr, te = table.loc[train_ids].reset_index(), table.loc[test_ids].reset_index()
    base = {}
    for name in BASELINES:
        score, bpred = fit_predict(name, tr, te, enc.feature_cols, seed)
        base[name] = {"score": [float(s) for s in score], "prediction": [int(b) for b in bpred]}
    return {"repeat": repeat, "fold": fold, "train_ids": train_ids, "test_ids": test_ids,
            "inner_train_ids": inner_train, "inner_val_ids": inner_val, "best_epoch": trained.best_epoch,
            "threshold": trained.threshold, "pos_weight": trained.pos_weight, "platt": list(trained.platt),
            "seconds": time.perf_counter() - t0,
            "history": [h | {"repeat": repeat, "fold": fold} for h in trained.history],
            "predictions": rows, "baselines": base, "state": trained.model.state_dict()}


@dataclass
class RunSpec:
    """One configuration to cross-validate into its run folder."""
    params: Params
    out: Path
    enc: EncodedCorpus
    resume: bool = False
    replace: bool = False


def run_cv(params: Params, out: Path, enc: EncodedCorpus, resume: bool = False, progress: bool = True,
           replace: bool = False) -> dict:
    """Cross-validate (or run the official split) into the run folder ``out``; returns metrics.

    Finished folds are written as they finish, so an interrupted run resumes with ``resume``.
    Where the folds run is ``cv.executor``'s (:mod:`executor`)."""
    return run_many([RunSpec(params, Path(out), enc, resume, replace)], progress)[0]


def fold_jobs(specs: list[RunSpec]) -> tuple[list, list[list], list[EncodedCorpus]]:
    """(jobs still to train, finished fold results per run, the distinct encoded corpora)."""
    from .executor import FoldJob
    corpora, jobs, done = [], [], []
    for i, s in enumerate(specs):
        corpus = next((k for k, c in enumerate(corpora) if c is s.enc), None)
        if corpus is None:
            corpora.append(s.enc)
            corpus = len(corpora) - 1
        done.append([])
        resume = s.resume and runs.holds_config(s.out, s.params)
        for r in range(s.params.cv.repeats):
            for f, train_ids, test_ids in outer_splits(s.enc.table, s.params, r):
                finished = runs.finished_fold(s.out, r, f) if resume else None
                if finished is not None:
                    done[i].append(finished)
                else:
                    jobs.append(FoldJob(i, corpus, s.params, r, f, train_ids, test_ids, f"{s.out} {runs.fold_name(r, f)}"))
    return jobs, done, corpora


def plan_for(specs: list[RunSpec], jobs: list, pool):
    """What is about to run, for the line printed before the first fold."""
    from .plan import Plan, projected_fold_seconds
    per_fold = max((projected_fold_seconds(specs[j.run].params, len(specs[j.run].enc.table),
                                           next(iter(specs[j.run].enc.images.values())).shape[1:]) for j in jobs),
                   default=0.0)
    return Plan(len(jobs), pool.workers(specs[0].params), pool.threads or torch.get_num_threads(), pool.name,
                pool.where(), per_fold, runs=len({j.run for j in jobs}))


def run_many(specs: list[RunSpec], progress: bool = True, desc: str = "cv folds") -> list[dict]:
    """Cross-validate several configurations as one pool of fold trainings; each run's metrics.

    ``cv.executor`` of the first configuration decides where (the pool's setting): ``local`` trains
    the runs one after another in this process; ``ray`` submits every fold of every run at once.
    The driver alone writes the run folders, each fold as it arrives. A fold that failed on Ray
    after its retries is listed in that run's ``metrics.json`` (``failed_folds``) and on stderr;
    :class:`executor.FoldsFailed` is raised at the end when a run has no finished fold at all."""
    from .executor import FoldsFailed, make_executor, payload_size
    from .plan import Progress
    for s in specs:
        check_protocol(s.params)
    jobs, done, corpora = fold_jobs(specs)  # before the folders are claimed: --resume reads what is there
    # connect before anything is written: an unreachable cluster is an error that leaves no trace
    pool = make_executor(specs[0].params, payload_size([corpora[j.corpus] for j in jobs])) if jobs else None
    try:
        for s in specs:
            runs.open_run_folder(s.out, s.params, s.resume, s.replace)
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    keep_freed_memory()
    started = time.perf_counter()
    seconds = [0.0] * len(specs)
    devices = [set() for _ in specs]
    failures = []
    if jobs:
        try:
            bar = Progress(plan_for(specs, jobs, pool), desc, progress)
            local = pool.name == "local"
            groups = [[j for j in jobs if j.run == i] for i in range(len(specs))] if local else [jobs]
            for group in groups:
                group_start = time.perf_counter()

                def on_result(job, result, group_start=group_start):
                    devices[job.run].add(result.pop("device", str(pick_device(job.params.train.device))))
                    runs.save_fold(specs[job.run].out, result)
                    done[job.run].append(result)
                    seconds[job.run] = time.perf_counter() - group_start
                    bar.done(result["seconds"])
                failures += pool.run(run_fold, group, corpora, on_result, bar.bar if progress and local else None)
            bar.close()
        finally:
            pool.close()
    out, empty = [], []
    for i, s in enumerate(specs):
        failed = [f.record() for f in failures if f.job.run == i]
        if not done[i]:
            reasons = "; ".join(f"{runs.fold_name(f['repeat'], f['fold'])}: {f['error']}" for f in failed)
            empty.append(f"{s.out}: every fold failed ({reasons})")
            out.append(None)
            continue
        device = ", ".join(sorted(devices[i])) or str(pick_device(s.params.train.device))
        where = f"ray: {device}" if s.params.cv.executor == "ray" else device
        out.append(runs.write_outputs(s.out, s.params, s.enc, done[i], seconds[i] or time.perf_counter() - started,
                                      where, failed))
    if empty:
        raise FoldsFailed("; ".join(empty))
    return out


def run_or_reuse(params: Params, run_dir: str | Path, enc: EncodedCorpus | None = None) -> tuple[dict, bool]:
    """(metrics, reused): cross-validate into ``run_dir`` unless a run of the same config, data
    fingerprint and code version is already there."""
    run_dir = Path(run_dir)
    enc = enc or encode_corpus(load_corpus(params), params)
    if runs.run_matches(run_dir, params, enc.fingerprint):
        return runs.load_metrics(run_dir), True
    return run_cv(params, run_dir, enc, progress=False, replace=True), False


def encoding_key(params: Params) -> str:
    """Configurations with equal keys train on the same encoded corpus (shared once on Ray)."""
    cfg = params.to_dict()
    return json.dumps({k: cfg[k] for k in ("dataset", "data", "normalise", "encode")}, sort_keys=True, default=str)


def pooled_runs(configs: list[tuple[Params, Path]], progress: bool = False, desc: str = "cv folds",
                resume: bool = False) -> list[tuple[dict, bool]]:
    """[(metrics, reused)] for each (params, run folder): reused where a matching run is there, the
    rest cross-validated. In-process one after another (one encoded corpus in memory at a time);
    on Ray every fold of every configuration in one pool (each distinct corpus encoded once)."""
    if not configs:
        return []
    if configs[0][0].cv.executor != "ray":
        out = []
        for params, run_dir in configs:
            enc = encode_corpus(load_corpus(params), params)
            if runs.run_matches(run_dir, params, enc.fingerprint):
                out.append((runs.load_metrics(run_dir), True))
            else:
                out.append((run_many([RunSpec(params, Path(run_dir), enc, resume, True)], progress, desc)[0], False))
        return out
    encodings: dict[str, EncodedCorpus] = {}
    results: list = [None] * len(configs)
    specs, index = [], []
    for i, (params, run_dir) in enumerate(configs):
        key = encoding_key(params)
        if key not in encodings:
            encodings[key] = encode_corpus(load_corpus(params), params)
        enc = encodings[key]
        if runs.run_matches(run_dir, params, enc.fingerprint):
            results[i] = (runs.load_metrics(run_dir), True)
        else:
            specs.append(RunSpec(params, Path(run_dir), enc, resume, True))
            index.append(i)
    for i, metrics in zip(index, run_many(specs, progress, desc) if specs else []):
        results[i] = (metrics, False)
    return results


def variant_dir(run_root: str | Path, overrides: list) -> Path:
    """``main`` for the default, else ``variant-<key>_<value>-...`` from the overrides."""
    if not overrides:
        return Path(run_root) / "main"
    return Path(run_root) / ("variant-" + "-".join(o.split("=")[0].split(".")[-1] + "_" + o.split("=")[1]
                                                   for o in overrides))


def run_comparisons(params: Params, run_root: str | Path, extra: dict | None = None) -> pd.DataFrame:
    """Run (or reuse) each comparison variant in the same outer folds; one row per variant (on Ray,
    the variants' folds are one pool of tasks)."""
    variants = {**COMPARISONS, **(extra or {})}
    configs = [(params_from_dict(asdict(params), overrides), variant_dir(run_root, overrides))
               for overrides in variants.values()]
    rows = []
    for name, (_, run_dir), (metrics, _) in zip(variants, configs, pooled_runs(configs)):
        rows.append({"name": name, "mean": metrics["macro_f1"]["mean"], "std": metrics["macro_f1"]["std"],
                     "roc_auc": metrics["roc_auc"]["mean"], "ppr": metrics["predicted_positive_rate"]["mean"],
                     "parameters": metrics["model_parameters"], "input": "x".join(map(str, metrics["input_shape"])),
                     "seconds": round(metrics["seconds"]), "run": run_dir.name})
    return pd.DataFrame(rows)


def predict_paths(run: Path, paths: list[str]) -> tuple[list[tuple[str, float, int]], list[str]]:
    """Score sessions with every fold model of a run: mean logit, median fold threshold.

    Returns ([(participant_id, probability, prediction)], problems); one problem per bad path."""
    models, meta = runs.load_models(Path(run))
    params = params_from_dict(meta["config"])
    threshold = float(np.median([t for _, t, _ in models]))
    rows, problems = [], []
    for raw in paths:
        try:
            _, dataset = detect(Path(raw))
            session = read_one_session(Path(raw), dataset, params)
            images = {"x": encode_session(session, params).images}
            if images["x"].shape[0] == 0:
                raise DataError(f"{raw}: no usable pseudo-image window")
            # each fold model's calibrated logit, averaged (identity map unless calibration: platt)
            logits = [a * score_participants(m, images, ["x"], params.model.clip_windows, torch.device("cpu"))[0] + b
                      for m, _, (a, b) in models]
            prob = float(expit(np.mean(logits)))
            rows.append((session.participant_id, prob, int(prob >= threshold)))
        except DataError as exc:
            problems.append(str(exc))
    return rows, problems
