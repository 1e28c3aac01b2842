"""The compiled validation path: shapes (``shapes.py``) evaluated over an in-memory index.

Each constraint follows pyshacl 0.40's own code (``pyshacl/constraints/core``), including
what a report holds (value or not, path, component) and how a nested shape "conforms"
(a Warning/Info shape always does; sh:node fails on any nested report). The index holds
rdflib terms so that literal values, equality and comparisons are rdflib's, as in pyshacl.

SHACL-SPARQL checks of top-level shapes are collected while walking and run afterwards,
batched (``sparql.py``); inside nested shapes, where conformance is needed at once, they
run immediately.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

import rdflib
from pyshacl.rdfutil.compare import compare_literal
from rdflib import RDF, RDFS, BNode, Literal, URIRef

from coopgraph.validate.shapes import S, Shape, SparqlCheck

ALLOWED = {S.Warning, S.Info}  # allow_warnings and allow_infos, as coopgraph runs pyshacl
XSD = rdflib.XSD
Node = rdflib.term.Node
# rdflib builds a new URIRef on each namespace attribute access: these are read once
TYPE, SUBCLASS, RESOURCE = RDF.type, RDFS.subClassOf, RDFS.Resource
LANG_STRING, XSD_STRING, RDFS_LITERAL, RDFS_DATATYPE = (
    RDF.langString,
    XSD.string,
    RDFS.Literal,
    RDFS.Datatype,
)
_NO_VALUES: dict[Node, None] = {}


@dataclass(frozen=True)
class Result:
    """One sh:ValidationResult, with the fields pyshacl writes."""

    focus: Node
    path: Node | None
    value: Node | None
    shape: Node
    component: URIRef
    severity: URIRef
    messages: tuple[Literal, ...] = ()
    source_constraint: Node | None = None
    #: the nested shape's results behind a sh:node failure (pyshacl's sh:detail)
    details: tuple[Result, ...] = ()

    def flat(self) -> list[Result]:
        """This result and its details, recursively (each is a sh:ValidationResult)."""
        return [self] + [d for detail in self.details for d in detail.flat()]


class Data:
    """Triples indexed by subject and by object, as ordered sets."""

    def __init__(self) -> None:
        self.out: dict[Node, dict[Node, dict[Node, None]]] = {}
        self.inv: dict[Node, dict[Node, dict[Node, None]]] = {}
        self._supers: dict[Node, set[Node]] | None = None

    def add(self, s: Node, p: Node, o: Node) -> None:
        self.out.setdefault(s, {}).setdefault(p, {})[o] = None
        self.inv.setdefault(o, {}).setdefault(p, {})[s] = None

    def objects(self, s: Node, p: Node) -> dict[Node, None]:
        return self.out.get(s, _NO_VALUES).get(p, _NO_VALUES)  # type: ignore[return-value]

    def subjects(self, p: Node, o: Node) -> dict[Node, None]:
        return self.inv.get(o, _NO_VALUES).get(p, _NO_VALUES)  # type: ignore[return-value]

    def supers(self, cls: Node) -> set[Node]:
        """``cls`` and its rdfs:subClassOf closure within the data (pyshacl's view)."""
        if self._supers is None:
            self._supers = {}
        if cls not in self._supers:
            seen, todo = {cls}, [cls]
            while todo:
                for sup in self.objects(todo.pop(), SUBCLASS):
                    if sup not in seen:
                        seen.add(sup)
                        todo.append(sup)
            self._supers[cls] = seen
        return self._supers[cls]

    def is_instance(self, node: Node, cls: Node) -> bool:
        return any(t == cls or cls in self.supers(t) for t in self.objects(node, TYPE))

    def instances(self, cls: Node) -> set[Node]:
        """Nodes typed ``cls`` or a subclass of it in the data (sh:targetClass)."""
        classes, todo = {cls}, [cls]
        while todo:
            for sub in self.subjects(SUBCLASS, todo.pop()):
                if sub not in classes:
                    classes.add(sub)
                    todo.append(sub)
        return {n for c in classes for n in self.subjects(TYPE, c)}

    def focus_nodes(self, shape: Shape) -> set[Node]:
        """pyshacl's ``Shape.focus_nodes`` over this data."""
        found: set[Node] = set(shape.targets["node"])
        for cls in shape.targets["class"]:
            found |= self.instances(cls)
        for p in shape.targets["subjectsOf"]:
            found |= {s for s, preds in self.out.items() if p in preds}
        for p in shape.targets["objectsOf"]:
            found |= {o for o, preds in self.inv.items() if p in preds}
        return found


#: A SHACL-SPARQL check left for later: (shape, check, focus node, value nodes).
Pending = tuple[Shape, SparqlCheck, Node, list[Node]]


class SparqlChecks(Protocol):
    """What runs SHACL-SPARQL checks for an :class:`Evaluation` (``sparql.SparqlRunner``;
    a protocol, so that this module does not import the one that imports it)."""

    def run_many(self, pending: Sequence[Pending]) -> list[Result]: ...


class Evaluation:
    """One walk of compiled shapes over ``data``.

    :param sparql: runs SHACL-SPARQL checks (``sparql.SparqlRunner``).
    """

    def __init__(self, data: Data, sparql: SparqlChecks) -> None:
        self.data = data
        self.sparql = sparql
        self.pending: list[Pending] = []
        self.depth = 0  # > 0 inside a shape whose conformance is needed (sh:node, sh:or…)

    def top(self, shape: Shape, focus: Iterable[Node]) -> list[Result]:
        """Results of ``shape`` on ``focus``; SPARQL checks left in ``pending``."""
        return self.validate(shape, list(focus))[1]

    def finish(self) -> list[Result]:
        """Run the collected SPARQL checks, batched."""
        pending, self.pending = self.pending, []
        return self.sparql.run_many(pending)

    def validate(self, shape: Shape, focus: list[Node]) -> tuple[bool, list[Result]]:
        allow = shape.allowed
        results: list[Result] = []
        failed = False
        checks = shape.resolved
        if checks is None:  # a dict lookup by rdflib term costs two Python calls: once
            checks = shape.resolved = [
                (None if isinstance(arg, SparqlCheck) else CHECKS[param], arg)
                for param, arg in shape.checks
            ]
        for f in focus:
            values = [f] if shape.path is None else list(self.data.objects(f, shape.path))
            for check, arg in checks:
                if check is None:
                    if not self.depth:
                        self.pending.append((shape, arg, f, values))
                        continue
                    found = self.sparql.run_many([(shape, arg, f, values)])
                    results.extend(found)
                    if arg.kind == "constraint":  # a core parameter (sh:sparql)
                        if found and not allow:
                            failed = failed or not all(_allowed(r) for r in found)
                    else:  # custom components ignore the allowed severities (pyshacl)
                        failed = failed or bool(found)
                    continue
                ok, found = check(self, shape, f, values, arg)
                results.extend(found)
                if not ok and not allow:
                    failed = failed or not all(_allowed(r) for r in found)
        return not failed, results

    def conforms(self, shape: Shape, node: Node) -> tuple[bool, list[Result]]:
        self.depth += 1
        try:
            return self.validate(shape, [node])
        finally:
            self.depth -= 1


def _allowed(r: Result) -> bool:
    return r.severity in ALLOWED


def result(
    shape: Shape,
    focus: Node,
    component: str,
    value: Node | None = None,
    path: Node | None = None,
    source: Node | None = None,
    details: tuple[Result, ...] = (),
) -> Result:
    """A result of ``shape`` on ``focus``; ``component``: a local name in ``sh:`` (a core
    component) or the IRI of a SPARQL-based one; ``path``: the shape's unless given."""
    return Result(
        focus,
        path if path is not None else shape.path,
        value,
        shape.node,
        component if isinstance(component, URIRef) else URIRef(str(S) + component),
        shape.severity,
        shape.messages,
        source,
        details,
    )


def _class(ev: Evaluation, shape: Shape, f: Node, values: list[Node], cls: Node) -> Any:
    bad = [v for v in values if isinstance(v, Literal) or not ev.data.is_instance(v, cls)]
    return not bad, [result(shape, f, "ClassConstraintComponent", v) for v in bad]


def _datatype_ok(v: Node, rule: Node) -> bool:
    if not isinstance(v, Literal):
        return False
    if v.datatype == rule:
        if getattr(v, "ill_typed", None) is True:
            return False
        return _actual(v, rule)
    if rule == RDFS_LITERAL:
        return True
    if rule == RDFS_DATATYPE and v.datatype:
        return True
    if v.datatype is None and v.language is None and rule == XSD_STRING:
        return _actual(v, rule)
    if rule == LANG_STRING and v.language:
        return _actual(v, rule)
    return False


_PYTHON_TYPES: dict[Node, Any] = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: int,
    XSD.float: float,
    XSD.decimal: Decimal,
    XSD.boolean: bool,
    XSD.date: date,
    XSD.time: time,
    XSD.dateTime: datetime,
}


