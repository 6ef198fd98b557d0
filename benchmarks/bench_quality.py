"""Quality over varied depression cues: the network, the feature model and the fused model side by
side on the same folds, per synthetic cue family x corpus seed, in either corpus layout.

Each cell writes a synthetic corpus (``--format daic_woz``: 3-D landmarks; ``e_daic``: pose, gaze
and AU series; ``--participants`` x ``--seconds``) with one cue family (``pseudoface synth
--effect``), cross-validates the params' default (5 folds, 1 repeat, CV seed = corpus seed) with
every baseline and the fused model in the same outer folds, and reads the run's metrics and
out-of-fold predictions.

Per family it prints, for the network, the feature model, the fused model and stratified random:
macro-F1 as the mean over seeds of each seed's mean over folds, ± its standard error over seeds
(SD / sqrt(seeds)); the paired difference network − feature model and fused − max(network,
feature) per seed, with a 95% CI over seeds (t interval of the per-seed differences: seeds are
the independent replicates, folds within a seed are not); ROC-AUC; the median over seeds of the
out-of-fold score IQR (a collapsed model has a tiny one); and each target it misses, with the margin.

Reported seeds are 0-9 (``--seeds``); every model choice is made on dev seeds >= 1000, never on
these (``--seeds 1000 1001``). Corpora are cached under benchmarks/out/corpora/, runs under
benchmarks/out/runs/<family>-s<seed>-<format>-<config hash>/; a cell whose run folder holds a run
of the same config, data and code version is reused. ``--jobs N`` runs N cells at once, each in its
own process with ``train.threads=1`` (a many-core machine; on 2 cores keep 1).

``--task regression`` (``model.task=regression``): per family, MAE and CCC of the network, the ridge
feature model and the fused score beside the training-fold mean predictor (AVEC's baseline), and the
paired MAE difference of each against it (mean of per-seed differences of the per-fold means).

Usage: python benchmarks/bench_quality.py [--task binary] [--families all] [--seeds 0 1 ... 9] [--format daic_woz]
       [--participants 60] [--seconds 90] [--set key=value ...] [--jobs 1] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from pseudoface.learning.cv import RunSpec, cross_validate
from pseudoface.encoding.encode import encode_corpus
from pseudoface.params import params_from_dict
from pseudoface.corpora.read import is_synthetic, load_corpus
from pseudoface.learning.runs import code_version, config_hash
from pseudoface.corpora.synthetic import EFFECTS, write_corpus

OUT = Path(__file__).resolve().parent / "out"
MODELS = ("network", "feature", "fused", "random")


def corpus(family: str, seed: int, participants: int, seconds: float, fmt: str = "daic_woz") -> Path:
    layout = "" if fmt == "daic_woz" else f"-{fmt}"
    root = OUT / "corpora" / f"{family}-s{seed}-n{participants}-t{seconds:g}{layout}"
    if not is_synthetic(root):
        write_corpus(root, participants=participants, seconds=seconds, seed=seed, effect=family, fmt=fmt)
    return root


def cell(family: str, seed: int, args) -> dict:
    root = corpus(family, seed, args.participants, args.seconds, args.format)
    dataset = "synthetic" if args.format == "daic_woz" else args.format
    params = params_from_dict({"dataset": dataset, "data": {"root": str(root)}},
                              ["cv.repeats=1", "cv.folds=5", f"cv.seed={seed}", f"model.task={args.task}"]
                              + (["train.threads=1"] if args.jobs > 1 else []) + args.overrides)
    enc = encode_corpus(load_corpus(params), params)
    run_dir = OUT / "runs" / f"{family}-s{seed}-{args.format}-{config_hash(params)[:10]}"  # one folder per config
    t = time.perf_counter()
    # a finished run of the same config, data and code is read back (never under uncommitted code:
    # its version string does not say which edits ran)
    reuse = not code_version().endswith(".dirty")
    [(m, reused)] = cross_validate([RunSpec(params, run_dir, enc, replace=True, reuse=reuse)], progress=False)
    seconds = m["seconds"] if reused else time.perf_counter() - t
    pred = pd.read_csv(run_dir / "predictions.csv", dtype={"participant_id": str})
    random = [p for f in sorted((run_dir / "folds").glob("*.json")) for p in
              json.loads(f.read_text())["baselines"]["stratified_random"]["prediction"]]
    iqr = {name: float(np.subtract(*np.percentile(pred[col], [75, 25])))
           for name, col in (("network", "score"), ("feature", "feature_score"), ("fused", "fused_score"))}
    if args.task == "regression":
        models = {"network": m["regression"], "ridge": m["regression_baselines"]["ridge"],
                  "fused": m["regression_fused_model"], "mean": m["regression_baselines"]["mean"]}
        return {"family": family, "seed": seed, "format": args.format, "seconds": seconds, "task": "regression",
                "mae": {k: v["mae"]["mean"] for k, v in models.items()},
                "ccc": {k: v["ccc"]["mean"] for k, v in models.items()},
                "rmse": {k: v["rmse"]["mean"] for k, v in models.items()},
                "f1": {"network": m["macro_f1"]["mean"]}, "auc": {"network": m["roc_auc"]["mean"]},
                "epochs": [f["best_epoch"] for f in m["fold_details"]]}
    return {"family": family, "seed": seed, "format": args.format, "seconds": seconds,
            "f1": {"network": m["macro_f1"]["mean"], "feature": m["baselines"]["feature_model"]["macro_f1"]["mean"],
                   "fused": m["fused_model"]["macro_f1"]["mean"],
                   "random": m["baselines"]["stratified_random"]["macro_f1"]["mean"]},
            "auc": {"network": m["roc_auc"]["mean"], "feature": m["baselines"]["feature_model"]["roc_auc"]["mean"],
                    "fused": m["fused_model"]["roc_auc"]["mean"]},
            "iqr": iqr, "fusion_weights": m["fused_model"]["weights"],
            "epochs": [f["best_epoch"] for f in m["fold_details"]], "n_random": len(random)}


def _cell(job):
    family, seed, args = job
    return cell(family, seed, args)


def mean_se(values) -> str:
    v = np.asarray(values, float)
    se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return f"{v.mean():.3f} ± {se:.3f}"


def paired(a, b) -> tuple[float, float, float]:
    """Mean of the per-seed differences a − b and its 95% t interval over seeds."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if len(d) < 2:
        return float(d.mean()), float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def table(cells: list[dict]) -> list[str]:
    """The per-family table (Markdown) and the averaged targets."""
    families = list(dict.fromkeys(c["family"] for c in cells))
    head = ("cue family", "network", "feature model", "fused", "stratified random", "network − feature [95% CI]",
            "fused − best of two [95% CI]", "AUC net / feat / fused", "score IQR net (median)", "targets")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for family in families:
        cs = sorted((c for c in cells if c["family"] == family), key=lambda c: c["seed"])
        f1 = {m: [c["f1"][m] for c in cs] for m in MODELS}
        d, lo, hi = paired(f1["network"], f1["feature"])
        best = np.maximum(np.mean(f1["network"]), np.mean(f1["feature"]))
        better = f1["network"] if np.mean(f1["network"]) >= np.mean(f1["feature"]) else f1["feature"]
        fd, flo, fhi = paired(f1["fused"], better)
        iqr = float(np.median([c["iqr"]["network"] for c in cs]))
        missed = []
        if np.mean(f1["network"]) < np.mean(f1["feature"]) - 0.03:
            missed.append(f"network {np.mean(f1['network']) - np.mean(f1['feature']) + 0.03:+.3f} below feature − 0.03")
        if np.mean(f1["network"]) < np.mean(f1["random"]) + 0.08:
            missed.append(f"network {np.mean(f1['network']) - np.mean(f1['random']) - 0.08:+.3f} below random + 0.08")
        if iqr < 0.1:
            missed.append(f"network IQR {iqr:.3f} < 0.1")
        if np.mean(f1["fused"]) < best - 0.01:
            missed.append(f"fused {np.mean(f1['fused']) - best + 0.01:+.3f} below best − 0.01")
        auc = " / ".join(f"{np.mean([c['auc'][m] for c in cs]):.3f}" for m in ("network", "feature", "fused"))
        lines.append("| " + " | ".join((
            f"{family} ({len(cs)} seeds)", mean_se(f1["network"]), mean_se(f1["feature"]), mean_se(f1["fused"]),
            mean_se(f1["random"]), f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]", f"{fd:+.3f} [{flo:+.3f}, {fhi:+.3f}]",
            auc, f"{iqr:.3f}", "met" if not missed else "missed: " + "; ".join(missed))) + " |")
    avg = {m: np.mean([np.mean([c["f1"][m] for c in cells if c["family"] == f]) for f in families]) for m in MODELS}
    lines.append("")
    lines.append(f"averaged over families: network {avg['network']:.3f}, feature model {avg['feature']:.3f}, "
                 f"fused {avg['fused']:.3f}, stratified random {avg['random']:.3f} "
                 f"(network − feature {avg['network'] - avg['feature']:+.3f}: target >= 0; "
                 f"fused − feature {avg['fused'] - avg['feature']:+.3f}: target > 0)")
    return lines


