"""PROV-O records for every graph written: the activity log in ``cgg:provenance``.

Each load, add, replace or remove appends one ``prov:Activity`` (never rewritten), so the
change feed and "where does this come from?" can be answered from the store alone.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from coopgraph.vocab import CG, DCTERMS, ID, PROV, PROVENANCE_GRAPH, RDF, RDFS, XSD

#: Activity kinds (own classes, declared in the ontology as subclasses of prov:Activity).
ADDED, REPLACED, REMOVED, LOADED = "EntryAddition", "EntryReplacement", "EntryRemoval", "Load"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


#: ``cg:sequence`` = the start second × this + the activity's rank in its process.
SEQUENCE_SCALE = 10**9
_RANKS = itertools.count()  # next() is atomic: threads get distinct ranks


def sequence_of(when: datetime) -> int:
    """The ``cg:sequence`` of an activity started at ``when`` (whole seconds, as
    :func:`now` gives): its start second, then nine digits of rank, which grows with
    each activity this process records (from 500000000: the ranks below are those
    :func:`coopgraph.changes.add_missing_sequences` gives activities recorded before).
    A transaction records all its activities at one start time (a bulk import:
    thousands); this integer orders them, and the store sorts it without reading any
    text, so a page of the change feed reads its own rows only (issue 12).

    >>> t = datetime(2025, 3, 1, 12, tzinfo=UTC)
    >>> first, second = sequence_of(t), sequence_of(t)
    >>> first < second and first // SEQUENCE_SCALE == int(t.timestamp())
    True
    """
    half = SEQUENCE_SCALE // 2  # the lower half: activities numbered afterwards (load)
    return math.floor(when.timestamp()) * SEQUENCE_SCALE + half + next(_RANKS) % half


def digest(data: bytes) -> str:
    """sha256 hex digest of a source document, recorded to detect changed files."""
    return hashlib.sha256(data).hexdigest()


def content_digest(quads: Iterable[ox.Quad]) -> str:
    """sha256 of a graph's content, the same whatever the order of the quads or the labels
    the parser gave its blank nodes (each blank node is named by a digest of the triples
    that describe it, refined twice so nested blank nodes are told apart); graph names are
    left out, so the digest says whether the *content* of an entry changed.

    >>> a = ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.BlankNode("b1"))
    >>> b = ox.Quad(ox.BlankNode("b1"), ox.NamedNode("http://x/q"), ox.Literal("v"))
    >>> c = ox.Quad(ox.BlankNode("zz"), ox.NamedNode("http://x/q"), ox.Literal("v"))
    >>> d = ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.BlankNode("zz"))
    >>> content_digest([a, b]) == content_digest([c, d])
    True

    Without blank nodes: the sha256 of the sorted N-Triples lines, as every store's
    recorded digests were computed (re-runs compare against them).

    >>> e = ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.Literal("v"))
    >>> content_digest([e]) == hashlib.sha256(b'<http://x/s> <http://x/p> "v"').hexdigest()
    True
    """
    quads = quads if isinstance(quads, list) else list(quads)
    blank = ox.BlankNode
    if not any(isinstance(q.subject, blank) or isinstance(q.object, blank) for q in quads):
        # (every entry the bulk import reads: skolemised) the same lines as below without
        # the renaming (a quarter less time: 0.4 s of CPU at 1M)
        text = str
        plain = sorted(f"{text(q.subject)} {text(q.predicate)} {text(q.object)}" for q in quads)
        return hashlib.sha256("\n".join(plain).encode()).hexdigest()
    triples = [(q.subject, q.predicate, q.object) for q in quads]
    blanks = {t for s, _, o in triples for t in (s, o) if isinstance(t, ox.BlankNode)}
    names: dict[object, str] = {b: "_" for b in blanks}

    def show(term: object) -> str:
        return "_:" + names[term] if term in names else str(term)

    for _ in range(3 if blanks else 0):
        signature: dict[object, list[str]] = {b: [] for b in blanks}
        for s, p, o in triples:
            if s in signature:
                signature[s].append(f"> {p} {show(o)}")
            if o in signature:
                signature[o].append(f"< {show(s)} {p}")
        names = {
            b: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]
            for b, lines in signature.items()
        }
    lines = sorted(f"{show(s)} {p} {show(o)}" for s, p, o in triples)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _lit(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


def agent_iri(name: str) -> ox.NamedNode:
    """The prov:Agent for a named token (``alice``) or the loader (``coopgraph``)."""
    return ox.NamedNode(ID["agent/" + name])


def activity(
    kind: str,
    graph: str,
    *,
    agent: str,
    used: str | None = None,
    source_digest: str | None = None,
    content_digest: str | None = None,
    comment: str | None = None,
    when: datetime | None = None,
) -> list[ox.Quad]:
    """The quads recording one write of ``graph``.

    :param kind: one of ADDED, REPLACED, REMOVED, LOADED.
    :param graph: the named graph written or removed.
    :param agent: token name or ``coopgraph`` for the loader.
    :param used: where the content came from (file name, ``HTTP POST /entries``).
    :param source_digest: sha256 of the source bytes.
    :param content_digest: :func:`content_digest` of the quads written (``cg:contentDigest``:
        a re-run of the bulk import skips an entry whose content has not changed).
    """
    when = when or now()
    a = ox.NamedNode(ID["activity/" + uuid.uuid4().hex])
    g = ox.NamedNode(PROVENANCE_GRAPH)
    target = ox.NamedNode(graph)
    stamp = _lit(when.isoformat().replace("+00:00", "Z"), XSD.dateTime)
    who = agent_iri(agent)
    quads = [
        ox.Quad(a, ox.NamedNode(RDF.type), ox.NamedNode(PROV.Activity), g),
        ox.Quad(a, ox.NamedNode(RDF.type), ox.NamedNode(CG[kind]), g),
        ox.Quad(a, ox.NamedNode(PROV.startedAtTime), stamp, g),
        ox.Quad(a, ox.NamedNode(CG.sequence), _lit(str(sequence_of(when)), XSD.integer), g),
        ox.Quad(a, ox.NamedNode(PROV.endedAtTime), stamp, g),
        ox.Quad(a, ox.NamedNode(PROV.wasAssociatedWith), who, g),
        ox.Quad(who, ox.NamedNode(RDF.type), ox.NamedNode(PROV.Agent), g),
        ox.Quad(who, ox.NamedNode(RDFS.label), ox.Literal(agent), g),
    ]
    if kind == REMOVED:
        quads.append(ox.Quad(a, ox.NamedNode(PROV.invalidated), target, g))
    else:
        quads += [
            ox.Quad(a, ox.NamedNode(PROV.generated), target, g),
            ox.Quad(target, ox.NamedNode(PROV.wasGeneratedBy), a, g),
            ox.Quad(target, ox.NamedNode(PROV.generatedAtTime), stamp, g),
            ox.Quad(target, ox.NamedNode(PROV.wasAttributedTo), who, g),
        ]
    if used:
        quads.append(ox.Quad(a, ox.NamedNode(PROV.used), _lit(used), g))
    if source_digest:
        quads.append(ox.Quad(a, ox.NamedNode(CG.sourceDigest), _lit(source_digest), g))
    if content_digest:
        quads.append(ox.Quad(a, ox.NamedNode(CG.contentDigest), _lit(content_digest), g))
    if comment:
        quads.append(ox.Quad(a, ox.NamedNode(RDFS.comment), _lit(comment), g))
    return quads


def current_generation_quads(graph: str) -> str:
    """SPARQL update deleting the "current version" triples of ``graph`` (kept: activities)."""
    return (
        f"DELETE {{ GRAPH <{PROVENANCE_GRAPH}> {{ <{graph}> ?p ?o }} }} "
        f"WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ <{graph}> ?p ?o "
        f"FILTER(?p IN (<{PROV.wasGeneratedBy}>, <{PROV.generatedAtTime}>, "
        f"<{PROV.wasAttributedTo}>, <{DCTERMS.modified}>)) }} }}"
    )


@contextmanager
def outcome_of(store: Any, marker: ox.Quad) -> Iterator[None]:
    """Around a write's transaction: an exception leaving it carries ``store_changed``
    (:func:`recorded`), which the web layer and the CLI report."""
    try:
        yield
    except BaseException as exc:
        exc.store_changed = recorded(store, marker)  # type: ignore[attr-defined]
        raise


_ACTIVITY_RECORDED = "ASK { GRAPH ?g { ?activity ?p ?o } }"


def recorded(store: Any, marker: ox.Quad) -> bool | None:
    """After a failed transaction: is the write's activity (a fresh IRI; ``marker`` is
    one of its quads) in the store? ``None`` when the store cannot tell. Issue 16: every
    write error says what happened to the data."""
    try:
        result = store.query(
            _ACTIVITY_RECORDED,
            bindings={"activity": marker.subject, "g": marker.graph_name},
            timeout=30,
        )
    except Exception:  # noqa: BLE001 - the store is failing: say we cannot tell
        return None
    return bool(result)
