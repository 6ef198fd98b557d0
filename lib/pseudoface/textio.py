"""Fast, checked parsing of tracker text tables into float32 matrices, with an on-disk cache.

A *source* is a file path, or ``(zip_path, member)`` for a file read in place inside a zip.
:func:`read_columns` returns ``(T, C) float32`` for the requested column names (header names are
stripped, so ``", "`` separators are fine). A first pass reads the file through a small buffer to
find line-aligned pieces of ~1 MB and their row counts; the pieces of the memory-mapped file then
go to pyarrow's CSV reader on a small thread pool (bounded read-ahead), each copied straight into
its rows of a preallocated column-major matrix and its pages dropped, so peak memory stays close
to the returned array (measured in benchmarks/bench_parse.py); the result is cached as a
memory-mappable ``.npy`` under the user's cache directory (never beside the data), keyed by the
source's path, size and modification time, and re-parsed only when the source changes.
Any problem becomes one :class:`DataError` line naming the file, the line/column and what was
expected.
"""
from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import tempfile
import zipfile
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

Source = Union[str, Path, tuple]
PARSER_VERSION = 2


class DataError(Exception):
    """A problem with a user's data file: one line naming the file, the place and the expectation."""


def describe_source(source: Source) -> str:
    if isinstance(source, tuple):
        return f"{source[0]}!{source[1]}"
    return str(source)


def _open(source: Source) -> io.BufferedIOBase:
    if isinstance(source, tuple):
        zf = zipfile.ZipFile(source[0])
        return zf.open(source[1])
    return open(source, "rb")


def _stat_key(source: Source) -> dict:
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


