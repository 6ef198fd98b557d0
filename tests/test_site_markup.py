"""The site's generated markup reads the same in both renderers, fast: what reaches Quarto as Markdown
(reports/_generated/*.md, each dataset's reporting.qmd) carries its HTML in raw blocks that pandoc
passes through (an HTML line indented by four spaces in Markdown would become a code block), every
tag is closed, and the static fallback shows exactly the HTML of those blocks."""
import re
from pathlib import Path
from html.parser import HTMLParser

import nbformat
import pandas as pd
import pytest
from test_site import _regression_metrics, _sanity, _stamp

from pseudoface.site import report, site_pages, website

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FENCE = re.compile(r"^(`{3,})\{=html\}\s*$")


class _Balance(HTMLParser):
    """Every element closed, in order (void elements need no end tag)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.problems = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.open or self.open[-1][0] != tag:
            self.problems.append(f"line {self.getpos()[0]}: </{tag}> closes "
                                 + (f"<{self.open[-1][0]}> of line {self.open[-1][1]}" if self.open else "nothing"))
        else:
            self.open.pop()


def unbalanced(markup: str) -> list[str]:
    """The tags of ``markup`` that are not closed, or closed out of order."""
    checker = _Balance()
    checker.feed(markup)
    checker.close()
    return checker.problems + [f"line {line}: <{tag}> never closed" for tag, line in checker.open]


def markdown_problems(text: str) -> list[str]:
    """What pandoc would not pass through as HTML in a Markdown file: an HTML line indented by four spaces
    or a tab outside a raw HTML block (a code block to pandoc), a raw block never closed, unbalanced tags
    inside a raw block."""
    problems, block, fence = [], None, None
    for number, line in enumerate(text.splitlines(), 1):
        if block is None:
            opening = FENCE.match(line)
            if opening:
                block, fence, start = [], opening.group(1), number
            elif re.match(r"( {4,}|\t)\s*</?[a-zA-Z!]", line):
                problems.append(f"line {number}: indented HTML outside a raw block: {line.strip()[:60]}")
        elif re.fullmatch(rf"{fence}`*\s*", line):
            problems += [f"raw block of line {start}, {p}" for p in unbalanced("\n".join(block))]
            block = None
        else:
            block.append(line)
    if block is not None:
        problems.append(f"line {start}: raw block never closed")
    return problems


def _rich_stamps() -> dict[str, dict]:
    """A synthetic dataset with everything a page can show, and a licensed one with small folds."""
    comparison = [{"name": "default (window layout, aligned)", "mean": 0.5, "std": 0.07, "roc_auc": 0.68, "ppr": 0.4,
                   "feature": 0.7, "fused": 0.7, "difference": None, "diff_low": None, "diff_high": None,
                   "parameters": 53186, "input": "6x4x60", "seconds": 25},
                  {"name": "seed preset (frame layout)", "mean": 0.45, "std": 0.12, "roc_auc": 0.49, "ppr": 0.69,
                   "feature": 0.7, "fused": 0.7, "difference": -0.05, "diff_low": -3.0, "diff_high": 2.9,
                   "parameters": 225473, "input": "3x68x3", "seconds": 40}]
    explained = {"network": {"folds": 2, "kendall_w": 0.1, "stable": False, "top": "mouth <geometry>", "top_share": 0.5}}
    synthetic = _stamp() | {"comparison": comparison, "sanity": _sanity(), "regression": _regression_metrics(),
                            "explanations": explained}
    return {"synthetic": synthetic, "e_daic": _stamp(False, layout="series", small=True)}


def _sweeps() -> dict:
    table = pd.DataFrame({"encode.window_seconds": [2, 4], "macro_f1_mean": [0.5, 0.6], "macro_f1_std": [0.1, 0.1],
                          "roc_auc_mean": [0.6, 0.7], "roc_auc_std": [0.1, 0.1], "predicted_positive_rate": [0.3, 0.4],
                          "feature_model_mean": [0.55, 0.55], "feature_model_std": [0.1, 0.1],
                          "stratified_random_mean": [0.5, 0.5], "stratified_random_std": [0.05, 0.05],
                          "folds": [5, 5], "failed_folds": [0, 1]})
    info = {"keys": ["encode.window_seconds"], "dataset": "synthetic", "synthetic": True, "params": "params/x.yaml",
            "code_version": "0.1.0", "finished": "2026-01-01T10:00:00"}
    return {"window <grid>": (info, table)}


def test_the_checker_finds_what_pandoc_would_misread():
    """The checker fails on the markup the site wrote before its bodies were raw blocks: a pandas table
    (its lines indented) straight into Markdown, an unclosed element, a raw block left open."""
    from pseudoface.site import captions
    table = captions.styled(pd.DataFrame({"a": [1.5]})).to_html()
    assert any("indented HTML outside a raw block: <th" in p for p in markdown_problems(f"<p>x</p>\n{table}"))
    assert markdown_problems(site_pages.raw_html(table)) == []
    unclosed = markdown_problems("```{=html}\n<div><p>x</div>\n```\n")
    assert unclosed[0] == "raw block of line 1, line 1: </div> closes <p> of line 1" and len(unclosed) == 3
    assert markdown_problems("```{=html}\n<p>x</p>\n") == ["line 1: raw block never closed"]
    assert markdown_problems("    code, not HTML\n\n    <b>HTML</b>\n") == [
        "line 3: indented HTML outside a raw block: <b>HTML</b>"]


def test_a_raw_block_survives_backticks_and_reads_back():
    body = "<p>``` three ticks and ```` four</p>\n<pre>\n    indented\n</pre>"
    block = site_pages.raw_html(body)
    assert block.startswith("`````{=html}\n") and block.endswith("\n`````\n")  # longer than any run inside
    assert site_pages.html_of(block) == f"{site_pages.QUARTO_AS_IS}\n{body}" and markdown_problems(block) == []
    with pytest.raises(ValueError, match="cards.md: expected one raw HTML block"):
        site_pages.html_of("<p>bare HTML</p>\n", "cards.md")


def test_every_generated_markdown_file_is_html_pandoc_passes_through():
    stamps = _rich_stamps()
    files = site_pages.generated_markdown(stamps, _sweeps(), "Quarto")
    files |= {f"{ds}/reporting.qmd": site_pages.reporting_qmd(stamp, ds) for ds, stamp in stamps.items()}
    files["empty/cards.md"] = site_pages.generated_markdown({}, {}, "Quarto")["cards.md"]
    for name, text in files.items():
        assert markdown_problems(text) == [], name
    for name in ("cards.md", "comparison.md", "sweeps.md"):
        assert unbalanced(site_pages.html_of(files[name])) == [], name
    cards = site_pages.html_of(files["cards.md"])
    assert cards.count('<section class="pf-card"') == 2 and "Small folds" in cards and "PHQ-8 score (regression" in cards
    assert "mouth &lt;geometry&gt;" in cards  # text is escaped, not markup
    comparison = site_pages.html_of(files["comparison.md"])
    assert 'class="plotly-graph-div"' in comparison and "seed preset (frame layout): −0.050" in comparison
    assert "Comparisons were switched off for this dataset" in comparison  # e_daic has none
    sweeps = site_pages.html_of(files["sweeps.md"])
    assert '<h2 id="window &lt;grid&gt;">' in sweeps and "<code>encode.window_seconds</code>" in sweeps
    assert "2026-01-01 10:00" in sweeps and "5 (1 failed)" in sweeps


def test_the_fallback_shows_the_html_quarto_includes(tmp_path, monkeypatch):
    """The static site's index and Comparison page hold the HTML of the raw blocks Quarto includes, as it
    is; its generated pages close every tag."""
    stamp = _rich_stamps()["synthetic"]
    folder = tmp_path / "reports" / "synthetic"
    folder.mkdir(parents=True)
    for name in report.NOTEBOOKS:
        nb = nbformat.v4.new_notebook()
        nb.metadata[report.STAMP] = stamp
        nbformat.write(nb, folder / f"{name}.ipynb")
    (tmp_path / "method.qmd").write_text("---\ntitle: x\n---\n# Method\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    monkeypatch.setattr(website.shutil, "which", lambda name, *a, **k: None)
    website.build_site(tmp_path)
    generated, site = tmp_path / "reports" / "_generated", tmp_path / "reports" / "_site"
    for page, body in (("index.html", "cards.md"), ("comparison.html", "comparison.md")):
        html = (site / page).read_text()
        assert site_pages.html_of((generated / body).read_text()) in html, page
        assert unbalanced(html) == [], page
    assert markdown_problems((folder / "reporting.qmd").read_text()) == []
    for page in ("method.html", "reports/synthetic/reporting.html"):
        assert unbalanced((site / page).read_text()) == [], page
    reporting = (site / "reports" / "synthetic" / "reporting.html").read_text()
    assert "<h1>Reporting (TRIPOD+AI)</h1>" in reporting and "<code>c0ffee</code>" in reporting  # heading, provenance
    assert reporting.count('href="../../assets/notebook.css"') == 1


def test_a_wide_comparison_table_scrolls_in_its_own_box():
    """Seen with Quarto 1.7.34: the Comparison page's table (ten columns) was wider than the column and
    widened the page past the window. The table sits in a box that scrolls, styled in both builds."""
    body = site_pages.comparison_body({"synthetic": _rich_stamps()["synthetic"]})
    assert re.search(r'<div class="pf-scroll">\s*<style[^>]*>.*?</style>\s*<table\b.*?</table>\s*</div>', body, re.S)
    root = Path(__file__).resolve().parents[1]
    for css in (root / "site.scss", root / "lib" / "pseudoface" / "site" / "templates" / "site.css"):
        assert re.search(r"\.pf-scroll\s*\{[^}]*overflow-x:\s*auto", css.read_text()), css
