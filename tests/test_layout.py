"""The house rules on code layout (issue 15): small modules, a thin CLI whose commands
close their stores."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import coopgraph

PACKAGE = Path(coopgraph.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_600_lines(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= 600, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"


def test_cli_commands_close_their_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that fails half-way still closes its store (context managers, issue 15)."""
    from click.testing import CliRunner

    from coopgraph.cli import main
    from coopgraph.store.embedded import EmbeddedStore

    closed: list[bool] = []
    real_close = EmbeddedStore.close

    def close(self: EmbeddedStore) -> None:
        closed.append(True)
        real_close(self)

    monkeypatch.setattr(EmbeddedStore, "close", close)
    result = CliRunner().invoke(
        main, ["network", "path", "nobody-at-all", "no-one-either", "--store", ":memory:"]
    )
    assert result.exit_code == 2, result.output
    assert closed == [True]


def _module_name(path: Path) -> str:
    parts = [PACKAGE.name, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, dict[str, int]]:
    """The package's own imports: module → {imported module: line of the first import}.

    Every import statement counts, wherever it stands: at module level, inside a
    function (an import moved into a function to dodge a cycle at load time is still a
    cycle in the design) and under ``if TYPE_CHECKING:``. ``from pkg import name`` is an
    edge to ``pkg.name`` when that is a module, else to ``pkg``; a package's own
    ``__init__`` run before its submodules is not an edge (Python always runs it first).
    """
    modules = {_module_name(p): p for p in MODULES}
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                if target in modules and target != name:
                    graph[name].setdefault(target, node.lineno)
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, …, a], or ``None`` (depth-first search)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph[node]):
            if nxt in on_path:
                return [*path[path.index(nxt):], nxt]
            if nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def test_find_cycle_finds_one() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None


def test_import_graph_sees_function_level_imports() -> None:
    graph = import_graph()
    # web/__init__.py imports its blueprints inside create_app()
    assert "coopgraph.web.sparql" in graph["coopgraph.web"]
    assert "coopgraph.store.embedded" in graph["coopgraph.store"]


def test_no_import_cycle() -> None:
    """No module of the package imports, directly or through others, one that imports it
    (issue 15: ``web/__init__.py`` and the blueprints imported each other)."""
    graph = import_graph()
    cycle = find_cycle(graph)
    if cycle:
        steps = [
            f"{a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:], strict=False)
        ]
        pytest.fail("import cycle: " + "; ".join(steps))
