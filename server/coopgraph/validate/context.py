"""What the store tells about the nodes entries point at, fetched in ONE query per batch.

An entry is validated on a small data graph: its own triples, the types its nodes have
through the ontology (superclasses of its classes), and — from every graph but its own
and the inferred one — the outgoing triples of every IRI it names, then of the IRIs
those statements point at (two hops, so sh:class / sh:node checks on referenced nodes
resolve), plus the inferred types of all of them. The second hop follows every property
of the entry's own subjects (their values from the store are value nodes like the
entry's), but only the properties nested shapes read (``ShapeSet.nested_paths``) of the
other IRIs: the shapes read nothing else that far. Other inferred triples are left out:
a country's inferred ``cg:contains`` closure grows with the store, validation must not.

The served store lives in a child process (each query is a round trip), so the context
of a whole batch of entries is one query that returns a superset with graph names;
each entry's own context is then cut from it in memory (its graphs excluded).

What the store says about an IRI is kept between validations (:class:`ContextCache`):
each index lookup costs ≈ 50 µs on a disk store, and entries keep naming the same
concepts, places and organisations. A commit drops the IRIs it touched (the subjects and
objects of its quads, its graphs; everything for a load or a batched import): an IRI's
description is its own quads plus its inferred types, and those types follow from quads
the IRI is in (module doc of :mod:`coopgraph.reason.delta`). Only the pyoxigraph stores
cache (their writers publish every commit, :mod:`coopgraph.events`); a remote store may
be written by others.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph import events
from coopgraph.store.base import Solutions, Store, Term
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.validate.report import SKOLEM, skolemise
from coopgraph.vocab import INFERRED_GRAPH, RDF, RDFS

SUPER = "urn:coopgraph:validate:superclass"
Overlay = Callable[[set[str]], list[ox.Triple]]
Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
#: one statement of the store about an IRI: (subject, predicate, object, graph IRI)
Stated = tuple[ox.NamedNode, ox.NamedNode, Term, str]


class ContextCache:
    """What the store says about IRIs (complete: every quad with the IRI as subject outside
    ``cgg:inferred``, plus its inferred types) and each class's superclasses, kept
    between validations and dropped by commits (module doc).

    :param store: the store whose commits drop entries.
    :param describe: keep descriptions (False for a remote store: superclasses only).
    :param limit: IRIs kept before the whole cache is dropped (memory bound).
    """

    def __init__(self, store: Store, *, describe: bool = True, limit: int = 200_000) -> None:
        self.store = store
        self.describe = describe
        self.limit = limit
        self.about: dict[str, list[Stated]] = {}
        self.supers: dict[str, set[str]] = {}
        events.subscribe(store, self._commit)

    def _commit(self, commit: events.Commit) -> None:
        if commit.everything:
            self.about = {}
            self.supers = {}
            return
        about = self.about
        for graph in commit.graphs:
            about.pop(graph, None)
        for quads in (commit.removed, commit.inserted):
            for q in quads:
                about.pop(q.subject.value, None)  # type: ignore[union-attr]
                if isinstance(q.object, ox.NamedNode):
                    about.pop(q.object.value, None)

    def generation(self) -> int:
        return events.generation(self.store)

    def keep(self, found: dict[str, list[Stated]], generation: int) -> None:
        """Remember descriptions read while the store was at ``generation`` (none when a
        commit came in meanwhile: they may predate it)."""
        if not self.describe or generation != self.generation():
            return
        if len(self.about) + len(found) > self.limit:
            self.about = {}
        self.about.update(found)


def plain(statements: Iterable[ox.Triple | ox.Quad]) -> list[Triple]:
    """The (subject, predicate, object) of each statement, RDF 1.2 triple terms left out
    (entries refuse them and no shape speaks of them)."""
    return [
        (s.subject, s.predicate, s.object)
        for s in statements
        if not isinstance(s.subject, ox.Triple) and not isinstance(s.object, ox.Triple)
    ]


def subject_terms(quads: Iterable[ox.Quad]) -> set[ox.NamedNode | ox.BlankNode]:
    """The subjects of :func:`plain`'s triples, each once (no tuple per quad: every
    entry of a bulk import is read for them)."""
    triple = ox.Triple
    return {
        q.subject for q in quads
        if not isinstance(q.subject, triple) and not isinstance(q.object, triple)
    }


@dataclass
class Candidate:
    """One entry to validate: its (skolemised) quads and what to leave out of its context."""

    quads: Sequence[ox.Quad]
    name: str
    text: str | None = None
    exclude_graphs: Iterable[str] = ()
    #: IRIs → what entries not committed yet say about them (the other entries of a bulk
    #: import), added to the context like the store's statements
    overlay: Overlay | None = None
    #: its blank nodes are skolem IRIs already (the bulk import's entries: read so)
    skolemised: bool = False
    #: filled by :func:`needs` (once: ``needed``)
    needed: bool = False
    named: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)


def skolemised(candidate: Candidate) -> Candidate:
    """``candidate`` with its blank nodes as skolem IRIs, as validation sees them (itself
    when they are already: ``Candidate.skolemised``)."""
    if candidate.skolemised:
        return candidate
    c = candidate
    return Candidate([skolemise(q) for q in c.quads], c.name, c.text, tuple(c.exclude_graphs),
                     c.overlay, skolemised=True)


def needs(candidate: Candidate) -> None:
    """The IRIs and classes ``candidate`` needs context for, and the graphs to skip
    (worked out once per candidate: a bulk import's prefetch and validation share it)."""
    if candidate.needed:
        return
    rdf_type = RDF.type
    classes: set[str] = set()
    iris: set[str] = set()
    subjects: set[str] = set()
    graphs: set[str] = set()
    for q in candidate.quads:  # one pass: each term read from pyoxigraph costs a copy
        s, o, g = q.subject, q.object, q.graph_name
        if isinstance(s, ox.NamedNode):
            value = s.value
            iris.add(value)
            subjects.add(value)
        if isinstance(o, ox.NamedNode):
            value = o.value
            iris.add(value)
            if q.predicate.value == rdf_type:
                classes.add(value)
        if isinstance(g, ox.NamedNode):
            graphs.add(g.value)
    candidate.classes = classes
    candidate.named = {iri for iri in iris if not iri.startswith(SKOLEM)} - classes
    candidate.subjects = subjects & candidate.named
    candidate.excluded = set(candidate.exclude_graphs) | graphs
    candidate.needed = True


@dataclass
class Fetched:
    """The batch's context: quads by subject IRI, superclasses by class."""

    by_subject: dict[str, list[Stated]]
    supers: dict[str, set[str]]
    follow: frozenset[str] | None  # None: every property (the full second hop)
    #: fetches the store's statements about more IRIs into ``by_subject`` (overlay only)
    more: Callable[[set[str]], None] | None = None
    #: ``supers`` holds every superclass of the candidates' classes (False: the plain
    #: queries of a remote store did not ask; ``Validator._supers`` does)
    classes: bool = True

    def record_supers(
        self, supers: dict[str, set[str]], candidates: Iterable[Candidate]
    ) -> None:
        """Add the superclasses found to ``supers`` (a validator's context); a class of
        the candidates the query was asked about and found nothing for has none."""
        for cls, found in self.supers.items():
            supers.setdefault(cls, set()).update(found)
        if self.classes:
            for c in candidates:
                for cls in c.classes:
                    supers.setdefault(cls, set())

    def triples_for(self, candidate: Candidate) -> list[Triple]:
        """``candidate``'s own context (module doc) as (subject, predicate, object),
        without the superclass types (see :func:`close_types`)."""
        excluded = candidate.excluded
        out: list[Triple] = []
        seen = set(candidate.named)
        hop2: set[str] = set()
        extra: set[str] = set()  # second-hop IRIs only the overlay points at
        followed = second_hop_gate(candidate, self.follow, seen)

        for iri in candidate.named:
            for s, p, o, g in self.by_subject.get(iri, ()):
                if g in excluded:
                    continue
                out.append((s, p, o))
                if followed(iri, p, o):
                    hop2.add(o.value)
        if candidate.overlay is not None:
            for subj, pred, obj in plain(candidate.overlay(set(candidate.named))):
                out.append((subj, pred, obj))
                if isinstance(subj, ox.NamedNode) and followed(subj.value, pred, obj):
                    if obj.value not in hop2:
                        extra.add(obj.value)
        if extra and self.more is not None:
            self.more(extra)  # the store's statements about them, fetched now
        for iri in hop2 | extra:
            for s, p, o, g in self.by_subject.get(iri, ()):
                if g not in excluded:
                    out.append((s, p, o))
        if candidate.overlay is not None and (hop2 | extra):
            out += plain(candidate.overlay(hop2 | extra))
        return out


def second_hop_gate(
    candidate: Candidate, follow: frozenset[str] | None, seen: Container[str]
) -> Callable[[str, ox.NamedNode, object], bool]:
    """Whether the second hop goes from ``iri`` along ``p`` to ``o`` for ``candidate``:
    an IRI object not yet ``seen``, not along ``rdf:type``, and from one of the entry's
    subjects or along a property of ``follow`` (None: every property)."""
    rdf_type, subjects = RDF.type, candidate.subjects

    def followed(iri: str, p: ox.NamedNode, o: object) -> bool:
        return (
            isinstance(o, ox.NamedNode)
            and p.value != rdf_type
            and (follow is None or iri in subjects or p.value in follow)
            and o.value not in seen
        )

    return followed


def lateral(store: Store) -> bool:
    """Whether the store's SPARQL has LATERAL (pyoxigraph does; a remote server may not).

    Never imports the remote store's module (heavy, and imported under load it stalled a
    serving process long enough for concurrent reads to time out): a store cannot be a
    ``RemoteStore`` unless that module is already loaded.
    """
    remote = sys.modules.get("coopgraph.store.remote")
    return remote is None or not isinstance(store, remote.RemoteStore)


class StoreNeeded(Exception):
    """An offline :func:`fetch` (a forked child, :mod:`coopgraph.validate.parallel`) needs
    what the cache does not hold: the caller validates with the store instead."""


def fetch(
    store: Store,
    candidates: Sequence[Candidate],
    follow: frozenset[str] | None,
    cache: ContextCache | None = None,
    *,
    offline: bool = False,
) -> Fetched:
    """One query for the context of every candidate (module doc); ``follow``: the
    properties the second hop follows from IRIs other than the entries' subjects (None:
    every property, the full second hop); ``cache``: descriptions and superclasses
    already read (only the rest is asked for, then kept there).

    :param offline: read the cache only, never the store (nor the cache's generation):
        :class:`StoreNeeded` when it does not hold everything.
    """
    for c in candidates:
        needs(c)
    named = set().union(*(c.named for c in candidates)) if candidates else set()
    subjects = set().union(*(c.subjects for c in candidates)) if candidates else set()
    classes = set().union(*(c.classes for c in candidates)) if candidates else set()
    by_subject: dict[str, list[Stated]] = {}
    supers: dict[str, set[str]] = {}
    follow = None if follow is None else frozenset(follow) - {RDF.type}

    about = cache.about if cache is not None and cache.describe else {}

    def more(iris: set[str]) -> None:
        rest = set()
        for iri in iris:
            if iri not in by_subject:
                if iri in about:
                    by_subject[iri] = about[iri]
                else:
                    rest.add(iri)
        if rest and offline:
            raise StoreNeeded(f"{len(rest)} IRIs not described in the cache")
        _describe_into(store, rest, by_subject)

    if offline and not about:
        raise StoreNeeded("no cache of descriptions")
    if not named and not classes:
        return Fetched(by_subject, supers, follow, more)
    if not lateral(store):
        return _fetch_plain(store, named, subjects, follow)
    generation = cache.generation() if cache is not None and not offline else 0
    known = {iri: about[iri] for iri in named if iri in about}
    missing = sorted(named - known.keys())
    if cache is not None:
        classes = {c for c in classes if c not in cache.supers}
    rdf_type = RDF.type

    def followed(x: str, p: ox.NamedNode, o: object) -> bool:
        """Whether the second hop goes from ``x`` along ``p`` to ``o`` (the gate below)."""
        return (
            isinstance(o, ox.NamedNode)
            and p.value != rdf_type
            and (follow is None or x in subjects or p.value in follow)
        )

    if (missing or classes) and offline:
        raise StoreNeeded(f"{len(missing)} IRIs, {len(classes)} classes not in the cache")
    if missing and isinstance(store, EmbeddedStore):  # index lookups, no query to parse
        _match_hops(store, missing, subjects, follow, by_subject)
        missing_read = True
    else:
        missing_read = False
    if (missing and not missing_read) or classes:
        _query_hops(store, [] if missing_read else missing, subjects, classes, follow,
                    by_subject, supers)
    if missing:
        for iri in missing:  # complete now, even when the store says nothing
            by_subject.setdefault(iri, [])
            for _s, p, o, g in by_subject[iri]:
                if g != INFERRED_GRAPH and followed(iri, p, o):
                    by_subject.setdefault(o.value, [])
    by_subject.update(known)
    # second-hop IRIs of cached first-hop IRIs that are not described yet
    wanted = {
        o.value
        for iri, stated in known.items()
        for _s, p, o, g in stated
        if g != INFERRED_GRAPH and followed(iri, p, o)
    }
    wanted = {iri for iri in wanted if iri not in by_subject}
    if wanted:
        hop2 = {iri: about[iri] for iri in wanted if iri in about}
        by_subject.update(hop2)
        rest = wanted - hop2.keys()
        if rest and offline:
            raise StoreNeeded(f"{len(rest)} IRIs not described in the cache")
        if rest:
            _describe_into(store, rest, by_subject)
            for iri in rest:
                by_subject.setdefault(iri, [])
    if cache is not None and not offline:
        cache.keep({k: v for k, v in by_subject.items() if k not in about}, generation)
        for cls, found in supers.items():
            cache.supers.setdefault(cls, set()).update(found)
    return Fetched(by_subject, supers, follow, more)


def _query_hops(
    store: Store,
    missing: Sequence[str],
    subjects: set[str],
    classes: set[str],
    follow: frozenset[str] | None,
    by_subject: dict[str, list[Stated]],
    supers: dict[str, set[str]],
) -> None:
    """The one query (LATERAL): the statements about ``missing``, about the IRIs they
    point at (second hop), and the superclasses of ``classes``."""
    iris = " ".join(f"<{iri}>" for iri in missing) or f"<{SUPER}>"
    kinds = " ".join(f"<{iri}>" for iri in sorted(classes))
    inferred, rdf_type = f"<{INFERRED_GRAPH}>", f"<{RDF.type}>"
    if follow is None:
        second = f"?p1 != {rdf_type}"
    else:
        hops = ", ".join(f"<{iri}>" for iri in sorted(follow)) or f"<{SUPER}>"
        focus = ", ".join(f"<{iri}>" for iri in sorted(subjects)) or f"<{SUPER}>"
        second = f"(?p1 IN ({hops}) || (?x IN ({focus}) && ?p1 != {rdf_type}))"
    keep = f"FILTER(?g != {inferred} || ?p = {rdf_type})"
    # `?c sub ?x . ?x sub* ?super`, not `?c sub+ ?super`: Virtuoso refuses a transitive
    # path whose start is bound only by VALUES.
    classes_part = (
        f" UNION {{ VALUES ?x {{ {kinds} }} ?x <{RDFS.subClassOf}> ?y . "
        f"?y <{RDFS.subClassOf}>* ?s1 FILTER(isIRI(?s1)) BIND(<{SUPER}> AS ?p1) }}"
        if classes
        else ""
    )
    hop1 = (
        f"VALUES ?x {{ {iris} }} GRAPH ?g1 {{ ?x ?p1 ?s1 }} "
        f"FILTER(?g1 != {inferred} || ?p1 = {rdf_type})"
    )
    gate = f"FILTER(isIRI(?s1) && ?g1 != {inferred} && {second})"
    hop2 = f"GRAPH ?g {{ ?s1 ?p ?o }} {keep}"
    # each first-hop row looks up its object, if followed, once
    where = f"{{ {hop1} LATERAL {{ {{ }} UNION {{ {{ {gate} }} {hop2} }} }} }}{classes_part}"
    result = store.query(f"SELECT DISTINCT ?x ?p1 ?s1 ?g1 ?p ?o ?g WHERE {{ {where} }}")
    assert isinstance(result, Solutions)
    seen: set[Stated] = set()
    for x, p1, s1, g1, p, o, g in result.rows:
        assert isinstance(x, ox.NamedNode) and isinstance(p1, ox.NamedNode) and s1 is not None
        if p1.value == SUPER:
            supers.setdefault(x.value, set()).add(s1.value)
            continue
        if p is None and g1 is not None:
            found = (x, p1, s1, g1.value)
        elif isinstance(s1, ox.NamedNode) and isinstance(p, ox.NamedNode) and o is not None and g:
            found = (s1, p, o, g.value)
        else:
            continue
        if found not in seen:
            seen.add(found)
            by_subject.setdefault(found[0].value, []).append(found)


def _match_hops(
    store: EmbeddedStore,
    missing: Sequence[str],
    subjects: set[str],
    follow: frozenset[str] | None,
    by_subject: dict[str, list[Stated]],
) -> None:
    """The statements :func:`_query_hops` reads about ``missing`` and the IRIs they point
    at, by index lookups (the embedded store: at 1M triples the query with tens of
    thousands of IRIs in ``VALUES`` cost more to parse and answer than the lookups)."""
    rdf_type, inferred = RDF.type, INFERRED_GRAPH
    seen: set[Stated] = set()
    second: dict[str, ox.NamedNode] = {}

    def keep(q: ox.Quad) -> tuple[Stated | None, bool]:
        g = q.graph_name
        if not isinstance(g, ox.NamedNode):
            return None, False
        graph, typed = g.value, q.predicate.value == rdf_type
        if graph == inferred and not typed:
            return None, False
        subject, obj = q.subject, q.object
        if not isinstance(subject, ox.NamedNode) or isinstance(obj, ox.Triple):
            return None, False  # (the subjects are IRIs; triple terms: not read)
        found: Stated = (subject, q.predicate, obj, graph)
        if found in seen:
            return None, False
        seen.add(found)
        by_subject.setdefault(subject.value, []).append(found)
        return found, graph != inferred and not typed

    for iri, quads in zip(missing, store.match([(ox.NamedNode(i), None, None, None)
                                                for i in missing]), strict=True):
        for q in quads:
            found, asserted = keep(q)
            o = q.object
            if (
                found is not None and asserted and isinstance(o, ox.NamedNode)
                and (follow is None or iri in subjects or q.predicate.value in follow)
            ):
                second.setdefault(o.value, o)
    names = list(second)
    for quads in store.match([(second[n], None, None, None) for n in names]):
        for q in quads:
            keep(q)


def _describe_into(
    store: Store, iris: set[str], by_subject: dict[str, list[tuple[Any, ...]]]
) -> None:
    """The store's statements about ``iris`` (asserted, plus inferred types)."""
    fresh = sorted(iri for iri in iris if iri not in by_subject)
    if not fresh:
        return
    values = " ".join(f"<{iri}>" for iri in fresh)
    asserted = store.query(
        f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} "
        f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g NOT IN (<{INFERRED_GRAPH}>)) }}"
    )
    types = store.query(
        f"SELECT ?s ?o WHERE {{ VALUES ?s {{ {values} }} "
        f"GRAPH <{INFERRED_GRAPH}> {{ ?s <{RDF.type}> ?o }} }}"
    )
    assert isinstance(asserted, Solutions) and isinstance(types, Solutions)
    for s, p, o, g in asserted.rows:
        if isinstance(s, ox.NamedNode) and g is not None:
            by_subject.setdefault(s.value, []).append((s, p, o, g.value))
    type_node, inferred = ox.NamedNode(RDF.type), INFERRED_GRAPH
    for s, o in types.rows:
        if isinstance(s, ox.NamedNode) and o is not None:
            by_subject.setdefault(s.value, []).append((s, type_node, o, inferred))


