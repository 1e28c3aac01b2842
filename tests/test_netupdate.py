"""The network view patched after each write equals a full rebuild (issue 12, item 5):
on add / replace / remove of entries, on random sequences of them, and through the app
(the answers change at once, the patched build is the one served)."""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path
from typing import Any

import pytest

from coopgraph import entries, netupdate, netview, network
from coopgraph.netview import NetworkSnapshot, NetworkView, build_snapshot
from coopgraph.store import Store
from coopgraph.validate import Validator
from coopgraph.vocab import ID

VALID = Path(__file__).parent / "data" / "valid"
PARTNERSHIP = (VALID / "new-partnership.ttl").read_text("utf-8")
OFFER = (VALID / "new-offer.ttl").read_text("utf-8")
ORGANISATION = (VALID / "new-organisation.ttl").read_text("utf-8")
PARTNER_OF_LINE = next(line for line in PARTNERSHIP.splitlines() if "cg:partnerOf" in line)
PREFIXES = "\n".join(line for line in PARTNERSHIP.splitlines() if line.startswith("@prefix"))


def _offer(slug: str, *, duty: str, other: str, posted: str) -> str:
    """The fixture offer under another IRI, with a duty station (an employment tie) and
    an intermediary (an offer tie)."""
    return (
        OFFER.replace("offer/test-lille-kortrijk-stage", f"offer/test-{slug}")
        .replace('"2024-01-10"^^xsd:date', f'"{posted}"^^xsd:date')
        .replace(
            "    schema:jobLocation",
            f"    cg:dutyStation <{ID[duty]}> ;\n    cg:intermediary <{ID[other]}> ;\n"
            "    schema:jobLocation",
        )
    )


#: Entry contents a random sequence draws from: ties of every kind the fixtures make,
#: the same tie from two graphs, a cg:partnerOf later covered by a cg:Partnership.
CONTENTS: dict[str, str] = {
    "partnership": PARTNERSHIP,
    "partnership-2030": PARTNERSHIP.replace('"2026"^^xsd:gYear', '"2030"^^xsd:gYear'),
    "partnership-only": PARTNERSHIP.replace(PARTNER_OF_LINE, ""),
    "partner-of-only": PREFIXES + "\n" + PARTNER_OF_LINE + "\n",
    "organisation": ORGANISATION,
    "organisation-elsewhere": ORGANISATION.replace("place/tournai", "place/kortrijk"),
    "offer-a": _offer("a", duty="place/kortrijk", other="org/ville-de-lille",
                      posted="2024-01-10"),
    "offer-b": _offer("a", duty="place/tournai", other="org/france-volontaires",
                      posted="2023-05-02"),
}


def _edges(snapshot: NetworkSnapshot) -> dict[str, tuple[frozenset[str], dict[str, Any]]]:
    return {
        key: (frozenset((u, v)), data)
        for u, v, key, data in snapshot.graph.edges(keys=True, data=True)
    }


def _without_betweenness(snapshot: NetworkSnapshot) -> Any:
    metrics = {n: dataclasses.replace(m, betweenness=0.0) for n, m in snapshot.metrics.items()}
    return dataclasses.replace(snapshot.stats, metrics=metrics)


def assert_same(
    patched: NetworkSnapshot, rebuilt: NetworkSnapshot, *, betweenness: bool = True
) -> None:
    """Nodes, ties (with their attributes), metrics, figures and layout all equal
    (``betweenness=False``: all but the betweenness a patch leaves pending)."""
    assert dict(patched.graph.nodes(data=True)) == dict(rebuilt.graph.nodes(data=True))
    assert _edges(patched) == _edges(rebuilt)
    assert _without_betweenness(patched) == _without_betweenness(rebuilt)
    assert patched.layout == rebuilt.layout
    assert patched.tie_index() == netupdate.TieIndex.of(rebuilt.graph)
    if betweenness:
        assert patched.metrics == rebuilt.metrics
        assert patched.stats == rebuilt.stats
        assert patched.pending == ()


def _write(store: Store, validator: Validator, op: str, graph: str, content: str | None) -> None:
    if op == "remove":
        entries.remove_entry(store, graph, agent="alice", source="test")
        return
    assert content is not None
    write = entries.add_entry if op == "add" else entries.replace_entry
    write(store, content.encode("utf-8"), "ttl", graph=graph, agent="alice",
          source=f"{graph}.ttl", validator=validator)


@pytest.fixture
def view(fresh_store: Store) -> NetworkView:
    view = NetworkView(fresh_store)
    view.refresh()
    return view


