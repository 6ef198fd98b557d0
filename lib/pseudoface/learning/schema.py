"""The two contracts between modules, as versioned JSON Schemas checked where they are written and
where they are read: ``metrics.json`` (written by :func:`runs.write_outputs`, read back by
:func:`runs.load_metrics` for the notebooks, the site, the sanity run, ``predict`` and ``explain``)
and the report stamp (written by :func:`report.publish` into each published notebook, read by the
website). A writer that drifts from the schema fails at once; a reader meets a file of another
schema version with a one-line error naming the file, the place in it and what was expected,
never with a ``KeyError`` pages later.

JSON Schema (draft 2020-12) with the maintained ``jsonschema`` validator: the files are JSON, read
by people and other tools too, so a schema in the standard language is the contract they can use
as well. Bump the version when a key's meaning changes or a required key goes.
"""
from __future__ import annotations

METRICS_VERSION = 2  # 1: before the schema (pooled bootstrap under macro_f1.ci95, paired bootstraps)
STAMP_VERSION = 1


class ContractError(ValueError):
    """A metrics.json or a stamp that does not follow its schema."""


NUMBER = {"type": "number"}  # NaN (no value: one class in a fold) is a number to json and jsonschema
INTERVAL = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2}
NUMBERS = {"type": "array", "items": NUMBER}
TEXTS = {"type": "array", "items": {"type": "string"}}


def _object(required: dict, optional: dict | None = None, closed: bool = True) -> dict:
    """An object schema with these required (and optional) properties; closed: no other key."""
    return {"type": "object", "required": sorted(required), "properties": required | (optional or {}),
            "additionalProperties": not closed}


MEAN_SD = _object({"mean": NUMBER, "std": NUMBER})
# a mean over outer folds with both intervals: the corrected resampled t over folds (every page's) and
# the participant bootstrap of the pooled first repeat (intervals.py)
FOLD_SUMMARY = _object({"mean": NUMBER, "std": NUMBER, "folds": NUMBERS, "ci95_corrected_t": INTERVAL,
                        "pooled": {"type": "object", "additionalProperties": NUMBER},
                        "ci95_pooled_bootstrap": INTERVAL})
CALIBRATION = _object({"brier": NUMBER, "bins": {"type": "array", "items": _object(
    {"mean_score": NUMBER, "observed_rate": NUMBER, "count": {"type": "integer"}})}}, {"method": {"type": "string"}})
PER_GENDER = {"type": "object", "additionalProperties": _object(
    {"n": {"type": "integer"}, "macro_f1": NUMBER, "predicted_positive_rate": NUMBER})}
# one model's screen summarised over the run's folds (the network at the top level, each baseline, the fused model)
SCREEN = {"macro_f1": FOLD_SUMMARY, "roc_auc": MEAN_SD, "balanced_accuracy": MEAN_SD, "f1_depressed": MEAN_SD,
          "predicted_positive_rate": _object({"mean": NUMBER, "std": NUMBER, "folds": NUMBERS}),
          "per_gender": PER_GENDER}
DIFFERENCE = _object({"mean": NUMBER, "std": NUMBER, "folds": NUMBERS, "ci95_corrected_t": INTERVAL})
FOLD_DETAIL = _object({
    "macro_f1": NUMBER, "f1_depressed": NUMBER, "f1_not_depressed": NUMBER, "balanced_accuracy": NUMBER,
    "roc_auc": NUMBER, "precision": NUMBER, "recall": NUMBER,
    "confusion": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
    "predicted_positive_rate": NUMBER, "n": {"type": "integer"}, "n_depressed": {"type": "integer"},
    "repeat": {"type": "integer"}, "fold": {"type": "integer"}, "best_epoch": {"type": "integer"},
    "threshold": NUMBER, "seconds": NUMBER, "n_inner_train": {"type": "integer"}, "n_inner_val": {"type": "integer"}})
SEVERITY = _object({k: FOLD_SUMMARY for k in ("rmse", "mae", "ccc", "pearson")})
BASELINE_NAMES = ("majority", "always_depressed", "stratified_random", "gender_only", "data_quality", "feature_model")

