"""The shuffled-label sanity run: labels permuted among the training participants only (test labels
untouched, class counts kept, a different permutation per seed), everything fitted in the fold sees
only those, its run folders and configurations never collide with the real run, and on a corpus
with a planted cue its macro-F1 sits within the stratified-random baseline's interval while the
real run lies above it."""
import json

import numpy as np
import pytest
import torch

from conftest import encoded, tree_digest
from pseudoface.learning import cv as cvmod
from pseudoface.learning import fold as foldmod
from pseudoface.learning import runs, sanity
from pseudoface.learning import task as taskmod
from pseudoface.learning.baselines import BASELINES
from pseudoface.params import SMOKE, ParamsError, params_from_dict

FAST = list(SMOKE) + ["train.epochs=2", "train.patience=2", "cv.folds=3", "cv.bootstrap=50"]


def _params(root, extra=()):
    return params_from_dict({"dataset": "synthetic", "data": {"root": str(root), "min_valid_seconds": 5}},
                            FAST + list(extra))


def test_training_labels_are_permuted_among_the_training_participants_only():
    ids = [f"{300 + i}" for i in range(30)]
    truth = {p: int(i % 3 == 0) for i, p in enumerate(ids)}
    train, test = ids[:21], ids[21:]
    real = params_from_dict({})
    assert taskmod.BinaryTask().training_targets(truth, train, real, 0, 0) is truth  # the real run: the true labels
    seen = []
    for k in (1, 2, 3):
        labels = taskmod.BinaryTask().training_targets(truth, train, params_from_dict({}, [f"cv.label_permutation={k}"]), 0, 1)
        assert {p: labels[p] for p in test} == {p: truth[p] for p in test}  # test labels untouched
        assert sorted(labels[p] for p in train) == sorted(truth[p] for p in train)  # class counts kept
        seen.append(tuple(labels[p] for p in train))
    assert len(set(seen)) == 3 and all(s != tuple(truth[p] for p in train) for s in seen)  # one per seed
    again = taskmod.BinaryTask().training_targets(truth, train, params_from_dict({}, ["cv.label_permutation=1"]), 0, 1)
    assert tuple(again[p] for p in train) == seen[0]  # reproducible
    other_fold = taskmod.BinaryTask().training_targets(truth, train, params_from_dict({}, ["cv.label_permutation=1"]), 0, 2)
    assert tuple(other_fold[p] for p in train) != seen[0]


def test_everything_fitted_in_the_fold_sees_the_permuted_labels_and_test_rows_the_true_ones(synth_root, monkeypatch):
    params = _params(synth_root, ["cv.label_permutation=1"])
    enc = encoded(params)
    truth = dict(zip(enc.table.participant_id, enc.table.label))
    f, train_ids, test_ids = foldmod.outer_splits(enc.table, params, 0)[0]
    permuted = taskmod.BinaryTask().training_targets(truth, train_ids, params, 0, f)
    assert any(permuted[p] != truth[p] for p in train_ids)
    fitted = []
    real_train, real_feature, real_fit = foldmod.train_model, taskmod.fit_feature_model, taskmod.fit_predict

    def train_model(images, labels, inner_train, inner_val, *a, **k):
        fitted.append(("network", {p: labels[p] for p in inner_train + inner_val}))
        return real_train(images, labels, inner_train, inner_val, *a, **k)

    def fit_feature_model(train, *a, **k):
        fitted.append(("feature model", dict(zip(train.participant_id, train.label))))
        return real_feature(train, *a, **k)

    def fit_predict(name, train, *a, **k):
        fitted.append((name, dict(zip(train.participant_id, train.label))))
        return real_fit(name, train, *a, **k)
    monkeypatch.setattr(foldmod, "train_model", train_model)
    monkeypatch.setattr(taskmod, "fit_feature_model", fit_feature_model)
    monkeypatch.setattr(taskmod, "fit_predict", fit_predict)
    result = foldmod.run_fold(enc, params, 0, f, train_ids, test_ids, torch.device("cpu"))
    assert len(fitted) == 2 + len(BASELINES)
    for name, labels in fitted:
        assert labels == {p: permuted[p] for p in train_ids}, name
    assert set(result["inner_train_ids"]) | set(result["inner_val_ids"]) == set(train_ids)
    assert result["train_labels"] == [permuted[p] for p in train_ids] and result["label_permutation"] == 1
    assert [r["label"] for r in result["predictions"]] == [truth[p] for p in test_ids]  # scored on the truth


