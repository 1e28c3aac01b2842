"""Validate entries against the SHACL shapes, with the store as context, for people and tools.

An entry (a file, a request body, a spreadsheet row) is validated on a small data graph:
the entry's triples, the types its nodes have through the ontology, and the outgoing
triples of every IRI it points at (read from the store, inferences included). The
entry's own subjects are the focus nodes. This keeps one validation flat in the size of
the store (measured figures in benchmarks/README.md) while references to known
organisations and places resolve.

Findings carry the rule's stable ID, severity and messages in fr/en/nl from the shapes
(``dcterms:identifier``, ``sh:severity``, ``sh:message``), never SHACL component names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph

from coopgraph.errors import ParseError
from coopgraph.parse import parse_file
from coopgraph.rdfbridge import graph_of, to_rdflib
from coopgraph.settings import Settings
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import (
    DCTERMS,
    INFERRED_GRAPH,
    OWL,
    PREFIXES,
    RDF,
    RDFS,
    SH,
    SHAPES_GRAPH,
    SKOS,
)

SKOLEM = "urn:coopgraph:bnode:"
#: IRIs → what entries not committed yet say about them (see ``validate_quads``).
Overlay = Callable[[set[str]], list[ox.Triple]]
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
RULES_URL = "https://w3id.org/coopgraph/rules#"

_LABELS = {
    "fr": {
        "entry": "Entrée",
        "ok": "conforme",
        "nok": "non conforme",
        "field": "champ",
        "value": "valeur",
        "line": "ligne",
        "Violation": "erreur",
        "Warning": "avertissement",
        "Info": "conseil",
        "rule": "règle",
        "summary": "{n} erreur(s), {w} avertissement(s), {i} conseil(s) — formes {v}",
    },
    "en": {
        "entry": "Entry",
        "ok": "conforms",
        "nok": "does not conform",
        "field": "field",
        "value": "value",
        "line": "line",
        "Violation": "error",
        "Warning": "warning",
        "Info": "advice",
        "rule": "rule",
        "summary": "{n} error(s), {w} warning(s), {i} advice — shapes {v}",
    },
    "nl": {
        "entry": "Invoer",
        "ok": "conform",
        "nok": "niet conform",
        "field": "veld",
        "value": "waarde",
        "line": "regel",
        "Violation": "fout",
        "Warning": "waarschuwing",
        "Info": "advies",
        "rule": "regel",
        "summary": "{n} fout(en), {w} waarschuwing(en), {i} advies — vormen {v}",
    },
}


def compact(iri: str) -> str:
    """``https://w3id.org/coopgraph/id/org/x`` → ``cgid:org/x`` using the known prefixes."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best = ns
            name = prefix
    return f"{name}:{iri[len(best) :]}" if best else iri


@dataclass
class Finding:
    """One problem found in an entry, ready to be told to a person."""

    entry: str
    focus: str
    path: str | None
    value: str | None
    rule: str | None
    severity: str
    messages: dict[str, str]
    shape: str
    focus_label: str | None = None
    line: int | None = None
    component: str | None = None
    #: the rule ID of the node shape holding this property shape (an umbrella rule)
    parent_rule: str | None = None

    def message(self, lang: str) -> str:
        for candidate in (lang, "en", "fr", "nl", ""):
            if candidate in self.messages:
                return self.messages[candidate]
        return next(iter(self.messages.values()), "")

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        return {
            "entry": self.entry,
            "line": self.line,
            "focus": self.focus,
            "focusLabel": self.focus_label,
            "path": self.path,
            "value": self.value,
            "rule": self.rule,
            "parentRule": self.parent_rule,
            "severity": self.severity,
            "message": self.message(lang),
            "messages": self.messages,
            "guidance": RULES_URL + self.rule if self.rule else None,
            "shape": self.shape,
        }


