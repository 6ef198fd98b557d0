"""``pseudoface report``: prepare the corpus, execute the notebooks, build the website."""
from __future__ import annotations

from .params import load_params


def run_report(args) -> int:
    from .cli import corpus_summary, ensure_synthetic
    from .corpus import load_corpus
    params = load_params(args.params or "params/synthetic.yaml", args.overrides)
    ensure_synthetic(params)
    corpus = load_corpus(params)
    print("\n".join(corpus_summary(corpus)))
    return 0
