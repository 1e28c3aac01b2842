"""Conversions between pyoxigraph terms (the store's) and rdflib terms (pyshacl's, owlrl's).

>>> to_rdflib(ox.Literal("Lille", language="fr"))
rdflib.term.Literal('Lille', lang='fr')
>>> from_rdflib(rdflib.URIRef("http://example.org/a"))
<NamedNode value=http://example.org/a>
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
import rdflib

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return rdflib.Literal(term.value, datatype=None if datatype == XSD_STRING else datatype)


def from_rdflib(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported rdflib term {term!r}")


def graph_of(triples: Iterable[ox.Quad | ox.Triple]) -> rdflib.Graph:
    """An rdflib Graph holding the triples (graph names dropped)."""
    graph = rdflib.Graph()
    add = graph.add
    for t in triples:
        add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))  # type: ignore[arg-type]
    return graph


def triples_of(graph: rdflib.Graph) -> list[ox.Triple]:
    return [ox.Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in graph]  # type: ignore[arg-type]
