"""The library's layering, read from its own imports: no cycles, and no library module imports the CLI."""
import ast
from pathlib import Path

PKG = Path(__file__).parent.parent / "lib" / "pseudoface"
READERS = {"daic", "edaic", "openface"}


def _imports() -> dict[str, set[str]]:
    """module -> the package modules it imports (relative or absolute, at any depth)."""
    mods = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for m in mods:
        found = set()
        for node in ast.walk(ast.parse((PKG / f"{m}.py").read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level == 0 and not base.startswith("pseudoface"):
                    continue
                base = base.removeprefix("pseudoface").lstrip(".")
                found |= {base} if base else {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("pseudoface.")}
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                found.add("__import__")
        graph[m] = {f.split(".")[0] for f in found} & (mods | {"__import__"})
    return graph


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
