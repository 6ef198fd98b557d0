"""The notebook suite end to end through `pseudoface report --smoke`: the terminal, the static site in a
real browser, the privacy guard (no local path, no participant id), an interrupted report."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from pseudoface.site import downloads, report, report_plan, website
from pseudoface.corpora.synthetic import write_corpus

ROOT = Path(__file__).parent.parent


def _project(parent: Path) -> Path:
    root = parent / "project"
    root.mkdir(parents=True)
    for name in ("notebooks", "params"):
        shutil.copytree(ROOT / name, root / name)
    for path in [ROOT / "_quarto.yml", *sorted(ROOT.glob("*.qmd"))]:  # every page source the site renders
        shutil.copy(path, root / path.name)
    return root


def _licensed_copy(corpus: Path, dest: Path) -> Path:
    shutil.copytree(corpus, dest)
    (dest / "SYNTHETIC_CORPUS.txt").unlink()  # looks like a real corpus: fail closed
    return dest


def _report(root: Path, env: dict, *args: str, **kw) -> subprocess.CompletedProcess:
    """`pseudoface report ...` as a user runs it, its terminal output captured."""
    return subprocess.run([sys.executable, "-m", "pseudoface.cli", "report", "--smoke", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The suite, through the command, on a tiny synthetic corpus and on two non-synthetic
    (licensed-like) copies: DAIC-WOZ layout with its root as ${DAIC_WOZ_ROOT} in the params file,
    E-DAIC layout with its root as ``--set data.root=``. Project, corpora and cache live under a
    fake home directory, so any published path would show the home directory."""
    tmp = tmp_path_factory.mktemp("report")
    home = tmp / "home" / "alice"
    root = _project(home)
    corpus = write_corpus(tmp / "synth", participants=12, seconds=30, seed=5)
    daic = _licensed_copy(corpus, home / "corpora" / "DAIC-WOZ")
    edaic = _licensed_copy(write_corpus(tmp / "edaic-synth", participants=12, seconds=30, seed=6, fmt="e_daic"),
                           home / "corpora" / "E-DAIC")
    (root / "params" / "daic_woz_test.yaml").write_text(
        "dataset: daic_woz\ndata:\n  root: ${DAIC_WOZ_ROOT}\n  gender_codes: {'0': female, '1': male}\n")
    cache = home / ".cache" / "pseudoface"
    env = dict(os.environ, HOME=str(home), PSEUDOFACE_CACHE_DIR=str(cache), DAIC_WOZ_ROOT=str(daic))
    # a cross-corpus transfer first (its page stays on the site the later reports build): the synthetic
    # DAIC-WOZ-layout corpus generated in the project, scored on a generated E-DAIC-layout one
    transfer = _report(root, env, "--params", "params/synthetic_to_e_daic.yaml", "--set", "data.synthetic_participants=16",
                       "--set", "data.synthetic_seconds=30")
    runs = {"synthetic": _report(root, env, "--params", "params/synthetic.yaml", "--set", f"data.root={corpus}"),
            "daic_woz": _report(root, env, "--params", "params/daic_woz_test.yaml", "--set", "report.comparisons=false",
                                "--set", "report.regression=false"),
            "e_daic": _report(root, env, "--params", "params/e_daic.yaml", "--set", f"data.root={edaic}",
                              "--set", "cv.repeats=1")}
    return {"root": root, "runs": runs, "transfer": transfer, "env": env, "home": home, "cache": cache, "corpus": corpus,
            "licensed": {"daic_woz": daic, "e_daic": edaic}}


@pytest.mark.slow
def test_all_notebooks_ran(built):
    root = built["root"]
    for ds, run in built["runs"].items():
        assert run.returncode == 0, (ds, run.stdout, run.stderr)
        for name in report.NOTEBOOKS:
            nb = nbformat.read(root / "reports" / ds / f"{name}.ipynb", as_version=4)
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                      if o.get("output_type") == "error"]
            assert errors == []
            assert nb.metadata["papermill"]["input_path"] == f"notebooks/{name}.ipynb"
    # the renderer is the one this machine has: Quarto where the reports' PATH holds it, else the fallback
    quarto = shutil.which("quarto", path=built["env"].get("PATH"))
    renderer = "quarto" if quarto else f"{website.STATIC_RENDERER} (Quarto is not on PATH)"
    for ds, run in built["runs"].items():
        assert f"site built with {renderer}: reports/_site/index.html" in run.stdout.splitlines(), (ds, run.stdout)
    assert website.published_datasets(root) == (["daic_woz", "e_daic", "synthetic"], {})


