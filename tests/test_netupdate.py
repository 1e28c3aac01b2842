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

from coopgraph import entries, netpatch, netupdate, netview, network
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


# ------------------------------------------------------------------ two-stage publish


@pytest.fixture
def large(monkeypatch) -> None:
    """The seeds' network counted as large: patches are published in two stages."""
    monkeypatch.setattr(network, "EXACT_BETWEENNESS_MAX_NODES", 5)
    monkeypatch.setattr(network, "BETWEENNESS_SAMPLES", 10)


def assert_consistent(snapshot: NetworkSnapshot) -> None:
    """Every tie joins two nodes of the graph; every node has metrics and a position."""
    graph = snapshot.graph
    assert all(u in graph and v in graph for u, v in graph.edges())
    assert set(snapshot.metrics) == set(graph.nodes) == set(snapshot.layout)
    assert snapshot.stats.nodes == graph.number_of_nodes()
    assert snapshot.stats.ties == graph.number_of_edges()


@pytest.mark.parametrize("seed", [5, 6])
def test_stage_one_is_the_exact_graph_with_provisional_figures(
    fresh_store, view, large, seed: int
) -> None:
    """Stage 1 of a patch (netpatch.patched_snapshot) holds exactly the rebuilt graph and
    degrees, and says components and layout are pending; stage 2 makes them those of a
    rebuild (random writes: new nodes, ties added and removed)."""
    view.refresh()
    rng = random.Random(seed)
    validator = Validator(fresh_store)
    present: list[str] = []
    for i in range(6):
        previous = view.latest
        assert previous is not None
        commits_before = len(view._commits)
        if present and rng.random() < 0.35:
            graph = present.pop(rng.randrange(len(present)))
            _write(fresh_store, validator, "remove", graph, None)
        else:
            graph = f"t-{seed}-{i}"
            _write(fresh_store, validator, "add", graph, CONTENTS[rng.choice(sorted(CONTENTS))])
            present.append(graph)
        commits = [c for _, c in view._commits[commits_before:]]
        stage1 = netpatch.patched_snapshot(fresh_store, previous.value, commits)
        rebuilt = build_snapshot(fresh_store)
        assert stage1.pending == ("components", "layout", "betweenness")
        assert_consistent(stage1)
        assert dict(stage1.graph.nodes(data=True)) == dict(rebuilt.graph.nodes(data=True))
        assert _edges(stage1) == _edges(rebuilt)
        for n, m in rebuilt.metrics.items():
            assert (stage1.metrics[n].degree, stage1.metrics[n].weighted_degree) == (
                m.degree, m.weighted_degree), n
        for by in ("degree", "betweenness"):  # carried to stage 2: the same order
            stage1.ranks(by)
        stage2 = netpatch.finished_snapshot(stage1)
        assert stage2 is not None and stage2.pending == ("betweenness",)
        for by in ("degree", "betweenness"):  # as stage 2 alone would rank
            order = network.rank_order(stage2.graph, by=by, metrics=stage2.metrics)
            assert stage2.ranks(by) == {n: i for i, n in enumerate(order, 1)}
        assert_consistent(stage2)
        assert_same(stage2, rebuilt, betweenness=False)
        assert view.catch_up().value.pending == ("betweenness",)


def test_untouched_nodes_keep_their_figures_at_stage_one(fresh_store, view, large) -> None:
    """A new organisation: untouched nodes keep their component and position, the new
    node joins its neighbour's component and is placed near it."""
    view.refresh()
    before = view.latest.value  # type: ignore[union-attr]
    _write(fresh_store, Validator(fresh_store), "add", "t-org", CONTENTS["organisation"])
    commits = [c for _, c in view._commits]
    stage1 = netpatch.patched_snapshot(fresh_store, before, commits)
    new = ID["org/test-commune-tournai"]
    assert new in stage1.graph and new not in before.graph
    (neighbour,) = set(stage1.graph.neighbors(new))
    assert stage1.metrics[new].component == before.metrics[neighbour].component
    assert stage1.metrics[new].degree == 1
    untouched = set(before.graph) - {new, neighbour} - set(stage1.graph.neighbors(neighbour))
    for n in untouched:
        assert stage1.layout[n] == before.layout[n]
        assert stage1.metrics[n].component == before.metrics[n].component