def test_shuffled_runs_never_share_a_configuration_or_folder_with_the_real_run(tmp_path, synth_root):
    real = _params(synth_root, ["cv.repeats=2"])
    shuffled = [sanity.shuffled_params(real, k) for k in (1, 2)]
    hashes = {runs.config_hash(p) for p in [real, *shuffled]}
    assert len(hashes) == 3
    # how many sanity runs follow a run is not part of its configuration
    assert runs.config_hash(params_from_dict(real.to_dict(), ["cv.shuffled_labels=3"])) == runs.config_hash(real)
    s = shuffled[0]
    assert (s.cv.label_permutation, s.cv.shuffled_labels, s.cv.repeats) == (1, 0, 1)
    assert s.model == real.model and s.train == real.train and s.encode == real.encode  # the same network
    assert cvmod.encoding_key(s) == cvmod.encoding_key(real)
    # the first repeat's outer folds are the real run's
    enc = encoded(real)
    assert foldmod.outer_splits(enc.table, s, 0) == foldmod.outer_splits(enc.table, real, 0)
    run_dir = tmp_path / "run"
    assert sanity.shuffled_dir(run_dir, 1) == run_dir / "shuffled" / "1"
    runs.open_run_folder(run_dir, real, resume=False, replace=False)
    with pytest.raises(ParamsError, match="another configuration"):
        runs.open_run_folder(run_dir, s, resume=False, replace=False)
    assert not runs.holds_config(run_dir, s)
    with pytest.raises(ParamsError, match="label_permutation"):
        params_from_dict({}, ["cv.shuffled_labels=2", "cv.label_permutation=1"])
    with pytest.raises(ParamsError, match=r"cv\.shuffled_labels: expected 0 or more"):
        params_from_dict({}, ["cv.shuffled_labels=-1"])


@pytest.mark.slow
def test_shuffled_macro_f1_sits_within_the_random_interval_while_the_real_run_is_above(tmp_path, monkeypatch):
    """40 participants with the default cue (amplitude, strength 0.45): every model of the real run
    lies above the stratified-random baseline's 95% interval, the same models on shuffled training
    labels (3 permutations) within it. A permutation that leaked labels (the true ones) would put
    the shuffled runs where the real one is, above the interval."""
    from pseudoface.corpora.synthetic import write_corpus
    root = write_corpus(tmp_path / "corpus", participants=40, seconds=40, seed=7, strength=0.9)
    params = _params(root, ["train.epochs=3", "train.patience=3", "cv.bootstrap=200", "cv.shuffled_labels=3"])
    enc = encoded(params)
    run_dir = tmp_path / "run"
    [(real, _)] = cvmod.cross_validate([cvmod.RunSpec(params, run_dir, enc)], progress=False)
    own = ("run.json", "metrics.json", "predictions.csv", "history.csv", "participants.csv", "folds", "checkpoints")
    before = {name: tree_digest(run_dir / name) if (run_dir / name).is_dir() else (run_dir / name).read_bytes()
              for name in own}
    summary = sanity.run_shuffled(params, run_dir, enc=enc)
    low, high = summary["stratified_random"]["ci95_corrected_t"]
    assert [low, high] == real["baselines"]["stratified_random"]["macro_f1"]["ci95_corrected_t"]
    for name, model in summary["models"].items():
        assert model["real_first_repeat"] > high, name  # the planted cue is found on the true labels
        assert low <= model["shuffled_mean"] <= high, name
        assert not model["possible_leakage"] and len(model["shuffled"]) == 3
    assert not summary["possible_leakage"] and summary["permutations"] == 3
    assert all(-1 < p["label_correlation"] < 1 for p in summary["per_permutation"])
    assert sanity.load_sanity(run_dir) == json.loads(json.dumps(summary))
    # the real run's own files are untouched; each permutation is its own run of its own configuration
    assert before == {name: tree_digest(run_dir / name) if (run_dir / name).is_dir() else (run_dir / name).read_bytes()
                      for name in own}
    for k in (1, 2, 3):
        folder = sanity.shuffled_dir(run_dir, k)
        assert runs.run_matches(folder, sanity.shuffled_params(params, k), enc.fingerprint)
        assert not runs.run_matches(folder, params) and not runs.run_matches(run_dir, sanity.shuffled_params(params, k))
        preds = runs.load_run(folder)[1]
        assert (preds.label.to_numpy() == enc.table.set_index("participant_id").loc[preds.participant_id].label.to_numpy()).all()
    assert runs.run_matches(run_dir, params, enc.fingerprint)
    # finished permutations are read back, never trained again
    monkeypatch.setattr(foldmod, "run_fold", lambda *a, **k: pytest.fail("a finished shuffled run was retrained"))
    again = sanity.run_shuffled(params, run_dir, enc=enc)
    assert all(p["reused"] for p in again["per_permutation"])
    assert again["models"] == summary["models"]


