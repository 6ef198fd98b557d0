"""The documentation stays true to the tree: the module table of docs/architecture.md names, for every
lib/pseudoface/*.py, exactly the package modules it imports, in an order where every module imports
only modules listed below it; every relative link in README.md and docs/ resolves; the user-facing
pages name only params keys that exist; README stays a guide; the numbers the pages quote (typed
defaults, the smoke settings, the synthetic cue families, the comparison variants) are the code's.

After adding, removing or re-wiring a module, rewrite the table's imports column from the code with

    .venv/bin/python -c "import sys; sys.path.insert(0, 'tests'); import test_docs; test_docs.resync()"

which keeps every row's "holds" text, adds a row for a new module (its "holds" cell says to
describe it), drops the row of a deleted one and moves as few rows as it can so that every module
sits above the modules it imports; then fill in what a new module holds.
"""
from __future__ import annotations

import ast
import dataclasses
import re
import sys
from pathlib import Path

from pseudoface.params import Params

ROOT = Path(__file__).parent.parent
PKG = ROOT / "lib" / "pseudoface"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
IMPORTS_COLUMN = "imports (within pseudoface)"
NONE = "—"  # the imports cell of a module that imports nothing of the package
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# pages that may name params keys no longer in the code: the experiment log (measurements of
# removed options) and the module map (dotted function names such as cv.cross_validate)
KEYS_EXEMPT = {"experiments.md", "architecture.md"}


def real_imports() -> dict[str, set[str]]:
    """module -> the package modules its file imports, at module level or inside functions, read by
    :func:`test_structure.imported_modules` (every relative and absolute form; a name that is no
    module, ``__version__``, counts as importing ``__init__``); modules by name across the stage packages."""
    from test_structure import imported_modules, module_files
    files = module_files(PKG)
    return {m: imported_modules(path, set(files)) - {m} for m, path in sorted(files.items())}


def _cells(line: str) -> list[str]:
    """The cells of one Markdown table row (``\\|`` inside a cell is not a separator)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _table(text: str) -> tuple[int, int, list[int]]:
    """(line index of the header, index of the imports column, line indexes of the body rows)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("|") and IMPORTS_COLUMN in _cells(line):
            column = _cells(line).index(IMPORTS_COLUMN)
            rows = []
            for j in range(i + 2, len(lines)):  # i + 1 is the |---| line
                if not lines[j].lstrip().startswith("|"):
                    break
                rows.append(j)
            return i, column, rows
    raise AssertionError(f"{ARCHITECTURE}: no table with a column {IMPORTS_COLUMN!r}")


def documented_imports(text: str | None = None) -> dict[str, set[str]]:
    """module -> the imports the table lists (the first cell may name several modules in backticks)."""
    text = ARCHITECTURE.read_text() if text is None else text
    lines = text.splitlines()
    _, column, rows = _table(text)
    table = {}
    for j in rows:
        cells = _cells(lines[j])
        modules = re.findall(r"`([^`]+)`", cells[0])
        assert modules, f"{ARCHITECTURE}: line {j + 1}: no module named in backticks in the first cell"
        for m in modules:
            assert m not in table, f"{ARCHITECTURE}: line {j + 1}: module {m} has two rows"
            table[m] = set(re.findall(r"`([^`]+)`", cells[column]))
    return table


def imports_cell(imports: set[str]) -> str:
    return ", ".join(f"`{m}`" for m in sorted(imports)) or NONE


def resync() -> None:
    """Rewrite the imports column of docs/architecture.md from the code (see the module docstring)."""
    text = ARCHITECTURE.read_text()
    lines = text.splitlines()
    header, column, rows = _table(text)
    real = real_imports()
    kept, seen = [], set()
    for j in rows:
        cells = _cells(lines[j])
        modules = [m for m in re.findall(r"`([^`]+)`", cells[0]) if m in real]
        if not modules:
            continue  # every module of the row is gone
        seen |= set(modules)
        cells[0] = ", ".join(f"`{m}`" for m in modules)
        cells[column] = imports_cell(set().union(*(real[m] for m in modules)))
        kept.append("| " + " | ".join(cells) + " |")
    width = len(_cells(lines[header]))
    for m in sorted(set(real) - seen):
        cells = [f"`{m}`"] + ["(describe what it holds)"] * (width - 1)
        cells[column] = imports_cell(real[m])
        kept.append("| " + " | ".join(cells) + " |")
    kept = import_order(kept, real)
    start, end = (rows[0], rows[-1] + 1) if rows else (header + 2, header + 2)
    ARCHITECTURE.write_text("\n".join(lines[:start] + kept + lines[end:]) + "\n")


