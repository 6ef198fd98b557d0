"""The TRIPOD+AI reporting items of a run: every item answered or left to the researcher, answers
computed from the run's own files (change a file, the answer changes), no local path and no
per-participant value unless allowed, the sanity item read from sanity.json."""
import json
import re
import shutil

import pytest

from conftest import encoded, make_params
from pseudoface.site import reporting
from pseudoface.learning import runs, sanity
from pseudoface.cli import main
from pseudoface.params import project_root
from pseudoface.site.privacy import private_paths


@pytest.fixture(scope="module")
def run(synth_root, tmp_path_factory):
    """`pseudoface cv --smoke --shuffled-labels 1` on the small synthetic corpus."""
    folder = tmp_path_factory.mktemp("reporting")
    yaml = folder / "p.yaml"
    yaml.write_text(f"dataset: synthetic\ndata:\n  root: {synth_root}\n  min_valid_seconds: 5\n")
    out = folder / "run"
    assert main(["cv", "--params", str(yaml), "--smoke", "--shuffled-labels", "1", "--out", str(out)]) == 0
    return out, synth_root


def _copy(run, tmp_path):
    out, _ = run
    copy = tmp_path / "run"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("checkpoints", "shuffled"))
    return copy


def _answer(items, item, topic=None):
    [row] = [i for i in items if i["item"] == item and (topic is None or i["topic"] == topic)]
    return row["answer"]


def test_cv_writes_the_sanity_summary_and_the_reporting_files(run):
    out, _ = run
    for name in ("sanity.json", "reporting.json", "reporting.md", "shuffled/1/metrics.json"):
        assert (out / name).is_file(), name
    doc = json.loads((out / "reporting.json").read_text())
    assert doc["participant_data"]  # a synthetic corpus: per-participant values may be shown
    assert doc["items"] == reporting.reporting_items(out, participant_data=True) and doc["guideline"].startswith("TRIPOD+AI")
    md = (out / "reporting.md").read_text()
    assert all(f"| {i['item']} |" in md for i in doc["items"])


def test_every_item_is_answered_or_for_the_researcher(run):
    out, _ = run
    items = reporting.reporting_items(out)
    assert {i["item"] for i in items} == {row[0] for row in reporting.CHECKLIST}
    for i in items:
        assert i["status"] in (reporting.ANSWERED, reporting.RESEARCHER)
        if i["status"] == reporting.ANSWERED:
            assert i["answer"] and i["source"], i
        else:
            assert i["researcher"] and not i["answer"], i
    answered = {i["item"] for i in items if i["status"] == reporting.ANSWERED}
    # what the run can answer: data source, eligibility and flow, outcome, predictors, sample size, missing
    # data, the model and its internal validation, performance (subgroups, baselines, sanity run), code
    assert answered >= {"5a", "6b", "7", "8a", "9a", "9b", "10", "11", "12a", "12c", "12e", "13", "15", "18f",
                        "20a", "20b", "21", "22", "23a"}
    left = {i["item"] for i in items if i["status"] == reporting.RESEARCHER}
    assert left >= {"3b", "6a", "17", "18a", "25", "26"}  # intended use, setting, ethics, funding, discussion
    topics = {i["topic"] for i in items if i["item"] == "23a"}
    assert topics == {"discrimination and calibration", "performance by subgroup", "baselines in the same folds",
                      "shuffled-label sanity run"}