def test_a_run_that_trains_again_drops_the_summaries_of_the_run_it_replaces(tmp_path, synth_root):
    params = _params(synth_root)
    run_dir = tmp_path / "run"
    runs.open_run_folder(run_dir, params, resume=False, replace=False)
    for name in runs.DERIVED:
        (run_dir / name).write_text("{}")
    runs.open_run_folder(run_dir, params, resume=False, replace=False)
    assert not any((run_dir / name).exists() for name in runs.DERIVED)
    assert sanity.load_sanity(run_dir) is None


def test_sanity_summary_flags_a_shuffled_score_above_the_random_interval():
    def metrics(network, fused, feature, k=0):
        fold = [{"repeat": 0, "fold": 0}, {"repeat": 0, "fold": 1}]
        summary = lambda v: {"macro_f1": {"mean": v, "folds": [v, v], "ci95_corrected_t": [0.4, 0.6]}}
        return {**summary(network), "fold_details": fold, "fused_model": summary(fused), "seconds": 2.0,
                "baselines": {"feature_model": summary(feature), "stratified_random": summary(0.5)},
                "config": {"cv": {"repeats": 1, "folds": 2, "protocol": "cv", "label_permutation": k}},
                "config_hash": f"h{k}", "code_version": "v", "data_fingerprint": "d"}
    real = metrics(0.8, 0.8, 0.8)
    quiet = sanity.sanity_summary(real, [metrics(0.5, 0.45, 0.55, 1), metrics(0.52, 0.5, 0.5, 2)], [False, True])
    assert not quiet["possible_leakage"] and quiet["models"]["network"]["shuffled_mean"] == pytest.approx(0.51)
    assert quiet["models"]["network"]["gap"] == pytest.approx(0.29) and quiet["seconds"] == 4.0
    assert [p["folder"] for p in quiet["per_permutation"]] == ["shuffled/1", "shuffled/2"]
    leaky = sanity.sanity_summary(real, [metrics(0.5, 0.7, 0.5, 1)], [False], [0.25])
    assert leaky["possible_leakage"] and leaky["models"]["fused_model"]["possible_leakage"]
    from pseudoface.learning.sanity import sanity_sentence
    assert "possible leakage: the fused model" in sanity_sentence(leaky) and "0.25" in sanity_sentence(leaky)
    assert "no sign of leakage" in sanity_sentence(quiet)
    from pseudoface.learning.sanity import sanity_brief  # issue 31.12: singular and plural, never "(s)"
    for text in (sanity_sentence(leaky), sanity_sentence(quiet), sanity_brief(leaky), sanity_brief(quiet)):
        assert "(s)" not in text
    assert "(1 permutation of" in sanity_sentence(leaky) and "(2 permutations of" in sanity_sentence(quiet)
    assert "the fused model on shuffled labels lies above" in sanity_sentence(leaky)
    assert not leaky["models"]["network"]["possible_leakage"]
    assert np.isclose(leaky["stratified_random"]["ci95_corrected_t"], [0.4, 0.6]).all()