METRICS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"pseudoface metrics.json, schema version {METRICS_VERSION}",
    **_object({
        "schema_version": {"const": METRICS_VERSION},
        "task": {"enum": ["binary", "regression"]},
        "dataset": {"type": "string"}, "protocol": {"enum": ["cv", "official", "cross_corpus"]}, "label_rule": {"type": "string"},
        "synthetic": {"type": "boolean"}, "inputs": {"enum": ["landmarks", "series"]},
        "n_participants": {"type": "integer"}, "n_depressed": {"type": "integer"}, "n_excluded": {"type": "integer"},
        "participant_flow": {"type": "object", "additionalProperties": {"type": "integer"}},
        "label_disagreements": {"type": "integer"}, "excluded_reasons": TEXTS, "problems": TEXTS,
        "config": {"type": "object"}, "config_hash": {"type": "string"}, "code_version": {"type": "string"},
        "versions": {"type": "object", "additionalProperties": {"type": "string"}},
        "data_fingerprint": {"type": "string"}, "seed": {"type": "integer"}, "device": {"type": "string"},
        "model_parameters": {"type": "integer"},
        "input_shape": {"type": "array", "items": {"type": "integer"}},
        "calibration": CALIBRATION,
        **SCREEN,
        "fold_details": {"type": "array", "items": FOLD_DETAIL},
        "baselines": _object({name: _object(SCREEN) for name in BASELINE_NAMES}),
        "fused_model": _object(SCREEN | {"weights": NUMBERS, "calibration": CALIBRATION}),
        "differences": _object({"network_minus_feature_model": DIFFERENCE, "fused_minus_feature_model": DIFFERENCE}),
        "encode": _object({"windows": {"type": "integer"}, "skipped_windows": {"type": "integer"}, "clip_rate": NUMBER}),
        "seconds": NUMBER,
        "failed_folds": {"type": "array", "items": {"type": "object"}},
        "session_minutes": NUMBER,
    }, {  # model.task: regression only (task.RegressionTask.outputs)
        "regression": SEVERITY,
        "regression_baselines": _object({name: SEVERITY for name in ("mean", "median", "ridge")}),
        "regression_fused_model": _object(SEVERITY["properties"] | {"weight": NUMBER}),
        "paired_mae_vs_mean": _object({name: DIFFERENCE for name in ("network", "ridge", "fused", "median")}),
        "target_scales": {"type": "array", "items": INTERVAL},
    }),
    # a regression run carries its severity keys; a binary run none of them
    "if": {"properties": {"task": {"const": "regression"}}},
    "then": {"required": ["regression", "regression_baselines", "regression_fused_model", "paired_mae_vs_mean",
                          "target_scales"]},
    "else": {"not": {"anyOf": [{"required": ["regression"]}, {"required": ["target_scales"]}]}},
}

# The stamp: what a published report says about itself (report.publish; the website reads only this).
NULLABLE_OBJECT = {"type": ["object", "null"]}
STAMP = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"pseudoface report stamp, schema version {STAMP_VERSION}",
    **_object({
        "schema_version": {"const": STAMP_VERSION},
        "report": {"type": "string"}, "dataset": {"type": "string"}, "published": {"type": "string"},
        "run_finished": {"type": "string"}, "participant_data": {"type": "boolean"}, "downloads": TEXTS,
        "layout": {"enum": ["landmarks", "series"]},
        "screening": NULLABLE_OBJECT,  # sensitivity, specificity, Brier per model (results.screening)
        "reporting": NULLABLE_OBJECT,  # reporting.json: the TRIPOD+AI items
        "sanity": NULLABLE_OBJECT,  # sanity.json
        "explanations": NULLABLE_OBJECT,  # explain.top_groups
        "regression": NULLABLE_OBJECT,  # the regression companion run's aggregates (report.REGRESSION_KEYS)
        "from_video": {"type": "boolean"},
        # metrics.json's summary keys (report.SUMMARY_KEYS) and the model section of its config
        "metrics": {"type": "object", "required": ["macro_f1", "config"]},
        "comparison": {"type": ["array", "null"], "items": {"type": "object"}},
    }),
}


def _check(document: dict, schema: dict, where: str, what: str) -> dict:
    from jsonschema import Draft202012Validator
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        place = ".".join(str(p) for p in e.absolute_path) or "top level"
        found = document.get("schema_version") if isinstance(document, dict) else None
        hint = (f" (written with schema version {found}, this pseudoface reads {schema['title'].rsplit(' ', 1)[1]}: "
                "run it again)" if found != schema["properties"]["schema_version"]["const"] else "")
        more = f"; {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
        raise ContractError(f"{where}: {what} at {place}: {e.message[:200]}{hint}{more}")
    return document


def check_metrics(metrics: dict, where: str = "metrics.json") -> dict:
    """``metrics`` itself when it follows :data:`METRICS`; else ContractError, one line."""
    return _check(metrics, METRICS, where, "metrics.json")


def check_stamp(stamp: dict, where: str = "stamp") -> dict:
    """``stamp`` itself when it follows :data:`STAMP`; else ContractError, one line."""
    return _check(stamp, STAMP, where, "report stamp")