def cache_dir(override: str | None = None) -> Path:
    """The parsed-array cache: ``override``, $PSEUDOFACE_CACHE_DIR, $XDG_CACHE_HOME/pseudoface or ~/.cache/pseudoface."""
    if override:
        return Path(override).expanduser()
    if os.environ.get("PSEUDOFACE_CACHE_DIR"):
        return Path(os.environ["PSEUDOFACE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pseudoface"


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


def read_header(source: Source) -> list[str]:
    """Column names of the first line, stripped of surrounding spaces."""
    where = describe_source(source)
    try:
        with _open(source) as fh:
            first = fh.readline()
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"{where}: cannot read ({exc})") from None
    text = first.decode("utf-8", errors="replace").strip("\r\n\ufeff")
    if not text.strip():
        raise DataError(f"{where}: line 1: empty file (expected a header row of column names)")
    return [name.strip() for name in text.split(",")]


SEGMENT_BYTES = 1 << 20  # text handed to one pyarrow call (1 MB: peak memory within 2x)
PARSE_THREADS = max(1, min(4, os.cpu_count() or 1))


def _rows(piece: bytes) -> int:
    return 0 if not piece.strip() else piece.count(b"\n") + (not piece.endswith(b"\n"))


COUNT_CHUNK = 1 << 19  # bytes per read of the planning pass


def _plan_pieces(fh: io.BufferedReader, size: int) -> list[tuple[int, int, int]]:
    """Split the data rows of an open file (header line skipped) into line-aligned pieces of at
    most ~SEGMENT_BYTES -> ``[(start, stop, rows)]`` (blank-only pieces left out).

    One sequential pass of ``readinto`` a small reused buffer: the text goes through the page
    cache, never through the process's mapping. (Touching the mapping here, even one page
    per piece boundary, maps whole large folios of a freshly written file and doubled the
    measured peak memory.)
    """
    buf = bytearray(COUNT_CHUNK)
    codes, hits = np.frombuffer(buf, dtype=np.uint8), np.empty(COUNT_CHUNK, dtype=bool)
    plan: list[tuple[int, int, int]] = []
    start = None  # first byte of the current piece (None until the header line has ended)
    rows, last_end, pos = 0, None, 0  # complete lines in the piece, end of its last one
    fh.seek(0)
    while pos < size:
        with memoryview(buf)[:min(COUNT_CHUNK, size - pos)] as view:
            got = fh.readinto(view)
        if not got:
            raise OSError(f"short read at byte {pos}")
        np.equal(codes[:got], 0x0A, out=hits[:got])
        ends = np.flatnonzero(hits[:got]) + (pos + 1)  # absolute ends of the lines ending in this chunk
        i = 0
        if start is None and len(ends):
            start, i = int(ends[0]), 1
        while start is not None and i < len(ends):
            j = int(np.searchsorted(ends, start + SEGMENT_BYTES, side="right"))
            if j > i:  # lines that still fit the current piece
                rows, last_end, i = rows + (j - i), int(ends[j - 1]), j
            if i < len(ends):  # the next line would overflow the piece: close it
                if last_end is None:  # a single line longer than a piece: it is the piece
                    rows, last_end, i = 1, int(ends[i]), i + 1
                plan.append((start, last_end, rows))
                start, rows, last_end = last_end, 0, None
        pos += got
    if start is not None and start < size:
        plan.append((start, size, rows + (size > (last_end or start))))  # + an unterminated last line
    checked = []
    for a, b, n in plan:
        if n <= 2:  # maybe blank lines only: decide on the (short) text itself
            fh.seek(a)
            n = _rows(fh.read(b - a))
        if n:
            checked.append((a, b, n))
    return checked


class _Segments:
    """Line-aligned pieces of the data rows (header skipped).

    :meth:`total_rows` counts the rows first (output is preallocated); iterating yields
    ``(buffer, rows, done)``. Plain files are memory-mapped: pieces are zero-copy views and
    ``done()`` drops their pages once parsed, so the text never sits in memory whole; the plan
    (:func:`_plan_pieces`) reads the file through a small buffer, so the mapping is touched once.
    Zip members are streamed (and decompressed twice).
    """

    def __init__(self, source: Source):
        self.source, self.mm, self.fh, self._plan = source, None, None, None
        if not isinstance(source, tuple):
            self.fh = open(source, "rb")
            if os.fstat(self.fh.fileno()).st_size:
                self.mm = mmap.mmap(self.fh.fileno(), 0, access=mmap.ACCESS_READ)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.mm is not None:
            try:
                self.mm.close()
            except BufferError:
                pass  # a view is still referenced (e.g. by an exception's traceback): closed when collected
        if self.fh is not None:
            self.fh.close()

    def _mapped_plan(self) -> list[tuple[int, int, int]]:
        if self._plan is None:
            self._plan = _plan_pieces(self.fh, len(self.mm))
        return self._plan

    def total_rows(self) -> int:
        if self.mm is not None:
            return sum(rows for _, _, rows in self._mapped_plan())
        return sum(rows for _, rows, _ in self)

    def __iter__(self):
        if self.mm is not None:
            for pos, stop, rows in self._mapped_plan():
                yield memoryview(self.mm)[pos:stop], rows, lambda p=pos, q=stop: self._drop(p, q)
            return
        if self.fh is not None:  # empty plain file
            return
        with _open(self.source) as fh:
            fh.readline()
            rest = b""
            while True:
                chunk = fh.read(SEGMENT_BYTES)
                if not chunk:
                    if _rows(rest):
                        yield rest, _rows(rest), lambda: None
                    return
                buf = rest + chunk if rest else chunk
                cut = buf.rfind(b"\n") + 1
                rest = buf[cut:]
                if cut:
                    yield buf[:cut], buf.count(b"\n", 0, cut), lambda: None

    def _drop(self, start: int, stop: int) -> None:
        page = mmap.PAGESIZE
        lo = (start // page) * page
        if hasattr(self.mm, "madvise") and stop > lo:
            self.mm.madvise(mmap.MADV_DONTNEED, lo, stop - lo)


def _diagnose(source: Source, header: list[str], used: Sequence[int], bad_cells: str) -> tuple[np.ndarray, int]:
    """Slow exact pass used only when the fast parser fails: find the first structural problem
    (raise), else parse with bad cells -> NaN (mode 'mask') or raise at the first bad cell."""
    where = describe_source(source)
    rows, n_bad = [], 0
    with _open(source) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace")
        text.readline()
        for lineno, line in enumerate(text, start=2):
            if not line.strip():
                continue
            cells = line.rstrip("\r\n").split(",")
            if len(cells) != len(header):
                hint = " (truncated row?)" if len(cells) < len(header) else ""
                raise DataError(f"{where}: line {lineno}: expected {len(header)} fields, got {len(cells)}{hint}")
            values = []
            for j in used:
                cell = cells[j].strip()
                try:
                    values.append(float(cell))
                except ValueError:
                    if bad_cells != "mask":
                        raise DataError(
                            f"{where}: line {lineno}, column '{header[j]}': expected a number, got {cell!r}"
                            " (set data.bad_cells: mask to mask such frames instead)") from None
                    values.append(np.nan)
                    n_bad += 1
            rows.append(values)
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(used)), n_bad


def parse_columns(source: Source, columns: Sequence[str], bad_cells: str = "error") -> tuple[np.ndarray, int]:
    """Parse ``columns`` of a delimited numeric table -> ``((T, C) float32, n_bad_cells)``.

    No cache. Raises DataError for: empty or header-only file, missing column, rows with the
    wrong number of fields, non-numeric cells (unless ``bad_cells='mask'``: they become NaN).
    """
    where = describe_source(source)
    header = read_header(source)
    index = {}
    for j, name in enumerate(header):
        index.setdefault(name, j)
    missing = [c for c in columns if c not in index]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise DataError(f"{where}: line 1: missing column(s) {shown} in the header")
    used = [index[c] for c in columns]
    names = [f"c{j}" for j in range(len(header))]
    read_opts = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=SEGMENT_BYTES + (1 << 20))
    # No quoting in tracker output, and no null spellings: an empty or quoted cell is a conversion
    # error, which sends the file to the exact pass for a precise message.
    parse_opts = pacsv.ParseOptions(delimiter=",", quote_char=False, double_quote=False, escape_char=False)
    convert_opts = pacsv.ConvertOptions(
        include_columns=[names[j] for j in used], column_types={names[j]: pa.float32() for j in used},
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False)

    def parse_segment(segment: bytes, out: np.ndarray, row: int, n_rows: int) -> None:
        table = pacsv.read_csv(pa.py_buffer(segment), read_options=read_opts, parse_options=parse_opts,
                               convert_options=convert_opts)
        if table.num_rows != n_rows:  # blank lines: let the exact pass decide
            raise pa.ArrowInvalid("row count mismatch")
        for batch in table.to_batches():
            n = batch.num_rows
            for k, column in enumerate(batch.columns):
                if column.null_count:
                    raise pa.ArrowInvalid("empty cell")
                # a zero-copy float32 view of the values buffer (~15x cheaper than to_numpy()),
                # then one contiguous copy into the (C, T) buffer
                out[k, row:row + n] = np.frombuffer(column.buffers()[1], np.float32, n, 4 * column.offset)
            row += n

    try:
        with _Segments(source) as pieces:
            total = pieces.total_rows()
            if total == 0:
                raise DataError(f"{where}: header only: no data rows")
            out = np.empty((len(columns), total), dtype=np.float32)  # (C, T): each column copy is contiguous
            with ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
                pending, row, piece = [], 0, None
                for piece, rows, done in pieces:
                    pending.append((pool.submit(parse_segment, piece, out, row, rows), done))
                    row += rows
                    if len(pending) >= 2 * PARSE_THREADS:  # bounded read-ahead keeps peak memory low
                        job, release = pending.pop(0)
                        job.result()
                        release()
                for job, release in pending:
                    job.result()
                    release()
                del piece  # drop the last view before the map closes
        return out.T, 0  # (T, C) view, Fortran-ordered
    except pa.ArrowInvalid:
        return _diagnose(source, header, used, bad_cells)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{where}: cannot read ({exc})") from None