def test_answers_come_from_the_run_files(run, tmp_path):
    copy = _copy(run, tmp_path)
    before = reporting.reporting_items(copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics["n_depressed"] = 7777
    metrics["macro_f1"]["mean"] = 0.8771
    metrics["label_disagreements"] = 4242
    metrics["calibration"]["brier"] = 0.1234
    (copy / "metrics.json").write_text(json.dumps(metrics))
    after = reporting.reporting_items(copy)
    assert "7777" in _answer(after, "8a") and "7777" not in _answer(before, "8a")
    assert "4242" in _answer(after, "8a")
    assert "7777" in _answer(after, "10") and "7777" in _answer(after, "20a")
    perf = _answer(after, "23a", "discrimination and calibration")
    assert "0.877" in perf and "0.123" in perf and perf != _answer(before, "23a", "discrimination and calibration")
    # participants.csv: the characteristics follow the file
    parts = runs.load_participants(copy)
    parts.loc[0, "gender"] = "nonbinary"
    parts.to_csv(copy / "participants.csv", index=False)
    assert "nonbinary" in _answer(reporting.reporting_items(copy), "20b")


def test_label_disagreements_are_counted_among_the_analysed_participants(run):
    out, root = run
    enc = encoded(make_params(root))
    expected = int(enc.corpus.disagreements.participant_id.isin(enc.table.participant_id).sum())
    assert runs.load_metrics(out)["label_disagreements"] == expected


def test_no_local_path_and_no_participant_values_unless_allowed(run, tmp_path):
    copy = _copy(run, tmp_path)
    _, root = run
    params = make_params(root)
    for allowed in (False, True):
        reporting.write_reporting(copy, participant_data=allowed)
        text = (copy / "reporting.json").read_text() + (copy / "reporting.md").read_text()
        for path, _ in private_paths(params, project_root()):
            assert path not in text, path
        assert str(root) not in text and str(tmp_path) not in text
    ids = runs.load_participants(copy).participant_id
    hidden = _answer(reporting.reporting_items(copy, participant_data=False), "11")
    shown = _answer(reporting.reporting_items(copy, participant_data=True), "11")
    assert not any(re.search(rf"\b{p}\b", hidden) for p in ids)
    assert any(re.search(rf"\b{p}\b", shown) for p in ids)


def test_the_sanity_item_reads_the_summary(run, tmp_path):
    copy = _copy(run, tmp_path)
    summary = sanity.load_sanity(copy)
    assert summary is not None and summary["permutations"] == 1
    answer = _answer(reporting.reporting_items(copy), "23a", "shuffled-label sanity run")
    assert answer == sanity.sanity_sentence(summary)
    assert f"{summary['models']['network']['shuffled_mean']:.3f}" in answer
    assert ("possible leakage" in answer) == summary["possible_leakage"]
    table = sanity.sanity_table(summary)
    assert list(table.model[:3]) == ["network", "feature model", "fused model"]
    # another run's summary (its config hash differs) is not this run's
    other = dict(summary, run=dict(summary["run"], config_hash="0" * 12))
    (copy / "sanity.json").write_text(json.dumps(other))
    assert sanity.load_sanity(copy) is None
    (copy / "sanity.json").unlink()
    assert _answer(reporting.reporting_items(copy), "23a", "shuffled-label sanity run").startswith("Not run")


def test_sources_cite_only_published_files(run):
    """A reader can open every file a source names: the downloads hold metrics.json (with the resolved
    config run.json also holds), predictions.csv and sanity.json; the participant table and fold files
    are not published (participant ids), so a number aggregated from them says so instead."""
    out, _ = run
    published = {"metrics.json", "predictions.csv", "sanity.json"}
    for i in reporting.reporting_items(out):
        cited = set(re.findall(r"[\w/*.-]+\.(?:json|csv|pt)\b", i["source"]))
        assert cited <= published, (i["item"], i["source"])


def _items_of(root, tmp_path, dataset, *overrides):
    yaml = tmp_path / "p.yaml"
    yaml.write_text(f"dataset: {dataset}\ndata:\n  root: {root}\n  min_valid_seconds: 5\n")
    out = tmp_path / "run"
    assert main(["cv", "--params", str(yaml), "--smoke", "--out", str(out), *overrides]) == 0
    return runs.load_metrics(out), reporting.reporting_items(out)


def test_the_default_run_says_its_network_reads_four_derived_rows(run):
    out, _ = run
    items = reporting.reporting_items(out)
    choice = _answer(items, "9a")
    assert "The network reads 4 rows derived from the landmarks" in choice and "benchmark" in choice
    assert "Every landmark-derived signal" not in choice and "no pre-selection" not in choice
    assert "input 6 × 4 × 60" in _answer(items, "9b") and "6 channels (X, Y, Z" in _answer(items, "9b")
    assert "fused model Brier" in _answer(items, "23a", "discrimination and calibration")  # the headline's too


def test_an_e_daic_run_describes_series_not_landmarks(tmp_path):
    from pseudoface.corpora.synthetic import write_corpus
    root = write_corpus(tmp_path / "corpus", participants=12, seconds=30, seed=6, fmt="e_daic")
    m, items = _items_of(root, tmp_path, "e_daic")
    assert m["inputs"] == "series" and m["input_shape"][:2] == [2, 31]
    for item in ("7", "9a", "9b"):
        text = _answer(items, item)
        assert not re.search(r"landmarks? (rows|matrix|of the tracker)|rigidly aligned|inter-ocular", text), (item, text)
    assert "no face to centre, scale or align" in _answer(items, "7")
    layout = _answer(items, "9b")
    assert "input 2 × 31 × 60" in layout and "2 channels (each series' value and its frame-to-frame velocity)" in layout
    assert "31 rows (head pose (6), gaze (8), action-unit intensities (17))" in layout
    assert "E-DAIC file layout" in _answer(items, "5a") or "E-DAIC (AVEC 2019" in _answer(items, "5a")


def test_a_regression_run_describes_the_phq8_score_model(synth_root, tmp_path):
    m, items = _items_of(synth_root, tmp_path, "synthetic", "--set", "model.task=regression",
                         "--set", "train.calibration=none")
    assert m["task"] == "regression"
    everything = " ".join(i["answer"] for i in items)
    assert "Binary" not in everything and "probability of depression" not in everything
    assert "threshold chosen per fold" not in everything and "class-weighted BCE" not in everything
    assert "The PHQ-8 score (0–24)" in _answer(items, "8a")
    model = _answer(items, "12c")
    assert "Huber loss on the standardised score" in model and "inner-validation loss" in model
    assert "clipped to 0–24" in model and "≥ 10" in model
    assert "predicted PHQ-8 score" in _answer(items, "15")
    perf = _answer(items, "23a", "discrimination and calibration")
    mae = m["regression"]["mae"]
    assert f"MAE {mae['mean']:.2f} ± {mae['std']:.2f}".replace("-", "−") in perf and "corrected resampled t" in perf
