from pathlib import Path

import pytest

from pseudoface.params import Params, ParamsError, describe, load_params, params_from_dict

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("name", ["synthetic", "daic_woz", "e_daic"])
def test_every_params_file_loads(name, monkeypatch):
    monkeypatch.setenv("DAIC_WOZ_ROOT", "/corpora/daic")
    monkeypatch.setenv("E_DAIC_ROOT", "/corpora/edaic")
    p = load_params(ROOT / "params" / f"{name}.yaml")
    assert isinstance(p, Params)
    assert p.dataset == name if name != "synthetic" else p.dataset == "synthetic"
    if name == "daic_woz":
        assert p.data.root == "/corpora/daic"
        assert p.cv.repeats == 5


def test_env_var_missing_names_key(monkeypatch):
    monkeypatch.delenv("DAIC_WOZ_ROOT", raising=False)
    with pytest.raises(ParamsError, match=r"data\.root: environment variable DAIC_WOZ_ROOT is not set"):
        load_params(ROOT / "params" / "daic_woz.yaml")


def test_overrides_dotted_and_typed():
    p = load_params(ROOT / "params" / "synthetic.yaml", ["train.epochs=3", "encode.layout=frame",
                                                         "data.splits=[train, dev]", "train.lr=0.01"])
    assert p.train.epochs == 3 and p.encode.layout == "frame"
    assert p.data.splits == ("train", "dev") and p.train.lr == 0.01


