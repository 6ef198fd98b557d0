"""The cross-corpus protocol (cv.protocol: cross_corpus): two corpora joined with no person on both
sides, every choice made on the training corpus, the label-free adaptation, the transfer summary and
its page; the params that switch it on."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pseudoface.corpora.synthetic import write_corpus
from pseudoface.corpora.textio import DataError
from pseudoface.encoding import pairing
from pseudoface.learning import fold, runs, transfer
from pseudoface.learning.evaluate import macro_f1
from pseudoface.learning.intervals import paired_bootstrap_ci
from pseudoface.params import ParamsError, load_params, params_from_dict

SMOKE = ["train.epochs=1", "train.patience=1", "train.clips_per_participant=1", "cv.folds=2", "cv.bootstrap=200"]


@pytest.fixture(scope="module")
def two_corpora(tmp_path_factory):
    """Two E-DAIC-layout corpora of other people (ids from 300 and from 600) but three: 600-602 of the
    second corpus are written again as 300-302 (the same ids as in the first: "the same person")."""
    base = tmp_path_factory.mktemp("pair")
    a = write_corpus(base / "a", participants=16, seconds=40, seed=1, fmt="e_daic")
    b = write_corpus(base / "b", participants=16, seconds=40, seed=2, fmt="e_daic", first_id=600)
    for old, new in zip((600, 601, 602), (300, 301, 302)):
        folder = b / f"{old}_P"
        (folder / "features" / f"{old}_OpenFace2.1.0_Pose_gaze_AUs.csv").rename(
            folder / "features" / f"{new}_OpenFace2.1.0_Pose_gaze_AUs.csv")
        folder.rename(b / f"{new}_P")
    for split in b.glob("*_split.csv"):
        lines = split.read_text().splitlines()
        split.write_text("\n".join([lines[0]] + [{"600": "300", "601": "301", "602": "302"}.get(
            line.split(",")[0], line.split(",")[0]) + line[len(line.split(",")[0]):] for line in lines[1:]]) + "\n")
    return a, b


def cross_params(a, b, *extra):
    return load_params(None, ["dataset=e_daic", f"data.root={a}", "data.signals=shared_series", "data.min_valid_seconds=5",
                              "data.test_dataset=e_daic", f"data.test_root={b}", "cv.protocol=cross_corpus", *SMOKE, *extra])


def test_params_say_what_a_cross_corpus_run_needs(tmp_path):
    with pytest.raises(ParamsError, match="data.test_root: cv.protocol: cross_corpus needs"):
        load_params(None, ["cv.protocol=cross_corpus", "data.signals=shared_series"])
    with pytest.raises(ParamsError, match="data.test_root: set only with cv.protocol: cross_corpus"):
        load_params(None, [f"data.test_root={tmp_path}", "data.test_dataset=e_daic"])
    with pytest.raises(ParamsError, match="needs the input both corpora share"):
        load_params(None, ["cv.protocol=cross_corpus", f"data.test_root={tmp_path}", "data.test_dataset=e_daic"])
    with pytest.raises(ParamsError, match="cv.overlap: training acts under cv.protocol: cross_corpus only"):
        load_params(None, ["cv.overlap=training"])
    with pytest.raises(ParamsError, match="cv.adaptation: standardise acts under"):
        load_params(None, ["cv.adaptation=standardise"])
    with pytest.raises(ParamsError, match="full_series is E-DAIC's"):
        load_params(None, ["dataset=daic_woz", "data.signals=full_series"])


def test_participants_in_both_corpora_leave_one_side_and_are_counted(two_corpora):
    a, b = two_corpora
    enc = pairing.encode_pair(cross_params(a, b))
    side = enc.table.set_index("participant_id").corpus
    assert {"300", "301", "302"} <= set(side[side == "training"].index)
    assert not {"300", "301", "302"} & set(side[side == "test"].index)  # no person on both sides
    assert (side == "training").sum() == 16 and (side == "test").sum() == 13
    assert enc.corpus.flow.counts["in both corpora: left the test side"] == 3
    assert sorted(p for p, step, _ in enc.corpus.flow.dropped if step == "in both corpora") == ["300", "301", "302"]
    # the other side loses them when cv.overlap says so
    enc = pairing.encode_pair(cross_params(a, b, "cv.overlap=training"))
    side = enc.table.set_index("participant_id").corpus
    assert (side == "training").sum() == 13 and (side == "test").sum() == 16
    assert not {"300", "301", "302"} & set(side[side == "training"].index)
    # one outer fold: train on one corpus, score the other
    [(f, train_ids, test_ids)] = fold.outer_splits(enc.table, cross_params(a, b), 0)
    assert set(train_ids) == set(side[side == "training"].index) and set(test_ids) == set(side[side == "test"].index)


def test_a_corpus_left_without_both_classes_or_another_input_is_one_clear_error(two_corpora, tmp_path):
    a, b = two_corpora
    with pytest.raises(DataError, match="the test corpus keeps 0 participant"):
        pairing.encode_pair(cross_params(a, a))  # every participant is in both: nothing left to test
    with pytest.raises(DataError, match="differs from the training corpus's"):
        pairing._check_same_input(pairing.encode_pair(cross_params(a, b)),
                                  type("E", (), {"images": {"1": np.zeros((1, 2, 31, 60))}, "feature_cols": []})(),
                                  (str(a), str(b)))


def test_the_adaptation_reads_the_test_inputs_never_their_labels(two_corpora, tmp_path):
    a, b = two_corpora
    adapted = pairing.encode_pair(cross_params(a, b, "cv.adaptation=standardise"))
    plain = pairing.encode_pair(cross_params(a, b))
    test = adapted.table[adapted.table.corpus == "test"].participant_id
    train = adapted.table[adapted.table.corpus == "training"].participant_id
    mean = lambda enc, ids: np.concatenate([enc.images[p] for p in ids]).mean(axis=(0, 3))
    np.testing.assert_allclose(mean(adapted, test), mean(adapted, train), atol=1e-4)  # moved to the training corpus's
    assert not np.allclose(mean(plain, test), mean(plain, train), atol=1e-4)  # they differed before
    np.testing.assert_array_equal(adapted.images[train.iloc[0]], plain.images[train.iloc[0]])  # training untouched
    cols = adapted.feature_cols
    t = adapted.table
    np.testing.assert_allclose(t[t.corpus == "test"][cols].mean(), t[t.corpus == "training"][cols].mean(), atol=1e-6)
    # the test corpus's labels shuffled: the adapted inputs are exactly the same
    shuffled = tmp_path / "b"
    import shutil
    shutil.copytree(b, shuffled)
    for split in shuffled.glob("*_split.csv"):
        frame = pd.read_csv(split, dtype=str)
        frame["PHQ_Score"] = np.random.default_rng(0).permutation(frame["PHQ_Score"].to_numpy())
        frame.to_csv(split, index=False)
    again = pairing.encode_pair(cross_params(a, shuffled, "cv.adaptation=standardise"))
    for pid in test:
        np.testing.assert_array_equal(again.images[pid], adapted.images[pid])
    assert not again.table.set_index("participant_id").loc[list(test)].label.equals(
        adapted.table.set_index("participant_id").loc[list(test)].label)


def test_the_paired_gap_interval_resamples_participants_with_both_predictions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    good = np.where(rng.random(80) < 0.9, y, 1 - y)
    bad = rng.integers(0, 2, 80)
    lo, hi = paired_bootstrap_ci(y, good, bad, macro_f1, 500, 0)
    assert 0 < lo < macro_f1(y, good) - macro_f1(y, bad) < hi
    assert paired_bootstrap_ci(y, good, good, macro_f1, 200, 0) == [0.0, 0.0]  # the same predictions: no gap


@pytest.mark.slow
def test_a_transfer_runs_chooses_on_the_training_corpus_and_reports_the_gap(two_corpora, tmp_path):
    a, b = two_corpora
    params = cross_params(a, b)
    summary = transfer.run_transfer(params, tmp_path / "runs")
    assert json.loads((tmp_path / "runs" / transfer.TRANSFER_JSON).read_text())["version"] == transfer.TRANSFER_VERSION
    assert summary["training"]["n"] == 16 and summary["test"]["n"] == 13 and summary["in_both"] == 3
    cross = pd.read_csv(tmp_path / "runs" / "cross-none" / "predictions.csv", dtype={"participant_id": str})
    details = json.loads((tmp_path / "runs" / "cross-none" / "metrics.json").read_text())
    assert set(cross.participant_id) == {str(p) for p in range(603, 616)}  # the test corpus less 300-302
    record = json.loads((tmp_path / "runs" / "cross-none" / runs.FOLDS / "r0_f0.json").read_text())
    chosen_on = set(record["inner_train_ids"] + record["inner_val_ids"])  # epoch, threshold, calibration, fusion
    assert chosen_on == set(record["train_ids"]) and not chosen_on & set(cross.participant_id)
    assert {"300", "301", "302"} <= chosen_on  # the people in both corpora stayed on the training side
    within = pd.read_csv(tmp_path / "runs" / "within" / "predictions.csv", dtype={"participant_id": str})
    assert set(within.participant_id) >= set(cross.participant_id)  # the test corpus's own CV covers them
    for adaptation in transfer.ADAPTATIONS:
        models = summary["adaptations"][adaptation]["models"]
        for key, (decision, _) in transfer.MODELS.items():
            y = cross.set_index("participant_id").label
            c = pd.read_csv(tmp_path / "runs" / f"cross-{adaptation}" / "predictions.csv", dtype={"participant_id": str}).set_index("participant_id")
            w = within[within.repeat == 0].set_index("participant_id").loc[c.index]
            assert models[key]["cross"]["macro_f1"] == pytest.approx(macro_f1(c.label, c[decision]))
            assert models[key]["gap"]["macro_f1"] == pytest.approx(macro_f1(c.label, w[decision]) - macro_f1(c.label, c[decision]))
            lo, hi = models[key]["gap"]["ci95_pooled_bootstrap"]
            assert lo <= models[key]["gap"]["macro_f1"] <= hi
        assert set(summary["adaptations"][adaptation]["baselines"]) >= {"majority", "stratified_random"}
    assert details["protocol"] == "cross_corpus" and len(details["fold_details"]) == 1


def test_the_transfer_page_says_what_transferred():
    from pseudoface.site import transfer_page
    interval = lambda v: {"macro_f1": v, "ci95_pooled_bootstrap": [v - 0.1, v + 0.1]}
    model = lambda c, w: {"cross": interval(c) | {"roc_auc": 0.7, "predicted_positive_rate": 0.4},
                          "within": interval(w) | {"roc_auc": 0.8}, "gap": interval(w - c)}
    adaptation = {"models": {"network": model(0.50, 0.60), "feature_model": model(0.80, 0.85), "fused_model": model(0.75, 0.80)},
                  "baselines": {"majority": interval(0.40), "stratified_random": interval(0.55)},
                  "n_test": 40, "n_test_depressed": 12, "seconds": 3.0, "best_epoch": 2}
    s = {"version": 1, "bootstrap": 1000, "adaptations": {"none": adaptation, "standardise": adaptation},
         "dataset": "daic_woz", "synthetic": False, "training": {"dataset": "daic_woz", "n": 189},
         "test": {"dataset": "e_daic", "n": 40}, "in_both": 189, "overlap_side": "test",
         "participant_flow": {"training corpus: usable": 189}, "problems": [],
         "within_cv": {"folds": 5, "repeats": 1, "n": 275, "seconds": 1.0, "network": 0.6, "feature_model": 0.8, "fused_model": 0.8},
         "input": [2, 27, 60], "model_parameters": 1000, "config": {}, "stamp": {"report": "x"}}
    lead = transfer_page.lead_sentence(s)
    assert lead == "Transferred: motion-feature model, fused model; not shown to transfer: network (CNN-LSTM)."
    text = " ".join(t for _, _, t in transfer_page.verdicts(s))
    assert "0.500 on the test corpus, not shown above the best trivial baseline (stratified random, 0.550)" not in text
    assert "0.500 on the test corpus, not above the best trivial baseline (stratified random, 0.550)" in text
    assert "a transfer gap of +0.100" in text
    body = transfer_page.transfer_body("daic_woz_to_e_daic", s)
    assert "DAIC-WOZ" in body and "E-DAIC" in body and "189 participants in both corpora" in body
    assert "Synthetic corpus." not in body  # the banner is the synthetic transfers' only
    assert "Synthetic corpus." in transfer_page.transfer_body("x", s | {"synthetic": True})
    assert not any(line.startswith((" ", "\t")) for line in body.splitlines())  # no indented HTML in Markdown


def test_daic_woz_runs_from_landmarks_or_from_the_shared_series_in_the_same_folds(synth_root, tmp_path):
    """The licensed corpora's comparison variant: the shared series in the default's folds. A variant
    reading other signals reads its own corpus even when the caller hands over the one it read."""
    from pseudoface.corpora.read import load_corpus
    from pseudoface.learning import cv
    from pseudoface.params import derive
    assert "pose, gaze and AU series shared by both corpora" in cv.comparison_variants(True, "daic_woz")
    assert "pose, gaze and AU series shared by both corpora" in cv.comparison_variants(False, "e_daic")
    assert "pose, gaze and AU series shared by both corpora" not in cv.comparison_variants(True, "synthetic")
    params = load_params(None, ["dataset=daic_woz", f"data.root={synth_root}", "data.min_valid_seconds=5", *SMOKE])
    [overrides] = cv.SHARED_SERIES_VARIANT.values()
    landmarks = load_corpus(params)
    specs = [cv.RunSpec(params, tmp_path / "main"), cv.RunSpec(derive(params, overrides), tmp_path / "series")]
    (main, _), (series, _) = cv.cross_validate(specs, progress=False, corpus=landmarks, read_with=params.data)
    assert main["inputs"] == "landmarks" and series["inputs"] == "series" and series["input_shape"][1] == 27
    folds = [pd.read_csv(tmp_path / run / "predictions.csv", dtype={"participant_id": str})[["fold", "participant_id"]]
             .sort_values("participant_id").reset_index(drop=True) for run in ("main", "series")]
    pd.testing.assert_frame_equal(*folds)  # the same outer folds


@pytest.mark.slow
def test_cv_on_a_cross_corpus_params_runs_the_transfer(two_corpora, tmp_path, capsys):
    from pseudoface.cli import main
    a, b = two_corpora
    (tmp_path / "pair.yaml").write_text(f"dataset: e_daic\ndata:\n  root: {a}\n  signals: shared_series\n"
                                        f"  test_dataset: e_daic\n  test_root: {b}\n  min_valid_seconds: 5\n"
                                        "cv:\n  protocol: cross_corpus\n")
    sets = [x for s in SMOKE for x in ("--set", s)]
    assert main(["cv", "--params", str(tmp_path / "pair.yaml"), "--out", str(tmp_path / "t"), *sets]) == 0
    out = capsys.readouterr().out
    assert "trained on e_daic (16 participants), scored once on e_daic (13); 3 in both corpora left the test side" in out
    assert out.count("    fused_model: ") == 2 and (tmp_path / "t" / "transfer.json").is_file()


@pytest.mark.slow
def test_both_shipped_params_files_run_on_licensed_like_corpora(tmp_path, monkeypatch):
    """params/daic_woz_to_e_daic.yaml and its reverse through `report`, on corpora laid out as the real
    ones (no synthetic marker; E-DAIC holding DAIC-WOZ participants under the same ids, 300-307, beside
    its own from 600): the forward transfer drops them from the test side, the reverse from training."""
    import shutil
    from pseudoface.site.report import run_report
    daic = write_corpus(tmp_path / "DAIC-WOZ", participants=16, seconds=40, seed=11)
    edaic = write_corpus(tmp_path / "E-DAIC", participants=20, seconds=40, seed=12, fmt="e_daic", first_id=600)
    shared = {str(600 + i): str(300 + i) for i in range(8)}
    for old, new in shared.items():
        (edaic / f"{old}_P" / "features" / f"{old}_OpenFace2.1.0_Pose_gaze_AUs.csv").rename(
            edaic / f"{old}_P" / "features" / f"{new}_OpenFace2.1.0_Pose_gaze_AUs.csv")
        (edaic / f"{old}_P").rename(edaic / f"{new}_P")
    for split in edaic.glob("*_split.csv"):
        lines = split.read_text().splitlines()
        split.write_text("\n".join([lines[0]] + [shared.get(l.split(",")[0], l.split(",")[0]) + l[l.index(","):]
                                                 for l in lines[1:]]) + "\n")
    for root in (daic, edaic):
        (root / "SYNTHETIC_CORPUS.txt").unlink()  # read as the licensed corpora are
    project = tmp_path / "project"
    shutil.copytree(Path(__file__).resolve().parents[1] / "params", project / "params")
    monkeypatch.setenv("DAIC_WOZ_ROOT", str(daic))
    monkeypatch.setenv("E_DAIC_ROOT", str(edaic))
    files = ["params/daic_woz_to_e_daic.yaml", "params/e_daic_to_daic_woz.yaml"]
    assert run_report(project, files, ["train.epochs=1", "train.patience=1", "cv.folds=2", "cv.bootstrap=50",
                                       "train.clips_per_participant=1", "data.min_valid_seconds=5"]) == []
    forward = json.loads((project / "reports" / "daic_woz_to_e_daic" / "transfer.json").read_text())
    reverse = json.loads((project / "reports" / "e_daic_to_daic_woz" / "transfer.json").read_text())
    assert (forward["training"]["n"], forward["test"]["n"], forward["in_both"]) == (16, 12, 8)
    assert (reverse["training"]["n"], reverse["test"]["n"], reverse["in_both"]) == (12, 16, 8)
    assert forward["overlap_side"] == "test" and reverse["overlap_side"] == "training"
    assert not forward["synthetic"] and forward["training"]["dataset"] == "daic_woz" and forward["test"]["dataset"] == "e_daic"
    for summary in (forward, reverse):
        text = json.dumps(summary)
        assert str(daic) not in text and str(edaic) not in text  # no local path published
