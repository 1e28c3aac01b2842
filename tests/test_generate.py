"""benchmarks/generate.py writes data that parses, conforms to the shapes and is deterministic.

The benchmarks measure coopgraph on generated data; these tests keep that data honest: it
uses the project's ontology the way the seeds do (so the shapes accept it) and the same
seed always gives the same bytes (so figures from two runs are comparable).
"""

from __future__ import annotations

import io

import pytest

from conftest import bench_module
from coopgraph.formats import rdf_format
from coopgraph.parse import parse_bytes
from coopgraph.store import Store
from coopgraph.vocab import GRAPH, PROV, RDF

generate = bench_module("generate")


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


@pytest.fixture(scope="module")
def world_store(project_store: Store, nquads: str) -> Store:
    """The project plus the generated world, with inferences: the context entries meet."""
    from coopgraph.reason import Reasoner
    from coopgraph.store.embedded import EmbeddedStore

    store = EmbeddedStore(None)
    base = parse_bytes(nquads.encode(), rdf_format("nquads"), source="generated")
    store.bulk_load(list(project_store.quads()) + base)
    Reasoner(store).materialise()
    return store


def representative_graphs(quads: list) -> dict[str, list]:
    """The generated graphs, one of each sort: every organisation kind with and without an
    offer, the programmes, two countries' places. Validating each of the ~75 graphs of
    ``--orgs 50`` takes minutes with today's validator (pyshacl re-parses SPARQL for every
    sh:class check, see benchmarks/README.md); one of each sort covers every template."""
    by_graph: dict[str, list] = {}
    for q in quads:
        by_graph.setdefault(q.graph_name.value, []).append(q)
    chosen: dict[str, list] = {}
    seen: set[tuple[str, bool]] = set()
    places = 0
    for graph, graph_quads in sorted(by_graph.items()):
        if "-places-" in graph:
            if places < 2:
                chosen[graph] = graph_quads
            places += 1
            continue
        if "-programmes-" in graph:
            chosen[graph] = graph_quads
            continue
        types = {
            q.object.value for q in graph_quads
            if q.predicate.value == RDF.type and "/org/" in q.subject.value
        }
        offer = any(q.object.value == "http://schema.org/JobPosting" for q in graph_quads)
        for kind in sorted(types):
            if (kind, offer) not in seen:
                seen.add((kind, offer))
                chosen[graph] = graph_quads
    return chosen


def test_each_sort_of_graph_conforms_to_the_shapes(world_store: Store, nquads: str) -> None:
    """Each graph is validated as the entry it stands for, the rest of the world as context
    (the way staff add entries); the whole file as one entry is far slower."""
    from coopgraph.validate import Validator

    quads = parse_bytes(nquads.encode(), rdf_format("nquads"), source="generated")
    chosen = representative_graphs(quads)
    assert len(chosen) >= 15
    validator = Validator(world_store)
    failures = []
    for graph, graph_quads in chosen.items():
        report = validator.validate_quads(graph_quads, entry=graph)
        if not report.conforms:
            failures.append(report.to_text("en"))
    assert not failures, "\n".join(failures[:3])


def test_one_new_entry_conforms(world_store: Store) -> None:
    from coopgraph.validate import Validator

    world = generate.World(50, 1)
    entry = parse_bytes(
        generate.entry_nquads(50, 1, 0, world).encode(), rdf_format("nquads"), source="entry"
    )
    assert 25 <= len(entry) <= 100
    report = Validator(world_store).validate_quads(entry, entry="bench entry")
    assert report.conforms, report.to_text("en")
