"""``pseudoface report``: execute the four notebooks per dataset with papermill and publish them (the site is :mod:`website`'s).

papermill executes; the renderer only renders (the site shows exactly what ran). A dataset's
notebooks run into ``reports/_partial/<dataset>/``; only when all four succeeded are they published:
private paths removed, each notebook stamped with the report's id, the downloads written, and the
folder moved into ``reports/<dataset>/`` in one rename (the previous complete report stays until
then). A report stopped midway publishes nothing; what it left under ``reports/_partial/`` is never
on the site and is cleared by the next report of that dataset. The site is :mod:`website`'s: it
publishes only datasets whose four notebooks carry the same stamp.

Privacy, fail closed like :mod:`explore`: no published file contains a local path (:mod:`privacy`
lists them, replaces them and checks). Path-valued overrides reach the kernels through environment
variables (the notebooks show ``data.root=${PSEUDOFACE_DATA_ROOT}``), papermill's metadata paths are
made relative, every string in the notebooks and downloads is scrubbed, and the result is checked
before it is moved into place. The synthetic marker and ``report.allow_participant_data`` relax only
what :mod:`explore` relaxes (participant identifiers, per-participant sequences), never the paths.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from ..corpora.cache import replace_dir
from .downloads import DOWNLOAD_NAMES, DOWNLOADS, write_downloads
from ..corpora.extract import from_video
from ..params import Params, ParamsError, load_params
from .privacy import PrivacyError, check_published, private_paths, scrub
from ..learning.schema import STAMP_VERSION, check_stamp
from ..corpora.read import ensure_synthetic, is_synthetic, load_corpus
from ..learning.runs import COMPARISONS, METRICS, PREDICTIONS, REPORTING_JSON, load_metrics
from .report_plan import report_plan

NOTEBOOKS = ("01_landmarks", "02_pseudo_images", "03_training", "04_fold_analysis")
PARAMETERS = ("params_file", "overrides", "run_dir")  # the `parameters` cell of every notebook
PARTIAL = "_partial"  # reports/_partial/<dataset>/: a report being executed (never published)
STAMP = "pseudoface"  # notebook metadata key written when a notebook is published
# Overrides whose value is a local path: passed to the kernels as ${PSEUDOFACE_<KEY>}.
PATH_KEYS = ("data.root", "data.labels_dir", "data.cache_dir")
# The kernel's own log ("Kernel is running over TCP without encryption", "KeyboardInterrupt caught in
# kernel" at shutdown) stays out of the terminal: a failing cell is reported from the executed notebook,
# a dead kernel by papermill's error. Cell output goes into the notebooks, never to the terminal.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]


class ReportInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a report; ``kept`` says what stayed on disk."""

    def __init__(self, kept: str):
        super().__init__(kept)
        self.kept = kept


def report_run_dir(root: Path, dataset: str) -> Path:
    """Where a dataset's report keeps its runs: ``main`` and the comparison variants."""
    return root / "runs" / dataset / "report"


def env_name(key: str) -> str:
    """``data.root`` -> ``PSEUDOFACE_DATA_ROOT``."""
    return "PSEUDOFACE_" + re.sub(r"\W", "_", key).upper()


