"""Two corpora as one (``cv.protocol: cross_corpus``): the training corpus (``data.root``) and the test
corpus (``data.test_root``), each read and encoded as itself, joined into one
:class:`~pseudoface.encoding.encode.EncodedCorpus` whose table says which side each participant is on
(column ``corpus``: ``training`` or ``test``; :func:`fold.outer_splits` trains on one and scores the other).

* **No person on both sides.** E-DAIC holds every DAIC-WOZ participant under the same id, so a
  participant id present in both corpora is one person: dropped from the side ``cv.overlap`` names
  (the test side by default) and counted in the participant flow.
* **The same input.** Both corpora are read as the series layout they share (``data.signals:
  shared_series``: the same rows, names and units), so their pseudo-images and session features
  line up; anything else is an error naming what differs.
* **Label-free adaptation** (``cv.adaptation: standardise``): the test corpus's session features and
  each (channel, row) of its pseudo-images are moved to the training corpus's mean and SD, from the
  test corpus's own statistics: its inputs, never its labels. Recording set-ups shift AU baselines
  and head-position scales; this removes a shift common to the whole corpus and nothing per person.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..corpora.corpus import Corpus, Flow
from ..corpora.read import corpus_format, ensure_synthetic, load_corpus
from ..corpora.textio import DataError
from .encode import EncodedCorpus, encode_corpus
from ..params import Params, ParamsError, params_from_dict

SIDES = ("training", "test")


def test_corpus_params(params: Params) -> Params:
    """The params that read the test corpus as a corpus of its own (and cross-validate it within itself:
    the transfer's within-corpus comparison): its dataset, root and labels, the same signals and models."""
    raw = params.to_dict()
    d = raw["data"]
    raw["dataset"] = d["test_dataset"]
    d.update(root=d["test_root"], labels_dir=d["test_labels_dir"], test_root=None, test_labels_dir=None,
             test_dataset=None)
    raw["cv"].update(protocol="cv", adaptation="none", overlap="test")
    return params_from_dict(raw)


def ensure_test_synthetic(params: Params) -> None:
    """Generate a synthetic test corpus when the params name one: in the other layout than the
    training corpus's (a synthetic DAIC-WOZ-layout corpus is tested on an E-DAIC-layout one and back),
    with participant numbers from 600 (E-DAIC's new interviews) so that no id is shared, another seed,
    and the same planted cue family (the default's)."""
    test = test_corpus_params(params)
    if test.dataset != "synthetic":
        return
    other = "e_daic" if corpus_format(params) == "daic_woz" else "daic_woz"
    ensure_synthetic(test, fmt=other, first_id=600, seed=params.cv.seed + 1)


def _adapt(images: dict, table: pd.DataFrame, feature_cols: list, ref_images: dict,
           ref_table: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Move ``images`` and ``table[feature_cols]`` to the reference corpus's mean and SD, per (channel,
    row) and per feature, using the statistics of each corpus's own inputs."""
    def moments(imgs: dict) -> tuple[np.ndarray, np.ndarray]:
        """(C, R) mean and SD over every window and time step, one session at a time: a corpus's
        windows stacked as float64 would be gigabytes (E-DAIC: 275 sessions x ~480 windows)."""
        n = sum(v.shape[0] * v.shape[3] for v in imgs.values())
        mean = sum(v.sum(axis=(0, 3), dtype=np.float64) for v in imgs.values()) / n
        var = sum(((v - mean[None, :, :, None]) ** 2).sum(axis=(0, 3)) for v in imgs.values()) / n
        return mean, np.sqrt(var)
    mu, sd = moments(images)
    ref_mu, ref_sd = moments(ref_images)
    scale = np.where(sd > 1e-9, ref_sd / np.maximum(sd, 1e-9), 1.0)[None, :, :, None]
    shift_from, shift_to = mu[None, :, :, None], ref_mu[None, :, :, None]
    adapted = {pid: ((v - shift_from) * scale + shift_to).astype(np.float32) for pid, v in images.items()}
    x, ref = table[feature_cols].to_numpy(float), ref_table[feature_cols].to_numpy(float)
    x_sd, ref_sd_f = x.std(axis=0), ref.std(axis=0)
    factor = np.where(x_sd > 1e-12, ref_sd_f / np.maximum(x_sd, 1e-12), 1.0)
    moved = pd.DataFrame((x - x.mean(axis=0)) * factor + ref.mean(axis=0), columns=feature_cols, index=table.index)
    return adapted, pd.concat([table.drop(columns=feature_cols), moved], axis=1)[list(table.columns)]


def _check_same_input(a: EncodedCorpus, b: EncodedCorpus, where: tuple[str, str]) -> None:
    shape_a, shape_b = (next(iter(e.images.values())).shape[1:3] for e in (a, b))
    if shape_a != shape_b or a.feature_cols != b.feature_cols:
        raise DataError(f"{where[1]}: the test corpus's input ({shape_b[0]} channels x {shape_b[1]} rows, "
                        f"{len(b.feature_cols)} session features) differs from the training corpus's at {where[0]} "
                        f"({shape_a[0]} x {shape_a[1]}, {len(a.feature_cols)}); both must be read with data.signals: "
                        "shared_series")


def encode_pair(params: Params, progress: bool = False) -> EncodedCorpus:
    """The training and test corpora encoded and joined (see the module docstring)."""
    if params.cv.protocol != "cross_corpus":
        raise ParamsError(f"cv.protocol: {params.cv.protocol}: encode_pair joins the corpora of a cross_corpus run")
    ensure_synthetic(params)
    ensure_test_synthetic(params)
    test_params = test_corpus_params(params)
    train = encode_corpus(load_corpus(params), params, progress=progress)
    test = encode_corpus(load_corpus(test_params), test_params, progress=progress)
    _check_same_input(train, test, (str(train.corpus.root), str(test.corpus.root)))
    both = sorted(set(train.table.participant_id) & set(test.table.participant_id), key=lambda p: (len(p), p))
    losing = params.cv.overlap  # "test" or "training"
    keep = {"training": train.table, "test": test.table}
    keep[losing] = keep[losing][~keep[losing].participant_id.isin(both)]
    for side in SIDES:
        if keep[side].empty or keep[side].label.nunique() < 2:
            raise DataError(f"{(train if side == 'training' else test).corpus.root}: the {side} corpus keeps "
                            f"{len(keep[side])} participant(s) ({keep[side].label.nunique()} class(es)) after the "
                            f"{len(both)} in both corpora left the {losing} side; a cross-corpus run needs both "
                            "classes on each side (cv.overlap names the side that loses them)")
    images = {"training": {p: train.images[p] for p in keep["training"].participant_id},
              "test": {p: test.images[p] for p in keep["test"].participant_id}}
    if params.cv.adaptation == "standardise":
        images["test"], keep["test"] = _adapt(images["test"], keep["test"], train.feature_cols,
                                              images["training"], keep["training"])
    table = pd.concat([keep[side].assign(corpus=side) for side in SIDES], ignore_index=True).copy()
    corpus = _joined_corpus(params, train.corpus, test.corpus, both, losing)
    summary = pd.concat([train.encode_summary, test.encode_summary], ignore_index=True)
    summary = summary[summary.participant_id.isin(table.participant_id)].reset_index(drop=True)
    fp = hashlib.sha256((train.fingerprint + test.fingerprint + losing + ",".join(both)).encode()).hexdigest()[:16]
    return EncodedCorpus(corpus, {**images["training"], **images["test"]}, table, list(train.feature_cols), summary, fp)


def _joined_corpus(params: Params, train: Corpus, test: Corpus, both: list, losing: str) -> Corpus:
    """One :class:`Corpus` of the two: sessions and labels of both, the flow of each side (prefixed),
    the participants in both corpora as exclusions from the losing side, every problem of both."""
    flow = Flow()
    for side, c in (("training", train), ("test", test)):
        for step, n in c.flow.counts.items():
            flow.counts[f"{side} corpus: {step}"] = n
        flow.dropped += [(pid, f"{side} corpus: {step}", why) for pid, step, why in c.flow.dropped]
        flow.unlabelled += c.flow.unlabelled
    flow.counts[f"in both corpora: left the {losing} side"] = len(both)
    other = "training" if losing == "test" else "test"
    flow.dropped += [(pid, "in both corpora", f"also in the {other} corpus (the same participant id): "
                      f"kept on the {other} side only (cv.overlap: {losing})") for pid in both]
    sessions = {**test.sessions, **train.sessions} if losing == "test" else {**train.sessions, **test.sessions}
    labels = pd.concat([train.labels.assign(corpus="training"), test.labels.assign(corpus="test")], ignore_index=True)
    labels = labels[~(labels.participant_id.isin(both) & (labels.corpus == losing))].reset_index(drop=True)
    notes = [f"training corpus: {train.dataset} at {train.root}", f"test corpus: {test.dataset} at {test.root}",
             *train.notes, *test.notes]
    return Corpus(params.dataset, Path(train.root), train.synthetic and test.synthetic, labels, sessions, flow,
                  train.problems + test.problems, pd.concat([train.disagreements, test.disagreements], ignore_index=True),
                  pd.concat([train.quirks, test.quirks], ignore_index=True), notes)

