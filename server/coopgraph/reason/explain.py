"""Explanations: which rule instances derive an inferred triple, from which premises.

Used by ``coopgraph explain`` and the entity pages' "why". Each candidate rule instance
is checked against the store (premises looked up with bound patterns, at most a few rows
each), inferred premises are explained in turn up to a depth, and circular derivations
(a premise that is the triple being explained) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph.reason.tbox import RULES, TYPE, TBox
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import INFERRED_GRAPH, OWL, RDFS, compact

__all__ = ["Explanation", "Premise", "explain", "render_text"]

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
    if _graphs_of(store, triple) != [INFERRED_GRAPH]:
        return []
    return _explain(store, tbox, triple, depth, frozenset({triple}))


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


def _explain(
    store: Store, tbox: TBox, triple: ox.Triple, depth: int, seen: frozenset[ox.Triple]
) -> list[Explanation]:
    found: list[tuple[int, int, Explanation]] = []
    for order, (rule, premises, axioms) in enumerate(_candidates(store, tbox, triple)):
        if any(t in seen for t in premises):
            continue  # circular: a premise is the triple being explained
        built = []
        for t in premises:
            premise = _premise(store, tbox, t, depth, seen)
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


def _graphs_of(store: Store, triple: ox.Triple) -> list[str]:
    if isinstance(triple.subject, ox.Triple) or isinstance(triple.object, ox.Triple):
        return []  # entries refuse RDF 1.2 triple terms: nothing inferred is about one
    result = store.query(
        "SELECT DISTINCT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
        bindings={"s": triple.subject, "p": triple.predicate, "o": triple.object},
    )
    assert isinstance(result, Solutions)
    return sorted(str(t.value) for t in result.values("g") if t is not None)


def _premise(
    store: Store, tbox: TBox, triple: ox.Triple, depth: int, seen: frozenset[ox.Triple]
) -> Premise | None:
    graphs = _graphs_of(store, triple)
    if not graphs:
        return None
    asserted = [g for g in graphs if g != INFERRED_GRAPH]
    if asserted:
        return Premise(triple, asserted[0])
    explanations = (
        _explain(store, tbox, triple, depth - 1, seen | {triple}) if depth > 1 else []
    )
    return Premise(triple, INFERRED_GRAPH, explanations[:1])


def _candidates(store: Store, tbox: TBox, triple: ox.Triple) -> Iterator[Candidate]:
    """Every rule instance whose conclusion is ``triple`` (premises not checked yet)."""
    s, p, o = triple.subject, triple.predicate.value, triple.object
    if p == TYPE and isinstance(o, ox.NamedNode):
        yield from _type_candidates(store, tbox, s, o.value)
        return
    if isinstance(o, ox.Literal):
        yield from _sub_property_candidates(tbox, s, p, o)
        return
    if p in tbox.transitive:
        for m in _lookup(store, "m", {"s": s, "p": triple.predicate, "o": o}, _MIDDLES):
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


def _type_candidates(store: Store, tbox: TBox, s: Any, d: str) -> Iterator[Candidate]:
    type_node = ox.NamedNode(TYPE)
    for c in sorted(c for c, d2 in tbox.sub_classes if d2 == d):
        yield (
            "rdfs9-subclass",
            [ox.Triple(s, type_node, ox.NamedNode(c))],
            [(c, RDFS.subClassOf, d)],
        )
    for prop in sorted(q for q, c in tbox.domains if c == d):
        for row in _lookup(store, "o", {"s": s, "p": ox.NamedNode(prop)}, _ANY):
            yield (
                "rdfs2-domain",
                [ox.Triple(s, ox.NamedNode(prop), row)],
                [(prop, RDFS.domain, d)],
            )
    for prop in sorted(q for q, c in tbox.ranges if c == d):
        for row in _lookup(store, "s", {"o": s, "p": ox.NamedNode(prop)}, _ANY):
            yield (
                "rdfs3-range",
                [ox.Triple(row, ox.NamedNode(prop), s)],
                [(prop, RDFS.range, d)],
            )


def _sub_property_candidates(tbox: TBox, s: Any, p: str, o: Any) -> Iterator[Candidate]:
    for sub in sorted(a for a, b in tbox.sub_properties if b == p):
        yield (
            "rdfs7-subproperty",
            [ox.Triple(s, ox.NamedNode(sub), o)],
            [(sub, RDFS.subPropertyOf, p)],
        )


_ANY = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 20"
_MIDDLES = (
    "SELECT DISTINCT ?m ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?m } GRAPH ?h { ?m ?p ?o } "
    "FILTER(?m != ?s && ?m != ?o) } LIMIT 20"
)


def _lookup(store: Store, variable: str, bindings: dict[str, Any], sparql: str) -> list[Any]:
    result = store.query(sparql, bindings=bindings)
    assert isinstance(result, Solutions)
    return [t for t in result.values(variable) if t is not None]
