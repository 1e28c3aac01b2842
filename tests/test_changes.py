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
from coopgraph.store.base import match
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


# ------------------------------------------------------------------ paging


def _run_store(size: int, *, with_sequence: int) -> tuple[Store, list[str]]:
    """A log whose ``size`` activities share one start time (one transaction, as a bulk
    import writes them); the first ``with_sequence`` carry a ``cg:sequence``, the others
    are as older stores recorded them (none). Returns the store and the activities."""
    store = open_store(":memory:")
    quads: list[ox.Quad] = []
    activities = []
    for i in range(size):
        recorded = provenance.activity(provenance.ADDED, GRAPH[f"entry/run-{i}"],
                                       agent="alice", when=at(12))
        if i >= with_sequence:
            recorded = [q for q in recorded if q.predicate.value != CG.sequence]
        activities.append(recorded[0].subject.value)
        quads += recorded
    quads += provenance.activity(provenance.ADDED, GRAPH["entry/later"], agent="bob",
                                 when=at(13))
    quads += provenance.activity(provenance.REMOVED, GRAPH["entry/earlier"], agent="bob",
                                 when=at(11))
    store.apply(Changes(insert=quads))
    return store, activities


def _pages(store: Store, limit: int, since: datetime | None = None) -> list[list[str]]:
    from coopgraph.changes import read_page

    pages, before = [], None
    while True:
        page = read_page(store, since=since, before=before, limit=limit)
        pages.append([c.activity for c in page.changes])
        if page.older is None:
            return pages
        assert page.older == page.changes[-1].activity
        before = page.older


@pytest.mark.parametrize("with_sequence", [40, 0, 25])
@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_pages_inside_a_run_of_equal_times_neither_skip_nor_repeat(
    limit: int, with_sequence: int
) -> None:
    """Pages of ``limit`` read by following ``older``: together, the whole feed once, in
    the one-query order, whether the run's activities have a cg:sequence, none (a store
    written before it), or some."""
    store, _ = _run_store(40, with_sequence=with_sequence)
    whole = [c.activity for c in list_changes(store, limit=1000)]
    assert len(whole) == len(set(whole)) == 42
    assert whole == [row[0] for row in _reference(store, at(0), 1000)]
    pages = _pages(store, limit)
    assert [a for page in pages for a in page] == whole
    assert all(len(page) == limit for page in pages[:-1]) and 1 <= len(pages[-1]) <= limit
    since = _pages(store, limit, since=at(11))  # since and before together
    assert [a for page in since for a in page] == whole[:-1]


def test_a_transaction_s_activities_are_newest_last_recorded_first() -> None:
    store, activities = _run_store(5, with_sequence=5)
    run = [c.activity for c in list_changes(store)][1:6]
    assert run == activities[::-1]


def test_a_page_reads_its_own_rows_not_the_whole_run() -> None:
    """A page of 10 in a run of 300 equal start times reads 11 activities (one more
    tells whether older ones follow), not the 300 of the run."""
    store, _ = _run_store(300, with_sequence=300)
    read: list[int] = []

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def query(self, sparql: str, **options: object) -> object:
            result = store.query(sparql, **options)  # type: ignore[arg-type]
            if sparql.startswith("#+ title@fr: Journal des modifications"):  # changes-*.rq
                read.append(len(result.rows))  # type: ignore[union-attr]
            return result

    from coopgraph.changes import read_page

    first = read_page(Counting(), limit=10)  # type: ignore[arg-type]
    assert len(first.changes) == 10 and max(read) == 11
    read.clear()
    second = read_page(Counting(), before=first.older, limit=10)  # type: ignore[arg-type]
    assert len(second.changes) == 10 and max(read) <= 12
    assert not {c.activity for c in first.changes} & {c.activity for c in second.changes}


def test_before_must_be_an_activity_of_the_log(log_store) -> None:
    from coopgraph.changes import read_page

    with pytest.raises(BadRequest, match="no activity"):
        read_page(log_store, before="https://w3id.org/coopgraph/id/activity/none")
    with pytest.raises(BadRequest, match="not an activity IRI"):
        read_page(log_store, before="not an iri")


def test_http_feeds_link_their_next_page(settings) -> None:
    from coopgraph.web import create_app

    store, _ = _run_store(12, with_sequence=12)
    client = create_app(settings, store=store).test_client()
    seen: list[str] = []
    url: str | None = "/changes.json?limit=5"
    while url:
        doc = client.get(url).get_json()
        seen += [c["activity"] for c in doc["changes"]]
        url = doc.get("next")
        assert url is None or "before=" in url and "limit=5" in url
    assert seen == [c.activity for c in list_changes(store, limit=1000)]
    atom = ET.fromstring(client.get("/changes.atom?limit=5").data)
    links = {link.get("rel"): link.get("href") for link in atom.findall(A + "link")}
    assert "before=" in links["next"] and "/changes.atom" in links["next"]
    last = ET.fromstring(client.get("/changes.atom?limit=100").data)
    assert "next" not in {link.get("rel") for link in last.findall(A + "link")}
    assert client.get("/changes.json?before=nope").status_code == 400


def test_pages_across_equal_sequences_neither_skip_nor_repeat() -> None:
    """Two processes writing in the same second can give two activities one sequence:
    the IRI then orders them, across a page boundary too."""
    store, activities = _run_store(12, with_sequence=12)
    shared = ox.Literal(str(provenance.sequence_of(at(12))), datatype=ox.NamedNode(XSD.integer))
    prov = ox.NamedNode(str(GRAPH) + "provenance")
    sequence = ox.NamedNode(CG.sequence)
    old = [q for found in match(store, [(ox.NamedNode(a), sequence, None, prov.value)
                                        for a in activities[3:9]]) for q in found]
    assert len(old) == 6
    store.apply(Changes(delete=old, insert=[ox.Quad(q.subject, sequence, shared, prov)
                                            for q in old]))
    whole = [c.activity for c in list_changes(store, limit=1000)]
    assert whole == [row[0] for row in _reference(store, at(0), 1000)]
    for limit in (1, 2, 4, 5):
        assert [a for page in _pages(store, limit) for a in page] == whole


def test_activities_written_before_sequences_get_theirs_in_the_feed_s_order(
    settings,
) -> None:
    """add_missing_sequences (run by load_project) keeps the feed's order, after which a
    page is read by sequence alone; a second run has nothing to do."""
    from coopgraph import changes as changes_module
    from coopgraph.load import load_project

    store, _ = _run_store(30, with_sequence=10)
    before = [c.activity for c in list_changes(store, limit=1000)]
    assert not changes_module._all_sequenced(store)
    load_project(store, settings, reason=False)  # also loads the project: its own log
    assert changes_module._all_sequenced(store)
    after = [c.activity for c in list_changes(store, limit=1000)]
    assert [a for a in after if a in set(before)] == before
    assert after == [row[0] for row in _reference(store, at(0), 1000)]
    assert [a for page in _pages(store, 7) for a in page] == after
    assert changes_module.add_missing_sequences(store) == 0
