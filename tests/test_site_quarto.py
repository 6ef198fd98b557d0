"""What the site builder writes for Quarto, checked without Quarto (issue 31): the synthetic banner only
where the data are synthetic, nothing loaded from the network, page titles that name the corpus, tables
whose header and cells align alike. Quarto itself is not run here; these tests read the files it reads
(``_quarto.yml``, ``reports/_generated/``, the qmd pages, the published notebooks) and the pages the
builder post-processes after it."""
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import yaml
from test_site import _stamp

from pseudoface.site import captions, report, site_pages, website

ROOT = Path(__file__).resolve().parents[1]
# a script or stylesheet the browser would fetch: src= on any tag, href= on <link>, CSS @import/url()
EXTERNAL = re.compile(r"""(?:<[a-z]+[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
                      r"""|<link[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+"""
                      r"""|@import\s+(?:url\()?\s*["']?(?:https?:)?//[^"')\s]+"""
                      r"""|url\(\s*["']?(?:https?:)?//[^"')\s]+)""", re.I)


def external(text: str) -> list[str]:
    """What ``text`` (HTML, CSS, SCSS, Markdown) would load from the network."""
    return EXTERNAL.findall(text)


def _mixed() -> dict[str, dict]:
    return {"synthetic": _stamp(), "daic_woz": _stamp(False), "e_daic": _stamp(False, layout="series")}


def _published(root: Path, st: dict[str, dict]) -> None:
    """Minimal published reports: four stamped notebooks per dataset, one with a heading and an HTML output."""
    for ds, stamp in st.items():
        folder = root / "reports" / ds
        folder.mkdir(parents=True)
        for name in report.NOTEBOOKS:
            nb = nbformat.v4.new_notebook()
            nb.cells = [nbformat.v4.new_markdown_cell(f"# {site_pages.titles(stamp)[name]}\nWhat this page shows."),
                        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
                            "display_data", data={"text/html": "<p>an output</p>"})])]
            nb.metadata[report.STAMP] = stamp | {"dataset": ds}
            nbformat.write(nb, folder / f"{name}.ipynb")
    for page in ("index.qmd", "comparison.qmd", "sweeps.qmd", "method.qmd", "_quarto.yml"):
        (root / page).write_text((ROOT / page).read_text())