def _actual(v: Literal, rule: Node) -> bool:
    kind = _PYTHON_TYPES.get(rule)
    return isinstance(v.value, kind) if kind is not None else True


def _datatype(ev: Evaluation, shape: Shape, f: Node, values: list[Node], rule: Node) -> Any:
    bad = [v for v in values if not _datatype_ok(v, rule)]
    return not bad, [result(shape, f, "DatatypeConstraintComponent", v) for v in bad]


_KINDS = {
    BNode: (S.BlankNode, S.BlankNodeOrLiteral, S.BlankNodeOrIRI),
    Literal: (S.Literal, S.BlankNodeOrLiteral, S.IRIOrLiteral),
    URIRef: (S.IRI, S.IRIOrLiteral, S.BlankNodeOrIRI),
}


def _node_kind(ev: Evaluation, shape: Shape, f: Node, values: list[Node], rule: Node) -> Any:
    bad = [v for v in values if rule not in _KINDS.get(type(v), ())]
    return not bad, [result(shape, f, "NodeKindConstraintComponent", v) for v in bad]


def _min_count(ev: Evaluation, shape: Shape, f: Node, values: list[Node], n: int) -> Any:
    if len(values) >= n:
        return True, []
    return False, [result(shape, f, "MinCountConstraintComponent")]