def test_add_replace_remove_patch_instead_of_rebuilding(fresh_store, view) -> None:
    validator = Validator(fresh_store)
    steps = [
        ("add", "t-partnership", "partnership"),
        ("replace", "t-partnership", "partnership-2030"),
        ("add", "t-offer", "offer-a"),
        ("replace", "t-offer", "offer-b"),
        ("remove", "t-partnership", None),
        ("remove", "t-offer", None),
    ]
    first = view.latest
    assert first is not None
    for op, graph, name in steps:
        _write(fresh_store, validator, op, graph, CONTENTS[name] if name else None)
        built = view.catch_up()
        assert not view.stale
        assert_same(built.value, build_snapshot(fresh_store))
    assert view.builds == 1 and view.patches == len(steps)
    # back where it started: the same network as before the writes
    assert_same(view.latest.value, first.value)  # type: ignore[union-attr]


def test_patched_answers_change_with_the_writes(fresh_store, view) -> None:
    validator = Validator(fresh_store)
    via = ID["partnership/test-france-volontaires-so-cooperation-volontariat"]
    volontaires = ID["org/france-volontaires"]
    aquitaine = ID["org/conseil-regional-nouvelle-aquitaine"]

    def ties(kind: str) -> list[dict[str, Any]]:
        graph = view.latest.value.graph  # type: ignore[union-attr]
        return [d for _, _, d in graph.edges(data=True) if d["type"] == kind
                and {d["source"], d["target"]} == {volontaires, aquitaine}]

    before = len(ties("partnership"))
    _write(fresh_store, validator, "add", "t-pof", CONTENTS["partner-of-only"])
    view.catch_up()
    (partner_of,) = [d for d in ties("partnership") if "via" not in d]
    assert partner_of["sources"] == [str(ID).replace("/id/", "/graph/") + "entry/t-pof"]
    # a cg:Partnership covering the pair, in another graph, removes the cg:partnerOf tie
    _write(fresh_store, validator, "add", "t-part", CONTENTS["partnership-only"])
    view.catch_up()
    assert [d.get("via") for d in ties("partnership")] == [via]
    _write(fresh_store, validator, "remove", "t-part", None)
    view.catch_up()
    assert [d.get("via") for d in ties("partnership")] == [None]
    assert len(ties("partnership")) == before + 1
    assert_same(view.latest.value, build_snapshot(fresh_store))  # type: ignore[union-attr]


@pytest.mark.parametrize(("seed", "large"), [(1, False), (2, True), (3, False), (4, True)])
def test_random_writes_patched_equal_rebuilt(
    fresh_store, view, seed: int, large: bool, monkeypatch
) -> None:
    """Random add / replace / remove sequences: after each, patch == full rebuild.
    ``large``: the seeds' network counted as large (figures patched, betweenness
    pending until :meth:`NetworkView.complete`)."""
    if large:
        monkeypatch.setattr(network, "EXACT_BETWEENNESS_MAX_NODES", 5)
        monkeypatch.setattr(network, "BETWEENNESS_SAMPLES", 10)
        view.refresh()
    rng = random.Random(seed)
    validator = Validator(fresh_store)
    present: dict[str, str] = {}
    for i in range(7):
        if present and rng.random() < 0.3:
            graph = rng.choice(sorted(present))
            _write(fresh_store, validator, "remove", graph, None)
            del present[graph]
        elif present and rng.random() < 0.5:
            graph = rng.choice(sorted(present))
            name = rng.choice(sorted(CONTENTS))
            _write(fresh_store, validator, "replace", graph, CONTENTS[name])
            present[graph] = name
        else:
            name = rng.choice(sorted(CONTENTS))
            graph = f"t-{seed}-{i}"
            _write(fresh_store, validator, "add", graph, CONTENTS[name])
            present[graph] = name
        built = view.catch_up()
        assert built.value.pending == (("betweenness",) if large else ())
        assert_same(built.value, build_snapshot(fresh_store), betweenness=not large)
    done = view.complete()
    assert done is not None
    assert_same(done.value, build_snapshot(fresh_store))
    assert view.builds == (2 if large else 1)


def test_a_large_network_defers_betweenness(fresh_store, view, monkeypatch) -> None:
    """Above the exact-betweenness size the patch carries betweenness over, says it is
    pending (stale), and :meth:`NetworkView.complete` recomputes it as a rebuild would."""
    monkeypatch.setattr(network, "EXACT_BETWEENNESS_MAX_NODES", 5)
    monkeypatch.setattr(network, "BETWEENNESS_SAMPLES", 10)
    view.refresh()
    _write(fresh_store, Validator(fresh_store), "add", "t-big", CONTENTS["partnership"])
    built = view.catch_up()
    assert built.value.pending == ("betweenness",) and view.stale
    rebuilt = build_snapshot(fresh_store)
    assert {n: m.degree for n, m in built.value.metrics.items()} == {
        n: m.degree for n, m in rebuilt.metrics.items()
    }
    done = view.complete()
    assert done is not None and done is view.latest and not view.stale
    assert_same(done.value, rebuilt)