@dataclass
class Report:
    """The outcome of validating one or more entries."""

    entries: list[str]
    findings: list[Finding] = field(default_factory=list)
    shapes_version: str = ""
    graphs: list[rdflib.Graph] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.findings)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def extend(self, other: Report) -> None:
        self.entries.extend(other.entries)
        self.findings.extend(other.findings)
        self.graphs.extend(other.graphs)
        self.shapes_version = other.shapes_version or self.shapes_version

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "shapesVersion": self.shapes_version,
            "entries": self.entries,
            "violations": self.count("Violation"),
            "warnings": self.count("Warning"),
            "infos": self.count("Info"),
            "results": [f.to_dict(lang) for f in self.findings],
        }

    def to_turtle(self) -> str:
        """The standard sh:ValidationReport(s), one per entry, as Turtle."""
        merged = rdflib.Graph()
        for prefix, ns in PREFIXES.items():
            merged.bind(prefix, ns)
        for graph in self.graphs:
            merged += graph
        return merged.serialize(format="turtle")

    def render(self, fmt: str = "text", *, lang: str = "fr") -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(lang), ensure_ascii=False, indent=2)
        if fmt == "turtle":
            return self.to_turtle()
        return self.to_text(lang)

    def to_text(self, lang: str = "fr") -> str:
        words = _LABELS.get(lang, _LABELS["en"])
        lines: list[str] = []
        for entry in self.entries:
            mine = [f for f in self.findings if f.entry == entry]
            bad = any(f.severity == "Violation" for f in mine)
            lines.append(f"{words['entry']} {entry} : {words['nok'] if bad else words['ok']}")
            for f in sorted(mine, key=lambda f: (f.line or 0, f.focus, f.rule or "")):
                where = f"{words['line']} {f.line}, " if f.line else ""
                who = (
                    f"« {f.focus_label} » ({compact(f.focus)})"
                    if f.focus_label
                    else compact(f.focus)
                )
                lines.append(f"  ✗ [{f.rule or '?'}] {words[f.severity]} — {where}{who}")
                lines.append(f"      {f.message(lang)}")
                detail = []
                if f.path:
                    detail.append(f"{words['field']} {compact(f.path)}")
                if f.value:
                    detail.append(f"{words['value']} {f.value}")
                if detail:
                    lines.append("      (" + ", ".join(detail) + ")")
                if f.rule:
                    lines.append(f"      {words['rule']} : {RULES_URL}{f.rule}")
        lines.append(
            words["summary"].format(
                n=self.count("Violation"),
                w=self.count("Warning"),
                i=self.count("Info"),
                v=self.shapes_version,
            )
        )
        return "\n".join(lines)


@dataclass
class _ShapeMeta:
    rule: str | None
    messages: dict[str, str]
    parent_rule: str | None = None


_QUERY_CACHE_SIZE = 512
_query_cache_installed = False


