"""A batch validated from one shared index reports exactly what each entry validated alone
with the others as its overlay reports (``validate/batch.py``, issue 12 items 1 and 3).

The batch is a generated world's entries with seeded violations (benchmarks/violations.py)
and blank nodes, against the project store, some of them replacing an older version
already in the store (those go the per-entry way: their old version is hidden from them
only). The bulk import run on the same file gives the same accepted and rejected entries,
rule IDs and messages whichever way its batches are validated.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import bench_module, build_store
from coopgraph import forked, pending
from coopgraph.bulk import ImportOptions, run_import, source_for
from coopgraph.formats import rdf_format
from coopgraph.parse import parse_bytes, parse_file, skolemise
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.validate import Candidate, Report, Validator, context, parallel
from coopgraph.validate.batch import Overlays
from coopgraph.validate.sparql import SparqlRunner
from coopgraph.vocab import ENTRY_GRAPH_PREFIX

DATA = Path(__file__).parent / "data"


def findings(report: Report) -> Counter[tuple[object, ...]]:
    return Counter(
        (f.entry, f.focus, f.focus_label, f.path, f.value, f.shape, f.component, f.severity,
         f.rule, f.message("en"))
        for f in report.findings
    )


def _world(orgs: int, violations: int) -> list[ox.Quad]:
    generate, seeded = bench_module("generate"), bench_module("violations")
    out = io.StringIO()
    generate.write(out, orgs, 5, False)
    quads = parse_bytes(out.getvalue().encode(), rdf_format("nquads"), source="generated")
    return list(seeded.inject(quads, seed=7, count=violations)[0])


def _by_graph(quads: list[ox.Quad]) -> dict[str, list[ox.Quad]]:
    found: dict[str, list[ox.Quad]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            found.setdefault(q.graph_name.value, []).append(q)
    return found


def _offer(graph: str) -> list[ox.Quad]:
    """A real offer with blank nodes (salary, languages), as an entry of ``graph``."""
    node = ox.NamedNode(graph)
    quads = parse_file(DATA / "valid" / "new-offer.ttl")
    return skolemise([ox.Quad(q.subject, q.predicate, q.object, node) for q in quads], graph)


@pytest.fixture(scope="module")
def world(settings: Settings) -> tuple[Store, dict[str, list[ox.Quad]]]:
    """The project store holding the world's reference graphs and old versions of five of
    its entries; the entries (violations seeded) and an offer as the batch."""
    store = build_store(settings)
    graphs = _by_graph(_world(40, 120))
    reference = [g for g in graphs if not g.startswith(ENTRY_GRAPH_PREFIX)]
    store.bulk_load([q for g in reference for q in graphs[g]])
    entries = sorted(g for g in graphs if g.startswith(ENTRY_GRAPH_PREFIX))
    store.bulk_load([q for g in entries[:5] for q in graphs[g][: len(graphs[g]) // 2]])
    batch = {g: graphs[g] for g in entries}
    batch[f"{ENTRY_GRAPH_PREFIX}offer"] = _offer(f"{ENTRY_GRAPH_PREFIX}offer")
    return store, batch


@pytest.mark.parametrize("unseen", [False, True], ids=["store", "unseen"])
@pytest.mark.parametrize("twins", [True, False], ids=["twins", "sparql"])
def test_batch_reports_match_entries_alone(
    world: tuple[Store, dict[str, list[ox.Quad]]], twins: bool, unseen: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """(``unseen``: the old versions in the store left out of every entry's context, as
    the import does for the graphs it loads while it validates them.)"""
    monkeypatch.setattr(SparqlRunner, "use_twins", twins)
    store, batch = world
    overlays = Overlays(batch.items())
    candidates = [Candidate(quads, graph) for graph, quads in batch.items()]
    hidden = frozenset(sorted(batch)[:5]) if unseen else frozenset()
    together = Validator(store).validate_batch(candidates, overlays, hidden)
    alone = Validator(store).validate_many([
        Candidate(c.quads, c.name, exclude_graphs=hidden, overlay=overlays.for_entry({c.name}))
        for c in candidates
    ])
    total: Counter[tuple[object, ...]] = Counter()
    for c, a, b in zip(candidates, together, alone, strict=True):
        assert findings(a) == findings(b), c.name
        assert a.conforms == b.conforms, c.name
        total += findings(a)
    rejected = [c.name for c, r in zip(candidates, together, strict=True) if not r.conforms]
    assert len(rejected) >= 10  # the comparison is not between empty reports
    assert len({key[6] for key in total}) >= 6  # many kinds of constraint
    assert together[-1].conforms  # the offer with blank nodes (salary, languages)


def test_import_outcomes_match_the_per_entry_path(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk import of a file with seeded violations in several entries: the same
    accepted and rejected entries, rule IDs and messages as with per-entry validation and
    the accepted entries loaded after their validation (not during it)."""
    path = tmp_path / "seeded.nq"
    path.write_text(
        "".join(f"{q} .\n" for q in _world(30, 25)), "utf-8"
    )

    def run() -> list[tuple[str, str, tuple[str, ...], str]]:
        store = build_store(settings)
        report = run_import(store, [source_for(path)], validator=Validator(store),
                            options=ImportOptions(agent="tester", reference=True))
        return sorted((o.graph, o.status, tuple(o.rules), o.message) for o in report.outcomes)

    preloads: list[object] = []
    start = pending.Preload.start.__func__  # type: ignore[attr-defined]

    def counted(cls: type, store: Store, graphs: dict[str, list[ox.Quad]]) -> object:
        preloads.append(found := start(cls, store, graphs))
        return found

    monkeypatch.setattr(pending.Preload, "start", classmethod(counted))
    together = run()
    assert any(preloads)  # the entries were loaded while they were validated

    def one_by_one(
        self: Validator, candidates: list[Candidate], overlays: Overlays,
        unseen: frozenset[str] = frozenset(),
    ) -> list[Report]:
        graphs = [{q.graph_name.value for q in c.quads} for c in candidates]  # type: ignore[union-attr]
        return self.validate_many([
            Candidate(c.quads, c.name, exclude_graphs=(*c.exclude_graphs, *unseen),
                      overlay=overlays.for_entry(g | set(c.exclude_graphs)))
            for c, g in zip(candidates, graphs, strict=True)
        ])

    def batches_one_by_one(
        self: Validator, batches: list[list[Candidate]], overlays: Overlays,
        unseen: frozenset[str] = frozenset(),
    ) -> Iterator[list[Report]]:
        return (one_by_one(self, batch, overlays, unseen) for batch in batches)

    # as before both: each entry validated alone, the accepted ones loaded after
    monkeypatch.setattr(Validator, "validate_batches", batches_one_by_one)
    monkeypatch.setattr(pending.Preload, "start", classmethod(lambda cls, store, graphs: None))
    alone = run()
    assert together == alone
    statuses = Counter(status for _, status, _, _ in together)
    assert statuses["rejected"] >= 5 and statuses["added"] >= 15, statuses


