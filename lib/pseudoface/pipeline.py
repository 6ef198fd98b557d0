"""read -> normalise -> encode for a whole corpus, through one cached function (training uses it too)."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from .baselines import motion_features
from .corpus import Corpus, Session
from .encode import Encoded, encode
from .normalise import normalise_session
from .params import Params
from .textio import atomic_write_bytes, cache_dir

ENCODER_VERSION = 2
ENCODE_THREADS = max(1, min(2, os.cpu_count() or 1))  # measured 1.75x on 2 cores


def _session_key(session: Session, params: Params) -> str:
    source = session.source.split("!")[0]
    try:
        st = Path(source).stat()
        stamp = [st.st_size, st.st_mtime_ns]
    except OSError:
        stamp = []
    key = {"source": session.source, "stamp": stamp, "v": ENCODER_VERSION,
           "data": {k: v for k, v in dataclasses.asdict(params.data).items() if k not in ("splits", "max_participants")},
           "normalise": dataclasses.asdict(params.normalise), "encode": dataclasses.asdict(params.encode),
           "valid": int(session.valid.sum()), "frames": session.n_frames}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32]


def encode_session(session: Session, params: Params, cache: bool = True) -> Encoded:
    """Pseudo-images and movement statistics of one session, from a single normalisation;
    cached on disk under the cache directory (``encoded/``)."""
    path = cache_dir(params.data.cache_dir) / "encoded" / f"{_session_key(session, params)}.npz"
    if cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return Encoded(z["images"], int(z["windows"]), int(z["skipped"]), float(z["clip_rate"]),
                               tuple(str(r) for r in z["rows"]), json.loads(str(z["motion"])))
        except (OSError, ValueError, KeyError):
            pass
    norm = normalise_session(session, params)
    result = encode(norm, params)
    result.motion = motion_features(norm)
    if cache:
        buf = io.BytesIO()
        np.savez(buf, images=result.images, windows=result.windows, skipped=result.skipped_windows,
                 clip_rate=result.clip_rate, rows=np.array(result.row_names), motion=json.dumps(result.motion))
        try:
            atomic_write_bytes(path, lambda fh: fh.write(buf.getvalue()))
        except OSError:
            pass
    return result


def encode_corpus(corpus: Corpus, params: Params, progress: bool = False) -> tuple[dict, pd.DataFrame]:
    """participant_id -> Encoded, and the summary table (participant_id, frames, valid_frames,
    windows, skipped_windows, clip_rate)."""
    from tqdm import tqdm  # text bars (tqdm.auto wants ipywidgets inside notebooks)
    out, rows = {}, []
    items = list(corpus.sessions.items())
    # sessions are independent and numpy releases the GIL in the heavy steps: two at a time
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        results = pool.map(lambda item: encode_session(item[1], params), items)
        for (pid, s), enc in tqdm(zip(items, results), total=len(items), desc="encode",
                                  disable=None if progress else True, leave=False):
            out[pid] = enc
            rows.append((pid, s.n_frames, int(s.valid.sum()), enc.windows, enc.skipped_windows,
                         round(enc.clip_rate, 6)))
    summary = pd.DataFrame(rows, columns=["participant_id", "frames", "valid_frames", "windows",
                                          "skipped_windows", "clip_rate"])
    return out, summary
