"""Publishing a report, fast: papermill sees the parameters, no local path is shown or published,
predictions go out without participant ids, half-built reports never reach the site, and an
interrupted `cv` says what it kept."""
import json
import logging
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from pseudoface import cli
from pseudoface.site import downloads, privacy, report, website
from pseudoface.params import load_params

ROOT = Path(__file__).parent.parent


def test_papermill_recognises_every_notebook_parameter(caplog):
    import papermill as pm
    with caplog.at_level(logging.WARNING, logger="papermill"):
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            assert list(pm.inspect_notebook(str(path))) == list(report.PARAMETERS), path.name
    assert caplog.records == []  # no "Unable to parse line ..."


def test_check_parameters_names_what_is_missing(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("params_file = 'x'  # a=b defeats papermill's parser\nrun_dir = 'y'")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "n.ipynb")
    with pytest.raises(report.ParamsError, match="does not define overrides"):
        report.check_parameters(tmp_path / "n.ipynb")


def test_path_overrides_reach_the_kernels_by_name(tmp_path):
    shown, env = report.notebook_inputs("params/e_daic.yaml", ["cv.folds=2", "data.root=/srv/alice/E-DAIC",
                                                               "data.cache_dir=${MY_CACHE}"], tmp_path, "e_daic")
    assert shown == {"params_file": "params/e_daic.yaml", "run_dir": "runs/e_daic/report",
                     "overrides": ["cv.folds=2", "data.root=${PSEUDOFACE_DATA_ROOT}", "data.cache_dir=${MY_CACHE}"]}
    assert env == {"PSEUDOFACE_DATA_ROOT": "/srv/alice/E-DAIC"}

def test_what_the_kernels_receive_loads_the_same_parameters(monkeypatch, tmp_path):
    shown, env = report.notebook_inputs("params/e_daic.yaml", ["data.root=/srv/alice/E-DAIC"], tmp_path, "e_daic")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_params(ROOT / "params/e_daic.yaml", shown["overrides"]).data.root == "/srv/alice/E-DAIC"


def test_a_params_file_path_is_relative_or_by_name(tmp_path):
    inside, _ = report.notebook_inputs(str(tmp_path / "params" / "x.yaml"), [], tmp_path, "x")
    assert inside["params_file"] == "params/x.yaml"
    outside, env = report.notebook_inputs("/srv/alice/my.yaml", [], tmp_path, "x")
    assert outside["params_file"] == "${PSEUDOFACE_PARAMS_FILE}" and env == {"PSEUDOFACE_PARAMS_FILE": "/srv/alice/my.yaml"}


def test_private_paths_and_scrub(tmp_path, monkeypatch):
    home = tmp_path / "home" / "alice"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PSEUDOFACE_CACHE_DIR", str(home / ".cache" / "pf"))
    monkeypatch.setenv("DATA", str(home / "corpora" / "DAIC"))
    params = load_params(None, ["dataset=daic_woz", "data.root=${DATA}"])
    paths = privacy.private_paths(params, tmp_path / "project")
    assert [label for _, label in paths][:2] == ["<data root>", "<cache>"]  # longest first
    text = (f"read {home}/corpora/DAIC/300_P/x.txt; cache {home}/.cache/pf/ab; code {tmp_path}/project/lib/a.py; "
            f"{home}2 and /x{home} stay")
    assert privacy.scrub(text, paths) == ("read <data root>/300_P/x.txt; cache <cache>/ab; code <project>/lib/a.py; "
                                          f"{home}2 and /x{home} stay")
    assert privacy.scrub({"a": [text]}, paths)["a"][0].startswith("read <data root>/")


def test_publication_fails_closed(tmp_path):
    (tmp_path / "page.html").write_text("see /srv/alice/data/300_P")
    with pytest.raises(privacy.PrivacyError, match="page.html"):
        privacy.check_published(tmp_path, [("/srv/alice", "~")])
    privacy.check_published(tmp_path, [("/srv/bob", "~")])


def test_predictions_are_published_without_participant_ids():
    pred = pd.DataFrame({"repeat": [0, 0, 0, 1, 1, 1], "fold": [0, 0, 1, 0, 1, 1],
                         "participant_id": ["300", "301", "302", "300", "301", "302"], "label": [0, 1, 1, 0, 1, 1],
                         "phq_score": [3.0, 12.0, 15.0, 3.0, 12.0, 15.0], "gender": ["f", "m", "f", "f", "m", "f"],
                         "score": [.1, .7, .8, .2, .6, .9], "threshold": .5, "prediction": [0, 1, 1, 0, 1, 1]})
    out = downloads._anonymous_predictions(pred, seed=1)
    assert "participant_id" not in out and "phq_score" not in out and not out.isin(["300", "301", "302"]).any().any()
    assert out.groupby("key").label.nunique().eq(1).all() and out.key.nunique() == 3  # one key per participant
    assert len(out) == len(pred)


