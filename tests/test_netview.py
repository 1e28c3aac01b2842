"""The network as a maintained view: refreshed by writes, never rebuilt per request,
persisted beside a disk store; focus/depth/limit; /stats totals by kind of graph."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from coopgraph import entries, events, netpatch, netview, network
from coopgraph.errors import BadRequest, NotFound
from coopgraph.netview import NetworkView, build_snapshot, select
from coopgraph.settings import Settings
from coopgraph.store import Store, open_store
from coopgraph.summary import GRAPH_KINDS, graph_kind, graph_totals
from coopgraph.validate import Validator
from coopgraph.vocab import ID

DATA = Path(__file__).parent / "data"
PARTNERSHIP = DATA / "valid" / "new-partnership.ttl"
VOLONTAIRES = ID["org/france-volontaires"]
AQUITAINE = ID["org/conseil-regional-nouvelle-aquitaine"]
VIA = ID["partnership/test-france-volontaires-so-cooperation-volontariat"]


def wait_fresh(view: NetworkView, timeout: float = 60.0) -> None:
    """Wait until the background build reflects every write and its answers are
    rendered (a poll, not a timing)."""
    deadline = time.monotonic() + timeout
    while (view.stale or view.answering is not None) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not view.stale, view.last_error


def ties_between(data: dict, a: str, b: str) -> list[dict]:
    return [
        link for link in data["links"] if {link["source"], link["target"]} == {a, b}
    ]


# ------------------------------------------------------------------ writes refresh the view


def test_add_replace_remove_refresh_network_and_ranking(settings: Settings, fresh_store) -> None:
    from coopgraph.web import create_app

    app = create_app(settings, store=fresh_store)
    client = app.test_client()
    view = app.extensions["coopgraph"].network
    before = client.get("/api/network.json").get_json()
    assert not any(link.get("via") == VIA for link in before["links"])
    rank_before = client.get("/ranking.json").get_json()["rows"]
    degree_before = next(r["degree"] for r in rank_before if r["iri"] == VOLONTAIRES)

    validator = Validator(fresh_store)
    entries.add_entry(
        fresh_store, PARTNERSHIP.read_bytes(), "ttl", graph="test-partnership", agent="alice",
        source=PARTNERSHIP.name, validator=validator,
    )
    wait_fresh(view)
    resp = client.get("/api/network.json")
    assert resp.headers["X-Coopgraph-Stale"] == "false"
    assert int(resp.headers["X-Coopgraph-Generation"]) == events.generation(fresh_store)
    added = [link for link in resp.get_json()["links"] if link.get("via") == VIA]
    assert len(added) == 1 and {added[0]["source"], added[0]["target"]} == {VOLONTAIRES, AQUITAINE}
    rank_after = client.get("/ranking.json").get_json()["rows"]
    degree_after = next(r["degree"] for r in rank_after if r["iri"] == VOLONTAIRES)
    assert degree_after >= degree_before
    weighted = {r["iri"]: r["weighted_degree"] for r in rank_after}
    assert weighted[VOLONTAIRES] == 1 + next(
        r["weighted_degree"] for r in rank_before if r["iri"] == VOLONTAIRES
    )

    replaced = PARTNERSHIP.read_bytes().replace(b'"2026"^^xsd:gYear', b'"2030"^^xsd:gYear')
    entries.replace_entry(
        fresh_store, replaced, "ttl", graph="test-partnership", agent="alice",
        source="replaced.ttl", validator=validator,
    )
    wait_fresh(view)
    data = client.get("/api/network.json").get_json()
    (tie,) = [link for link in data["links"] if link.get("via") == VIA]
    assert tie["end"] == "2030"  # a year keeps its precision

    entries.remove_entry(fresh_store, "test-partnership", agent="alice", source="test")
    wait_fresh(view)
    data = client.get("/api/network.json").get_json()
    assert not any(link.get("via") == VIA for link in data["links"])
    rows = client.get("/ranking.json").get_json()["rows"]
    assert {r["iri"]: r["weighted_degree"] for r in rows} == {
        r["iri"]: r["weighted_degree"] for r in rank_before
    }


def test_stale_build_keeps_answering_until_the_new_one_is_ready(fresh_store) -> None:
    """A write marks the view stale; readers get the previous build meanwhile."""
    view = NetworkView(fresh_store)
    first = view.refresh()
    events.publish(fresh_store, events.Commit(graphs=("urn:test",)))
    assert view.stale
    assert view.get() is first  # the previous build, no rebuild in the reader
    assert view.builds == 1


# ------------------------------------------------------------------ nothing rebuilt per request


def test_requests_never_rebuild_the_network(settings, project_store, monkeypatch) -> None:
    from coopgraph.web import create_app

    calls: list[int] = []
    real_build, real_metrics = network.build_graph, network.compute_metrics

    def counting_build(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_build(*args, **kwargs)

    metric_calls: list[int] = []

    def counting_metrics(*args, **kwargs):  # type: ignore[no-untyped-def]
        metric_calls.append(1)
        return real_metrics(*args, **kwargs)

    monkeypatch.setattr(network, "build_graph", counting_build)
    monkeypatch.setattr(network, "compute_metrics", counting_metrics)
    app = create_app(settings, store=project_store)
    client = app.test_client()
    paths = [
        "/api/network.json", "/api/network.json?limit=5", "/ranking", "/ranking.json",
        "/ranking.json?by=betweenness", "/export/network.graphml", "/export/network.gexf",
        "/export/network.zip", "/export/network.jsonld", "/id/org/ville-de-lille",
        "/api/network.json?focus=org/ville-de-lille&depth=2",
    ]
    for _ in range(3):
        for path in paths:
            assert client.get(path).status_code == 200, path
    view = app.extensions["coopgraph"].network
    assert view.builds == 1 and len(calls) == 1 and len(metric_calls) == 1
    # a filtered network is derived once per build and filter, then reused
    for _ in range(3):
        assert client.get("/api/network.json?asOf=2022-11-15").status_code == 200
        assert client.get("/ranking.json?asOf=2022-11-15").status_code == 200
    assert len(calls) == 1 and len(metric_calls) == 2
    # rendered answers are reused too
    renders = view.bodies.renders
    client.get("/export/network.graphml")
    assert view.bodies.renders == renders


# ------------------------------------------------------------------ focus, depth, limit


@pytest.fixture(scope="module")
def snapshot(project_store: Store) -> netview.NetworkSnapshot:
    return build_snapshot(project_store)


def test_focus_depth_is_the_neighbourhood(snapshot) -> None:
    import networkx as nx

    lille = ID["org/ville-de-lille"]
    for depth in (0, 1, 2):
        part = select(snapshot, focus=lille, depth=depth)
        expected = nx.single_source_shortest_path_length(snapshot.graph, lille, cutoff=depth)
        assert set(part.nodes) == set(expected)
        # every tie between kept nodes, and only those
        assert part.number_of_edges() == snapshot.graph.subgraph(expected).number_of_edges()
    assert set(select(snapshot, focus=lille, depth=0).nodes) == {lille}
    with pytest.raises(BadRequest):
        select(snapshot, focus=lille, depth=netview.MAX_DEPTH + 1)
    with pytest.raises(NotFound):
        select(snapshot, focus="org/nobody")


def test_limit_keeps_the_most_important(snapshot) -> None:
    ranked = network.ranking(snapshot.graph, by="degree", kinds=(), metrics=snapshot.metrics)
    part = select(snapshot, limit=5)
    assert set(part.nodes) == {r["iri"] for r in ranked[:5]}
    by_b = network.ranking(snapshot.graph, by="betweenness", kinds=(), metrics=snapshot.metrics)
    assert set(select(snapshot, limit=3, by="betweenness").nodes) == {r["iri"] for r in by_b[:3]}
    lille = ID["org/ville-de-lille"]
    part = select(snapshot, focus=lille, depth=2, limit=4)
    assert lille in part and part.number_of_nodes() == 4
    with pytest.raises(BadRequest):
        select(snapshot, limit=0)


def test_api_network_json_contract(client_for_project) -> None:
    full = client_for_project.get("/api/network.json").get_json()
    assert full["truncated"] is False and full["total"]["nodes"] == len(full["nodes"])
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in full["nodes"])
    part = client_for_project.get(
        "/api/network.json?focus=org/ville-de-lille&depth=1&limit=3"
    ).get_json()
    assert part["focus"] == ID["org/ville-de-lille"] and part["depth"] == 1
    assert part["limit"] == 3 and part["truncated"] is True and len(part["nodes"]) == 3
    ids = {n["id"] for n in part["nodes"]}
    assert all({link["source"], link["target"]} <= ids for link in part["links"])
    # metrics are those of the whole network
    whole = {n["id"]: n["degree"] for n in full["nodes"]}
    assert all(n["degree"] == whole[n["id"]] for n in part["nodes"])
    for bad in ("depth=9&focus=org/ville-de-lille", "limit=0", "limit=x", "by=fame"):
        assert client_for_project.get(f"/api/network.json?{bad}").status_code == 400, bad
    assert client_for_project.get("/api/network.json?focus=org/nobody").status_code == 404


@pytest.fixture(scope="module")
def client_for_project(settings, project_store):  # type: ignore[no-untyped-def]
    from coopgraph.web import create_app

    return create_app(settings, store=project_store).test_client()


def test_ranking_pages(client_for_project) -> None:
    everything = client_for_project.get("/ranking.json").get_json()
    page = client_for_project.get("/ranking.json?offset=2&limit=3").get_json()
    assert page["total"] == everything["total"] == len(everything["rows"])
    assert [r["iri"] for r in page["rows"]] == [r["iri"] for r in everything["rows"][2:5]]


def test_ranking_json_is_rendered_once_per_build_and_arguments(
        client_for_project, monkeypatch) -> None:
    """/ranking.json is kept like the network's answers (the whole ranking is 15,000 rows
    at 1M triples): asked again for the same build, it is not made again."""
    from coopgraph.web import researchers

    made: list[tuple[object, ...]] = []
    original = researchers._ranking_data
    monkeypatch.setattr(researchers, "_ranking_data",
                        lambda *args: made.append(args[2]) or original(*args))
    first = client_for_project.get("/ranking.json?limit=4&offset=1&by=betweenness")
    again = client_for_project.get("/ranking.json?limit=4&offset=1&by=betweenness")
    other = client_for_project.get("/ranking.json?limit=4&offset=2&by=betweenness")
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.data == again.data and first.data != other.data
    assert made == [("betweenness", ["organisation"], 1, 4),
                    ("betweenness", ["organisation"], 2, 4)]
    assert first.get_json()["rows"][1:] == other.get_json()["rows"][:3]
    assert client_for_project.get("/ranking.json?by=nope").status_code == 400


# ------------------------------------------------------------------ persistence


def test_view_persists_beside_a_disk_store(tmp_path: Path, settings: Settings) -> None:
    from coopgraph.load import load_project

    store = open_store(str(tmp_path / "store"))
    try:
        load_project(store, settings)
        path = netview.persist_path(store)
        assert path == tmp_path / "store.network.pickle"
        first = NetworkView(store, persist=path)
        built = first.load_or_refresh()
        assert first.builds == 1 and path.exists()
        again = NetworkView(store, persist=path)
        read = again.load_or_refresh()
        assert again.builds == 0  # read back, not rebuilt
        edges = sorted(built.value.graph.edges(keys=True))
        assert sorted(read.value.graph.edges(keys=True)) == edges
        assert read.value.metrics == built.value.metrics
        # the summary at the head of the file answers `network stats` without the graph
        summary = NetworkView(store, persist=path).load_summary()
        assert summary["top"] == built.value.ranking("degree")[: netview.SUMMARY_TOP]
        assert summary["stats"].nodes == built.value.stats.nodes and not summary["stats"].metrics
        # a write changes the fingerprint: the file no longer matches
        entries.add_entry(
            store, PARTNERSHIP.read_bytes(), "ttl", graph="test-partnership", agent="alice",
            source=PARTNERSHIP.name, validator=Validator(store),
        )
        third = NetworkView(store, persist=path)
        assert third.load() is None
        rebuilt = third.load_or_refresh()
        assert third.builds == 1
        assert any(d.get("via") == VIA for _, _, d in rebuilt.value.graph.edges(data=True))
    finally:
        store.close()


def test_in_memory_and_remote_stores_are_not_persisted(project_store) -> None:
    assert netview.persist_path(project_store) is None


# ------------------------------------------------------------------ betweenness sampling


def test_betweenness_is_sampled_above_the_threshold(monkeypatch) -> None:
    import networkx as nx

    graph = network.graph_from_ties(
        [(f"n{i}", f"n{i + 1}", "partnership") for i in range(30)]
    )
    exact = network.compute_metrics(graph)
    assert network.betweenness_method(31) == "exact"
    monkeypatch.setattr(network, "EXACT_BETWEENNESS_MAX_NODES", 10)
    monkeypatch.setattr(network, "BETWEENNESS_SAMPLES", 8)
    sampled = network.compute_metrics(graph)
    again = network.compute_metrics(graph)
    assert sampled == again  # fixed seed: the same figures every time
    assert sampled != exact
    expected = nx.betweenness_centrality(
        network.simple_graph(graph), k=8, normalized=True, seed=network.BETWEENNESS_SEED
    )
    assert {n: m.betweenness for n, m in sampled.items()} == {
        n: round(v, 6) for n, v in expected.items()
    }
    assert "8 sampled" in network.betweenness_method(31)


def test_betweenness_after_a_write_is_computed_in_a_child(monkeypatch) -> None:
    """Above the threshold the figures come from a forked child (coopgraph.forked), and
    they are the ones computed in-process."""
    import os

    graph = network.graph_from_ties(
        [(f"n{i}", f"n{i + 1}", "partnership") for i in range(30)]
    )
    monkeypatch.setattr(network, "EXACT_BETWEENNESS_MAX_NODES", 10)
    monkeypatch.setattr(network, "BETWEENNESS_SAMPLES", 8)
    computed_in: list[int] = []
    real = network.betweenness

    def watched(simple, samples=None):  # type: ignore[no-untyped-def]
        computed_in.append(os.getpid())
        return real(simple, samples)

    monkeypatch.setattr(network, "betweenness", watched)
    snapshot = netview.snapshot_of(graph)
    computed_in.clear()
    between = netpatch.recompute_betweenness(snapshot)
    assert computed_in == []  # not here: in the child, whose list is its own
    assert between == real(network.simple_graph(graph), 8)


# ------------------------------------------------------------------ /stats totals


def test_graph_kinds() -> None:
    assert graph_kind(str(ID)) == "other"
    assert set(GRAPH_KINDS) >= {"entry", "seed", "reference", "inferred", "provenance"}


def test_stats_totals_by_kind_and_pages(client_for_project, project_store) -> None:
    sizes = project_store.graph_sizes()
    body = client_for_project.get("/stats").get_json()
    assert body["graph_count"] == len(sizes)
    assert sum(k["graphs"] for k in body["graph_kinds"].values()) == len(sizes)
    assert sum(k["triples"] for k in body["graph_kinds"].values()) == sum(sizes.values())
    seeds = [g for g in sizes if graph_kind(g) == "seed"]
    assert body["graph_kinds"]["seed"] == {
        "graphs": len(seeds), "triples": sum(sizes[g] for g in seeds)
    }
    page = client_for_project.get("/stats?offset=3&limit=4").get_json()
    assert list(page["graphs"]) == sorted(sizes)[3:7]
    assert page["next"] and "offset=7" in page["next"]
    last = client_for_project.get(f"/stats?offset={len(sizes) - 1}&limit=4").get_json()
    assert len(last["graphs"]) == 1 and last["next"] is None
    assert client_for_project.get("/stats?limit=-1").status_code == 400
    assert graph_totals(project_store).by_kind == body["graph_kinds"]


def test_stats_totals_follow_writes(settings, fresh_store) -> None:
    from coopgraph.web import create_app

    app = create_app(settings, store=fresh_store)
    client = app.test_client()
    before = client.get("/stats").get_json()
    entries.add_entry(
        fresh_store, PARTNERSHIP.read_bytes(), "ttl", graph="test-partnership", agent="alice",
        source=PARTNERSHIP.name, validator=Validator(fresh_store),
    )
    totals = app.extensions["coopgraph"].totals
    deadline = time.monotonic() + 60
    while totals.stale and time.monotonic() < deadline:
        time.sleep(0.05)
    after = client.get("/stats").get_json()
    assert after["stale"] is False
    entry = before["graph_kinds"].get("entry", {"graphs": 0, "triples": 0})
    assert after["graph_kinds"]["entry"]["graphs"] == entry["graphs"] + 1
    assert after["triples"] == sum(fresh_store.graph_sizes().values())


def test_stats_totals_patched_equal_a_whole_count(fresh_store) -> None:
    """After adds, a replace and a removal, the totals patched from the commits (the
    written graphs, inferences and provenance counted again) equal a whole count."""
    from coopgraph.summary import patched_totals

    commits: list[events.Commit] = []
    events.subscribe(fresh_store, commits.append)
    totals = graph_totals(fresh_store)
    validator = Validator(fresh_store)
    body = PARTNERSHIP.read_bytes()
    steps = [
        lambda: entries.add_entry(fresh_store, body, "ttl", graph="t-a", agent="alice",
                                  source="a.ttl", validator=validator),
        lambda: entries.add_entry(fresh_store, body.replace(b"test-france", b"test-b-france"),
                                  "ttl", graph="t-b", agent="alice", source="b.ttl",
                                  validator=validator),
        lambda: entries.replace_entry(fresh_store, body, "ttl", graph="t-b", agent="alice",
                                      source="b.ttl", validator=validator),
        lambda: entries.remove_entry(fresh_store, "t-a", agent="alice", source="test"),
    ]
    for write in steps:
        write()
        totals = patched_totals(fresh_store, totals, commits)
        commits.clear()
        assert totals == graph_totals(fresh_store)
    assert not any(g.endswith("/entry/t-a") for g in totals.sizes)
    assert any(g.endswith("/entry/t-b") for g in totals.sizes)


def test_new_builds_come_with_their_heavy_answers_rendered(settings, project_store) -> None:
    """Whole-network JSON and exports are rendered before a build is served, in a forked
    child into files (the web process renders none of them), and served from the files:
    the same bytes as rendered in-process."""
    from coopgraph import exports
    from coopgraph.answers import AnswerFile
    from coopgraph.formats import export_format
    from coopgraph.web import create_app
    from coopgraph.web.researchers import PREPARED_PATHS

    app = create_app(settings, store=project_store)
    view = app.extensions["coopgraph"].network
    built = view.refresh()
    mine = (built.generation, built.built_at)
    files = [b for k, b in view.bodies._items.items() if k[:2] == mine]
    assert len(files) >= 5 and all(isinstance(b, AnswerFile) for b in files)
    client = app.test_client()
    for path in PREPARED_PATHS:
        assert client.get(path).status_code == 200, path
    assert view.bodies.renders == 0
    graphml = client.get("/export/network.graphml")
    assert graphml.data == exports.export(built.value.graph, export_format("graphml"))
    assert graphml.headers["Content-Length"] == str(len(graphml.data))
    jsonld = client.get("/export/network.jsonld").get_json()
    assert jsonld["@context"] == "http://localhost/context/network.jsonld"
    assert len(jsonld["@graph"]) == (
        built.value.graph.number_of_nodes() + built.value.graph.number_of_edges()
    )
    whole = client.get("/api/network.json").get_json()
    assert len(whole["nodes"]) == built.value.graph.number_of_nodes()
    view.close()
    assert not view.answers.root.exists()  # a temporary folder (in-memory store)


def test_snapshot_pickles_without_its_caches(snapshot) -> None:
    import pickle

    snapshot.ranking("degree")
    snapshot.ranks("betweenness")
    copy = pickle.loads(pickle.dumps(snapshot))
    assert copy._rankings == {} and copy._orders == {} and copy._ranks == {}
    assert copy.ranking("degree") == snapshot.ranking("degree")
    assert copy.figures(ID["org/ville-de-lille"]) == snapshot.figures(ID["org/ville-de-lille"])


def test_cli_network_stats_reads_the_summary(tmp_path: Path, settings: Settings) -> None:
    """The command prints the same from the persisted summary as from the whole view."""
    from click.testing import CliRunner

    from coopgraph.cli import main

    store = str(tmp_path / "store")
    first = CliRunner().invoke(main, ["network", "stats", "--store", store])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "store.network.pickle").exists()
    second = CliRunner().invoke(main, ["network", "stats", "--store", store])
    assert second.exit_code == 0
    body = [ln for ln in first.output.splitlines() if not ln.startswith("network")]
    assert second.output.splitlines() == body


def test_dataset_descriptions_rendered_once_per_totals_build(settings, fresh_store) -> None:
    """VoID and the service description list every named graph: rendered once per count
    of the graphs, served from memory after, and following writes once recounted."""
    from coopgraph.web import create_app

    app = create_app(settings, store=fresh_store)
    client = app.test_client()
    app_state = app.extensions["coopgraph"]
    first = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    again = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert first.status_code == again.status_code == 200
    assert first.data == again.data and first.mimetype == "text/turtle"
    described = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert described.status_code == 200 and described.headers["Vary"] == "Accept"
    assert app_state.descriptions.renders == 2  # one VoID, one service description
    assert b"test-partnership" not in first.data
    entries.add_entry(
        fresh_store, PARTNERSHIP.read_bytes(), "ttl", graph="test-partnership", agent="alice",
        source=PARTNERSHIP.name, validator=Validator(fresh_store),
    )
    deadline = time.monotonic() + 60
    while (app_state.totals.stale or app_state.totals.get().generation == 0) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    after = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert b"test-partnership" in after.data
    assert app_state.descriptions.renders == 3


def test_a_burst_of_patched_builds_renders_answers_once() -> None:
    """Answers of a patched build wait until no newer build came for a while: a burst of
    writes renders them once, for its last build."""
    from coopgraph.views import View

    class S:
        pass

    view: View[int] = View("burst", S(), lambda progress: 0)
    view.answer_in_background = True
    view.answer_after_quiet = 0.5
    prepared: list[int] = []
    view.preparers.append(lambda built: prepared.append(built.value))
    first = view.refresh()  # a full build renders its answers before it is served
    assert prepared == [0]
    latest = first
    for value in (1, 2, 3):
        replaced = view.replace(latest, value)
        assert replaced is not None
        latest = replaced
    deadline = time.monotonic() + 10
    while view.answering is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert prepared == [0, 3]
    assert view.get().value == 3


def test_close_saves_a_patched_build_whose_save_was_waiting(tmp_path: Path) -> None:
    """A server stopped a few seconds after a write keeps the patched view: the next
    start reads it back instead of rebuilding (a minute and a half at 1M triples)."""
    from coopgraph.views import View

    class S:
        pass

    store, path = S(), tmp_path / "view.pickle"
    content = {"value": 1}

    def make() -> View[int]:
        return View("saved", store, lambda progress: content["value"],
                    fingerprint=lambda: str(content["value"]), persist=path,
                    update=lambda value, commits, progress: content["value"])

    view = make()
    view.answer_in_background = True  # as the network view: a patch is saved later
    view.save_after = view.save_every = 3600.0  # much later
    view.refresh()
    content["value"] = 2
    events.publish(store, events.Commit(graphs=("g",)))
    view.catch_up()  # the patch: served at once, its save waits
    assert view.get().value == 2
    assert make().load() is None  # the file still holds the build of value 1
    view.close()
    again = make().load()
    assert again is not None and again.value == 2


def test_ranking_pages_equal_slices_of_the_ranking(snapshot) -> None:
    """A page of a ranking (``/ranking``) is the slice of the whole ranking, built alone
    when the whole is not kept, copied from it when it is."""
    fresh = netview.NetworkSnapshot(graph=snapshot.graph, stats=snapshot.stats,
                                    layout=snapshot.layout, betweenness=snapshot.betweenness)
    whole = snapshot.ranking("betweenness", ("organisation", "place"))
    for offset, limit in ((0, 5), (3, 4), (len(whole) - 2, 10), (1, None)):
        end = None if limit is None else offset + limit
        total, rows = fresh.page("betweenness", ("organisation", "place"), offset, limit)
        assert total == len(whole) and rows == whole[offset:end]
        total, kept = snapshot.page("betweenness", ("organisation", "place"), offset, limit)
        assert total == len(whole) and kept == whole[offset:end]
    kept[0]["rank"] = -1  # a copy: the kept ranking is unchanged
    assert whole[1]["rank"] == 2
    assert ("betweenness", "organisation", "place") not in fresh._rankings  # never built whole
