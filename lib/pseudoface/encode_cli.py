"""``pseudoface encode``: write one (windows, channels, rows, time) array per session + summary.csv."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .textio import atomic_write_bytes, atomic_write_text


def cmd_encode(args) -> int:
    from .cli import corpus_summary, ensure_synthetic
    from .corpus import load_corpus
    from .params import load_params
    from .pipeline import encode_corpus
    params = load_params(args.params, args.overrides)
    ensure_synthetic(params)
    corpus = load_corpus(params)
    print("\n".join(corpus_summary(corpus)))
    encoded, summary = encode_corpus(corpus, params, progress=True)
    out = Path(args.out)
    for pid, enc in encoded.items():
        atomic_write_bytes(out / f"{pid}.npy", lambda fh, a=enc.images: np.save(fh, a))
    atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
    shapes = {enc.images.shape[1:] for enc in encoded.values()}
    print(f"wrote {len(encoded)} arrays {sorted(shapes)} (+ summary.csv) to {out}; "
          f"{int(summary.windows.sum())} windows, {int(summary.skipped_windows.sum())} skipped, "
          f"clip rate {summary.clip_rate.mean():.4f}")
    for p in corpus.problems:
        print(f"problem: {p}")
    return 1 if corpus.problems else 0
