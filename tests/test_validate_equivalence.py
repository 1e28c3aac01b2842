"""The compiled validator reports exactly what pyshacl (the reference) reports.

The reference is coopgraph's validator as it was: pyshacl on the entry plus its full
two-hop context (``Validator.validate_many(..., reference=True)``). Same focus node,
result path, value, source shape, constraint component, severity and rule ID, counted as
a multiset, on: every fixture of tests/data/invalid/ and
tests/data/valid/, every seed, every entry graph of a generated world with seeded
violations (benchmarks/violations.py), and that whole world validated as one store.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import bench_module
from coopgraph.formats import rdf_format
from coopgraph.parse import parse_bytes, parse_file
from coopgraph.reason import Reasoner
from coopgraph.settings import PROJECT_ROOT, Settings
from coopgraph.store import Store
from coopgraph.validate import Candidate, Report, Validator
from coopgraph.validate.native import twin
from coopgraph.validate.shapes import SparqlCheck
from coopgraph.validate.sparql import SparqlRunner
from coopgraph.vocab import ENTRY_GRAPH_PREFIX

DATA = Path(__file__).parent / "data"
EXPECTED = tomllib.loads((DATA / "invalid" / "expected.toml").read_text("utf-8"))
PARSABLE = sorted(n for n, e in EXPECTED.items() if e["exit"] != 2)
FILES = (
    [DATA / "invalid" / n for n in PARSABLE]
    + sorted((DATA / "valid").iterdir())
    + sorted((PROJECT_ROOT / "data" / "seeds").glob("*.trig"))
    + sorted((PROJECT_ROOT / "data" / "reference").glob("*.trig"))
)


def findings(report: Report) -> Counter[tuple[object, ...]]:
    return Counter(
        (f.entry, f.focus, f.path, f.value, f.shape, f.component, f.severity, f.rule)
        for f in report.findings
    )


@pytest.fixture(scope="module")
def validator(project_store: Store) -> Validator:
    return Validator(project_store)


def test_every_shape_is_compiled(validator: Validator) -> None:
    """Today's shapes need no pyshacl fallback (a new construct would show up here)."""
    assert [(s.node, s.reason) for s in validator.compiled.fallback] == []


def test_every_sparql_check_has_a_python_twin(validator: Validator) -> None:
    """The project's SHACL-SPARQL queries run as Python (native.py), not as SPARQL."""
    checks = {
        arg.template
        for shape in validator.compiled.shapes.values()
        for _param, arg in shape.checks
        if isinstance(arg, SparqlCheck)
    }
    assert len(checks) >= 11
    assert [t for t in checks if twin(t) is None] == []


@pytest.fixture(params=[True, False], ids=["twins", "sparql"])
def twins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each comparison runs with the Python twins and with SPARQL (sparql.py)."""
    monkeypatch.setattr(SparqlRunner, "use_twins", request.param)
    return bool(request.param)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_reports_match_pyshacl(validator: Validator, path: Path, twins: bool) -> None:
    candidate = Candidate(parse_file(path), str(path), path.read_text("utf-8"))
    [fast] = validator.validate_many([candidate])
    [slow] = validator.validate_many([candidate], reference=True)
    assert findings(fast) == findings(slow)
    assert fast.conforms == slow.conforms
    assert fast.to_text("en") == slow.to_text("en")


def test_invalid_fixtures_are_caught(validator: Validator) -> None:
    """The comparison above is not between two empty reports."""
    report = validator.validate_files([DATA / "invalid" / n for n in PARSABLE])
    assert {f.rule for f in report.findings} >= {
        e["rule"] for e in EXPECTED.values() if "rule" in e
    }


@pytest.fixture(scope="module")
def seeded_world(settings: Settings) -> tuple[Store, list[ox.Quad], list[str]]:
    """Project + a generated world of 25 organisations with 80 seeded violations."""
    from conftest import build_store

    generate, violations = bench_module("generate"), bench_module("violations")
    import io

    out = io.StringIO()
    generate.write(out, 25, 5, False)
    quads = parse_bytes(out.getvalue().encode(), rdf_format("nquads"), source="generated")
    broken, notes = violations.inject(quads, seed=11, count=80)
    store = build_store(settings)
    store.bulk_load(broken)
    Reasoner(store).materialise()
    return store, broken, notes


@pytest.mark.slow
def test_seeded_entries_match_pyshacl(
    seeded_world: tuple[Store, list[ox.Quad], list[str]], twins: bool
) -> None:
    store, quads, notes = seeded_world
    by_graph: dict[str, list[ox.Quad]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            by_graph.setdefault(q.graph_name.value, []).append(q)
    candidates = [Candidate(qs, g) for g, qs in sorted(by_graph.items())]
    validator = Validator(store)
    fast = validator.validate_many(candidates)
    slow = validator.validate_many(candidates, reference=True)
    total: Counter[tuple[object, ...]] = Counter()
    for a, b in zip(fast, slow, strict=True):
        assert findings(a) == findings(b), a.entries
        total += findings(a)
    violated = [c.name for c, r in zip(candidates, fast, strict=True) if not r.conforms]
    assert len(violated) >= 10, notes
    assert len({key[5] for key in total}) >= 8  # many kinds of constraint exercised
    assert any(g.startswith(ENTRY_GRAPH_PREFIX) for g in violated)


@pytest.mark.slow
def test_seeded_store_matches_pyshacl(
    seeded_world: tuple[Store, list[ox.Quad], list[str]], twins: bool
) -> None:
    store, _quads, _notes = seeded_world
    validator = Validator(store)
    fast = validator.validate_store()
    slow = validator.validate_store(reference=True)
    assert findings(fast) == findings(slow)
    assert not fast.conforms
    assert fast.count("Violation") >= 10


def test_a_batch_reports_what_single_entries_report(validator: Validator) -> None:
    candidates = [Candidate(parse_file(p), str(p)) for p in FILES]
    batch = validator.validate_many(candidates)
    for candidate, report in zip(candidates, batch, strict=True):
        alone = validator.validate_quads(candidate.quads, entry=candidate.name)
        assert findings(report) == findings(alone)