def test_a_commit_of_everything_rebuilds(fresh_store, view) -> None:
    from coopgraph import events

    events.publish(fresh_store, events.Commit(graphs=(), everything=True))
    view.catch_up()
    assert view.builds == 2 and view.patches == 0


def test_restricted_queries_answer_as_the_whole_run(project_store) -> None:
    """Each projection query restricted to every graph (ties) or to every node (nodes)
    gives exactly the triples of its whole run: the markers only narrow it."""
    graphs = sorted(project_store.graph_sizes())
    queries = network.projection_queries()
    whole = {name: set(project_store.query(text).triples) for name, text in queries.items()}
    nodes = sorted({str(t.subject.value) for t in whole["nodes"]
                    if t.predicate.value == network.RDF.type})
    assert len(nodes) > 20
    for name, text in queries.items():
        var, iris = ("n", nodes) if name == "nodes" else ("g", graphs)
        query = netupdate.restricted(text, var, iris)
        assert query is not None, f"{name}.rq has no #@restrict ?{var} marker"
        assert "#@" not in query.replace("#@restrict", ""), name
        assert set(project_store.query(query).triples) == whole[name], name
    assert netupdate.restricted("SELECT * WHERE { ?s ?p ?o }", "g", ["urn:x:a"]) is None


def test_served_network_is_patched_after_a_write(settings, fresh_store) -> None:
    from coopgraph.web import create_app

    app = create_app(settings, store=fresh_store)
    client = app.test_client()
    view = app.extensions["coopgraph"].network
    assert client.get("/api/network.json").status_code == 200
    _write(fresh_store, Validator(fresh_store), "add", "t-served", CONTENTS["offer-a"])
    deadline = 600  # polls of 0.05 s: the background thread patches, never a test timing
    while (view.stale or view.answering is not None) and deadline:
        time.sleep(0.05)
        deadline -= 1
    assert not view.stale
    resp = client.get("/api/network.json")
    assert resp.headers["X-Coopgraph-Stale"] == "false"
    links = resp.get_json()["links"]
    assert any(link.get("via") == ID["offer/test-a"] for link in links)
    assert view.builds == 1 and view.patches == 1
    view.close()


def test_snapshot_unpickles_without_pending() -> None:
    """A snapshot pickled before ``pending`` existed reads back as not pending."""
    snap = netview.snapshot_of(network.graph_from_ties([("a", "b", "partnership")]))
    state = snap.__getstate__()
    state.pop("pending")
    restored = NetworkSnapshot.__new__(NetworkSnapshot)
    restored.__setstate__(state)
    assert restored.pending == () and restored.metrics == snap.metrics


def test_patched_build_is_saved_for_the_next_start(tmp_path: Path, settings) -> None:
    """A served view saves its patched build beside a disk store: a restart on the
    written store reads it back (no rebuild) and it equals a rebuild."""
    from coopgraph.load import load_project
    from coopgraph.store import open_store

    store = open_store(str(tmp_path / "store"))
    try:
        load_project(store, settings)
        path = netview.persist_path(store)
        view = NetworkView(store, persist=path)
        view.save_every = view.save_after = 0.0
        view.start()
        view.get(wait=120)
        _write(store, Validator(store), "add", "t-saved", CONTENTS["partnership"])
        fingerprint = netview.store_fingerprint(store)
        for _ in range(1200):  # polls of 0.05 s until the patched build is on disk
            saved = NetworkView(store, persist=path).load()
            if saved is not None:
                break
            time.sleep(0.05)
        view.close()
        assert saved is not None and saved.fingerprint == fingerprint
        assert view.builds == 1 and view.patches == 1
        assert_same(saved.value, build_snapshot(store))
    finally:
        store.close()


def test_heavy_answers_come_from_the_previous_build_while_rendered(fresh_store, view) -> None:
    """While a patched build's answers are rendered in the background, an answer the
    background renders comes from the previous build; any other is rendered at once."""
    from coopgraph.views import _PREPARING

    first = view.latest
    assert first is not None
    token = _PREPARING.set((view, first))  # as the background renders a build's answers
    try:
        assert view.rendered(first, ("heavy",), lambda: b"old") == (b"old", first)
    finally:
        _PREPARING.reset(token)
    assert view.rendered(first, ("quick",), lambda: b"old quick") == (b"old quick", first)
    _write(fresh_store, Validator(fresh_store), "add", "t-heavy", CONTENTS["partnership"])
    second = view.catch_up()
    for _ in range(1200):  # polls: the background thread of the patch finishes first
        if view.answering is None:
            break
        time.sleep(0.05)
    view.answering = second  # as while the background renders its answers
    assert view.rendered(second, ("heavy",), lambda: b"new") == (b"old", first)
    assert view.rendered(second, ("quick",), lambda: b"new quick") == (b"new quick", second)
    view.answering = None
    assert view.rendered(second, ("heavy",), lambda: b"new") == (b"new", second)