@pytest.mark.parametrize("override, message", [
    ("train.epoch=3", r"train\.epoch: unknown key"),
    ("trian.epochs=3", r"trian: unknown key"),
    ("train.epochs=many", r"train\.epochs: expected an integer"),
    ("train.epochs=2.5", r"train\.epochs: expected an integer"),
    ("normalise.align=maybe", r"normalise\.align: expected true/false"),
    ("encode.layout=spiral", r"encode\.layout: expected one of window, frame"),
    ("dataset=imagenet", r"dataset: expected one of"),
    ("train=3", r"train: expected a section"),
    ("noequals", r"expected key=value"),
    # checks across keys and bounds: one Params validation, at load time, not mid-run
    ("train.threads=-1", r"train\.threads: expected 0 or more"),
    ("cv.max_retries=-2", r"cv\.max_retries: expected 0 or more"),
    ("cv.folds=1", r"cv\.folds: expected 2 or more"),
    ("model.clip_windows=0", r"model\.clip_windows: expected 1 or more"),
    ("train.inner_val_fraction=1.5", r"train\.inner_val_fraction: expected a fraction"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ParamsError, match=message):
        params_from_dict({}, [override])


def test_unknown_key_in_file(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("dataset: synthetic\ndata:\n  root: a\n  colour: blue\n")
    with pytest.raises(ParamsError, match=r"x\.yaml: data\.colour: unknown key"):
        load_params(f)


def test_yaml_is_safe_loaded(tmp_path):
    f = tmp_path / "evil.yaml"
    f.write_text("dataset: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(f)


def test_params_are_frozen_and_documented():
    p = Params()
    from dataclasses import FrozenInstanceError
    with pytest.raises(FrozenInstanceError):
        p.train.epochs = 4  # type: ignore[misc]
    keys = [row[0] for row in describe()]
    assert "data.label_rule" in keys and "encode.window_seconds" in keys


def test_scientific_notation_is_a_number(tmp_path):
    """YAML 1.1 reads 3e-4 (no dot) as a string; a rate written so must still load."""
    f = tmp_path / "x.yaml"
    f.write_text("train:\n  lr: 3e-4\n  weight_decay: 1E-5\n")
    p = load_params(f, ["normalise.target_fps=1.5e1"])
    assert p.train.lr == pytest.approx(3e-4) and p.train.weight_decay == pytest.approx(1e-5)
    assert p.normalise.target_fps == 15.0
    assert params_from_dict({}, ["train.lr=3e-4"]).train.lr == pytest.approx(3e-4)
    with pytest.raises(ParamsError, match=r"train\.lr: expected a number; got 'fast'"):
        params_from_dict({}, ["train.lr=fast"])
    with pytest.raises(ParamsError, match=r"train\.epochs: expected an integer"):
        params_from_dict({}, ["train.epochs=1e3"])  # a count stays an integer


def test_unknown_key_reported_before_an_unset_variable(monkeypatch):
    monkeypatch.delenv("DAIC_WOZ_ROOT", raising=False)
    with pytest.raises(ParamsError, match=r"data_root: unknown key"):
        load_params(ROOT / "params" / "daic_woz.yaml", ["data_root=/x"])
    # an overridden value replaces the file's ${VAR}: it is never resolved
    assert load_params(ROOT / "params" / "daic_woz.yaml", ["data.root=/x"]).data.root == "/x"


@pytest.mark.parametrize("override, message", [
    ("model.clip_windows=4", r"model\.clip_windows: 4 sets the clip length; the session network reads whole sessions"),
    ("model.pooling=last", r"model\.pooling: last summarises a clip's LSTM states"),
    ("train.val_clips=0", r"train\.val_clips: 0 limits the clips scored"),
    ("model.preset=seed", r"model\.preset: seed is the paper's clip network"),
])
def test_a_clip_key_set_under_the_session_scope_is_an_error(override, message, tmp_path):
    """The default scope (session) reads none of the clip keys: set away from its default, each is an
    error naming the key, why, and the way out; in a params file the error names the file too."""
    with pytest.raises(ParamsError, match=message + r".*model\.scope: clip only.*set model\.scope: clip"):
        params_from_dict({}, [override])
    key, value = override.split("=")
    f = tmp_path / "p.yaml"
    f.write_text(f"{key.split('.')[0]}:\n  {key.split('.')[1]}: {value}\n")
    with pytest.raises(ParamsError, match=r"p\.yaml: " + message):
        load_params(f)
    assert getattr(params_from_dict({}, [override, "model.scope=clip"]), key.split(".")[0])  # fine on clips


def test_a_scope_key_at_its_default_or_under_its_own_scope_is_accepted():
    # written out at the default value: the same run as leaving it out, so no error
    p = params_from_dict({"model": {"clip_windows": 8, "pooling": "mean", "preset": "light"}, "train": {"val_clips": 8}})
    assert p == Params()
    clip = params_from_dict({}, ["model.scope=clip", "model.clip_windows=4", "model.pooling=last", "train.val_clips=2"])
    assert clip.model.clip_windows == 4
    with pytest.raises(ParamsError, match=r"train\.span_windows: 32 sets the session network's training spans.*"
                                          r"model\.scope: session only"):
        params_from_dict({}, ["model.scope=clip", "train.span_windows=32"])


def test_smoke_settings_hold_no_key_of_one_scope_only():
    from pseudoface.params import SCOPE_ONLY, SMOKE
    assert not {o.split("=")[0] for o in SMOKE} & {f"{s}.{k}" for s, k in SCOPE_ONLY}
    for scope in ("session", "clip"):
        params_from_dict({}, [*SMOKE, f"model.scope={scope}"])
    assert "clip_windows" not in (ROOT / "params" / "synthetic.yaml").read_text()


def test_a_variant_that_switches_scope_drops_the_other_scopes_settings():
    """The report's clip variant of a session run with its own span length: the span is the session
    network's setting, so the variant trains at the defaults of its own scope, not an error."""
    from pseudoface.params import derive
    session = params_from_dict({}, ["train.span_windows=32", "train.epochs=3"])
    clip = derive(session, ["model.scope=clip"])
    assert clip.model.scope == "clip" and clip.train.span_windows == 64 and clip.train.epochs == 3
    seed = derive(session, ["model.scope=clip", "model.preset=seed", "model.clip_windows=16"])
    assert (seed.model.preset, seed.model.clip_windows) == ("seed", 16)
    back = derive(params_from_dict({}, ["model.scope=clip", "model.clip_windows=4"]), ["model.scope=session"])
    assert back.model.clip_windows == 8


def test_the_old_preset_name_default_is_read_as_light_with_a_warning():
    """``model.preset: default`` named the light CNN-LSTM while "default" also named the default
    (session) network; renamed light, the old name still loads (run folders written before keep working)."""
    with pytest.warns(FutureWarning, match=r"model\.preset: default is now called light"):
        p = params_from_dict({"model": {"preset": "default"}})
    assert p.model.preset == "light" and p == Params()
    with pytest.raises(ParamsError, match=r"model\.preset: expected one of light, seed"):
        params_from_dict({}, ["model.preset=heavy"])