def test_batches_validated_in_forked_children_report_the_same(
    world: tuple[Store, dict[str, list[ox.Quad]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``validate_batches`` (the import's path: each batch prepared from the prefetched
    cache and judged in a forked child, two at a time) gives each entry the report
    ``validate_batch`` gives it in this process; a batch whose child fails, or whose cache
    lacks something, is validated here instead."""
    store, batch = world
    overlays = Overlays(batch.items())
    candidates = [Candidate(quads, graph) for graph, quads in batch.items()]
    runs = [candidates[first:first + 12] for first in range(0, len(candidates), 12)]
    here = [Validator(store).validate_batch(run, overlays) for run in runs]
    parent, spawn, prepare, judge = os.getpid(), forked.spawn, parallel.prepare, parallel.judge
    children: list[int] = []
    prepared_here: list[int] = []

    def counted(work: Callable[[], None]) -> int:
        children.append(pid := spawn(work))
        return pid

    def prepare_counted(*args: object, **options: object) -> object:
        if os.getpid() == parent:
            prepared_here.append(1)
        return prepare(*args, **options)  # type: ignore[arg-type]

    def fails_in_children(validator: Validator, prepared: object) -> object:
        if os.getpid() != parent:
            raise MemoryError("a child that fails")
        return judge(validator, prepared)  # type: ignore[arg-type]

    monkeypatch.setattr(forked, "spawn", counted)
    monkeypatch.setattr(parallel, "prepare", prepare_counted)

    def run(validator: Validator) -> list[list[Report]]:
        children.clear()
        prepared_here.clear()
        return list(parallel.validate_batches(validator, runs, overlays, children=2, fork_at=1))

    warm = Validator(store)
    warm.prefetch(candidates, 2000)
    there = run(warm)
    assert len(children) == len(runs) >= 3 and not prepared_here  # all in the children
    cold = run(Validator(store))  # nothing prefetched: the children need the store
    assert len(children) == len(runs) and len(prepared_here) == len(runs)
    monkeypatch.setattr(parallel, "judge", fails_in_children)
    recovered = run(warm)
    assert len(prepared_here) == len(runs)
    rejected = 0
    for ours, *theirs in zip(here, there, cold, recovered, strict=True):
        for a, *others in zip(ours, *theirs, strict=True):
            assert all(findings(a) == findings(b) for b in others)
            assert all(a.conforms == b.conforms for b in others)
            rejected += not a.conforms
    assert rejected >= 10


def test_context_by_index_lookups_equals_the_query(
    world: tuple[Store, dict[str, list[ox.Quad]]]
) -> None:
    """The embedded store reads an entry's two hops of context by index lookups
    (``_match_hops``); any other store by one query (``_query_hops``): the same statements
    about the same IRIs."""
    store, batch = world
    validator = Validator(store)
    candidates = [Candidate(quads, graph) for graph, quads in batch.items()]
    for c in candidates:
        context.needs(c)
    named = sorted(set().union(*(c.named for c in candidates)))
    subjects = set().union(*(c.subjects for c in candidates))
    follow = frozenset(validator.compiled.nested_paths) - {context.RDF.type}
    by_query: dict[str, list[context.Stated]] = {}
    by_lookup: dict[str, list[context.Stated]] = {}
    context._query_hops(store, named, subjects, set(), follow, by_query, {})
    context._match_hops(store, named, subjects, follow, by_lookup)  # type: ignore[arg-type]
    as_sets = {iri: set(stated) for iri, stated in by_query.items()}
    assert as_sets == {iri: set(stated) for iri, stated in by_lookup.items()}
    assert sum(map(len, as_sets.values())) > 1000  # places, concepts, old versions