def read_columns(source: Source, columns: Sequence[str], *, bad_cells: str = "error",
                 cache: bool = True, cache_root: str | None = None) -> tuple[np.ndarray, int]:
    """Cached :func:`parse_columns`: returns a read-only memory-mapped ``(T, C) float32`` array."""
    if not cache:
        return parse_columns(source, columns, bad_cells)
    try:
        key = dict(_stat_key(source), columns=list(columns), bad_cells=bad_cells, v=PARSER_VERSION)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{describe_source(source)}: cannot read ({exc})") from None
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    root = cache_dir(cache_root)
    npy, meta = root / f"{digest}.npy", root / f"{digest}.json"
    if npy.is_file() and meta.is_file():
        try:
            info = json.loads(meta.read_text())
            return np.load(npy, mmap_mode="r"), int(info["bad_cells"])
        except (OSError, ValueError, KeyError):
            pass  # unreadable cache entry: parse again and replace it
    data, n_bad = parse_columns(source, columns, bad_cells)
    try:
        atomic_write_text(meta, json.dumps({"source": key, "bad_cells": n_bad, "shape": list(data.shape)}))
        atomic_write_bytes(npy, lambda fh: np.save(fh, data))
        return np.load(npy, mmap_mode="r"), n_bad  # the memory-mapped copy; the parsed one is freed
    except OSError:
        return data, n_bad  # cache not writable: work from memory
