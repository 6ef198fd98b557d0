"""Every option a params file can set is run by something: a params file, the seed comparison, a
benchmark or a behavioural test. The options no params file or comparison sets are exercised here."""
import shutil
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from conftest import encoded
from pseudoface.learning import fold as foldmod
from pseudoface.corpora.corpus import SYNTHETIC_MARKER
from pseudoface.learning.cv import COMPARISONS
from pseudoface.params import SMOKE, Params, describe, params_from_dict

ROOT = Path(__file__).resolve().parents[1]


def _choices(hint) -> list:
    """The values of a yes/no or one-of option other than its default (empty for other types)."""
    if hint == "bool":
        return [True, False]
    if hint.startswith("Literal["):
        return [c.strip().strip("'\"") for c in hint[len("Literal["):-1].split(",")]
    return []


def test_every_choice_of_every_option_is_set_somewhere():
    """A yes/no or one-of option whose other values nothing sets is a dead branch: this fails
    (naming it) until a params file, a comparison, a benchmark or a test sets it, or it is removed."""
    texts = [p.read_text() for p in [*ROOT.glob("params/*.yaml"), *ROOT.glob("benchmarks/*.py"),
                                     *ROOT.glob("tests/*.py")] if p.name != Path(__file__).name]
    texts.append("\n".join(o for overrides in COMPARISONS.values() for o in overrides) + "\n".join(SMOKE))
    texts.append(Path(__file__).read_text().split("# ---- behavioural tests", 1)[1])
    defaults = Params().to_dict()
    unset = []
    for key, hint, _ in describe():
        section, _, name = key.rpartition(".")
        default = defaults[section][name] if section else defaults[name]
        for value in _choices(hint):
            if value == default or key in ("train.device", "cv.executor") and value in ("cuda", "ray"):
                continue  # cuda needs a GPU (checked on the device machine); ray: tests/test_ray.py
            word = str(value).lower() if isinstance(value, bool) else str(value)
            forms = (f"{key}={word}", f'"{name}": {value!r}'.replace("'", '"'), f"{name}: {word}",
                     f'"{name}": {value}', f'{name}="{value}"', f"{name}={value}")
            if not any(form in text for text in texts for form in forms):
                unset.append(f"{key}={word}")
    assert not unset, f"options nothing sets (a dead branch?): {unset}"


# ---- behavioural tests of the options no params file sets

def test_platt_calibration_changes_probabilities_not_the_ranking(synth_root, monkeypatch):
    """``train.calibration: platt`` fits its map on the inner-validation participants' logits and
    applies it to every test score. On this tiny corpus a fold has two inner-validation participants,
    whose fitted map may fall back to the identity (tests/test_encode_model.py checks the fit itself),
    so the fit here returns a known map, sigmoid(2 z - 0.5): a run that ignored the option would keep
    the identity and fail."""
    from pseudoface.learning import task as task_mod
    from scipy.special import expit, logit
    calls = []

    def known_map(logits, y):
        calls.append((np.asarray(logits).copy(), np.asarray(y).copy()))
        return 2.0, -0.5
    monkeypatch.setattr(task_mod, "fit_platt", known_map)
    base = ["dataset=synthetic", f"data.root={synth_root}", *SMOKE, "train.epochs=2", "cv.folds=3", "train.device=cpu"]
    plain = params_from_dict({}, base)
    platt = params_from_dict({}, base + ["train.calibration=platt"])
    enc = encoded(plain)
    f, train_ids, test_ids = foldmod.outer_splits(enc.table, plain, 0)[0]
    a = foldmod.run_fold(enc, plain, 0, f, train_ids, test_ids, torch.device("cpu"))
    assert a["platt"] == [1.0, 0.0] and calls == []  # calibration: none fits nothing
    b = foldmod.run_fold(enc, platt, 0, f, train_ids, test_ids, torch.device("cpu"))
    assert b["platt"] == [2.0, -0.5]
    # fitted once, on the inner-validation participants (their true labels), never on the test fold
    [(val_logits, y_val)] = calls
    labels = dict(zip(enc.table.participant_id, enc.table.label))
    assert y_val.tolist() == [labels[p] for p in b["inner_val_ids"]] and len(val_logits) == len(b["inner_val_ids"])
    sa, sb = (np.array([p["score"] for p in r["predictions"]]) for r in (a, b))
    y = np.array([p["label"] for p in a["predictions"]])
    # the same network (same seed, calibration comes after training): each test score is mapped
    np.testing.assert_allclose(sb, expit(2.0 * logit(sa) - 0.5), rtol=1e-6)
    assert not np.allclose(sa, sb)
    assert np.argsort(sa, kind="stable").tolist() == np.argsort(sb, kind="stable").tolist()
    assert roc_auc_score(y, sa) == roc_auc_score(y, sb)


def _licensed_copy(synth_root, tmp_path) -> Path:
    """The synthetic corpus without its marker: read as a licensed corpus would be."""
    root = shutil.copytree(synth_root, tmp_path / "corpus")
    (root / SYNTHETIC_MARKER).unlink()
    return root


def test_participant_data_is_shown_only_when_allowed(synth_root, tmp_path):
    from pseudoface.site import explore
    root = _licensed_copy(synth_root, tmp_path)
    yaml = tmp_path / "p.yaml"
    yaml.write_text(f"dataset: daic_woz\ndata:\n  root: {root}\n  min_valid_seconds: 5\n")
    hidden = explore.setup(str(yaml))
    shown = explore.setup(str(yaml), ["report.allow_participant_data=true"])
    assert not hidden.participant_data and shown.participant_data
    ids = list(hidden.corpus.labels.participant_id)
    assert set(explore.anon_map(shown).values()) == set(ids)
    assert not set(explore.anon_map(hidden).values()) & set(ids)  # anonymous labels only


def test_labels_may_live_in_their_own_folder(synth_root, tmp_path):
    root = _licensed_copy(synth_root, tmp_path)
    labels = tmp_path / "labels"
    labels.mkdir()
    for csv in root.glob("*.csv"):
        shutil.move(str(csv), labels / csv.name)
    from pseudoface.corpora.read import load_corpus
    from pseudoface.corpora.textio import DataError
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(root), "min_valid_seconds": 5}})
    with pytest.raises(DataError, match="no label files"):
        load_corpus(params)
    moved = load_corpus(params_from_dict({}, ["dataset=synthetic", f"data.root={root}", f"data.labels_dir={labels}",
                                              "data.min_valid_seconds=5"]))
    original = load_corpus(params_from_dict({}, ["dataset=synthetic", f"data.root={synth_root}",
                                                 "data.min_valid_seconds=5"]))
    pd.testing.assert_frame_equal(moved.labels, original.labels)