def test_module_table_matches_the_imports():
    real, table = real_imports(), documented_imports()
    problems = [f"{m}: in lib/pseudoface/ but not in the table" for m in sorted(set(real) - set(table))]
    problems += [f"{m}: in the table but there is no lib/pseudoface/{m}.py" for m in sorted(set(table) - set(real))]
    for m in sorted(set(real) & set(table)):
        if missing := real[m] - table[m]:
            problems.append(f"{m}: imports {', '.join(sorted(missing))}, not listed in the table")
        if extra := table[m] - real[m]:
            problems.append(f"{m}: the table lists {', '.join(sorted(extra))}, which it does not import")
    assert not problems, (f"{ARCHITECTURE} has drifted from the code (tests/test_docs.py: resync() "
                          "rewrites the column):\n" + "\n".join(problems))


def _row_modules(row: str) -> list[str]:
    return re.findall(r"`([^`]+)`", _cells(row)[0])


def import_order(rows: list[str], graph: dict[str, set[str]]) -> list[str]:
    """``rows`` (table lines) reordered so that every module sits above the modules it imports, moving
    as few as it can: each step takes the first row, in the current order, that no row still to be
    placed imports."""
    rest, out = list(rows), []
    while rest:
        def imported_by_rest(row):
            mine = set(_row_modules(row))
            return any(mine & graph.get(m, set()) for other in rest if other is not row
                       for m in _row_modules(other))
        row = next((r for r in rest if not imported_by_rest(r)), None)
        assert row is not None, "the modules import each other in a cycle (tests/test_structure.py names it)"
        out.append(row)
        rest.remove(row)
    return out


def upward_imports(text: str | None = None, graph: dict[str, set[str]] | None = None) -> list[str]:
    """'a imports b, listed above it' for every import that points up the module table."""
    text = ARCHITECTURE.read_text() if text is None else text
    graph = real_imports() if graph is None else graph
    lines = text.splitlines()
    _, _, rows = _table(text)
    position = {m: i for i, j in enumerate(rows) for m in _row_modules(lines[j])}
    return [f"{m} imports {d}, listed above it" for m in position for d in sorted(graph.get(m, ()))
            if d in position and position[d] < position[m]]


def test_module_table_is_in_import_order():
    """docs/architecture.md says a module imports only modules further down its table: true of the table."""
    assert "a module imports only modules further down" in ARCHITECTURE.read_text()
    up = upward_imports()
    assert not up, (f"{ARCHITECTURE}: imports that point up the module table (tests/test_docs.py: resync() "
                    "reorders it):\n" + "\n".join(up))


def test_import_order_moves_a_row_below_its_importers():
    rows = ["| `c` |", "| `a` |", "| `b` |", "| `d`, `e` |"]
    graph = {"a": {"b"}, "b": {"c"}, "c": set(), "d": set(), "e": {"c"}}
    assert import_order(rows, graph) == ["| `a` |", "| `b` |", "| `d`, `e` |", "| `c` |"]
    text = "| module | holds | imports (within pseudoface) |\n|---|---|---|\n" + "\n".join(f"{r} x | y |" for r in rows)
    assert upward_imports(text, graph) == ["b imports c, listed above it", "e imports c, listed above it"]


