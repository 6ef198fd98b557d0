"""The ``pseudoface`` command: synth, inspect, encode, cv, predict, report.

User data errors print one line (``error: FILE: line N, column C: ...``) and exit 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .params import ParamsError, load_params
from .textio import DataError


def _params_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--params", required=required, help="params YAML (params/<dataset>.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (dotted keys for sections), repeatable")


def ensure_synthetic(params) -> None:
    """Generate the synthetic corpus into data.root if the params name the synthetic dataset and it is missing."""
    from .corpus import SYNTHETIC_MARKER
    from .synthetic import write_corpus
    root = Path(params.data.root)
    if params.dataset == "synthetic" and not (root / SYNTHETIC_MARKER).is_file():
        print(f"generating the synthetic corpus into {root} ...", flush=True)
        write_corpus(root, seed=params.cv.seed)


def corpus_summary(corpus) -> list[str]:
    labels = corpus.usable_labels()
    lines = [f"{corpus.dataset} corpus at {corpus.root}{' (synthetic)' if corpus.synthetic else ''}"]
    lines += corpus.flow.lines()
    by_split = labels.groupby("split")["label"].agg(["count", "sum"])
    for split, row in by_split.iterrows():
        lines.append(f"  {split}: {int(row['count'])} participants, {int(row['sum'])} depressed")
    if len(corpus.disagreements):
        lines.append(f"  label rule: {len(corpus.disagreements)} row(s) where the file's binary disagrees with "
                     "PHQ >= 10: " + ", ".join(corpus.disagreements["participant_id"]))
    lines += [f"  note: {n}" for n in corpus.notes]
    return lines


def cmd_synth(args) -> int:
    from .synthetic import write_corpus
    out = write_corpus(args.out, participants=args.participants, seconds=args.seconds, seed=args.seed,
                       fmt=args.format)
    print(f"wrote a synthetic {args.format} corpus of {args.participants} participants x {args.seconds:g} s to {out}")
    return 0


def cmd_inspect(args) -> int:
    from .inspect_data import inspect_paths
    lines, problems = inspect_paths(args.paths)
    print("\n".join(lines))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


def cmd_report(args) -> int:
    from .report import run_report
    return run_report(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pseudoface", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write a synthetic corpus in the DAIC-WOZ or E-DAIC layout")
    p.add_argument("--out", required=True)
    p.add_argument("--participants", type=int, default=48)
    p.add_argument("--seconds", type=float, default=75.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=["daic_woz", "e_daic"], default="daic_woz")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("inspect", help="one line per session and the participant flow; non-zero exit on any broken input")
    p.add_argument("paths", nargs="+", help="a file, a session folder or zip, or a corpus root")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("encode", help="read -> normalise -> encode a corpus into pseudo-image arrays")
    _params_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=lambda a: __import__("pseudoface.encode_cli", fromlist=["x"]).cmd_encode(a))

    p = sub.add_parser("cv", help="participant-grouped cross-validation with baselines -> metrics.json")
    _params_args(p)
    p.add_argument("--out", default=None, help="run folder (default runs/<dataset>/<config-hash>/)")
    p.add_argument("--resume", action="store_true", help="keep finished folds of an interrupted run")
    p.add_argument("--protocol", choices=["cv", "official"], default=None)
    p.set_defaults(func=lambda a: __import__("pseudoface.cv", fromlist=["x"]).cmd_cv(a))

    p = sub.add_parser("predict", help="score sessions with a trained run")
    p.add_argument("--run", required=True, help="a run folder written by `pseudoface cv`")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=lambda a: __import__("pseudoface.cv", fromlist=["x"]).cmd_predict(a))

    p = sub.add_parser("report", help="execute the notebook suite and build the website")
    _params_args(p, required=False)
    p.add_argument("--all", action="store_true", help="every params/*.yaml whose corpus is present")
    p.add_argument("--site-only", action="store_true", help="rebuild the website from executed notebooks")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, ParamsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
