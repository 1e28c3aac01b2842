"""Validate entries against the SHACL shapes, with the store as context, for people and tools.

One entry: its quads (blank nodes skolemised) plus its context (``context.py``), indexed
in memory, checked by the shapes compiled once (``shapes.py``, ``engine.py``,
``sparql.py``). It reports exactly what pyshacl reports when run the way coopgraph always
ran it on an entry (``reference.py``; tests/test_validate_equivalence.py holds the two
together). Shapes the compiled path does not implement are checked by pyshacl.

:meth:`Validator.validate_many` validates a batch with one context query;
:meth:`Validator.validate_store` validates the whole store (every target of every shape).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
import rdflib

from coopgraph.parse import parse_file
from coopgraph.rdfbridge import graph_of, to_rdflib
from coopgraph.store.base import Solutions, Store
from coopgraph.validate.context import (
    Candidate,
    ContextCache,
    Overlay,
    StoreNeeded,
    Triple,
    close_types,
    fetch,
    lateral,
    plain,
    subject_terms,
)
from coopgraph.validate.context import skolemised as as_skolemised
from coopgraph.validate.engine import Data, Evaluation, Result
from coopgraph.validate.reference import Reference, shape_targets, targeting
from coopgraph.validate.report import (
    SEVERITIES,
    Finding,
    Report,
    expand_paths,
    line_of,
    show,
    unskolemise,
)
from coopgraph.validate.results import from_report_graph, report_graph
from coopgraph.validate.shapes import S, ShapeSet
from coopgraph.validate.sparql import SparqlRunner
from coopgraph.vocab import DCTERMS, OWL, RDF, RDFS, SHAPES_GRAPH, SKOS

if TYPE_CHECKING:
    from coopgraph.validate.batch import Overlays

Node = rdflib.term.Node


@dataclass
class ShapeMeta:
    rule: str | None
    messages: dict[str, str]
    parent_rule: str | None = None


class Terms:
    """pyoxigraph → rdflib terms, remembered: the context of entries repeats (labels and
    types of the same organisations, places and concepts)."""

    def __init__(self, limit: int | None = 300_000) -> None:
        self.known: dict[ox.NamedNode | ox.BlankNode | ox.Literal, Node] = {}
        self.limit = limit

    def __call__(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
        found = self.known.get(term)
        if found is None:
            if self.limit is not None and len(self.known) > self.limit:
                self.known.clear()
            found = self.known[term] = to_rdflib(term)
        return found

    def seed(self, nodes: Iterable[Node]) -> Terms:
        """Use these very IRI objects (the shapes' paths, classes…) for the data's: a
        dict lookup then matches by identity, without rdflib's slower ``__eq__``."""
        for node in nodes:
            if isinstance(node, rdflib.URIRef):
                self.known.setdefault(ox.NamedNode(str(node)), node)
        return self

    def index(self, triples: Iterable[Triple]) -> Data:
        """``Data`` of ``triples`` (``Data.add`` and the lookups inlined: a bulk import's
        batch indexes hundreds of thousands of triples)."""
        data = Data()
        out, inv, get = data.out, data.inv, self.known.get
        for s, p, o in triples:
            rs = get(s) or self(s)
            rp = get(p) or self(p)
            ro = get(o) or self(o)
            out.setdefault(rs, {}).setdefault(rp, {})[ro] = None
            inv.setdefault(ro, {}).setdefault(rp, {})[rs] = None
        return data


def as_quads(triples: Iterable[Triple]) -> Iterable[ox.Quad]:
    default = ox.DefaultGraph()
    return (ox.Quad(s, p, o, default) for s, p, o in triples)


class Validator:
    """Validates entries against the shapes held in the store's ``cgg:shapes`` graph.

    Build one per store and reuse it: the shapes are read and compiled once.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.shapes = graph_of(store.quads(SHAPES_GRAPH))
        if len(self.shapes) == 0:
            from coopgraph.errors import StartupError

            raise StartupError("the store holds no shapes (graph cgg:shapes is empty): run load")
        self.meta = self._shape_meta()
        self.version = self._version()
        self.compiled = ShapeSet(self.shapes)
        self.targets = shape_targets(self.shapes)
        self.reference = Reference(self.shapes)
        self.terms = Terms().seed(self._constants())
        #: descriptions and superclasses read from the store, dropped by commits
        self.context = ContextCache(store, describe=lateral(store))

    def _supers(self, classes: set[str]) -> dict[str, set[str]]:
        """Each class's superclasses in the store's ontology (read once per class)."""
        cache = self.context.supers
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
            for found, sup in result.rows:
                if found is not None and sup is not None:
                    cache[found.value].add(sup.value)
        return {c: cache[c] for c in classes}

    def _cached_supers(self, classes: set[str]) -> dict[str, set[str]]:
        """:meth:`_supers` from what was read before only (an offline validation)."""
        cache = self.context.supers
        missing = [c for c in classes if c not in cache]
        if missing:
            raise StoreNeeded(f"{len(missing)} classes without their superclasses")
        return {c: cache[c] for c in classes}

    def _constants(self) -> list[Node]:
        from coopgraph.validate import engine

        found: list[Node] = [engine.TYPE, engine.SUBCLASS, engine.RESOURCE]
        for triple in self.shapes:
            found.extend(triple)
        return found

    def _version(self) -> str:
        info = [str(o) for o in self.shapes.objects(None, rdflib.URIRef(OWL.versionInfo))]
        digest = hashlib.sha256(
            "\n".join(
                sorted(f"{s} {p} {o}" for s, p, o in self.shapes if not isinstance(s, rdflib.BNode))
            ).encode()
        ).hexdigest()[:12]
        return f"{info[0]} ({digest})" if info else digest

    def _shape_meta(self) -> dict[Node, ShapeMeta]:
        g = self.shapes
        ident, message = rdflib.URIRef(DCTERMS.identifier), S.message
        meta: dict[Node, ShapeMeta] = {}
        shapes = set(g.subjects(rdflib.RDF.type, S.NodeShape))
        shapes |= set(g.subjects(rdflib.RDF.type, S.PropertyShape))
        shapes |= set(g.objects(None, S.property)) | set(g.subjects(message, None))
        for shape in shapes:
            parent = g.value(None, S.property, shape)
            parent_rule = g.value(parent, ident) if parent is not None else None
            rule = g.value(shape, ident) or parent_rule
            messages = {
                (m.language or ""): str(m)
                for m in g.objects(shape, message)
                if isinstance(m, rdflib.Literal)
            }
            meta[shape] = ShapeMeta(
                str(rule) if rule is not None else None,
                messages,
                str(parent_rule) if parent_rule is not None else None,
            )
        return meta

    # -- entries -------------------------------------------------------------------------

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
        candidate = Candidate(quads, entry, text, tuple(exclude_graphs), overlay)
        return self.validate_many([candidate])[0]

    def validate_many(
        self, candidates: Sequence[Candidate], *, reference: bool = False
    ) -> list[Report]:
        """Validate a batch of entries with ONE context query to the store.

        Each report is the one :meth:`validate_quads` gives for that entry alone: its
        context is cut from the batch's (its own graphs excluded), so entries of a batch
        do not see each other. Use it for bulk imports.

        :param reference: check every shape with pyshacl, on the full two-hop context,
            as coopgraph did before the compiled path (the yardstick of the equivalence
            tests; slow).
        """
        skolemised = [as_skolemised(c) for c in candidates]
        if reference:  # the yardstick reads everything afresh
            fetched = fetch(self.store, skolemised, None)
        else:
            fetched = fetch(self.store, skolemised, self.compiled.nested_paths, self.context)
        fetched.record_supers(self.context.supers, skolemised)
        return [self._entry(c, fetched.triples_for(c), reference) for c in skolemised]

    def validate_batch(
        self, candidates: Sequence[Candidate], overlays: Overlays,
        unseen: frozenset[str] = frozenset(),
    ) -> list[Report]:
        """The reports :meth:`validate_many` gives when each candidate's overlay is the
        others' statements (``overlays.for_entry``), from one shared index (``batch.py``):
        a bulk import's batches.

        :param overlays: every candidate's quads and the other entries of the batch.
        :param unseen: store graphs every candidate leaves out of its context.
        """
        from coopgraph.validate.batch import validate_batch

        return validate_batch(self, candidates, overlays, unseen)

    def validate_batches(
        self, batches: Iterable[Sequence[Candidate]], overlays: Overlays,
        unseen: frozenset[str] = frozenset(),
    ) -> Iterator[list[Report]]:
        """:meth:`validate_batch` of each batch, in order, the checks in forked children
        on every core (``parallel.py``): a bulk import's batches.

        Close the iterator (``contextlib.closing``) when stopping early: that stops the
        children."""
        from coopgraph.validate.parallel import validate_batches

        return validate_batches(self, batches, overlays, unseen)

    def prefetch(self, candidates: Sequence[Candidate], size: int) -> None:
        """Read the store's context of ``candidates`` now, ``size`` at a time, into the
        validator's cache (the bulk import, before it loads them into the store: the
        queries then return only what was there before; and so that its forked children
        find it there, ``parallel.py``)."""
        if not self.context.describe:  # a remote store: nothing kept to read ahead
            return
        types: set[str] = set()
        rdf_type = RDF.type
        for first in range(0, len(candidates), size):
            chunk = [as_skolemised(c) for c in candidates[first:first + size]]
            fetched = fetch(self.store, chunk, self.compiled.nested_paths, self.context)
            fetched.record_supers(self.context.supers, chunk)
            types |= {
                o.value for stated in fetched.by_subject.values() for _s, p, o, _g in stated
                if p.value == rdf_type and isinstance(o, ox.NamedNode)
            }
        self._supers(types)  # the classes of their context too (an offline validation)

    def _entry(self, candidate: Candidate, context: list[Triple], reference: bool) -> Report:
        triples: list[Triple] = plain(candidate.quads)
        triples += context
        triples += close_types(triples, self._supers)
        data = self.terms.index(triples)
        return self.check(candidate, data, lambda: triples, self.terms, reference)

    def check(
        self,
        candidate: Candidate,
        data: Data,
        triples: Callable[[], Iterable[Triple]],
        terms: Terms,
        reference: bool = False,
    ) -> Report:
        """``candidate``'s report on its data graph ``data`` (``triples``: the same
        triples, for SPARQL and pyshacl when they are needed); ``batch.py`` passes a view
        of a shared index."""
        runner = SparqlRunner(data, lambda: as_quads(triples()))
        results: list[Result] = []
        fallback: set[Node] = set()
        subjects = {terms(s) for s in subject_terms(candidate.quads)}
        evaluations = []
        for shapes, focus in self._plan(data, subjects).items():
            ev = Evaluation(data, runner)
            for node in shapes:
                shape = self.compiled.shapes[node]
                if shape.compiled and not reference:
                    results += ev.top(shape, focus)
                else:
                    fallback.add(node)
            evaluations.append(ev)
        pending = [p for ev in evaluations for p in ev.pending]
        results += runner.run_many(pending)
        if fallback:  # pyshacl checks what is not compiled (shapes.py, module doc)
            checked = self.reference.run_entry(
                graph_of(as_quads(triples())), subjects, self.targets, only=fallback
            )
            results += from_report_graph(checked)
        return self._report([candidate.name], results, data, candidate.text)

    def _plan(self, data: Data, subjects: set[Node]) -> dict[frozenset[Node], set[Node]]:
        """:func:`reference.plan` on the index (same grouping, without an rdflib Graph)."""
        groups: dict[frozenset[Node], set[Node]] = {}
        rdf_type = rdflib.RDF.type
        for node in subjects:
            shapes = targeting(
                self.targets,
                node,
                types=set(data.objects(node, rdf_type)),
                predicates=set(data.out.get(node, {})),
                used_as_object=set(data.inv.get(node, {})),
            )
            if shapes:
                groups.setdefault(shapes, set()).add(node)
        return groups

    # -- the whole store -----------------------------------------------------------------

    def validate_store(
        self, graphs: Iterable[str] | None = None, *, reference: bool = False
    ) -> Report:
        """Validate the whole store: every target of every shape (``whole.py``).

        :param graphs: only these named graphs (plus the inferred types).
        :param reference: check every shape with pyshacl instead (slow: tests only).
        """
        from coopgraph.validate.whole import store_quads

        quads = store_quads(self.store, graphs)
        terms = Terms(limit=None).seed(self._constants())
        data = terms.index(plain(quads))
        runner = SparqlRunner(data, lambda: as_quads(plain(quads)))
        ev = Evaluation(data, runner)
        results: list[Result] = []
        fallback = []
        for shape in self.compiled.top:
            if shape.compiled and not reference:
                results += ev.top(shape, data.focus_nodes(shape))
            else:
                fallback.append(shape.node)
        results += ev.finish()
        if fallback:  # pyshacl checks what is not compiled (shapes.py, module doc)
            results += from_report_graph(self.reference.run(graph_of(quads), None, fallback))
        return self._report(["store"], results, data, None)

    # -- reports -------------------------------------------------------------------------

    def _report(
        self, names: list[str], results: list[Result], data: Data, text: str | None
    ) -> Report:
        labels: dict[Node, str | None] = {}
        findings = []
        for r in (flat for top in results for flat in top.flat()):
            meta = self.meta.get(r.shape)
            messages = dict(meta.messages) if meta and meta.messages else {}
            if not messages:
                messages = {"": str(r.messages[0]) if r.messages else "constraint not met"}
            focus = str(r.focus)
            findings.append(
                Finding(
                    entry=names[0],
                    focus=unskolemise(focus),
                    path=str(r.path) if isinstance(r.path, rdflib.URIRef) else None,
                    value=show(r.value) if r.value is not None else None,
                    rule=meta.rule if meta else None,
                    severity=SEVERITIES.get(str(r.severity), "Violation"),
                    messages=messages,
                    shape=str(r.shape),
                    focus_label=self._label(data, r.focus, labels),
                    line=line_of(text, focus) if text else None,
                    component=str(r.component),
                    parent_rule=meta.parent_rule if meta else None,
                )
            )
        return Report(names, findings, self.version, [functools.partial(report_graph, results)])

    @staticmethod
    def _label(data: Data, node: Node, cache: dict[Node, str | None]) -> str | None:
        if node not in cache:
            found = None
            for pred in (SKOS.prefLabel, RDFS.label):
                for o in data.objects(node, rdflib.URIRef(pred)):
                    found = str(o)
                if found:
                    break
            if found is None:
                found = next(
                    (str(o) for o in data.objects(node, rdflib.URIRef("http://schema.org/title"))),
                    None,
                )
            cache[node] = found
        return cache[node]

    def validate_files(self, paths: Iterable[Path]) -> Report:
        """Validate files; each is one entry. A file that cannot be parsed raises.

        :raises ParseError: a file cannot be read or parsed (the CLI exits 2).
        :raises UnsupportedFormat: unknown extension.
        """
        candidates = []
        for path in expand_paths(paths):
            quads = parse_file(path)
            text = path.read_text("utf-8", errors="replace")
            candidates.append(Candidate(quads, str(path), text))
        report = Report([], [], self.version)
        for one in self.validate_many(candidates):
            report.extend(one)
        return report