def _max_count(ev: Evaluation, shape: Shape, f: Node, values: list[Node], n: int) -> Any:
    if len(values) <= n:
        return True, []
    return False, [result(shape, f, "MaxCountConstraintComponent")]


def _range(component: str, passes: Any) -> Any:
    def check(ev: Evaluation, shape: Shape, f: Node, values: list[Node], bound: Any) -> Any:
        bound_is_string = isinstance(bound.value, str)
        bad = []
        for v in values:
            flag = False
            if isinstance(v, Literal) and isinstance(v.value, str) == bound_is_string:
                try:
                    flag = passes(compare_literal(v, bound))  # type: ignore[no-untyped-call]
                except (TypeError, NotImplementedError):
                    flag = False
            if not flag:
                bad.append(v)
        return not bad, [result(shape, f, component, v) for v in bad]

    return check


def _as_string(v: Node) -> str:
    if (
        isinstance(v, Literal)
        and v.value is not None
        and v.datatype
        in (
            None,
            LANG_STRING,
            XSD_STRING,
        )
    ):
        return str(v.value)
    return str(v)


def _pattern(ev: Evaluation, shape: Shape, f: Node, values: list[Node], regex: Any) -> Any:
    bad = [v for v in values if isinstance(v, BNode) or not regex.search(_as_string(v))]
    return not bad, [result(shape, f, "PatternConstraintComponent", v) for v in bad]


def _in(ev: Evaluation, shape: Shape, f: Node, values: list[Node], allowed: set[Node]) -> Any:
    bad = [v for v in values if v not in allowed]
    return not bad, [result(shape, f, "InConstraintComponent", v) for v in bad]


def _has_value(ev: Evaluation, shape: Shape, f: Node, values: list[Node], wanted: Node) -> Any:
    if any(v == wanted for v in values):
        return True, []
    return False, [result(shape, f, "HasValueConstraintComponent")]


def _node(ev: Evaluation, shape: Shape, f: Node, values: list[Node], other: Shape) -> Any:
    found = []
    for v in values:
        ok, nested = ev.conforms(other, v)
        if not ok or nested:
            found.append(result(shape, f, "NodeConstraintComponent", v, details=tuple(nested)))
    return not found, found


def _property(ev: Evaluation, shape: Shape, f: Node, values: list[Node], prop: Shape) -> Any:
    ok, found = True, []
    for v in values:
        conform, nested = ev.validate(prop, [v])
        ok = ok and conform
        found.extend(nested)
    return ok, found


def _or(ev: Evaluation, shape: Shape, f: Node, values: list[Node], members: list[Shape]) -> Any:
    bad = [v for v in values if not any([ev.conforms(m, v)[0] for m in members])]
    return not bad, [result(shape, f, "OrConstraintComponent", v) for v in bad]


def _and(ev: Evaluation, shape: Shape, f: Node, values: list[Node], members: list[Shape]) -> Any:
    bad = [v for v in values if not all([ev.conforms(m, v)[0] for m in members])]
    return not bad, [result(shape, f, "AndConstraintComponent", v) for v in bad]


