"""Fold trainings on Ray (issue 13): the same numbers as in-process, retries, failures kept per fold,
sweeps over a grid with reuse. A local Ray with 2 CPUs on the small synthetic corpus; the tests that
start Ray are ``slow`` (``make test`` runs them)."""
import filecmp
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pseudoface.learning import executor, runs
from pseudoface.cli import build_parser, main
from pseudoface.params import SMOKE, load_params

ROOT = Path(__file__).parent.parent
# smoke settings, 3 folds, 2 epochs, one thread per fold (equal numbers across executors need a fixed count)
FAST = ["--smoke", "--set", "train.epochs=2", "--set", "train.patience=2", "--set", "cv.folds=3",
        "--set", "cv.bootstrap=50", "--set", "train.threads=1"]


def _cv_args(synth_root, out, *extra):
    return ["cv", "--params", str(ROOT / "params" / "synthetic.yaml"), "--set", f"data.root={synth_root}",
            *FAST, "--out", str(out), *extra]


def _fold_choices(run: Path) -> list:
    m = json.loads((run / "metrics.json").read_text())
    return [(f["repeat"], f["fold"], f["best_epoch"], f["threshold"]) for f in m["fold_details"]]


# ---------------------------------------------------------------- no Ray needed

def test_execution_keys_change_no_config_hash():
    base = load_params(ROOT / "params" / "synthetic.yaml")
    on_ray = load_params(ROOT / "params" / "synthetic.yaml", ["cv.executor=ray", "cv.ray_address=auto",
                                                              "cv.max_retries=5"])
    assert runs.config_hash(base) == runs.config_hash(on_ray)
    assert runs.config_hash(base) != runs.config_hash(load_params(ROOT / "params" / "synthetic.yaml", ["train.threads=1"]))


def test_ray_flag_on_cv_report_and_sweep():
    from pseudoface.cli import _overrides
    parser = build_parser()
    for argv in (["cv", "--params", "p.yaml"], ["report"], ["sweep", "g.yaml"]):
        assert _overrides(parser.parse_args(argv)) == []
        assert _overrides(parser.parse_args([*argv, "--ray"])) == ["cv.executor=ray"]
        assert _overrides(parser.parse_args([*argv, "--ray", "ray://head:10001"])) == [
            "cv.executor=ray", "cv.ray_address=ray://head:10001"]


def test_sweep_ray_before_the_grid_still_finds_the_grid(monkeypatch):
    import pandas as pd
    from pseudoface import cli
    from pseudoface.site import sweep
    seen = {}

    def fake(grid, params_file=None, overrides=(), out=None):
        seen.update(grid=grid, overrides=list(overrides))
        return pd.DataFrame({"reused": [False], "failed_folds": [0]}), Path("sweep.csv")
    monkeypatch.setattr(sweep, "run_sweep", fake)
    assert cli.main(["sweep", "--ray", "g.yaml"]) == 0
    assert seen == {"grid": "g.yaml", "overrides": ["cv.executor=ray"]}  # a local Ray, not an address "g.yaml"
    assert cli.main(["sweep"]) == 2  # no grid at all: a one-line error


def test_sweep_points_have_the_hash_cv_computes(tmp_path):
    from pseudoface.site.sweep import point_params
    grid = {"cv.seed": [0, 1], "encode.layout": ["window", "frame"], "train.lr": [0.001]}
    base = str(ROOT / "params" / "synthetic.yaml")
    points = point_params(tmp_path / "g.yaml", base, ["train.epochs=3"], grid)
    assert len(points) == 4
    for point, params in points:
        as_cv = load_params(base, ["train.epochs=3"] + [f"{k}={v}" for k, v in point.items()])  # what --set gives
        assert runs.default_run_dir(params) == runs.default_run_dir(as_cv)


