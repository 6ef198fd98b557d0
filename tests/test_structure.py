"""The library's layering, read from its own imports: no cycles, and no library module imports the CLI."""
import ast
from pathlib import Path

PKG = Path(__file__).parent.parent / "lib" / "pseudoface"
READERS = {"daic", "edaic", "openface"}
# The stage packages, top-down: a module imports modules of its own stage or of stages further down,
# and the top-level modules (params, the package's __version__); only the CLI sits above them all.
STAGES = ("site", "learning", "encoding", "corpora")


def module_files(pkg: Path = PKG) -> dict[str, Path]:
    """Every module of the package by name (names are unique across the stage packages): the
    top-level ones (cli, params, and ``__init__``, the package itself) and each stage's modules."""
    files = {p.stem: p for p in pkg.glob("*.py")}
    for stage in STAGES:
        for p in (pkg / stage).glob("*.py"):
            if p.stem != "__init__":
                assert p.stem not in files, f"{p}: a second module named {p.stem}"
                files[p.stem] = p
    return files


def stage_of(module: str) -> str | None:
    """The stage package a module lives in (None: top level)."""
    path = module_files()[module]
    return path.parent.name if path.parent != PKG else None


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The package modules a file imports, at module level or inside functions, by name: ``from
    .x import a``, ``from ..stage.x import a``, ``from ..stage import x``, ``from . import x`` and the
    absolute forms all count as importing ``x``; a name that is no module (``from .. import
    __version__``) counts as importing ``__init__``; ``__import__(...)`` as ``__import__``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").split(".")[0] == "pseudoface":
                    continue
                parts = node.module.split(".")[1:]
            else:
                parts = (node.module or "").split(".") if node.module else []
            named = [p for p in parts if p in modules]
            if named:
                found.add(named[-1])
            else:
                found |= {a.name if a.name in modules else "__init__" for a in node.names}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "pseudoface":
                    named = [p for p in a.name.split(".")[1:] if p in modules]
                    found.add(named[-1] if named else "__init__")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            found.add("__import__")
    return found


def _imports() -> dict[str, set[str]]:
    """module -> the package modules it imports (``__init__``, the package itself, left out)."""
    files = module_files()
    mods = set(files) - {"__init__"}
    return {m: (imported_modules(files[m], mods | {"__init__"}) - {"__init__", m}) for m in sorted(mods)}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(m, path):
        state[m] = "open"
        for n in sorted(graph.get(m, ())):
            if state.get(n) == "open":
                cycles.append(path[path.index(n):] + [n])
            elif n not in state:
                visit(n, path + [n])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return cycles


def test_no_import_cycles():
    assert _cycles(_imports()) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_library_module_imports_the_cli():
    assert [m for m, deps in _imports().items() if "cli" in deps] == []


def test_readers_are_leaves():
    """Format readers know nothing of each other, of the corpus builder or of later stages."""
    graph = _imports()
    for reader in READERS:
        assert graph[reader] <= {"corpus", "labels", "params", "textio", "cache"}, (reader, graph[reader])


def test_no_dynamic_imports():
    assert [m for m, deps in _imports().items() if "__import__" in deps] == []


def test_stage_packages_are_layered():
    """site -> learning -> encoding -> corpora: no module imports a stage above its own, so the tree
    is the architecture (docs/architecture.md)."""
    rank = {stage: i for i, stage in enumerate(STAGES)}
    upward = [(m, d) for m, deps in _imports().items() for d in deps - {"__import__"}
              if stage_of(m) and stage_of(d) and rank[stage_of(d)] < rank[stage_of(m)]]
    assert upward == []
    assert {stage_of(m) for m in _imports()} == set(STAGES) | {None}  # every stage holds modules


def test_the_import_reader_resolves_every_form(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from ..learning.runs import x\nfrom ..site import captions, plots\nfrom .. import __version__\n"
                 "from .read import y\nimport pseudoface.encoding.encode\nfrom pseudoface.params import P\n"
                 "def g():\n    from ..corpora import cache\n")
    mods = {"runs", "captions", "plots", "read", "encode", "params", "cache", "__init__"}
    assert imported_modules(f, mods) == mods
