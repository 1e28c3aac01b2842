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


def list_changes(
    store: Store, *, since: datetime | None = None, limit: int = 100
) -> list[Change]:
    """Changes after ``since`` (exclusive), newest first, at most ``limit``.

    :raises BadRequest: ``limit`` outside 1…:data:`MAX_LIMIT`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: expected 1 to {MAX_LIMIT}")
    # A VALUES row made from a typed literal we build (never request text): pyoxigraph's
    # substitutions reach only selected variables, so bindings= cannot carry the bound.
    bounds: dict[str, ox.Literal] = {}
    if since is not None:
        bounds["since"] = ox.Literal(_stamp(since), datatype=ox.NamedNode(XSD.dateTime))
    out: list[Change] = []
    seen = 0
    count = limit
    while len(out) < limit:  # more than once only when activities yield no change
        page, complete = _newest(store, bounds, count)
        out += _changes_of(store, page[seen:])
        if complete:
            break
        seen, count = len(page), count * 2
    return out[:limit]


def _newest(
    store: Store, bounds: dict[str, ox.Literal], count: int
) -> tuple[list[ox.NamedNode], bool]:
    """The ``count`` newest activities (after ``bounds["since"]``), newest first, ties
    by IRI (as ``ORDER BY DESC(?time) ?activity`` sorts them), and whether they are all
    there are. Two reads: the ``count`` newest times (a sort of times only), then the
    activities from the oldest of them on, sorted here: ``ORDER BY ?activity`` in the
    store compares IRIs by their text, 2.5 s for the 10,000 activities of a 1M import,
    and the one query joining every activity's details (``changes.rq``) took 1–6 s."""
    times = store.query(inject_values(internal_sparql("changes-times"), bounds), limit=count)
    assert isinstance(times, Solutions)
    complete = len(times.rows) < count
    wanted = dict(bounds)
    if not complete and isinstance(times.rows[-1][0], ox.Literal):
        wanted["from"] = times.rows[-1][0]
    found = store.query(inject_values(internal_sparql("changes-from"), wanted))
    assert isinstance(found, Solutions)
    rows = [(datetime.fromisoformat(t.value.replace("Z", "+00:00")), a)
            for a, t in found.rows if isinstance(a, ox.NamedNode) and t is not None]
    rows.sort(key=lambda r: r[1].value)
    rows.sort(key=lambda r: r[0], reverse=True)  # stable: ties stay in IRI order
    return [a for _, a in rows[:count]], complete


def _changes_of(store: Store, activities: list[ox.NamedNode]) -> list[Change]:
    """The changes of ``activities`` (newest first, as given), by lookups in the log:
    one change per activity of a feed kind and graph it generated or invalidated."""
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
    out: list[Change] = []
    none: list[str | None] = [None]
    for activity, by in zip(activities, facts, strict=True):
        types = set(by.get(str(RDF.type), []))
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
            out.append(Change(activity=activity.value, action=action, time=time,
                              graph=graph, agent=agent_name, used=used, comment=comment))
    return out


def short_graph(graph: str) -> str:
    """``https://w3id.org/coopgraph/graph/entry/x`` → ``cgg:entry/x``."""
    return "cgg:" + graph.removeprefix(str(GRAPH)) if graph.startswith(str(GRAPH)) else graph


def feed_json(changes: list[Change], *, since: datetime | None = None) -> dict[str, Any]:
    """The JSON feed: ``since``, ``count``, ``changes`` (newest first)."""
    return {
        "since": _stamp(since) if since else None,
        "count": len(changes),
        "changes": [c.to_dict() for c in changes],
    }


def feed_atom(
    changes: list[Change],
    *,
    self_url: str,
    json_url: str | None = None,
    lang: str = "fr",
    title: str = "coopgraph",
) -> bytes:
    """An Atom 1.0 feed (RFC 4287): one ``entry`` per change, newest first.

    :param self_url: the feed's own URL (also its ``id``).
    :param json_url: the JSON twin, linked as ``alternate``.
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
