"""The protocol: participant-grouped cross-validation (or the official split) with baselines in the
same folds, over a list of run specifications, and the comparison variants.

:func:`cross_validate` is the one way in: each :class:`RunSpec` names a configuration and its run
folder; a finished run of the same configuration, data and code is read back where the spec allows
(``reuse``), the others' folds are planned (:mod:`fold`), run where ``cv.executor`` says
(:mod:`executor`), and written as they arrive (:mod:`runs`). The splits and the fold job are
:mod:`fold`'s; analysis of finished runs is :mod:`results`'; scoring new sessions :mod:`predict`'s.
The shuffled-label sanity runs that follow a run are :mod:`sanity`'s.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch

from . import runs
from ..corpora.corpus import Corpus
from ..encoding.encode import EncodedCorpus, encode_corpus
from ..encoding.pairing import encode_pair
from .executor import FoldsFailed, make_executor, payload_size
from .fold import FoldJob, outer_splits
from .model import pick_device
from ..params import Params, ParamsError, derive, params_from_dict
from .plan import Plan, Progress, projected_fold_seconds
from ..corpora.read import load_corpus
from .train import keep_freed_memory

# The paper's central claims, measured on the same folds: the seed network on its frame layout
# against the default window layout, rigid alignment on against off, and clips against sessions.
COMPARISONS = {
    "default (window layout, aligned)": [],
    # the seed as its code runs: no input scaling, last LSTM state, no augmentation, the first 16 frames
    "seed preset (frame layout)": ["encode.layout=frame", "model.preset=seed", "model.scope=clip", "model.clip_windows=16",
                                   "encode.frame_count=16", "model.input_scaling=false", "model.pooling=last",
                                   "train.mirror=false", "encode.landmark_rows=true", "encode.geometry_rows=false"],
    "window layout, no alignment": ["normalise.align=false"],
    # the paper's reading of a session: clips of K windows, scored by the mean clip logit
    "CNN-LSTM on clips (the paper's design)": ["model.scope=clip"],
}
# variants that need 3-D landmarks: a corpus of pose/gaze/AU series (E-DAIC) has no frame matrix to
# image and no face to align, so its report runs the others
LANDMARK_VARIANTS = ("seed preset (frame layout)", "window layout, no alignment")
# the licensed corpora also run the input both share (data.signals: shared_series; the cross-corpus input) in
# the same folds: DAIC-WOZ from its pose/gaze/AU files instead of its landmarks, E-DAIC from 27 of its 31 series
SHARED_SERIES_VARIANT = {"pose, gaze and AU series shared by both corpora": ["data.signals=shared_series"]}


def comparison_variants(landmarks: bool = True, dataset: str = "") -> dict:
    """The comparison variants (name: overrides) a corpus can run: all of them when it has landmarks;
    the shared-series variant for DAIC-WOZ and E-DAIC."""
    out = {k: v for k, v in COMPARISONS.items() if landmarks or k not in LANDMARK_VARIANTS}
    return out | (SHARED_SERIES_VARIANT if dataset in ("daic_woz", "e_daic") else {})


@dataclass
class RunSpec:
    """One configuration to cross-validate into its run folder ``out``."""
    params: Params
    out: Path
    enc: EncodedCorpus | None = None  # None: read and encoded here (configurations that share an encoding share it)
    resume: bool = False  # keep finished folds of an interrupted run of this configuration
    replace: bool = False  # a folder holding another configuration's run is cleared (the report's own folders)
    reuse: bool = False  # a finished run of this configuration, data and code in ``out`` is read back, not retrained

    def __post_init__(self):
        self.out = Path(self.out)


def encoding_key(params: Params) -> str:
    """Configurations with equal keys train on the same encoded corpus (shared once on Ray). The task
    is part of it: it decides which participants the corpus keeps and their labels (a regression run
    drops those without a PHQ-8 score, :meth:`task.Task.labels`)."""
    cfg = params.to_dict()
    return json.dumps({k: cfg[k] for k in ("dataset", "data", "normalise", "encode")} | {"task": cfg["model"]["task"]}
                      | ({"pair": [cfg["cv"]["adaptation"], cfg["cv"]["overlap"]]} if cfg["cv"]["protocol"] == "cross_corpus" else {}),
                      sort_keys=True, default=str)


def cross_validate(specs: list[RunSpec], progress: bool = True, desc: str = "cv folds",
                   corpus: Corpus | None = None, read_with=None) -> list[tuple[dict, bool]]:
    """[(metrics, reused)] for each spec, in order.

    ``cv.executor`` of the first spec decides where the folds run: ``local`` takes the specs one
    after another in this process (one encoded corpus in memory at a time); ``ray`` encodes each
    distinct corpus once and submits every fold of every spec as one pool of tasks. A spec without
    an encoding is encoded from ``corpus`` when given (read with the specs' dataset, data and task:
    the caller's; with ``read_with``, the data params it was read with, only for the specs that read
    the same: a variant that reads other signals reads its own), else read here. The driver alone writes the run folders, each fold as it arrives.
    A fold that failed on Ray after its retries is listed in that run's ``metrics.json``
    (``failed_folds``) and on stderr; :class:`executor.FoldsFailed` is raised at the end when a run
    has no finished fold at all.

    ``reuse``: a finished run of the same configuration, data and code is read back from the spec's
    folder, or else from ``pseudoface cv``'s own folder for it (``runs/<dataset>/<config hash>/``,
    :func:`runs.default_run_dir`), which is then copied into the spec's folder (so that ``cv`` then
    ``report`` trains once)."""
    if not specs:
        return []
    results: list = [None] * len(specs)
    pooled = specs[0].params.cv.executor == "ray"
    for batch in [list(range(len(specs)))] if pooled else [[i] for i in range(len(specs))]:
        encodings: dict[str, EncodedCorpus] = {}
        todo = []
        for i in batch:
            s = specs[i]
            enc = s.enc
            if enc is None:
                key = encoding_key(s.params)
                if key not in encodings and s.params.cv.protocol == "cross_corpus":
                    encodings[key] = encode_pair(s.params)  # the training and test corpora, joined
                elif key not in encodings:
                    same = corpus is not None and (read_with is None or s.params.data == read_with)
                    encodings[key] = encode_corpus(corpus if same else load_corpus(s.params), s.params)
                enc = encodings[key]
            if s.reuse and _finished_run(s, enc.fingerprint):
                results[i] = (runs.load_metrics(s.out), True)
            else:
                todo.append((i, RunSpec(s.params, s.out, enc, s.resume, s.replace)))
        for (i, _), metrics in zip(todo, _train([s for _, s in todo], progress, desc)):
            results[i] = (metrics, False)
    return results


def _finished_run(spec: RunSpec, fingerprint: str) -> bool:
    """True when ``spec.out`` holds the finished run of its configuration, data and code, copied
    there first from ``pseudoface cv``'s folder for it when only that one does (the report's
    folders are replaced: ``spec.replace``)."""
    if runs.run_matches(spec.out, spec.params, fingerprint):
        return True
    source = runs.default_run_dir(spec.params)
    if not spec.replace or source.resolve() == spec.out.resolve() or not runs.run_matches(source, spec.params, fingerprint):
        return False
    if spec.out.exists():
        shutil.rmtree(spec.out)
    shutil.copytree(source, spec.out)
    return True


def _jobs(specs: list[RunSpec]) -> tuple[list[FoldJob], list[list], list[EncodedCorpus]]:
    """(fold jobs still to train, finished fold results per run, the distinct encoded corpora)."""
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


def _plan(specs: list[RunSpec], jobs: list[FoldJob], pool) -> Plan:
    """What is about to run, for the line printed before the first fold."""
    per_fold = max((projected_fold_seconds(specs[j.run].params, len(specs[j.run].enc.table),
                                           next(iter(specs[j.run].enc.images.values())).shape[1:]) for j in jobs),
                   default=0.0)
    return Plan(len(jobs), pool.workers(specs[0].params), pool.threads or torch.get_num_threads(), pool.name,
                pool.where(), per_fold, runs=len({j.run for j in jobs}))


def _train(specs: list[RunSpec], progress: bool, desc: str) -> list[dict]:
    """Train every missing fold of ``specs`` (encoded) as one pool; each run's metrics."""
    if not specs:
        return []
    jobs, done, corpora = _jobs(specs)  # before the folders are claimed: --resume reads what is there
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
            bar = Progress(_plan(specs, jobs, pool), desc, progress)
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
                failures += pool.run(group, corpora, on_result, bar.bar if progress and local else None)
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