def test_bad_grid_is_one_line_error(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  train.lrr: [0.001, 0.01]\n")
    assert main(["sweep", str(grid)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "grid.yaml" in err and "lrr: unknown key" in err and "\n" not in err
    grid.write_text("grid:\n  cv.seed: 3\n")
    assert main(["sweep", str(grid)]) == 2
    assert "grid.cv.seed: expected a non-empty list" in capsys.readouterr().err
    grid.write_text("grid:\n  cv.seed: [0, 1]\n")
    assert main(["sweep", str(grid), "--set", "cv.seed=4"]) == 2
    assert "also set for every point" in capsys.readouterr().err


def test_fault_hook_reads_only_its_fold(monkeypatch):
    monkeypatch.setenv(executor.FAULT_ENV, "r0_f1:once=/tmp/x,r1_f0")
    assert executor.fault_for("r0_f1") == "/tmp/x" and executor.fault_for("r1_f0") == "always"
    assert executor.fault_for("r0_f0") is None
    monkeypatch.delenv(executor.FAULT_ENV)
    assert executor.fault_for("r0_f1") is None


def test_importing_the_library_does_not_import_ray():
    code = ("import sys; import pseudoface.cli, pseudoface.learning.cv, pseudoface.site.sweep, pseudoface.learning.executor, "
            "pseudoface.site.report, pseudoface.site.website; assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- Ray started by the command itself

@pytest.mark.slow
def test_unreachable_cluster_is_a_one_line_error(synth_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_cv_args(synth_root, out, "--ray", "127.0.0.1:9")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cv.ray_address: cannot reach a Ray cluster at 127.0.0.1:9") and "\n" not in err
    assert not out.exists()  # nothing claimed


@pytest.fixture(scope="module")
def local_run(synth_root, tmp_path_factory):
    """The in-process reference, run by the command in a fresh process that must never import ray."""
    out = tmp_path_factory.mktemp("local") / "run"
    code = ("import sys; from pseudoface.cli import main; rc = main(sys.argv[1:]); "
            "assert 'ray' not in sys.modules, 'a local run imported ray'; sys.exit(rc)")
    env = dict(os.environ, PSEUDOFACE_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))
    subprocess.run([sys.executable, "-c", code, *_cv_args(synth_root, out)], check=True, env=env,
                   capture_output=True, text=True)
    return out


@pytest.mark.slow
def test_ray_run_gives_the_same_predictions_and_leaves_nothing_behind(local_run, synth_root, tmp_path, capsys):
    import psutil
    import logging
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), dict(os.environ),
              list(logging.getLogger().handlers))
    out = tmp_path / "run"
    assert main(_cv_args(synth_root, out, "--ray")) == 0  # starts a local Ray, shuts it down
    printed = capsys.readouterr().out
    assert "plan: 3 fold trainings on 2 workers (ray: local Ray, 2 CPUs; 1 thread each)" in printed
    assert filecmp.cmp(local_run / "predictions.csv", out / "predictions.csv", shallow=False)
    assert _fold_choices(out) == _fold_choices(local_run)
    m = json.loads((out / "metrics.json").read_text())
    assert m["device"] == "ray: cpu" and m["failed_folds"] == []
    assert m["config_hash"] == json.loads((local_run / "metrics.json").read_text())["config_hash"]
    assert sorted(p.name for p in (out / "checkpoints").glob("*.pt")) == ["r0_f0.pt", "r0_f1.pt", "r0_f2.pt"]
    # the driver is as it was: no Ray, no Ray processes, same signal handlers, environment and logging
    assert not ray.is_initialized()
    left = [p.name() for p in psutil.Process().children(recursive=True) if p.is_running()]
    assert not [n for n in left if "ray" in n or "gcs" in n], left
    after = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), dict(os.environ),
             list(logging.getLogger().handlers))
    assert after == before


# ---------------------------------------------------------------- one shared local Ray for the rest

@pytest.fixture(scope="module")
def shared_ray():
    """A local Ray with 2 CPUs for the module's remaining tests; the executor uses it and leaves it up."""
    ray = pytest.importorskip("ray")
    saved = executor._process_state()
    executor.start_local_ray(2, 256 << 20)
    yield ray
    ray.shutdown()
    executor._restore(saved)