def _not(ev: Evaluation, shape: Shape, f: Node, values: list[Node], other: Shape) -> Any:
    bad = [v for v in values if ev.conforms(other, v)[0]]
    return not bad, [result(shape, f, "NotConstraintComponent", v) for v in bad]


def _qualified(ev: Evaluation, shape: Shape, f: Node, values: list[Node], arg: Any) -> Any:
    other, high, low = arg
    if not values and (low is None or low < 1):
        return True, []
    count = sum(1 for v in values if ev.conforms(other, v)[0])
    found = []
    if high is not None and count > high:
        found.append(result(shape, f, "QualifiedMaxCountConstraintComponent"))
    if low is not None and count < low:
        found.append(result(shape, f, "QualifiedMinCountConstraintComponent"))
    return not found, found


def _comparable(node: Node) -> tuple[bool, Any]:
    if isinstance(node, BNode):
        raise ValueError("Cannot use sh:lessThanOrEquals to compare a BlankNode.")
    if isinstance(node, URIRef):
        return True, str(node)
    if isinstance(node, Literal) and isinstance(node.value, str):
        return True, node.value
    return False, node


def _less_or_equal(ev: Evaluation, shape: Shape, f: Node, values: list[Node], other: Node) -> Any:
    found = []
    for v in set(values):
        v_str, v_cmp = _comparable(v)
        for o in set(ev.data.objects(f, other)):
            o_str, o_cmp = _comparable(o)
            if v_str != o_str or not _at_most(v_cmp, o_cmp):
                found.append(result(shape, f, "LessThanOrEqualsConstraintComponent", v))
    return not found, found


def _at_most(value: Any, other: Any) -> bool:
    """``value <= other``; values that cannot be compared are not (SHACL). rdflib has no
    ``<=`` between literals it has no Python value for (xsd:gYear since rdflib 7.6, once
    owlrl no longer leaks its conversions): there, as pyshacl, equal or not greater."""
    try:
        return bool(value <= other)
    except TypeError:
        try:
            return bool(value.eq(other)) or not bool(value > other)
        except (TypeError, AttributeError):
            return False


def _disjoint(ev: Evaluation, shape: Shape, f: Node, values: list[Node], other: Node) -> Any:
    common = set(values) & set(ev.data.objects(f, other))
    return not common, [result(shape, f, "DisjointConstraintComponent", v) for v in common]


def _closed(ev: Evaluation, shape: Shape, f: Node, values: list[Node], arg: Any) -> Any:
    closed, ignored, paths = arg
    if not closed:
        return True, []
    found = []
    for v in values:
        for p, objects in ev.data.out.get(v, {}).items():
            if p in ignored or p in paths:
                continue
            for o in objects:
                if p != TYPE or o != RESOURCE:
                    found.append(result(shape, f, "ClosedConstraintComponent", o, path=p))
    return not found, found


def _unique_lang(ev: Evaluation, shape: Shape, f: Node, values: list[Node], on: bool) -> Any:
    if not on:
        return False, []
    seen: set[str] = set()
    duplicates: set[str] = set()
    for v in values:
        if isinstance(v, Literal) and v.language:
            low = str(v.language).lower()
            (duplicates if low in seen else seen).add(low)
    return not duplicates, [result(shape, f, "UniqueLangConstraintComponent") for _ in duplicates]


CHECKS: dict[Node, Any] = {
    S["class"]: _class,
    S.datatype: _datatype,
    S.nodeKind: _node_kind,
    S.minCount: _min_count,
    S.maxCount: _max_count,
    S.minInclusive: _range("MinInclusiveConstraintComponent", lambda c: c >= 0),
    S.maxInclusive: _range("MaxInclusiveConstraintComponent", lambda c: c <= 0),
    S.minExclusive: _range("MinExclusiveConstraintComponent", lambda c: c > 0),
    S.maxExclusive: _range("MaxExclusiveConstraintComponent", lambda c: c < 0),
    S.pattern: _pattern,
    S["in"]: _in,
    S.hasValue: _has_value,
    S.node: _node,
    S.property: _property,
    S["or"]: _or,
    S["and"]: _and,
    S["not"]: _not,
    S.qualifiedValueShape: _qualified,
    S.lessThanOrEquals: _less_or_equal,
    S.disjoint: _disjoint,
    S.closed: _closed,
    S.uniqueLang: _unique_lang,
}
