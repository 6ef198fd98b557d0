"""model.task: regression (issue 25): the AVEC metrics, the mean baseline, clipping, label errors and
one regression run end to end on a small synthetic corpus."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import mean_absolute_error, mean_squared_error

from conftest import encoded
from pseudoface.learning import fold as foldmod
from pseudoface.learning.baselines import predict_score
from pseudoface.learning.cv import RunSpec, cross_validate
from pseudoface.learning.evaluate import ccc, mae, pearson, regression_summary, rmse
from pseudoface.corpora.labels import regression_labels
from pseudoface.params import SMOKE, ParamsError, params_from_dict
from pseudoface.corpora.read import load_corpus
from pseudoface.corpora.synthetic import write_corpus
from pseudoface.corpora.textio import DataError
from pseudoface.learning.task import predicted_score, score_scale

TRUE = np.array([0.0, 3, 5, 8, 10, 12, 15, 20, 24])


def test_ccc_is_one_for_identity_and_below_r_for_a_shifted_prediction():
    assert ccc(TRUE, TRUE) == pytest.approx(1.0)
    shifted = TRUE + 3
    assert pearson(TRUE, shifted) == pytest.approx(1.0)
    # a shift c leaves cov = var t = var p = s2, so CCC = 2 s2 / (2 s2 + c^2): here s2 = 4478/81
    # (population variance of TRUE), c = 3, CCC = 8956 / 9685
    assert ccc(TRUE, shifted) == pytest.approx(8956 / 9685, rel=1e-12)
    # worked by hand, population moments (AVEC's): t = 0, 2, 4 and p = 2, 3, 4 have cov 4/3,
    # var t 8/3, var p 2/3 and means 2 and 3, so CCC = (8/3) / (8/3 + 2/3 + 1) = 8/13
    # (sample moments would give 2 * 2 / (4 + 1 + 1) = 2/3)
    assert ccc([0, 2, 4], [2, 3, 4]) == pytest.approx(8 / 13, rel=1e-12)
    assert ccc(TRUE, shifted) < pearson(TRUE, shifted)
    noisy = TRUE + np.array([1.0, -2, 0.5, 3, -1, 2, -3, 1, 0])
    assert ccc(TRUE, noisy) < pearson(TRUE, noisy) <= 1
    assert np.isnan(pearson(TRUE, np.full(len(TRUE), TRUE.mean())))  # a mean predictor has no r
    assert ccc(TRUE, np.full(len(TRUE), TRUE.mean())) == pytest.approx(0.0)


def test_rmse_and_mae_match_scikit_learn():
    rng = np.random.default_rng(0)
    pred = np.clip(TRUE + rng.normal(0, 4, len(TRUE)), 0, 24)
    assert rmse(TRUE, pred) == pytest.approx(np.sqrt(mean_squared_error(TRUE, pred)))
    assert mae(TRUE, pred) == pytest.approx(mean_absolute_error(TRUE, pred))


def test_summary_has_fold_mean_sd_pooled_and_interval():
    frame = pd.DataFrame({"repeat": 0, "fold": [0] * 5 + [1] * 4, "true_score": TRUE,
                          "predicted_score": TRUE[::-1]})
    s = regression_summary(frame, 50, 0)
    assert set(s) == {"rmse", "mae", "ccc", "pearson"}
    folds = [mae(TRUE[:5], TRUE[::-1][:5]), mae(TRUE[5:], TRUE[::-1][5:])]
    assert s["mae"]["folds"] == pytest.approx(folds)
    assert s["mae"]["std"] == pytest.approx(np.std(folds, ddof=1))
    assert s["mae"]["pooled"]["0"] == pytest.approx(mae(TRUE, TRUE[::-1]))
    assert len(s["ccc"]["ci95_pooled_bootstrap"]) == 2 and len(s["ccc"]["ci95_corrected_t"]) == 2


def test_mean_baseline_uses_the_training_fold_only():
    train = pd.DataFrame({"phq_score": [2.0, 4, 6, 20]})
    test = pd.DataFrame({"phq_score": [0.0, 24]})
    a = predict_score("mean", train, test, [], 0)
    test["phq_score"] = [24.0, 24]  # other test scores: the same prediction
    assert predict_score("mean", train, test, [], 0).tolist() == a.tolist() == [8.0, 8.0]
    assert predict_score("median", train, test, [], 0).tolist() == [5.0, 5.0]


def test_predicted_scores_are_clipped_to_0_24():
    scale = score_scale(np.array([0.0, 5, 10, 20]))
    out = predicted_score(np.array([-50.0, 0.0, 50.0]), scale)
    assert out[0] == 0.0 and out[2] == 24.0 and 0 < out[1] < 24


def _labels(scores, binary=None, source="train_split_Depression_AVEC2017.csv"):
    n = len(scores)
    return pd.DataFrame({"participant_id": [str(300 + i) for i in range(n)], "split": "train",
                         "phq_score": scores, "file_binary": binary if binary is not None else [np.nan] * n,
                         "label": -1, "gender": "female", "source": [f"{source}:{i + 2}" for i in range(n)]})


def test_bad_labels_are_one_line_errors_naming_the_file(tmp_path):
    with pytest.raises(DataError, match=r"train_split_Depression_AVEC2017.csv: line 3: PHQ-8 score 25 outside 0-24"):
        regression_labels(_labels([3.0, 25.0]), tmp_path)
    with pytest.raises(DataError, match=r"labels.csv: no PHQ-8 score"):
        regression_labels(_labels([np.nan, np.nan], [0.0, 1.0], "labels.csv"), tmp_path)
    ok = regression_labels(_labels([3.0, np.nan, 12.0], [0.0, 1.0, 1.0]), tmp_path)
    assert ok.label.tolist() == [0, -1, 1]  # a participant without a score leaves the run


def test_a_labels_file_without_scores_fails_a_regression_run_and_never_falls_back(tmp_path):
    root = write_corpus(tmp_path / "corpus", participants=8, seconds=20, seed=5)
    for f in root.glob("*split*.csv"):
        table = pd.read_csv(f)
        table.drop(columns=[c for c in table.columns if c in ("PHQ8_Score", "PHQ_Score")]).to_csv(f, index=False)
    binary = params_from_dict({"dataset": "synthetic", "data": {"root": str(root), "label_rule": "file_binary",
                                                                "min_valid_seconds": 5}})
    regression = params_from_dict(binary.to_dict(), ["model.task=regression"])
    with pytest.raises(DataError, match="PHQ8_Score|no PHQ-8 score"):
        load_corpus(regression)


def test_a_participant_without_a_score_is_counted_in_the_flow(synth_root, monkeypatch):
    """DAIC-WOZ and E-DAIC files with labels always carry a score (an empty cell is an error); an
    openface labels.csv may give a label without one: such a row leaves a regression run at 'labelled'."""
    from pseudoface.corpora import daic
    original = daic.read_labels

    def one_without_score(labels_dir, params):
        labels, disagreements = original(labels_dir, params)
        labels.loc[0, "phq_score"] = np.nan
        return labels, disagreements
    monkeypatch.setattr(daic, "read_labels", one_without_score)
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(synth_root), "min_valid_seconds": 5}},
                              ["model.task=regression"])
    corpus = load_corpus(params)
    pid = corpus.labels.participant_id[0]
    assert pid not in corpus.sessions
    assert any(p == pid and step == "labelled" and "no PHQ-8 score" in why for p, step, why in corpus.flow.dropped)


def test_regression_rejects_platt_calibration():
    with pytest.raises(ParamsError, match="train.calibration"):
        params_from_dict({}, ["model.task=regression", "train.calibration=platt"])


def test_regression_fold_uses_the_binary_folds(synth_root):
    base = ["dataset=synthetic", f"data.root={synth_root}", *SMOKE, "train.device=cpu"]
    binary, regression = params_from_dict({}, base), params_from_dict({}, base + ["model.task=regression"])
    a, b = encoded(binary), encoded(regression)
    assert [s[1:] for s in foldmod.outer_splits(a.table, binary, 0)] == \
        [s[1:] for s in foldmod.outer_splits(b.table, regression, 0)]
    f, train_ids, test_ids = foldmod.outer_splits(b.table, regression, 0)[0]
    r = foldmod.run_fold(b, regression, 0, f, train_ids, test_ids, torch.device("cpu"))
    values = [p["predicted_score"] for p in r["predictions"]]
    assert all(0 <= v <= 24 for v in values) and r["task"] == "regression"
    assert [p["prediction"] for p in r["predictions"]] == [int(v >= 10) for v in values]
    assert set(r["regression_baselines"]) == {"mean", "median", "ridge"}


def test_both_tasks_keep_one_meaning_for_score_threshold_and_the_checkpoint_rule(synth_root, tmp_path):
    """The task type owns the decision rule: in either task a fold's ``threshold`` is the cut on
    its rows' ``score`` column (the regression fold once stored the PHQ-8 cut-off, 10, beside rows
    cut at 10/24), every row's prediction is score >= threshold, and the rule a checkpoint keeps
    gives the fold's own screen back."""
    from pseudoface.learning import runs
    from pseudoface.learning.task import task_named
    from pseudoface.learning.train import score
    base = ["dataset=synthetic", f"data.root={synth_root}", *SMOKE, "train.device=cpu"]
    for task in ("binary", "regression"):
        params = params_from_dict({}, base + [f"model.task={task}"])
        enc = encoded(params)
        f, train_ids, test_ids = foldmod.outer_splits(enc.table, params, 0)[0]
        r = foldmod.run_fold(enc, params, 0, f, train_ids, test_ids, torch.device("cpu"))
        assert r["task"] == task and 0 < r["threshold"] < 1, (task, r["threshold"])
        assert all(p["threshold"] == r["threshold"] for p in r["predictions"]), task
        assert all(p["prediction"] == int(p["score"] >= p["threshold"]) for p in r["predictions"]), task
        state = r["state"]
        runs.save_fold(tmp_path / task, dict(r))
        blob = torch.load(tmp_path / task / runs.CHECKPOINTS / f"r0_f{f}.pt", weights_only=True)
        rule = task_named(blob["meta"]["task"]).rule_from(blob["meta"])
        from pseudoface.learning.model import model_from_params
        net = model_from_params(params.model, next(iter(enc.images.values())).shape[1:])
        net.load_state_dict(state)
        screen = rule.screen(score(net, enc.images, test_ids, params, torch.device("cpu")))
        assert screen["prediction"] == [p["prediction"] for p in r["predictions"]], task
        assert screen["score"] == pytest.approx([p["score"] for p in r["predictions"]]), task


