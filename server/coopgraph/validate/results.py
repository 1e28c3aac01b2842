"""Validation results as the standard sh:ValidationReport graph, and back.

The compiled path writes the same triples per result as pyshacl (``make_v_result``):
type, focus node, result path, value, source shape, source constraint component,
severity, source constraint and the shape's messages; the report holds sh:conforms and
its results. Reading a report graph back gives the fallback's pyshacl results the same
form as the compiled ones.
"""

from __future__ import annotations

from collections.abc import Iterable

import rdflib
from rdflib import RDF, BNode, Literal

from coopgraph.validate.engine import Result
from coopgraph.validate.shapes import S


def report_graph(results: Iterable[Result]) -> rdflib.Graph:
    graph = rdflib.Graph()
    add = graph.add
    report = BNode()
    add((report, RDF.type, S.ValidationReport))
    conforms = True

    def write(r: Result) -> BNode:
        node = BNode()
        add((node, RDF.type, S.ValidationResult))
        add((node, S.focusNode, r.focus))
        if r.path is not None:
            add((node, S.resultPath, r.path))
        if r.value is not None:
            add((node, S.value, r.value))
        add((node, S.sourceShape, r.shape))
        add((node, S.sourceConstraintComponent, r.component))
        add((node, S.resultSeverity, r.severity))
        if r.source_constraint is not None:
            add((node, S.sourceConstraint, r.source_constraint))
        for message in r.messages:
            add((node, S.resultMessage, message))
        for detail in r.details:
            add((node, S.detail, write(detail)))
        return node

    for r in results:
        add((report, S.result, write(r)))
        conforms = conforms and r.severity != S.Violation
    add((report, S.conforms, Literal(conforms)))
    return graph


def from_report_graph(graph: rdflib.Graph) -> list[Result]:
    """The results of a sh:ValidationReport graph (pyshacl's or ours)."""
    out = []
    for node in graph.subjects(RDF.type, S.ValidationResult):

        def val(pred: rdflib.URIRef, node: rdflib.term.Node = node) -> rdflib.term.Node | None:
            return graph.value(node, pred)

        out.append(
            Result(
                focus=val(S.focusNode),  # type: ignore[arg-type]
                path=val(S.resultPath),
                value=val(S.value),
                shape=val(S.sourceShape),  # type: ignore[arg-type]
                component=val(S.sourceConstraintComponent),  # type: ignore[arg-type]
                severity=val(S.resultSeverity) or S.Violation,  # type: ignore[arg-type]
                messages=tuple(
                    m for m in graph.objects(node, S.resultMessage) if isinstance(m, Literal)
                ),
                source_constraint=val(S.sourceConstraint),
            )
        )
    return out
