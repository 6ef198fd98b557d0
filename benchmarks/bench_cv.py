"""Wall time, peak memory and throughput of `cv`, projected to DAIC-WOZ scale.

Default: a synthetic corpus with DAIC-WOZ-length sessions (16 min) but fewer participants, the
real-corpus training defaults (params dataclass defaults: K = 16, 30 epochs, patience 6, 4 clips
per participant, 5 folds) and one repeat. Every cost then scales with the number of participants
at fixed session length, so the projection to 189 sessions is ``measured x 189 / participants``
(stated, not measured). Target (issue 4): <= 20 min on 2 CPU cores with the default preset.

Usage: python benchmarks/bench_cv.py [--participants 24] [--minutes 16] [--set key=value ...]
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from pseudoface.cv import run_cv
from pseudoface.encode import encode_corpus
from pseudoface.read import load_corpus
from pseudoface.params import params_from_dict
from pseudoface.synthetic import write_corpus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=24)
    ap.add_argument("--minutes", type=float, default=16.0)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = write_corpus(Path(tmp) / "corpus", participants=args.participants, seconds=args.minutes * 60, seed=0)
        t_gen = time.perf_counter() - t
        params = params_from_dict({"dataset": "synthetic", "data": {"root": str(root)}},
                                  ["cv.repeats=1"] + args.overrides)
        t = time.perf_counter()
        prep = encode_corpus(load_corpus(params), params)
        t_prep = time.perf_counter() - t
        t = time.perf_counter()
        metrics = run_cv(params, Path(tmp) / "run", prep, progress=False)
        t_cv = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n, minutes = len(prep.table), metrics["session_minutes"]
    epochs = [f["best_epoch"] for f in metrics["fold_details"]]
    print(f"cv: {n} synthetic participants x {args.minutes:g} min ({minutes:.0f} session-minutes), "
          f"{params.cv.folds} folds x 1 repeat, preset {params.model.preset}, K={params.model.clip_windows}, "
          f"max {params.train.epochs} epochs (chosen epochs {epochs}); corpus written in {t_gen:.0f} s")
    print(f"  read + parse + encode (cold cache) {t_prep:.1f} s; cross-validation incl. baselines {t_cv:.1f} s; "
          f"peak RSS {peak:.0f} MB")
    print(f"  throughput {minutes / (t_prep + t_cv):.2f} session-minutes per second")
    projected = (t_prep + t_cv) * 189 / n
    print(f"  projected to DAIC-WOZ (189 sessions x {args.minutes:g} min, one repeat): {projected / 60:.1f} min "
          f"(target <= 20 min); macro-F1 here {metrics['macro_f1']['mean']:.3f}")


if __name__ == "__main__":
    main()
