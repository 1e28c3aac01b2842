"""The network view patched after a write instead of rebuilt (issue 12, item 5).

A write changes a few entry graphs. The projection queries (``queries/network/*.rq``)
mark with a comment line ``#@restrict ?g`` (ties) or ``#@restrict ?n`` (nodes) where a
``VALUES`` block may restrict them; :func:`restricted` puts ``VALUES ?g { … }`` there, so
the same query describes only the ties derived from the given graphs, or only the given
nodes. In a whole run the marker is a comment: the gallery and the full build read the
same text. A tie query without a ``?g`` marker is run whole on every patch (correct, only
slower). Where the best plan differs for a few rows, a line ending in
``#@unless-restricted`` is dropped from the restricted text and a comment line
``#@if-restricted TEXT`` becomes ``TEXT`` there (the dates in ``partnership.rq``: one
pass over each date property in a whole run, a lookup per row when restricted).

:func:`patch` works out what a list of commits can have changed:

* the **graphs** to re-project: the written ones; those that state something about, cite
  or derive a tie through a resource the write describes (the tie queries read outside
  the tie's own graph the types, dates and labels of the resources it names: a
  programme's period, a grouping's class); those stating a ``cg:partnerOf`` of a touched
  resource (the tie exists only while no ``cg:Partnership`` covers the pair, in any
  graph); and, repeated until nothing is added, every other graph deriving one of the
  ties concerned (a tie keeps the list of graphs it comes from). These rules follow what
  the shipped queries read outside ``GRAPH ?g``: a query reading more must extend them;
* the **nodes** to describe again: every IRI of a changed quad, the ends of the ties
  removed or added, and the nodes located through a place whose coordinates, container
  or site changed.

It removes those ties and nodes from a copy of the graph and puts back what the
restricted queries return, read by :func:`coopgraph.network.graph_from_triples` as in a
full build: a patched graph equals a rebuilt one (``tests/test_netupdate.py`` checks it
on random sequences of writes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pyoxigraph as ox

from coopgraph import network
from coopgraph.events import Commit
from coopgraph.store.base import Solutions, Store, Triples
from coopgraph.vocab import CG, GEO, INFERRED_GRAPH, ORG, PROV, PROVENANCE_GRAPH

__all__ = ["Patch", "TieIndex", "Touched", "patch", "restricted", "touched_iris"]

#: ``#@restrict ?var`` on a line of its own: where ``VALUES ?var { … }`` goes.
MARKER = re.compile(r"^[ \t]*#@restrict[ \t]+\?(\w+)[ \t]*$", re.M)
#: A line ending in ``#@unless-restricted`` is left out of a restricted query…
WHOLE_ONLY = re.compile(r"^.*#@unless-restricted[ \t]*\n?", re.M)
#: …and ``#@if-restricted TEXT`` becomes ``TEXT`` in it (a plan that suits a few rows).
RESTRICTED_ONLY = re.compile(r"^([ \t]*)#@if-restricted[ \t]+(.*)$", re.M)
#: IRIs per VALUES block (a long block is one query still; this bounds its text).
CHUNK = 400
#: Predicates whose change moves the nodes located through their subject.
_LOCATING = frozenset({GEO.lat, GEO.long, CG.within, ORG.hasSite})
_STATING = "SELECT DISTINCT ?g WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ ?t ?p ?o }} }}"
_PAIRED = (
    "SELECT DISTINCT ?g WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ "
    + f"{{{{ ?t <{CG.partnerOf}> ?o }}}} UNION {{{{ ?o <{CG.partnerOf}> ?t }}}} }}}} }}}}"
)
_CITING = "SELECT DISTINCT ?g WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ ?s ?p ?t }} }}"
_LOCATED_THROUGH = """SELECT DISTINCT ?n WHERE {{
  VALUES ?w {{ {values} }}
  {{ ?n <{within}> ?w }} UNION {{ ?n <{site}> ?w }} UNION {{ ?n <{site}> ?s . ?s <{within}> ?w }}
  UNION {{ ?n <{jurisdiction}> ?w }}
}}"""


def restricted(text: str, var: str, iris: Iterable[str]) -> str | None:
    """``text`` with each ``#@restrict ?var`` line replaced by ``VALUES ?var { … }``;
    ``None`` when it has no such line (it cannot be restricted on ``var``).

    >>> restricted("SELECT * WHERE {\\n  #@restrict ?g\\n  GRAPH ?g { ?s ?p ?o } }", "g", ["urn:a"])
    'SELECT * WHERE {\\nVALUES ?g { <urn:a> }\\n  GRAPH ?g { ?s ?p ?o } }'
    """
    values = " ".join(str(ox.NamedNode(i)) for i in sorted(iris))
    found = False

    def put(match: re.Match[str]) -> str:
        nonlocal found
        if match.group(1) != var:
            return match.group(0)
        found = True
        return f"VALUES ?{var} {{ {values} }}"

    out = MARKER.sub(put, text)
    if not found:
        return None
    return RESTRICTED_ONLY.sub(r"\1\2", WHOLE_ONLY.sub("", out))


@dataclass(frozen=True)
class Touched:
    """The IRIs a list of commits touched."""

    iris: frozenset[str]  # in a changed quad, either end
    subjects: frozenset[str]  # described by a changed quad
    locating: frozenset[str]  # subjects of changed coordinates, containers or sites


def touched_iris(commits: Iterable[Commit]) -> Touched:
    """What ``commits`` touched (named nodes only: blank nodes stay inside an entry)."""
    iris: set[str] = set()
    subjects: set[str] = set()
    locating: set[str] = set()
    for commit in commits:
        for quad in (*commit.removed, *commit.inserted):
            if isinstance(quad.subject, ox.NamedNode):
                subjects.add(quad.subject.value)
                if quad.predicate.value in _LOCATING:
                    locating.add(quad.subject.value)
            if isinstance(quad.object, ox.NamedNode):
                iris.add(quad.object.value)
    return Touched(frozenset(iris | subjects), frozenset(subjects), frozenset(locating))


def _graphs(store: Store, template: str, iris: Iterable[str]) -> set[str]:
    """The named graphs ``template`` finds for ``iris`` (the inferences and provenance
    left out: no tie comes from them)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(iris)):
        values = " ".join(str(ox.NamedNode(i)) for i in chunk)
        result = store.query(template.format(values=values))
        assert isinstance(result, Solutions)
        found |= {r[0].value for r in result.rows if r and isinstance(r[0], ox.NamedNode)}
    return found - {INFERRED_GRAPH, PROVENANCE_GRAPH}