def close_types(
    triples: list[Triple], supers: Callable[[set[str]], dict[str, set[str]]]
) -> list[Triple]:
    """Every rdf:type found (entry, store, overlay) closed through the ontology's class
    hierarchy, so the context does not depend on ``cgg:inferred`` being up to date (a
    batched import rebuilds it at the end)."""
    rdf_type = RDF.type
    typed = [(s, o) for s, p, o in triples if p.value == rdf_type and isinstance(o, ox.NamedNode)]
    found = supers({o.value for _, o in typed})
    type_node = ox.NamedNode(rdf_type)
    return [(s, type_node, ox.NamedNode(sup)) for s, o in typed for sup in found.get(o.value, ())]


def _fetch_plain(
    store: Store, named: set[str], subjects: set[str], follow: frozenset[str] | None
) -> Fetched:
    """The same context with plain SPARQL 1.1 queries a remote server accepts (Virtuoso
    refuses the combined form with an internal error): the first hop, then the second
    hop's IRIs; superclasses come from :meth:`Validator._supers`."""
    by_subject: dict[str, list[tuple[Any, ...]]] = {}
    _describe_into(store, named, by_subject)
    hop2: set[str] = set()
    for iri in named:
        for _s, p, o, _g in by_subject.get(iri, ()):
            if (
                isinstance(o, ox.NamedNode)
                and p.value != RDF.type
                and (follow is None or iri in subjects or p.value in follow)
                and o.value not in named
            ):
                hop2.add(o.value)
    _describe_into(store, hop2, by_subject)
    return Fetched(
        by_subject, {}, follow, lambda iris: _describe_into(store, iris, by_subject), False
    )