@pytest.mark.slow
def test_a_cross_corpus_report_runs_end_to_end(built):
    """`report` on a cross_corpus params file: both synthetic corpora generated, the cross runs and the
    test corpus's own CV, transfer.json published (no path), the transfer's page and its index card."""
    root, run = built["root"], built["transfer"]
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert "published reports/synthetic_to_e_daic/" in run.stdout
    summary = json.loads((root / "reports" / "synthetic_to_e_daic" / "transfer.json").read_text())
    assert summary["training"]["n"] == 16 and summary["test"]["n"] == 16 and summary["in_both"] == 0
    assert summary["training"]["dataset"] == "synthetic" and summary["synthetic"] is True
    marker = json.loads((root / "data" / "synthetic_e_daic" / "SYNTHETIC_CORPUS.txt").read_text())
    assert marker["format"] == "e_daic" and marker["first_id"] == 600  # the other layout, other people
    assert (root / "data" / "synthetic" / "300_P" / "300_CLNF_AUs.txt").is_file()  # the training corpus's series
    for runs_dir in ("cross-none", "cross-standardise", "within"):
        assert (root / "runs" / "synthetic_to_e_daic" / "report" / runs_dir / "metrics.json").is_file()
    assert str(built["home"]) not in (root / "reports" / "synthetic_to_e_daic" / "transfer.json").read_text()
    site = root / "reports" / "_site"
    page = (site / "reports" / "synthetic_to_e_daic" / "transfer.html").read_text()
    assert "Cross-corpus transfer: synthetic DAIC-WOZ layout → synthetic E-DAIC layout" in page
    assert page.count('class="plotly-graph-div') == 1 and "transfer gap" in page and 'class="pf-banner"' in page
    index = (site / "index.html").read_text()
    assert 'id="synthetic_to_e_daic"' in index and "cross-corpus transfer" in index
    assert "reports/synthetic_to_e_daic/transfer.html" in index


@pytest.mark.slow
def test_the_terminal_shows_progress_and_results_only(built):
    """No papermill parameter warnings, no kernel chatter: every line is one of the report's own."""
    run = built["runs"]["synthetic"]
    allowed = re.compile(r"(report for \w+ \(\w+\.yaml\):|  executed \d\d_\w+ in \d+ s|  published reports/\w+/|"
                         r"  plan: up to \d+ fold trainings .*|"
                         r"site built with .*: reports/_site/index.html)$")
    lines = (run.stdout + run.stderr).splitlines()
    assert [line for line in lines if not allowed.match(line)] == []
    assert sum(line.startswith("  executed") for line in lines) == 4


@pytest.mark.slow
def test_every_quarto_page_exists(built):
    root = built["root"]
    spec = yaml.safe_load((root / "_quarto.yml").read_text())
    for entry in spec["project"]["render"]:
        assert glob.glob(str(root / entry)), entry
    site = root / "reports" / "_site"
    for page in ("index.html", "comparison.html", "method.html", "reports/synthetic/04_fold_analysis.html"):
        assert (site / page).is_file(), page
    index = (site / "index.html").read_text()  # the models, the fused one leading, the network named
    assert "<td>fused (network + features) <em>(headline)</em></td>" in index and "<td>motion-feature model</td>" in index
    assert "<td>CNN-LSTM (whole session)</td>" in index and "(best trivial baseline)" in index
    assert "sensitivity<br>(pooled)" in index and "Label trained and scored" in index
    assert "Pose, gaze and AU exploration" in index  # E-DAIC's first page is named for what it has
    assert "PHQ-8 score (regression, same folds" in index and "training-fold mean" in index  # the synthetic run's
    assert (root / "runs" / "synthetic" / "report" / "regression" / "metrics.json").is_file()
    assert not (root / "runs" / "daic_woz" / "report" / "regression").exists()  # switched off there


