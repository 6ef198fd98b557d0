"""The contracts between modules: metrics.json and the report stamp follow their versioned JSON
Schemas (schema.py), checked where they are written and where they are read, with one-line errors
naming the file and the place; every ``metrics["key"]`` a library module reads is a key of the schema."""
import ast
import json
from pathlib import Path

import pytest

from conftest import encoded
from pseudoface.learning import runs, schema
from pseudoface.learning.cv import RunSpec, cross_validate
from pseudoface.params import SMOKE, params_from_dict

PKG = Path(__file__).parent.parent / "lib" / "pseudoface"


@pytest.fixture(scope="module")
def two_runs(synth_root, tmp_path_factory):
    """A binary and a regression smoke run on the shared synthetic corpus."""
    out = {}
    for task in ("binary", "regression"):
        params = params_from_dict({"dataset": "synthetic", "data": {"root": str(synth_root), "min_valid_seconds": 5}},
                                  list(SMOKE) + [f"model.task={task}", "cv.bootstrap=20"])
        folder = tmp_path_factory.mktemp(task)
        cross_validate([RunSpec(params, folder, encoded(params))], progress=False)
        out[task] = folder
    return out


def test_both_tasks_write_metrics_that_follow_the_schema(two_runs):
    for task, folder in two_runs.items():
        m = runs.load_metrics(folder)  # checks it
        assert m["schema_version"] == schema.METRICS_VERSION and m["task"] == task
        assert ("regression" in m) == (task == "regression")


def test_a_metrics_file_of_another_shape_is_one_line_naming_file_and_place(two_runs, tmp_path):
    m = json.loads((two_runs["binary"] / runs.METRICS).read_text())
    cases = {
        "missing": lambda d: d["baselines"]["feature_model"]["macro_f1"].pop("ci95_corrected_t"),
        "renamed": lambda d: d["macro_f1"].update(ci95=d["macro_f1"].pop("ci95_corrected_t")),
        "wrong type": lambda d: d["fold_details"][0].update(best_epoch="seven"),
        "regression keys on a binary run": lambda d: d.update(target_scales=[[1.0, 2.0]]),
    }
    places = {"missing": "baselines.feature_model.macro_f1", "renamed": "macro_f1",
              "wrong type": "fold_details.0.best_epoch", "regression keys on a binary run": "top level"}
    for name, change in cases.items():
        broken = json.loads(json.dumps(m))
        change(broken)
        (tmp_path / runs.METRICS).write_text(json.dumps(broken))
        with pytest.raises(schema.ContractError) as err:
            runs.load_metrics(tmp_path)
        line = str(err.value)
        assert "\n" not in line and str(tmp_path / runs.METRICS) in line and f"at {places[name]}:" in line, (name, line)


def test_a_metrics_file_of_an_older_schema_says_to_run_again(two_runs, tmp_path):
    m = json.loads((two_runs["binary"] / runs.METRICS).read_text())
    m.pop("schema_version")
    m["macro_f1"]["ci95"] = m["macro_f1"].pop("ci95_corrected_t")  # what version 1 wrote
    (tmp_path / runs.METRICS).write_text(json.dumps(m))
    with pytest.raises(schema.ContractError, match="run it again"):
        runs.load_metrics(tmp_path)


def test_the_writer_refuses_metrics_that_drift_from_the_schema(synth_root, tmp_path, monkeypatch):
    """A new key written without a schema change fails where it is written, not in a reader."""
    from pseudoface.learning import task as taskmod
    real = taskmod.BinaryTask.outputs
    monkeypatch.setattr(taskmod.BinaryTask, "outputs", lambda self, *a: real(self, *a) | {"macro_f1_new": 1.0})
    params = params_from_dict({"dataset": "synthetic", "data": {"root": str(synth_root), "min_valid_seconds": 5}},
                              list(SMOKE))
    with pytest.raises(schema.ContractError, match="being written.*macro_f1_new"):
        cross_validate([RunSpec(params, tmp_path / "run", encoded(params))], progress=False)
    assert not (tmp_path / "run" / runs.METRICS).exists()


def test_every_metrics_key_a_module_reads_is_in_the_schema():
    """``metrics["key"]`` and ``metrics.get("key")`` anywhere in the library name a schema key."""
    keys, read = set(schema.METRICS["properties"]), []
    for path in sorted(PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", "") == "metrics" \
                    and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                read.append((path.name, node.lineno, node.slice.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and getattr(node.func.value, "id", "") == "metrics" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                read.append((path.name, node.lineno, node.args[0].value))
    assert len(read) > 50  # the scan still finds the readers
    assert [r for r in read if r[2] not in keys] == []


def test_a_stamp_without_its_schema_is_refused_by_the_site(tmp_path):
    from pseudoface.site.report import NOTEBOOKS, STAMP
    from pseudoface.site.website import stamps
    good = {"schema_version": schema.STAMP_VERSION, "report": "abc", "dataset": "synthetic", "published": "2026",
            "run_finished": "2026", "participant_data": True, "downloads": [], "layout": "landmarks",
            "screening": None, "reporting": None, "sanity": None, "explanations": None, "regression": None,
            "from_video": False, "metrics": {"macro_f1": {}, "config": {}}, "comparison": None}
    folder = tmp_path / "reports" / "synthetic"
    folder.mkdir(parents=True)
    notebook = folder / f"{NOTEBOOKS[-1]}.ipynb"
    notebook.write_text(json.dumps({"metadata": {STAMP: good}}))
    assert stamps(tmp_path, ["synthetic"])["synthetic"]["report"] == "abc"
    old = dict(good)
    old.pop("schema_version")
    notebook.write_text(json.dumps({"metadata": {STAMP: old}}))
    with pytest.raises(schema.ContractError, match=f"{notebook}: report stamp at top level.*schema_version"):
        stamps(tmp_path, ["synthetic"])