@dataclass(frozen=True)
class Patch:
    """What :func:`patch` did: the graphs re-projected, the nodes described again."""

    graph: nx.MultiGraph
    graphs: frozenset[str]
    nodes: frozenset[str]
    removed: list[tuple[str, str, str, dict[str, Any]]]  # ties (u, v, key, attributes)
    added: list[tuple[str, str, str, dict[str, Any]]]
    index: TieIndex  # of the patched graph


def _copy(graph: nx.MultiGraph, pairs: Iterable[tuple[str, str]]) -> nx.MultiGraph:
    """A copy of ``graph`` to patch, sharing what the patch does not change: the node
    and tie attribute dicts (the patch replaces them, never changes them in place) and
    the key dicts of every pair but ``pairs`` (those it removes ties from or adds to),
    so a copy
    costs a dict per node, not per tie (``graph.copy()`` takes seconds at 1M triples).
    A pair's key dict stays one object for both directions, as networkx keeps it."""
    out = nx.MultiGraph()
    out.graph.update(graph.graph)
    out._node = dict(graph._node)
    adj = {u: dict(neighbours) for u, neighbours in graph._adj.items()}
    for u, v in pairs:
        if u in adj and v in adj[u]:
            adj[u][v] = adj[v][u] = dict(graph._adj[u][v])
    out._adj = adj
    return out


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _construct(store: Store, text: str) -> list[ox.Triple]:
    result = store.query(text)
    assert isinstance(result, Triples), "network queries are CONSTRUCT queries"
    return list(result.triples)


def _run(store: Store, text: str, var: str, iris: set[str]) -> list[ox.Triple]:
    """The query restricted to ``iris`` (in chunks); whole when it has no marker."""
    if not iris:
        return [] if restricted(text, var, ()) is not None else _construct(store, text)
    out: list[ox.Triple] = []
    for chunk in _chunks(sorted(iris)):
        query = restricted(text, var, chunk)
        if query is None:
            return _construct(store, text)
        out += _construct(store, query)
    return out


Tie = tuple[str, str, str]  # (one end, the other, the tie's IRI)


@dataclass(frozen=True)
class TieIndex:
    """Which ties each named graph derives, which go through each IRI (ends and ``via``)
    and the graphs of each tie: kept with a snapshot and patched with it, so a patch
    never walks the whole network."""

    by_graph: dict[str, frozenset[Tie]]
    by_iri: dict[str, frozenset[Tie]]
    sources: dict[str, frozenset[str]]

    @classmethod
    def of(cls, graph: nx.MultiGraph) -> TieIndex:
        index = cls({}, {}, {})
        index._add(graph.edges(keys=True, data=True))
        return index

    def _add(self, ties: Iterable[tuple[str, str, str, dict[str, Any]]]) -> None:
        for u, v, key, data in ties:
            tie = (u, v, key)
            sources = frozenset(data.get("sources", ()))
            self.sources[key] = sources
            for g in sources:
                self.by_graph[g] = self.by_graph.get(g, frozenset()) | {tie}
            for iri in {u, v, data.get("via")}:
                if iri:
                    self.by_iri[iri] = self.by_iri.get(iri, frozenset()) | {tie}

    def patched(
        self,
        removed: Iterable[tuple[str, str, str, dict[str, Any]]],
        added: Iterable[tuple[str, str, str, dict[str, Any]]],
    ) -> TieIndex:
        """A new index without ``removed`` and with ``added`` (this one unchanged)."""
        out = TieIndex(dict(self.by_graph), dict(self.by_iri), dict(self.sources))
        for u, v, key, data in removed:
            tie = (u, v, key)
            out.sources.pop(key, None)
            for table, names in ((out.by_graph, data.get("sources", ())),
                                 (out.by_iri, {u, v, data.get("via")})):
                for name in names:
                    if name and name in table:
                        left = table[name] - {tie}
                        if left:
                            table[name] = left
                        else:
                            del table[name]
        out._add(added)
        return out