def variant_dir(run_root: str | Path, overrides: list) -> Path:
    """``main`` for the default, else ``variant-<key>_<value>-...`` from the overrides."""
    if not overrides:
        return Path(run_root) / "main"
    return Path(run_root) / ("variant-" + "-".join(o.split("=")[0].split(".")[-1] + "_" + o.split("=")[1]
                                                   for o in overrides))


def run_comparisons(params: Params, run_root: str | Path, extra: dict | None = None, landmarks: bool = True,
                    enc: EncodedCorpus | None = None, corpus: Corpus | None = None) -> pd.DataFrame:
    """Cross-validate (or reuse) each comparison variant in the same outer folds; one row per
    variant (on Ray, the variants' folds are one pool of tasks). ``landmarks``: False for a corpus
    of series (E-DAIC), which runs only the variants that need no landmarks. ``enc``: ``params``'
    encoded corpus, shared by the variants that encode as ``params`` does; ``corpus``: the corpus
    already read, which the others encode (each is read again when not given)."""
    variants = {**comparison_variants(landmarks, params.dataset), **(extra or {})}
    specs = [RunSpec(derive(params, overrides), variant_dir(run_root, overrides), replace=True, reuse=True)
             for overrides in variants.values()]
    for s in specs:
        if enc is not None and encoding_key(s.params) == encoding_key(params):
            s.enc = enc
    rows = []
    done = cross_validate(specs, progress=False, corpus=corpus, read_with=params.data)
    for name, spec, (metrics, _) in zip(variants, specs, done):
        rows.append({"name": name, "mean": metrics["macro_f1"]["mean"], "std": metrics["macro_f1"]["std"],
                     "roc_auc": metrics["roc_auc"]["mean"], "ppr": metrics["predicted_positive_rate"]["mean"],
                     "feature": metrics["baselines"]["feature_model"]["macro_f1"]["mean"],
                     "fused": metrics["fused_model"]["macro_f1"]["mean"],
                     "parameters": metrics["model_parameters"], "input": "x".join(map(str, metrics["input_shape"])),
                     "seconds": round(metrics["seconds"]), "run": spec.out.name})
    return pd.DataFrame(rows)


def task_params(params: Params, task: str) -> Params:
    """``params`` for the other task in the same folds (the report's regression companion): the task
    switched, no sanity run of its own, no Platt map (a regression predicts the score itself)."""
    return params_from_dict(asdict(params), [f"model.task={task}", "cv.shuffled_labels=0", "train.calibration=none"])
