"""No local path in anything published: the paths to hide, their replacement, a fail-closed check.

What is published (:mod:`report`'s notebooks and downloads, :mod:`sweep`'s ``reports/_sweeps/``)
never contains the data root, the labels folder, the cache directory, the project folder or the
user's home directory. :func:`private_paths` lists them (each as given and resolved, longest
first), :func:`scrub` replaces them by a label (``<data root>``, ``<cache>``, ``~``...) in strings
and in lists/dicts of them, and :func:`check_published` fails closed: it raises
:class:`PrivacyError` if any file about to be published still holds one. A path matches only as a
whole path (``/root`` matches ``/root`` and ``/root/x``, never ``/rootfs`` or ``/x/root``).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..corpora.cache import cache_root
from ..params import Params


class PrivacyError(RuntimeError):
    """A file about to be published still contains a local path."""


def private_paths(params: Params, root: Path) -> list[tuple[str, str]]:
    """(local path, what is published instead), longest first: the data root, the labels folder,
    the cache directory, the project folder and the home directory, each as given and resolved."""
    named = [(params.data.root, "<data root>"), (params.data.labels_dir, "<labels folder>"),
             (params.data.test_root, "<test corpus root>"), (params.data.test_labels_dir, "<test labels folder>"),
             (str(cache_root(params.data.cache_dir)), "<cache>"), (str(root), "<project>"),
             (str(Path.home()), "~")]
    pairs: dict[str, str] = {}
    for raw, label in named:
        if not raw or "${" in raw:
            continue
        path = Path(raw).expanduser()
        forms = {str(path.absolute()), str(path.resolve())} | ({raw} if os.path.isabs(raw) else set())
        for form in forms:
            form = form.rstrip("/\\")
            if len(form) > 1:
                pairs.setdefault(form, label)
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def _path_pattern(path: str) -> re.Pattern:
    # a whole path component sequence: /root matches /root and /root/x, never /rootfs or /x/root
    return re.compile(rf"(?<![\w.\-]){re.escape(path)}(?![\w.\-])")


def scrub(value, paths: list[tuple[str, str]]):
    """``value`` (a string, or lists/dicts of them) with every private path replaced."""
    if isinstance(value, str):
        for path, label in paths:
            if path in value:
                value = _path_pattern(path).sub(label, value)
        return value
    if isinstance(value, list):
        return [scrub(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, paths) for k, v in value.items()}
    return value


def check_published(folder: Path, paths: list[tuple[str, str]]) -> None:
    """Fail closed: raise PrivacyError if any file under ``folder`` still holds a private path."""
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = file.read_text(errors="replace")
        for path, _ in paths:
            if path in text and _path_pattern(path).search(text):
                raise PrivacyError(f"{file.name}: still contains a local path ({len(path)} characters); "
                                   "not published")
