"""Entries: the one write pipeline (add, replace, remove), used by the CLI and HTTP.

An entry is one named graph ``cgg:entry/<id>`` written by staff. Every write goes
parse → validate (the shapes, with the store as context) → **one** store transaction that
holds the entry's quads, its PROV-O activity (who, when, from where, the source digest)
and the update of the inferred graph for the nodes the change touches. A body that does
not parse or does not conform raises before the transaction is built, so a rejected
write leaves the store quad-for-quad identical.

>>> entry_graph("lille-oujda-2026")
'https://w3id.org/coopgraph/graph/entry/lille-oujda-2026'
>>> entry_id(entry_graph("cgg:entry/x-1"))
'x-1'
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, Unpack

import pyoxigraph as ox

from coopgraph import events, provenance
from coopgraph.auth import TOKEN_NAME as AGENT  # names become cgid:agent/<name> IRIs
from coopgraph.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from coopgraph.formats import Format, rdf_format
from coopgraph.parse import parse_bytes, skolemise
from coopgraph.reason import Reasoner
from coopgraph.store.base import Boolean, Changes, Solutions, Store, match
from coopgraph.vocab import (
    DCTERMS,
    ENTRY_GRAPH_PREFIX,
    GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    PREFIXES,
    PROV,
    PROVENANCE_GRAPH,
    SHAPES_GRAPH,
    expand,
)

__all__ = [
    "EntryResult",
    "Write",
    "commit",
    "add_entry",
    "entry_graph",
    "entry_id",
    "merge_entry",
    "remove_entry",
    "replace_entry",
]

#: Entry ids: lower-case ASCII letters, digits and hyphens (docs/conventions.md, "Slugs").
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")

#: Why each code-written graph cannot be written as an entry.
_RESERVED = {
    ONTOLOGY_GRAPH: "it holds ontology/*.ttl and is written by `coopgraph load`",
    SHAPES_GRAPH: "it holds shapes/*.ttl and is written by `coopgraph load`",
    INFERRED_GRAPH: "it holds inferences and is written by the reasoner only",
    PROVENANCE_GRAPH: "it is the activity log and is written by the code only",
}
_ASK_GRAPH = "ASK { GRAPH ?g { ?s ?p ?o } }"
_HAS_QUADS = "FILTER EXISTS { GRAPH ?g { ?s ?p ?o } }"

# Serialises "does the graph exist?" + the write within one process, so two concurrent
# adds of the same id cannot both pass the check; a merge holds it from its read to its
# write (re-entrant: the commit inside takes it again). (The embedded store is opened by
# one process at a time; a remote store shared by several servers would need more.)
_WRITE_LOCK = threading.RLock()


class EntryValidator(Protocol):
    """What the pipeline needs from :class:`coopgraph.validate.Validator`."""

    def validate_quads(
        self, quads: Sequence[ox.Quad], *, entry: str, text: str | None = None
    ) -> Any: ...


@dataclass
class EntryResult:
    """What a write did."""

    #: the entry graph IRI
    graph: str
    #: ``added``, ``replaced`` or ``removed``
    action: str
    #: entry quads written (added/replaced) or dropped (removed)
    triples: int
    #: quads the entry held before the write (0 for an addition)
    previous: int = 0
    #: the provenance activity IRI recorded for this write
    activity: str = ""
    #: sha256 of the source bytes (empty for a removal)
    digest: str = ""
    #: IRIs whose inferences were refreshed in the same transaction
    affected: int = 0
    #: findings of severity Warning/Info from the validation report (dicts, ``lang``)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  #: seconds per step

    @property
    def id(self) -> str:
        return entry_id(self.graph)

    @property
    def created(self) -> bool:
        return self.action == "added"

    def to_dict(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "id": self.id,
            "action": self.action,
            "triples": self.triples,
            "previous": self.previous,
            "activity": self.activity,
            "digest": self.digest,
            "affected": self.affected,
            "warnings": self.warnings,
        }


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------


def entry_graph(ref: str | None) -> str:
    """The entry graph IRI for an id, ``cgg:entry/<id>`` or full IRI; a new uuid for ``None``.

    :raises Forbidden: a graph that is not an entry graph (ontology, shapes, inferred,
        provenance, reference, seed or foreign graphs are not writable as entries).
    :raises BadRequest: an id that is not a slug (lower-case letters, digits, hyphens).
    """
    if ref is None or not ref.strip():
        return ENTRY_GRAPH_PREFIX + uuid.uuid4().hex
    ref = ref.strip()
    if ref.startswith("<") or ":" in ref:
        iri = expand(ref)
        if not iri.startswith(ENTRY_GRAPH_PREFIX):
            raise Forbidden(_not_writable(iri))
        slug = iri[len(ENTRY_GRAPH_PREFIX):]
    else:
        slug = ref.removeprefix("entry/")
    if not SLUG.fullmatch(slug):
        raise BadRequest(
            f"bad entry id {slug!r}: use 1 to 100 lower-case ASCII letters, digits and "
            "hyphens, not starting or ending with a hyphen (e.g. lille-oujda-2026)"
        )
    return ENTRY_GRAPH_PREFIX + slug


def entry_id(graph: str) -> str:
    """The id of an entry graph IRI (``…/graph/entry/x`` → ``x``)."""
    return graph.removeprefix(ENTRY_GRAPH_PREFIX)


def _short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def _not_writable(iri: str) -> str:
    why = _RESERVED.get(iri)
    if why is None and iri.startswith(GRAPH["seed/"]):
        why = "it holds a seed document's facts, loaded from data/seeds/ by `coopgraph load`"
    if why is None and iri.startswith(GRAPH["reference/"]):
        why = "it holds reference data, loaded from data/reference/ by `coopgraph load`"
    if why is None:
        why = "it is not an entry graph"
    return (
        f"graph {_short(iri)} is not writable: {why}; only entry graphs "
        f"cgg:entry/<id> ({ENTRY_GRAPH_PREFIX}<id>) can be added, replaced or removed"
    )


def _check_agent(agent: str) -> str:
    if not AGENT.fullmatch(agent):
        raise BadRequest(
            f"bad agent name {agent!r}: use ASCII letters, digits, '.', '_' or '-' "
            "(it becomes the IRI cgid:agent/<name> in the provenance log)"
        )
    return agent


# ---------------------------------------------------------------------------------------
# Pipeline
# ---------------------------------------------------------------------------------------


def _parse_entry(
    data: bytes, fmt: Format | str, graph: str | None, source: str
) -> tuple[str, list[ox.Quad]]:
    """Parse a body into quads of one entry graph; returns (graph IRI, quads).

    Triples outside any named graph go into the entry graph. A quad-format body may name
    a graph only if it is the target (or, with no target given, one entry graph, which
    becomes the target).
    """
    if isinstance(fmt, str):
        fmt = rdf_format(fmt)
    target = entry_graph(graph) if graph is not None else None
    quads = parse_bytes(data, fmt, source=source)
    nested = next((q for q in quads if isinstance(q.object, ox.Triple)), None)
    if nested is not None:
        raise BadRequest(
            f"{source}: RDF 1.2 triple terms (<<( … )>>, reifiers) are not supported in "
            f"entries (first one about {nested.subject}); state the facts as plain triples"
        )
    named = sorted(
        {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    )
    if target is None:
        if len(named) == 1:
            if not named[0].startswith(ENTRY_GRAPH_PREFIX):
                raise Forbidden(_not_writable(named[0]))
            target = entry_graph(named[0])
        else:
            target = entry_graph(None)
    others = [g for g in named if g != target]
    if others:
        shown = ", ".join(_short(g) for g in others[:5])
        raise BadRequest(
            f"{source}: the document names graph(s) {shown} but an entry is exactly one "
            f"graph, {_short(target)}: put the triples outside any GRAPH block or "
            "name only the target graph"
        )
    node = ox.NamedNode(target)
    in_graph = [ox.Quad(q.subject, q.predicate, q.object, node) for q in quads]
    return target, skolemise(in_graph, target)


def _validate(
    validator: EntryValidator, graph: str, quads: list[ox.Quad], text: str | None,
    source: str,
) -> list[dict[str, Any]]:
    """Validate; raise ValidationFailed (nothing written) or return the warnings."""
    report = validator.validate_quads(quads, entry=f"{source} ({_short(graph)})", text=text)
    if not report.conforms:
        violations = [f for f in report.findings if f.severity == "Violation"]
        rules = sorted({f.rule for f in violations if f.rule})
        first = violations[0].message("en") if violations else ""
        raise ValidationFailed(
            f"entry {_short(graph)} does not conform to the shapes: "
            f"{len(violations)} violation(s)"
            + (f" of {', '.join(rules)}" if rules else "")
            + (f" (first: {first})" if first else "")
            + "; nothing was written",
            report,
        )
    return [f.to_dict("en") for f in report.findings if f.severity != "Violation"]


def _exists(store: Store, graph: str) -> bool:
    result = store.query(_ASK_GRAPH, bindings={"g": ox.NamedNode(graph)})
    assert isinstance(result, Boolean)
    return bool(result)


#: What provenance.current_generation_quads deletes: the "current version" triples.
_CURRENT_GENERATION = tuple(
    ox.NamedNode(p)
    for p in (PROV.wasGeneratedBy, PROV.generatedAtTime, PROV.wasAttributedTo, DCTERMS.modified)
)


def _current_state(store: Store, graphs: Sequence[str]) -> dict[str, list[list[ox.Quad]]]:
    """Per graph: its quads, and its provenance quads the write's ``before`` operation
    deletes (the reasoner needs every removed quad); one batch of reads for all."""
    found = match(store, [pattern for g in graphs for pattern in (
        (None, None, None, g), (ox.NamedNode(g), _CURRENT_GENERATION, None, PROVENANCE_GRAPH))])
    return {g: found[2 * i : 2 * i + 2] for i, g in enumerate(graphs)}


@dataclass
class GraphContent:
    """A named graph's new content and where it comes from: what a write needs first
    (:class:`Write`) and what a bulk import reads (:class:`coopgraph.bulk.sources.Candidate`)."""

    #: the entry graph IRI (or a reference graph, for the bulk import's ``--reference``)
    graph: str
    #: its new quads (empty for a removal)
    quads: list[ox.Quad]
    #: where the content comes from (file name, ``HTTP POST /entries``): ``prov:used``
    source: str


@dataclass
class Write(GraphContent):
    """One entry write of a commit: what :func:`commit` needs to know about it."""

    #: provenance.ADDED, REPLACED or REMOVED (empty: as the store says)
    kind: str = ""
    #: sha256 of the source bytes; :func:`coopgraph.provenance.content_digest` of ``quads``
    digest: str = ""
    content: str = ""
    #: Warning/Info findings (dicts); ``new``: must not exist (True), must (False), either
    warnings: list[dict[str, Any]] = field(default_factory=list)
    new: bool | None = None


def _existing(store: Store, graphs: Sequence[str]) -> set[str]:
    """Which of ``graphs`` hold at least one quad (one query for a whole batch)."""
    if len(graphs) == 1:
        return set(graphs) if _exists(store, graphs[0]) else set()
    values = " ".join(f"<{g}>" for g in graphs)
    result = store.query(f"SELECT ?g {{ VALUES ?g {{ {values} }} {_HAS_QUADS} }}")
    assert isinstance(result, Solutions)
    return {row[0].value for row in result.rows}  # type: ignore[union-attr]


def commit(
    store: Store, writes: Sequence[Write], *, agent: str, inferences: str = "refresh",
    preloaded: Collection[str] = (),
) -> list[EntryResult]:
    """Write entries in **one** transaction: drop old versions, provenance, insert, inferences.

    (``inferences="fast"``, for new entries only: :func:`coopgraph.pending.bulk_insert`.)

    The one write path: the single-entry operations below and :mod:`coopgraph.bulk`.

    :param writes: the entries, each already parsed and validated.
    :param agent: who writes (prov:wasAttributedTo).
    :param inferences: ``"refresh"`` updates ``cgg:inferred`` for the nodes the change
        touches in the same transaction (:meth:`Reasoner.changes`); ``"pending"``
        records the :mod:`coopgraph.pending` marker instead and the caller
        rematerialises (the bulk import: one materialisation per run).
    :param preloaded: new graphs the bulk import has loaded already, under their markers
        (:class:`coopgraph.pending.Preload`; ``inferences="fast"``): every write's graph.
    :raises Conflict: a ``new`` entry exists already (nothing written).
    :raises NotFound: an entry that must exist does not (nothing written).
    """
    from coopgraph import pending

    if not writes:
        return []
    start = time.perf_counter()
    refresh = inferences == "refresh"
    with _WRITE_LOCK:
        state = _current_state(store, [w.graph for w in writes]) if refresh else {}
        exists = {g for g, (quads, _) in state.items() if quads} if refresh else _existing(
            store, [w.graph for w in writes if w.graph not in preloaded])
        for w in writes:
            if w.new is True and w.graph in exists:
                raise Conflict(
                    f"entry {_short(w.graph)} already exists: replace it (coopgraph replace, "
                    "HTTP PUT) or choose another id"
                )
            if w.new is False and w.graph not in exists:
                raise NotFound(f"no entry {_short(w.graph)} in the store")
        if inferences == "fast" and exists:  # replacements need the transaction
            inferences = "pending"
        if preloaded and (inferences != "fast" or {w.graph for w in writes} - set(preloaded)):
            raise ValueError("preloaded graphs are committed by the fast path, all together")
        previous = {w.graph: state[w.graph][0] if refresh else [] for w in writes}
        replaced, added = provenance.REPLACED, provenance.ADDED
        kinds = {w.graph: w.kind or (replaced if w.graph in exists else added) for w in writes}
        when = provenance.now()  # one transaction, one time
        activities = {
            w.graph: provenance.activity(
                kinds[w.graph], w.graph, agent=agent, used=w.source, source_digest=w.digest or None,
                content_digest=w.content or None, when=when,
            )
            for w in writes
        }
        inserted = [q for w in writes for q in (*w.quads, *activities[w.graph])]
        dropped = [w.graph for w in writes if w.graph in exists]
        before = [provenance.current_generation_quads(g) for g in dropped]
        affected = 0
        if refresh:
            # The activity quads count too (the agent, the activity, the graph IRI's
            # provenance), and so do the "current version" triples `before` deletes.
            removed = [q for g in dropped for q in (*previous[g], *state[g][1])]
            changes, delta = Reasoner(store).changes(
                drop_graphs=dropped, removed=removed, before=before, insert=inserted
            )
            affected = delta.affected
        else:
            inserted.append(pending.MARKER)
            changes = Changes(drop_graphs=dropped, before=before, insert=inserted)
        reasoned = time.perf_counter()
        with provenance.outcome_of(store, activities[writes[0].graph][0]):  # issue 16
            if inferences == "fast" and not dropped:
                # (each activity names the agent: said once)
                prov = list(dict.fromkeys(q for w in writes for q in activities[w.graph]))
                pending.bulk_insert(store, list(kinds), [w for x in writes for w in x.quads], prov,
                                    preloaded=bool(preloaded))
            else:
                store.apply(changes)
        committed = time.perf_counter()
        timings = {"reason": reasoned - start, "commit": committed - reasoned}
        events.publish(
            store,
            events.Commit(
                graphs=tuple(w.graph for w in writes),
                removed=[q for w in writes for q in previous[w.graph]],
                inserted=[q for w in writes for q in w.quads],
                everything=not refresh,
                activities=tuple(str(activities[w.graph][0].subject).strip("<>") for w in writes),
            ),
        )
        timings["publish"] = time.perf_counter() - committed  # the views' listeners
    actions = {provenance.ADDED: "added", provenance.REPLACED: "replaced"}
    return [
        EntryResult(
            graph=w.graph, action=actions.get(kinds[w.graph], "removed"),
            triples=len(w.quads) if w.quads else len(previous[w.graph]),
            previous=len(previous[w.graph]),
            activity=str(activities[w.graph][0].subject).strip("<>"), digest=w.digest,
            affected=affected, warnings=w.warnings, timings=dict(timings),
        )
        for w in writes
    ]


def _write(
    store: Store,
    kind: str,
    graph: str,
    quads: list[ox.Quad],
    *,
    agent: str,
    source: str,
    digest: str,
    warnings: list[dict[str, Any]],
    must_exist: bool | None,
    timings: dict[str, float] | None = None,
) -> EntryResult:
    """One entry through :func:`commit` (``kind`` empty: added or replaced, as it finds)."""
    write = Write(
        graph, quads, source, kind, digest,
        provenance.content_digest(quads) if quads else "", warnings,
        None if must_exist is None else not must_exist,
    )
    result = commit(store, [write], agent=agent)[0]
    result.timings = {**(timings or {}), **result.timings}
    return result


def _prepare(
    validator: EntryValidator, data: bytes, fmt: Format | str, graph: str | None, source: str
) -> tuple[str, list[ox.Quad], list[dict[str, Any]], dict[str, float]]:
    """Parse and validate a document: (graph, quads, warnings, seconds per step)."""
    start = time.perf_counter()
    target, quads = _parse_entry(data, fmt, graph, source)
    parsed = time.perf_counter()
    warnings = _validate(validator, target, quads, _text(data), source)
    timings = {"parse": parsed - start, "validate": time.perf_counter() - parsed}
    return target, quads, warnings, timings


class EntryWrite(TypedDict):
    """Who writes which entry, how it is checked: the keyword arguments of
    :func:`add_entry` and :func:`replace_entry`."""

    #: entry id, ``cgg:entry/<id>`` or IRI; ``None``: the single entry graph the document
    #: names, else a new uuid
    graph: str | None
    #: who writes (token name, ``--agent``); recorded as prov:wasAttributedTo
    agent: str
    #: where the content comes from (file name, ``HTTP POST /entries``)
    source: str
    #: a :class:`coopgraph.validate.Validator` on the store written
    validator: EntryValidator


def add_entry(
    store: Store, data: bytes, fmt: Format | str, **write: Unpack[EntryWrite]
) -> EntryResult:
    """Add a new entry: parse, validate, then one transaction (data + provenance + inferences).

    :param store: the store written.
    :param data: the entry document (Turtle, TriG, JSON-LD, N-Triples, N-Quads, RDF/XML).
    :param fmt: its format (a :class:`~coopgraph.formats.Format`, name or media type).
    :param write: see :class:`EntryWrite` (graph, agent, source, validator).
    :returns: an :class:`EntryResult`.
    :raises ParseError: the document does not parse (with line and column).
    :raises UnsupportedFormat: unknown format.
    :raises Forbidden: the target is not an entry graph.
    :raises BadRequest: bad id or agent, or the document names another graph.
    :raises ValidationFailed: the entry does not conform (``.report``); nothing written.
    :raises Conflict: the entry already exists.
    """
    return _write_document(store, data, fmt, write, kind=provenance.ADDED, must_exist=False)


def replace_entry(
    store: Store,
    data: bytes,
    fmt: Format | str,
    *,
    create: bool = False,
    **write: Unpack[EntryWrite],
) -> EntryResult:
    """Replace an entry's whole content (same pipeline as :func:`add_entry`).

    :param create: add the entry when it does not exist (HTTP PUT) instead of 404.
    :raises NotFound: no such entry and ``create`` is false.
    :raises: the same as :func:`add_entry`, except Conflict.
    """
    if write["graph"] is None and not create:
        raise BadRequest("replace needs the entry to replace (--graph ID or IRI)")
    kind, must_exist = ("", None) if create else (provenance.REPLACED, True)
    return _write_document(store, data, fmt, write, kind=kind, must_exist=must_exist)


def _write_document(
    store: Store,
    data: bytes,
    fmt: Format | str,
    write: EntryWrite,
    *,
    kind: str,
    must_exist: bool | None,
) -> EntryResult:
    """Parse and validate ``data``, then write it as the entry (see :func:`_write`)."""
    agent, source = write["agent"], write["source"]
    _check_agent(agent)
    target, quads, warnings, timings = _prepare(
        write["validator"], data, fmt, write["graph"], source
    )
    return _write(
        store, kind, target, quads, agent=agent, source=source,
        digest=provenance.digest(data), warnings=warnings, must_exist=must_exist,
        timings=timings,
    )


def merge_entry(
    store: Store,
    data: bytes,
    fmt: Format | str,
    *,
    graph: str,
    agent: str,
    source: str,
    validator: EntryValidator,
) -> EntryResult:
    """Add triples to an entry (Graph Store Protocol POST): the merged entry is validated
    as a whole and written as a replacement; a missing entry is created.

    :raises: the same as :func:`add_entry`, except Conflict.
    """
    _check_agent(agent)
    target, quads = _parse_entry(data, fmt, graph, source)
    with _WRITE_LOCK:  # read, validate and write as one: concurrent merges lose nothing
        old = list(store.quads(target))
        merged = list(dict.fromkeys([*old, *quads]))
        warnings = _validate(validator, target, merged, None if old else _text(data), source)
        return _write(
            store, provenance.REPLACED if old else provenance.ADDED, target, merged,
            agent=agent, source=source, digest=provenance.digest(data), warnings=warnings,
            must_exist=bool(old),
        )


def remove_entry(store: Store, graph: str, *, agent: str, source: str) -> EntryResult:
    """Remove an entry and its inferences; the removal is logged in ``cgg:provenance``.

    :param graph: entry id, ``cgg:entry/<id>`` or IRI.
    :raises NotFound: no such entry.
    :raises Forbidden: not an entry graph.
    """
    _check_agent(agent)
    target = entry_graph(graph)
    return _write(
        store, provenance.REMOVED, target, [], agent=agent, source=source, digest="",
        warnings=[], must_exist=True,
    )


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
