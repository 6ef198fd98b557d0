import json

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import encoded
from pseudoface.learning import cv as cvmod
from pseudoface.learning import fold as foldmod
from pseudoface.cli import main
from pseudoface.learning.model import CNNLSTM, count_parameters, model_from_params
from pseudoface.params import SMOKE, ParamsError, params_from_dict
from pseudoface.learning.runs import run_matches

FAST = list(SMOKE) + ["train.epochs=2", "train.patience=2", "cv.folds=3", "cv.bootstrap=50"]


def _params(root, extra=()):
    return params_from_dict({"dataset": "synthetic", "data": {"root": str(root)}}, FAST + list(extra))


def run_cv(params, out, enc, **spec):
    [(metrics, reused)] = cvmod.cross_validate([cvmod.RunSpec(params, out, enc, **spec)], progress=False)
    assert not reused
    return metrics


@pytest.fixture(scope="module")
def run(synth_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    params = _params(synth_root)
    metrics = run_cv(params, out, encoded(params))
    return out, metrics, params


def test_outer_and_inner_splits_are_grouped_and_disjoint(run):
    out, metrics, params = run
    seen = []
    for f in sorted((out / "folds").glob("*.json")):
        r = json.loads(f.read_text())
        assert not set(r["train_ids"]) & set(r["test_ids"])
        assert not set(r["inner_train_ids"]) & set(r["inner_val_ids"])
        assert set(r["inner_train_ids"]) | set(r["inner_val_ids"]) == set(r["train_ids"])
        seen += r["test_ids"]
    assert sorted(seen) == sorted(set(seen))  # no participant in two outer test folds
    assert len(seen) == metrics["n_participants"]


def test_outputs_and_metrics_schema(run):
    out, m, params = run
    for key in ("dataset", "protocol", "label_rule", "n_participants", "n_excluded", "config", "code_version",
                "versions", "data_fingerprint", "seed", "model_parameters"):
        assert key in m
    assert set(m["macro_f1"]) >= {"mean", "std", "folds", "ci95_corrected_t", "pooled", "ci95_pooled_bootstrap"}
    assert "ci95" not in m["macro_f1"]  # every interval is named by its estimator
    from pseudoface.site.results import headline_table
    on_disk = json.loads((out / "metrics.json").read_text())
    for metrics in (m, on_disk):  # same keys fresh and after the JSON round trip
        assert list(metrics["macro_f1"]["pooled"]) == ["0"]
        assert headline_table(metrics)["macro-F1 (mean over folds)"].notna().all()  # the JSON round trip keeps the fold values
    assert len(m["macro_f1"]["folds"]) == 3 and set(m["roc_auc"]) >= {"mean", "std"}
    assert set(m["baselines"]) == {"majority", "always_depressed", "stratified_random", "gender_only",
                                   "data_quality", "feature_model"}
    pred = pd.read_csv(out / "predictions.csv")
    assert list(pred.columns) == ["repeat", "fold", "participant_id", "label", "phq_score", "gender", "score",
                                  "threshold", "prediction", "feature_score", "feature_prediction", "fused_score", "fused_prediction"]
    # the fused model: its own row, a weight per fold from the inner-validation grid, paired with the yardstick
    from pseudoface.learning.fusion import WEIGHT
    assert set(m["fused_model"]) >= {"macro_f1", "roc_auc", "predicted_positive_rate", "weights", "calibration"}
    assert m["fused_model"]["weights"] == [WEIGHT] * 3
    d = m["differences"]["fused_minus_feature_model"]  # the mean of per-fold differences, corrected t
    assert set(d) == {"mean", "std", "folds", "ci95_corrected_t"} and "paired_fused_vs_feature_model" not in m
    np.testing.assert_allclose(d["folds"], np.subtract(m["fused_model"]["macro_f1"]["folds"],
                                                       m["baselines"]["feature_model"]["macro_f1"]["folds"]))
    feature = {r["participant_id"]: s for f in sorted((out / "folds").glob("*.json"))
               for r, s in zip(json.loads(f.read_text())["predictions"],
                               json.loads(f.read_text())["baselines"]["feature_model"]["score"])}
    np.testing.assert_allclose(pred.feature_score, [feature[p] for p in pred.participant_id.astype(str)])
    hist = pd.read_csv(out / "history.csv")
    assert {"repeat", "fold", "epoch", "train_loss", "val_loss"} <= set(hist.columns)
    # always-depressed macro-F1 is what arithmetic says it is
    prev = pred.label.mean()
    assert m["baselines"]["always_depressed"]["predicted_positive_rate"]["mean"] == 1.0
    assert m["baselines"]["always_depressed"]["macro_f1"]["mean"] < 0.5 * (2 * prev / (1 + prev)) + 0.05
    ckpt = next((out / "checkpoints").glob("*.pt"))
    blob = torch.load(ckpt, weights_only=True)
    model = model_from_params(params.model, m["input_shape"])
    model.load_state_dict(blob["state_dict"])  # strict: every tensor of the network, nothing else
    assert model.scaled and not torch.equal(model.input_scale, torch.ones_like(model.input_scale))  # fitted constants
    x = torch.zeros((1, params.model.clip_windows, *m["input_shape"]))
    assert torch.isfinite(model.eval()(x)).all() and 0 < blob["meta"]["threshold"] < 1


def test_test_fold_cannot_influence_choices(synth_root):
    """Changing the labels of the outer test participants changes no epoch, threshold or score."""
    params = _params(synth_root)
    prep = encoded(params)
    r, f, train_ids, test_ids = 0, *foldmod.outer_splits(prep.table, params, 0)[0]
    a = foldmod.run_fold(prep, params, r, f, train_ids, test_ids, torch.device("cpu"))
    flipped = prep.table.copy()
    flipped.loc[flipped.participant_id.isin(test_ids), "label"] ^= 1
    prep.table = flipped
    b = foldmod.run_fold(prep, params, r, f, train_ids, test_ids, torch.device("cpu"))
    assert a["best_epoch"] == b["best_epoch"] and a["threshold"] == b["threshold"]
    assert [p["score"] for p in a["predictions"]] == [p["score"] for p in b["predictions"]]


@pytest.mark.slow
def test_deterministic_and_resume(synth_root, tmp_path, run, monkeypatch):
    _, first, params = run
    enc = encoded(params)
    again = run_cv(params, tmp_path / "a", enc)
    assert again["macro_f1"]["folds"] == first["macro_f1"]["folds"]
    # simulate a crash after the first fold: keep only that fold's file, resume
    (tmp_path / "a" / "folds" / "r0_f1.json").unlink()
    (tmp_path / "a" / "folds" / "r0_f2.json").unlink()
    calls = []
    real = foldmod.run_fold
    monkeypatch.setattr(foldmod, "run_fold", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    resumed = run_cv(params, tmp_path / "a", enc, resume=True)
    assert calls == [1, 2] and resumed["macro_f1"]["folds"] == first["macro_f1"]["folds"]


def test_spec_reuses_only_a_matching_finished_run(run, monkeypatch):
    """``reuse`` reads a finished run of the same configuration back and trains nothing."""
    out, first, params = run
    monkeypatch.setattr(foldmod, "run_fold", lambda *a, **k: pytest.fail("a reused run trained a fold"))
    [(metrics, reused)] = cvmod.cross_validate([cvmod.RunSpec(params, out, encoded(params), reuse=True)],
                                               progress=False)
    assert reused and metrics["macro_f1"] == first["macro_f1"]


def test_official_protocol_splits(synth_root):
    params = _params(synth_root, ["cv.protocol=official"])
    prep = encoded(params)
    folds = foldmod.outer_splits(prep.table, params, 0)
    split = dict(zip(prep.table.participant_id, prep.table.split))
    assert {split[p] for p in folds[0][1]} == {"train"} and {split[p] for p in folds[0][2]} == {"dev"}
    assert {split[p] for p in folds[1][2]} == {"test"}


def test_predict_cli(run, synth_root, capsys):
    out, _, _ = run
    assert main(["predict", "--run", str(out), str(synth_root / "300_P")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "participant,score,prediction,fused_score,fused_prediction" and lines[1].startswith("300,")


@pytest.mark.slow
def test_default_synthetic_model_beats_random_and_does_not_collapse(tmp_path):
    """The embedded default, as `make report` runs it (smaller corpus, same training settings)."""
    from pseudoface.params import load_params
    from pseudoface.corpora.synthetic import write_corpus
    root = write_corpus(tmp_path / "c", participants=40, seconds=60, seed=0)
    params = load_params("params/synthetic.yaml", [f"data.root={root}", "cv.bootstrap=100"])
    m = run_cv(params, tmp_path / "run", encoded(params))
    # the headline model (the fused one) beats chance; the session network alone is at chance on this
    # small corpus with make report's short budget (docs/results.md), but must not collapse
    assert m["fused_model"]["macro_f1"]["mean"] > m["baselines"]["stratified_random"]["macro_f1"]["mean"]
    for model in (m, m["fused_model"]):
        assert 0.05 < model["predicted_positive_rate"]["mean"] < 0.95


def test_validation_clip_subsample_is_even_and_only_when_asked():
    from pseudoface.learning.model import CNNLSTM, model_from_params
    from pseudoface.learning.train import score_participants
    torch.manual_seed(0)
    model = CNNLSTM(3, "light")
    images = {"a": np.random.default_rng(0).random((40, 3, 10, 8), dtype=np.float32)}  # 10 clips of K=4
    full = score_participants(model, images, ["a"], 4, torch.device("cpu"))
    same = score_participants(model, images, ["a"], 4, torch.device("cpu"), max_clips=10)
    part = score_participants(model, images, ["a"], 4, torch.device("cpu"), max_clips=2)
    ends = score_participants(model, {"a": np.concatenate([images["a"][:4], images["a"][-4:]])}, ["a"], 4,
                              torch.device("cpu"))
    assert full == pytest.approx(same) and part == pytest.approx(ends, abs=1e-5)  # first and last clip


@pytest.mark.slow
def test_other_configuration_in_run_folder(run, tmp_path, synth_root):
    import shutil
    out, _, params = run
    folder = tmp_path / "r"
    shutil.copytree(out, folder)
    other = _params(synth_root, ["train.lr=0.002"])
    with pytest.raises(ParamsError, match="holds a run of another configuration"):
        run_cv(other, folder, encoded(other))
    assert run_matches(folder, params) and not run_matches(folder, other)
    # the report's own folders: replaced, not refused
    [(metrics, reused)] = cvmod.cross_validate([cvmod.RunSpec(other, folder, replace=True, reuse=True)], progress=False)
    assert not reused and run_matches(folder, other) and metrics["config"]["train"]["lr"] == 0.002
    assert len(list((folder / "folds").glob("*.json"))) == 3


def test_training_sees_each_participant_clips_per_participant_times_an_epoch(monkeypatch):
    """One epoch: every inner-training participant ``clips_per_participant`` times, in batches of
    ``batch_size`` clips, the loss on each batch's clip logits."""
    from pseudoface.learning import task as task_mod
    from pseudoface.learning import train as train_mod
    rng = np.random.default_rng(0)
    images = {f"p{i}": rng.random((12, 3, 10, 8), dtype=np.float32) + (i % 2) * 0.1 for i in range(8)}
    labels = {pid: i % 2 for i, pid in enumerate(images)}
    params = params_from_dict({"model": {"clip_windows": 2, "scope": "clip"}, "train": {
        "epochs": 1, "batch_size": 8, "clips_per_participant": 4, "mirror": False}})
    seen = {"loss": [], "forward": []}
    real_loss, real_forward = task_mod.loss_fn, train_mod.CNNLSTM.forward

    def loss(logits, y, *a):
        if logits.requires_grad:
            seen["loss"].append(len(logits))
        return real_loss(logits, y, *a)

    def forward(self, x):
        if self.training:
            seen["forward"].append(x.shape[0])
        return real_forward(self, x)
    monkeypatch.setattr(task_mod, "loss_fn", loss)
    monkeypatch.setattr(train_mod.CNNLSTM, "forward", forward)
    ids = list(images)
    train_mod.train_model(images, labels, ids[:6], ids[6:], params, 0, torch.device("cpu"))
    assert seen["forward"] == seen["loss"] == [8, 8, 8]  # 6 participants x 4 clips in batches of 8


def test_epoch_selector_keeps_the_best_trailing_mean_and_stops_after_patience():
    from pseudoface.learning.train import EpochSelector
    model = CNNLSTM(3, "light")
    sel = EpochSelector(patience=2)
    # trailing means over 3 epochs: 1.0, 0.75, 0.667, 0.5 (best, epoch 4), 0.533, 0.6 -> stop
    stops = [sel.update(e, v, model) for e, v in enumerate([1.0, 0.5, 0.5, 0.5, 0.6, 0.7], start=1)]
    assert stops == [False] * 5 + [True] and sel.best_epoch == 4 and sel.state is not None


def test_seed_comparison_stays_the_papers_network_whatever_the_default_options():
    """The seed preset comparison overrides the user's options that would change the paper's CNN."""
    params = params_from_dict({"model": {"pooling": "mean", "input_scaling": True}, "train": {"mirror": True}},
                              cvmod.COMPARISONS["seed preset (frame layout)"])
    assert params.model.preset == "seed" and params.model.pooling == "last" and not params.model.input_scaling
    assert not params.train.mirror
    # the paper's landmark image, whatever the encoder's defaults (its config hash is the old preset's)
    assert params.encode.landmark_rows and not params.encode.geometry_rows
    # the paper's network as its code builds it (model.py): conv 32/64/128 without batch norm, LSTM(128),
    # the last state, 225,473 parameters with 3 input channels; the default preset has 29,681
    model = model_from_params(params.model, (3, 68, 3))
    assert isinstance(model, CNNLSTM) and model.pooling == "last" and not model.scaled
    assert count_parameters(model) == 225_473
    assert [m.out_channels for m in model.cnn if isinstance(m, torch.nn.Conv2d)] == [32, 64, 128]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.cnn) and model.lstm.hidden_size == 128


@pytest.mark.parametrize("encode, rows, mirrored", [
    ({}, 4, True),  # the default compact image: pose + geometry rows
    ({"landmark_rows": True, "geometry_rows": False}, 70, True),  # the 68-row image
    ({}, 31, False),  # rows that are not this encoder's landmark image (e.g. series): never mirrored
])
def test_training_mirrors_landmark_images_of_either_layout(monkeypatch, encode, rows, mirrored):
    from pseudoface.learning import train as train_mod
    rng = np.random.default_rng(0)
    images = {f"p{i}": rng.random((6, 6, rows, 8), dtype=np.float32) for i in range(6)}
    labels = {pid: i % 2 for i, pid in enumerate(images)}
    # the default session scope: spans are mirrored (model.clip_windows, which this test once set, did nothing here)
    params = params_from_dict({"encode": encode, "train": {"epochs": 1, "batch_size": 4, "clips_per_participant": 2}})
    calls = []
    real = train_mod.mirror_images
    monkeypatch.setattr(train_mod, "mirror_images", lambda x, *a: calls.append(a) or real(x, *a))
    ids = list(images)
    train_mod.train_model(images, labels, ids[:4], ids[4:], params, 0, torch.device("cpu"))
    assert bool(calls) == mirrored
    if mirrored:  # told which rows are there
        from pseudoface.encoding.encode import RowLayout
        assert calls[0] == (RowLayout(encode.get("landmark_rows", False), True, encode.get("geometry_rows", True)),)


def test_code_version_tells_two_different_uncommitted_trees_apart(tmp_path, monkeypatch):
    """A run is reused only when its code version matches: uncommitted edits to lib/ (tracked or
    new files) must give a version of their own, not one shared '.dirty' for every edit."""
    import subprocess
    from pseudoface.learning import runs
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    monkeypatch.setattr(runs, "project_root", lambda: tmp_path)
    clean = runs.code_version()
    assert "dirty" not in clean and "+" in clean
    (tmp_path / "lib" / "a.py").write_text("x = 2\n")
    one = runs.code_version()
    (tmp_path / "lib" / "a.py").write_text("x = 3\n")
    two = runs.code_version()
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    (tmp_path / "lib" / "b.py").write_text("y = 1\n")  # an untracked module
    three = runs.code_version()
    assert len({clean, one, two, three}) == 4 and all(".dirty-" in v for v in (one, two, three))


def test_the_report_reuses_a_finished_cv_run_of_its_configuration(run, tmp_path, monkeypatch):
    """`pseudoface cv` then `pseudoface report` trains once: the report's main run (its own folder,
    ``replace`` and ``reuse``) finds the finished run in cv's folder runs/<dataset>/<config hash>/
    and copies it, instead of training the same configuration again."""
    import shutil
    from pseudoface.learning.runs import default_run_dir
    out, first, params = run
    monkeypatch.chdir(tmp_path)
    shutil.copytree(out, default_run_dir(params))  # where `pseudoface cv` (no --out) wrote it
    monkeypatch.setattr(foldmod, "run_fold", lambda *a, **k: pytest.fail("the report trained the cv run again"))
    main = tmp_path / "runs" / "synthetic" / "report" / "main"
    [(metrics, reused)] = cvmod.cross_validate([cvmod.RunSpec(params, main, encoded(params), replace=True, reuse=True)],
                                               progress=False)
    assert reused and metrics["macro_f1"] == first["macro_f1"] and run_matches(main, params)
    assert (main / "predictions.csv").read_bytes() == (out / "predictions.csv").read_bytes()
    assert len(list((main / "checkpoints").glob("*.pt"))) == 3  # notebook 04 and explain read the folds' models
