"""Explanations validated where the answer is known, and what explaining costs.

Per synthetic cue family x corpus seed (the cells of benchmarks/bench_quality.py, built by its
``corpus`` and ``cell``: the params' default run, 5 folds, CV seed = corpus seed, on a corpus of
``--participants`` x ``--seconds``), it explains the run (``pseudoface explain``) and prints: the
network's and the feature model's ROC-AUC, each model's top group (largest mean over folds),
whether that group shows the planted face part (smiles, speech rate: mouth; brows: brows; blinks:
eyes; head motion, head pitch: pose; amplitude and mixed have none), Kendall's W over folds and the
share of folds ranking the top group first (``stable``: W >= explain.STABLE_W, 0.7; before issue 31.7 it
was a share >= 0.8 with p < 0.05, as docs/results.md's tables were scored). The target: for every
family where the network reaches ROC-AUC >= 0.7, the planted group ranks first, stably.

Control: the first family and seed again with shuffled training labels (``cv.label_permutation=1``:
the outer-training labels permuted in every fold); no group should rank first stably there.

Cost: explaining seconds against the same run's training seconds, and a projection to a
DAIC-WOZ-scale run (189 participants x 16 min, 5 folds; each participant is a test participant of
one fold): one fold model of the run timed on a 16-minute session (479 windows) of random values,
x 189; the 68-landmark image (74 rows + geometry) likewise with an untrained network of that shape.
Target: <= 10 min on 2 cores.

``--strength-scale K`` writes corpora with K x each family's default cue strength (the default
corpora give the network ROC-AUC ~0.6, below the 0.7 at which the planted group is checked).
Reported seeds are 0 and 1; nothing is chosen on them. Runs go to benchmarks/out/explain/runs/
(corpora are shared with bench_quality under benchmarks/out/corpora/).

Usage: python benchmarks/bench_explain.py [--families all] [--seeds 0 1] [--participants 60]
       [--seconds 90] [--strength-scale 1] [--no-control] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_quality  # noqa: E402  (its corpora and cells)

from pseudoface.learning import explain, runs  # noqa: E402
from pseudoface.encoding.encode import RowLayout  # noqa: E402
from pseudoface.learning.model import SessionNet  # noqa: E402
from pseudoface.params import params_from_dict  # noqa: E402
from pseudoface.corpora.read import is_synthetic  # noqa: E402
from pseudoface.corpora.synthetic import EFFECTS, write_corpus  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "explain"
DAIC = {"participants": 189, "minutes": 16.0}


def _isolate() -> None:
    """Runs of this benchmark in their own folder (bench_quality's may be in use), corpora shared."""
    (OUT / "corpora").parent.mkdir(parents=True, exist_ok=True)
    shared = HERE / "out" / "corpora"
    shared.mkdir(parents=True, exist_ok=True)
    if not (OUT / "corpora").exists():
        (OUT / "corpora").symlink_to(shared, target_is_directory=True)
    bench_quality.OUT = OUT


def _strong_corpora(scale: float) -> None:
    """Cells on corpora whose cue is ``scale`` x the family's default strength (spread kept): where
    the network reaches ROC-AUC >= 0.7, the planted group can be checked. bench_quality.cell reads
    its module's ``corpus``; this one writes the stronger corpora under benchmarks/out/explain/."""
    def corpus(family: str, seed: int, participants: int, seconds: float, fmt: str = "daic_woz") -> Path:
        root = OUT / "corpora-strong" / f"{family}-s{seed}-n{participants}-t{seconds:g}-x{scale:g}"
        if not is_synthetic(root):
            write_corpus(root, participants=participants, seconds=seconds, seed=seed, effect=family, fmt=fmt,
                         strength=scale * EFFECTS[family].strength)
        return root
    bench_quality.corpus = corpus


def _latest_run(family: str, seed: int, fmt: str) -> Path:
    found = sorted((OUT / "runs").glob(f"{family}-s{seed}-{fmt}-*/{runs.METRICS}"), key=lambda p: p.stat().st_mtime)
    return found[-1].parent


def planted_verdict(family: str, top: str) -> str:
    part = explain.PLANTED_PART.get(family)
    if part is None:
        return "–"
    return "yes" if part in explain.GROUP_PARTS.get(top, set()) else "no"


def explain_cell(family: str, seed: int, args, extra: list | None = None, label: str = "") -> dict:
    cell_args = argparse.Namespace(**{**vars(args), "overrides": list(args.overrides) + list(extra or [])})
    c = bench_quality.cell(family, seed, cell_args)
    run = _latest_run(family, seed, args.format)
    t = time.perf_counter()
    explain.explain(run)
    seconds = time.perf_counter() - t
    return verdicts({"family": family, "seed": seed, "label": label or family, "run": str(run),
                     "train_seconds": c["seconds"], "explain_seconds": seconds, "auc": c["auc"]})


def verdicts(cell: dict) -> dict:
    """Each model's top group by mean |Δ| and by class gap, their agreement over folds, and whether
    the top group shows the planted face part (read from the run's explanations.csv)."""
    summary = explain.load(cell["run"])
    control = cell["label"] != cell["family"]
    for model in explain.MODELS:
        for by, key in (("mean_abs_delta", model), ("class_gap", f"{model}_gap")):
            a = explain.rank_agreement(summary, model, by)
            cell[key] = {k: a[k] for k in ("top", "top_share", "kendall_w", "p_value", "mean_spearman", "stable")}
            cell[key]["planted"] = "–" if control else planted_verdict(cell["family"], a["top"])
    return cell


def projection(run: Path, threads: int = 1) -> dict:
    """Seconds to explain a DAIC-WOZ-scale run: one 16-minute session timed, x 189 participants."""
    models, metrics = runs.load_models(run)
    params = params_from_dict(metrics["config"])
    e = params.encode
    windows = int((DAIC["minutes"] * 60 - e.window_seconds) // e.hop_seconds) + 1
    torch.set_num_threads(threads)
    C, _, W = metrics["input_shape"]
    full = RowLayout(True, True, True)  # the 68-landmark image (+ pose and geometry rows)
    cases = {"compact (default)": (tuple(RowLayout.of(e).names), models[0].network, params.model.scope),
             "68 landmarks": (full.names, SessionNet(C, rows=full.rows).eval(), "session")}
    rng = np.random.default_rng(0)
    out = {"windows": windows}
    for name, (rows, net, scope) in cases.items():
        groups = explain.row_groups(rows)
        names = list(dict.fromkeys(groups))
        images = (0.5 + 0.05 * rng.standard_normal((windows, C, len(rows), W))).astype(np.float32)
        args = (explain.session_forward(net, scope, params.model.clip_windows), images,
                explain.group_neutrals(rows, C), np.array([names.index(g) for g in groups]), explain.STRETCHES)
        explain.occlude(*args[:-1], 0)  # warm-up
        t = time.perf_counter()
        explain.occlude(*args)
        per = time.perf_counter() - t
        t = time.perf_counter()
        explain.occlude(*args[:-1], 0)  # groups only (`--stretches 0`)
        groups_only = time.perf_counter() - t
        out[name] = {"groups": len(names), "seconds_per_participant": per,
                     "projected_minutes": per * DAIC["participants"] / 60,
                     "groups_only_minutes": groups_only * DAIC["participants"] / 60}
    return out


def _top(v: dict) -> str:
    """'group (share of folds first, W, planted?)'; stable tops in bold."""
    text = f"{v['top']} ({v['top_share']:.0%}, W {v['kendall_w']:.2f}{', ' + v['planted'] if v['planted'] != '–' else ''})"
    return f"**{text}**" if v["stable"] else text


def _target(c: dict, v: dict, auc: float) -> str:
    if c["label"] != c["family"]:
        return "met" if not v["stable"] else "missed: a group ranks first stably under shuffled labels"
    if v["planted"] == "–":
        return "n/a (no single planted part)"
    if auc < 0.7:
        return f"n/a (AUC {auc:.3f} < 0.7)"
    if v["planted"] == "yes" and v["stable"]:
        return "met"
    return "missed: " + ("the top group is not the planted one" if v["planted"] != "yes" else "not stable across folds")


def table(cells: list[dict]) -> list[str]:
    """Markdown: per cell, each model's top group by mean |Δ| and by class gap (share of folds
    ranking it first, Kendall's W, planted?; bold: stable), the cost, the targets by mean |Δ|."""
    head = ("cell", "AUC net / feat", "network top: mean |Δ|", "network top: class gap", "feature top: mean |Δ|",
            "feature top: class gap", "explain s / train s", "target network (|Δ| / gap)", "target feature (|Δ| / gap)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        lines.append("| " + " | ".join((
            f"{c['label']} s{c['seed']}", f"{c['auc']['network']:.2f} / {c['auc']['feature']:.2f}",
            _top(c["network"]), _top(c["network_gap"]), _top(c["feature_model"]), _top(c["feature_model_gap"]),
            f"{c['explain_seconds']:.1f} / {c['train_seconds']:.0f} ({c['explain_seconds'] / c['train_seconds']:.0%})",
            f"{_target(c, c['network'], c['auc']['network'])} / {_target(c, c['network_gap'], c['auc']['network'])}",
            f"{_target(c, c['feature_model'], c['auc']['feature'])} / "
            f"{_target(c, c['feature_model_gap'], c['auc']['feature'])}")) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", default=["all"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--format", choices=["daic_woz"], default="daic_woz")
    ap.add_argument("--participants", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--no-control", action="store_true", help="skip the shuffled-label control")
    ap.add_argument("--strength-scale", type=float, default=1.0,
                    help="cue strength x the family's default (1: bench_quality's corpora; > 1: stronger cues)")
    ap.add_argument("--json", default=None, help="also write every cell's numbers here")
    ap.add_argument("--table", default=None, metavar="CELLS.json",
                    help="print the table of the cells saved by --json (verdicts re-read from their runs) and exit")
    args = ap.parse_args()
    if args.table:
        saved = json.loads(Path(args.table).read_text())
        saved = saved["cells"] if isinstance(saved, dict) else saved
        print("\n".join(table([verdicts(c) for c in saved])))
        return
    args.jobs = 1  # bench_quality.cell reads it: one cell at a time, all threads to it
    _isolate()
    if args.strength_scale != 1:
        _strong_corpora(args.strength_scale)
    families = list(EFFECTS) if args.families == ["all"] else args.families
    print(f"{args.participants} participants x {args.seconds:g} s, cue strength x{args.strength_scale:g}, families "
          f"{families}, seeds {args.seeds}", flush=True)
    cells = []

    def keep(c):
        cells.append(c)
        if args.json:
            Path(args.json).write_text(json.dumps(cells, indent=1, default=str))
        print(f"  {c['label']:12s} s{c['seed']}: AUC {c['auc']['network']:.2f}  net top {c['network']['top']} "
              f"({c['network']['top_share']:.0%}, W {c['network']['kendall_w']:.2f})  feat top "
              f"{c['feature_model']['top']}  explain {c['explain_seconds']:.1f} s / train {c['train_seconds']:.0f} s",
              flush=True)
    for seed in args.seeds:
        for family in families:
            keep(explain_cell(family, seed, args))
    if not args.no_control:
        keep(explain_cell(families[0], args.seeds[0], args, ["cv.label_permutation=1"], label="shuffled labels"))
    print("\n".join(table(cells)))
    p = projection(Path(cells[0]["run"]))
    print(f"\nDAIC-WOZ-scale projection ({DAIC['participants']} participants x {DAIC['minutes']:g} min = {p['windows']} "
          f"windows each, 1 thread): " + "; ".join(
              f"{k}: {v['seconds_per_participant']:.2f} s a participant ({v['groups']} groups + {explain.STRETCHES} "
              f"stretches), {v['projected_minutes']:.1f} min a run ({v['groups_only_minutes']:.1f} min with "
              "--stretches 0)" for k, v in p.items() if k != "windows")
          + " (target <= 10 min)")
    ratio = np.sum([c["explain_seconds"] for c in cells]) / np.sum([c["train_seconds"] for c in cells])
    print(f"explaining cost {ratio:.1%} of training over these cells")
    if args.json:
        Path(args.json).write_text(json.dumps({"cells": cells, "projection": p}, indent=1, default=str))


if __name__ == "__main__":
    main()
