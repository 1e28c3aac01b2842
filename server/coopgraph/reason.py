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
2. **ABox** — the rules, generated from those TBox IRIs (never from request text), fill
   ``cgg:inferred``, reading every named graph (asserted and inferred). A triple already
   asserted in another graph is never kept there, so the inferred graph holds only new
   facts. Full rebuild (:meth:`Reasoner.materialise`): by default the same rules run
   semi-naively in Python over one read of the store (:func:`closure`) and the result is
   written back; ``engine="sparql"`` runs them as SPARQL UPDATE passes inside the store
   until the inferred graph stops growing (same result, tested; ≈4–10× slower because
   each pass re-derives everything already known). Incremental maintenance
   (:meth:`Reasoner.refresh_changes`) computes the delta in Python from a few bound reads
   and writes it as ``DELETE DATA`` / ``INSERT DATA``, so it joins the entry write in one
   request; the older SPARQL UPDATE rules (:meth:`Reasoner.refresh_updates`) remain for
   changes with blank nodes and very large affected sets.

Rule ids: ``rdfs9-subclass``, ``rdfs7-subproperty``, ``rdfs2-domain``, ``rdfs3-range``,
``owl-inverse``, ``owl-symmetric``, ``owl-transitive`` (OWL 2 RL ``cax-sco``, ``prp-spo1``,
``prp-dom``, ``prp-rng``, ``prp-inv1/2``, ``prp-symp``, ``prp-trp``).

Deliberately not covered:

- ``owl:sameAs``: the data uses it only to link our places and organisations to Wikidata
  items (external identifiers). Propagating every property across those links
  (``eq-rep-*``) would copy our facts onto foreign IRIs, so sameAs is treated like
  ``skos:exactMatch``: no inference at all.
- ``owl:Thing`` / ``rdfs:Resource`` typing and facts about RDF/RDFS/OWL/XSD terms (the
  axiomatic part of OWL RL): they tell nobody anything.
- Rules that only check consistency (disjointness, cardinality ≤ 1, …): SHACL does that.

Incremental maintenance — why it is correct. Non-transitive rules conclude a triple whose
nodes are nodes of their single premise (``rdfs9``/``rdfs2`` keep the subject, ``rdfs3``
takes the object, the property rules keep or swap both). Transitivity concludes
``(x p z)`` from a chain x → … → z. A changed quad that becomes an edge u → v of a
transitive p (directly, or through sub-property/inverse/symmetric axioms) can only
change chains x →* u → v →* z, i.e. pairs with x among the descendants of u and z among
the ancestors of v. So with A = the quads' IRI nodes ∪ those descendants/ancestors
(read in the store *before* the write, where the closure is complete —
:meth:`Reasoner.affected_nodes`), every inferred triple that depends on the change is
(a) a property triple between two nodes of A, (b) an ``rdf:type`` triple of a node of A,
or (c) a literal/blank-valued triple of a directly changed node. ``refresh_updates``
deletes exactly those shapes from ``cgg:inferred`` and re-derives them; everything else
does not depend on the change and stays. By induction on derivation height, an affected
triple's derivation only needs affected triples (re-derived first) and unaffected ones
(still in the store), so one restricted round reaches the fixpoint: (1) every statement
between two nodes gets all its sub-property/inverse/symmetric consequences at once (the
TBox is closed), (2) transitive edges are composed ``ceil(log2(chain + 1))`` times —
each composition doubles the closed chain length and a chain through A has at most
``AffectedNodes.chain`` links — (3) step 1 again, (4) domain, range, subclass typing.
Premises are looked up pair by pair, so a hub in A (a country with 10⁵ ``cg:contains``
edges) is never enumerated; above ``HUB_LIMIT`` nodes the update rebuilds the whole
inferred graph instead. Blank nodes cannot be named in an update: when a change holds
some, orphaned inferred blank-node triples are deleted (a scan of the inferred graph)
and the rules are re-run for the blank nodes of the entry graph.

Incremental maintenance in Python (:meth:`Reasoner.inference_delta`). pyoxigraph
evaluates the ``FILTER EXISTS`` and the joins of open patterns in those updates as hash
joins over every triple of a predicate, so their cost grows with the store (≈0.15 s at
10⁵ triples, seconds at 10⁶). The same argument gives a cheaper route: the affected
triples (a)–(c) only need premises that are themselves affected, or unaffected ones
touching A. So, with A as above and C the directly changed nodes, the store is read
before the write with bound patterns only: every quad between two nodes of A
(``VALUES (?s ?o)``), the ``rdf:type`` quads of A, the quads whose (subject, literal)
pair occurs in the change (shape (c) narrowed to what a change of literals can touch),
and, per transitive property walked from its cheap end, the edges x → m → y with x, y in
A and m outside (the unaffected middles a chain between two affected nodes may need).
The new asserted state of that neighbourhood (read − removed + added) plus the middles
is closed by :func:`closure`; its affected conclusions are the new values of (a)–(c),
except for ``rdf:type`` triples supported by an unaffected triple with one end outside
A (``country a schema:Place`` because of its 10⁵ ``cg:contains`` edges): a type that
held before and is not re-derived is kept when a ``LIMIT``-ed bound probe finds such a
triple, so a hub is never enumerated. The difference with the inferred quads read gives
one ``DELETE DATA`` and one ``INSERT DATA``. Blank nodes cannot be named in those
operations nor in a query: a change holding some, or a blank node on a changed chain,
takes the SPARQL route above, as does an affected set over ``HUB_LIMIT``.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph.errors import StoreError
from coopgraph.store.base import Changes, Solutions, Store, quad_data
from coopgraph.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, OWL, RDF, RDFS, XSD

