"""Atomic writes and the one on-disk cache (parsed tracker files and encoded sessions).

The cache lives under the user's cache directory (never beside the data): ``cache_root()`` is
``data.cache_dir``, else ``$PSEUDOFACE_CACHE_DIR``, else ``$XDG_CACHE_HOME/pseudoface`` or
``~/.cache/pseudoface``. An entry is keyed by a JSON-able dict (the source's identity, path + size +
modification time, and the parameters that shape the result) and holds named arrays, each an
``.npy`` file that reloads memory-mapped, plus a small JSON of scalars written last: an entry
without its JSON is invisible, so a killed writer never leaves a half entry that is read back.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np


def atomic_write_bytes(path: Path, writer: Callable[[io.BufferedWriter], None]) -> None:
    """Write through a temp file in the same folder, then rename: readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda fh: fh.write(text.encode("utf-8")))


def replace_dir(new: Path, final: Path, aside: Path) -> None:
    """Put the finished folder ``new`` in place of ``final`` in one rename: the previous ``final`` is
    moved to ``aside`` first and removed after, so a reader finds the old folder or the new one whole,
    never half of either."""
    shutil.rmtree(aside, ignore_errors=True)
    if final.exists():
        os.replace(final, aside)
    os.replace(new, final)
    shutil.rmtree(aside, ignore_errors=True)


def cache_root(override: str | None = None) -> Path:
    """``override``, $PSEUDOFACE_CACHE_DIR, $XDG_CACHE_HOME/pseudoface or ~/.cache/pseudoface."""
    if override:
        return Path(override).expanduser()
    if os.environ.get("PSEUDOFACE_CACHE_DIR"):
        return Path(os.environ["PSEUDOFACE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pseudoface"


def source_identity(source) -> dict:
    """Path, size and modification time of a file, or of ``(zip, member)`` plus the member's CRC.

    Raises OSError / KeyError / zipfile.BadZipFile when the source cannot be stat'ed."""
    if isinstance(source, tuple):
        path = Path(source[0]).resolve()
        st = path.stat()
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(source[1])
        return {"path": str(path), "member": source[1], "size": st.st_size, "mtime": st.st_mtime_ns,
                "crc": info.CRC, "member_size": info.file_size}
    path = Path(source).resolve()
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime": st.st_mtime_ns}


def cached(kind: str, key: dict, compute: Callable[[], tuple[dict, dict]], root: str | None = None,
           enabled: bool = True) -> tuple[dict, dict]:
    """``(arrays, scalars)`` for ``key``: from the cache (arrays memory-mapped, read-only) or from
    ``compute()``, whose result is then stored. ``kind`` names the cache folder (``parsed``,
    ``encoded``). An unreadable entry is recomputed and replaced; an unwritable cache is skipped."""
    if not enabled:
        return compute()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32]
    folder = cache_root(root) / kind
    meta = folder / f"{digest}.json"
    if meta.is_file():
        try:
            info = json.loads(meta.read_text())
            arrays = {name: np.load(folder / f"{digest}.{name}.npy", mmap_mode="r") for name in info["arrays"]}
            return arrays, info["scalars"]
        except (OSError, ValueError, KeyError):
            pass  # unreadable entry: compute again and replace it
    arrays, scalars = compute()
    try:
        for name, value in arrays.items():
            atomic_write_bytes(folder / f"{digest}.{name}.npy", lambda fh, a=value: np.save(fh, a))
        atomic_write_text(meta, json.dumps({"key": key, "arrays": list(arrays), "scalars": scalars}, default=str))
        # hand back the memory-mapped copies: the computed arrays can be freed
        return {name: np.load(folder / f"{digest}.{name}.npy", mmap_mode="r") for name in arrays}, scalars
    except OSError:
        return arrays, scalars  # cache not writable: work from memory