def _notebooks(folder: Path, names, report_id="r1"):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        nb = nbformat.v4.new_notebook()
        if report_id:
            nb.metadata[report.STAMP] = {"report": report_id}
        nbformat.write(nb, folder / f"{name}.ipynb")


def test_the_site_publishes_complete_reports_only(tmp_path, capsys):
    reports = tmp_path / "reports"
    _notebooks(reports / "daic_woz", report.NOTEBOOKS[:3])  # killed during notebook 04 (older versions)
    _notebooks(reports / "e_daic", report.NOTEBOOKS, report_id=None)  # executed, never published
    _notebooks(reports / "openface", report.NOTEBOOKS[:2], "a")
    _notebooks(reports / "openface", report.NOTEBOOKS[2:], "b")  # two runs mixed
    _notebooks(reports / report.PARTIAL / "synthetic", report.NOTEBOOKS[:2])  # a report in progress
    complete, skipped = website.published_datasets(tmp_path)
    assert complete == [] and set(skipped) == {"daic_woz", "e_daic", "openface"}
    assert "04_fold_analysis.ipynb is missing" in skipped["daic_woz"]
    assert "no publication stamp" in skipped["e_daic"] and "different report runs" in skipped["openface"]
    (tmp_path / "method.qmd").write_text("---\ntitle: x\n---\n# Method\n")
    website.build_site(tmp_path)
    out = capsys.readouterr().out
    assert "site: skipped reports/daic_woz/: 04_fold_analysis.ipynb is missing" in out
    assert sorted(p.name for p in (reports / "_site").iterdir()) == ["assets", "comparison.html", "index.html", "method.html"]


@pytest.mark.parametrize("quarto", [None, "/opt/quarto/bin/quarto"])
def test_the_site_is_rendered_by_quarto_exactly_when_it_is_on_path(tmp_path, monkeypatch, quarto):
    """Quarto on PATH: `quarto render --no-execute` renders the site and an incomplete report folder is
    moved where Quarto does not look; otherwise the static fallback, and it says why. The page that
    says how the site was built names the renderer used."""
    reports = tmp_path / "reports"
    _notebooks(reports / "daic_woz", report.NOTEBOOKS[:3])  # incomplete
    (tmp_path / "method.qmd").write_text("---\ntitle: x\n---\n# Method\n")
    rendered = []
    monkeypatch.setattr(website.shutil, "which", lambda name, *a, **k: quarto if name == "quarto" else None)
    monkeypatch.setattr(website.subprocess, "run", lambda cmd, **kw: rendered.append((cmd, kw["cwd"])))
    renderer = website.build_site(tmp_path)
    built = (reports / "_generated" / "built.md").read_text()
    if quarto:
        assert renderer == "quarto" and rendered == [(["quarto", "render", "--no-execute"], tmp_path)]
        assert "rendered with Quarto." in built
        assert (reports / "_incomplete" / "daic_woz").is_dir() and not (reports / "daic_woz").exists()
    else:
        assert renderer == f"{website.STATIC_RENDERER} (Quarto is not on PATH)" and rendered == []
        assert f"rendered with {website.STATIC_RENDERER}." in built
        assert (reports / "_site" / "index.html").is_file() and (reports / "daic_woz").is_dir()


def test_an_interrupted_cv_says_which_folds_it_kept(tmp_path, monkeypatch, capsys, synth_root):
    from pseudoface.learning import cv
    from pseudoface.encoding import encode

    def stop_after_one_fold(specs, progress=True, desc=""):
        (specs[0].out / "folds").mkdir(parents=True)
        (specs[0].out / "folds" / "r0_f0.json").write_text("{}")
        raise KeyboardInterrupt
    monkeypatch.setattr(cv, "cross_validate", stop_after_one_fold)
    monkeypatch.setattr(encode, "encode_corpus", lambda corpus, params, progress=False: None)
    out = tmp_path / "run"
    assert cli.main(["cv", "--params", str(ROOT / "params/synthetic.yaml"), "--set", f"data.root={synth_root}",
                     "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"interrupted: 1 finished fold(s) kept in {out}/folds/; the same command with --resume "
                   "continues from them"]
