"""The change feed (/changes): read from the provenance log, Atom and JSON, ``?since=``."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pyoxigraph as ox
import pytest

from coopgraph import provenance
from coopgraph.changes import ACTIONS, ATOM_NS, feed_atom, feed_json, list_changes, parse_since
from coopgraph.errors import BadRequest
from coopgraph.queries import internal_sparql
from coopgraph.sparql_text import inject_values
from coopgraph.store import Changes, Store, open_store
from coopgraph.vocab import CG, GRAPH, XSD

A = "{" + ATOM_NS + "}"


def at(hour: int) -> datetime:
    return datetime(2025, 3, 1, hour, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def log_store() -> Store:
    """A store whose provenance log holds four known activities."""
    store = open_store(":memory:")
    quads = (
        provenance.activity(provenance.LOADED, GRAPH["seed/000"], agent="coopgraph-loader",
                            used="data/seeds/000-lille-oujda.trig", when=at(8))
        + provenance.activity(provenance.ADDED, GRAPH["entry/one"], agent="alice",
                              used="HTTP POST /entries", when=at(9))
        + provenance.activity(provenance.REPLACED, GRAPH["entry/one"], agent="bob",
                              used="HTTP PUT /entries/one", comment="typo", when=at(10))
        + provenance.activity(provenance.REMOVED, GRAPH["entry/one"], agent="alice",
                              used="HTTP DELETE /entries/one", when=at(11))
    )
    store.apply(Changes(insert=quads))
    return store


def test_changes_newest_first(log_store) -> None:
    changes = list_changes(log_store)
    assert [c.action for c in changes] == ["removed", "replaced", "added", "loaded"]
    assert [c.time for c in changes] == [
        "2025-03-01T11:00:00Z", "2025-03-01T10:00:00Z", "2025-03-01T09:00:00Z",
        "2025-03-01T08:00:00Z",
    ]
    removed, replaced = changes[0], changes[1]
    assert (removed.graph, removed.agent, removed.used) == (
        GRAPH["entry/one"], "alice", "HTTP DELETE /entries/one",
    )
    assert (replaced.agent, replaced.comment) == ("bob", "typo")


def test_changes_since_is_exclusive(log_store) -> None:
    assert [c.action for c in list_changes(log_store, since=at(9))] == ["removed", "replaced"]
    assert list_changes(log_store, since=at(11)) == []
    assert len(list_changes(log_store, since=datetime(2000, 1, 1, tzinfo=UTC))) == 4


def test_changes_limit(log_store) -> None:
    assert [c.action for c in list_changes(log_store, limit=1)] == ["removed"]
    with pytest.raises(BadRequest):
        list_changes(log_store, limit=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T10:00:00Z", at(10)),
        ("2025-03-01T12:00:00+02:00", at(10)),
        ("2025-03-01T10:00:00", at(10)),  # naive = UTC
        ("2025-03-01", at(0)),
        ("2025-03-01T11:00:00 01:00", at(10)),  # '+' decoded to a space in a query string
    ],
)
def test_parse_since(text, expected) -> None:
    assert parse_since(text) == expected


def test_parse_since_rejects_garbage() -> None:
    with pytest.raises(BadRequest, match="ISO 8601"):
        parse_since("last tuesday")


def test_feed_json_shape(log_store) -> None:
    doc = feed_json(list_changes(log_store, since=at(10)), since=at(10))
    assert doc["since"] == "2025-03-01T10:00:00Z" and doc["count"] == 1
    assert doc["changes"][0]["action"] == "removed"
    assert "comment" not in doc["changes"][0]  # absent values are left out


def test_feed_atom_parses(log_store) -> None:
    body = feed_atom(list_changes(log_store), self_url="http://x/changes.atom",
                     json_url="http://x/changes.json", lang="en")
    root = ET.fromstring(body)
    assert root.tag == A + "feed"
    assert root.findtext(A + "id") == "http://x/changes.atom"
    assert root.findtext(A + "updated") == "2025-03-01T11:00:00Z"
    entries = root.findall(A + "entry")
    assert len(entries) == 4
    first = entries[0]
    assert first.findtext(A + "title") == "Entry removed : cgg:entry/one"
    assert first.findtext(f"{A}author/{A}name") == "alice"
    assert first.find(A + "link").get("href") == GRAPH["entry/one"]
    assert first.find(A + "category").get("term") == "removed"
    links = {link.get("rel"): link.get("href") for link in root.findall(A + "link")}
    assert links == {"self": "http://x/changes.atom", "alternate": "http://x/changes.json"}


# ------------------------------------------------------------------ HTTP


@pytest.fixture(scope="module")
def client(settings, log_store):
    from coopgraph.web import create_app

    return create_app(settings, store=log_store).test_client()


def test_http_changes_atom_by_default(client) -> None:
    resp = client.get("/changes")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    assert len(ET.fromstring(resp.data).findall(A + "entry")) == 4


def test_http_changes_json(client) -> None:
    resp = client.get("/changes.json?since=2025-03-01T09:30:00Z")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert [c["action"] for c in resp.get_json()["changes"]] == ["removed", "replaced"]
    negotiated = client.get("/changes?limit=1", headers={"Accept": "application/json"})
    assert negotiated.mimetype == "application/json"
    assert negotiated.get_json()["count"] == 1


def test_http_changes_errors(client) -> None:
    resp = client.get("/changes.json?since=soon")
    assert resp.status_code == 400 and "ISO 8601" in resp.get_json()["detail"]
    assert client.get("/changes.json?limit=many").status_code == 400
    assert client.get("/changes.rss").status_code == 404


def _reference(store: Store, since: datetime, limit: int) -> list[tuple[str, ...]]:
    """The feed as one SPARQL query (``queries/internal/changes.rq``, what list_changes
    ran before it read a page at a time): the yardstick, row for row."""
    stamp = ox.Literal(since.isoformat().replace("+00:00", "Z"),
                       datatype=ox.NamedNode(XSD.dateTime))
    result = store.query(inject_values(internal_sparql("changes"), {"since": stamp}), limit=limit)
    rows = []
    for row in result.dicts():
        agent = row["agentName"].value if "agentName" in row else (
            row["agent"].value.rsplit("/", 1)[-1] if "agent" in row else None)
        rows.append((row["activity"].value, ACTIONS[row["kind"].value.removeprefix(str(CG))],
                     row["time"].value, row["graph"].value, agent,
                     row["used"].value if "used" in row else None,
                     row["comment"].value if "comment" in row else None))
    return rows


def test_pages_of_the_feed_equal_the_whole_query() -> None:
    """The feed read a page at a time by lookups equals the one-query feed, on a log of
    many activities (same times, several graphs, agents with and without a label)."""
    import random

    rng = random.Random(7)
    store = open_store(":memory:")
    quads = []
    kinds = [provenance.LOADED, provenance.ADDED, provenance.REPLACED, provenance.REMOVED]
    for i in range(300):
        quads += provenance.activity(
            rng.choice(kinds), GRAPH[f"entry/e{rng.randrange(40)}"],
            agent=rng.choice(["alice", "bob", "coopgraph-loader"]),
            used=rng.choice([f"HTTP PUT /entries/e{i}", None]),
            comment=rng.choice(["typo", None, None]), when=at(rng.randrange(8, 20)),
        )
    store.apply(Changes(insert=quads))
    for since, limit in ((at(0), 1), (at(0), 100), (at(0), 1000), (at(12), 7), (at(19), 50)):
        got = [(c.activity, c.action, c.time, c.graph, c.agent, c.used, c.comment)
               for c in list_changes(store, since=since, limit=limit)]
        assert got == _reference(store, since, limit), (since, limit)
    assert len(list_changes(store, limit=1000)) == 300
