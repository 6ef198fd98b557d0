"""The notebook suite end to end (smoke overrides), the static site in a real browser, the privacy guard."""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml

from pseudoface import report
from pseudoface.params import SMOKE
from pseudoface.synthetic import write_corpus

ROOT = Path(__file__).parent.parent
SMOKE = list(SMOKE)


def _project(tmp: Path) -> Path:
    root = tmp / "project"
    root.mkdir()
    for name in ("notebooks", "params"):
        shutil.copytree(ROOT / name, root / name)
    for name in ("_quarto.yml", "index.qmd", "comparison.qmd", "method.qmd"):
        shutil.copy(ROOT / name, root / name)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Run the suite on a tiny synthetic corpus and on a non-synthetic (licensed-like) copy."""
    tmp = tmp_path_factory.mktemp("report")
    root = _project(tmp)
    corpus = write_corpus(tmp / "synth", participants=12, seconds=30, seed=5)
    licensed = tmp / "licensed"
    shutil.copytree(corpus, licensed)
    (licensed / "SYNTHETIC_CORPUS.txt").unlink()  # looks like a real corpus: fail closed
    (root / "params" / "daic_woz_test.yaml").write_text(
        f"dataset: daic_woz\ndata:\n  root: {licensed}\n  gender_codes: {{'0': female, '1': male}}\n")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        problems = report.execute_notebooks("params/synthetic.yaml", "synthetic", SMOKE + [f"data.root={corpus}"], root)
        # the comparisons are checked on the synthetic build only
        problems += report.execute_notebooks("params/daic_woz_test.yaml", "daic_woz", SMOKE + ["report.comparisons=false"],
                                             root)
        renderer = report.build_site(root)
    finally:
        os.chdir(cwd)
    return root, problems, renderer, corpus, licensed


@pytest.mark.slow
def test_all_notebooks_ran(built):
    root, problems, renderer, *_ = built
    assert problems == []
    for ds in ("synthetic", "daic_woz"):
        for name in report.NOTEBOOKS:
            nb = nbformat.read(root / "reports" / ds / f"{name}.ipynb", as_version=4)
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                      if o.get("output_type") == "error"]
            assert errors == []
    assert "Quarto is not on PATH" in renderer or renderer == "quarto"


@pytest.mark.slow
def test_every_quarto_page_exists(built):
    root = built[0]
    spec = yaml.safe_load((root / "_quarto.yml").read_text())
    for entry in spec["project"]["render"]:
        assert glob.glob(str(root / entry)), entry
    site = root / "reports" / "_site"
    for page in ("index.html", "comparison.html", "method.html", "synthetic/04_fold_analysis.html"):
        assert (site / page).is_file(), page


@pytest.mark.slow
def test_comparisons_ran_in_the_same_folds(built):
    import pandas as pd
    root = built[0]
    table = pd.read_csv(root / "runs" / "synthetic" / "report" / "comparisons.csv")
    assert list(table.name) == ["default (window layout, aligned)", "seed preset (frame layout)",
                                "window layout, no alignment"]
    folds = {json.loads((root / "runs" / "synthetic" / "report" / run / "metrics.json").read_text())["n_participants"]
             for run in table.run}
    assert len(folds) == 1  # every variant saw the same participants
    assert "seed preset (frame layout)" in (root / "reports" / "_site" / "comparison.html").read_text()
    assert not (root / "runs" / "daic_woz" / "report" / "comparisons.csv").exists()  # switched off there


@pytest.mark.slow
def test_privacy_guard_on_a_non_synthetic_root(built):
    root, _, _, _, licensed = built
    ids = [p.name[:3] for p in licensed.glob("*_P")]
    for page in (root / "reports" / "_site" / "daic_woz").glob("*.html"):
        text = page.read_text()
        text = re.sub(r"<script[^>]*>.{100000,}?</script>", "", text, flags=re.S)  # the embedded plotly.js
        assert str(licensed) not in text, page.name
        for pid in ids:
            assert not re.search(rf"(?<![\w.\-]){pid}(?![\w.])", text), (page.name, pid)
    nb = (root / "reports" / "daic_woz" / "01_landmarks.ipynb").read_text()
    assert "not shown: no landmarks, or per-participant data" in nb
    # the synthetic run does show its (synthetic) example participant
    assert "first 10 s" in (root / "reports" / "synthetic" / "01_landmarks.ipynb").read_text()


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.browser
def test_pages_draw_in_a_real_browser(built):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    site = built[0] / "reports" / "_site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 11
    for page in pages:
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tempfile.mkdtemp()}", "--virtual-time-budget=8000", "--dump-dom",
             page.as_uri()], capture_output=True, text=True, timeout=120).stdout
        assert "Traceback" not in dom, page
        if page.parent.name in ("synthetic", "daic_woz") and page.stem != "03_training" or page.stem == "04_fold_analysis":
            assert 'class="main-svg"' in dom, f"{page}: no plotly chart drew"


def test_committed_notebooks_are_thin_and_clean():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells), path
        for c in cells:
            assert not c.get("outputs") and c.get("execution_count") is None, path
            assert not re.search(r"^\s*(def|class)\s", "".join(c["source"]), re.M), path


def test_report_all_skips_params_whose_corpus_is_absent(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("DAIC_WOZ_ROOT", raising=False)
    monkeypatch.setenv("E_DAIC_ROOT", str(tmp_path / "missing"))
    targets = report.report_targets(ROOT, None, every=True)
    assert [Path(p).name for p in targets] == ["synthetic.yaml"]
    out = capsys.readouterr().out
    assert "skipped daic_woz.yaml: " in out and "DAIC_WOZ_ROOT is not set" in out
    assert "skipped e_daic.yaml: corpus root" in out