REGRESSION_MODELS = ("network", "ridge", "fused", "mean")


def regression_table(cells: list[dict]) -> list[str]:
    """Per family: MAE and CCC of each model (mean over seeds of the per-fold means ± SE over seeds),
    each model's MAE minus the mean predictor's (mean of per-seed differences, 95% t interval)."""
    families = list(dict.fromkeys(c["family"] for c in cells))
    head = ("cue family", *[f"MAE {m}" for m in REGRESSION_MODELS], *[f"CCC {m}" for m in REGRESSION_MODELS[:3]],
            *[f"MAE {m} − mean [95% CI]" for m in REGRESSION_MODELS[:3]], "network AUC of the derived screen")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for family in families:
        cs = sorted((c for c in cells if c["family"] == family), key=lambda c: c["seed"])
        err = {m: [c["mae"][m] for c in cs] for m in REGRESSION_MODELS}
        diffs = []
        for m in REGRESSION_MODELS[:3]:
            d, lo, hi = paired(err[m], err["mean"])
            diffs.append(f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]")
        lines.append("| " + " | ".join((f"{family} ({len(cs)} seeds)", *[mean_se(err[m]) for m in REGRESSION_MODELS],
                                        *[mean_se([c["ccc"][m] for c in cs]) for m in REGRESSION_MODELS[:3]],
                                        *diffs, f"{np.mean([c['auc']['network'] for c in cs]):.3f}")) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=["binary", "regression"], default="binary",
                    help="model.task: the screen (macro-F1 table) or the PHQ-8 score (MAE / CCC table)")
    ap.add_argument("--families", nargs="+", default=["all"])
    ap.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    ap.add_argument("--format", choices=["daic_woz", "e_daic"], default="daic_woz",
                    help="corpus layout: 3-D landmarks (DAIC-WOZ) or pose, gaze and AU series (E-DAIC)")
    ap.add_argument("--participants", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=1, help="cells at once, one process each (train.threads=1)")
    ap.add_argument("--json", default=None, help="also write every cell's numbers here")
    ap.add_argument("--table", nargs="+", default=None, metavar="CELLS.json",
                    help="print the table of cells saved by --json (one layout per file) and exit")
    args = ap.parse_args()
    if args.table:
        for path in args.table:
            cells = json.loads(Path(path).read_text())
            rows = regression_table(cells) if cells[0].get("task") == "regression" else table(cells)
            print(f"\n{cells[0]['format']} ({path}):\n" + "\n".join(rows))
        return
    families = list(EFFECTS) if args.families == ["all"] else args.families
    print(f"{args.format} corpora: {args.participants} participants x {args.seconds:g} s, families {families}, "
          f"corpus/CV seeds {args.seeds}; overrides {args.overrides or 'none (the default)'}; code {code_version()}",
          flush=True)
    # every family for one seed first: a cut-short run still covers them all
    jobs = [(family, seed, args) for seed in args.seeds for family in families]
    started = time.perf_counter()
    cells = []
    # spawned workers: none inherits the parent's torch state (a forked CUDA context fails)
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) if args.jobs > 1 \
            else _Serial() as pool:
        for c in pool.map(_cell, jobs):
            cells.append(c)
            if args.json:  # after every cell: a run cut short keeps what finished
                Path(args.json).write_text(json.dumps(cells, indent=1))
            if args.task == "regression":
                print(f"  {c['family']:12s} seed {c['seed']}: MAE " + "  ".join(f"{m} {c['mae'][m]:.2f}" for m in
                                                                              REGRESSION_MODELS)
                      + "  CCC " + "  ".join(f"{m} {c['ccc'][m]:.3f}" for m in REGRESSION_MODELS[:3])
                      + f"  {c['seconds']:.0f} s", flush=True)
                continue
            f1 = "  ".join(f"{m} {c['f1'][m]:.3f}" for m in MODELS)
            print(f"  {c['family']:12s} seed {c['seed']}: {f1}  AUC {c['auc']['network']:.3f}/{c['auc']['feature']:.3f}"
                  f"/{c['auc']['fused']:.3f}  IQR {c['iqr']['network']:.3f}  w {c['fusion_weights']}  "
                  f"{c['seconds']:.0f} s", flush=True)
    if args.task == "regression":
        print(f"\n{args.format}, PHQ-8 score: {len(cells)} cells in {time.perf_counter() - started:.0f} s. MAE and CCC: "
              "mean over seeds of each seed's mean over 5 folds ± SE over seeds; − mean: mean of per-seed differences")
        print("\n".join(regression_table(cells)))
        return
    print(f"\n{args.format}: {len(cells)} cells in {time.perf_counter() - started:.0f} s. macro-F1: mean over seeds of "
          "each seed's mean over 5 folds ± SE over seeds; paired: mean of per-seed differences, 95% t interval over seeds")
    print("\n".join(table(cells)))
    print("targets per family: network >= feature − 0.03 and >= stratified random + 0.08, median score IQR >= 0.1; "
          "fused >= the better of network and feature − 0.01 (a missed target is named with its margin)")


class _Serial:
    """``map`` in this process (the default: one cell at a time, all threads to it)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items):
        return map(fn, items)


if __name__ == "__main__":
    main()