@pytest.mark.slow
def test_regression_run_end_to_end_beats_the_mean_predictor(tmp_path, capsys):
    root = write_corpus(tmp_path / "corpus", participants=40, seconds=60, seed=0)
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(root)}},
                              ["model.task=regression", "cv.folds=3", "cv.bootstrap=50", "train.epochs=12",
                               "train.patience=4", "train.device=cpu"])
    [(m, _)] = cross_validate([RunSpec(params, tmp_path / "run", encoded(params))], progress=False)
    assert m["task"] == "regression"
    pred = pd.read_csv(tmp_path / "run" / "predictions.csv")
    for col in ("true_score", "predicted_score", "feature_predicted_score", "fused_predicted_score", "prediction"):
        assert col in pred
    assert pred.predicted_score.between(0, 24).all()
    stored = json.loads((Path(tmp_path) / "run" / "metrics.json").read_text())
    assert stored["regression"]["mae"]["mean"] == pytest.approx(m["regression"]["mae"]["mean"])
    assert m["regression"]["mae"]["mean"] < m["regression_baselines"]["mean"]["mae"]["mean"]
    # predict reads the run's task from its checkpoints: PHQ-8 scores and their screens at >= 10
    from pseudoface.cli import main
    assert main(["predict", "--run", str(tmp_path / "run"), str(root / "300_P")]) == 0
    header, line = capsys.readouterr().out.strip().splitlines()[-2:]
    assert header == "participant,predicted_score,prediction,fused_predicted_score,fused_prediction"
    pid, value, screen, fused, fused_screen = line.split(",")
    assert pid == "300" and 0 <= float(value) <= 24 and 0 <= float(fused) <= 24
    assert int(screen) == int(float(value) >= 10) and int(fused_screen) == int(float(fused) >= 10)


def test_binary_and_regression_runs_never_share_an_encoded_corpus():
    """The task decides which participants a corpus keeps (a regression run drops those without a
    score) and their labels: two runs that differ only in the task do not share one encoding."""
    from pseudoface.learning.cv import encoding_key
    binary, regression = params_from_dict({}), params_from_dict({}, ["model.task=regression"])
    assert encoding_key(binary) != encoding_key(regression)
    assert encoding_key(binary) == encoding_key(params_from_dict({}, ["train.epochs=3"]))
