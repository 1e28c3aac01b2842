"""benchmarks/generate.py writes data that parses, conforms to the shapes and is deterministic.

The benchmarks measure coopgraph on generated data; these tests keep that data honest: it
uses the project's ontology the way the seeds do (so the shapes accept it) and the same
seed always gives the same bytes (so figures from two runs are comparable).
"""

from __future__ import annotations

import importlib.util
import io
import sys
from types import ModuleType

import pytest

from coopgraph.formats import rdf_format
from coopgraph.parse import parse_bytes
from coopgraph.settings import PROJECT_ROOT
from coopgraph.store import Store
from coopgraph.vocab import GRAPH, PROV, RDF


def _load_generate() -> ModuleType:
    path = PROJECT_ROOT / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("coopgraph_bench_generate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _load_generate()


def _output(orgs: int, seed: int, trig: bool = False) -> str:
    out = io.StringIO()
    generate.write(out, orgs, seed, trig)
    return out.getvalue()


@pytest.fixture(scope="module")
def nquads() -> str:
    return _output(50, 1)


def test_same_seed_same_bytes(nquads: str) -> None:
    assert _output(50, 1) == nquads


def test_other_seed_other_bytes(nquads: str) -> None:
    assert _output(50, 2) != nquads


@pytest.mark.parametrize("trig", [False, True], ids=["nquads", "trig"])
def test_parses_into_named_graphs_with_provenance(trig: bool) -> None:
    text = _output(50, 1, trig)
    fmt = rdf_format("trig" if trig else "nquads")
    quads = parse_bytes(text.encode(), fmt, source="generated")
    assert len(quads) > 50 * 60
    graphs = {q.graph_name.value for q in quads}  # type: ignore[union-attr]
    assert all(g.startswith(str(GRAPH)) for g in graphs)
    described = {
        q.subject.value
        for q in quads
        if q.predicate.value == RDF.type and q.object.value == PROV.Entity
    }
    assert graphs <= described  # every graph describes itself with PROV-O


def test_conforms_to_the_shapes(project_store: Store, nquads: str) -> None:
    from coopgraph.validate import Validator

    quads = parse_bytes(nquads.encode(), rdf_format("nquads"), source="generated")
    report = Validator(project_store).validate_quads(quads, entry="generate.py --orgs 50")
    assert report.conforms, report.to_text("en")


def test_one_new_entry_conforms(project_store: Store, nquads: str) -> None:
    from coopgraph.validate import Validator

    world = generate.World(50, 1)
    entry = parse_bytes(
        generate.entry_nquads(50, 1, 0, world).encode(), rdf_format("nquads"), source="entry"
    )
    assert 25 <= len(entry) <= 90
    # the entry points at generated organisations: the context is the project plus the
    # generated world, with inferences (types through the ontology), as in the benchmarks
    from coopgraph.reason import Reasoner
    from coopgraph.store.embedded import EmbeddedStore

    base = parse_bytes(nquads.encode(), rdf_format("nquads"), source="generated")
    context = EmbeddedStore(None)
    context.bulk_load(list(project_store.quads()) + base)
    Reasoner(context).materialise()
    report = Validator(context).validate_quads(entry, entry="bench entry")
    assert report.conforms, report.to_text("en")
