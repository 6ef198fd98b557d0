"""The TRIPOD+AI reporting items of a run: every item answered or left to the researcher, answers
computed from the run's own files (change a file, the answer changes), no local path and no
per-participant value unless allowed, the sanity item read from sanity.json."""
import json
import re
import shutil

import pytest

from conftest import encoded, make_params
from pseudoface import reporting, runs, sanity
from pseudoface.cli import main
from pseudoface.params import project_root
from pseudoface.privacy import private_paths


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
