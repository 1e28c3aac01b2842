"""The change feed: what was loaded, added, replaced or removed, read from the PROV-O
activity log (``cgg:provenance``), newest first, as Atom or JSON.

Each :class:`Change` is one ``prov:Activity`` written by :mod:`coopgraph.provenance`
(``cg:Load``, ``cg:EntryAddition``, ``cg:EntryReplacement``, ``cg:EntryRemoval``): when
it started, who did it (the token name, or the loader), which named graph it generated or
invalidated, and where the content came from.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import pyoxigraph as ox

from coopgraph import provenance
from coopgraph.errors import BadRequest
from coopgraph.queries import internal_sparql
from coopgraph.sparql_text import inject_values
from coopgraph.store.base import Solutions, Store, match
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


#: Order key of an activity: its start time and ``cg:sequence`` (-1 when it has none).
Key = tuple[datetime, int]


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
    recorded them in), both newest first, then by IRI: a total order, so a page boundary
    inside a run of equal start times neither skips nor repeats one. A page holds whole
    activities (an activity with more changes than ``limit`` is cut at ``limit``).

    :raises BadRequest: ``limit`` outside 1…:data:`MAX_LIMIT`; ``before`` is not an
        activity of the log.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: expected 1 to {MAX_LIMIT}")
    # A VALUES row made from typed literals we build (never request text): pyoxigraph's
    # substitutions reach only selected variables, so bindings= cannot carry the bounds.
    bounds: dict[str, ox.Literal] = {}
    if since is not None:
        bounds["since"] = ox.Literal(_stamp(since), datatype=ox.NamedNode(XSD.dateTime))
    cursor = None
    if before is not None:
        cursor = _cursor(store, before)
        bounds |= _key_bounds("to", cursor[0], cursor[1])
    count = limit + 1  # one more than a page: are there older changes?
    while True:
        activities, complete = _newest(store, bounds, cursor, count)
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


def _key_bounds(prefix: str, time: ox.Literal, sequence: int) -> dict[str, ox.Literal]:
    return {f"{prefix}Time": time,
            f"{prefix}Sequence": ox.Literal(str(sequence), datatype=ox.NamedNode(XSD.integer))}


def _cursor(store: Store, before: str) -> tuple[ox.Literal, int, str]:
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


def _sequence(term: object) -> int:
    """A ``cg:sequence`` value as an integer (-1 when missing: activities written before
    the feed had it)."""
    return int(term.value) if isinstance(term, ox.Literal) else -1


def _newest(
    store: Store, bounds: dict[str, ox.Literal], cursor: tuple[ox.Literal, int, str] | None,
    count: int,
) -> tuple[list[ox.NamedNode], bool]:
    """The ``count`` newest activities within ``bounds`` and after ``cursor``, in the
    feed's order, and whether they are all there are. Two reads: the ``count`` newest
    order keys (a sort of times and integers, no IRI read), then the activities from the
    oldest of those keys on, sorted here. Only a run of equal keys at a page's boundary
    is read beyond the page: a transaction's activities share a start time but not a
    ``cg:sequence``. (``ORDER BY ?activity`` in the store compares IRIs by their text:
    1 s for the 10,000 activities of a 1M import.)"""
    read = count + (cursor is not None)  # the cursor's own key is in the bounds
    keys = store.query(inject_values(internal_sparql("changes-times"), bounds), limit=read)
    assert isinstance(keys, Solutions)
    complete = len(keys.rows) < read
    wanted = dict(bounds)
    if not complete and isinstance(keys.rows[-1][0], ox.Literal):
        wanted |= _key_bounds("from", keys.rows[-1][0], _sequence(keys.rows[-1][1]))
    found = store.query(inject_values(internal_sparql("changes-from"), wanted))
    assert isinstance(found, Solutions)
    rows = [((datetime.fromisoformat(t.value), _sequence(n)), a)
            for a, t, n in found.rows if isinstance(a, ox.NamedNode) and t is not None]
    if cursor is not None:  # the run of the cursor's key: only those after it in IRI order
        at = (datetime.fromisoformat(cursor[0].value), cursor[1])
        rows = [(key, a) for key, a in rows if key != at or a.value > cursor[2]]
    rows.sort(key=lambda r: r[1].value)
    rows.sort(key=lambda r: r[0], reverse=True)  # stable: ties stay in IRI order
    return [a for _, a in rows[:count]], complete


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