def notebook_inputs(params_file: str, overrides: list, root: Path, dataset: str) -> tuple[dict, dict]:
    """(papermill parameters, environment for the kernels): what the notebooks show carries no path.

    A path-valued override (``data.root=/x``) is shown as ``data.root=${PSEUDOFACE_DATA_ROOT}`` with
    the value in the environment (params expand ``${VAR}``); a params file outside the project is
    shown as ``${PSEUDOFACE_PARAMS_FILE}``; ``run_dir`` is relative to the project."""
    env, shown = {}, []
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key.strip() in PATH_KEYS and value.strip() and not re.fullmatch(r"\$\{\w+\}", value.strip()):
            env[env_name(key.strip())] = value.strip()
            shown.append(f"{key.strip()}=${{{env_name(key.strip())}}}")
        else:
            shown.append(item)
    shown_file = str(params_file)
    if Path(params_file).is_absolute():
        try:
            shown_file = str(Path(params_file).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            env["PSEUDOFACE_PARAMS_FILE"] = str(params_file)
            shown_file = "${PSEUDOFACE_PARAMS_FILE}"
    run_dir = str(Path("runs") / dataset / "report")
    return {"params_file": shown_file, "overrides": shown, "run_dir": run_dir}, env


# What the site needs of a run, kept in each published notebook's stamp so that the site builds from
# the notebooks alone (a checkout without runs/ or downloads/).
SUMMARY_KEYS = ("dataset", "protocol", "synthetic", "n_participants", "n_depressed", "macro_f1", "roc_auc",
                "predicted_positive_rate", "baselines", "differences", "calibration", "code_version",
                "config_hash", "data_fingerprint", "versions", "seconds", "device", "model_parameters",
                "fused_model", "label_rule", "label_disagreements", "fold_details",
                "per_gender")
PUBLICATION_TAG = "pseudoface-publication"  # the appended downloads-and-provenance cell


def json_safe(value):
    """NaN and infinities as None: notebooks are read by strict JSON parsers too (Quarto's)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def provenance_text(stamp: dict) -> str:
    """One paragraph: code version, configuration, data, library versions and dates of a published run."""
    m = stamp.get("metrics", {})
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    return (f"Code version `{m.get('code_version', '?')}` · config hash `{m.get('config_hash', '?')}` · "
            f"data fingerprint `{m.get('data_fingerprint', '?')}` · {versions} · run finished "
            f"{stamp.get('run_finished', '?')[:16].replace('T', ' ')} · published {stamp['published'][:10]}")


def publication_cell(stamp: dict):
    """A markdown cell appended to each published notebook: the downloads and the provenance."""
    import nbformat
    links = " · ".join(f"[{DOWNLOAD_NAMES.get(n, n)}]({DOWNLOADS}/{n})" for n in stamp["downloads"])
    privacy = ("" if stamp["participant_data"] else " Predictions of a licensed corpus are published without "
               "participant identifiers or PHQ-8 scores: a random key per participant, rows shuffled.")
    if stamp.get("from_video"):
        from ..corpora.extract import NOT_OPENFACE
        privacy += f" {NOT_OPENFACE}"
    cell = nbformat.v4.new_markdown_cell(f"## Downloads and provenance\n\nThe run behind these pages: {links}.{privacy}"
                                         f"\n\n{provenance_text(stamp)}")
    cell.metadata["tags"] = [PUBLICATION_TAG]
    cell["id"] = "publication"
    return cell


REGRESSION_KEYS = ("regression", "regression_baselines", "regression_fused_model", "paired_mae_vs_mean", "fold_details",
                   "n_participants", "macro_f1", "baselines", "fused_model", "seconds")


def _regression_summary(run: Path) -> dict | None:
    """What the site shows of the regression companion run (aggregates only), or None without one."""
    m = load_metrics(run) if (run / METRICS).is_file() else None
    return {k: m[k] for k in REGRESSION_KEYS if k in m} if m and m.get("task") == "regression" else None


def publish(staging: Path, dataset: str, params: Params, root: Path, layout: str = "landmarks") -> Path:
    """Make the executed notebooks in ``staging`` publishable and move them to reports/<dataset>/;
    ``layout``: what the corpus gives ("landmarks", or "series" for pose/gaze/AU series: E-DAIC)."""
    from ..learning.explain import top_groups
    from .results import screening
    from ..learning.sanity import load_sanity
    import nbformat
    paths = private_paths(params, root)
    participant_data = is_synthetic(Path(params.data.root).expanduser()) or params.report.allow_participant_data
    run_root = report_run_dir(root, dataset)
    downloads = write_downloads(run_root, staging / DOWNLOADS, participant_data, paths)
    downloads_text = {n: (staging / DOWNLOADS / n).read_text() for n in downloads if n.endswith(".json")}
    metrics = load_metrics(run_root / "main")
    comparison = (pd.read_csv(run_root / COMPARISONS).drop(columns=["run"], errors="ignore")
                  if (run_root / COMPARISONS).is_file() else None)
    stamp = scrub({
        "report": uuid.uuid4().hex[:12], "dataset": dataset, "published": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_finished": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime((run_root / "main" / METRICS).stat().st_mtime)),
        "participant_data": bool(participant_data), "downloads": downloads, "layout": layout,
        # sensitivity, specificity and Brier of each model (pooled over the first repeat): counts only
        "screening": screening(pd.read_csv(run_root / "main" / PREDICTIONS, dtype={"participant_id": str})),
        # the reporting page: the TRIPOD+AI items (written for this run by notebook 03) and the sanity run
        "reporting": (json.loads(downloads_text[REPORTING_JSON]) if REPORTING_JSON in downloads_text else None),
        "sanity": load_sanity(run_root / "main"),
        "explanations": top_groups(run_root / "main"),
        # the PHQ-8 regression in the same folds (notebook 03's companion run), when it ran
        "regression": _regression_summary(run_root / "regression"),
        "from_video": from_video(Path(params.data.root).expanduser()),  # landmarks by `pseudoface extract`
        # the model section of the config: which network the run trained (its scope names it on the site)
        "metrics": {k: metrics[k] for k in SUMMARY_KEYS if k in metrics} | {"config": {"model": metrics["config"]["model"]}},
        "comparison": json.loads(comparison.to_json(orient="records")) if comparison is not None else None}, paths)
    stamp = check_stamp(json_safe(stamp | {"schema_version": STAMP_VERSION}), f"{staging} (the stamp being written)")
    for name in NOTEBOOKS:
        path = staging / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        pm = nb.metadata.get("papermill", {})
        pm.update(input_path=f"notebooks/{name}.ipynb", output_path=f"reports/{dataset}/{name}.ipynb",
                  environment_variables={})
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "parameters" in tags:  # the defaults papermill overrode: superseded by the injected cell
                cell.metadata["tags"] = [*tags, "remove-cell"]  # nbconvert's TagRemovePreprocessor
                cell.source = "#| include: false\n" + cell.source  # Quarto's cell option
            elif "injected-parameters" in tags:
                cell.source = '#| code-summary: "Parameters this page ran with"\n' + cell.source
        nb.cells.append(publication_cell(stamp))
        nb = nbformat.from_dict(scrub(json.loads(json.dumps(nb)), paths))
        nb.metadata[STAMP] = stamp
        nbformat.write(nb, path)
    check_published(staging, paths)
    final = root / "reports" / dataset
    replace_dir(staging, final, root / "reports" / PARTIAL / f"{dataset}.previous")
    with contextlib.suppress(OSError):
        (root / "reports" / PARTIAL).rmdir()  # only when empty
    return final


@contextlib.contextmanager
def _environment(env: dict):
    """Set (a value) or unset (None) environment variables for the duration."""
    saved = {k: os.environ.get(k) for k in env}
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_parameters(notebook: Path, names=PARAMETERS) -> None:
    """papermill must recognise every parameter we pass (an unknown one would be injected unused)."""
    import papermill as pm
    found = set(pm.inspect_notebook(str(notebook)))
    if set(names) - found:
        raise ParamsError(f"{notebook}: its `parameters` cell does not define {', '.join(sorted(set(names) - found))} "
                          f"(papermill found: {', '.join(sorted(found)) or 'none'})")


def execute_notebooks(params_file: str, dataset: str, overrides: list, root: Path, layout: str = "landmarks") -> list[str]:
    """Run the four notebooks and publish them into reports/<dataset>/; returns the problems
    (empty if all ran). The first failing notebook stops the run; nothing is published then."""
    import papermill as pm
    root = Path(root)
    logging.getLogger("papermill").setLevel(logging.ERROR)  # its INFO/WARNING lines are not results
    params = load_params(params_file, overrides)
    staging = root / "reports" / PARTIAL / dataset
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    parameters, env = notebook_inputs(params_file, overrides, root, dataset)
    env["PLOTLY_RENDERER"] = None  # the notebooks' default: plotly.js embedded, nothing from a CDN
    problems, finished = [], []
    try:
        with _environment(env):
            for current in NOTEBOOKS:
                source = root / "notebooks" / f"{current}.ipynb"
                check_parameters(source)
                t = time.perf_counter()
                try:
                    pm.execute_notebook(str(source), str(staging / f"{current}.ipynb"), parameters=parameters,
                                        kernel_name="python3", cwd=str(root), progress_bar=False,
                                        extra_arguments=KERNEL_ARGS)
                except Exception as exc:  # papermill's error names the failing cell and the exception
                    what = (f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}" if isinstance(exc, pm.PapermillExecutionError)
                            else f"{type(exc).__name__}: {exc}")
                    problems.append(f"{dataset}/{current}: {what}")
                    print(f"  FAILED {current}: {what}", flush=True)
                    break
                finished.append(current)
                print(f"  executed {current} in {time.perf_counter() - t:.0f} s", flush=True)
    except KeyboardInterrupt:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            staging.parent.rmdir()  # only when empty
        raise ReportInterrupted(f"the report of {dataset} stopped after {len(finished)} of {len(NOTEBOOKS)} notebooks; "
                                f"nothing of it published ({_kept(root, dataset)})") from None
    if problems:
        print(f"  nothing published for {dataset} ({_kept(root, dataset)}); the executed notebooks are in "
              f"{staging.relative_to(root)}/", flush=True)
        return problems
    try:
        publish(staging, dataset, params, root, layout)
    except PrivacyError as exc:
        problems.append(f"{dataset}: {exc}")
        print(f"  nothing published for {dataset}: {exc} ({_kept(root, dataset)})", flush=True)
    return problems


def _kept(root: Path, dataset: str) -> str:
    final = root / "reports" / dataset
    return (f"reports/{dataset}/ keeps the previous complete report" if final.is_dir()
            else f"no report of {dataset} published yet")


def report_targets(root: Path, params_file: str | None, every: bool) -> list[str]:
    """The params files to report on: ``params_file`` (default the synthetic one), or with ``every``
    each ``params/*.yaml`` whose corpus is present (saying which it skipped and why)."""
    if not every:
        return [params_file or "params/synthetic.yaml"]
    out = []
    for path in sorted((root / "params").glob("*.yaml")):
        try:
            params = load_params(path)
        except ParamsError as exc:
            print(f"skipped {path.name}: {exc}")
            continue
        roots = [(params.dataset, params.data.root), (params.data.test_dataset, params.data.test_root)]
        missing = [root for dataset, root in roots if root and dataset != "synthetic" and not Path(root).is_dir()]
        if missing:
            print(f"skipped {path.name}: corpus root {missing[0]} not found")
            continue
        out.append(str(path.relative_to(root)))
    return out


def run_report(root: Path, params_files: list[str], overrides: list[str]) -> list[str]:
    """Execute and publish the notebooks for each params file; returns the problems (each failed
    notebook, already printed). The site is :mod:`website`'s."""
    problems, done = [], []
    for params_file in params_files:
        params = load_params(params_file, overrides)
        if params.cv.protocol == "cross_corpus":  # a transfer: its runs and one page, no notebooks
            problems += _transfer_report(params_file, params, root, done)
            continue
        ensure_synthetic(params)
        corpus = load_corpus(params)  # a broken corpus is one clear error here, not four failed notebooks
        print(f"report for {params.dataset} ({Path(params_file).name}):", flush=True)
        first = next(iter(corpus.sessions.values()), None)
        series = len(first.series_names) if first is not None and first.landmarks is None else 0
        print("  " + report_plan(params, len(corpus.sessions), series), flush=True)
        try:
            found = execute_notebooks(params_file, params.dataset, overrides, root, "series" if series else "landmarks")
        except ReportInterrupted as exc:
            published = f"; published before the stop: {', '.join(done)}" if done else ""
            raise ReportInterrupted(f"{exc.kept}{published}; site not rebuilt "
                                    "(`pseudoface report --site-only` rebuilds it)") from None
        problems += found
        if not found:
            done.append(params.dataset)
            print(f"  published reports/{params.dataset}/", flush=True)
    return problems


def _transfer_report(params_file: str, params: Params, root: Path, done: list) -> list[str]:
    """Run (or reuse) a cross-corpus transfer and publish it as ``reports/<params file stem>/``."""
    from ..corpora.textio import DataError
    from ..learning.transfer import run_transfer
    from .transfer_page import publish_transfer, transfer_name
    name = transfer_name(params_file)
    print(f"report for the transfer {name} ({params.dataset} -> {params.data.test_dataset}): the cross runs without "
          f"and with adaptation (one fold each) and the test corpus's own {params.cv.folds}-fold CV", flush=True)
    t = time.perf_counter()
    try:
        summary = run_transfer(params, report_run_dir(root, name))
        publish_transfer(name, params, root, summary)
    except (DataError, ParamsError, PrivacyError) as exc:
        print(f"  FAILED {name}: {exc}", flush=True)
        return [f"{name}: {exc}"]
    done.append(name)
    print(f"  published reports/{name}/ in {time.perf_counter() - t:.0f} s", flush=True)
    return []
