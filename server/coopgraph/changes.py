"""The change feed: what was loaded, added, replaced or removed, read from the PROV-O
activity log (``cgg:provenance``), newest first, as Atom or JSON.

Each :class:`Change` is one ``prov:Activity`` written by :mod:`coopgraph.provenance`
(``cg:Load``, ``cg:EntryAddition``, ``cg:EntryReplacement``, ``cg:EntryRemoval``): when
it started, who did it (the token name, or the loader), which named graph it generated or
invalidated, and where the content came from.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import pyoxigraph as ox

from coopgraph import provenance
from coopgraph.errors import BadRequest
from coopgraph.queries import internal_sparql
from coopgraph.sparql_text import inject_values
from coopgraph.store.base import Changes, Solutions, Store, match
from coopgraph.vocab import CG, GRAPH, PROV, PROVENANCE_GRAPH, RDF, RDFS, XSD

#: Activity class local name → the feed's action word.
ACTIONS: dict[str, str] = {
    provenance.ADDED: "added",
    provenance.REPLACED: "replaced",
    provenance.REMOVED: "removed",
    provenance.LOADED: "loaded",
}
_TITLES = {
    "added": {"fr": "Entrée ajoutée", "en": "Entry added"},
    "replaced": {"fr": "Entrée remplacée", "en": "Entry replaced"},
    "removed": {"fr": "Entrée supprimée", "en": "Entry removed"},
    "loaded": {"fr": "Graphe chargé", "en": "Graph loaded"},
}
ATOM_NS = "http://www.w3.org/2005/Atom"

#: Most changes one request returns.
MAX_LIMIT = 1000

@dataclass(frozen=True)
class Change:
    """One write of one named graph."""

    activity: str
    action: str  # added, replaced, removed, loaded
    time: str  # xsd:dateTime lexical form, UTC ("…Z")
    graph: str
    agent: str | None = None
    used: str | None = None
    comment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (naive = UTC; a date =
    its midnight).

    >>> parse_since("2024-05-01T10:00:00+02:00").isoformat()
    '2024-05-01T08:00:00+00:00'
    >>> parse_since("2024-05-01").isoformat()
    '2024-05-01T00:00:00+00:00'

    :raises BadRequest: not an ISO 8601 date or date-time.
    """
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise BadRequest(
            f"since: {text!r} is not an ISO 8601 date-time (e.g. 2024-05-01T10:00:00Z)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class FeedPage:
    """One page of the feed: its changes, newest first, and where the next one starts."""

    changes: list[Change]
    #: the last activity of this page when older changes follow (``?before=`` of the next
    #: page), else ``None``
    older: str | None = None


#: Where a page starts after: the activity's start time, ``cg:sequence`` (-1 when it
#: has none) and IRI.
Cursor = tuple[ox.Literal, int, str]


def list_changes(
    store: Store, *, since: datetime | None = None, limit: int = 100
) -> list[Change]:
    """Changes after ``since`` (exclusive), newest first, at most ``limit``: the first
    page of :func:`read_page`."""
    return read_page(store, since=since, limit=limit).changes


def read_page(
    store: Store, *, since: datetime | None = None, before: str | None = None,
    limit: int = 100,
) -> FeedPage:
    """A page of changes after ``since`` (exclusive), newest first, at most ``limit``,
    starting after the activity ``before`` (the ``older`` of the previous page).

    Activities are ordered by start time, then ``cg:sequence`` (the order a transaction
    recorded them in; -1 for activities written before it existed), both newest first,
    then by IRI: a total order, so a page boundary inside a run of equal start times
    neither skips nor repeats one. A page holds whole activities (an activity with more
    changes than ``limit`` is cut at ``limit``).

    When every activity has a ``cg:sequence`` (which starts with the start second), the
    page is read by it alone: the ``limit`` greatest, a sort of integers the store makes
    without reading any text. Otherwise the keys are (time, sequence) pairs, and the run
    of equal keys at a page's edge is read whole: in a store imported before
    ``cg:sequence``, all the activities of one bulk import.

    :raises BadRequest: ``limit`` outside 1…:data:`MAX_LIMIT`; ``before`` is not an
        activity of the log.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: expected 1 to {MAX_LIMIT}")
    cursor = _cursor(store, before) if before is not None else None
    newest = _newest_by_sequence if _all_sequenced(store) else _newest_by_time
    count = limit + 1  # one more than a page: are there older changes?
    while True:
        activities, complete = newest(store, since, cursor, count)
        page: list[Change] = []
        last = None
        for activity, changes in zip(activities, _changes_of(store, activities), strict=True):
            if not changes:
                continue  # not a feed kind
            if page and len(page) + len(changes) > limit:
                return FeedPage(page, last)
            page += changes[:limit]
            last = activity.value
        if complete:
            return FeedPage(page)
        count *= 2  # activities that yield no change: read further


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD.integer))


def _sequence(term: object) -> int:
    """A ``cg:sequence`` value as an integer (-1 when missing: activities written before
    the feed had it)."""
    return int(term.value) if isinstance(term, ox.Literal) else -1


def _all_sequenced(store: Store) -> bool:
    counts = store.query(internal_sparql("changes-counts"))
    assert isinstance(counts, Solutions)
    row = counts.dicts()[0] if counts.rows else {}
    return _sequence(row.get("activities")) == _sequence(row.get("sequenced"))


def add_missing_sequences(store: Store) -> int:
    """Give the activities recorded before ``cg:sequence`` existed theirs, once (called by
    :func:`coopgraph.load.load_project`, so by ``serve`` at its start): within each
    start second, ranks in the order the feed listed them (by IRI), so the feed keeps
    its order and reads a page by sequence alone from then on; their ranks are below
    those :func:`~coopgraph.provenance.sequence_of` gives. Returns how many.
    A cheap count when there is nothing to do."""
    if _all_sequenced(store):
        return 0
    found = store.query(internal_sparql("changes-unsequenced"))
    assert isinstance(found, Solutions)
    by_second: dict[int, list[ox.NamedNode]] = {}
    for a, t in found.rows:
        if isinstance(a, ox.NamedNode) and isinstance(t, ox.Literal):
            second = math.floor(datetime.fromisoformat(t.value).timestamp())
            by_second.setdefault(second, []).append(a)
    prov, number = ox.NamedNode(PROVENANCE_GRAPH), ox.NamedNode(CG.sequence)
    quads = []
    for second, activities in by_second.items():
        # newest first = greatest sequence first; the feed listed equal times by IRI
        activities.sort(key=lambda a: a.value, reverse=True)
        quads += [ox.Quad(a, number, _integer(second * provenance.SEQUENCE_SCALE + rank), prov)
                  for rank, a in enumerate(activities)]
    if quads:
        store.apply(Changes(insert=quads))
    return len(quads)


def _cursor(store: Store, before: str) -> Cursor:
    """The order key and IRI of the activity ``before``.

    :raises BadRequest: it is not an IRI, or no activity of the log.
    """
    try:
        node = ox.NamedNode(before)
    except ValueError:
        raise BadRequest(f"before: {before!r} is not an activity IRI") from None
    prov = str(PROVENANCE_GRAPH)
    times, sequences = match(store, [(node, ox.NamedNode(PROV.startedAtTime), None, prov),
                                     (node, ox.NamedNode(CG.sequence), None, prov)])
    stamps = [q.object for q in times if isinstance(q.object, ox.Literal)]
    if not stamps:
        raise BadRequest(f"before: no activity <{before}> in the change log")
    return stamps[0], _sequence(sequences[0].object if sequences else None), before


def _in_order(
    rows: list[tuple[Any, ox.NamedNode]], cursor_key: Any, cursor: Cursor | None, count: int
) -> list[ox.NamedNode]:
    """``(key, activity)`` rows in the feed's order (key descending, then IRI), those
    at or before the cursor left out, at most ``count``."""
    if cursor is not None:  # the run of the cursor's key: only those after it in IRI order
        rows = [(key, a) for key, a in rows if key != cursor_key or a.value > cursor[2]]
    rows.sort(key=lambda r: r[1].value)
    rows.sort(key=lambda r: r[0], reverse=True)  # stable: ties stay in IRI order
    return [a for _, a in rows[:count]]


def _newest_by_sequence(
    store: Store, since: datetime | None, cursor: Cursor | None, count: int
) -> tuple[list[ox.NamedNode], bool]:
    """The ``count`` first activities after ``since`` and ``cursor`` in the feed's order,
    and whether they are all there are, when every activity has a ``cg:sequence``: the
    ``count`` greatest sequences (only those rows read), then the activities sharing the
    last one (written by two processes in the same second; one index lookup)."""
    bounds: dict[str, ox.Literal] = {}
    if since is not None:  # start times are whole seconds: after since = from the next one
        bounds["fromSequence"] = _integer((math.floor(since.timestamp()) + 1)
                                          * provenance.SEQUENCE_SCALE)
    if cursor is not None:
        bounds["toSequence"] = _integer(cursor[1])
    read = count + (cursor is not None)  # the cursor's own key is in the bounds
    found = store.query(inject_values(internal_sparql("changes-sequences"), bounds), limit=read)
    assert isinstance(found, Solutions)
    complete = len(found.rows) < read
    rows = [(_sequence(n), a) for a, n in found.rows if isinstance(a, ox.NamedNode)]
    if rows and not complete:
        edge = rows[-1][0]
        (tied,) = match(store, [(None, ox.NamedNode(CG.sequence), _integer(edge),
                                 str(PROVENANCE_GRAPH))])
        rows = [r for r in rows if r[0] != edge] + [
            (edge, q.subject) for q in tied if isinstance(q.subject, ox.NamedNode)]
    return _in_order(rows, cursor[1] if cursor else None, cursor, count), complete


def _newest_by_time(
    store: Store, since: datetime | None, cursor: Cursor | None, count: int
) -> tuple[list[ox.NamedNode], bool]:
    """:func:`_newest_by_sequence` when some activity has no ``cg:sequence``: keys are
    (start time, sequence or -1). The activities of the cursor's second first (those
    after it), then, when they are too few, the ``count`` newest times before it (a sort
    of times only), and the activities from the last of those times on, sorted here.
    (``ORDER BY ?activity`` in the store compares IRIs by their text: 1 s for the 10,000
    activities of a 1M import.)"""
    # A VALUES row made from typed literals we build (never request text): pyoxigraph's
    # substitutions reach only selected variables, so bindings= cannot carry the bounds.
    bounds: dict[str, ox.Literal] = {}
    if since is not None:
        bounds["since"] = ox.Literal(_stamp(since), datatype=ox.NamedNode(XSD.dateTime))
    rows: list[tuple[tuple[datetime, int], ox.NamedNode]] = []
    at = None
    if cursor is not None:
        at = (datetime.fromisoformat(cursor[0].value), cursor[1])
        rows = [r for r in _from(store, bounds | {"fromTime": cursor[0], "toTime": cursor[0]})
                if r[0] < at or (r[0] == at and r[1].value > cursor[2])]
        if len(rows) >= count:
            return _in_order(rows, at, cursor, count), False
        bounds["beforeTime"] = cursor[0]
    wanted = count - len(rows)
    keys = store.query(inject_values(internal_sparql("changes-times"), bounds), limit=wanted)
    assert isinstance(keys, Solutions)
    complete = len(keys.rows) < wanted
    if not complete and isinstance(keys.rows[-1][0], ox.Literal):
        bounds["fromTime"] = keys.rows[-1][0]
    rows += _from(store, bounds)
    return _in_order(rows, at, cursor, count), complete


def _from(
    store: Store, bounds: dict[str, ox.Literal]
) -> list[tuple[tuple[datetime, int], ox.NamedNode]]:
    """``((time, sequence), activity)`` of the activities within ``bounds``. The
    sequences are read apart, by the range of seconds they start with: joining each
    activity to its sequence in the store cost 0.2 s for the 10,000 of a 1M import."""
    found = store.query(inject_values(internal_sparql("changes-from"), bounds))
    assert isinstance(found, Solutions)
    rows = [(datetime.fromisoformat(t.value), a)
            for a, t in found.rows if isinstance(a, ox.NamedNode) and t is not None]
    if not rows:
        return []
    scale = provenance.SEQUENCE_SCALE
    seconds = [math.floor(time.timestamp()) for time, _ in rows]
    numbers = store.query(inject_values(internal_sparql("changes-sequences"), {
        "fromSequence": _integer(min(seconds) * scale),
        "toSequence": _integer((max(seconds) + 1) * scale - 1),
    }))
    assert isinstance(numbers, Solutions)
    sequences = {a: _sequence(n) for a, n in numbers.rows}
    return [((time, sequences.get(a, -1)), a) for time, a in rows]


def _changes_of(store: Store, activities: list[ox.NamedNode]) -> list[list[Change]]:
    """The changes of each of ``activities``, by lookups in the log: one change per
    activity of a feed kind and graph it generated or invalidated."""
    prov = str(PROVENANCE_GRAPH)
    facts: list[dict[str, list[str]]] = []  # per activity: predicate → object values
    agents: set[str] = set()
    for quads in match(store, [(a, None, None, prov) for a in activities]):
        by: dict[str, list[str]] = {}
        for q in quads:
            if isinstance(q.object, ox.Triple):
                continue
            by.setdefault(q.predicate.value, []).append(q.object.value)
            if q.predicate.value == str(PROV.wasAssociatedWith) and isinstance(
                q.object, ox.NamedNode
            ):
                agents.add(q.object.value)
        facts.append(by)
    ordered = sorted(agents)
    label = ox.NamedNode(RDFS.label)
    named = match(store, [(ox.NamedNode(a), label, None, prov) for a in ordered])
    names = {a: [q.object.value for q in quads if not isinstance(q.object, ox.Triple)]
             for a, quads in zip(ordered, named, strict=True)}
    out: list[list[Change]] = []
    none: list[str | None] = [None]
    for activity, by in zip(activities, facts, strict=True):
        types = set(by.get(str(RDF.type), []))
        changes: list[Change] = []
        out.append(changes)
        if str(PROV.Activity) not in types:
            continue
        kinds = sorted(ACTIONS[t.removeprefix(str(CG))] for t in types
                       if t.startswith(str(CG)) and t.removeprefix(str(CG)) in ACTIONS)
        graphs = sorted(by.get(str(PROV.generated), []) + by.get(str(PROV.invalidated), []))
        who: list[str | None] = []
        for agent in by.get(str(PROV.wasAssociatedWith), []):
            who += names.get(agent) or [agent.rsplit("/", 1)[-1]]
        for action, time, graph, agent_name, used, comment in itertools.product(
            kinds, by.get(str(PROV.startedAtTime), []), graphs, who or none,
            by.get(str(PROV.used)) or none, by.get(str(RDFS.comment)) or none,
        ):
            changes.append(Change(activity=activity.value, action=action, time=time,
                                  graph=graph, agent=agent_name, used=used, comment=comment))
    return out


def short_graph(graph: str) -> str:
    """``https://w3id.org/coopgraph/graph/entry/x`` → ``cgg:entry/x``."""
    return "cgg:" + graph.removeprefix(str(GRAPH)) if graph.startswith(str(GRAPH)) else graph


