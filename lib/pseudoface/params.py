"""Typed run parameters: one YAML per dataset under ``params/`` over frozen dataclass defaults.

``load_params("params/daic_woz.yaml", ["train.epochs=5"])`` returns a :class:`Params`.
Rules: YAML is read with ``yaml.safe_load``; ``${VAR}`` in a string is replaced by the environment
variable (an unset variable is an error naming the key); ``--set`` values are parsed as YAML
scalars (``5`` -> int, ``true`` -> bool); an unknown key or a value of the wrong type raises
:class:`ParamsError` naming the dotted key.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import os
import re
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

def project_root() -> Path:
    """The checkout this package runs from: params/ and notebooks/ paths are relative to it."""
    return Path(__file__).resolve().parents[2]


class ParamsError(ValueError):
    """A params file or override is wrong; the message names the key."""


@dataclass(frozen=True)
class DataParams:
    root: str = "data/synthetic"  # corpus root; may use ${ENV_VAR}
    labels_dir: Optional[str] = None  # folder holding the split CSVs (default: root)
    label_rule: Literal["score_ge_10", "file_binary"] = "score_ge_10"  # binary label source
    # Raw gender codes -> vocabulary (female/male). Empty: codes stay "code 0"/"code 1";
    # DAIC-WOZ's documentation does not say which code is female, so this is the user's call.
    gender_codes: dict = field(default_factory=dict)
    fps: float = 30.0  # frame rate of the tracker output (DAIC-WOZ/E-DAIC: 30; openface: only for files whose timestamps are no clock)
    confidence_threshold: float = 0.75  # frames below this tracker confidence are masked
    min_valid_seconds: float = 20.0  # sessions with fewer valid seconds are excluded (counted)
    bad_cells: Literal["error", "mask"] = "error"  # a non-numeric cell: stop, or mask its frame
    mask_quirk_spans: bool = True  # mask the documented interruptions (DAIC-WOZ 373, 444)
    splits: tuple = ()  # keep only these splits (empty: every labelled split)
    cache_dir: Optional[str] = None  # parsed-array cache (default: ~/.cache/pseudoface)
    # dataset: synthetic only: the size of the corpus generated into data.root when it is missing (or was
    # generated at another size: it is generated again)
    synthetic_participants: int = 48
    synthetic_seconds: float = 75.0
    # what a session is read as: 3-D landmarks; the pose/gaze/AU series both corpora share (DAIC-WOZ's
    # CLNF_pose/gaze/AUs files, E-DAIC's OpenFace 2.1 CSV: corpus.SHARED_SERIES, the cross-corpus input); or
    # E-DAIC's full 31 series (corpus.SERIES). auto: landmarks where the layout has them, else full_series
    signals: Literal["auto", "landmarks", "shared_series", "full_series"] = "auto"
    # cv.protocol: cross_corpus only: the corpus the trained models are scored on (its own root, labels and
    # layout: daic_woz, e_daic, openface, or synthetic: generated in the other layout, ids from 600)
    test_root: Optional[str] = None
    test_labels_dir: Optional[str] = None
    test_dataset: Optional[Literal["synthetic", "daic_woz", "e_daic", "openface"]] = None


@dataclass(frozen=True)
class NormaliseParams:
    align: bool = True  # rigid (Kabsch) alignment to a template face; pose kept as a signal
    target_fps: float = 15.0  # resampling rate after normalisation
    max_gap_seconds: float = 0.5  # gaps up to this long are interpolated; longer stay masked


@dataclass(frozen=True)
class EncodeParams:
    layout: Literal["window", "frame"] = "window"
    window_seconds: float = 4.0
    hop_seconds: float = 2.0
    include_pose: bool = True  # add head-pose rows (window layout)
    # two rows of face geometry (mouth opening, width and corner drop; eye opening, brow height)
    geometry_rows: bool = True
    # the 68 landmark rows (the paper's image); false (default): pose and geometry rows only, a
    # compact image of face signals (benchmarks/bench_quality.py: the network learns more cues from it)
    landmark_rows: bool = False
    displacement_range: float = 0.15  # |displacement| in inter-ocular units mapped to [0, 1]
    rotation_range_deg: float = 20.0  # +- degrees of head rotation from the template face (landmark pose row)
    translation_range: float = 0.5  # pose translation range, inter-ocular units
    max_missing_fraction: float = 0.3  # windows with more masked frames are skipped (counted)
    frame_size: int = 0  # frame layout: resize each 68x3 frame to size x size (seed: 224)
    frame_count: int = 16  # frame layout: frames per session (seed: the first 16)


@dataclass(frozen=True)
class ModelParams:
    # binary: the screen (PHQ-8 >= 10, weighted BCE on the logit); regression: the PHQ-8 score
    # itself (0-24; the same network's output read as the score standardised by the inner-training
    # participants' mean and SD, Huber loss; train.py), with the binary screen derived at >= 10
    task: Literal["binary", "regression"] = "binary"
    # what the network reads: the whole session, one logit per participant (model.SessionNet; training
    # on random spans of it), or clips of K windows scored by the mean clip logit (model.CNNLSTM, the paper's design)
    scope: Literal["clip", "session"] = "session"
    # the CNN's size (model.PRESETS): light (conv 16/32/48 with batch norm, LSTM 32; the session network's
    # window CNN too), or seed: the paper's CNN-LSTM (conv 32/64/128, LSTM 128; clip scope only).
    # Called `default` before the session network became the default; that name is still read as light
    preset: Literal["light", "seed"] = "light"
    clip_windows: int = 8  # clip scope only: K consecutive pseudo-images per clip fed to the LSTM
    dropout: float = 0.5
    input_scaling: bool = True  # standardise each (channel, row) by constants from the training participants
    pooling: Literal["last", "mean"] = "mean"  # clip scope only: a clip's summary, the LSTM's last state or the mean of its states


@dataclass(frozen=True)
class TrainParams:
    epochs: int = 30
    patience: int = 6  # epochs without inner-validation loss improvement before stopping
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 16
    # training examples per participant per epoch: random spans of the session (session scope), or random clips
    clips_per_participant: int = 4
    # session scope only: a training example is a random contiguous span of at most this many windows
    # (2 min at the 2 s hop; a 16-minute session has ~480); scoring reads the whole session
    span_windows: int = 64
    mirror: bool = True  # mirror half the training clips left-right (landmark window layout only)
    calibration: Literal["none", "platt"] = "none"  # platt: a logistic map of logits fitted on inner validation
    inner_val_fraction: float = 0.25
    val_clips: int = 8  # clip scope only: per-epoch inner-validation loss on up to N evenly spaced clips (0: all)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # torch CPU threads of one fold training (and the CPUs a Ray task asks for); 0: this machine's
    # cores in-process, 1 per Ray task. Equal numbers across executors need the same fixed value.
    threads: int = 0


@dataclass(frozen=True)
class CVParams:
    # cv: grouped k-fold; official: the corpus' splits; cross_corpus: train on data.root, score data.test_root once
    protocol: Literal["cv", "official", "cross_corpus"] = "cv"
    # cross_corpus only: label-free adaptation: none, or standardise each corpus's session features and
    # pseudo-image rows by that corpus's own statistics (the test corpus's inputs, never its labels)
    adaptation: Literal["none", "standardise"] = "none"
    # cross_corpus only: the side that loses the participants both corpora hold (E-DAIC holds every DAIC-WOZ
    # participant under the same id): test (the default), or training (E-DAIC -> DAIC-WOZ: else nothing is left to test)
    overlap: Literal["test", "training"] = "test"
    folds: int = 5
    repeats: int = 1
    seed: int = 0
    bootstrap: int = 1000  # resamples of the pooled participant bootstrap (metrics.json: ci95_pooled_bootstrap; on no page)
    # where fold trainings run (never part of the config hash: they change no number)
    executor: Literal["local", "ray"] = "local"  # in this process, or one Ray task per fold
    ray_address: Optional[str] = None  # ray: none starts a local Ray; `auto`, `host:port` or `ray://...` joins a cluster
    max_retries: int = 2  # ray: a fold task whose worker died is run again up to this many times
    # shuffled-label sanity runs after the run (sanity.run_shuffled): N permutations of the training
    # participants' labels, each on the first repeat's outer folds; never part of the config hash
    shuffled_labels: int = 0
    # 0: the true labels. k >= 1: this run is the k-th shuffled-label run: in every fold the outer-training
    # participants' labels are permuted among them (task.Task.training_targets); test labels stay true
    label_permutation: int = 0


@dataclass(frozen=True)
class ReportParams:
    allow_participant_data: bool = False  # publish per-participant data from a licensed corpus
    comparisons: bool = True  # run the comparison variants (cv.COMPARISONS: seed preset, no alignment, clips)
    regression: bool = True  # also cross-validate the PHQ-8 score (model.task: regression) in the same folds


@dataclass(frozen=True)
class Params:
    dataset: Literal["synthetic", "daic_woz", "e_daic", "openface"] = "synthetic"
    data: DataParams = field(default_factory=DataParams)
    normalise: NormaliseParams = field(default_factory=NormaliseParams)
    encode: EncodeParams = field(default_factory=EncodeParams)
    model: ModelParams = field(default_factory=ModelParams)
    train: TrainParams = field(default_factory=TrainParams)
    cv: CVParams = field(default_factory=CVParams)
    report: ReportParams = field(default_factory=ReportParams)

    def __post_init__(self):
        check(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check(p: Params) -> None:
    """Every check that spans keys or bounds a value, in one place: raised when a :class:`Params` is
    built (from a file, overrides or a dict), so no stage finds a bad combination mid-run."""
    e = p.encode
    if e.layout == "window" and not (e.landmark_rows or e.include_pose or e.geometry_rows):
        raise ParamsError("encode.landmark_rows: false leaves no rows without encode.include_pose or "
                          "encode.geometry_rows; set one of them true")
    positive = {"train.epochs": p.train.epochs, "train.patience": p.train.patience,
                "train.batch_size": p.train.batch_size, "train.clips_per_participant": p.train.clips_per_participant,
                "model.clip_windows": p.model.clip_windows, "cv.folds": p.cv.folds, "cv.repeats": p.cv.repeats,
                "train.span_windows": p.train.span_windows}
    non_negative = {"train.threads": p.train.threads, "cv.max_retries": p.cv.max_retries,
                    "train.val_clips": p.train.val_clips, "cv.shuffled_labels": p.cv.shuffled_labels,
                    "cv.label_permutation": p.cv.label_permutation}
    for key, value in positive.items():
        if value < 1:
            raise ParamsError(f"{key}: expected 1 or more; got {value}")
    for key, value in non_negative.items():
        if value < 0:
            raise ParamsError(f"{key}: expected 0 or more; got {value}")
    cross = p.cv.protocol == "cross_corpus"
    if cross != bool(p.data.test_root) or cross != bool(p.data.test_dataset):
        raise ParamsError("data.test_root: cv.protocol: cross_corpus needs data.test_root and data.test_dataset (the "
                          "corpus scored once), and no other protocol reads them" if cross else
                          "data.test_root: set only with cv.protocol: cross_corpus")
    for key, value, neutral in (("adaptation", p.cv.adaptation, "none"), ("overlap", p.cv.overlap, "test")):
        if value != neutral and not cross:
            raise ParamsError(f"cv.{key}: {value} acts under cv.protocol: cross_corpus only; leave it out")
    if cross and p.data.signals != "shared_series":
        raise ParamsError(f"data.signals: {p.data.signals}: a cross-corpus run needs the input both corpora share "
                          "(data.signals: shared_series)")
    if p.data.signals == "full_series" and p.dataset in ("daic_woz", "openface"):
        raise ParamsError(f"data.signals: full_series is E-DAIC's OpenFace 2.1 set (31 series); {p.dataset} has "
                          "landmarks or the shared series (data.signals: landmarks or shared_series)")
    if p.cv.protocol == "cv" and p.cv.folds < 2:
        raise ParamsError(f"cv.folds: expected 2 or more for cross-validation; got {p.cv.folds}")
    for (section, key), (scope, why) in SCOPE_ONLY.items():
        value = getattr(getattr(p, section), key)
        if p.model.scope != scope and value != _default(section, key):
            raise ParamsError(f"{section}.{key}: {value} {why}; it acts under model.scope: {scope} only, and this "
                              f"run's scope is {p.model.scope}: leave the key out or set model.scope: {scope}")
    if p.cv.shuffled_labels and p.cv.label_permutation:
        raise ParamsError(f"cv.shuffled_labels: a shuffled-label run (cv.label_permutation {p.cv.label_permutation}) "
                          "runs no sanity runs of its own; set one of them to 0")
    if p.model.task == "regression" and p.train.calibration != "none":
        raise ParamsError(f"train.calibration: {p.train.calibration} maps logits to probabilities; model.task: "
                          "regression predicts the score itself (set train.calibration: none)")
    if not 0 < p.train.inner_val_fraction < 1:
        raise ParamsError(f"train.inner_val_fraction: expected a fraction between 0 and 1; got {p.train.inner_val_fraction}")


# Keys that act under one ``model.scope`` only: (that scope, what the key does). Under the other scope
# a value other than the default is an error (it would change nothing that runs); a variant that
# switches the scope (:func:`derive`) puts them back to their defaults.
SCOPE_ONLY = {
    ("model", "clip_windows"): ("clip", "sets the clip length; the session network reads whole sessions"),
    ("model", "pooling"): ("clip", "summarises a clip's LSTM states; the session network pools its windows by mean, "
                                   "SD, max and attention"),
    ("train", "val_clips"): ("clip", "limits the clips scored for the per-epoch validation loss; the session network "
                                     "scores whole sessions"),
    ("model", "preset"): ("clip", "is the paper's clip network; the session network has its own head on the light CNN"),
    ("train", "span_windows"): ("session", "sets the session network's training spans; the clip network trains on "
                                           "clips of model.clip_windows"),
}
# Values renamed since run folders were first written: still read (an old run's config loads), with a warning
RENAMED_VALUES = {("model", "preset"): {"default": "light"}}


@functools.lru_cache(maxsize=None)
def _default(section: str, key: str) -> Any:
    return getattr(typing.get_type_hints(Params)[section](), key)


# Keys added after run folders and cached encodings were first written: left out of config hashes
# (runs.config_hash) and cache keys (encode's) while at the value that behaves as before, so
# existing runs and cache entries stay valid; set to anything else, they count
NEUTRAL_WHEN = {("encode", "geometry_rows"): False, ("train", "threads"): 0, ("encode", "landmark_rows"): True,
                ("cv", "shuffled_labels"): 0, ("cv", "label_permutation"): 0, ("model", "task"): "binary",
                ("data", "synthetic_participants"): 48, ("data", "synthetic_seconds"): 75.0,
                ("data", "signals"): "auto", ("data", "test_root"): None, ("data", "test_labels_dir"): None,
                ("data", "test_dataset"): None, ("cv", "adaptation"): "none", ("cv", "overlap"): "test"}
_ABSENT = object()


def without_neutral(section: str, values: dict) -> dict:
    """``values`` (one section of :meth:`Params.to_dict`) without the keys at their neutral value."""
    return {k: v for k, v in values.items() if NEUTRAL_WHEN.get((section, k), _ABSENT) != v}


# Settings that run the whole pipeline in seconds on 2 cores (tests and ``--smoke``): one epoch,
# two folds, one training example per participant. Their numbers mean nothing; they show every stage
# runs. No key of one scope only (SCOPE_ONLY): smoke works with either.
SMOKE = ("train.epochs=1", "train.patience=1", "cv.folds=2", "cv.bootstrap=20",
         "train.clips_per_participant=1", "data.min_valid_seconds=5", "encode.frame_count=4")

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _expand_env(value: str, key: str) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ParamsError(f"{key}: environment variable {name} is not set (used as ${{{name}}})")
        return os.environ[name]
    return _ENV.sub(sub, value)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check/convert one value against a type hint; raise ParamsError naming ``key``."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ParamsError(f"{key}: expected one of {', '.join(map(str, choices))}; got {value!r}")
        return value
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _coerce(value, args[0], key)
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{key}: expected true/false; got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: expected an integer; got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 3e-4 (no dot) as a string; rates are written so
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{key}: expected a number; got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(f"{key}: expected a string; got {value!r}")
        return _expand_env(value, key)
    if hint is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ParamsError(f"{key}: expected a list; got {value!r}")
        return tuple(str(v) for v in value)
    if hint is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{key}: expected a mapping; got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    raise ParamsError(f"{key}: unsupported parameter type {hint!r}")  # pragma: no cover


def _check_keys(cls: type, raw: dict, prefix: str = "") -> None:
    """Every key known, every section a mapping: checked for the whole tree before any value is
    converted, so an unknown key is reported before, say, an unset ${VAR} elsewhere."""
    hints = typing.get_type_hints(cls)
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in hints:
            names = {f.name for f in dataclasses.fields(cls)}
            raise ParamsError(f"{dotted}: unknown key (known: {', '.join(sorted(names))})")
        if dataclasses.is_dataclass(hints[key]):
            if not isinstance(value, dict):
                raise ParamsError(f"{dotted}: expected a section (mapping); got {value!r}")
            _check_keys(hints[key], value, dotted + ".")


def _build(cls: type, raw: dict, prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            raise ParamsError(f"{dotted}: unknown key (known: {', '.join(sorted(names))})")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ParamsError(f"{dotted}: expected a section (mapping); got {value!r}")
            kwargs[key] = _build(hint, value, dotted + ".")
        else:
            kwargs[key] = _coerce(value, hint, dotted)
    return cls(**kwargs)


def _apply_override(raw: dict, item: str) -> None:
    if "=" not in item:
        raise ParamsError(f"--set {item!r}: expected key=value (dotted keys for sections)")
    key, text = item.split("=", 1)
    key = key.strip()
    value = yaml.safe_load(text) if text.strip() else ""
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ParamsError(f"{key}: {part} is not a section")
    node[parts[-1]] = value


def _renamed(raw: dict) -> None:
    """Old names of values (:data:`RENAMED_VALUES`) replaced by the new ones in ``raw``, with a warning."""
    for (section, key), names in RENAMED_VALUES.items():
        node = raw.get(section)
        if isinstance(node, dict) and isinstance(node.get(key), str) and node[key] in names:
            old, node[key] = node[key], names[node[key]]
            warnings.warn(f"{section}.{key}: {old} is now called {node[key]} (read as {node[key]}); write "
                          f"{section}.{key}: {node[key]}", FutureWarning, stacklevel=4)


def params_from_dict(raw: dict, overrides: list[str] | tuple[str, ...] = ()) -> Params:
    raw = copy.deepcopy(raw or {})
    for item in overrides:
        _apply_override(raw, item)  # an overridden value replaces the file's: its ${VAR} is never resolved
    _check_keys(Params, raw)
    _renamed(raw)
    return _build(Params, raw)


def derive(params: Params, overrides: list[str] | tuple[str, ...]) -> Params:
    """A variant of ``params`` the code makes (a comparison): ``overrides`` applied and, when they
    switch ``model.scope``, the keys of the other scope only (:data:`SCOPE_ONLY`) that the overrides
    do not set put back to their defaults: the user set them for the run's own scope."""
    raw = params.to_dict()
    for item in overrides:
        _apply_override(raw, item)
    given = {item.split("=", 1)[0].strip() for item in overrides}
    scope = raw["model"]["scope"]
    for (section, key), (needed, _) in SCOPE_ONLY.items():
        if needed != scope and f"{section}.{key}" not in given:
            raw[section][key] = _default(section, key)
    return params_from_dict(raw)


def load_params(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> Params:
    """Read a params YAML (safe_load) and apply ``key=value`` overrides."""
    raw: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ParamsError(f"{path}: params file not found")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark else ""
            raise ParamsError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        if not isinstance(raw, dict):
            raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    try:
        return params_from_dict(raw, overrides)
    except ParamsError as exc:
        raise ParamsError(f"{path}: {exc}" if path else str(exc)) from None


def describe(cls: type = Params, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted key, type, default) rows for documentation."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            rows += describe(hint, f"{prefix}{f.name}.")
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append((prefix + f.name, str(hint).replace("typing.", ""), repr(default)))
    return rows
