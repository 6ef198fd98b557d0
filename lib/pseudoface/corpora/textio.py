"""Checked parsing of tracker text tables into float32 matrices (cached through :mod:`cache`).

A *source* is a file path, or ``(zip_path, member)`` for a file read in place inside a zip.
:func:`read_columns` returns ``(T, C) float32`` for the requested column names; header names are
stripped, so OpenFace's ``", "`` separators are fine. The fast path is one maintained call,
``pyarrow.csv.read_csv`` with only the wanted columns as float32 (threads on). When it fails, a
slow exact pass finds the first problem and raises one :class:`DataError` line naming the file,
the line, the column and what was expected (or, with ``bad_cells='mask'``, turns non-numeric
cells into NaN and counts them). The parsed matrix is cached by the source's identity (path,
size, modification time), so each file is parsed once. :func:`write_columns` writes such a table
(the synthetic corpus, ``pseudoface extract``).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .cache import atomic_write_bytes, cached, source_identity

Source = Union[str, Path, tuple]
PARSER_VERSION = 3


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


def _diagnose(source: Source, header: list[str], used: Sequence[int], bad_cells: str) -> tuple[np.ndarray, int]:
    """Slow exact pass, taken only when the fast call fails: raise at the first structural problem,
    else parse with bad cells -> NaN (mode 'mask') or raise at the first bad cell."""
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
    if not rows:
        raise DataError(f"{where}: header only: no data rows")
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(used)), n_bad


def parse_columns(source: Source, columns: Sequence[str], bad_cells: str = "error") -> tuple[np.ndarray, int]:
    """Parse ``columns`` of a delimited numeric table -> ``((T, C) float32, n_bad_cells)``; no cache.

    Raises DataError for: empty or header-only file, missing column, rows with the wrong number of
    fields, non-numeric or empty cells (unless ``bad_cells='mask'``: they become NaN).
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
    names = [f"c{j}" for j in range(len(header))]  # positional names: header spacing never matters
    # Tracker output has no quoting and no null spellings: an empty or quoted cell fails the fast
    # call, which sends the file to the exact pass for a precise message.
    read_opts = pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True)
    parse_opts = pacsv.ParseOptions(delimiter=",", quote_char=False, double_quote=False, escape_char=False)
    convert_opts = pacsv.ConvertOptions(
        include_columns=[names[j] for j in used], column_types={names[j]: pa.float32() for j in used},
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        with _open(source) as fh:
            table = pacsv.read_csv(fh, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts)
    except pa.ArrowInvalid:
        return _diagnose(source, header, used, bad_cells)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{where}: cannot read ({exc})") from None
    if table.num_rows == 0:
        raise DataError(f"{where}: header only: no data rows")
    out = np.empty((len(used), table.num_rows), dtype=np.float32)  # (C, T): each column copy is contiguous
    for k, name in enumerate(names[j] for j in used):
        out[k] = table.column(name).to_numpy()
    return out.T, 0  # (T, C) view, column-major


def read_columns(source: Source, columns: Sequence[str], *, bad_cells: str = "error",
                 cache: bool = True, cache_root: str | None = None) -> tuple[np.ndarray, int]:
    """Cached :func:`parse_columns`: a read-only memory-mapped ``(T, C) float32`` array."""
    try:
        key = dict(source_identity(source), columns=list(columns), bad_cells=bad_cells, v=PARSER_VERSION)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{describe_source(source)}: cannot read ({exc})") from None

    def parse() -> tuple[dict, dict]:
        matrix, n_bad = parse_columns(source, columns, bad_cells)
        return {"matrix": matrix}, {"bad_cells": n_bad}

    arrays, scalars = cached("parsed", key, parse, cache_root, enabled=cache)
    return arrays["matrix"], int(scalars["bad_cells"])


def write_columns(path: Path, header: Sequence[str], columns: Sequence[np.ndarray]) -> None:
    """Write numeric (T,) ``columns`` under ``header`` with the trackers' ``", "`` separators, atomically.

    Values are written as given (round them first): pyarrow's shortest round-trip text, integers
    without a decimal point."""
    table = pa.table({f"c{i}": c for i, c in enumerate(columns)})
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, write_options=pacsv.WriteOptions(include_header=False))
    body = buf.getvalue().replace(b",", b", ")
    atomic_write_bytes(path, lambda fh: (fh.write((", ".join(header) + "\n").encode()), fh.write(body)))
