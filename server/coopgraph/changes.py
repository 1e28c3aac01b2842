"""The change feed: what was loaded, added, replaced or removed, read from the PROV-O
activity log (``cgg:provenance``), newest first, as Atom or JSON.

Each :class:`Change` is one ``prov:Activity`` written by :mod:`coopgraph.provenance`
(``cg:Load``, ``cg:EntryAddition``, ``cg:EntryReplacement``, ``cg:EntryRemoval``): when
it started, who did it (the token name, or the loader), which named graph it generated or
invalidated, and where the content came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import pyoxigraph as ox

from coopgraph import provenance
from coopgraph.errors import BadRequest
from coopgraph.queries import internal_sparql
from coopgraph.sparql_text import inject_values
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import CG, GRAPH, XSD

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
    text = internal_sparql("changes")
    if since is not None:
        stamp = ox.Literal(_stamp(since), datatype=ox.NamedNode(XSD.dateTime))
        text = inject_values(text, {"since": stamp})
    result = store.query(text, limit=limit)
    assert isinstance(result, Solutions)
    out: list[Change] = []
    for row in result.dicts():
        kind = row["kind"].value.removeprefix(str(CG))
        if "agentName" in row:
            agent: str | None = row["agentName"].value
        else:
            agent = row["agent"].value.rsplit("/", 1)[-1] if "agent" in row else None
        out.append(
            Change(
                activity=row["activity"].value,
                action=ACTIONS[kind],
                time=row["time"].value,
                graph=row["graph"].value,
                agent=agent,
                used=row["used"].value if "used" in row else None,
                comment=row["comment"].value if "comment" in row else None,
            )
        )
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