def test_real_imports_sees_function_level_and_package_imports(tmp_path, monkeypatch):
    (tmp_path / "__init__.py").write_text("__version__ = '0'\n")
    (tmp_path / "a.py").write_text("from . import __version__\n")
    (tmp_path / "learning").mkdir()
    (tmp_path / "learning" / "__init__.py").write_text("")
    (tmp_path / "learning" / "b.py").write_text("import os\ndef f():\n    from ..a import x\n    from ..site import c\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "c.py").write_text("from pseudoface.a import y\nimport pseudoface.learning.b\nfrom .. import __version__\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG", tmp_path)
    assert real_imports() == {"__init__": set(), "a": {"__init__"}, "b": {"a", "c"}, "c": {"a", "b", "__init__"}}


def test_table_parser_reads_several_modules_and_none():
    text = ("| module | holds | imports (within pseudoface) |\n|---|---|---|\n"
            "| `x` | a \\| b | `y`, `z` |\n| `p`, `q` | readers | — |\n\nafter\n")
    assert documented_imports(text) == {"x": {"y", "z"}, "p": set(), "q": set()}


def _links(page: Path) -> list[tuple[int, str]]:
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), page.read_text(), flags=re.S)
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"`[^`]*`", "", line)
        found += [(n, target) for target in re.findall(r"\]\(([^)\s]+)\)", line)]
    return found


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.*)$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_relative_links_resolve():
    broken = []
    for page in PAGES:
        for n, target in _links(page):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}:{n}: {target}: no such file")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{page.relative_to(ROOT)}:{n}: {target}: no heading with that anchor")
    assert not broken, "\n".join(broken)


def _params_keys() -> set[str]:
    p = Params()
    return {f"{section.name}.{key.name}" for section in dataclasses.fields(p)
            if dataclasses.is_dataclass(getattr(p, section.name)) for key in dataclasses.fields(getattr(p, section.name))}


def test_user_pages_name_only_existing_params_keys():
    keys = _params_keys()
    sections = sorted({k.split(".")[0] for k in keys})
    pattern = re.compile(r"`((?:%s)\.[a-z_]+(?:\.py)?)" % "|".join(sections))  # `train.epochs...`, not `train.py`
    unknown = []
    for page in PAGES:
        if page.name in KEYS_EXEMPT:
            continue
        for n, line in enumerate(page.read_text().splitlines(), 1):
            unknown += [f"{page.relative_to(ROOT)}:{n}: {k}" for k in pattern.findall(line)
                        if not k.endswith(".py") and k not in keys]
    assert not unknown, "params keys that do not exist:\n" + "\n".join(unknown)


def test_readme_is_a_guide():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200, "README.md: keep it a user's guide; measurements go to docs/"
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.search(r"```bash\n(.*?)```", quickstart, flags=re.S).group(1)
    assert [l.split("#")[0].strip() for l in commands.splitlines() if l.strip()] == ["make report", "make test"]


# ---- numbers the pages quote, against the code

QUOTING = [*PAGES, ROOT / "method.qmd"]
HISTORY = {"experiments.md"}  # the model-search log quotes the defaults of its day


def _typed_default(key: str):
    section, name = key.split(".")
    return getattr(getattr(Params(), section), name)