@pytest.mark.slow
def test_comparisons_ran_in_the_same_folds(built):
    import pandas as pd
    root = built["root"]
    table = pd.read_csv(root / "runs" / "synthetic" / "report" / "comparisons.csv")
    assert list(table.name) == ["default (window layout, aligned)", "seed preset (frame layout)",
                                "window layout, no alignment", "CNN-LSTM on clips (the paper's design)"]
    assert table.feature.notna().all() and table.fused.notna().all()  # the three models for every variant
    folds = {json.loads((root / "runs" / "synthetic" / "report" / run / "metrics.json").read_text())["n_participants"]
             for run in table.run}
    assert len(folds) == 1  # every variant saw the same participants
    assert "seed preset (frame layout)" in (root / "reports" / "_site" / "comparison.html").read_text()
    assert not (root / "runs" / "daic_woz" / "report" / "comparisons.csv").exists()  # switched off there
    # a corpus without landmarks runs the variants that need none
    edaic = pd.read_csv(root / "runs" / "e_daic" / "report" / "comparisons.csv")
    # ... and, as a licensed corpus, the 27 series it shares with DAIC-WOZ in the same folds (issue 32)
    assert list(edaic.name) == ["default (window layout, aligned)", "CNN-LSTM on clips (the paper's design)",
                                "pose, gaze and AU series shared by both corpora"]
    shared = json.loads((root / "runs" / "e_daic" / "report" / edaic.run.iloc[-1] / "metrics.json").read_text())
    assert shared["input_shape"][1] == 27 and shared["config"]["data"]["signals"] == "shared_series"


@pytest.mark.slow
def test_the_built_site_prints_the_intervals_of_metrics_json(built):
    """The built pages (index, page 3, the reporting page, the Comparison page) and the downloads show
    the corrected t intervals metrics.json stores, named; a comparison's difference is that of the
    fold means drawn; an E-DAIC run's reporting items describe its series and its input shape."""
    import pandas as pd
    from pseudoface.learning.intervals import BOOTSTRAP_KEY, CORRECTED_T, CORRECTED_T_KEY, UNIT, ci_text
    root = built["root"]
    site, main = root / "reports" / "_site", root / "runs" / "synthetic" / "report" / "main"
    metrics = json.loads((main / "metrics.json").read_text())
    index = (site / "index.html").read_text()
    training = (site / "reports" / "synthetic" / "03_training.html").read_text()
    tripod = (site / "reports" / "synthetic" / "reporting.html").read_text()
    published = (root / "reports" / "synthetic" / "downloads" / "reporting.md").read_text()
    for s in (metrics["fused_model"], metrics):
        text = ci_text(s["macro_f1"][CORRECTED_T_KEY], bounds=UNIT)  # with the note when it runs past 0 or 1
        assert f"<td>{text}</td>" in index and text in training
        assert f"95% CI {text}, {CORRECTED_T}" in tripod and f"95% CI {text}, {CORRECTED_T}" in published
        bootstrap = ci_text(s["macro_f1"][BOOTSTRAP_KEY])
        assert bootstrap not in index and bootstrap not in tripod and bootstrap not in training
    assert f"95% CI of the mean<br>({CORRECTED_T})" in index
    table = pd.read_csv(root / "runs" / "synthetic" / "report" / "comparisons.csv")
    assert table.difference[1:].to_numpy() == pytest.approx(table["mean"][1:].to_numpy() - table["mean"][0])
    comparison = (site / "comparison.html").read_text()
    assert f"95% CI by the {CORRECTED_T}" in comparison and "paired participant bootstrap" not in comparison
    edaic = (site / "reports" / "e_daic" / "reporting.html").read_text()
    assert "input 2 × 31 × 60" in edaic and "rigidly aligned" not in edaic and "one channel" not in edaic


