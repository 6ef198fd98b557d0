"""Wall time, peak memory and throughput of `cv` on the default synthetic corpus, projected to
DAIC-WOZ scale (189 sessions of ~16 min, one repeat). Target (issue 4): <= 20 min on 2 CPU cores.

Projection (stated, not measured): reading + encoding scale with session minutes; training scales
with participants (a fixed number of clips per participant per epoch); scoring scales with minutes.
Usage: python benchmarks/bench_cv.py [--params params/synthetic.yaml]
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time

from pseudoface.cli import ensure_synthetic
from pseudoface.cv import prepare, run_cv
from pseudoface.params import load_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", default="params/synthetic.yaml")
    args = ap.parse_args()
    params = load_params(args.params)
    ensure_synthetic(params)
    t = time.perf_counter()
    prep = prepare(params)
    t_prep = time.perf_counter() - t
    minutes = sum(s.duration_s for s in prep.corpus.sessions.values()) / 60
    n = len(prep.table)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        run_cv(params, out, progress=False, prep=prep)
        t_cv = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cv on {params.dataset}: {n} participants, {minutes:.0f} session-minutes, "
          f"{params.cv.folds} folds x {params.cv.repeats} repeat(s)")
    print(f"  read + encode {t_prep:.1f} s, cross-validation {t_cv:.1f} s, peak RSS {peak:.0f} MB")
    print(f"  throughput {minutes / (t_prep + t_cv):.2f} session-minutes per second")
    daic_minutes, daic_n = 189 * 16, 189
    projected = t_prep * daic_minutes / minutes + t_cv * daic_n / n
    print(f"  projected to DAIC-WOZ scale ({daic_n} sessions x 16 min, same training settings): "
          f"{projected / 60:.1f} min (target <= 20 min)")


if __name__ == "__main__":
    main()
