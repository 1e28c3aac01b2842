"""pyshacl, the reference validator: the fallback for shapes the compiled path cannot check,
and the yardstick the equivalence tests hold the compiled path to.

Entry mode reproduces how coopgraph has always called pyshacl on an entry: the entry's
subjects grouped by the exact set of shapes that target them, one run per group with
``focus_nodes`` and ``use_shapes`` (pyshacl then validates exactly those nodes against
exactly those shapes; nested shapes are evaluated in full on any node).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import pyshacl
import rdflib
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph

from coopgraph.vocab import SH

_QUERY_CACHE_SIZE = 512
_query_cache_installed = False

TARGET_KINDS = {
    "class": SH.targetClass,
    "node": SH.targetNode,
    "subjectsOf": SH.targetSubjectsOf,
    "objectsOf": SH.targetObjectsOf,
}

Targets = dict[rdflib.term.Node, dict[str, set[rdflib.term.Node]]]


def install_query_cache() -> None:
    """Cache rdflib's parsed and translated SPARQL queries by text.

    pyshacl evaluates SHACL-SPARQL constraints (shapes/components.ttl) by handing rdflib
    the same query text for every focus node, and rdflib parses it each time with
    pyparsing: 75 % of one entry's validation before the compiled path. A translated
    query is what ``rdflib.plugins.sparql.prepareQuery`` returns for reuse, so caching it
    changes nothing but the time.
    """
    global _query_cache_installed
    if _query_cache_installed:
        return
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    original = processor.SPARQLProcessor.query

    @functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)
    def translated(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Any:
        return translateQuery(parseQuery(text), base, dict(namespaces))

    def query(
        self: Any,
        strOrQuery: Any,  # noqa: N803
        initBindings: Any = None,  # noqa: N803
        initNs: Any = None,  # noqa: N803
        base: str | None = None,
        DEBUG: bool = False,  # noqa: N803
    ) -> Any:
        if isinstance(strOrQuery, str):
            namespaces = tuple(sorted((k, str(v)) for k, v in (initNs or {}).items()))
            strOrQuery = translated(strOrQuery, base, namespaces)
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    _query_cache_installed = True


def shape_targets(shapes: rdflib.Graph) -> Targets:
    """Each shape that declares targets, with them by kind."""
    index: Targets = {}
    for kind, pred in TARGET_KINDS.items():
        for shape, target in shapes.subject_objects(rdflib.URIRef(pred)):
            index.setdefault(shape, {k: set() for k in TARGET_KINDS})[kind].add(target)
    return index


def targeting(
    targets: Targets,
    node: rdflib.term.Node,
    *,
    types: set[rdflib.term.Node],
    predicates: set[rdflib.term.Node],
    used_as_object: set[rdflib.term.Node],
) -> frozenset[rdflib.term.Node]:
    """The shapes whose targets (class, node, subjectsOf, objectsOf) select ``node``."""
    return frozenset(
        shape
        for shape, t in targets.items()
        if t["class"] & types
        or node in t["node"]
        or t["subjectsOf"] & predicates
        or t["objectsOf"] & used_as_object
    )


def plan(
    targets: Targets, data: rdflib.Graph, subjects: Iterable[rdflib.term.Node]
) -> dict[frozenset[rdflib.term.Node], set[rdflib.term.Node]]:
    """Group an entry's subjects by the set of shapes that target them.

    pyshacl's ``focus_nodes`` alone filters nested value checks too (sh:node, sh:or…)
    and so misses violations; with ``use_shapes`` it applies the focus nodes to the
    given shapes only, which is right when every node of a run is targeted by exactly
    those shapes — hence one run per group.
    """
    groups: dict[frozenset[rdflib.term.Node], set[rdflib.term.Node]] = {}
    rdf_type = rdflib.RDF.type
    for node in set(subjects):
        shapes = targeting(
            targets,
            node,
            types=set(data.objects(node, rdf_type)),
            predicates=set(data.predicates(node, None)),
            used_as_object=set(data.predicates(None, node)),
        )
        if shapes:
            groups.setdefault(shapes, set()).add(node)
    return groups


class Reference:
    """pyshacl on one shapes graph, its parsed shapes kept between runs."""

    def __init__(self, shapes: rdflib.Graph) -> None:
        install_query_cache()
        self.shapes = shapes
        self._shapes_graph: ShapesGraph | None = None

    def run(
        self,
        data: rdflib.Graph,
        focus: Iterable[rdflib.term.Node] | None = None,
        shapes: Iterable[rdflib.term.Node] | None = None,
    ) -> rdflib.Graph:
        """pyshacl's report graph for ``data``: every target when ``focus`` is None, else
        ``focus`` with ``shapes`` (see :func:`plan`)."""
        options: dict[str, Any] = {
            "inference": "none",
            "allow_warnings": True,
            "allow_infos": True,
        }
        if focus is not None:
            options["focus_nodes"] = sorted(str(n) for n in focus)
        if shapes is not None:
            options["use_shapes"] = sorted(str(s) for s in shapes)
        validator = pyshacl.Validator(
            DataGraph.from_rdflib_graph(data), shacl_graph=self.shapes, options=options
        )
        if self._shapes_graph is None:
            _ = validator.shacl_graph.shapes  # harvest every shape once, for later runs
            self._shapes_graph = validator.shacl_graph
        else:
            validator.shacl_graph = self._shapes_graph
        _conforms, results, _text = validator.run()  # type: ignore[no-untyped-call]
        graph: rdflib.Graph = results
        return graph

    def run_entry(
        self,
        data: rdflib.Graph,
        subjects: Iterable[rdflib.term.Node],
        targets: Targets,
        only: set[rdflib.term.Node] | None = None,
    ) -> rdflib.Graph:
        """The entry's report the way coopgraph runs pyshacl on an entry (module doc);
        ``only``: restrict to these top-level shapes (the compiled path's fallback)."""
        results = rdflib.Graph()
        for shapes, focus in plan(targets, data, subjects).items():
            chosen = shapes if only is None else shapes & only
            if chosen:
                results += self.run(data, focus, chosen)
        return one_report(results)


def one_report(results: rdflib.Graph) -> rdflib.Graph:
    """Merge the reports of several pyshacl runs into one sh:ValidationReport."""
    report_type = rdflib.URIRef(SH.ValidationReport)
    conforms_p, result_p = rdflib.URIRef(SH.conforms), rdflib.URIRef(SH.result)
    reports = set(results.subjects(rdflib.RDF.type, report_type))
    items = {r for rep in reports for r in results.objects(rep, result_p)}
    merged = rdflib.Graph()
    for triple in results:
        if triple[0] not in reports:
            merged.add(triple)
    report = rdflib.BNode()
    merged.add((report, rdflib.RDF.type, report_type))
    violation = rdflib.URIRef(SH.Violation)
    severity = rdflib.URIRef(SH.resultSeverity)
    conforms = not any(results.value(r, severity) == violation for r in items)
    merged.add((report, conforms_p, rdflib.Literal(conforms)))
    for item in items:
        merged.add((report, result_p, item))
    return merged
