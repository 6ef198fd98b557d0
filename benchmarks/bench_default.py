"""Sizing the embedded default corpus: does the default run show the method finding its planted cue?

For each candidate size (participants x seconds) and corpus seed, writes the default synthetic
corpus (the default cue, ``amplitude``, at its default strength: the one the benchmark uses), runs
``params/synthetic.yaml``'s cross-validation on it (no shuffled-label runs: they change no number
of the run itself) and prints, as the site's index does, the headline (fused) model and the network
against the best trivial baseline and against the feature model: the mean over folds of each
paired difference with its corrected resampled t interval, and the training time.

The size is chosen on development corpus seeds (1000, 1001 by default), never on seed 0, the
corpus ``make report`` generates (cv.seed 0); seed 0 is run once, after the choice.

Usage: python benchmarks/bench_default.py [--sizes 48x75 120x90 ...] [--seeds 1000 1001] [--set key=value ...]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from pseudoface.corpora.read import is_synthetic, load_corpus
from pseudoface.corpora.synthetic import write_corpus
from pseudoface.encoding.encode import encode_corpus
from pseudoface.learning.cv import RunSpec, cross_validate
from pseudoface.params import load_params
from pseudoface.site.tables import best_trivial, paired

OUT = Path(__file__).resolve().parent / "out"
PARAMS = Path(__file__).resolve().parent.parent / "params" / "synthetic.yaml"


def interval(d: dict) -> str:
    return f"{d['mean']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["48x75", "120x90"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1000, 1001])
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    print("| size | seed | network | feature model | fused | best trivial | fused − trivial [95% CI] | "
          "network − trivial [95% CI] | network − feature [95% CI] | fused − feature [95% CI] | training s |")
    print("|" + "---|" * 11)
    for size in args.sizes:
        n, seconds = size.split("x")
        for seed in args.seeds:
            root = OUT / "corpora" / f"default-s{seed}-n{n}-t{seconds}"
            if not is_synthetic(root):
                write_corpus(root, participants=int(n), seconds=float(seconds), seed=seed)
            params = load_params(PARAMS, [f"data.root={root}", f"cv.seed={seed}", "cv.shuffled_labels=0",
                                          f"data.synthetic_participants={n}", f"data.synthetic_seconds={seconds}"]
                                 + args.overrides)
            enc = encode_corpus(load_corpus(params), params)
            t = time.perf_counter()
            [(m, _)] = cross_validate([RunSpec(params, OUT / "runs" / f"default-s{seed}-n{n}-t{seconds}", enc,
                                               replace=True, reuse=False)], progress=False)
            trivial = best_trivial(m)
            print(f"| {size} | {seed} | {m['macro_f1']['mean']:.3f} | "
                  f"{m['baselines']['feature_model']['macro_f1']['mean']:.3f} | {m['fused_model']['macro_f1']['mean']:.3f} | "
                  f"{trivial} {m['baselines'][trivial]['macro_f1']['mean']:.3f} | {interval(paired(m, 'fused', trivial))} | "
                  f"{interval(paired(m, 'network', trivial))} | {interval(paired(m, 'network', 'feature_model'))} | "
                  f"{interval(paired(m, 'fused', 'feature_model'))} | {time.perf_counter() - t:.0f} |", flush=True)


if __name__ == "__main__":
    main()
