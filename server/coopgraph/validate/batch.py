"""Many entries validated from ONE shared index: each gets the report it would get alone.

A bulk import validates thousands of entries, each with the store and the other entries
of its batch as context (:meth:`Validator.validate_many` with an overlay per entry). An
entry's data graph (``context.py``) is made of *whole descriptions*: every statement,
from the store (its own graphs left out) or from the other entries, about the IRIs it
names and the IRIs those point at, plus its own triples and the superclass types of every
type found. Those descriptions overlap a lot between entries (the same places, concepts,
organisations), so building and filling one index per entry repeats most of the work.

Here the descriptions of every subject any entry of the batch needs are indexed once
(rdflib terms, as the compiled checks want them), and each entry is checked on a
:class:`View` of that index showing only the subjects its own data graph describes: the
same data graph, hence the same report, without an index of its own.

An entry whose own data graph could differ from its view is validated alone, as before:
when the store holds statements in a graph some entry of the batch leaves out (a replaced
entry's old version) about a subject its view shows, or when a blank node of the entry is
described elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import rdflib

from coopgraph.rdfbridge import from_rdflib
from coopgraph.validate.context import (
    Candidate,
    Fetched,
    Overlay,
    Triple,
    close_types,
    fetch,
    needs,
    plain,
    second_hop_gate,
    skolemised,
    subject_terms,
)
from coopgraph.validate.engine import Data
from coopgraph.validate.report import Report

Node = rdflib.term.Node
_NOTHING: dict[Node, Any] = {}

__all__ = ["Overlays", "Prepared", "View", "complete", "judge", "prepare", "validate_batch"]


class Overlays:
    """What the entries of a batch (and ``earlier`` ones, not in the store yet) say about
    each IRI: the overlay of each entry's context is the others' statements.

    :param entries: (graph IRI, quads) of each entry of the batch.
    :param earlier: IRI → triples about it from entries accepted before, not written.
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, Sequence[ox.Quad]]],
        earlier: Mapping[str, Sequence[ox.Triple]] | None = None,
    ) -> None:
        #: subject IRI → (graph, triple) of each statement about it (RDF 1.2 triple terms
        #: left out, as an entry's context leaves them out)
        self.index: dict[str, list[tuple[str | None, Triple]]] = {}
        index = self.index
        for graph, quads in entries:
            for s, p, o in plain(quads):
                if isinstance(s, ox.NamedNode):
                    found = index.get(s.value)
                    if found is None:
                        found = index[s.value] = []
                    found.append((graph, (s, p, o)))
        for iri, triples in (earlier or {}).items():
            index.setdefault(iri, []).extend((None, t) for t in plain(triples))

    def about(self, iri: str, excluded: set[str] | frozenset[str]) -> list[Triple]:
        """The statements about ``iri`` outside the ``excluded`` graphs."""
        return [t for g, t in self.index.get(iri, ()) if g not in excluded]

    def for_entry(self, excluded: Iterable[str]) -> Overlay:
        """The overlay of an entry whose graphs are ``excluded`` (the others' statements)."""
        left_out = frozenset(excluded)

        def describe(iris: set[str]) -> list[ox.Triple]:
            return [ox.Triple(*t) for iri in iris for t in self.about(iri, left_out)]

        return describe


class View(Data):
    """``data`` showing only the statements whose subject is in ``described``: what an
    entry's own index would hold when ``data`` holds every description it needs."""

    def __init__(self, data: Data, described: set[Node]) -> None:
        self.base = data
        self.described = described
        self.out = _Out(data.out, described)  # type: ignore[assignment]
        self.inv = _Inv(data.inv, described)  # type: ignore[assignment]
        self._supers = None

    def add(self, s: Node, p: Node, o: Node) -> None:
        raise TypeError("a view is read-only")

    def objects(self, s: Node, p: Node) -> dict[Node, None]:
        if s in self.described:
            return self.base.objects(s, p)
        return _NOTHING

    def subjects(self, p: Node, o: Node) -> dict[Node, None]:
        found = self.base.subjects(p, o)
        return {s: None for s in found if s in self.described} if found else found

    def triples(self) -> Iterator[Triple]:
        """The view's triples as pyoxigraph terms (for SPARQL checks without a twin)."""
        for s in self.described:
            for p, objects in self.base.out.get(s, _NOTHING).items():
                for o in objects:
                    yield from_rdflib(s), from_rdflib(p), from_rdflib(o)  # type: ignore[misc]


class _Out:
    def __init__(self, out: dict[Node, Any], described: set[Node]) -> None:
        self.out, self.described = out, described

    def get(self, s: Node, default: Any = None) -> Any:
        return self.out.get(s, default) if s in self.described else default


class _Inv:
    def __init__(self, inv: dict[Node, Any], described: set[Node]) -> None:
        self.inv, self.described = inv, described

    def get(self, o: Node, default: Any = None) -> Any:
        found = self.inv.get(o)
        if not found:
            return default
        shown = {}
        for p, subjects in found.items():
            kept = {s: None for s in subjects if s in self.described}
            if kept:
                shown[p] = kept
        return shown or default


