"""The shapes graph compiled once into plain Python structures the engine walks.

Only what :mod:`coopgraph.validate.engine` implements exactly like pyshacl is compiled.
A shape using anything else (a parameter listed in ``UNSUPPORTED`` or unknown to us, a
non-IRI ``sh:path``, ``sh:prefixes`` in a SPARQL query, …) is marked ``compiled=False``
with the reason, and so is every shape that reaches it through sh:node, sh:property,
sh:or… The validator runs those shapes through pyshacl instead (never skipped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.collection import Collection

from coopgraph.validate.reference import TARGET_KINDS
from coopgraph.vocab import SH

S = rdflib.Namespace(str(SH))
#: A SHACL-SPARQL constraint component: its IRI, its parameters (path, optional?) and its
#: validators by kind (``validator``, ``node``, ``property``).
Component = tuple[
    rdflib.term.Node, list[tuple[rdflib.term.Node | None, bool]], dict[str, rdflib.term.Node | None]
]

#: Parameters that describe a shape without constraining anything.
DESCRIPTIVE = {
    S.path,
    S.severity,
    S.message,
    S.name,
    S.description,
    S.order,
    S.group,
    S.defaultValue,
    S.targetClass,
    S.targetNode,
    S.targetSubjectsOf,
    S.targetObjectsOf,
    S.flags,
    S.ignoredProperties,
    S.qualifiedMaxCount,
    S.qualifiedMinCount,
}
#: Constraint parameters the engine evaluates (the rest go to pyshacl).
COMPILED = {
    S["class"],
    S.datatype,
    S.nodeKind,
    S.minCount,
    S.maxCount,
    S.minInclusive,
    S.maxInclusive,
    S.minExclusive,
    S.maxExclusive,
    S.pattern,
    S["in"],
    S.hasValue,
    S.node,
    S.property,
    S["or"],
    S["not"],
    S["and"],
    S.qualifiedValueShape,
    S.lessThanOrEquals,
    S.disjoint,
    S.closed,
    S.uniqueLang,
    S.sparql,
}
#: SHACL parameters known to need pyshacl (named so the reason is readable).
UNSUPPORTED = {
    S.xone,
    S.lessThan,
    S.equals,
    S.minLength,
    S.maxLength,
    S.languageIn,
    S.qualifiedValueShapesDisjoint,
    S.deactivated,
    S.target,
    S.rule,
    S.expression,
    S.js,
    S.prefixes,
}
VIOLATION = S.Violation


class Unsupported(Exception):
    """A construct the compiled path does not implement (the message says which)."""


@dataclass(frozen=True)
class SparqlCheck:
    """One SHACL-SPARQL validator or constraint, ready to run (see ``sparql.py``)."""

    component: URIRef  # the custom component, or sh:SPARQLConstraintComponent
    kind: str  # "ask" (custom ASK validator), "select" (custom SELECT), "constraint"
    text: str  # the query, $PATH already replaced
    params: tuple[tuple[str, rdflib.term.Node], ...]  # pre-bound parameters by name
    source: rdflib.term.Node | None = None  # the sh:sparql node (sh:sourceConstraint)
    template: str = ""  # the query as written in the shapes ($PATH not replaced)


@dataclass(eq=False)
class Shape:
    node: rdflib.term.Node
    path: URIRef | None
    severity: URIRef
    messages: tuple[Literal, ...]
    targets: dict[str, set[rdflib.term.Node]]
    #: (parameter, argument) in pyshacl's order: core parameters, then custom components
    checks: list[tuple[URIRef, Any]] = field(default_factory=list)
    compiled: bool = True
    reason: str = ""
    #: Warning/Info: pyshacl (allow_warnings, allow_infos) counts it as conforming
    allowed: bool = False
    #: ``checks`` with each parameter's check function looked up (``engine.py``, once)
    resolved: list[tuple[Any, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def is_property(self) -> bool:
        return self.path is not None


def _local(iri: rdflib.term.Node) -> str:
    return re.split(r"[#/]", str(iri))[-1]


class ShapeSet:
    """Every shape of a shapes graph, compiled; ``top`` are those with targets."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self.graph = graph
        self.shapes: dict[rdflib.term.Node, Shape] = {}
        self.components = self._components()
        nodes = set(graph.subjects(RDF.type, S.NodeShape)) | set(
            graph.subjects(RDF.type, S.PropertyShape)
        )
        for kind in TARGET_KINDS.values():
            nodes |= set(graph.subjects(URIRef(kind), None))
        for pred in (S.property, S.node, S["not"], S.qualifiedValueShape):
            nodes |= set(graph.objects(None, pred))
        for pred in (S["or"], S["and"], S.xone):
            for head in graph.objects(None, pred):
                nodes |= set(Collection(graph, head))
        for node in nodes:
            self.get(node)
        self._propagate()
        self.top = [s for s in self.shapes.values() if any(s.targets.values())]
        self.nested_paths = self._nested_paths()

    def get(self, node: rdflib.term.Node) -> Shape:
        if node not in self.shapes:
            self.shapes[node] = self._compile(node)
        return self.shapes[node]

    @property
    def fallback(self) -> list[Shape]:
        """Top-level shapes pyshacl must check (module doc)."""
        return [s for s in self.top if not s.compiled]

    # -- compiling ---------------------------------------------------------------------

    def _compile(self, node: rdflib.term.Node) -> Shape:
        g = self.graph
        path = g.value(node, S.path)
        targets = {kind: set(g.objects(node, URIRef(pred))) for kind, pred in TARGET_KINDS.items()}
        shape = Shape(
            node=node,
            path=path if isinstance(path, URIRef) else None,
            severity=g.value(node, S.severity) or VIOLATION,  # type: ignore[arg-type]
            messages=tuple(m for m in g.objects(node, S.message) if isinstance(m, Literal)),
            targets=targets,
        )
        shape.allowed = shape.severity in (S.Warning, S.Info)
        try:
            if path is not None and not isinstance(path, URIRef):
                raise Unsupported("a sh:path that is not a single property")
            if (node, RDF.type, RDFS.Class) in g:
                raise Unsupported("a shape that is also an rdfs:Class (implicit target)")
            shape.checks = self._checks(node, shape)
        except Unsupported as exc:
            shape.compiled, shape.reason = False, str(exc)
        return shape

    def _checks(self, node: rdflib.term.Node, shape: Shape) -> list[tuple[URIRef, Any]]:
        g = self.graph
        checks: list[tuple[URIRef, Any]] = []
        params = {p for p in g.predicates(node, None) if isinstance(p, URIRef)}
        for param in sorted(params, key=str):
            if param in UNSUPPORTED:
                raise Unsupported(f"{_local(param)} is not compiled")
            if not str(param).startswith(str(S)) or param in DESCRIPTIVE:
                continue
            if param not in COMPILED:
                raise Unsupported(f"unknown SHACL parameter {param}")
            values = list(g.objects(node, param))
            for value in values:
                checks.append((param, self._argument(node, param, value)))
        for component, check in self._custom(node, shape):
            checks.append((component, check))
        return checks

    def _argument(self, node: rdflib.term.Node, param: URIRef, value: rdflib.term.Node) -> Any:
        g = self.graph
        if param in (S["or"], S["and"]):
            return [self.get(m) for m in Collection(g, value)]
        if param in (S.node, S.property, S["not"]):
            return self.get(value)
        if param == S.qualifiedValueShape:
            high, low = g.value(node, S.qualifiedMaxCount), g.value(node, S.qualifiedMinCount)
            return (
                self.get(value),
                int(high) if high is not None else None,  # type: ignore[call-overload]
                int(low) if low is not None else None,  # type: ignore[call-overload]
            )
        if param == S["in"]:
            return set(Collection(g, value))
        if param == S.pattern:
            flags = g.value(node, S.flags)
            bits = 0
            for letter, bit in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)):
                if flags is not None and letter in str(flags).lower():
                    bits |= bit
            return re.compile(str(value), bits)
        if param == S.closed:
            ignored = g.value(node, S.ignoredProperties)
            paths = {g.value(p, S.path) for p in g.objects(node, S.property)}
            return (
                bool(value.toPython()) if isinstance(value, Literal) else False,
                set(Collection(g, ignored)) if ignored is not None else set(),
                {p for p in paths if p is not None},
            )
        if param == S.sparql:
            if (value, S.prefixes, None) in g or (value, S.deactivated, None) in g:
                raise Unsupported("sh:prefixes / sh:deactivated on a SPARQL constraint")
            select = g.value(value, S.select)
            if select is None:
                raise Unsupported("a SPARQL constraint without sh:select")
            text = str(select)
            if re.search(r"[\$\?]PATH\b", text):
                if shape_path(g, node) is None:
                    raise Unsupported("$PATH in a SPARQL constraint of a node shape")
                text = re.sub(r"[\$\?]PATH\b", f"<{shape_path(g, node)}>", text)
            return SparqlCheck(
                S.SPARQLConstraintComponent, "constraint", text, (), value, str(select)
            )
        if param in (S.minCount, S.maxCount):
            return int(value)  # type: ignore[call-overload]
        if param == S.uniqueLang:
            return bool(value.toPython()) if isinstance(value, Literal) else False
        return value

    # -- SHACL-SPARQL constraint components ------------------------------------------------

    def _components(self) -> list[Component]:
        g = self.graph
        out: list[Component] = []
        for comp in g.subjects(RDF.type, S.ConstraintComponent):
            params = []
            for p in g.objects(comp, S.parameter):
                optional = g.value(p, S.optional)
                params.append((g.value(p, S.path),
                               isinstance(optional, Literal) and bool(optional.toPython())))
            validators = {
                key: g.value(comp, pred)
                for key, pred in (
                    ("validator", S.validator),
                    ("node", S.nodeValidator),
                    ("property", S.propertyValidator),
                )
            }
            out.append((comp, params, validators))
        return out

    def _custom(self, node: rdflib.term.Node, shape: Shape) -> list[tuple[URIRef, SparqlCheck]]:
        g = self.graph
        found = []
        for comp, params, validators in self.components:
            mandatory = [p for p, optional in params if not optional]
            if not mandatory or not all((node, p, None) in g for p in mandatory):
                continue
            chosen = (
                validators["property" if shape.is_property else "node"] or validators["validator"]
            )
            if chosen is None or (chosen, S.prefixes, None) in g:
                raise Unsupported(f"component {comp}: no usable validator (or sh:prefixes)")
            if not isinstance(comp, URIRef):
                raise Unsupported(f"component {comp}: not named by an IRI")
            bound: list[tuple[str, rdflib.term.Node]] = []
            for path, _optional in params:
                if path is None:
                    raise Unsupported(f"component {comp}: a parameter without sh:path")
                values = list(g.objects(node, path))
                if len(values) > 1:
                    raise Unsupported(f"component {comp}: several values for {path}")
                if values:
                    bound.append((_local(path), values[0]))
            ask, select = g.value(chosen, S.ask), g.value(chosen, S.select)
            template = str(ask if ask is not None else select)
            text = template
            if re.search(r"[\$\?]PATH\b", text):
                if shape.path is None:
                    raise Unsupported(f"component {comp}: $PATH on a node shape")
                text = re.sub(r"[\$\?]PATH\b", f"<{shape.path}>", text)
            kind = "ask" if ask is not None else "select"
            check = SparqlCheck(comp, kind, text, tuple(bound), None, template)
            found.append((comp, check))
        return found

    def _nested_paths(self) -> frozenset[str]:
        """The properties read by shapes evaluated on value nodes (sh:node, sh:or…).

        An entry's context follows these, and only these, to a second hop: a nested
        shape on a referenced node reads that node's values along these paths (and, by
        sh:class or a SPARQL check, one step from them).
        """
        nested: list[Shape] = []
        for shape in self.shapes.values():
            for param, arg in shape.checks:
                if param != S.property:
                    nested += _shapes_in(arg)
        seen: set[int] = set()
        paths: set[str] = set()
        while nested:
            shape = nested.pop()
            if id(shape) in seen:
                continue
            seen.add(id(shape))
            if shape.path is not None:
                paths.add(str(shape.path))
            for _param, arg in shape.checks:
                nested += _shapes_in(arg)
        return frozenset(paths)

    def _propagate(self) -> None:
        """A shape that reaches an uncompiled one is not compiled either."""
        changed = True
        while changed:
            changed = False
            for shape in self.shapes.values():
                if not shape.compiled:
                    continue
                for _param, arg in shape.checks:
                    for other in _shapes_in(arg):
                        if not other.compiled:
                            shape.compiled = False
                            shape.reason = f"uses {other.node} ({other.reason})"
                            changed = True
                            break
                    if not shape.compiled:
                        break


def shape_path(g: rdflib.Graph, node: rdflib.term.Node) -> rdflib.term.Node | None:
    return g.value(node, S.path)


def _shapes_in(arg: Any) -> list[Shape]:
    if isinstance(arg, Shape):
        return [arg]
    if isinstance(arg, list):
        return [a for a in arg if isinstance(a, Shape)]
    if isinstance(arg, tuple) and arg and isinstance(arg[0], Shape):
        return [arg[0]]
    return []
