import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, tree_digest
from pseudoface.corpora import textio
from pseudoface.corpora.cache import cache_root
from pseudoface.cli import main
from pseudoface.corpora.synthetic import write_corpus

COLS = ["timestamp", "X_0", "Z_67"]


def test_cache_parses_once_and_reparses_on_change(tmp_path, monkeypatch):
    src = tmp_path / "a.csv"
    src.write_bytes((DATA / "OpenFace_Test.csv").read_bytes())
    calls = []
    real = textio.parse_columns
    monkeypatch.setattr(textio, "parse_columns", lambda *a, **k: calls.append(1) or real(*a, **k))
    first, _ = textio.read_columns(src, COLS)
    again, _ = textio.read_columns(src, COLS)
    assert len(calls) == 1 and isinstance(again, np.memmap)
    np.testing.assert_array_equal(first, again)
    cache = cache_root()
    assert cache != src.parent and list(cache.rglob("*.npy"))  # never beside the data
    text = src.read_text().splitlines(keepends=True)
    cells = text[1].split(",")
    cells[1] = " 99.5"  # the timestamp of the first frame
    src.write_text("".join(text[:1] + [",".join(cells)] + text[2:]))
    os.utime(src, ns=(1, 1))  # even with an old mtime: size/mtime key changes
    changed, _ = textio.read_columns(src, COLS)
    assert len(calls) == 2 and changed[0, 0] == pytest.approx(99.5)


def test_cache_write_is_atomic(tmp_path, monkeypatch):
    src = tmp_path / "b.csv"
    src.write_bytes((DATA / "OpenFace_Test.csv").read_bytes())

    def crash(fh, arr):
        fh.write(b"\x93NUMPY partial")
        raise OSError("disk full")
    monkeypatch.setattr(np, "save", crash)
    data, _ = textio.read_columns(src, COLS)  # falls back to the parsed array
    assert data.shape == (100, 3)
    leftovers = [p for p in cache_root().rglob("*") if p.suffix in (".npy", ".tmp", ".json")]
    assert leftovers == []  # no partial cache entry was left behind
    monkeypatch.undo()
    monkeypatch.setenv("PSEUDOFACE_CACHE_DIR", str(tmp_path / "c2"))
    data2, _ = textio.read_columns(src, COLS)
    np.testing.assert_array_equal(data, data2)


def test_synthetic_is_deterministic_and_marked(tmp_path):
    a = write_corpus(tmp_path / "a", participants=5, seconds=10, seed=7)
    b = write_corpus(tmp_path / "b", participants=5, seconds=10, seed=7)
    c = write_corpus(tmp_path / "c", participants=5, seconds=10, seed=8)
    assert tree_digest(a) == tree_digest(b) != tree_digest(c)
    assert (a / "SYNTHETIC_CORPUS.txt").is_file()
    assert sorted(p.name for p in a.glob("*.csv")) == [
        "dev_split_Depression_AVEC2017.csv", "full_test_split.csv",
        "test_split_Depression_AVEC2017.csv", "train_split_Depression_AVEC2017.csv"]


def test_synthetic_effect_is_planted_but_overlapping():
    from pseudoface.corpora.synthetic import Person, animate
    rng = np.random.default_rng(0)

    def motion(score, expressivity):
        f = animate(Person(300, score, 0, expressivity, expressivity), 30, 30, np.random.default_rng(1))
        mouth = f["landmarks"][~f["lost"]][:, 57, 1] - f["landmarks"][~f["lost"]][:, 51, 1]
        return mouth.std()
    assert motion(20, 1.0) < motion(2, 1.0)  # same person, more severe -> less movement
    assert motion(20, 1.4) > motion(2, 0.8)  # but personal expressivity can outweigh it