def described(
    fetched: Fetched, candidate: Candidate, overlays: Overlays, unseen: frozenset[str]
) -> set[str]:
    """The IRIs whose statements ``candidate``'s data graph holds: :meth:`Fetched.triples_for`
    followed step by step, keeping subjects instead of triples (the store's statements in
    ``unseen`` graphs left out too)."""
    excluded = candidate.excluded
    seen = candidate.named
    hop2: set[str] = set()
    extra: set[str] = set()
    followed = second_hop_gate(candidate, fetched.follow, seen)

    by_subject = fetched.by_subject
    for iri in seen:
        for _s, p, o, g in by_subject.get(iri, ()):
            if g not in excluded and g not in unseen and followed(iri, p, o):
                hop2.add(o.value)
    for iri in seen:
        for _, pred, obj in overlays.about(iri, excluded):
            if followed(iri, pred, obj) and obj.value not in hop2:
                extra.add(obj.value)
    if extra and fetched.more is not None:
        fetched.more(extra)
    return seen | hop2 | extra


@dataclass
class Prepared:
    """A batch with its context read: everything :func:`judge` needs but the store."""

    #: the candidates, skolemised
    entries: list[Candidate]
    #: per entry, the IRIs its data graph describes (its blank subjects included); None:
    #: its data graph may differ from a view of the shared index, it is validated alone
    shown: list[set[str] | None]
    #: the shared index's triples
    triples: list[Triple]


def prepare(
    validator: Any, candidates: Sequence[Candidate], overlays: Overlays,
    unseen: frozenset[str] = frozenset(), *, offline: bool = False,
) -> Prepared:
    """The store's part of :func:`validate_batch`: every read (context, superclasses).

    :param offline: from the validator's cache only (a forked child): raises
        :class:`~coopgraph.validate.context.StoreNeeded` when it lacks something.
    """
    entries = [skolemised(c) for c in candidates]
    fetched = fetch(validator.store, entries, validator.compiled.nested_paths, validator.context,
                    offline=offline)
    if not offline:  # (a child's cache is its own copy)
        fetched.record_supers(validator.context.supers, entries)
    views = [described(fetched, c, overlays, unseen) for c in entries]
    shadowed = set().union(*(c.excluded for c in entries)) if entries else set()
    # subject → graphs of the store statements about it that some entry leaves out
    hidden: dict[str, set[str]] = {}
    wanted = set().union(*views) if views else set()
    triples: list[Triple] = []
    for iri in wanted:
        for s, p, o, g in fetched.by_subject.get(iri, ()):
            if g in unseen:
                continue
            if g in shadowed:
                hidden.setdefault(iri, set()).add(g)
            else:
                triples.append((s, p, o))
        triples += [t for _, t in overlays.index.get(iri, ())]
    shown: list[set[str] | None] = []
    for c, view in zip(entries, views, strict=True):
        blank_subjects = {s.value for s in subject_terms(c.quads)} - c.named
        if blank_subjects:  # triples about its blank nodes (the rest is in ``overlays``)
            triples += [t for t in plain(c.quads) if t[0].value in blank_subjects]
        alone = (hidden and any(hidden.get(iri, set()) - c.excluded for iri in view)) or any(
            fetched.by_subject.get(b) or overlays.index.get(b) for b in blank_subjects
        )
        shown.append(None if alone else view | blank_subjects)
    triples += close_types(triples, validator._cached_supers if offline else validator._supers)
    return Prepared(entries, shown, triples)


def judge(validator: Any, prepared: Prepared) -> list[Report | None]:
    """The reports of ``prepared``'s entries from its shared index (None for those to be
    validated alone): CPU only, the store is not read."""
    terms = type(validator.terms)(limit=None).seed(validator._constants())
    data = terms.index(prepared.triples)
    reports: list[Report | None] = []
    for c, shown in zip(prepared.entries, prepared.shown, strict=True):
        if shown is None:
            reports.append(None)
            continue
        view = View(data, {terms(ox.NamedNode(iri)) for iri in shown})
        reports.append(validator.check(c, view, view.triples, terms))
    return reports


def complete(
    validator: Any, candidates: Sequence[Candidate], reports: Sequence[Report | None],
    overlays: Overlays, unseen: frozenset[str] = frozenset(),
) -> list[Report]:
    """``reports`` with the entries :func:`judge` left out (None) validated alone."""
    done = list(reports)
    alone = [i for i, r in enumerate(done) if r is None]
    if alone:
        entries = [skolemised(candidates[i]) for i in alone]
        for entry in entries:
            needs(entry)
        singles = validator.validate_many([
            Candidate(candidates[i].quads, candidates[i].name, candidates[i].text,
                      (*candidates[i].exclude_graphs, *unseen),
                      overlays.for_entry(entry.excluded))
            for i, entry in zip(alone, entries, strict=True)
        ])
        for i, report in zip(alone, singles, strict=True):
            done[i] = report
    return done  # type: ignore[return-value]


def validate_batch(
    validator: Any, candidates: Sequence[Candidate], overlays: Overlays,
    unseen: frozenset[str] = frozenset(),
) -> list[Report]:
    """Each candidate validated with the store and ``overlays`` as context (its own graphs
    left out of both): the reports :meth:`Validator.validate_many` gives for
    ``Candidate(…, overlay=overlays.for_entry(graphs))``, from one shared index.

    :param overlays: the batch: every candidate's quads, and the entries around them.
    :param unseen: graphs of the store no candidate sees (as if each excluded them): the
        batch's own graphs while they are loaded ahead (:class:`coopgraph.pending.Preload`),
        so the context is the store as it was before, whatever the load has written.
    """
    reports = judge(validator, prepare(validator, candidates, overlays, unseen))
    return complete(validator, candidates, reports, overlays, unseen)