@pytest.mark.slow
def test_every_published_column_is_in_the_data_dictionary(built):
    import pandas as pd
    folder = built["root"] / "reports" / "synthetic" / "downloads"
    dictionary = pd.read_csv(folder / downloads.DICTIONARY)
    for path in folder.glob("*.csv"):
        if path.name != downloads.DICTIONARY:
            listed = dictionary[dictionary.file == path.name].column.tolist()
            assert listed == list(pd.read_csv(path, nrows=0).columns), path.name
    assert dictionary.meaning.str.len().min() > 10


def _published_files(root: Path):
    for base in (root / "reports" / "_site", *(root / "reports" / ds for ds in ("synthetic", "daic_woz", "e_daic"))):
        yield from (p for p in base.rglob("*") if p.is_file())


@pytest.mark.slow
def test_no_local_path_is_published(built):
    """The root passed both ways, the home directory, the cache: in no page, notebook or download."""
    root = built["root"]
    private = {"home": str(built["home"]), "cache": str(built["cache"]), "synthetic root": str(built["corpus"]),
               **{f"{ds} root": str(p) for ds, p in built["licensed"].items()}}
    files = list(_published_files(root))
    assert any(p.suffix == ".csv" for p in files) and any(p.name == "metrics.json" for p in files)
    for path in files:
        text = path.read_text(errors="replace")
        for what, value in private.items():
            assert value not in text, f"{path.relative_to(root)} contains the {what}"
    nb = nbformat.read(root / "reports" / "e_daic" / "01_landmarks.ipynb", as_version=4)
    [injected] = [c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "data.root=${PSEUDOFACE_DATA_ROOT}" in injected  # the --set root, by the variable's name


@pytest.mark.slow
def test_privacy_guard_on_non_synthetic_roots(built):
    root = built["root"]
    for ds, licensed in built["licensed"].items():
        ids = sorted({p.name[:3] for p in licensed.glob("*_P")})
        assert ids
        pages = list((root / "reports" / "_site" / "reports" / ds).rglob("*.*"))
        assert any(p.name == "predictions.csv" for p in pages)
        for page in pages:
            text = page.read_text(errors="replace")
            for pid in ids:
                assert not shows_participant_id(text, pid, page.suffix), (ds, page.name, pid)
    nb = (root / "reports" / "daic_woz" / "01_landmarks.ipynb").read_text()
    assert "Not shown: this is a licensed corpus" in nb
    # the synthetic run does show its (synthetic) example participant
    assert "first 10 s" in (root / "reports" / "synthetic" / "01_landmarks.ipynb").read_text()


class _Shown(HTMLParser):
    """What an HTML page shows or says: its text outside scripts and styles, its attribute values
    (not style, id, class) and every string of each plotly figure's JSON (titles, tick labels, hover
    text, trace names); not the figures' numbers (a height of 300 is no participant id), nor other
    scripts (libraries)."""
    SKIPPED_ATTRIBUTES = {"style", "id", "class"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.strings, self._in = [], None

    def handle_starttag(self, tag, attrs):
        self.strings += [v for k, v in attrs if v and k not in self.SKIPPED_ATTRIBUTES]
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.strings += plotly_strings(data)
        elif self._in is None:
            self.strings.append(data)


def _json_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):  # bdata: a numeric array, base64-encoded
        return [s for k, v in value.items() if k not in ("bdata", "dtype") for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def plotly_strings(script: str) -> list[str]:
    """The strings of the JSON arguments of each ``Plotly.newPlot(...)`` call in ``script``."""
    decoder, out = json.JSONDecoder(), []
    for call in re.finditer(r"Plotly\.newPlot\(", script):
        at = call.end()
        while True:
            at = len(script) - len(script[at:].lstrip(" \t\r\n,"))
            try:
                value, at = decoder.raw_decode(script, at)
            except json.JSONDecodeError:
                break
            out += _json_strings(value)
    return out


def shows_participant_id(text: str, pid: str, suffix: str = ".html") -> bool:
    """Whether a published file shows participant ``pid`` (three digits, not inside a longer number
    or word): an HTML page in what it shows (:class:`_Shown`), any other file (CSV, JSON) anywhere."""
    if suffix == ".html":
        shown = _Shown()
        shown.feed(text)
        text = "\n".join(shown.strings)
    return re.search(rf"(?<![\w.\-]){pid}(?![\w.])", text) is not None


def test_the_participant_id_guard_reads_what_a_page_shows_not_figure_numbers():
    import plotly.graph_objects as go
    import plotly.io as pio
    fig = go.Figure(go.Bar(x=["a", "b"], y=[300, 2])).update_layout(height=300, width=718)
    page = f"<html><body><p>Results</p>{pio.to_html(fig, include_plotlyjs=False, full_html=False)}</body></html>"
    assert not shows_participant_id(page, "300") and not shows_participant_id(page, "718")
    labelled = go.Figure(go.Bar(x=["300", "b"], y=[1, 2], hovertext=["x", "participant 718"]))
    page = pio.to_html(labelled, include_plotlyjs=False, full_html=False)
    assert shows_participant_id(page, "300") and shows_participant_id(page, "718")
    assert shows_participant_id("<table><tr><th>id</th></tr><tr><td>303</td></tr></table>", "303")
    assert shows_participant_id('<a href="p/303/index.html">x</a>', "303")
    assert not shows_participant_id("<p>1303 and 303.5 and 303px</p>", "303")
    assert shows_participant_id("participant,score\n303,0.4\n", "303", ".csv")


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _default_sigint():
    # a terminal's process has Ctrl-C's default action; a suite started in the background by a
    # non-interactive shell (`make test &`) has SIGINT ignored, and children inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_a_report_interrupted_after_two_notebooks_publishes_nothing(built):
    """Ctrl-C during notebook 03: one line says what was kept; the previous complete report stays
    published as it was; nothing half-built is left where the site looks."""
    root = built["root"]
    before = _tree(root / "reports" / "daic_woz")
    proc = subprocess.Popen([sys.executable, "-m", "pseudoface.cli", "report", "--smoke", "--params",
                             "params/daic_woz_test.yaml", "--set", "report.comparisons=false"], cwd=root,
                            env=built["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("  executed 02_"):
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (seen, out, err)
    assert err.strip().count("\n") == 0 and err.startswith("interrupted: "), err
    assert "stopped after 2 of 4 notebooks" in err and "reports/daic_woz/ keeps the previous complete report" in err
    assert _tree(root / "reports" / "daic_woz") == before
    assert not (root / "reports" / "_partial").exists()
    assert "daic_woz" in website.published_datasets(root)[0]


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _open(browser: str, page: Path, netlog: Path) -> str:
    """The DOM of ``page`` after its scripts ran, with chromium's network log written to ``netlog``."""
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tempfile.mkdtemp()}", "--virtual-time-budget=8000", f"--log-net-log={netlog}",
         "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout


def _page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked for (the browser's own update and account checks are not the page's)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"] if e["type"] == start and "url" in e.get("params", {})
            and "file://" in e["params"].get("network_isolation_key", "")]


def _links(html: str, selector_class: str) -> list[str]:
    """hrefs inside the elements whose class attribute contains ``selector_class``."""
    hrefs = []
    for block in re.findall(rf'<(nav|div|header|p|section)[^>]*class="[^"]*{selector_class}[^"]*"[^>]*>(.*?)</\1>',
                            html, flags=re.S):
        hrefs += re.findall(r'href="([^"#]+)', block[1])
    return hrefs


@pytest.mark.slow
@pytest.mark.browser
def test_pages_draw_in_a_real_browser(built, tmp_path):
    """Every page: each plotly figure drew, no request left the machine, the navbar, pager and
    download links resolve, and on a synthetic dataset the banner is there."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    site = built["root"] / "reports" / "_site"
    pages = sorted(site.rglob("*.html"))
    # the site's pages, each dataset's four and its reporting page, the transfer's one page
    assert len(pages) == 3 + 3 * (len(report.NOTEBOOKS) + 1) + 1
    synthetic = {"index.html", "comparison.html", "method.html", "reports/synthetic_to_e_daic/transfer.html",
                 *(f"reports/synthetic/{n}.html" for n in (*report.NOTEBOOKS, website.REPORTING))}
    for i, page in enumerate(pages):
        name = str(page.relative_to(site))
        html = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', html), f"{name}: refers to the internet"
        assert html.count("plotly.min.js") <= 1 and "* plotly.js v" not in html, f"{name}: plotly.js embedded"
        dom = _open(browser, page, tmp_path / f"net{i}.json")
        assert "Traceback" not in dom, name
        figures = html.count('class="plotly-graph-div')
        drawn = len(re.findall(r'class="[^"]*js-plotly-plot', dom))
        assert drawn == figures, f"{name}: {drawn} of {figures} plotly figures drew"
        assert _page_requests(tmp_path / f"net{i}.json") == [], f"{name}: a request left the machine"
        nav = _links(html, "pf-nav-inner")
        assert {"index.html", "comparison.html", "method.html"} <= {Path(h).name for h in nav}, name
        for href in nav + _links(html, "pf-pager") + _links(html, "pf-downloads") + _links(html, "pf-links"):
            assert (page.parent / href).resolve().is_file(), f"{name}: link {href} does not resolve"
        assert 'aria-current="page"' in html, name
        if name in synthetic:
            assert 'class="pf-banner"' in dom, f"{name}: no synthetic-data banner"
        if name.startswith("reports/") and "synthetic_to_e_daic" not in name:
            assert len(_links(html, "pf-downloads")) >= 5, f"{name}: downloads missing"
    fold = (site / "reports" / "synthetic" / "04_fold_analysis.html").read_text()
    assert fold.count('class="plotly-graph-div') >= 5


def test_committed_notebooks_are_thin_and_clean():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells), path
        for c in cells:
            assert not c.get("outputs") and c.get("execution_count") is None, path
            assert not re.search(r"^\s*(def|class)\s", "".join(c["source"]), re.M), path


def test_report_all_skips_params_whose_corpus_is_absent(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("DAIC_WOZ_ROOT", raising=False)
    monkeypatch.setenv("E_DAIC_ROOT", str(tmp_path / "missing"))
    targets = report.report_targets(ROOT, None, every=True)
    assert [Path(p).name for p in targets] == ["synthetic.yaml", "synthetic_to_e_daic.yaml"]
    out = capsys.readouterr().out
    assert "skipped daic_woz.yaml: " in out and "DAIC_WOZ_ROOT is not set" in out
    assert "skipped e_daic.yaml: corpus root" in out
    assert "skipped daic_woz_to_e_daic.yaml: " in out and "skipped e_daic_to_daic_woz.yaml: " in out
    monkeypatch.setenv("DAIC_WOZ_ROOT", str(tmp_path))  # the training corpus present, the test corpus not
    assert "daic_woz_to_e_daic.yaml" not in " ".join(report.report_targets(ROOT, None, every=True))
    assert f"skipped daic_woz_to_e_daic.yaml: corpus root {tmp_path / 'missing'} not found" in capsys.readouterr().out


def test_the_plan_projects_from_the_images_the_params_encode(monkeypatch):
    from pseudoface.learning import plan
    from pseudoface.params import load_params
    synthetic = ROOT / "params" / "synthetic.yaml"
    params = load_params(synthetic)
    assert report_plan.planned_image_shape(params) == (6, 4, 60)  # the compact default: 2 pose + 2 geometry rows, 4 s at 15 fps
    assert report_plan.planned_image_shape(load_params(synthetic, ["encode.landmark_rows=true"])) == (6, 72, 60)
    assert report_plan.planned_image_shape(params, series=31) == (2, 31, 60)  # E-DAIC's pose, gaze and AU series
    shapes = []
    monkeypatch.setattr(plan, "projected_fold_seconds", lambda p, n, shape: shapes.append(shape) or 10.0)
    assert "projected ~" in report.report_plan(params, 48)
    # main, the seed preset's 68x3 frames, no alignment, clips, then the shuffled-label runs (the main run's shape)
    assert shapes == [(6, 4, 60), (3, 68, 3), (6, 4, 60), (6, 4, 60), (6, 4, 60)]