@pytest.mark.slow
def test_a_task_killed_once_is_retried_and_the_run_completes(shared_ray, local_run, synth_root, tmp_path,
                                                              monkeypatch, capsys):
    marker = tmp_path / "killed-once"
    monkeypatch.setenv(executor.FAULT_ENV, f"r0_f1:once={marker}")
    out = tmp_path / "run"
    assert main(_cv_args(synth_root, out, "--ray", "--set", "cv.max_retries=1")) == 0
    assert marker.is_file()  # the first attempt's worker did die
    assert json.loads((out / "metrics.json").read_text())["failed_folds"] == []
    assert filecmp.cmp(local_run / "predictions.csv", out / "predictions.csv", shallow=False)
    assert "failed" not in capsys.readouterr().err


@pytest.mark.slow
def test_a_task_that_always_dies_is_reported_with_its_fold_and_the_rest_kept(shared_ray, local_run, synth_root,
                                                                              tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(executor.FAULT_ENV, "r0_f1")
    out = tmp_path / "run"
    assert main(_cv_args(synth_root, out, "--ray", "--set", "cv.max_retries=1")) == 1
    err = capsys.readouterr().err
    assert f"error: fold {out} r0_f1 failed after 2 attempt(s)" in err and "--resume" in err
    m = json.loads((out / "metrics.json").read_text())
    assert [(f["repeat"], f["fold"], f["attempts"]) for f in m["failed_folds"]] == [(0, 1, 2)]
    assert "WorkerCrashedError" in m["failed_folds"][0]["error"] or "died" in m["failed_folds"][0]["error"]
    assert sorted(p.stem for p in (out / "folds").glob("*.json")) == ["r0_f0", "r0_f2"]
    assert sorted(p.stem for p in (out / "checkpoints").glob("*.pt")) == ["r0_f0", "r0_f2"]
    params = load_params(ROOT / "params" / "synthetic.yaml", [f"data.root={synth_root}"])
    assert not runs.run_matches(out, params)  # an incomplete run is never reused
    # the driver crashed or not, --resume trains only the missing fold and the numbers are the local ones
    monkeypatch.delenv(executor.FAULT_ENV)
    assert main(_cv_args(synth_root, out, "--ray", "--resume")) == 0
    assert "plan: 1 fold training " in capsys.readouterr().out
    assert json.loads((out / "metrics.json").read_text())["failed_folds"] == []
    assert filecmp.cmp(local_run / "predictions.csv", out / "predictions.csv", shallow=False)


@pytest.mark.slow
def test_sweep_over_two_points_writes_sweep_csv_and_reuses_a_finished_point(shared_ray, synth_root, tmp_path,
                                                                              monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # runs/ and reports/ are relative to the project, as for `cv` and `report`
    grid = tmp_path / "seeds.yaml"
    fixed = [f"data.root={synth_root}", "data.min_valid_seconds=5", "train.threads=1"]
    grid.write_text(f"params: {ROOT / 'params' / 'synthetic.yaml'}\nset: {json.dumps(fixed)}\n"
                    "grid:\n  cv.seed: [0, 1]\n")
    # point cv.seed=0 already run by `cv` (in-process) into its default folder
    cv_argv = ["cv", "--params", str(ROOT / "params" / "synthetic.yaml"), "--smoke",
               *[a for s in fixed for a in ("--set", s)], "--set", "cv.seed=0"]
    assert main(cv_argv) == 0
    first = load_params(ROOT / "params" / "synthetic.yaml", [*SMOKE, *fixed, "cv.seed=0"])
    point0 = runs.default_run_dir(first)
    metrics0 = (point0 / "metrics.json").read_bytes()
    capsys.readouterr()
    assert main(["sweep", str(grid), "--smoke", "--ray"]) == 0
    printed = capsys.readouterr().out
    assert "1 point already finished (reused)" in printed and "plan: 2 fold trainings on 2 workers" in printed
    table = pd.read_csv(tmp_path / "runs" / "synthetic" / "sweeps" / "seeds" / "sweep.csv")
    assert list(table["cv.seed"]) == [0, 1] and list(table.reused) == [True, False]
    assert {"macro_f1_mean", "macro_f1_std", "roc_auc_mean", "feature_model_mean", "stratified_random_mean"} <= set(table.columns)
    assert table.loc[0, "run"] == point0.as_posix() and (point0 / "metrics.json").read_bytes() == metrics0
    assert (tmp_path / table.loc[1, "run"] / "metrics.json").is_file()
    published = tmp_path / "reports" / "_sweeps" / "seeds"
    assert (published / "sweep.csv").is_file() and "run" not in pd.read_csv(published / "sweep.csv").columns
    # again: both points reused, nothing trained, Ray not even needed
    assert main(["sweep", str(grid), "--smoke"]) == 0
    assert "2 points already finished" in capsys.readouterr().out
    assert list(pd.read_csv(tmp_path / "runs" / "synthetic" / "sweeps" / "seeds" / "sweep.csv").reused) == [True, True]


def test_sweep_page_shows_each_point_with_its_baselines(tmp_path):
    from pseudoface.site.sweep_page import published_sweeps, sweeps_body
    folder = tmp_path / "reports" / "_sweeps" / "seeds"
    folder.mkdir(parents=True)
    pd.DataFrame({"cv.seed": [0, 1], "macro_f1_mean": [0.61, 0.55], "macro_f1_std": [0.1, 0.2],
                  "roc_auc_mean": [0.7, 0.6], "roc_auc_std": [0.1, 0.1], "predicted_positive_rate": [0.3, 0.4],
                  "feature_model_mean": [0.6, 0.62], "feature_model_std": [0.05, 0.07], "feature_model_auc": [0.7, 0.7],
                  "stratified_random_mean": [0.5, 0.48], "stratified_random_std": [0.1, 0.1], "folds": [5, 5],
                  "failed_folds": [0, 0], "seconds": [10, 12], "reused": [True, False],
                  "config_hash": ["a", "b"]}).to_csv(folder / "sweep.csv", index=False)
    (folder / "sweep.json").write_text(json.dumps({"name": "seeds", "dataset": "synthetic", "keys": ["cv.seed"],
                                                   "params": "synthetic.yaml", "synthetic": True,
                                                   "code_version": "0.1.0", "finished": "2026-01-01T00:00:00"}))
    sweeps = published_sweeps(tmp_path)
    assert list(sweeps) == ["seeds"]
    body = sweeps_body(sweeps)
    assert "plotly-graph-div" in body and "cv.seed=0" in body and "0.610 ± 0.100" in body
    assert "feature model" in body.lower() and "stratified random" in body.lower()


def test_report_prints_its_plan_with_the_executor():
    """Every fold training notebook 03 runs is counted: the main run, the 3 comparison variants, the
    PHQ-8 regression run (5 runs x 5 folds) and the sanity run's 2 x 5 folds: 35, not 20."""
    from pseudoface.site.report_plan import report_plan
    base = ROOT / "params" / "synthetic.yaml"
    local = report_plan(load_params(base), 48)
    assert local.startswith("plan: up to 35 fold trainings (5 runs x 5: the main run, 3 comparison variants, "
                            "the PHQ-8 regression) + 10 for the shuffled-label sanity run "
                            "(2 permutations x 5 folds of the first repeat), in the notebook's process") and "projected" in local
    without = report_plan(load_params(base, ["cv.shuffled_labels=0"]), 48)
    assert without.startswith("plan: up to 25 fold trainings (5 runs x 5: the main run, 3 comparison variants, "
                              "the PHQ-8 regression), in the notebook's process")
    assert local.split("~")[1] != without.split("~")[1]  # the sanity run is in the projection
    no_regression = report_plan(load_params(base, ["cv.shuffled_labels=0", "report.regression=false"]), 189)
    assert no_regression.startswith("plan: up to 20 fold trainings (4 runs x 5: the main run, 3 comparison variants),")
    # the regression run is in the projection (DAIC-WOZ's 189 participants: minutes apart)
    assert no_regression.split("~")[1] != report_plan(load_params(base, ["cv.shuffled_labels=0"]), 189).split("~")[1]
    on_ray = report_plan(load_params(base, ["cv.executor=ray", "train.threads=1"]), 48)
    assert f"a local Ray: {os.cpu_count()} at once, 1 thread each" in on_ray
    cluster = report_plan(load_params(base, ["cv.executor=ray", "cv.ray_address=auto", "report.comparisons=false",
                                             "cv.shuffled_labels=0"]), 48)
    assert cluster.startswith("plan: up to 10 fold trainings (2 runs x 5: the main run, the PHQ-8 regression), "
                              "Ray cluster at auto")