__all__ = [
    "HUB_LIMIT",
    "MIDDLE_LIMIT",
    "RULES",
    "AffectedNodes",
    "Explanation",
    "Premise",
    "Reasoner",
    "ReasoningStats",
    "TBox",
    "anchored_updates",
    "closure",
    "full_pass",
    "implied_properties",
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
#: Above this many affected nodes, refresh_updates rebuilds the whole inferred graph
#: (the restricted rules probe every pair of nodes: cost grows with its square).
HUB_LIMIT = 400
#: refresh_changes walks one transitive edge from each affected node in the direction
#: where no node has more than this many (ancestors rather than descendants)
MIDDLE_LIMIT = 64


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
#: transitive property → walk subject → object (see Reasoner.upward)
_UPWARD_CACHE: dict[str, bool] = {}


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
    return f"VALUES ({' '.join(variables)}) {{ {body} }}\n"


def _nodes(var: str, nodes: Sequence[str]) -> str:
    return f"VALUES {var} {{ {' '.join(_iri(n) for n in nodes)} }}\n"


def _insert(template: str, where: str) -> str:
    return f"INSERT {{ GRAPH {_INF} {{ {template} }} }}\nWHERE {{\n{where}}}"


def _absent(s: str, p: str, o: str) -> str:
    return f"FILTER NOT EXISTS {{ GRAPH ?k {{ {s} {p} {o} }} }}\n"


def full_pass(tbox: TBox, anchor: Callable[[str], str] | None = None) -> list[str]:
    """One pass of every rule over the whole store, in dependency order.

    Transitivity composes two edges per pass (``?x p ?m . ?m p ?z``, each edge from any
    graph), so chains of length ``n`` close in ``ceil(log2 n)`` passes. A property path
    ``p+`` would stay inside one named graph (``GRAPH ?h { ?m p+ ?z }``) and costs one
    evaluation per named graph, which is slow with many entry graphs.

    :param anchor: when given, ``anchor(var)`` is a pattern binding ``var`` to the nodes
        the pass is restricted to (used for blank nodes); each rule is then run once per
        node of its premise.
    """
    ops: list[str] = []
    for p in sorted(tbox.transitive):
        pi = _iri(p)
        forward = f"GRAPH ?g {{ ?x {pi} ?m }}\nGRAPH ?h {{ ?m {pi} ?z }}\n"
        backward = f"GRAPH ?h {{ ?m {pi} ?z }}\nGRAPH ?g {{ ?x {pi} ?m }}\n"
        heads = [("", forward)] if anchor is None else [
            (anchor("?x"), forward), (anchor("?z"), backward)
        ]
        for head, body in heads:
            ops.append(_insert(f"?x {pi} ?z", head + body + _absent("?x", pi, "?z")))
    both = ("?x", "?y") if anchor else ("",)

    def variants(*names: str) -> Iterator[str]:
        for name in names:
            yield anchor(name) if anchor and name else ""

    if tbox.symmetric:
        for head in variants(*both):
            ops.append(_insert(
                "?y ?p ?x",
                head + _values(["?p"], ((p,) for p in tbox.symmetric))
                + "GRAPH ?g { ?x ?p ?y }\nFILTER(!isLiteral(?y))\n"
                + _absent("?y", "?p", "?x"),
            ))
    if tbox.inverses:
        for head in variants(*both):
            ops.append(_insert(
                "?y ?q ?x",
                head + _values(["?p", "?q"], tbox.inverses)
                + "GRAPH ?g { ?x ?p ?y }\nFILTER(!isLiteral(?y))\n"
                + _absent("?y", "?q", "?x"),
            ))
    if tbox.sub_properties:
        for head in variants(*both):
            ops.append(_insert(
                "?x ?q ?y",
                head + _values(["?p", "?q"], tbox.sub_properties)
                + "GRAPH ?g { ?x ?p ?y }\n" + _absent("?x", "?q", "?y"),
            ))
    if tbox.domains:
        for head in variants("?x" if anchor else ""):
            ops.append(_insert(
                f"?x {_A} ?c",
                head + _values(["?p", "?c"], tbox.domains)
                + "GRAPH ?g { ?x ?p ?y }\n" + _absent("?x", _A, "?c"),
            ))
    if tbox.ranges:
        for head in variants("?y" if anchor else ""):
            ops.append(_insert(
                f"?y {_A} ?c",
                head + _values(["?p", "?c"], tbox.ranges)
                + "GRAPH ?g { ?x ?p ?y }\nFILTER(!isLiteral(?y))\n"
                + _absent("?y", _A, "?c"),
            ))
    if tbox.sub_classes:
        for head in variants("?x" if anchor else ""):
            ops.append(_insert(
                f"?x {_A} ?d",
                head + _values(["?c", "?d"], tbox.sub_classes)
                + f"GRAPH ?g {{ ?x {_A} ?c }}\n" + _absent("?x", _A, "?d"),
            ))
    return ops


Key = tuple[str, str, str]


def closure(tbox: TBox, triples: Iterable[Key], literals: Callable[[str], bool]) -> set[Key]:
    """The same rules as :func:`full_pass`, evaluated semi-naively in Python.

    Used by :meth:`Reasoner.materialise` (``engine="python"``): one read of the store,
    one write of the result, instead of whole-store SPARQL passes that re-derive every
    known triple on each pass. Terms are N-Triples strings (``<iri>``, ``_:b``,
    ``"lit"@fr``): hashing them is much cheaper than hashing pyoxigraph objects.

    :param triples: asserted (subject, predicate, object) keys.
    :param literals: tells whether an object key is a literal.
    :returns: the inferred keys that are not among ``triples``.
    """

    def table(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for a, b in pairs:
            out.setdefault(f"<{a}>", []).append(f"<{b}>")
        return out

    supers, spo, inv = table(tbox.sub_classes), table(tbox.sub_properties), table(tbox.inverses)
    dom, rng = table(tbox.domains), table(tbox.ranges)
    symmetric = {f"<{p}>" for p in tbox.symmetric}
    rdf_type = f"<{_TYPE}>"
    # When p and q are inverse transitive properties, closing p is enough: every q edge
    # has its p twin (inverse rule) and the p closure maps back onto q's closure.
    joined: set[str] = set()
    for p in sorted(tbox.transitive):
        if not any((p, q) in tbox.inverses for q in joined):
            joined.add(p)
    out: dict[str, dict[str, set[str]]] = {f"<{p}>": {} for p in joined}
    into: dict[str, dict[str, set[str]]] = {f"<{p}>": {} for p in joined}
    known = set(triples)
    asserted = frozenset(known)
    delta = set(known)
    while delta:
        for s, p, o in delta:
            if p in out and not literals(o):
                out[p].setdefault(s, set()).add(o)
                into[p].setdefault(o, set()).add(s)
        derived: set[Key] = set()
        add = derived.add
        for s, p, o in delta:
            if p == rdf_type:
                for d in supers.get(o, ()):
                    add((s, rdf_type, d))
                continue
            for q in spo.get(p, ()):
                add((s, q, o))
            for c in dom.get(p, ()):
                add((s, rdf_type, c))
            if literals(o):
                continue
            for c in rng.get(p, ()):
                add((o, rdf_type, c))
            for q in inv.get(p, ()):
                add((o, q, s))
            if p in symmetric:
                add((o, p, s))
            if p in out:
                for z in out[p].get(o, ()):
                    add((s, p, z))
                for x in into[p].get(s, ()):
                    add((x, p, o))
        delta = derived - known
        known |= delta
    return known - asserted


def _blank_orphans() -> list[str]:
    """Delete inferred triples whose blank subject or object no longer occurs in any
    asserted graph (a scan of the inferred graph: only run when a change holds blank
    nodes, which cannot be named in an update)."""
    orphan = (
        "FILTER NOT EXISTS {{ GRAPH ?g {{ {b} ?q ?r }} FILTER(?g != {inf}) }}\n"
        "FILTER NOT EXISTS {{ GRAPH ?g {{ ?r ?q {b} }} FILTER(?g != {inf}) }}\n"
    )
    return [
        f"DELETE {{ GRAPH {_INF} {{ ?s ?p ?o }} }}\nWHERE {{\nGRAPH {_INF} {{ ?s ?p ?o }}\n"
        f"FILTER(isBlank(?{v}))\n{orphan.format(b='?' + v, inf=_INF)}}}"
        for v in ("s", "o")
    ]


def _blank_node_updates(tbox: TBox, graphs: Sequence[str], passes: int) -> list[str]:
    """Re-derive, for the blank nodes of ``graphs``, every rule ``passes`` times."""
    names = " ".join(_iri(g) for g in graphs)

    def anchor(var: str) -> str:
        return (
            f"{{ SELECT DISTINCT {var} WHERE {{ VALUES ?bg {{ {names} }}\n"
            f"{{ GRAPH ?bg {{ {var} ?bp ?bo }} }} UNION {{ GRAPH ?bg {{ ?bs ?bp {var} }} }}\n"
            f"FILTER(isBlank({var})) }} }}\n"
        )

    ops: list[str] = []
    one_pass = full_pass(tbox, anchor)
    for _ in range(passes):
        ops.extend(one_pass)
    return ops


def implied_properties(tbox: TBox) -> dict[str, set[tuple[str, bool]]]:
    """For each property r: every (q, flipped) such that ``x r y`` entails ``x q y``
    (``y q x`` when flipped) through sub-property, inverse and symmetric axioms alone."""
    starts = {p for p, _ in tbox.sub_properties} | {p for p, _ in tbox.inverses}
    starts |= set(tbox.symmetric)
    implied: dict[str, set[tuple[str, bool]]] = {}
    for r in sorted(starts):
        seen = property_reach(tbox, r)
        seen.discard((r, False))
        if seen:
            implied[r] = seen
    return implied


def property_reach(tbox: TBox, start: str) -> set[tuple[str, bool]]:
    """Every ``(q, flipped)`` reached from ``(start, False)`` through sub-property, inverse
    (which flips) and symmetric axioms, ``(start, False)`` included."""
    seen = {(start, False)}
    todo = [(start, False)]
    while todo:
        prop, flipped = todo.pop()
        nxt = [(q, flipped) for p, q in tbox.sub_properties if p == prop]
        nxt += [(q, not flipped) for p, q in tbox.inverses if p == prop]
        if prop in tbox.symmetric:
            nxt.append((prop, not flipped))
        for item in nxt:
            if item not in seen:
                seen.add(item)
                todo.append(item)
    return seen


def _composed(tbox: TBox, upward: Mapping[str, bool] | None = None) -> list[str]:
    """Transitive properties to compose: one of each pair of transitive inverses (the
    other's closure follows through the inverse axiom), preferring the upward one."""
    upward = upward or {}
    ranked = sorted(tbox.transitive, key=lambda p: (not upward.get(p, True), p))
    chosen: list[str] = []
    for p in ranked:
        if not any((p, q) in tbox.inverses for q in chosen):
            chosen.append(p)
    return sorted(chosen)


def anchored_updates(
    tbox: TBox,
    nodes: Sequence[str],
    changed: Sequence[str],
    upward: Mapping[str, bool],
    compositions: int,
) -> list[str]:
    """The rules restricted to the conclusions a change can affect, as one round.

    Those conclusions are (see the module docstring): triples between two ``nodes``,
    ``rdf:type`` triples of ``nodes``, and literal- or blank-valued triples of the
    ``changed`` nodes. Because the TBox is closed, one round does it: (1) every
    property statement between two nodes gives all its sub-property / inverse /
    symmetric consequences at once (:func:`implied_properties`); (2) transitive
    properties are composed ``compositions`` times (each doubles the chains closed);
    (3) step 1 again for the new edges; (4) domain, range, then subclass typing.
    Premises between two nodes are looked up pair by pair (a ``VALUES (?x ?y)`` table),
    so a hub among the nodes (a country with 10⁵ ``cg:contains`` edges) costs nothing.

    :param upward: per transitive property, ``True`` when walking subject → object is
        the cheap direction (few objects per subject, like ``cg:within``).
    """
    implied = implied_properties(tbox)
    same = [(r, q) for r, qs in implied.items() for q, flipped in qs if not flipped]
    flip = [(r, q) for r, qs in implied.items() for q, flipped in qs if flipped]
    pairs = " ".join(f"({_iri(x)} {_iri(y)})" for x in nodes for y in nodes)
    links = (f"{{ SELECT ?x ?y ?r WHERE {{\nVALUES (?x ?y) {{ {pairs} }}\n"
             "GRAPH ?g { ?x ?r ?y }\n} }\n")
    step1: list[str] = []
    if same:
        step1.append(_insert(
            "?x ?q ?y", links + _values(["?r", "?q"], same)
        ))
        if changed:
            step1.append(_insert(
                "?x ?q ?y",
                f"{{ SELECT ?x ?y ?r WHERE {{\n{_nodes('?x', changed)}"
                "GRAPH ?g { ?x ?r ?y }\nFILTER(!isIRI(?y))\n} }\n"
                + _values(["?r", "?q"], same),
            ))
    if flip:
        step1.append(_insert(
            "?y ?q ?x", links + _values(["?r", "?q"], flip)
        ))
    ops = list(step1)
    for _ in range(compositions):
        for p in _composed(tbox, upward):
            pi = _iri(p)
            # walk one edge from the cheap end, then probe the second edge (a join of
            # the two patterns would be evaluated as a hash join over every p edge)
            if upward.get(p, True):
                where = (f"{{ SELECT ?x ?m WHERE {{\n{_nodes('?x', nodes)}"
                         f"GRAPH ?g {{ ?x {pi} ?m }}\n}} }}\n{_nodes('?y', nodes)}"
                         f"FILTER EXISTS {{ GRAPH ?h {{ ?m {pi} ?y }} }}\n")
            else:
                where = (f"{{ SELECT ?m ?y WHERE {{\n{_nodes('?y', nodes)}"
                         f"GRAPH ?h {{ ?m {pi} ?y }}\n}} }}\n{_nodes('?x', nodes)}"
                         f"FILTER EXISTS {{ GRAPH ?g {{ ?x {pi} ?m }} }}\n")
            ops.append(_insert(f"?x {pi} ?y", where))
    ops.extend(step1)
    for var, s_, o_, rule_pairs in (("?x", "?x", "?y", tbox.domains),
                                    ("?y", "?x", "?y", tbox.ranges)):
        if not rule_pairs:
            continue
        props = sorted({p for p, _ in rule_pairs})
        probe = " ".join(f"({_iri(n)} {_iri(p)})" for n in nodes for p in props)
        ops.append(_insert(
            f"{var} {_A} ?c",
            f"{{ SELECT {var} ?p WHERE {{\nVALUES ({var} ?p) {{ {probe} }}\n"
            f"FILTER EXISTS {{ GRAPH ?g {{ {s_} ?p {o_} }} }}\n}} }}\n"
            + _values(["?p", "?c"], rule_pairs),
        ))
    if tbox.sub_classes:
        ops.append(_insert(
            f"?x {_A} ?d",
            f"{{ SELECT ?x ?c WHERE {{\n{_nodes('?x', nodes)}GRAPH ?g {{ ?x {_A} ?c }}\n}} }}\n"
            + _values(["?c", "?d"], tbox.sub_classes),
        ))
    # The inserts above skip the "not already asserted" test (as an anti-join it would
    # scan the store): remove what turned out to be asserted, within the same shapes
    # (deleting a quad that is not in the inferred graph does nothing).
    elsewhere = f"FILTER(?a != {_INF})\n"
    ops += [
        f"DELETE {{ GRAPH {_INF} {{ ?x ?p ?y }} }}\nWHERE {{\nVALUES (?x ?y) {{ {pairs} }}\n"
        f"GRAPH ?a {{ ?x ?p ?y }}\n{elsewhere}}}",
        f"DELETE {{ GRAPH {_INF} {{ ?x {_A} ?c }} }}\nWHERE {{\n{_nodes('?x', nodes)}"
        f"GRAPH ?a {{ ?x {_A} ?c }}\n{elsewhere}}}",
    ]
    if changed:
        ops.append(
            f"DELETE {{ GRAPH {_INF} {{ ?x ?p ?y }} }}\nWHERE {{\n{_nodes('?x', changed)}"
            f"GRAPH ?a {{ ?x ?p ?y }}\nFILTER(!isIRI(?y))\n{elsewhere}}}"
        )
    return ops


def _delete_affected(nodes: Sequence[str], changed: Sequence[str]) -> list[str]:
    """Delete the inferred triples a change can affect (the shapes anchored_updates re-derives)."""
    pairs = " ".join(f"({_iri(x)} {_iri(y)})" for x in nodes for y in nodes)
    ops = [
        f"DELETE {{ GRAPH {_INF} {{ ?x ?p ?y }} }}\nWHERE {{\nVALUES (?x ?y) {{ {pairs} }}\n"
        f"GRAPH {_INF} {{ ?x ?p ?y }}\n}}",
        f"DELETE {{ GRAPH {_INF} {{ ?x {_A} ?c }} }}\nWHERE {{\n{_nodes('?x', nodes)}"
        f"GRAPH {_INF} {{ ?x {_A} ?c }}\n}}",
    ]
    if changed:
        ops.append(
            f"DELETE {{ GRAPH {_INF} {{ ?x ?p ?y }} }}\nWHERE {{\n{_nodes('?x', changed)}"
            f"GRAPH {_INF} {{ ?x ?p ?y }}\nFILTER(!isIRI(?y))\n}}"
        )
    return ops


def _pass_count(tbox: TBox) -> int:
    """Passes a chain of property-changing steps needs, given the op order of a pass.

    A derivation path p0 → p1 → … (each step an inverse or sub-property axiom) starts a
    new pass each time a step's rule comes before or at the previous step's rule in the
    op order (transitive, symmetric, inverse, sub-property).
    """
    order = {"inv": 2, "spo": 3}
    edges: dict[str, list[tuple[str, str]]] = {}
    for p, q in tbox.inverses:
        edges.setdefault(p, []).append((q, "inv"))
    for p, q in tbox.sub_properties:
        edges.setdefault(p, []).append((q, "spo"))
    best = 1

    def walk(node: str, seen: frozenset[str], last: int, passes: int) -> None:
        nonlocal best
        best = max(best, passes)
        for nxt, kind in edges.get(node, ()):
            if nxt not in seen:
                step = order[kind]
                walk(nxt, seen | {nxt}, step, passes + (step <= last))

    for start in edges:
        walk(start, frozenset({start}), 0, 1)
    return best

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


class AffectedNodes(set[str]):
    """What :meth:`Reasoner.affected_nodes` returns: a set of IRIs plus bookkeeping."""

    #: the subjects/objects of the changed quads themselves
    changed: frozenset[str] = frozenset()
    #: upper bound on the length of a transitive chain through the set
    chain: int = 0
    #: named graphs of the changed quads that hold blank nodes
    blank_graphs: frozenset[str] = frozenset()
    #: a blank node is an ancestor or descendant of a changed transitive edge
    blank_chain: bool = False


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
        self._upward: dict[str, bool] | None = None
        self._chains: dict[str, set[tuple[str, bool]]] = {}

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

    def materialise(self, *, engine: str = "python") -> ReasoningStats:
        """Drop ``cgg:inferred`` and rebuild it to the fixpoint.

        :param engine: ``"python"`` (default) reads every asserted quad once, closes them
            with :func:`closure` and writes the result; ``"sparql"`` runs
            :func:`full_pass` inside the store until the inferred graph stops growing
            (the drop and the first pass are one transaction, later passes only add).
            Both give the same graph (tested); the Python engine is ≈10× faster on 10⁵
            triples because it never re-derives what earlier passes found.
        :returns: :class:`ReasoningStats` (triples inferred, passes run, seconds).
        :raises StoreError: a write failed, or no fixpoint after ``MAX_PASSES``.
        """
        start = time.perf_counter()
        self._tbox = None  # the ontology may have been reloaded
        self._upward = None
        self._chains = {}
        if engine == "python":
            return self._materialise_python(start)
        if engine != "sparql":
            raise ValueError(f"unknown reasoning engine {engine!r}: python or sparql")
        ops = full_pass(self.tbox)
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

    def _materialise_python(self, start: float) -> ReasoningStats:
        inferred_graph = ox.NamedNode(INFERRED_GRAPH)
        keys = [
            (str(q.subject), str(q.predicate), str(q.object))
            for q in self.store.quads()
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name != inferred_graph
        ]
        found = closure(self.tbox, keys, lambda o: o.startswith('"'))

        # N-Quads text parsed back by pyoxigraph: much faster than building each Quad
        graph = _INF
        text = "".join(f"{s} {p} {o} {graph} .\n" for s, p, o in found).encode()
        quads = list(ox.parse(text, format=ox.RdfFormat.N_QUADS)) if text else []
        if INFERRED_GRAPH in self.store.graph_sizes():
            self.store.apply(Changes(drop_graphs=[INFERRED_GRAPH]))
        if quads:
            self.store.apply(Changes(insert=quads))
        return ReasoningStats(len(quads), 1, time.perf_counter() - start)

    # -- incremental maintenance -------------------------------------------------------

    def _chain_edges(self, predicate: str) -> set[tuple[str, bool]]:
        """The transitive properties a ``predicate`` statement becomes an edge of.

        Follows sub-property, inverse (which flips the edge) and symmetric axioms from
        ``predicate``; returns ``(transitive property, flipped)`` pairs.
        """
        cache = self._chains
        if predicate not in cache:
            tbox = self.tbox
            cache[predicate] = {
                (p, f) for p, f in property_reach(tbox, predicate) if p in tbox.transitive
            }
        return cache[predicate]

    def upward(self) -> dict[str, bool]:
        """Per transitive property: is subject → object the cheap direction to walk?

        ``True`` when the property has at least as many distinct subjects as objects
        (``cg:within``: many places, few containers). Read from the store once per
        process and property (a performance hint only: either answer is correct).
        """
        if self._upward is None:
            props = sorted(self.tbox.transitive)
            missing = [p for p in props if p not in _UPWARD_CACHE]
            if missing:
                result = self.store.query(
                    "SELECT ?p (COUNT(DISTINCT ?s) AS ?ns) (COUNT(DISTINCT ?o) AS ?no) "
                    "WHERE {\n" + _values(["?p"], ((p,) for p in missing))
                    + "GRAPH ?g { ?s ?p ?o }\n} GROUP BY ?p"
                )
                assert isinstance(result, Solutions)
                with _TBOX_LOCK:
                    for row in result.dicts():
                        _UPWARD_CACHE[str(row["p"].value)] = (
                            int(row["ns"].value) >= int(row["no"].value)
                        )
            self._upward = {p: _UPWARD_CACHE.get(p, True) for p in props}
        return self._upward

    def affected_nodes(self, quads: Iterable[ox.Quad]) -> AffectedNodes:
        """IRIs whose inferences may change when ``quads`` are added or removed.

        Subjects and IRI objects of the quads (not ``rdf:type`` objects nor ontology
        terms), plus their ancestors and descendants along every transitive property and
        its inverse, read from the current store. Call it *before* the write.

        :param quads: the quads about to be added or removed (or both, for a replace).
        :returns: an :class:`AffectedNodes` (a ``set[str]`` that also remembers which
            nodes were changed directly and the longest chain through the set).
        """
        tbox = self.tbox
        changed: set[str] = set()
        blank_graphs: set[str] = set()
        for q in quads:
            if q.graph_name == ox.NamedNode(INFERRED_GRAPH):
                continue
            for term, is_object in ((q.subject, False), (q.object, True)):
                if isinstance(term, ox.BlankNode) and isinstance(q.graph_name, ox.NamedNode):
                    blank_graphs.add(q.graph_name.value)
                if not isinstance(term, ox.NamedNode) or _is_meta(term.value):
                    continue
                if term.value in tbox.terms or (is_object and q.predicate.value == _TYPE):
                    continue
                changed.add(term.value)
        nodes = AffectedNodes(changed)
        nodes.changed = frozenset(changed)
        nodes.blank_graphs = frozenset(blank_graphs)
        # Edges of transitive properties induced by the quads: (property, lower, upper).
        edges: set[tuple[str, str, str]] = set()
        blank_links = 0
        for q in quads:
            if not (isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode)):
                blank_links += isinstance(q.object, ox.BlankNode | ox.NamedNode)
                continue
            for prop, flipped in self._chain_edges(q.predicate.value):
                low, high = (q.object, q.subject) if flipped else (q.subject, q.object)
                edges.add((prop, low.value, high.value))
        if edges:
            # descendants of each edge's lower end, ancestors of its upper end (one hop
            # suffices: the store holds the transitive closure)
            rows = [(p, low, high) for p, low, high in sorted(edges)]
            table = _values(["?p", "?low", "?high"], rows)
            query = (
                "SELECT ?low ?high ?m ?up WHERE {\n"
                f"{{ {table}GRAPH ?g {{ ?m ?p ?low }} BIND(false AS ?up) }}\n"
                f"UNION {{ {table}GRAPH ?g {{ ?high ?p ?m }} BIND(true AS ?up) }}\n"
                "FILTER(!isLiteral(?m))\n}"
            )
            result = self.store.query(query)
            assert isinstance(result, Solutions)
            down: dict[str, set[str]] = {}
            up: dict[str, set[str]] = {}
            for low, high, m, is_up in result.rows:
                if isinstance(m, ox.BlankNode):
                    nodes.blank_chain = True  # cannot be named: refresh_changes falls back
                    continue
                side = up if is_up.value == "true" else down  # type: ignore[union-attr]
                key = high.value if is_up.value == "true" else low.value  # type: ignore[union-attr]
                side.setdefault(key, set()).add(m.value)  # type: ignore[union-attr]
            for group in (*down.values(), *up.values()):
                nodes.update(group)
            # a path through the set: descendants of a lower end, the changed edges, then
            # ancestors of an upper end
            longest_down = max((len(v) for v in down.values()), default=0)
            longest_up = max((len(v) for v in up.values()), default=0)
            nodes.chain = longest_down + len(edges) + longest_up + blank_links
        else:
            nodes.chain = 1 + blank_links
        return nodes

    def passes_needed(self, nodes: set[str]) -> int:
        """How many transitive compositions :meth:`refresh_updates` unrolls: each one
        doubles the length of the chains closed, and a chain through the affected
        nodes has at most ``nodes.chain`` links (see the module docstring)."""
        chain = nodes.chain if isinstance(nodes, AffectedNodes) else len(nodes)
        return max(1, math.ceil(math.log2(chain + 1)))

    def refresh_updates(self, nodes: set[str]) -> list[str]:
        """Trusted update operations that bring ``cgg:inferred`` up to date for ``nodes``.

        They delete every inferred triple a change to ``nodes`` can affect (triples
        between two of the nodes, their ``rdf:type`` triples, and literal- or blank-valued
        triples of the directly changed nodes), then re-derive those in one restricted
        round (:func:`anchored_updates`, with :meth:`passes_needed` transitive
        compositions). Above ``HUB_LIMIT`` nodes they rebuild the whole inferred graph
        instead. Append them to the ``then`` of the same
        :class:`~coopgraph.store.base.Changes` as the write, so the write and its
        inferences are one transaction.

        :param nodes: from :meth:`affected_nodes`; a plain set of IRIs also works (every
            node then counts as directly changed: correct but slower, and blank nodes of
            the change are not maintained).
        :returns: SPARQL 1.1 UPDATE operations (empty when ``nodes`` is empty).
        :raises ValueError: a node is not a valid IRI.
        """
        if not nodes:
            return []
        if len(nodes) > HUB_LIMIT:
            return self._rebuild_updates(nodes)
        ordered = sorted(nodes)
        changed = sorted(nodes.changed) if isinstance(nodes, AffectedNodes) else ordered
        blank_graphs = sorted(nodes.blank_graphs) if isinstance(nodes, AffectedNodes) else []
        passes = self.passes_needed(nodes)
        ops = _delete_affected(ordered, changed)
        if blank_graphs:  # orphans first, so they cannot support a re-derivation
            ops.extend(_blank_orphans())
        one_round = anchored_updates(self.tbox, ordered, changed, self.upward(), passes)
        ops.extend(one_round)
        if blank_graphs:
            blank_passes = passes + _pass_count(self.tbox)
            ops.extend(_blank_node_updates(self.tbox, blank_graphs, blank_passes))
            ops.extend(one_round)  # IRIs whose inferences go through a blank node
        return ops

    def _rebuild_updates(self, nodes: set[str]) -> list[str]:
        """Fallback for very large affected sets (e.g. a country moved under another):
        drop the inferred graph and run enough full passes, in the same request."""
        tbox = self.tbox
        deepest = 0
        for prop in sorted(tbox.transitive):
            result = self.store.query(
                "SELECT (MAX(?n) AS ?d) WHERE { SELECT ?x (COUNT(DISTINCT ?z) AS ?n) "
                f"WHERE {{ GRAPH ?g {{ ?x {_iri(prop)} ?z }} }} GROUP BY ?x }}"
            )
            assert isinstance(result, Solutions)
            value = result.rows[0][0] if result.rows else None
            deepest = max(deepest, int(value.value) if value is not None else 0)
        chain = nodes.chain if isinstance(nodes, AffectedNodes) else len(nodes)
        passes = _pass_count(tbox) + math.ceil(math.log2(deepest + chain + 1)) + 1
        ops = [f"DROP SILENT GRAPH {_INF}"]
        one_pass = full_pass(tbox)
        for _ in range(passes):
            ops.extend(one_pass)
        return ops

    def refresh_changes(
        self,
        added: Iterable[ox.Quad],
        removed: Iterable[ox.Quad] = (),
        nodes: AffectedNodes | None = None,
    ) -> list[str]:
        """Update operations that bring ``cgg:inferred`` up to date after a write.

        The inference delta is computed in Python (:meth:`inference_delta`) from a few
        bound reads of the store *before* the write, and returned as one
        ``DELETE DATA`` and one ``INSERT DATA`` on ``cgg:inferred``: their cost follows
        the size of the change, not of the store. When the delta cannot be computed that
        way (blank nodes in the change or on a changed chain, more than ``HUB_LIMIT``
        affected nodes), the operations of :meth:`refresh_updates` are returned instead.
        Append them to the ``then`` of the same :class:`~coopgraph.store.base.Changes`
        as the write, so the write and its inferences are one transaction.

        :param added: the quads the write inserts (already present ones are fine).
        :param removed: the quads the write deletes (a dropped graph: all its quads).
        :param nodes: :meth:`affected_nodes` of ``[*removed, *added]``, if already known.
        :returns: SPARQL 1.1 UPDATE operations (empty when nothing changes).
        """
        added, removed = list(added), list(removed)
        if not isinstance(nodes, AffectedNodes):
            nodes = self.affected_nodes([*removed, *added])
        delta = self.inference_delta(added, removed, nodes)
        if delta is None:
            return self.refresh_updates(nodes)
        delete, insert = delta
        ops = []
        if delete:
            ops.append("DELETE DATA {\n" + quad_data(delete) + "\n}")
        if insert:
            ops.append("INSERT DATA {\n" + quad_data(insert) + "\n}")
        return ops

    def inference_delta(
        self, added: Sequence[ox.Quad], removed: Sequence[ox.Quad], nodes: AffectedNodes
    ) -> tuple[list[ox.Quad], list[ox.Quad]] | None:
        """The quads of ``cgg:inferred`` to delete and to insert for a write.

        Read in the store before the write (see the module docstring, "Incremental
        maintenance in Python"): the asserted and inferred triples between two affected
        nodes, their ``rdf:type`` triples, the literal triples sharing subject and object
        with a changed quad, and the transitive edges that link two affected nodes
        through an unaffected middle. The new state of that neighbourhood (read − removed
        + added) is closed with :func:`closure`; an inferred type it no longer derives is
        kept when an unaffected triple still supports it (domain or range), probed with
        ``LIMIT``-ed bound patterns so a hub is never enumerated.

        :returns: ``(delete, insert)`` quads of ``cgg:inferred``, or ``None`` when the
            change cannot be handled this way (blank nodes, ``HUB_LIMIT``).
        """
        inferred_graph = ox.NamedNode(INFERRED_GRAPH)

        def kept(q: ox.Quad) -> bool:
            return isinstance(q.graph_name, ox.NamedNode) and q.graph_name != inferred_graph

        added = [q for q in added if kept(q)]
        removed = [q for q in removed if kept(q)]
        if nodes.blank_graphs or nodes.blank_chain:
            return None
        changed: set[str] = set(nodes.changed)
        lit_pairs: set[tuple[str, ox.Literal]] = set()
        for q in (*added, *removed):
            if not isinstance(q.subject, ox.NamedNode) or isinstance(
                q.object, ox.BlankNode | ox.Triple
            ):
                return None
            changed.add(q.subject.value)
            if isinstance(q.object, ox.Literal):
                lit_pairs.add((q.subject.value, q.object))
            elif q.predicate.value != _TYPE:
                changed.add(q.object.value)
        area = sorted(set(nodes) | changed)
        if not area:
            return [], []
        if len(area) > HUB_LIMIT:
            return None
        inside = {f"<{n}>" for n in area}
        lit_keys = {(f"<{s}>", str(o)) for s, o in lit_pairs}
        rdf_type = f"<{_TYPE}>"
        terms: dict[str, Any] = {}

        def key(term: Any) -> str:
            text = str(term)
            terms.setdefault(text, term)
            return text

        gone = set(removed)
        asserted: set[Key] = set()
        old: set[Key] = set()
        types_before: set[Key] = set()  # asserted or inferred
        for g, s, p, o in self._neighbourhood(area, sorted(lit_pairs, key=str)):
            k = (key(s), key(p), key(o))
            if k[1] == rdf_type:
                types_before.add(k)
            if g == inferred_graph:
                old.add(k)
            elif ox.Quad(s, p, o, g) not in gone:
                asserted.add(k)
        for q in added:
            asserted.add((key(q.subject), key(q.predicate), key(q.object)))
        middles = self._middles_outside(area, inside)
        if middles is None:
            return None
        premises = asserted | {(key(s), key(p), key(o)) for s, p, o in middles}

        def affected(t: Key) -> bool:
            s, p, o = t
            return s in inside and (o in inside or p == rdf_type or (s, o) in lit_keys)

        derived = closure(self.tbox, premises, lambda o: o.startswith('"'))
        new = {t for t in derived if affected(t)}
        # a type that held before (inferred, or asserted and now removed) and is not
        # derived from the neighbourhood may still follow from an unaffected triple
        lost_types = sorted(types_before - new - asserted)
        new |= self._still_supported(lost_types, inside, lit_keys)

        def quad(t: Key) -> ox.Quad:
            s, p, o = (terms[x] if x in terms else ox.NamedNode(x[1:-1]) for x in t)
            return ox.Quad(s, p, o, inferred_graph)

        return [quad(t) for t in sorted(old - new)], [quad(t) for t in sorted(new - old)]

    def _neighbourhood(
        self, area: Sequence[str], lit_pairs: Sequence[tuple[str, ox.Literal]]
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        """Quads (any graph) between two nodes of ``area``, ``rdf:type`` quads of its
        nodes, and quads with a (subject, literal) of ``lit_pairs``; as (g, s, p, o)."""
        pairs = " ".join(f"({_iri(x)} {_iri(y)})" for x in area for y in area)
        parts = [
            f"{{ VALUES (?s ?o) {{ {pairs} }}\nGRAPH ?g {{ ?s ?p ?o }} }}",
            f"{{ {_nodes('?s', area)}GRAPH ?g {{ ?s {_A} ?o }} BIND({_A} AS ?p) }}",
        ]
        if lit_pairs:
            rows = " ".join(f"({_iri(s)} {o})" for s, o in lit_pairs)
            parts.append(f"{{ VALUES (?s ?o) {{ {rows} }}\nGRAPH ?g {{ ?s ?p ?o }} }}")
        result = self.store.query(
            "SELECT ?g ?s ?p ?o WHERE {\n" + "\nUNION ".join(parts) + "\n}"
        )
        assert isinstance(result, Solutions)
        return iter(result.rows)  # type: ignore[arg-type]

    def _middles_outside(
        self, area: Sequence[str], inside: set[str]
    ) -> list[tuple[Any, Any, Any]] | None:
        """Transitive edges x → m and m → y with x, y in ``area`` and m outside it: the
        unaffected premises that close a chain between two affected nodes.

        For each composed transitive property, one edge is walked from every node of
        the area in both directions, at most ``MIDDLE_LIMIT`` edges a node: the
        direction no node exceeds (ancestors, for ``cg:within``) is used and the second
        edge is probed pair by pair, so a hub is never enumerated (a node over the limit
        both ways is walked in full). ``None`` when a middle is a blank node (it cannot
        be named in a query).
        """
        composed = _composed(self.tbox)
        if not composed:
            return []
        branches = []
        for p in composed:
            for a in area:
                for up in (True, False):
                    edge = f"{_iri(a)} {_iri(p)} ?m" if up else f"?m {_iri(p)} {_iri(a)}"
                    branches.append(
                        f"{{ SELECT DISTINCT ?a ?p ?m ?up WHERE {{ GRAPH ?g {{ {edge} }}\n"
                        f"BIND({_iri(a)} AS ?a) BIND({_iri(p)} AS ?p) "
                        f"BIND({str(up).lower()} AS ?up) }} LIMIT {MIDDLE_LIMIT + 1} }}"
                    )
        result = self.store.query(
            "SELECT DISTINCT ?a ?p ?m ?up WHERE {\n" + "\nUNION ".join(branches) + "\n}"
        )
        assert isinstance(result, Solutions)
        walks: dict[tuple[str, bool], dict[str, list[Any]]] = {}
        rows: list[tuple[Any, ...]] = result.rows
        for node, prop_node, middle, is_up in rows:
            if isinstance(middle, ox.BlankNode):
                return None
            walk = walks.setdefault((prop_node.value, is_up.value == "true"), {})
            walk.setdefault(node.value, []).append(middle)
        first: list[tuple[Any, Any, Any, bool]] = []
        for p in composed:
            hubs = {
                up: sorted(a for a, ms in walks.get((p, up), {}).items()
                           if len(ms) > MIDDLE_LIMIT)
                for up in (True, False)
            }
            up = len(hubs[True]) <= len(hubs[False])
            walk = walks.get((p, up), {})
            if hubs[up]:  # a hub both ways (rare): walk it in full
                edge = f"?a {_iri(p)} ?m" if up else f"?m {_iri(p)} ?a"
                result = self.store.query(
                    f"SELECT DISTINCT ?a ?m WHERE {{ {_nodes('?a', hubs[up])}"
                    f"GRAPH ?g {{ {edge} }} }}"
                )
                assert isinstance(result, Solutions)
                for a in hubs[up]:
                    walk[a] = []
                full: list[tuple[Any, ...]] = result.rows
                for node, middle in full:
                    if isinstance(middle, ox.BlankNode):
                        return None
                    walk[node.value].append(middle)
            prop = ox.NamedNode(p)
            first += [
                (ox.NamedNode(a), prop, m, up)
                for a, ms in walk.items() for m in ms
                if isinstance(m, ox.NamedNode) and str(m) not in inside
            ]
        if not first:
            return []
        # second edge: m → y (upward walk) or x → m (downward walk), y / x in the area
        by_property: dict[str, set[str]] = {}
        for _, prop, m, up in first:
            pairs = by_property.setdefault(str(prop), set())
            for n in area:
                pairs.add(f"({m} {_iri(n)})" if up else f"({_iri(n)} {m})")
        probes = "\nUNION ".join(
            f"{{ VALUES (?s ?o) {{ {' '.join(sorted(pairs))} }}\n"
            f"GRAPH ?g {{ ?s {name} ?o }} BIND({name} AS ?p) }}"
            for name, pairs in sorted(by_property.items())
        )
        result = self.store.query(f"SELECT DISTINCT ?s ?p ?o WHERE {{\n{probes}\n}}")
        assert isinstance(result, Solutions)
        edges: list[tuple[Any, Any, Any]] = list(result.rows)  # type: ignore[arg-type]
        # keep the first edges that lead somewhere (a middle is a subject of an upward
        # probe, an object of a downward one; keeping a few extra is harmless)
        linked = {str(t) for s, _, o in edges for t in (s, o)}
        edges += [(a, p, m) if up else (m, p, a) for a, p, m, up in first if str(m) in linked]
        return edges

    def _still_supported(
        self, lost: Sequence[Key], inside: set[str], lit_keys: set[tuple[str, str]]
    ) -> set[Key]:
        """The inferred ``rdf:type`` triples of ``lost`` that an unaffected triple still
        supports: ``x p o`` with ``p`` of domain ``c`` (or a subclass), ``w p x`` with
        ``p`` of range ``c``, the other end outside the affected area (nor a changed
        literal). One ``LIMIT``-ed bound pattern per node and property."""
        if not lost:
            return set()
        tbox = self.tbox
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
        limit = len(inside) + len(lit_keys) + 1
        branches = []
        for x, p, out in sorted(wanted):
            pattern = f"{x} {_iri(p)} ?o" if out else f"?o {_iri(p)} {x}"
            branches.append(
                f"{{ SELECT DISTINCT ?x ?p ?out ?o WHERE {{ GRAPH ?g {{ {pattern} }}\n"
                f"BIND({x} AS ?x) BIND({_iri(p)} AS ?p) BIND({str(out).lower()} AS ?out) }}"
                f" LIMIT {limit} }}"
            )
        result = self.store.query(
            "SELECT ?x ?p ?out ?o WHERE {\n" + "\nUNION ".join(branches) + "\n}"
        )
        assert isinstance(result, Solutions)
        supported: set[Key] = set()
        rows: list[tuple[Any, ...]] = result.rows
        for node, prop, out_node, other in rows:
            xk, ok = str(node), str(other)
            if ok in inside or (xk, ok) in lit_keys:
                continue  # an affected triple: already in the local closure
            supported |= wanted[(xk, prop.value, out_node.value == "true")]
        return supported

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
