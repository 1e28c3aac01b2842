"""Explanations: which rule instances derive an inferred triple, from which premises.

Used by ``coopgraph explain`` and the entity pages' "why". Each candidate rule instance
is checked against the store (premises looked up with bound patterns, at most a few rows
each), inferred premises are explained in turn up to a depth, and circular derivations
(a premise that is the triple being explained) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyoxigraph as ox

from coopgraph.reason.tbox import RULES, TYPE, TBox
from coopgraph.store.base import Solutions, Store, match
from coopgraph.vocab import INFERRED_GRAPH, OWL, RDFS, compact

__all__ = [
    "Batched", "Explanation", "OneByOne", "Premise", "Reads", "explain", "explain_many",
    "render_text",
]

Candidate = tuple[str, list[ox.Triple], list[tuple[str, str, str]]]


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
        subject = self.triple.subject
        return {
            "subject": str(subject) if isinstance(subject, ox.Triple) else subject.value,
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


def explain(store: Store, tbox: TBox, triple: ox.Triple, depth: int) -> list[Explanation]:
    """The explanations of ``triple``, those with fewest inferred premises first; ``[]``
    when it is asserted in some graph or not inferred at all."""
    return explain_many(store, tbox, [triple], depth)[triple]


def explain_many(
    store: Store, tbox: TBox, triples: Sequence[ox.Triple], depth: int,
    reads: Reads | None = None,
) -> dict[ox.Triple, list[Explanation]]:
    """:func:`explain` of each triple, in a few round trips to the store: each pass runs
    every explanation on what was read so far and notes what it still needs; one
    :func:`~coopgraph.store.base.match` call reads all of it; the pass whose reads were
    all there is the answer (an entity page: two or three calls instead of ~170 queries).

    :param reads: where the reads come from; default :class:`Batched` on ``store``
        (:class:`OneByOne` is the plain one-query-per-read reference).
    """
    source = reads if reads is not None else Batched(store)
    while True:
        found = {t: _explain_top(source, tbox, t, depth) for t in triples}
        if not source.fetch():
            return found


def render_text(explanations: list[Explanation], lang: str = "fr", indent: str = "") -> str:
    """Explanations as text for people (``coopgraph explain``): the rule, then each
    premise with the graph that holds it, inferred premises explained below them."""

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
        return compact(t.value) if isinstance(t, ox.NamedNode) else str(t)

    lines: list[str] = []
    for number, exp in enumerate(explanations, start=1):
        label = exp.label_fr if lang == "fr" else exp.label_en
        lines.append(f"{indent}{number}. [{exp.rule}] {label}")
        for s, p, o in exp.axioms:
            lines.append(f"{indent}   schema: {compact(s)} {compact(p)} {compact(o)}")
        for premise in exp.premises:
            t = premise.triple
            lines.append(
                f"{indent}   from: {term(t.subject)} {term(t.predicate)} {term(t.object)}"
                f"   (graph {compact(premise.graph)})"
            )
            if premise.explanations:
                lines.append(render_text(premise.explanations, lang, indent + "      "))
    return "\n".join(lines)


def _explain_top(reads: Reads, tbox: TBox, triple: ox.Triple, depth: int) -> list[Explanation]:
    graphs = reads.graphs_of(triple)
    if graphs is not None and graphs != [INFERRED_GRAPH]:
        return []
    # graphs not read yet: explained as if inferred, so that this pass asks for the reads
    # the explanation needs too (the pass is run again once they are there)
    return _explain(reads, tbox, triple, depth, frozenset({triple}))


def _explain(
    reads: Reads, tbox: TBox, triple: ox.Triple, depth: int, seen: frozenset[ox.Triple]
) -> list[Explanation]:
    found: list[tuple[int, int, Explanation]] = []
    for order, (rule, premises, axioms) in enumerate(_candidates(reads, tbox, triple)):
        if any(t in seen for t in premises):
            continue  # circular: a premise is the triple being explained
        built = []
        for t in premises:
            premise = _premise(reads, tbox, t, depth, seen)
            if premise is None:
                break
            if premise.inferred and not premise.explanations and depth > 1:
                break  # only derivable through the triple itself
            built.append(premise)
        else:
            inferred = sum(pr.inferred for pr in built)
            fr, en = RULES[rule]
            found.append((inferred, order, Explanation(rule, fr, en, built, axioms)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [e for _, _, e in found]


def _premise(
    reads: Reads, tbox: TBox, triple: ox.Triple, depth: int, seen: frozenset[ox.Triple]
) -> Premise | None:
    graphs = reads.graphs_of(triple)
    if not graphs:  # not held anywhere, or not read yet
        return None
    asserted = [g for g in graphs if g != INFERRED_GRAPH]
    if asserted:
        return Premise(triple, asserted[0])
    explanations = (
        _explain(reads, tbox, triple, depth - 1, seen | {triple}) if depth > 1 else []
    )
    return Premise(triple, INFERRED_GRAPH, explanations[:1])


def _candidates(reads: Reads, tbox: TBox, triple: ox.Triple) -> Iterator[Candidate]:
    """Every rule instance whose conclusion is ``triple`` (premises not checked yet)."""
    s, p, o = triple.subject, triple.predicate.value, triple.object
    if p == TYPE and isinstance(o, ox.NamedNode):
        yield from _type_candidates(reads, tbox, s, o.value)
        return
    if isinstance(o, ox.Literal):
        yield from _sub_property_candidates(tbox, s, p, o)
        return
    if p in tbox.transitive:
        for m in reads.middles(s, triple.predicate, o) or []:
            yield (
                "owl-transitive",
                [ox.Triple(s, triple.predicate, m), ox.Triple(m, triple.predicate, o)],
                [(p, TYPE, OWL.TransitiveProperty)],
            )
    if p in tbox.symmetric:
        yield (
            "owl-symmetric",
            [ox.Triple(o, triple.predicate, s)],
            [(p, TYPE, OWL.SymmetricProperty)],
        )
    for q in sorted(a for a, b in tbox.inverses if b == p):
        yield (
            "owl-inverse",
            [ox.Triple(o, ox.NamedNode(q), s)],
            [(q, OWL.inverseOf, p)],
        )
    yield from _sub_property_candidates(tbox, s, p, o)


def _type_candidates(reads: Reads, tbox: TBox, s: Any, d: str) -> Iterator[Candidate]:
    type_node = ox.NamedNode(TYPE)
    for c in sorted(c for c, d2 in tbox.sub_classes if d2 == d):
        yield (
            "rdfs9-subclass",
            [ox.Triple(s, type_node, ox.NamedNode(c))],
            [(c, RDFS.subClassOf, d)],
        )
    for prop in sorted(q for q, c in tbox.domains if c == d):
        for found in reads.found(s, ox.NamedNode(prop), None) or []:
            yield ("rdfs2-domain", [found], [(prop, RDFS.domain, d)])
    for prop in sorted(q for q, c in tbox.ranges if c == d):
        for found in reads.found(None, ox.NamedNode(prop), s) or []:
            yield ("rdfs3-range", [found], [(prop, RDFS.range, d)])


def _sub_property_candidates(tbox: TBox, s: Any, p: str, o: Any) -> Iterator[Candidate]:
    for sub in sorted(a for a, b in tbox.sub_properties if b == p):
        yield (
            "rdfs7-subproperty",
            [ox.Triple(s, ox.NamedNode(sub), o)],
            [(sub, RDFS.subPropertyOf, p)],
        )


#: Premises a candidate reads of one bound pattern, at most (``LIMIT 20``).
FOUND_LIMIT = 20
_GRAPHS = "SELECT DISTINCT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
_FOUND = f"SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT {FOUND_LIMIT}"
_MIDDLES = (
    "SELECT DISTINCT ?m ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?m } GRAPH ?h { ?m ?p ?o } "
    f"FILTER(?m != ?s && ?m != ?o) }} LIMIT {FOUND_LIMIT}"
)
Subject = ox.NamedNode | ox.BlankNode | ox.Triple
Node = Subject | ox.Literal


class Reads(Protocol):
    """The three reads an explanation makes. ``None``: not read yet (asked for; the pass
    is run again after :meth:`fetch`)."""

    def graphs_of(self, triple: ox.Triple) -> list[str] | None:
        """The named graphs holding ``triple``, sorted."""

    def found(self, s: Subject | None, p: ox.NamedNode, o: Node | None) -> list[ox.Triple] | None:
        """The distinct triples ``s p ?o`` (or ``?s p o``), at most :data:`FOUND_LIMIT`."""

    def middles(self, s: Node, p: ox.NamedNode, o: Node) -> list[Subject] | None:
        """The distinct ``?m`` (not ``s`` or ``o``) with ``s p ?m`` and ``?m p o``, at most
        :data:`FOUND_LIMIT`."""

    def fetch(self) -> bool:
        """Read what was asked for since the last call; ``False`` when nothing was."""


class OneByOne:
    """One SPARQL query per read: the plain definition of each read, which
    :class:`Batched` is tested against (``tests/test_explain_batched.py``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def graphs_of(self, triple: ox.Triple) -> list[str] | None:
        if isinstance(triple.subject, ox.Triple) or isinstance(triple.object, ox.Triple):
            return []  # entries refuse RDF 1.2 triple terms: nothing inferred is about one
        bindings = {"s": triple.subject, "p": triple.predicate, "o": triple.object}
        return sorted(str(t.value) for t in self._values(_GRAPHS, "g", bindings))

    def found(self, s: Subject | None, p: ox.NamedNode, o: Node | None) -> list[ox.Triple] | None:
        if o is None:
            assert s is not None
            return [ox.Triple(s, p, v) for v in self._values(_FOUND, "o", {"s": s, "p": p})]
        return [ox.Triple(v, p, o) for v in self._values(_FOUND, "s", {"p": p, "o": o})]

    def middles(self, s: Node, p: ox.NamedNode, o: Node) -> list[Subject] | None:
        return self._values(_MIDDLES, "m", {"s": s, "p": p, "o": o})

    def fetch(self) -> bool:
        return False

    def _values(self, sparql: str, variable: str, bindings: dict[str, Any]) -> list[Any]:
        result = self.store.query(sparql, bindings=bindings)
        assert isinstance(result, Solutions)
        return [t for t in result.values(variable) if t is not None]


#: Quads read per pattern in a batch: enough for :data:`FOUND_LIMIT` distinct triples
#: when each is in a few graphs; a pattern that fills it falls back to :class:`OneByOne`.
BATCH_QUADS = 100

_Key = tuple[Any, Any, Any]


class Batched:
    """The reads of many explanations answered by one :func:`~coopgraph.store.base.match`
    call per pass: each pattern is read with index lookups (in the store's child process
    when it is isolated, as one query on a remote store), in the order ``GRAPH ?g`` reads
    them, so the answers are those of :class:`OneByOne`. A pattern that has more than
    :data:`BATCH_QUADS` quads is answered by :class:`OneByOne` instead."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.plain = OneByOne(store)
        self.graphs: dict[ox.Triple, list[str]] = {}
        #: pattern → (its distinct triples in read order, whether that is all of them)
        self.lookups: dict[_Key, tuple[list[ox.Triple], bool]] = {}
        self.asked: dict[_Key, None] = {}  # ordered: a batch reads in the order asked

    def graphs_of(self, triple: ox.Triple) -> list[str] | None:
        if isinstance(triple.subject, ox.Triple) or isinstance(triple.object, ox.Triple):
            return []
        if triple not in self.graphs:
            self.asked.setdefault((triple.subject, triple.predicate, triple.object))
            return None
        return self.graphs[triple]

    def found(self, s: Subject | None, p: ox.NamedNode, o: Node | None) -> list[ox.Triple] | None:
        key = (s, p, o)
        if key not in self.lookups:
            self.asked.setdefault(key)
            return None
        triples, complete = self.lookups[key]
        if not complete and len(triples) < FOUND_LIMIT:
            triples = self.plain.found(s, p, o) or []
            self.lookups[key] = (triples, True)
        return triples[:FOUND_LIMIT]

    def middles(self, s: Node, p: ox.NamedNode, o: Node) -> list[Subject] | None:
        key = (s, p, None)
        if key not in self.lookups:
            self.asked.setdefault(key)
            return None
        triples, complete = self.lookups[key]
        if not complete:
            return self.plain.middles(s, p, o)
        middles: list[Subject] = []
        pending = False
        for t in triples:
            m = t.object
            if not isinstance(m, ox.NamedNode | ox.BlankNode) or m in (s, o) or m in middles:
                continue  # a literal is no subject; entries hold no triple terms
            graphs = self.graphs_of(ox.Triple(m, p, o))
            pending = pending or graphs is None
            if graphs:
                middles.append(m)
        return None if pending else middles[:FOUND_LIMIT]

    def fetch(self) -> bool:
        if not self.asked:
            return False
        keys = list(self.asked)
        self.asked.clear()
        read = match(self.store, [(*key, None) for key in keys], limit=BATCH_QUADS)
        for key, quads in zip(keys, read, strict=True):
            complete = len(quads) < BATCH_QUADS
            by_triple: dict[ox.Triple, list[str]] = {}
            for q in quads:
                if isinstance(q.graph_name, ox.NamedNode):  # GRAPH ?g: named graphs only
                    by_triple.setdefault(q.triple, []).append(q.graph_name.value)
            if None not in key:
                triple = ox.Triple(*key)
                self.graphs[triple] = (sorted(set(by_triple.get(triple, [])))
                                       if complete else self.plain.graphs_of(triple) or [])
                continue
            self.lookups[key] = (list(by_triple), complete)
            if complete:
                for triple, graphs in by_triple.items():
                    self.graphs.setdefault(triple, sorted(set(graphs)))
        return True
