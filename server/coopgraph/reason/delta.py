"""The incremental path: what a write changes in ``cgg:inferred``, from bound reads.

Every write (add, replace, remove an entry; load; import) goes through
:func:`inference_delta`, which reads the store *before* the write and returns the
inferred quads to delete and to insert; the caller puts them in the write's own
:class:`~coopgraph.store.base.Changes`, so data and inferences are one transaction.

Why a neighbourhood is enough. Non-transitive rules conclude a triple whose nodes are
nodes of their single premise (``rdfs9``/``rdfs2`` keep the subject, ``rdfs3`` takes the
object, the property rules keep or swap both). Transitivity concludes ``(x p z)`` from a
chain x → … → z. A changed quad that becomes an edge u → v of a transitive p (directly,
or through sub-property/inverse/symmetric axioms) can only change chains
x →* u → v →* z, i.e. pairs with x among the descendants of u and z among the ancestors
of v. So with A (the *area*) = the changed quads' IRI nodes ∪ those descendants and
ancestors (one hop: the store holds the closure), every inferred triple that depends on
the change is (a) a triple between two nodes of A, (b) an ``rdf:type`` triple of a node
of A, or (c) a literal-valued triple of a changed subject and literal.

Those affected triples only need premises that are themselves affected, or unaffected
ones touching A. So the store is read with bound patterns only: every quad between two
nodes of A (``VALUES (?s ?o)``), the ``rdf:type`` quads of A, the quads whose (subject,
literal) pair occurs in the change, and, per transitive property walked from its cheap
end, the edges x → m → y with x, y in A and m outside (the unaffected middles a chain
between two affected nodes may need). The new asserted state of that neighbourhood
(read − removed + added) plus the middles is closed by the one engine
(:func:`~coopgraph.reason.closure.closure`); its affected conclusions are the new values
of (a)–(c), except for ``rdf:type`` triples supported by an unaffected triple with one
end outside A (``country a schema:Place`` because of its 10⁵ ``cg:contains`` edges): a
type that held before and is not re-derived is kept when a ``LIMIT``-ed bound probe finds
such a triple, so a hub is never enumerated.

When the area is larger than :data:`HUB_LIMIT` (a country moved under another: 10⁵ chains
change) or holds a term no query can name (a blank node: entries and project files are
skolemised when parsed, see :func:`coopgraph.parse.skolemise`, so only a store filled by
other means has them), the neighbourhood is the whole store: same engine, same diff. A
diff that would have to name a blank node is refused (``DELETE DATA`` cannot name one and
``INSERT DATA`` renames it), before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from coopgraph.errors import StoreError
from coopgraph.reason.closure import Key, closure
from coopgraph.reason.tbox import TYPE, TBox, property_reach
from coopgraph.store.base import Pattern, Store, match
from coopgraph.vocab import INFERRED_GRAPH

__all__ = ["HUB_LIMIT", "MIDDLE_LIMIT", "Delta", "inference_delta"]

#: Above this many affected nodes the neighbourhood is the whole store (the bound reads
#: name every pair of nodes: their cost grows with the square).
HUB_LIMIT = 400
#: Transitive edges walked from one affected node in one direction before that direction
#: counts as a hub's (the other one, or a full walk, is used instead).
MIDDLE_LIMIT = 64

_INFERRED = ox.NamedNode(INFERRED_GRAPH)
_RDF_TYPE = f"<{TYPE}>"
_A = _RDF_TYPE


class _Unnameable(Exception):
    """A node of the neighbourhood cannot be named in a query (a blank node)."""


@dataclass
class Delta:
    """What a write changes in ``cgg:inferred``."""

    #: inferred quads that no longer hold, or are now asserted
    delete: list[ox.Quad]
    #: inferred quads that now hold
    insert: list[ox.Quad]
    #: how many nodes had their inferences recomputed (the whole store: every subject)
    affected: int
    #: the neighbourhood was the whole store (area over HUB_LIMIT, or blank nodes)
    whole_store: bool = False
    #: the affected IRIs (the area; empty when the whole store was read)
    affected_nodes: Sequence[str] = ()


def _name(term: Any) -> str:
    """The IRI of a node the reads must name; a blank node cannot be named in a query
    (stores other than the embedded one get SPARQL) nor in ``DELETE DATA``."""
    if isinstance(term, ox.NamedNode):
        return term.value
    raise _Unnameable(str(term))


def _kept(q: ox.Quad) -> bool:
    """An asserted quad of a named graph (the inferred graph is the reasoner's output)."""
    return isinstance(q.graph_name, ox.NamedNode) and q.graph_name != _INFERRED


@lru_cache(maxsize=4096)
def _chain_edges(tbox: TBox, predicate: str) -> frozenset[tuple[str, bool]]:
    """The transitive properties a ``predicate`` statement becomes an edge of, as
    ``(transitive property, flipped)``."""
    return frozenset(
        (p, f) for p, f in property_reach(tbox, predicate) if p in tbox.transitive
    )


def inference_delta(
    store: Store, tbox: TBox, added: Sequence[ox.Quad], removed: Sequence[ox.Quad]
) -> Delta:
    """The quads of ``cgg:inferred`` to delete and insert when ``removed`` leave the store
    and ``added`` enter it. Call it *before* the write (see the module docstring).

    :param added: the quads the write inserts (already present ones are fine).
    :param removed: the quads the write deletes (a dropped graph: all its quads).
    :returns: a :class:`Delta`.
    """
    added = [q for q in added if _kept(q)]
    removed = [q for q in removed if _kept(q)]
    if not added and not removed:
        return Delta([], [], 0)
    try:
        area, lit_pairs = _area(store, tbox, [*removed, *added])
        if len(area) > HUB_LIMIT:
            return _whole_store(store, tbox, added, removed)
        return _local(store, tbox, added, removed, area, lit_pairs)
    except _Unnameable:
        return _whole_store(store, tbox, added, removed)


def _area(
    store: Store, tbox: TBox, quads: Sequence[ox.Quad]
) -> tuple[list[str], list[tuple[str, ox.Literal]]]:
    """The affected IRIs (changed nodes, their transitive ancestors and descendants) and
    the changed (subject, literal) pairs."""
    changed: set[str] = set()
    lit_pairs: set[tuple[str, ox.Literal]] = set()
    edges: set[tuple[str, str, str]] = set()  # (transitive property, lower, upper)
    for q in quads:
        s, o = q.subject, q.object
        if not isinstance(s, ox.NamedNode) or isinstance(o, ox.BlankNode | ox.Triple):
            raise _Unnameable(str(q))  # the whole store is read instead
        changed.add(s.value)
        if isinstance(o, ox.Literal):
            lit_pairs.add((s.value, o))
            continue
        if q.predicate.value == TYPE:
            continue
        changed.add(o.value)
        for prop, flipped in _chain_edges(tbox, q.predicate.value):
            low, high = (o, s) if flipped else (s, o)
            edges.add((prop, low.value, high.value))
    nodes = set(changed)
    if edges:
        # descendants of each edge's lower end, ancestors of its upper end (one hop
        # suffices: the store holds the transitive closure)
        patterns: list[Pattern] = []
        for p, lower, upper in sorted(edges):
            predicate = ox.NamedNode(p)
            patterns.append((None, predicate, ox.NamedNode(lower), None))
            patterns.append((ox.NamedNode(upper), predicate, None, None))
        for i, found in enumerate(match(store, patterns)):
            for q in found:
                m = q.subject if i % 2 == 0 else q.object
                if not isinstance(m, ox.Literal):
                    nodes.add(_name(m))
    return sorted(nodes), sorted(lit_pairs, key=str)


def _local(
    store: Store,
    tbox: TBox,
    added: Sequence[ox.Quad],
    removed: Sequence[ox.Quad],
    area: Sequence[str],
    lit_pairs: Sequence[tuple[str, ox.Literal]],
) -> Delta:
    inside = {f"<{n}>" for n in area}
    lit_keys = {(f"<{s}>", str(o)) for s, o in lit_pairs}
    terms: dict[str, Any] = {}

    def key(term: Any) -> str:
        text = str(term)
        terms.setdefault(text, term)
        return text

    gone = set(removed)
    asserted: set[Key] = set()
    old: set[Key] = set()
    types_before: set[Key] = set()  # asserted or inferred
    for q in _neighbourhood(store, area, lit_pairs):
        k = (key(q.subject), key(q.predicate), key(q.object))
        if k[1] == _RDF_TYPE:
            types_before.add(k)
        if q.graph_name == _INFERRED:
            old.add(k)
        elif q not in gone:
            asserted.add(k)
    for q in added:
        asserted.add((key(q.subject), key(q.predicate), key(q.object)))
    middles = _middles_outside(store, tbox, area, inside)
    premises = asserted | {(key(s), key(p), key(o)) for s, p, o in middles}

    def affected(t: Key) -> bool:
        s, p, o = t
        return s in inside and (o in inside or p == _RDF_TYPE or (s, o) in lit_keys)

    new = {t for t in closure(tbox, premises) if affected(t)}
    # a type that held before (inferred, or asserted and now removed) and is not derived
    # from the neighbourhood may still follow from an unaffected triple
    lost_types = sorted(types_before - new - asserted)
    new |= _still_supported(store, tbox, lost_types, inside, lit_keys)

    def quad(t: Key) -> ox.Quad:
        s, p, o = (terms[x] if x in terms else ox.NamedNode(x[1:-1]) for x in t)
        return ox.Quad(s, p, o, _INFERRED)

    return Delta(
        delete=[quad(t) for t in sorted(old - new)],
        insert=[quad(t) for t in sorted(new - old)],
        affected=len(area),
        affected_nodes=area,
    )


def _whole_store(
    store: Store, tbox: TBox, added: Sequence[ox.Quad], removed: Sequence[ox.Quad]
) -> Delta:
    """The same diff with the whole store as the neighbourhood (one read of every quad)."""
    gone = set(removed)
    asserted: set[Key] = set()
    old: set[Key] = set()
    nodes: set[str] = set()
    for q in store.quads():
        if not isinstance(q.graph_name, ox.NamedNode):
            continue
        k = (str(q.subject), str(q.predicate), str(q.object))
        if q.graph_name == _INFERRED:
            old.add(k)
        elif q not in gone:
            asserted.add(k)
            nodes.add(k[0])
    for q in added:
        asserted.add((str(q.subject), str(q.predicate), str(q.object)))
    new = closure(tbox, asserted)
    delete, insert = old - new, new - old
    blank = next((t for t in (*delete, *insert) if t[0][0] == "_" or t[2][0] == "_"), None)
    if blank is not None:
        raise StoreError(
            f"cannot maintain the inferences of {' '.join(blank)}: the store holds blank "
            "nodes that were never skolemised (written by an older coopgraph, or bulk "
            "loaded raw), and no update can name them; write the data again through "
            "`coopgraph load --reload` or the entries pipeline, which skolemise it"
        )
    return Delta(
        delete=to_quads(delete), insert=to_quads(insert), affected=len(nodes),
        whole_store=True,
    )


def to_nquads(keys: Iterable[Key]) -> bytes:
    """Inferred keys as N-Quads text in ``cgg:inferred``, in their order."""
    graph = str(_INFERRED)
    return "".join(f"{s} {p} {o} {graph} .\n" for s, p, o in keys).encode()


def to_quads(keys: Iterable[Key]) -> list[ox.Quad]:
    """Inferred keys as quads of ``cgg:inferred`` (N-Quads text parsed back by pyoxigraph:
    much faster than building each term)."""
    text = to_nquads(sorted(keys))
    return list(ox.parse(text, format=ox.RdfFormat.N_QUADS)) if text else []


def _neighbourhood(
    store: Store, area: Sequence[str], lit_pairs: Sequence[tuple[str, ox.Literal]]
) -> Iterator[ox.Quad]:
    """Quads (any graph) between two nodes of ``area``, ``rdf:type`` quads of its nodes,
    and quads with a (subject, literal) of ``lit_pairs``: one batch of bound reads."""
    nodes = tuple(ox.NamedNode(n) for n in area)
    rdf_type = ox.NamedNode(TYPE)
    patterns: list[Pattern] = [(nodes, None, nodes, None)]  # every pair
    patterns += [(x, rdf_type, None, None) for x in nodes]
    patterns += [(ox.NamedNode(s), None, o, None) for s, o in lit_pairs]
    for found in match(store, patterns):
        yield from found


def _middles_outside(
    store: Store, tbox: TBox, area: Sequence[str], inside: set[str]
) -> list[tuple[Any, Any, Any]]:
    """Transitive edges x → m and m → y with x, y in ``area`` and m outside it: the
    unaffected premises that close a chain between two affected nodes.

    For each composed transitive property, one edge is walked from every node of the
    area in both directions, at most ``MIDDLE_LIMIT`` edges a node: the direction no node
    exceeds (ancestors, for ``cg:within``) is used and the second edge is probed pair by
    pair, so a hub is never enumerated (a node over the limit both ways is walked in full).
    """
    composed = tbox.composed()
    if not composed:
        return []
    nodes = tuple(ox.NamedNode(n) for n in area)
    keys = [(p, a, up) for p in composed for a in nodes for up in (True, False)]
    walked = match(
        store,
        [(a, ox.NamedNode(p), None, None) if up else (None, ox.NamedNode(p), a, None)
         for p, a, up in keys],
        limit=MIDDLE_LIMIT + 1,
    )
    walks: dict[tuple[str, bool], dict[str, list[Any]]] = {}
    cut: dict[tuple[str, bool], list[str]] = {}  # walks the limit stopped: incomplete
    for (p, a, up), found in zip(keys, walked, strict=True):
        if len(found) > MIDDLE_LIMIT:
            cut.setdefault((p, up), []).append(a.value)
        if found:
            ends = {q.object if up else q.subject for q in found}
            walks.setdefault((p, up), {})[a.value] = sorted(ends, key=str)
    first: list[tuple[Any, Any, Any, bool]] = []
    for p in composed:
        hubs = {up: sorted(cut.get((p, up), [])) for up in (True, False)}
        up = len(hubs[True]) <= len(hubs[False])
        walk = walks.get((p, up), {})
        if hubs[up]:  # a hub both ways (rare): walk it in full
            prop = ox.NamedNode(p)
            full = match(
                store,
                [(ox.NamedNode(a), prop, None, None) if up else (None, prop, ox.NamedNode(a), None)
                 for a in hubs[up]],
            )
            for hub, found in zip(hubs[up], full, strict=True):
                walk[hub] = sorted({q.object if up else q.subject for q in found}, key=str)
        prop = ox.NamedNode(p)
        first += [
            (ox.NamedNode(a), prop, m, up)
            for a, ms in walk.items()
            for m in ms
            if not isinstance(m, ox.Literal) and str(m) not in inside
        ]
    if not first:
        return []
    # second edge: m → y (upward walk) or x → m (downward walk), y / x in the area
    middles: dict[tuple[Any, bool], set[Any]] = {}
    for _, prop, m, up in first:
        _name(m)  # a blank middle cannot be named: the whole store is read instead
        middles.setdefault((prop, up), set()).add(m)
    probes: list[Pattern] = [
        (tuple(sorted(ms, key=str)), prop, nodes, None) if up
        else (nodes, prop, tuple(sorted(ms, key=str)), None)
        for (prop, up), ms in sorted(middles.items(), key=str)
    ]
    edges = [(q.subject, q.predicate, q.object) for found in match(store, probes) for q in found]
    # keep the first edges that lead somewhere (a middle is a subject of an upward probe,
    # an object of a downward one; keeping a few extra is harmless)
    linked = {str(t) for s, _, o in edges for t in (s, o)}
    edges += [(a, p, m) if up else (m, p, a) for a, p, m, up in first if str(m) in linked]
    return edges


def _still_supported(
    store: Store, tbox: TBox, lost: Sequence[Key], inside: set[str], lit_keys: set[tuple[str, str]]
) -> set[Key]:
    """The inferred ``rdf:type`` triples of ``lost`` that an unaffected triple still
    supports: ``x p o`` with ``p`` of domain ``c`` (or a subclass), ``w p x`` with ``p``
    of range ``c``, the other end outside the affected area (nor a changed literal). One
    ``LIMIT``-ed bound pattern per node and property."""
    if not lost:
        return set()
    below: dict[str, set[str]] = {}
    for c, d in tbox.sub_classes:
        below.setdefault(d, set()).add(c)
    wanted: dict[tuple[str, str, bool], set[Key]] = {}
    for t in lost:
        x, c = t[0], t[2][1:-1]
        classes = {c} | below.get(c, set())
        for table, out in ((tbox.domains, True), (tbox.ranges, False)):
            for p, d in table:
                if d in classes:
                    wanted.setdefault((x, p, out), set()).add(t)
    if not wanted:
        return set()
    limit = len(inside) + len(lit_keys) + 1
    keys = sorted(wanted)
    patterns: list[Pattern] = [
        (ox.NamedNode(x[1:-1]), ox.NamedNode(p), None, None) if out
        else (None, ox.NamedNode(p), ox.NamedNode(x[1:-1]), None)
        for x, p, out in keys
    ]
    supported: set[Key] = set()
    for (x, p, out), found in zip(keys, match(store, patterns, limit=limit), strict=True):
        for q in found:
            other = str(q.object if out else q.subject)
            if other in inside or (x, other) in lit_keys:
                continue  # an affected triple: already in the local closure
            supported |= wanted[(x, p, out)]
            break
    return supported
