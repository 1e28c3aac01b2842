"""Time the reasoner: full materialisation and incremental refresh after one entry.

Runs on the seed data (``load_project``) and on synthetic graphs of roughly the sizes
asked for (``--sizes``), then prints one line per measure. Not part of the test suite.

    /tmp/venv/bin/python benchmarks/reasoning.py --sizes 100000 1000000

The synthetic generator builds, with the real ontology, N places in a 4-level hierarchy
(country → region → department → commune, ``cg:within``) in one reference graph, and
organisations (typed with cg:Commune, cg:Association…, each ``cg:within`` a commune,
``cg:partnerOf`` one or two others, some ``org:hasSubOrganization``) spread over many
seed-like graphs, so the rules cross graphs as they do on the real data.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from coopgraph.load import load_project
from coopgraph.parse import parse_file
from coopgraph.reason import Reasoner
from coopgraph.settings import PROJECT_ROOT, Settings
from coopgraph.store.base import Store
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.vocab import CG, GRAPH, ID, INFERRED_GRAPH, ONTOLOGY_GRAPH, ORG, RDF, RDFS, SCHEMA

ORG_CLASSES = [CG.Commune, CG.Intermunicipality, CG.Association, CG.RegionalAuthority,
               CG.PublicAgency, CG.Network]


def _q(s: str, p: str, o: ox.NamedNode | ox.Literal | str, g: str) -> ox.Quad:
    obj = ox.NamedNode(o) if isinstance(o, str) else o
    return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), obj, ox.NamedNode(g))


def synthetic(target: int, seed: int = 7) -> list[ox.Quad]:
    """About ``target`` asserted quads (places ≈ 40 %, organisations ≈ 60 %)."""
    rng = random.Random(seed)
    places_graph = GRAPH["reference/synthetic-places"]
    quads: list[ox.Quad] = []
    # 4 levels: 5 countries × 10 regions × 10 departments × k communes; ≈4 quads a place
    n_places = max(60, int(target * 0.4 / 3))
    communes_per_dept = max(1, (n_places - 555) // 500)
    communes: list[str] = []
    for c in range(5):
        country = ID[f"place/syn-c{c}"]
        quads += [_q(country, RDF.type, SCHEMA.Country, places_graph),
                  _q(country, RDFS.label, ox.Literal(f"Country {c}", language="en"), places_graph)]
        for r in range(10):
            region = ID[f"place/syn-c{c}-r{r}"]
            quads += [_q(region, RDF.type, SCHEMA.AdministrativeArea, places_graph),
                      _q(region, CG.within, country, places_graph)]
            for d in range(10):
                dept = ID[f"place/syn-c{c}-r{r}-d{d}"]
                quads += [_q(dept, RDF.type, SCHEMA.AdministrativeArea, places_graph),
                          _q(dept, CG.within, region, places_graph)]
                for k in range(communes_per_dept):
                    commune = ID[f"place/syn-c{c}-r{r}-d{d}-k{k}"]
                    communes.append(commune)
                    quads += [
                        _q(commune, RDF.type, SCHEMA.City, places_graph),
                        _q(commune, RDFS.label, ox.Literal(f"Commune {k}", language="fr"),
                           places_graph),
                        _q(commune, CG.within, dept, places_graph),
                    ]
    n_orgs = max(10, int(target * 0.6 / 4.7))
    orgs = [ID[f"org/syn-{i}"] for i in range(n_orgs)]
    for i, org in enumerate(orgs):
        graph = GRAPH[f"seed/syn-{i % 200:03d}"]
        quads += [
            _q(org, RDF.type, rng.choice(ORG_CLASSES), graph),
            _q(org, RDFS.label, ox.Literal(f"Organisation {i}", language="fr"), graph),
            _q(org, CG.within, rng.choice(communes), graph),
            _q(org, CG.partnerOf, rng.choice(orgs), graph),
        ]
        if i % 2:
            quads.append(_q(org, CG.partnerOf, rng.choice(orgs), graph))
        if i % 5 == 0 and i:
            quads.append(_q(orgs[i - 1], ORG.hasSubOrganization, org, graph))
    return quads


def ontology_quads() -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for path in sorted((PROJECT_ROOT / "ontology").glob("*.ttl")):
        quads += parse_file(path, default_graph=ONTOLOGY_GRAPH)
    return quads


def one_entry(n: int, store: Store) -> tuple[str, list[ox.Quad]]:
    """A small entry like staff would add: a new quarter, an organisation, a partnership."""
    graph = GRAPH[f"entry/bench-{n}"]
    result = store.query(f"SELECT ?c WHERE {{ GRAPH ?g {{ ?c a <{SCHEMA.City}> }} }} LIMIT 1")
    commune = result.rows[0][0].value  # type: ignore[union-attr]
    result = store.query(f"SELECT ?o WHERE {{ GRAPH ?g {{ ?o a <{CG.Commune}> }} }} LIMIT 1")
    partner = result.rows[0][0].value  # type: ignore[union-attr]
    quarter, org = ID[f"place/bench-quarter-{n}"], ID[f"org/bench-asso-{n}"]
    return graph, [
        _q(quarter, RDF.type, SCHEMA.Place, graph),
        _q(quarter, CG.within, commune, graph),
        _q(org, RDF.type, CG.Association, graph),
        _q(org, RDFS.label, ox.Literal(f"Association {n}", language="fr"), graph),
        _q(org, CG.within, quarter, graph),
        _q(org, CG.partnerOf, partner, graph),
    ]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench_incremental(store: Store, rounds: int) -> dict[str, float]:
    reasoner = Reasoner(store)
    reasoner.warm()  # the TBox is computed once per process (cached by content)
    add_times, remove_times, sizes = [], [], []
    for n in range(rounds):
        graph, entry = one_entry(n, store)

        def add(entry: list[ox.Quad] = entry) -> int:
            changes, delta = reasoner.changes(insert=entry)
            store.apply(changes)
            return delta.affected

        seconds, size = timed(add)
        add_times.append(seconds)
        sizes.append(size)

        def remove(graph: str = graph, entry: list[ox.Quad] = entry) -> None:
            changes, _ = reasoner.changes(drop_graphs=[graph], removed=entry)
            store.apply(changes)

        seconds, _ = timed(remove)
        remove_times.append(seconds)
    return {
        "add_median_ms": 1000 * statistics.median(add_times),
        "add_max_ms": 1000 * max(add_times),
        "remove_median_ms": 1000 * statistics.median(remove_times),
        "affected_nodes": statistics.median(sizes),
    }


def report(label: str, store: Store, rounds: int) -> None:
    asserted = sum(n for g, n in store.graph_sizes().items() if g != INFERRED_GRAPH)
    cpu = time.process_time()
    stats = Reasoner(store).materialise()
    cpu = time.process_time() - cpu
    inc = bench_incremental(store, rounds)
    # the incremental writes must leave the same inferred graph as a full rebuild
    before = {q for q in store.quads(INFERRED_GRAPH)}
    again = Reasoner(store).materialise()
    same = before == {q for q in store.quads(INFERRED_GRAPH)}
    print(
        f"{label}: asserted={asserted:,} inferred={stats.inferred:,} "
        f"materialise={stats.seconds:.2f}s (cpu {cpu:.2f}s) "
        f"(again {again.seconds:.2f}s) | one entry: add median {inc['add_median_ms']:.1f} ms "
        f"(max {inc['add_max_ms']:.1f}), remove median {inc['remove_median_ms']:.1f} ms, "
        f"affected nodes {inc['affected_nodes']:.0f} | incremental == rebuild: {same}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--store", type=Path, help="on-disk store directory (default: memory)")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, {platform.processor() or platform.machine()}",
          file=sys.stderr)

    store = EmbeddedStore(None)
    load_project(store, Settings(store=":memory:"), reason=False)
    report("seed data", store, args.rounds)

    for size in args.sizes:
        store = EmbeddedStore(args.store / str(size) if args.store else None)
        seconds, _ = timed(lambda store=store, size=size: store.bulk_load(
            ontology_quads() + synthetic(size)))
        print(f"synthetic {size:,}: generated and loaded in {seconds:.1f}s", file=sys.stderr)
        report(f"synthetic {size:,}", store, args.rounds)
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