def test_cli_inspect_exit_codes(synth_root, tmp_path, capsys):
    assert main(["inspect", str(synth_root)]) == 0
    out = capsys.readouterr().out
    assert "participant flow: labelled 12" in out and "% valid" in out
    bad = tmp_path / "999_CLNF_features3D.txt"
    bad.write_text("frame, timestamp\n")
    assert main(["inspect", str(bad), str(tmp_path / "missing.csv"), str(DATA / "OpenFace_Test.csv")]) == 1
    captured = capsys.readouterr()
    assert "2 problem(s)" in captured.err and "Traceback" not in captured.err
    assert "OpenFace_Test" in captured.out  # the good file is still reported


def test_cli_data_error_is_one_line_without_traceback(tmp_path):
    (tmp_path / "p.yaml").write_text(f"dataset: daic_woz\ndata:\n  root: {tmp_path / 'nowhere'}\n")
    r = subprocess.run([sys.executable, "-m", "pseudoface.cli", "report", "--params", str(tmp_path / "p.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: ") and "corpus root not found" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("zipped", [False, True])
@pytest.mark.parametrize("ending", ["\n", "", "\n\n\n", "crlf"])
def test_parse_matches_pandas(tmp_path, monkeypatch, zipped, ending):
    """The fast call, from a file or a zip stream, with or without a final newline, trailing blank
    lines and CRLF, gives exactly pandas' values."""
    import zipfile
    import pandas as pd
    monkeypatch.setattr(textio, "_diagnose", lambda *a, **k: pytest.fail("fell back to the exact pass"))
    text = (DATA / "OpenFace_Test.csv").read_text().rstrip("\n")
    text = text.replace("\n", "\r\n") + "\r\n" if ending == "crlf" else text + ending
    src = tmp_path / "a.csv"
    src.write_bytes(text.encode())
    if zipped:
        with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(src, "inner/a.csv")
        source = (tmp_path / "a.zip", "inner/a.csv")
    else:
        source = src
    cols = ["timestamp", "X_0", "Y_33", "Z_67", "AU45_r"]
    matrix, bad = textio.parse_columns(source, cols)
    expected = pd.read_csv(src, skipinitialspace=True)[cols].to_numpy(np.float32)
    assert bad == 0 and matrix.shape == (100, 5)
    np.testing.assert_array_equal(matrix, expected)


@pytest.mark.parametrize("command", ["encode", "cv"])
def test_no_usable_session_is_an_error(synth_root, tmp_path, capsys, command):
    """Every participant excluded: one line pointing at the participant flow, non-zero exit, nothing written."""
    code = main([command, "--params", "params/synthetic.yaml", "--set", f"data.root={synth_root}",
                 "--set", "data.min_valid_seconds=9999", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "no session was usable" in err[0] and "usable 0" in err[0] and "participant flow" in err[0]
    assert not (tmp_path / "out").exists()


def test_the_params_corpus_is_generated_at_the_params_size_and_a_synth_corpus_is_never_replaced(tmp_path, capsys):
    from pseudoface.corpora.read import ensure_synthetic, marker_info
    from pseudoface.params import ParamsError, params_from_dict

    def params(root, n):
        return params_from_dict({"dataset": "synthetic", "data": {"root": str(root)}},
                                [f"data.synthetic_participants={n}", "data.synthetic_seconds=8"])
    root = tmp_path / "default"
    ensure_synthetic(params(root, 6))
    assert marker_info(root)["participants"] == 6 and marker_info(root)["origin"] == "params"
    ensure_synthetic(params(root, 8))  # another size: generated again, the folder replaced whole
    assert marker_info(root)["participants"] == 8 and len(list(root.glob("*_P"))) == 8
    assert "generating it again" in capsys.readouterr().out
    mine = write_corpus(tmp_path / "mine", participants=5, seconds=8, seed=1)  # `pseudoface synth`'s corpus
    before = tree_digest(mine)
    ensure_synthetic(params(mine, 8))
    assert tree_digest(mine) == before and "origin" not in marker_info(mine)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "300_P").mkdir()
    with pytest.raises(ParamsError, match="not empty and holds no synthetic corpus"):
        ensure_synthetic(params(tmp_path / "real", 8))