def _install_query_cache() -> None:
    """Cache rdflib's parsed and translated SPARQL queries by text.

    pyshacl evaluates SHACL-SPARQL constraints (shapes/components.ttl) by handing rdflib
    the same query text for every focus node, and rdflib parses it each time with
    pyparsing: 75 % of one entry's validation (profiled: benchmarks/README.md). A
    translated query is what ``rdflib.plugins.sparql.prepareQuery`` returns for reuse, so
    caching it changes nothing but the time.
    """
    global _query_cache_installed
    if _query_cache_installed:
        return
    import functools

    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query

    @functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)
    def translated(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Any:
        return processor.translateQuery(processor.parseQuery(text), base, dict(namespaces))

    def query(
        self: Any,
        strOrQuery: Any,
        initBindings: Any = None,
        initNs: Any = None,
        base: str | None = None,
        DEBUG: bool = False,
    ) -> Any:  # noqa: N803
        if isinstance(strOrQuery, str):
            namespaces = tuple(sorted((k, str(v)) for k, v in (initNs or {}).items()))
            strOrQuery = translated(strOrQuery, base, namespaces)
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    _query_cache_installed = True


class Validator:
    """Validates entries against the shapes held in the store's ``cgg:shapes`` graph.

    Build one per store and reuse it: the shapes are read and prepared once.
    """

    def __init__(self, store: Store) -> None:
        _install_query_cache()
        self.store = store
        self.shapes = graph_of(store.quads(SHAPES_GRAPH))
        if len(self.shapes) == 0:
            from coopgraph.errors import StartupError

            raise StartupError("the store holds no shapes (graph cgg:shapes is empty): run load")
        self._shapes_graph: ShapesGraph | None = None
        self._target_index: dict[rdflib.term.Node, dict[str, set[rdflib.term.Node]]] | None = None
        self.meta = self._shape_meta()
        self.version = self._version()
        self._super_cache: dict[str, set[str]] = {}

    def _version(self) -> str:
        info = [str(o) for o in self.shapes.objects(None, rdflib.URIRef(OWL.versionInfo))]
        digest = hashlib.sha256(
            "\n".join(
                sorted(f"{s} {p} {o}" for s, p, o in self.shapes if not isinstance(s, rdflib.BNode))
            ).encode()
        ).hexdigest()[:12]
        return f"{info[0]} ({digest})" if info else digest

    def _shape_meta(self) -> dict[rdflib.term.Node, _ShapeMeta]:
        g = self.shapes
        ident = rdflib.URIRef(DCTERMS.identifier)
        message = rdflib.URIRef(SH.message)
        prop = rdflib.URIRef(SH.property)
        meta: dict[rdflib.term.Node, _ShapeMeta] = {}
        shapes = set(g.subjects(rdflib.RDF.type, rdflib.URIRef(SH.NodeShape)))
        shapes |= set(g.subjects(rdflib.RDF.type, rdflib.URIRef(SH.PropertyShape)))
        shapes |= set(g.objects(None, prop)) | set(g.subjects(message, None))
        for shape in shapes:
            parent = g.value(None, prop, shape)
            parent_rule = g.value(parent, ident) if parent is not None else None
            rule = g.value(shape, ident) or parent_rule
            messages = {
                (m.language or ""): str(m)
                for m in g.objects(shape, message)
                if isinstance(m, rdflib.Literal)
            }
            meta[shape] = _ShapeMeta(
                str(rule) if rule is not None else None,
                messages,
                str(parent_rule) if parent_rule is not None else None,
            )
        return meta

    # -- context -------------------------------------------------------------------------

    def _context(
        self,
        quads: Sequence[ox.Quad],
        exclude_graphs: Iterable[str] = (),
        overlay: Overlay | None = None,
    ) -> list[ox.Triple]:
        """Types (through the ontology) of the entry's nodes, and what the rest of the store
        asserts about every IRI the entry names and about the IRIs those statements point at
        (its own graphs excluded, so a replacement is checked against the others, not
        against its previous version). Bounded by the entry's neighbourhood, not the store.

        ``overlay`` adds what the other entries of the same import say about those IRIs
        (entries not committed yet, see :mod:`coopgraph.bulk`). Every type found is closed
        through the ontology's class hierarchy, so the context does not depend on
        ``cgg:inferred`` being up to date (a batched import rebuilds it at the end)."""
        named = {
            t.value
            for q in quads
            for t in (q.subject, q.object)
            if isinstance(t, ox.NamedNode) and not t.value.startswith(SKOLEM)
        } - {q.object.value for q in quads if q.predicate.value == RDF.type}
        excluded = set(exclude_graphs) | {
            q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)
        }
        # Two hops: what the store says about the entry's IRIs, then about the IRIs those
        # statements point at (so sh:class / sh:node checks on referenced nodes resolve).
        triples: list[ox.Triple] = []
        seen: set[str] = set()
        for _hop in range(2):
            todo = named - seen
            if not todo:
                break
            seen |= todo
            hop = self._describe(todo, excluded)
            if overlay is not None:
                hop += overlay(todo)
            triples += hop
            named = {
                t.object.value
                for t in hop
                if isinstance(t.object, ox.NamedNode) and t.predicate.value != RDF.type
            }
        typed = [(q.subject, q.object) for q in quads if q.predicate.value == RDF.type]
        typed += [(t.subject, t.object) for t in triples if t.predicate.value == RDF.type]
        supers = self._supers({o.value for _, o in typed if isinstance(o, ox.NamedNode)})
        rdf_type = ox.NamedNode(RDF.type)
        for subject, cls in typed:
            for sup in supers.get(cls.value, ()):
                triples.append(ox.Triple(subject, rdf_type, ox.NamedNode(sup)))
        return triples

    def _supers(self, classes: set[str]) -> dict[str, set[str]]:
        """Each class's superclasses in the store's ontology (read once per class)."""
        cache = self._super_cache
        missing = sorted(c for c in classes if c not in cache)
        if missing:
            values = " ".join(f"<{iri}>" for iri in missing)
            result = self.store.query(
                f"SELECT DISTINCT ?c ?super WHERE {{ VALUES ?c {{ {values} }} "
                # `?c sub ?x . ?x sub* ?super`, not `?c sub+ ?super`: Virtuoso refuses a
                # transitive path whose start is bound only by VALUES.
                f"?c <{RDFS.subClassOf}> ?x . ?x <{RDFS.subClassOf}>* ?super "
                f"FILTER(isIRI(?super)) }}"
            )
            assert isinstance(result, Solutions)
            for c in missing:
                cache[c] = set()
            for c, sup in result.rows:
                cache[c.value].add(sup.value)  # type: ignore[union-attr]
        return {c: cache[c] for c in classes}

    def _describe(self, iris: set[str], excluded: set[str]) -> list[ox.Triple]:
        """Asserted outgoing triples of ``iris`` in every graph but ``excluded``, plus their
        inferred types. Other inferred triples are left out: a country's inferred
        ``cg:contains`` closure grows with the store, and validation must not."""
        values = " ".join(f"<{iri}>" for iri in sorted(iris))
        skip = ", ".join(f"<{g}>" for g in sorted(excluded | {INFERRED_GRAPH}))
        result = self.store.query(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} "
            f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g NOT IN ({skip})) }} UNION "
            f"{{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} FILTER(?p = <{RDF.type}>) }} }}"
        )
        assert isinstance(result, Solutions)
        return [ox.Triple(*row) for row in result.rows]  # type: ignore[misc]

    # -- validation ----------------------------------------------------------------------

    def validate_quads(
        self,
        quads: Sequence[ox.Quad],
        *,
        entry: str,
        text: str | None = None,
        exclude_graphs: Iterable[str] = (),
        overlay: Overlay | None = None,
    ) -> Report:
        """Validate one entry.

        :param quads: the entry's quads; their named graphs are left out of the context.
        :param entry: its name in the report (file path, graph IRI, ``row 3``).
        :param text: the entry's source text, used to point findings at a line.
        :param exclude_graphs: more graphs to leave out of the context (the graph an entry
            replaces).
        :param overlay: IRIs → triples about them from entries not in the store yet (the
            other entries of a bulk import), added to the context.
        """
        skolem = [_skolemise(q) for q in quads]
        data = graph_of(skolem)
        for triple in self._context(skolem, exclude_graphs, overlay):
            data.add(
                (to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object))
            )  # type: ignore[arg-type]
        results = rdflib.Graph()
        for shapes, focus in self._plan(data, skolem).items():
            results += self._run(data, sorted(focus), sorted(shapes))
        results = _one_report(results)
        labels = {str(s): str(o) for s, o in data.subject_objects(rdflib.URIRef(RDFS.label))} | {
            str(s): str(o) for s, o in data.subject_objects(rdflib.URIRef(SKOS.prefLabel))
        }
        for s, o in data.subject_objects(rdflib.URIRef("http://schema.org/title")):
            labels.setdefault(str(s), str(o))
        findings = [
            self._finding(results, node, entry, labels, text)
            for node in results.subjects(rdflib.RDF.type, rdflib.URIRef(SH.ValidationResult))
        ]
        return Report([entry], findings, self.version, [results])

    def _targets(self) -> dict[rdflib.term.Node, dict[str, set[rdflib.term.Node]]]:
        """Each shape that declares targets, with them by kind (computed once)."""
        if self._target_index is None:
            g = self.shapes
            kinds = {
                "class": SH.targetClass,
                "node": SH.targetNode,
                "subjectsOf": SH.targetSubjectsOf,
                "objectsOf": SH.targetObjectsOf,
            }
            index: dict[rdflib.term.Node, dict[str, set[rdflib.term.Node]]] = {}
            for kind, pred in kinds.items():
                for shape, target in g.subject_objects(rdflib.URIRef(pred)):
                    index.setdefault(shape, {k: set() for k in kinds})[kind].add(target)
            self._target_index = index
        return self._target_index

    def _plan(
        self, data: rdflib.Graph, quads: Sequence[ox.Quad]
    ) -> dict[frozenset[rdflib.term.Node], set[str]]:
        """Group the entry's subjects by the set of shapes that target them.

        pyshacl's ``focus_nodes`` alone filters nested value checks too (sh:node, sh:or…)
        and so misses violations; with ``use_shapes`` it applies the focus nodes to the
        given shapes only, which is right when every node of a run is targeted by exactly
        those shapes — hence one run per group.
        """
        subjects = {to_rdflib(q.subject) for q in quads}
        plan: dict[frozenset[rdflib.term.Node], set[str]] = {}
        rdf_type = rdflib.RDF.type
        for node in subjects:
            types = set(data.objects(node, rdf_type))
            preds = set(data.predicates(node, None))
            used_as_object = set(data.predicates(None, node))
            shapes = frozenset(
                shape
                for shape, t in self._targets().items()
                if t["class"] & types
                or node in t["node"]
                or t["subjectsOf"] & preds
                or t["objectsOf"] & used_as_object
            )
            if shapes:
                plan.setdefault(shapes, set()).add(str(node))
        return plan

    def _run(
        self, data: rdflib.Graph, focus: list[str], shapes: list[rdflib.term.Node]
    ) -> rdflib.Graph:
        validator = pyshacl.Validator(
            DataGraph.from_rdflib_graph(data),
            shacl_graph=self.shapes,
            options={
                "inference": "none",
                "focus_nodes": focus,
                "use_shapes": [str(s) for s in shapes],
                "allow_warnings": True,
                "allow_infos": True,
            },
        )
        if self._shapes_graph is None:
            _ = validator.shacl_graph.shapes  # harvest every shape once, for later runs
            self._shapes_graph = validator.shacl_graph
        else:
            validator.shacl_graph = self._shapes_graph
        _conforms, results, _text = validator.run()
        return results

    def _finding(
        self,
        results: rdflib.Graph,
        node: rdflib.term.Node,
        entry: str,
        labels: dict[str, str],
        text: str | None,
    ) -> Finding:
        def val(pred: str) -> rdflib.term.Node | None:
            return results.value(node, rdflib.URIRef(pred))

        shape = val(SH.sourceShape)
        meta = self.meta.get(shape) if shape is not None else None
        focus = str(val(SH.focusNode))
        path = val(SH.resultPath)
        value = val(SH.value)
        severity = SEVERITIES.get(str(val(SH.resultSeverity)), "Violation")
        messages = dict(meta.messages) if meta and meta.messages else {}
        if not messages:
            messages = {"": str(val(SH.resultMessage) or "constraint not met")}
        component = val(SH.sourceConstraintComponent)
        return Finding(
            entry=entry,
            focus=_unskolemise(focus),
            path=str(path) if isinstance(path, rdflib.URIRef) else None,
            value=_show(value) if value is not None else None,
            rule=meta.rule if meta else None,
            severity=severity,
            messages=messages,
            shape=str(shape),
            focus_label=labels.get(focus),
            line=_line_of(text, focus) if text else None,
            component=str(component) if component is not None else None,
            parent_rule=meta.parent_rule if meta else None,
        )

    def validate_files(self, paths: Iterable[Path]) -> Report:
        """Validate files; each is one entry. A file that cannot be parsed raises.

        :raises ParseError: a file cannot be read or parsed (the CLI exits 2).
        :raises UnsupportedFormat: unknown extension.
        """
        report = Report([], [], self.version)
        for path in expand_paths(paths):
            quads = parse_file(path)
            text = path.read_text("utf-8", errors="replace")
            report.extend(self.validate_quads(quads, entry=str(path), text=text))
        return report


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories replaced by the RDF files under them (sorted)."""
    from coopgraph.formats import RDF_FORMATS

    extensions = {"." + e for f in RDF_FORMATS for e in f.extensions}
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in extensions)
            if not found:  # "0 errors" would read as "valid" (issue 16)
                raise ParseError(
                    "no RDF file in this folder (expected "
                    + ", ".join(sorted(extensions)) + ")",
                    source=str(path),
                )
            out += found
        else:
            out.append(path)
    return out


def validate_files(
    store: Store, paths: Sequence[Path], *, settings: Settings | None = None
) -> Report:
    """Validate entry files against the shapes in ``store`` (see :class:`Validator`)."""
    return Validator(store).validate_files(paths)


def _one_report(results: rdflib.Graph) -> rdflib.Graph:
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


def _skolemise(q: ox.Quad) -> ox.Quad:
    def sk(t: Any) -> Any:
        return ox.NamedNode(SKOLEM + t.value) if isinstance(t, ox.BlankNode) else t

    return ox.Quad(sk(q.subject), q.predicate, sk(q.object), q.graph_name)


def _unskolemise(iri: str) -> str:
    return "_:" + iri[len(SKOLEM) :] if iri.startswith(SKOLEM) else iri


def _show(term: rdflib.term.Node) -> str:
    if isinstance(term, rdflib.URIRef):
        return compact(_unskolemise(str(term)))
    if isinstance(term, rdflib.Literal):
        return term.n3()
    return str(term)


def _line_of(text: str, iri: str) -> int | None:
    """The first line of ``text`` that names ``iri`` (full or prefixed form)."""
    if iri.startswith(SKOLEM):
        return None
    candidates = [f"<{iri}>"]
    short = compact(iri)
    if short != iri:
        candidates.append(short)
        local = short.split(":", 1)[1]
        candidates.append(":" + local)
        candidates.append(f'"{iri}"')
    for number, line in enumerate(text.splitlines(), start=1):
        for candidate in candidates:
            if re.search(re.escape(candidate) + r"(?![\w/-])", line):
                return number
    return None


__all__ = ["Finding", "Report", "Validator", "validate_files"]
