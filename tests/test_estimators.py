"""One estimator per number, the same numbers in every place: a small `pseudoface cv` (with its
shuffled-label run) is read back from metrics.json, the terminal, reporting.md, the notebook tables,
the site's index box and reporting page, and the downloads. Every model's interval is the corrected
resampled t over folds, printed with that name; the pooled participant bootstrap, which metrics.json
keeps under its own name, appears in no place (the test fails if any place reverts to it)."""
import contextlib
import io
import json

import pandas as pd
import pytest

from pseudoface.site import downloads, reporting, results, site_pages
from pseudoface.cli import main
from pseudoface.learning.intervals import BOOTSTRAP_KEY, CORRECTED_T, CORRECTED_T_KEY, UNIT, ci_text, number
from pseudoface.site.report import SUMMARY_KEYS
from pseudoface.learning.sanity import load_sanity

MODELS = {"fused": "fused model (headline)", "network": "network"}  # how the terminal names them


@pytest.fixture(scope="module")
def places(synth_root, tmp_path_factory):
    """Every place a run's numbers are shown, from one `pseudoface cv --smoke` (3 folds, 1 shuffled run)."""
    folder = tmp_path_factory.mktemp("estimators")
    yaml = folder / "p.yaml"
    yaml.write_text(f"dataset: synthetic\ndata:\n  root: {synth_root}\n  min_valid_seconds: 5\n")
    run_root = folder / "report"
    out = run_root / "main"
    terminal = io.StringIO()
    with contextlib.redirect_stdout(terminal):
        assert main(["cv", "--params", str(yaml), "--smoke", "--set", "cv.folds=3", "--shuffled-labels", "1",
                     "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    published = folder / "downloads"
    names = downloads.write_downloads(run_root, published, participant_data=False, paths=[])
    predictions = pd.read_csv(out / "predictions.csv", dtype={"participant_id": str})
    stamp = {"report": "r", "published": "2026-01-01T00:00:00", "run_finished": "2026-01-01T00:00:00",
             "participant_data": False, "downloads": names, "layout": "landmarks",
             "screening": results.screening(predictions), "sanity": load_sanity(out),
             "reporting": reporting.load_reporting(out),
             "metrics": {k: metrics[k] for k in SUMMARY_KEYS if k in metrics} | {"config": {"model": metrics["config"]["model"]}}}
    stamp = json.loads(json.dumps(stamp))  # as the published notebook stores it
    return {"metrics": metrics, "terminal": terminal.getvalue(), "reporting_md": (out / "reporting.md").read_text(),
            "index": site_pages.key_results_html("synthetic", stamp), "reporting_page": site_pages.reporting_body(stamp),
            "quarto_reporting_page": site_pages.reporting_qmd(stamp, "synthetic"), "downloads": published,
            "notebook": results.headline_table(metrics), "sentence": results.headline_sentence(metrics)}


def _summaries(m: dict) -> dict:
    return {"fused": m["fused_model"], "network": m} | m["baselines"]


def test_metrics_json_names_each_interval_by_its_estimator(places):
    m = places["metrics"]
    fraction = results.test_fraction(m)
    for key, s in _summaries(m).items():
        f1 = s["macro_f1"]
        assert "ci95" not in f1, key
        assert f1[CORRECTED_T_KEY] == pytest.approx(results.fold_interval(f1["folds"], fraction)["ci95"]), key
        assert f1[CORRECTED_T_KEY] != pytest.approx(f1[BOOTSTRAP_KEY]), key  # two estimators, two numbers
    for name, d in m["differences"].items():
        a = {"network_minus_feature_model": "network", "fused_minus_feature_model": "fused"}[name]
        assert d["mean"] == pytest.approx(_summaries(m)[a]["macro_f1"]["mean"] - m["baselines"]["feature_model"]["macro_f1"]["mean"])
        assert d[CORRECTED_T_KEY] == pytest.approx(results.paired(m, a, "feature_model")["ci95"])
    assert not {"paired_vs_feature_model", "paired_fused_vs_feature_model"} & set(m)


def test_the_terminal_prints_the_index_interval_with_its_name(places):
    m, lines = places["metrics"], places["terminal"].splitlines()
    assert any(f"95% CI of the mean, {CORRECTED_T}" in line for line in lines)
    for key, s in _summaries(m).items():
        [line] = [line for line in lines if line.startswith(f"  {MODELS.get(key, key)}: ")]
        assert f"(95% CI {ci_text(s['macro_f1'][CORRECTED_T_KEY], bounds=UNIT)}, {CORRECTED_T})" in line, key
        assert ci_text(s["macro_f1"][BOOTSTRAP_KEY]) not in places["terminal"], key


def test_every_page_and_file_prints_the_same_interval(places):
    m = places["metrics"]
    fused, network = (ci_text(s["macro_f1"][CORRECTED_T_KEY], bounds=UNIT) for s in (m["fused_model"], m))
    item_23a = [line for line in places["reporting_md"].splitlines() if line.startswith("| 23a |")][0]
    item_12e = [line for line in places["reporting_md"].splitlines() if line.startswith("| 12e |")][0]
    for text in (fused, network):
        assert f"95% CI {text}, {CORRECTED_T}" in item_23a  # TRIPOD+AI item 23a: fold mean ± SD with this interval
        assert f"<td>{text}</td>" in places["index"]  # the index's models table, under a header naming it
        assert f"95% CI {text}, {CORRECTED_T}" in places["reporting_page"]
        assert f"95% CI {text}, {CORRECTED_T}" in places["quarto_reporting_page"]
        assert text in set(places["notebook"]["95% CI (corrected t)"])  # notebooks 03 and 04
    assert f"95% CI {fused}, {CORRECTED_T}" in places["sentence"]
    assert f"95% CI of the mean<br>({CORRECTED_T})" in places["index"]
    assert "headline" in item_12e and CORRECTED_T in item_12e and "percentile bootstrap" not in item_12e
    d = m["differences"]["fused_minus_feature_model"]
    shown = number(d["mean"], sign=True)
    lo, hi = (number(v, sign=True) for v in d[CORRECTED_T_KEY])
    assert f"motion-feature model</th><td>{shown} (95% CI {lo} to {hi}, {CORRECTED_T})</td>" in places["index"]
    for place in ("terminal", "reporting_md", "index", "reporting_page", "sentence"):
        for s in _summaries(m).values():  # the pooled bootstrap is shown nowhere
            assert ci_text(s["macro_f1"][BOOTSTRAP_KEY]) not in places[place], place


def test_the_sanity_run_compares_with_the_index_interval_of_stratified_random(places):
    m = places["metrics"]
    random = m["baselines"]["stratified_random"]["macro_f1"][CORRECTED_T_KEY]
    sanity = json.loads((places["downloads"] / "sanity.json").read_text())
    assert sanity["stratified_random"][CORRECTED_T_KEY] == random
    text = f"95% CI {ci_text(random)}"
    for place in ("terminal", "reporting_md", "reporting_page"):
        assert f"stratified-random baseline's {text} (its mean over the run's outer folds, {CORRECTED_T})" in \
            places[place].replace("&#x27;", "'"), place
    assert f"stratified random ({text}, {CORRECTED_T})" in places["reporting_md"]  # the sanity table's row


def test_the_downloads_carry_the_same_numbers_and_say_which_estimator(places):
    m, folder = places["metrics"], places["downloads"]
    published = json.loads((folder / "metrics.json").read_text())
    for key, s in _summaries(published).items():
        assert s["macro_f1"][CORRECTED_T_KEY] == _summaries(m)[key]["macro_f1"][CORRECTED_T_KEY]
    assert published["differences"] == m["differences"]
    baselines = pd.read_csv(folder / "baselines.csv")
    for key, s in _summaries(m).items():
        row = baselines[baselines.name == results.model_label(m, key)].iloc[0]
        assert [row.ci95_low, row.ci95_high] == pytest.approx(s["macro_f1"][CORRECTED_T_KEY]), key
    dictionary = pd.read_csv(folder / "data_dictionary.csv")
    meaning = dict(zip(dictionary[dictionary.file == "baselines.csv"].column, dictionary[dictionary.file == "baselines.csv"].meaning))
    assert CORRECTED_T in meaning["ci95_low"] and CORRECTED_T in meaning["diff_low"]
    assert (folder / "reporting.md").read_text() == places["reporting_md"]