def test_coalesced_patches_equal_one_by_one(fresh_store, view, large) -> None:
    """Writes patched together (one restricted re-projection for all) give the view
    writes patched one after the other give."""
    view.refresh()
    together = NetworkView(fresh_store)
    together.refresh()
    validator = Validator(fresh_store)
    steps = [
        ("add", "t-c1", "partnership"),
        ("add", "t-c2", "organisation"),
        ("replace", "t-c1", "partner-of-only"),
        ("add", "t-c3", "offer-a"),
        ("remove", "t-c2", None),
        ("add", "t-c4", "partnership-only"),
    ]
    for op, graph, name in steps:
        _write(fresh_store, validator, op, graph, CONTENTS[name] if name else None)
        view.catch_up()
    assert len(together._commits) == len(steps)
    coalesced = together.catch_up()
    assert together.patches == 1 and view.patches == len(steps)
    assert_same(coalesced.value, view.latest.value, betweenness=False)  # type: ignore[union-attr]
    assert_same(coalesced.value, build_snapshot(fresh_store), betweenness=False)


def test_stage_two_waits_for_a_waiting_write(fresh_store, view, large) -> None:
    """Stage 2 is not run while another write waits (that write is patched first), and
    abandons when one comes between its steps."""
    from coopgraph.views import View

    view.refresh()
    validator = Validator(fresh_store)
    _write(fresh_store, validator, "add", "t-w1", CONTENTS["partnership"])
    stage1 = View.catch_up(view)  # the patch alone, as the view's loop publishes it
    assert "components" in stage1.value.pending
    assert netpatch.finished_snapshot(stage1.value, lambda: True) is None
    _write(fresh_store, validator, "add", "t-w2", CONTENTS["organisation"])
    assert view.waiting
    assert view.finish(stage1) is stage1 and view.latest is stage1
    built = view.catch_up()  # the waiting write patched, then both finished
    assert not view.waiting and built.value.pending == ("betweenness",)
    assert_same(built.value, build_snapshot(fresh_store), betweenness=False)


def test_the_api_says_what_is_provisional(settings, fresh_store, large) -> None:
    """Between the two stages /api/network.json serves the write with ``pending`` (and
    ``X-Coopgraph-Pending``) naming components and layout; never a tie to a missing node;
    then only betweenness."""
    from coopgraph.views import View
    from coopgraph.web import create_app

    app = create_app(settings, store=fresh_store)
    view = app.extensions["coopgraph"].network
    view.answer_after_quiet = 3600.0  # no background rendering in this test
    view.refresh()  # before any request: no background thread, this test drives
    client = app.test_client()
    focus = "/api/network.json?focus=org/test-commune-tournai&depth=1"
    assert client.get(focus).status_code == 404
    _write(fresh_store, Validator(fresh_store), "add", "t-api", CONTENTS["organisation"])
    stage1 = View.catch_up(view)
    for path in (focus, "/api/network.json?limit=5", "/api/network.json?focus=org/eurometropole"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        body = resp.get_json()
        assert body["pending"] == ["components", "layout", "betweenness"]
        assert resp.headers["X-Coopgraph-Pending"] == "components,layout,betweenness"
        assert resp.headers["X-Coopgraph-Stale"] == "true"
        ids = {n["id"] for n in body["nodes"]}
        assert all({link["source"], link["target"]} <= ids for link in body["links"])
    assert ID["org/test-commune-tournai"] in ids
    view.finish(stage1)
    resp = client.get(focus)
    assert resp.get_json()["pending"] == ["betweenness"]
    assert resp.headers["X-Coopgraph-Pending"] == "betweenness"
    view.complete()
    resp = client.get(focus)
    assert resp.get_json()["pending"] == [] and "X-Coopgraph-Pending" not in resp.headers
    view.close()


def test_a_provisional_build_saved_is_finished_when_read_back(
    fresh_store, large, tmp_path: Path
) -> None:
    """A stage-1 build saved (a server stopped between the two stages) reads back with
    its components and layout recomputed; betweenness stays pending."""
    from coopgraph.views import View

    path = tmp_path / "network.pickle"
    saving = NetworkView(fresh_store, persist=path)
    saving.save_in_child = False
    saving.refresh()
    _write(fresh_store, Validator(fresh_store), "add", "t-saved", CONTENTS["organisation"])
    stage1 = View.catch_up(saving)
    assert "layout" in stage1.value.pending
    saving._save(stage1)
    again = NetworkView(fresh_store, persist=path).load()
    assert again is not None and again.value.pending == ("betweenness",)
    assert_same(again.value, build_snapshot(fresh_store), betweenness=False)