def _word(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def quoted_defaults(text: str) -> list[tuple[int, str, str, str | None]]:
    """(line, key, default as written, value the shipped params files set or None) of every
    "`key` (default `V`)" (optionally followed by ", W in the shipped params files") and every
    "`key: V` (default)" in ``text``."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        found += [(n, k, v, shipped or None) for k, v, shipped in
                  re.findall(r"`([a-z_]+\.[a-z_]+)` \(default `([^`]+)`\)(?:, (\S+) in the shipped params files)?", line)]
        found += [(n, k, v, None) for k, v in re.findall(r"`([a-z_]+\.[a-z_]+): ([^`]+)` \(default\)", line)]
    return found


def test_quoted_defaults_are_the_typed_defaults():
    """A page that says what a key is by default says what the Params dataclass says (and, where it
    says what the shipped params files set, what every params/*.yaml that sets it sets)."""
    import yaml
    shipped = {p.name: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "params").glob("*.yaml"))}
    wrong, quoted = [], 0
    for page in QUOTING:
        if page.name in HISTORY:
            continue
        for n, key, value, files in quoted_defaults(page.read_text()):
            quoted += 1
            where = f"{page.relative_to(ROOT)}:{n}: {key}"
            if key not in _params_keys():
                wrong.append(f"{where}: no such params key")
                continue
            if value != _word(_typed_default(key)):
                wrong.append(f"{where}: the page says {value}, lib/pseudoface/params.py {_word(_typed_default(key))}")
            if files is not None:
                section, name = key.split(".")
                values = {f: _word(y[section][name]) for f, y in shipped.items() if name in (y.get(section) or {})}
                if not values or set(values.values()) != {files}:
                    wrong.append(f"{where}: the page says the params files set {files}; they set {values}")
    assert quoted >= 2, "the pages quote no default in the checked forms any more: is this test still reading them?"
    assert not wrong, "\n".join(wrong)


def test_quoted_defaults_parser_reads_both_forms():
    text = ("the runs (`cv.shuffled_labels` (default `0`), 2 in the shipped params files) and\n"
            "`data.label_rule: score_ge_10` (default) or `train.mirror` (default `true`)")
    assert quoted_defaults(text) == [(1, "cv.shuffled_labels", "0", "2"), (2, "train.mirror", "true", None),
                                     (2, "data.label_rule", "score_ge_10", None)]


def test_the_smoke_settings_the_pages_quote_are_params_smoke():
    from pseudoface.params import SMOKE, params_from_dict
    smoke = params_from_dict({}, list(SMOKE))
    quoted = []
    for page in QUOTING:
        text = page.read_text()
        for m in re.finditer(r"\((\d+) epochs?,\s+(\d+)\s+folds", text):  # may wrap across lines
            quoted.append((f"{page.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}", int(m[1]), int(m[2])))
    assert len(quoted) >= 2, f"the README and docs/architecture.md quote the smoke settings; found {quoted}"
    assert [q for q in quoted if q[1:] != (smoke.train.epochs, smoke.cv.folds)] == []


def test_the_cue_family_table_is_synthetic_effects():
    from pseudoface.corpora.synthetic import EFFECTS
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| effect | default strength / spread | mechanism |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.strip().splitlines()[1:]:
        effect, numbers = _cells(line)[:2]
        strength, spread = (float(x.strip().rstrip("°")) for x in numbers.split("/"))
        rows[re.search(r"`(\w+)`", effect).group(1)] = (strength, spread)
    assert rows == {name: (family.strength, family.spread) for name, family in EFFECTS.items()}


def test_notebook_03_names_every_comparison_variant():
    """The comparison cell's words name each variant the report runs, as the variant table names it,
    and which of them a corpus without landmarks runs."""
    import json
    from pseudoface.learning.cv import COMPARISONS, comparison_variants
    cells = json.loads((ROOT / "notebooks" / "03_training.ipynb").read_text())["cells"]
    heading = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("## Comparisons"))
    words = "".join(cells[heading]["source"])
    variants = [name for name, overrides in COMPARISONS.items() if overrides]  # the one without is the main run
    assert [v for v in variants if f"*{v}*" not in words] == []
    assert len(re.findall(r"\*[^*]+\*", words)) == len(variants)
    without_landmarks = [v for v in comparison_variants(landmarks=False) if COMPARISONS[v]]
    assert without_landmarks == ["CNN-LSTM on clips (the paper's design)"] and "runs only the clip variant" in words


def test_no_page_pins_a_test_count():
    """How many tests there are drifts with every commit: pages give timings, `pytest --collect-only` the count."""
    pinned = [f"{page.relative_to(ROOT)}:{n}: {line.strip()}" for page in QUOTING
              for n, line in enumerate(page.read_text().splitlines(), 1) if re.search(r"\b\d+ tests\b", line)]
    assert not pinned, "\n".join(pinned)


def test_the_module_tables_package_column_is_the_tree():
    """docs/architecture.md says which stage package each module is in; the tree says the same."""
    from test_structure import stage_of
    text = ARCHITECTURE.read_text()
    lines = text.splitlines()
    header, _, rows = _table(text)
    column = _cells(lines[header]).index("package")
    wrong = []
    for j in rows:
        cells = _cells(lines[j])
        for m in re.findall(r"`([^`]+)`", cells[0]):
            expected = stage_of(m) if m != "__init__" else None
            if cells[column] != (expected or "(top level)"):
                wrong.append(f"{ARCHITECTURE}: line {j + 1}: {m} is in {expected or 'the top level'}, "
                             f"the table says {cells[column]}")
    assert len(rows) > 40 and wrong == []
