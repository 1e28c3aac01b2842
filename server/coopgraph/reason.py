"""The reasoner: owlrl closes the ontology, SPARQL UPDATE rules fill ``cgg:inferred``.

Two levels, because owlrl's whole-graph closure is far too slow for the data (≈7 s at 10k
triples, 69 s at 100k on the dev machine):

1. **TBox** — the ontology graph (``cgg:ontology``) is read into rdflib and closed with
   owlrl (OWL 2 RL). From the closure we keep only the schema facts the ABox rules need:
   ``rdfs:subClassOf`` / ``rdfs:subPropertyOf`` pairs (already transitive, equivalences
   turned into two subsumptions by owlrl), ``rdfs:domain`` / ``rdfs:range`` (already
   inherited along sub-properties and super-classes), ``owl:inverseOf`` (both directions),
   ``owl:SymmetricProperty`` and ``owl:TransitiveProperty``. The closure is cached per
   ontology content, so a new :class:`Reasoner` on an unchanged ontology costs one read.
2. **ABox** — rules are SPARQL 1.1 UPDATE operations generated from those TBox IRIs (never
   from request text), evaluated inside the store over every named graph (asserted and
   inferred) and writing only into ``cgg:inferred``. A triple already present in any graph
   is never inserted, so the inferred graph holds only new facts. Passes repeat until the
   inferred graph stops growing.

Rule ids: ``rdfs9-subclass``, ``rdfs7-subproperty``, ``rdfs2-domain``, ``rdfs3-range``,
``owl-inverse``, ``owl-symmetric``, ``owl-transitive`` (OWL 2 RL ``cax-sco``, ``prp-spo1``,
``prp-dom``, ``prp-rng``, ``prp-inv1/2``, ``prp-symp``, ``prp-trp``).

Deliberately not covered:

- ``owl:sameAs``: the data uses it only to link our places to Wikidata/GeoNames items
  (external identifiers). Propagating every property across those links (``eq-rep-*``)
  would copy our facts onto foreign IRIs, so sameAs is treated like ``skos:exactMatch``:
  no inference at all.
- ``owl:Thing`` / ``rdfs:Resource`` typing and facts about RDF/RDFS/OWL/XSD terms (the
  axiomatic part of OWL RL): they tell nobody anything.
- Rules that only check consistency (disjointness, cardinality ≤ 1, …): SHACL does that.

Incremental maintenance (:meth:`Reasoner.refresh_updates`) — why it is correct. Every
rule except transitivity concludes a triple whose subject and object are nodes of its
single premise (``rdfs9``, ``rdfs2`` keep the subject, ``rdfs3`` takes the object, the
property rules keep or swap both). Transitivity concludes ``(x p z)`` from a chain whose
ends are ``x`` and ``z``. Hence every inferred triple that depends on an added or removed
quad has its subject or object among the quad's subject/object or among their ancestors
and descendants along a transitive property: the set :meth:`~Reasoner.affected_nodes`
returns (computed in the store *before* the write, whose inferred graph is complete).
Triples touching none of those nodes do not depend on the change and stay; triples
touching them are deleted and re-derived by the same rules restricted (``VALUES``) to
conclusions touching the set. By induction on derivation height a derivation of an
affected triple only needs affected triples derived in earlier passes plus unaffected
triples already in the store, so the restricted passes reach the same fixpoint.

SPARQL UPDATE cannot loop, so the restricted passes are unrolled. Bound: a pass applies
every rule kind once in the order transitive, symmetric, inverse, sub-property, domain,
range, subclass (sub-class, sub-property, domain and range are pre-closed, so one step of
each suffices); the property-changing steps of a derivation follow a simple path in the
TBox graph "p → q when q is an inverse or super-property of p" (length ``L``), and a
transitive chain through ``n`` affected nodes needs at most ``ceil(log2(2n + 1))``
doubling passes (each pass composes any two existing edges). ``refresh_updates`` unrolls
``L + ceil(log2(2n + 1)) + 1`` passes; passes that find nothing cost one index probe per
affected node.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph.errors import StoreError
from coopgraph.store.base import Changes, Solutions, Store
from coopgraph.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, OWL, RDF, RDFS, XSD

__all__ = [
    "RULES",
    "Explanation",
    "Premise",
    "Reasoner",
    "ReasoningStats",
    "TBox",
    "tbox_from_triples",
]

#: Rule id → (label fr, label en).
RULES: dict[str, tuple[str, str]] = {
    "rdfs9-subclass": (
        "sous-classe : une instance de la sous-classe est une instance de la super-classe",
        "subclass: an instance of a subclass is an instance of its superclass",
    ),
    "rdfs7-subproperty": (
        "sous-propriété : une relation implique sa super-propriété",
        "sub-property: a statement implies the same statement with the super-property",
    ),
    "rdfs2-domain": (
        "domaine : le sujet d'une propriété est une instance de son domaine",
        "domain: the subject of a property is an instance of its domain",
    ),
    "rdfs3-range": (
        "portée : l'objet d'une propriété est une instance de sa portée",
        "range: the object of a property is an instance of its range",
    ),
    "owl-inverse": (
        "propriété inverse : la relation vaut aussi dans l'autre sens avec l'inverse",
        "inverse property: the relation also holds the other way round with the inverse",
    ),
    "owl-symmetric": (
        "propriété symétrique : la relation vaut dans les deux sens",
        "symmetric property: the relation holds both ways",
    ),
    "owl-transitive": (
        "propriété transitive : a→b et b→c donnent a→c",
        "transitive property: a→b and b→c give a→c",
    ),
}

_TYPE = RDF.type
_META_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))
_INF = f"<{INFERRED_GRAPH}>"
_A = f"<{_TYPE}>"
_COUNT_INFERRED = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {_INF} {{ ?s ?p ?o }} }}"
#: Safety cap for :meth:`Reasoner.materialise` (a fixpoint is normally reached in 2–4).
MAX_PASSES = 50


def _is_meta(iri: str) -> bool:
    """A term of the RDF/RDFS/OWL/XSD vocabularies (``owl:Thing``, ``rdfs:Class``…)."""
    return iri.startswith(_META_NAMESPACES)


#: Properties that state schema, not facts: never premises or conclusions of ABox rules.
#: Annotation properties of RDFS (``rdfs:label``, ``rdfs:comment``…) are facts and stay.
_SCHEMA_PROPERTIES = frozenset(
    {_TYPE, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, RDF.first, RDF.rest}
)


def _is_meta_property(iri: str) -> bool:
    return iri in _SCHEMA_PROPERTIES or iri.startswith(str(OWL))


def _iri(value: str) -> str:
    """``<iri>`` for SPARQL text; ``NamedNode`` validation refuses anything that is not an
    IRI (spaces, ``>``…), so no text can escape the brackets."""
    return str(ox.NamedNode(value))


# ---------------------------------------------------------------------------------------
# TBox
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TBox:
    """The schema closure the ABox rules are generated from (IRIs as strings)."""

    sub_classes: frozenset[tuple[str, str]] = frozenset()
    sub_properties: frozenset[tuple[str, str]] = frozenset()
    domains: frozenset[tuple[str, str]] = frozenset()
    ranges: frozenset[tuple[str, str]] = frozenset()
    #: (p, q): every ``x p y`` gives ``y q x`` (both directions of each owl:inverseOf)
    inverses: frozenset[tuple[str, str]] = frozenset()
    symmetric: frozenset[str] = frozenset()
    transitive: frozenset[str] = frozenset()
    #: every class or property IRI the TBox mentions (not "nodes" of the ABox)
    terms: frozenset[str] = frozenset()

    @property
    def property_depth(self) -> int:
        """Longest simple path in the graph p → q (q inverse or super-property of p)."""
        edges: dict[str, set[str]] = {}
        for p, q in self.inverses | self.sub_properties:
            edges.setdefault(p, set()).add(q)

        best = 0

        def walk(node: str, seen: frozenset[str], length: int) -> None:
            nonlocal best
            best = max(best, length)
            for nxt in edges.get(node, ()):
                if nxt not in seen:
                    walk(nxt, seen | {nxt}, length + 1)

        for start in edges:
            walk(start, frozenset({start}), 0)
        return best

    def axioms(self) -> dict[str, list[tuple[str, str, str]]]:
        """The TBox as triples, grouped by rule id (for ``explain`` and docs)."""
        return {
            "rdfs9-subclass": [(c, RDFS.subClassOf, d) for c, d in sorted(self.sub_classes)],
            "rdfs7-subproperty": [
                (p, RDFS.subPropertyOf, q) for p, q in sorted(self.sub_properties)
            ],
            "rdfs2-domain": [(p, RDFS.domain, c) for p, c in sorted(self.domains)],
            "rdfs3-range": [(p, RDFS.range, c) for p, c in sorted(self.ranges)],
            "owl-inverse": [(p, OWL.inverseOf, q) for p, q in sorted(self.inverses)],
            "owl-symmetric": [(p, _TYPE, OWL.SymmetricProperty) for p in sorted(self.symmetric)],
            "owl-transitive": [
                (p, _TYPE, OWL.TransitiveProperty) for p in sorted(self.transitive)
            ],
        }


def tbox_from_triples(triples: Iterable[ox.Triple]) -> TBox:
    """Close ontology triples with owlrl (OWL 2 RL) and keep what the ABox rules need.

    :param triples: the ontology (``cgg:ontology``) as pyoxigraph triples.
    :returns: the :class:`TBox`; meta-vocabulary (RDF/RDFS/OWL/XSD) classes and
        properties, ``owl:Thing``, blank-node classes and reflexive pairs are left out.
    """
    import owlrl
    import rdflib

    triples = list(triples)
    graph = rdflib.Graph()
    if triples:
        nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        graph.parse(data=nt, format="nt")
    owlrl.DeductiveClosure(
        owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(graph)

    def pairs(predicate: str, is_meta: Callable[[str], bool]) -> set[tuple[str, str]]:
        out = set()
        for s, o in graph.subject_objects(rdflib.URIRef(predicate)):
            if isinstance(s, rdflib.URIRef) and isinstance(o, rdflib.URIRef) and s != o:
                if not is_meta(str(s)) and not is_meta(str(o)):
                    out.add((str(s), str(o)))
        return out

    def property_class(predicate: str) -> set[tuple[str, str]]:
        return {
            (p, c)
            for p, c in pairs(predicate, lambda _: False)
            if not _is_meta_property(p) and not _is_meta(c)
        }

    def typed(cls: str) -> set[str]:
        return {
            str(s)
            for s in graph.subjects(rdflib.URIRef(_TYPE), rdflib.URIRef(cls))
            if isinstance(s, rdflib.URIRef) and not _is_meta_property(str(s))
        }

    inverses = pairs(OWL.inverseOf, _is_meta_property)
    inverses |= {(q, p) for p, q in inverses}
    sub_classes = pairs(RDFS.subClassOf, _is_meta)
    sub_properties = pairs(RDFS.subPropertyOf, _is_meta_property)
    domains = property_class(RDFS.domain)
    ranges = property_class(RDFS.range)
    symmetric = typed(OWL.SymmetricProperty)
    transitive = typed(OWL.TransitiveProperty)
    # A symmetric property is its own inverse: owlrl records that as p inverseOf p.
    inverses = {(p, q) for p, q in inverses if p != q}
    terms: set[str] = set(symmetric | transitive)
    for pair_set in (sub_classes, sub_properties, domains, ranges, inverses):
        for a, b in pair_set:
            terms.update((a, b))
    return TBox(
        sub_classes=frozenset(sub_classes),
        sub_properties=frozenset(sub_properties),
        domains=frozenset(domains),
        ranges=frozenset(ranges),
        inverses=frozenset(inverses),
        symmetric=frozenset(symmetric),
        transitive=frozenset(transitive),
        terms=frozenset(terms),
    )


_TBOX_CACHE: dict[str, TBox] = {}
_TBOX_LOCK = threading.Lock()


def _ontology_tbox(store: Store) -> TBox:
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads(ONTOLOGY_GRAPH)]
    key = hashlib.sha256("\n".join(sorted(str(t) for t in triples)).encode()).hexdigest()
    with _TBOX_LOCK:
        cached = _TBOX_CACHE.get(key)
    if cached is not None:
        return cached
    tbox = tbox_from_triples(triples)
    with _TBOX_LOCK:
        if len(_TBOX_CACHE) > 8:
            _TBOX_CACHE.clear()
        _TBOX_CACHE[key] = tbox
    return tbox


# ---------------------------------------------------------------------------------------
# Rule generation
# ---------------------------------------------------------------------------------------


def _values(variables: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    body = " ".join("(" + " ".join(_iri(v) for v in row) + ")" for row in sorted(rows))
    return f"VALUES ({' '.join(variables)}) {{ {body} }}"


def _anchor(var: str, nodes: Sequence[str] | None) -> str:
    if nodes is None:
        return ""
    return f"VALUES {var} {{ {' '.join(_iri(n) for n in nodes)} }}\n"


def _insert(template: str, where: str) -> str:
    return f"INSERT {{ GRAPH {_INF} {{ {template} }} }}\nWHERE {{\n{where}}}"


def _absent(s: str, p: str, o: str) -> str:
    return f"FILTER NOT EXISTS {{ GRAPH ?k {{ {s} {p} {o} }} }}\n"


def rule_pass(tbox: TBox, nodes: Sequence[str] | None = None) -> list[str]:
    """One pass of every rule as SPARQL UPDATE operations, in dependency order.

    :param tbox: the schema closure.
    :param nodes: restrict conclusions to triples whose subject or object is one of these
        IRIs (incremental refresh); ``None`` for the whole store.
    """
    ops: list[str] = []
    anchored = nodes is not None
    for p in sorted(tbox.transitive):
        pi = _iri(p)
        ops.append(
            _insert(
                f"?x {pi} ?z",
                _anchor("?x", nodes)
                + f"GRAPH ?g {{ ?x {pi} ?m }}\nGRAPH ?h {{ ?m {pi}+ ?z }}\n"
                + _absent("?x", pi, "?z"),
            )
        )
        if anchored:
            ops.append(
                _insert(
                    f"?x {pi} ?z",
                    _anchor("?z", nodes)
                    + f"GRAPH ?g {{ ?m {pi} ?z }}\nGRAPH ?h {{ ?x {pi}+ ?m }}\n"
                    + _absent("?x", pi, "?z"),
                )
            )
    anchors = ("?x", "?y") if anchored else ("?x",)
    if tbox.symmetric:
        for var in anchors:
            ops.append(
                _insert(
                    "?y ?p ?x",
                    _anchor(var, nodes)
                    + _values(["?p"], ((p,) for p in tbox.symmetric))
                    + "\nGRAPH ?g { ?x ?p ?y }\nFILTER(!isLiteral(?y))\n"
                    + _absent("?y", "?p", "?x"),
                )
            )
    if tbox.inverses:
        for var in anchors:
            ops.append(
                _insert(
                    "?y ?q ?x",
                    _anchor(var, nodes)
                    + _values(["?p", "?q"], tbox.inverses)
                    + "\nGRAPH ?g { ?x ?p ?y }\nFILTER(!isLiteral(?y))\n"
                    + _absent("?y", "?q", "?x"),
                )
            )
    if tbox.sub_properties:
        for var in anchors:
            ops.append(
                _insert(
                    "?x ?q ?y",
                    _anchor(var, nodes)
                    + _values(["?p", "?q"], tbox.sub_properties)
                    + "\nGRAPH ?g { ?x ?p ?y }\n"
                    + _absent("?x", "?q", "?y"),
                )
            )
    if tbox.domains:
        ops.append(
            _insert(
                f"?x {_A} ?c",
                _anchor("?x", nodes)
                + _values(["?p", "?c"], tbox.domains)
                + "\nGRAPH ?g { ?x ?p ?y }\n"
                + _absent("?x", _A, "?c"),
            )
        )
    if tbox.ranges:
        ops.append(
            _insert(
                f"?y {_A} ?c",
                _anchor("?y", nodes)
                + _values(["?p", "?c"], tbox.ranges)
                + "\nGRAPH ?g { ?x ?p ?y }\nFILTER(!isLiteral(?y))\n"
                + _absent("?y", _A, "?c"),
            )
        )
    if tbox.sub_classes:
        ops.append(
            _insert(
                f"?x {_A} ?d",
                _anchor("?x", nodes)
                + _values(["?c", "?d"], tbox.sub_classes)
                + f"\nGRAPH ?g {{ ?x {_A} ?c }}\n"
                + _absent("?x", _A, "?d"),
            )
        )
    return ops


def _delete_touching(nodes: Sequence[str]) -> list[str]:
    """Delete every inferred triple whose subject or object is one of ``nodes``."""
    return [
        f"DELETE {{ GRAPH {_INF} {{ ?s ?p ?o }} }}\nWHERE {{\n{_anchor(var, nodes)}"
        f"GRAPH {_INF} {{ ?s ?p ?o }}\n}}"
        for var in ("?s", "?o")
    ]


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasoningStats:
    """What a materialisation or refresh did."""

    #: triples in ``cgg:inferred`` afterwards
    inferred: int
    #: rule passes run (materialise: until no growth, the last one finding nothing)
    passes: int
    #: wall-clock seconds
    seconds: float


@dataclass
class Premise:
    """One premise of an inference: a triple and where it comes from."""

    triple: ox.Triple
    #: the named graph holding it (``cgg:inferred`` for an inferred premise)
    graph: str
    #: how an inferred premise was derived (empty when asserted or depth exhausted)
    explanations: list[Explanation] = field(default_factory=list)

    @property
    def inferred(self) -> bool:
        return self.graph == INFERRED_GRAPH

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.triple.subject.value,
            "predicate": self.triple.predicate.value,
            "object": str(self.triple.object),
            "graph": self.graph,
            "inferred": self.inferred,
            "explanations": [e.to_dict() for e in self.explanations],
        }


@dataclass
class Explanation:
    """One way an inferred triple follows from premises and schema axioms."""

    rule: str
    label_fr: str
    label_en: str
    premises: list[Premise]
    #: schema axioms used, as (subject, predicate, object) IRIs from the TBox closure
    axioms: list[tuple[str, str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": {"fr": self.label_fr, "en": self.label_en},
            "premises": [p.to_dict() for p in self.premises],
            "axioms": [list(a) for a in self.axioms],
        }


def _explanation(
    rule: str, premises: list[Premise], axioms: list[tuple[str, str, str]]
) -> Explanation:
    fr, en = RULES[rule]
    return Explanation(rule, fr, en, premises, axioms)


class Reasoner:
    """Materialise and maintain ``cgg:inferred`` for a store.

    >>> from coopgraph.store.embedded import EmbeddedStore
    >>> Reasoner(EmbeddedStore(None)).materialise().inferred
    0

    :param store: any :class:`~coopgraph.store.base.Store`; the TBox is read from its
        ``cgg:ontology`` graph on first use.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tbox: TBox | None = None

    @property
    def tbox(self) -> TBox:
        """The ontology closure (read from the store and computed once, cached by content)."""
        if self._tbox is None:
            self._tbox = _ontology_tbox(self.store)
        return self._tbox

    def _count(self) -> int:
        result = self.store.query(_COUNT_INFERRED)
        assert isinstance(result, Solutions)
        return int(result.rows[0][0].value)  # type: ignore[union-attr]

    # -- full materialisation ----------------------------------------------------------

    def materialise(self) -> ReasoningStats:
        """Drop ``cgg:inferred`` and rebuild it to the fixpoint.

        The drop and the first pass are one transaction, so readers never see an empty
        inferred graph; each later pass is its own transaction and only adds triples.

        :returns: :class:`ReasoningStats` (triples inferred, passes run, seconds).
        :raises StoreError: a write failed, or no fixpoint after ``MAX_PASSES``.
        """
        start = time.perf_counter()
        self._tbox = None  # the ontology may have been reloaded
        ops = rule_pass(self.tbox)
        self.store.apply(Changes(drop_graphs=[INFERRED_GRAPH], then=ops))
        passes, size = 1, self._count()
        while True:
            if passes >= MAX_PASSES:
                raise StoreError(f"reasoning did not reach a fixpoint in {MAX_PASSES} passes")
            self.store.apply(Changes(then=ops))
            passes += 1
            new_size = self._count()
            if new_size == size:
                break
            size = new_size
        return ReasoningStats(size, passes, time.perf_counter() - start)

    # -- incremental maintenance -------------------------------------------------------

    def affected_nodes(self, quads: Iterable[ox.Quad]) -> set[str]:
        """IRIs whose inferences may change when ``quads`` are added or removed.

        Subjects and IRI objects of the quads (not ``rdf:type`` objects nor ontology
        terms), plus their ancestors and descendants along every transitive property and
        its inverse, read from the current store. Call it *before* the write.

        :param quads: the quads about to be added or removed (or both, for a replace).
        :returns: a set of IRIs for :meth:`refresh_updates`.
        """
        tbox = self.tbox
        nodes: set[str] = set()
        for q in quads:
            if q.graph_name == ox.NamedNode(INFERRED_GRAPH):
                continue
            if isinstance(q.subject, ox.NamedNode) and q.subject.value not in tbox.terms:
                nodes.add(q.subject.value)
            if (
                isinstance(q.object, ox.NamedNode)
                and q.predicate.value != _TYPE
                and q.object.value not in tbox.terms
            ):
                nodes.add(q.object.value)
        nodes = {n for n in nodes if not _is_meta(n)}
        chain_props = set(tbox.transitive)
        chain_props |= {q for p, q in tbox.inverses if p in tbox.transitive}
        if nodes and chain_props:
            query = (
                "SELECT DISTINCT ?m WHERE {\n"
                + _anchor("?n", sorted(nodes))
                + _values(["?p"], ((p,) for p in chain_props))
                + "\n{ GRAPH ?g { ?n ?p ?m } } UNION { GRAPH ?g { ?m ?p ?n } }\n"
                "FILTER(isIRI(?m))\n}"
            )
            result = self.store.query(query)
            assert isinstance(result, Solutions)
            nodes.update(str(t.value) for t in result.values("m") if t is not None)
        return nodes

    def passes_needed(self, nodes: set[str]) -> int:
        """How many restricted passes :meth:`refresh_updates` unrolls (see module doc)."""
        return self.tbox.property_depth + math.ceil(math.log2(2 * len(nodes) + 1)) + 1

    def refresh_updates(self, nodes: set[str]) -> list[str]:
        """Trusted update operations that bring ``cgg:inferred`` up to date for ``nodes``.

        They delete every inferred triple whose subject or object is in ``nodes``, then
        re-derive (unrolled to the fixpoint bound of :meth:`passes_needed`) every
        inferred triple whose subject or object is in ``nodes``. Append them to the
        ``then`` of the same :class:`~coopgraph.store.base.Changes` as the write, so the
        write and its inferences are one transaction.

        :param nodes: from :meth:`affected_nodes` (IRIs only; validated as IRIs).
        :returns: SPARQL 1.1 UPDATE operations (empty when ``nodes`` is empty).
        """
        if not nodes:
            return []
        ordered = sorted(nodes)
        ops = _delete_touching(ordered)
        one_pass = rule_pass(self.tbox, ordered)
        for _ in range(self.passes_needed(nodes)):
            ops.extend(one_pass)
        return ops

    def refresh(self, nodes: set[str]) -> ReasoningStats:
        """Apply :meth:`refresh_updates` on its own (one transaction)."""
        start = time.perf_counter()
        ops = self.refresh_updates(nodes)
        if ops:
            self.store.apply(Changes(then=ops))
        passes = self.passes_needed(nodes) if nodes else 0
        return ReasoningStats(self._count(), passes, time.perf_counter() - start)

    # -- explanations ------------------------------------------------------------------

    def explain(
        self, s: str, p: str, o: ox.NamedNode | ox.Literal | str, *, depth: int = 4
    ) -> list[Explanation]:
        """Why an inferred triple holds: each rule instance that derives it.

        :param s: subject IRI.
        :param p: predicate IRI.
        :param o: object (an IRI string is read as a ``NamedNode``).
        :param depth: how deep inferred premises are explained in turn.
        :returns: explanations, those with fewest inferred premises first; ``[]`` when
            the triple is asserted in some graph or not inferred at all.
        """
        obj = ox.NamedNode(o) if isinstance(o, str) else o
        triple = ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj)
        graphs = self._graphs_of(triple)
        if graphs != [INFERRED_GRAPH]:
            return []
        return self._explain(triple, depth, frozenset({triple}))

    def _graphs_of(self, triple: ox.Triple) -> list[str]:
        result = self.store.query(
            "SELECT DISTINCT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
            bindings={"s": triple.subject, "p": triple.predicate, "o": triple.object},
        )
        assert isinstance(result, Solutions)
        return sorted(str(t.value) for t in result.values("g") if t is not None)

    def _premise(self, triple: ox.Triple, depth: int, seen: frozenset[ox.Triple]) -> Premise | None:
        graphs = self._graphs_of(triple)
        if not graphs:
            return None
        asserted = [g for g in graphs if g != INFERRED_GRAPH]
        if asserted:
            return Premise(triple, asserted[0])
        explanations = self._explain(triple, depth - 1, seen | {triple}) if depth > 1 else []
        return Premise(triple, INFERRED_GRAPH, explanations[:1])

    def _candidates(
        self, triple: ox.Triple
    ) -> Iterator[tuple[str, list[ox.Triple], list[tuple[str, str, str]]]]:
        tbox = self.tbox
        s, p, o = triple.subject, triple.predicate.value, triple.object
        type_node = ox.NamedNode(_TYPE)
        if p == _TYPE and isinstance(o, ox.NamedNode):
            d = o.value
            for c in sorted(c for c, d2 in tbox.sub_classes if d2 == d):
                yield (
                    "rdfs9-subclass",
                    [ox.Triple(s, type_node, ox.NamedNode(c))],
                    [(c, RDFS.subClassOf, d)],
                )
            for prop in sorted(q for q, c in tbox.domains if c == d):
                for row in self._objects(s, prop):
                    yield (
                        "rdfs2-domain",
                        [ox.Triple(s, ox.NamedNode(prop), row)],
                        [(prop, RDFS.domain, d)],
                    )
            for prop in sorted(q for q, c in tbox.ranges if c == d):
                for row in self._subjects(prop, s):
                    yield (
                        "rdfs3-range",
                        [ox.Triple(row, ox.NamedNode(prop), s)],
                        [(prop, RDFS.range, d)],
                    )
            return
        if isinstance(o, ox.Literal):
            for sub in sorted(a for a, b in tbox.sub_properties if b == p):
                yield (
                    "rdfs7-subproperty",
                    [ox.Triple(s, ox.NamedNode(sub), o)],
                    [(sub, RDFS.subPropertyOf, p)],
                )
            return
        if p in tbox.transitive:
            middles = self._middles(s, p, o)
            for m in middles:
                yield (
                    "owl-transitive",
                    [ox.Triple(s, triple.predicate, m), ox.Triple(m, triple.predicate, o)],
                    [(p, _TYPE, OWL.TransitiveProperty)],
                )
        if p in tbox.symmetric:
            yield (
                "owl-symmetric",
                [ox.Triple(o, triple.predicate, s)],  # type: ignore[arg-type]
                [(p, _TYPE, OWL.SymmetricProperty)],
            )
        for q in sorted(a for a, b in tbox.inverses if b == p):
            yield (
                "owl-inverse",
                [ox.Triple(o, ox.NamedNode(q), s)],  # type: ignore[arg-type]
                [(q, OWL.inverseOf, p)],
            )
        for sub in sorted(a for a, b in tbox.sub_properties if b == p):
            yield (
                "rdfs7-subproperty",
                [ox.Triple(s, ox.NamedNode(sub), o)],
                [(sub, RDFS.subPropertyOf, p)],
            )

    def _objects(self, s: ox.NamedNode | ox.BlankNode, prop: str) -> list[Any]:
        result = self.store.query(
            "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 20",
            bindings={"s": s, "p": ox.NamedNode(prop)},
        )
        assert isinstance(result, Solutions)
        return [t for t in result.values("o") if t is not None]

    def _subjects(self, prop: str, o: Any) -> list[Any]:
        result = self.store.query(
            "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 20",
            bindings={"o": o, "p": ox.NamedNode(prop)},
        )
        assert isinstance(result, Solutions)
        return [t for t in result.values("s") if t is not None]

    def _middles(self, s: Any, p: str, o: Any) -> list[Any]:
        result = self.store.query(
            "SELECT DISTINCT ?m ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?m } GRAPH ?h { ?m ?p ?o } "
            "FILTER(?m != ?s && ?m != ?o) } LIMIT 20",
            bindings={"s": s, "p": ox.NamedNode(p), "o": o},
        )
        assert isinstance(result, Solutions)
        return [t for t in result.values("m") if t is not None]

    def _explain(
        self, triple: ox.Triple, depth: int, seen: frozenset[ox.Triple]
    ) -> list[Explanation]:
        found: list[tuple[int, int, Explanation]] = []
        for order, (rule, premises, axioms) in enumerate(self._candidates(triple)):
            if any(t in seen for t in premises):
                continue  # circular: a premise is the triple being explained
            built = []
            for t in premises:
                premise = self._premise(t, depth, seen)
                if premise is None:
                    break
                if premise.inferred and not premise.explanations and depth > 1:
                    break  # only derivable through the triple itself
                built.append(premise)
            else:
                inferred = sum(pr.inferred for pr in built)
                found.append((inferred, order, _explanation(rule, built, axioms)))
        found.sort(key=lambda item: (item[0], item[1]))
        return [e for _, _, e in found]