def _tie_keys(triples: Iterable[ox.Triple]) -> dict[str, set[str]]:
    """Tie IRI → the graphs it is derived from, in projection triples."""
    keys: dict[str, set[str]] = {}
    derived = PROV.wasDerivedFrom
    for t in triples:
        subject, obj = t.subject, t.object
        if t.predicate.value == derived and isinstance(subject, ox.NamedNode | ox.BlankNode) \
                and isinstance(obj, ox.NamedNode):
            keys.setdefault(subject.value, set()).add(obj.value)
    return keys


def patch(
    store: Store,
    graph: nx.MultiGraph,
    commits: Sequence[Commit],
    queries: dict[str, str],
    index: TieIndex | None = None,
) -> Patch:
    """A copy of ``graph`` (the projection before ``commits``) brought up to date with
    what ``store`` holds now; ``queries``: :func:`coopgraph.network.projection_queries`;
    ``index``: the :class:`TieIndex` of ``graph`` when at hand."""
    changed = {g for c in commits for g in c.graphs}
    touched = touched_iris(commits)
    index = index if index is not None else TieIndex.of(graph)
    by_graph, by_iri, key_sources = index.by_graph, index.by_iri, index.sources
    # the graphs a touched resource can change the ties of: those deriving a tie through
    # it, those citing a resource whose description changed (its class, its period),
    # those pairing it with cg:partnerOf (a cg:Partnership elsewhere covers the pair)
    wanted = set(changed)
    wanted |= _graphs(store, _STATING, touched.subjects)
    wanted |= _graphs(store, _CITING, touched.subjects)
    wanted |= _graphs(store, _PAIRED, touched.iris)
    for iri in touched.subjects:
        for _, _, key in by_iri.get(iri, ()):
            wanted |= key_sources[key]
    tie_queries = {name: text for name, text in queries.items() if name != "nodes"}
    done: set[str] = set()
    triples: list[ox.Triple] = []
    while wanted - done:  # until every graph deriving a tie concerned is re-projected
        todo = wanted - done
        done |= todo
        found = [t for text in tie_queries.values() for t in _run(store, text, "g", todo)]
        triples += found
        for key, sources in _tie_keys(found).items():
            wanted |= key_sources.get(key, frozenset()) | sources
        for g in todo:
            for _, _, key in by_graph.get(g, ()):
                wanted |= key_sources[key]
    old_ties = {tie for g in done for tie in by_graph.get(g, ())}
    fresh = network.graph_from_triples(triples)
    nodes = set(touched.iris) | {n for u, v, _ in old_ties for n in (u, v)} | set(fresh.nodes)
    if touched.locating:
        for chunk in _chunks(sorted(touched.locating)):
            values = " ".join(str(ox.NamedNode(i)) for i in chunk)
            rows = store.query(_LOCATED_THROUGH.format(
                values=values, within=CG.within, site=ORG.hasSite, jurisdiction=CG.jurisdiction
            ))
            assert isinstance(rows, Solutions)
            nodes |= {r[0].value for r in rows.rows if r and isinstance(r[0], ox.NamedNode)}
    # the union of the answers, each triple once (as coopgraph.network.project gives it)
    described = network.graph_from_triples(
        dict.fromkeys(triples + _run(store, queries["nodes"], "n", nodes))
    )
    removed = [(u, v, key, graph.edges[u, v, key]) for u, v, key in old_ties]
    added = list(described.edges(keys=True, data=True))
    out = _copy(graph, [(u, v) for u, v, _, _ in (*removed, *added)])
    out.remove_edges_from(old_ties)
    for u, v, key, data in added:
        out.add_edge(u, v, key=key, **data)
    for n in nodes:
        if n in described:
            if n in out:  # a new attribute dict: the previous graph shares the old one
                out._node[n] = dict(described.nodes[n])
            else:
                out.add_node(n, **described.nodes[n])
        elif n in out:
            if out.degree(n) == 0:
                out.remove_node(n)
            else:  # still the end of a tie no query describes: as a full build leaves it
                out._node[n] = {"iri": n, "kind": "other", "label": n}
    return Patch(
        graph=out,
        graphs=frozenset(done),
        nodes=frozenset(nodes),
        removed=removed,
        added=added,
        index=index.patched(removed, added),
    )
