import hashlib
import os
from pathlib import Path

import pytest

from pseudoface.encoding.encode import encode_corpus
from pseudoface.params import params_from_dict
from pseudoface.corpora.read import load_corpus
from pseudoface.corpora.synthetic import write_corpus

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test parses into its own cache: no test sees another's cached arrays."""
    monkeypatch.setenv("PSEUDOFACE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    """A small synthetic DAIC-WOZ-layout corpus shared by read-only tests."""
    return write_corpus(tmp_path_factory.mktemp("synth") / "corpus", participants=12, seconds=40, seed=3)


@pytest.fixture(scope="session")
def edaic_root(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("edaic") / "corpus", participants=8, seconds=30, seed=4,
                        fmt="e_daic")


def make_params(root, dataset="synthetic", **data):
    return params_from_dict({"dataset": dataset, "data": {"root": str(root), "min_valid_seconds": 5, **data}})


def encoded(params):
    """The encoded corpus ``params`` name (what `pseudoface cv` trains on)."""
    return encode_corpus(load_corpus(params), params)


@pytest.fixture(scope="session")
def valid_metrics(synth_root, tmp_path_factory) -> dict:
    """A metrics.json that follows the schema (a smoke run on ``synth_root``): tests that need a
    run's metrics with a few values of their own start from a copy of it."""
    import json
    from pseudoface.learning.cv import RunSpec, cross_validate
    from pseudoface.params import SMOKE
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(synth_root), "min_valid_seconds": 5}},
                              list(SMOKE) + ["cv.bootstrap=20"])
    out = tmp_path_factory.mktemp("valid_metrics")
    cross_validate([RunSpec(params, out, encoded(params))], progress=False)
    return json.loads((out / "metrics.json").read_text())


def tree_digest(root: Path) -> str:
    """sha256 over every file's relative path and bytes under ``root``: equal trees, equal digests."""
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()