def feed_json(
    changes: list[Change], *, since: datetime | None = None, next_url: str | None = None
) -> dict[str, Any]:
    """The JSON feed: ``since``, ``count``, ``changes`` (newest first), and ``next``: the
    URL of the page of older changes, when there are some."""
    doc = {
        "since": _stamp(since) if since else None,
        "count": len(changes),
        "changes": [c.to_dict() for c in changes],
    }
    if next_url:
        doc["next"] = next_url
    return doc


def feed_atom(
    changes: list[Change],
    *,
    self_url: str,
    json_url: str | None = None,
    next_url: str | None = None,
    lang: str = "fr",
    title: str = "coopgraph",
) -> bytes:
    """An Atom 1.0 feed (RFC 4287): one ``entry`` per change, newest first.

    :param self_url: the feed's own URL (also its ``id``).
    :param json_url: the JSON twin, linked as ``alternate``.
    :param next_url: the page of older changes, linked as ``next`` (RFC 5005 paging).
    """
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": lang})
    sub(feed, "id", self_url)
    label = "modifications" if lang == "fr" else "changes"
    sub(feed, "title", f"{title} — {label}")
    sub(feed, "updated", changes[0].time if changes else _stamp(provenance.now()))
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    if json_url:
        sub(feed, "link", rel="alternate", type="application/json", href=json_url)
    if next_url:
        sub(feed, "link", rel="next", type="application/atom+xml", href=next_url)
    author = sub(feed, "author")
    sub(author, "name", title)
    for change in changes:
        entry = sub(feed, "entry")
        sub(entry, "id", change.activity)
        words = _TITLES[change.action].get(lang, _TITLES[change.action]["en"])
        sub(entry, "title", f"{words} : {short_graph(change.graph)}")
        sub(entry, "updated", change.time)
        if change.agent:
            sub(sub(entry, "author"), "name", change.agent)
        sub(entry, "link", rel="related", href=change.graph)
        sub(entry, "category", term=change.action, scheme=str(CG))
        summary = f"{change.action} {change.graph}"
        if change.used:
            summary += f" ← {change.used}"
        if change.comment:
            summary += f" — {change.comment}"
        sub(entry, "summary", summary)
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data