def _build(tmp_path, monkeypatch, st=None) -> Path:
    _published(tmp_path, st or _mixed())
    monkeypatch.setattr(website.shutil, "which", lambda name, *a, **k: None)
    website.build_site(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- (3) the banner, per dataset

def test_the_quarto_metadata_carries_no_site_wide_synthetic_banner():
    """A site-wide announcement would put "say nothing about depression" on every DAIC-WOZ page."""
    st = _mixed()
    dumped = yaml.safe_dump(website.quarto_metadata(list(st), st), allow_unicode=True)
    assert "announcement" not in dumped and "say nothing about depression" not in dumped
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert "say nothing about depression" not in json.dumps(config) and "announcement" not in json.dumps(config)


def test_the_banner_reaches_only_the_synthetic_datasets_pages(tmp_path, monkeypatch):
    root = _build(tmp_path, monkeypatch)
    for ds in ("daic_woz", "e_daic"):
        assert "pf-banner" not in (root / "reports" / ds / "reporting.qmd").read_text(), ds
        for name in report.NOTEBOOKS:
            assert "say nothing about depression" not in (root / "reports" / ds / f"{name}.ipynb").read_text()
    assert captions.BANNER in (root / "reports" / "synthetic" / "reporting.qmd").read_text()
    # the site's own pages: the note names the synthetic dataset, as the fallback's does
    note = (root / "reports" / "_generated" / "banner.md").read_text()
    assert "The Synthetic dataset is made of synthetic data" in note and "DAIC-WOZ" not in note
    for page in ("index.qmd", "comparison.qmd", "sweeps.qmd", "method.qmd"):
        assert "{{< include reports/_generated/banner.md >}}" in (ROOT / page).read_text(), page


def test_a_site_of_real_corpora_has_no_synthetic_note(tmp_path, monkeypatch):
    root = _build(tmp_path, monkeypatch, {"daic_woz": _stamp(False)})
    assert "synthetic" not in (root / "reports" / "_generated" / "banner.md").read_text().lower()


# ---------------------------------------------------------------- (4) nothing from the network

QUARTO_HEAD = """<html><head>
<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js" integrity="sha512-x" crossorigin="anonymous"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js" integrity="sha512-y" crossorigin="anonymous" data-relocate-top="true"></script>
<script type="application/javascript" data-relocate-top="true">define('jquery', [],function() {return window.jQuery;})</script>
<script src="../../site_libs/quarto-nav/quarto-nav.js"></script>
</head><body><div class="plotly-graph-div"></div></body></html>
"""


def test_quarto_pages_load_no_library_from_a_cdn(tmp_path):
    """Quarto puts require.js and jQuery from cdnjs into the head of every notebook page with an HTML
    output; nothing on these pages uses them, and the builder takes them out after rendering."""
    site = tmp_path / "_site"
    (site / "reports" / "x").mkdir(parents=True)
    page = site / "reports" / "x" / "03_training.html"
    page.write_text(QUARTO_HEAD)
    website.share_plotlyjs(site)
    website.keep_offline(site)
    text = page.read_text()
    assert external(text) == [] and "define('jquery'" not in text
    assert '<script src="../../site_libs/quarto-nav/quarto-nav.js"></script>' in text
    assert '<script src="../../assets/plotly.min.js"></script>' in text


def test_a_quarto_build_is_taken_offline_after_rendering(tmp_path, monkeypatch):
    """The Quarto branch of build_site, with a stand-in for `quarto render` that writes pages the way
    Quarto does (CDN libraries in the head, plotly.js embedded by the notebook renderer)."""
    _published(tmp_path, {"daic_woz": _stamp(False)})

    def render(command, cwd, check):
        assert command[:2] == ["quarto", "render"]
        page = Path(cwd) / "reports" / "_site" / "reports" / "daic_woz" / "03_training.html"
        page.parent.mkdir(parents=True)
        page.write_text(QUARTO_HEAD)

    monkeypatch.setattr(website.shutil, "which", lambda name, *a, **k: "/usr/bin/quarto")
    monkeypatch.setattr(website.subprocess, "run", render)
    assert website.build_site(tmp_path) == "quarto"
    text = (tmp_path / "reports" / "_site" / "reports" / "daic_woz" / "03_training.html").read_text()
    assert external(text) == [] and '<script src="../../assets/plotly.min.js"></script>' in text


def test_the_quarto_theme_fetches_no_web_font():
    """cosmo @imports Source Sans Pro from Google Fonts unless $web-font-path is false."""
    html = yaml.safe_load((ROOT / "_quarto.yml").read_text())["format"]["html"]
    themes = html["theme"] if isinstance(html["theme"], list) else [html["theme"]]
    scss = [ROOT / t for t in themes if t.endswith(".scss")]
    assert scss and any(re.search(r"^\$web-font-path:\s*false\s*;", p.read_text(), re.M) for p in scss)
    assert html.get("html-math-method") == "plain"  # MathJax would come from a CDN
    for path in scss:
        assert external(path.read_text()) == [], path


def test_the_method_page_has_its_heading_once_in_both_builds(tmp_path, monkeypatch):
    """Seen with Quarto 1.7.34: "Method, protocol and privacy" twice, the front matter's title and the
    body's own H1. The body has no H1; the fallback draws the front matter's title as its heading."""
    qmd = (ROOT / "method.qmd").read_text()
    title = yaml.safe_load(qmd.split("---", 2)[1])["title"]
    assert not re.search(r"^# ", qmd.split("---", 2)[2], re.M)  # Quarto draws the title; no second heading
    html = (_build(tmp_path, monkeypatch) / "reports" / "_site" / "method.html").read_text()
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", html) == [title]
    assert f"<title>{title} · pseudoface</title>" in html


def test_the_quarto_theme_pads_the_tables_the_builder_writes():
    """Seen with Quarto 1.7.34: the index's difference table (``pf-key``) printed "motion-feature
    model−0.154", Bootstrap pads only tables of class ``table``. Every table class the site's generated
    pages use has padding in the Quarto theme, as the fallback's site.css has."""
    templates = ROOT / "lib" / "pseudoface" / "site" / "templates"
    classes = {c for t in templates.glob("*.j2") for c in re.findall(r'<table class="(pf-[a-z-]+)"', t.read_text())}
    assert {"pf-key", "pf-models"} <= classes
    scss = re.sub(r"//[^\n]*|/\*.*?\*/", "", (ROOT / "site.scss").read_text(), flags=re.S)
    rules = re.findall(r"([^{};]+)\{([^}]*)\}", scss)  # (selectors, body)
    padded = {sel.strip() for sels, body in rules if "padding" in body for sel in sels.split(",")}
    for c in classes:
        assert {f".{c} th", f".{c} td"} <= padded, c


def test_what_quarto_reads_and_the_fallback_site_reference_nothing_outside(tmp_path, monkeypatch):
    root = _build(tmp_path, monkeypatch)
    files = [*root.glob("*.qmd"), root / "_quarto.yml", *(root / "reports" / "_generated").iterdir(),
             *(root / "reports").glob("*/reporting.qmd"), *(root / "reports" / "_site").rglob("*.html"),
             *(root / "reports" / "_site").rglob("*.css")]
    for path in files:
        assert external(path.read_text()) == [], path


def test_the_executed_notebooks_outputs_load_nothing_from_the_network():
    """The published synthetic report's outputs (plotly embedded, no renderer that loads from a CDN)."""
    for path in sorted((ROOT / "reports").glob("*/*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                for mime, value in output.get("data", {}).items():
                    if mime in ("text/html", "application/javascript"):
                        text = "".join(value) if isinstance(value, list) else value
                        # plotly.js itself carries map-tile URLs as strings; no tag loads them
                        assert external(text) == [], f"{path.name}: {external(text)[:2]}"


# ---------------------------------------------------------------- (5) titles name the corpus

def test_each_notebook_page_title_names_its_corpus(tmp_path, monkeypatch):
    root = _build(tmp_path, monkeypatch)
    titles = []
    for ds in ("synthetic", "daic_woz", "e_daic"):
        for name in report.NOTEBOOKS:
            nb = nbformat.read(root / "reports" / ds / f"{name}.ipynb", as_version=4)
            first = nb.cells[0]
            assert first.cell_type == "raw", f"{ds}/{name}: no front matter cell"
            meta = yaml.safe_load(first.source.strip().strip("-"))
            assert captions.display_name(ds) in meta["pagetitle"] and "title" not in meta  # the H1 stays the title
            titles.append(meta["pagetitle"])
            html = (root / "reports" / "_site" / "reports" / ds / f"{name}.html").read_text()
            assert "pagetitle" not in html  # the fallback does not show Quarto's front matter
        assert captions.display_name(ds) in yaml.safe_load(
            (root / "reports" / ds / "reporting.qmd").read_text().split("---")[1])["title"]
    assert len(set(titles)) == len(titles)  # no two pages share a title
    assert "3 · Training · DAIC-WOZ" in titles


def test_the_front_matter_is_written_once(tmp_path, monkeypatch):
    root = _build(tmp_path, monkeypatch)
    website.build_site(root)
    nb = nbformat.read(root / "reports" / "daic_woz" / "03_training.ipynb", as_version=4)
    assert [c.cell_type for c in nb.cells].count("raw") == 1


def test_the_corpus_is_named_once_where_its_name_says_synthetic():
    st = _mixed()
    for text in (site_pages.index_body(st), site_pages.comparison_body(st)):
        plain = re.sub(r"<[^>]+>", "", text)
        assert not re.search(r"\bsynthetic\W+synthetic\b", plain, re.I), re.search(r".{40}synthetic\W+synthetic.{20}", plain, re.I | re.S)
    assert "DAIC-WOZ <span class=\"pf-tag\">licensed corpus" in site_pages.index_body(st)


# ---------------------------------------------------------------- (2) tables align header and cells alike

def test_table_headers_and_cells_align_alike():
    """Under Quarto's theme a number cell without its own alignment is left-aligned under a right-aligned
    header: every column states both."""
    frame = pd.DataFrame({"name": ["a", "b"], "macro_f1": [0.5, 0.6], "threshold": [0.4, 0.45]})
    html = captions.styled(frame).to_html()
    css = html.split("<style", 1)[1].split("</style>", 1)[0]
    for i, align in enumerate(("left", "right", "right")):
        for cell in ("th", "td"):
            rule = re.search(rf"{cell}\.col{i}\b[^{{]*\{{([^}}]*)\}}", css)
            assert rule and f"text-align: {align}" in rule.group(1), (cell, i)
    assert re.search(r"td[^{]*\{[^}]*padding", css)  # cells do not run together
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert config["format"]["html"]["html-table-processing"] == "none"  # Quarto keeps the Styler's table


def _scss_rules(text: str) -> list[tuple[str, str]]:
    """(selectors, body) of each rule, comments dropped."""
    return re.findall(r"([^{};]+)\{([^}]*)\}", re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S))


def test_the_quarto_theme_passes_quartos_css_variable_parser():
    """Seen with Quarto 1.7.34: "SCSSParsingError: Expecting punctuation" on every build, and no colour
    variables in the site's CSS: the parser Quarto runs over the theme reads ``width:100%`` (no space after
    the colon) as a selector. Every declaration in site.scss is written ``property: value``."""
    rules = _scss_rules((ROOT / "site.scss").read_text())
    assert rules
    for selectors, body in rules:
        for declaration in filter(None, (d.strip() for d in body.split(";"))):
            assert re.fullmatch(r"[a-z-]+: \S.*", declaration, re.S), f"{selectors.strip()}: {declaration!r}"


def test_the_reporting_items_keep_their_column_widths_under_quarto():
    """Seen with Quarto 1.7.34: the reporting page 14,800 px tall (the fallback's 7,000): the browser's
    automatic table layout gave the answer column a quarter of the width, the key names in the source
    column the rest, of a column narrowed by the margin's table of contents. The Quarto page wraps its Markdown in ``.pf-items`` as the fallback does, the theme
    lays those tables out by the widths pandoc takes from the separator's dashes, and those widths leave
    room for an item number, a status and about half the width for the answer."""
    from pseudoface.site import reporting
    item = {"item": "12a", "section": "Methods", "name": "Analytical methods", "topic": "Partitioning",
            "status": reporting.ANSWERED, "answer": "2-fold cross-validation", "researcher": "",
            "source": "metrics.json: config.cv, config.train.inner_val_fraction"}
    stamp = _stamp(False) | {"reporting": {"guideline": reporting.GUIDELINE, "config_hash": "c0ffee",
                                           "code_version": "0.1.0+abc", "items": [item]}}
    _, front, body = site_pages.reporting_qmd(stamp, "daic_woz").split("---\n", 2)
    # the full width beside the sidebar: with the margin's table of contents the tables had 800 of 1400 px
    assert yaml.safe_load(front) == {"title": "Reporting (TRIPOD+AI): DAIC-WOZ", "page-layout": "full", "toc": False}
    assert body.lstrip().startswith("::: {.pf-items}") and body.rstrip().endswith("\n:::")
    assert body.count(":::") == 2 and body.index("::: {.pf-items}") < body.index("## Items")
    [separator] = {line for line in body.splitlines() if line.startswith("|:-") and line.count("|") == 6}
    dashes = [cell.count("-") for cell in separator.strip("|").split("|")]
    share = dict(zip(("item", "name", "status", "answer", "source"), (d / sum(dashes) for d in dashes)))
    assert share["item"] >= 0.05 and share["status"] >= 0.09 and share["answer"] >= 0.4, share
    rules = {sel.strip(): body for sels, body in _scss_rules((ROOT / "site.scss").read_text()) for sel in sels.split(",")}
    assert "table-layout: fixed" in rules[".pf-items table"] and "width: 100%" in rules[".pf-items table"]
    assert "overflow-wrap" in rules[".pf-items td"]


def test_every_class_the_generated_bodies_style_in_the_fallback_has_a_quarto_rule():
    """Seen with Quarto 1.7.34: the synthetic banner had no style of its own under Quarto and read as the
    first words of the next paragraph. The classes that carry a look in the fallback's site.css (banner,
    key and model tables, scrolling boxes) have a rule in site.scss too."""
    rules = " ".join(selectors for selectors, _ in _scss_rules((ROOT / "site.scss").read_text()))
    for cls in ("pf-banner", "pf-key", "pf-models", "pf-scroll", "pf-tag"):
        assert f".{cls}" in rules, cls
