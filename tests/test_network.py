"""The actor network: projection queries, networkx graph, period filters, metrics.

Exact metrics are checked on the hand-checked fixture ``tests/data/network/fixture.trig``
(its header derives every expected number); the project data is checked against
independent SPARQL counts on the same store.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from coopgraph import network
from coopgraph.cli import main
from coopgraph.errors import BadRequest, NotFound
from coopgraph.parse import parse_file
from coopgraph.store import Solutions, Store, open_store
from coopgraph.vocab import ID

FIXTURE = Path(__file__).parent / "data" / "network" / "fixture.trig"


def fx(name: str) -> str:
    """IRI of a fixture resource: ``fx("a")`` → the organisation Alpha."""
    kinds = {"p": "place", "g": "programme"}
    return ID[f"{kinds.get(name, 'org')}/fixture-{name}"]


@pytest.fixture(scope="module")
def fixture_store() -> Store:
    """The fixture alone (plus the ontology, for org:Organization subclasses)."""
    from coopgraph.settings import PROJECT_ROOT
    from coopgraph.vocab import ONTOLOGY_GRAPH

    store = open_store(":memory:")
    quads = parse_file(FIXTURE)
    for path in sorted((PROJECT_ROOT / "ontology").glob("*.ttl")):
        quads += parse_file(path, default_graph=ONTOLOGY_GRAPH)
    store.bulk_load(quads)
    return store


@pytest.fixture(scope="module")
def fixture_graph(fixture_store: Store):
    return network.build_graph(fixture_store)


@pytest.fixture(scope="module")
def project_graph(project_store: Store):
    return network.build_graph(project_store)


def count(store: Store, sparql: str) -> int:
    result = store.query(sparql)
    assert isinstance(result, Solutions)
    return int(result.rows[0][0].value)  # type: ignore[union-attr]


# ------------------------------------------------------------------ fixture: exact figures


def test_fixture_nodes_and_ties(fixture_graph) -> None:
    assert sorted(fixture_graph.nodes) == sorted(fx(n) for n in "abcdegp")
    assert fixture_graph.number_of_edges() == 6
    kinds = {n: d["kind"] for n, d in fixture_graph.nodes(data=True)}
    assert kinds[fx("p")] == "place" and kinds[fx("g")] == "programme"
    assert kinds[fx("a")] == "organisation"
    types = sorted(d["type"] for _, _, d in fixture_graph.edges(data=True))
    assert types == [
        "employment", "funding", "membership", "partnership", "partnership", "partnership",
    ]


def test_fixture_node_attributes(fixture_graph) -> None:
    alpha = fixture_graph.nodes[fx("a")]
    assert (alpha["label_fr"], alpha["label_en"]) == ("Alpha", "Alpha (en)")
    assert alpha["label"] == "Alpha"
    place = fixture_graph.nodes[fx("p")]
    assert (place["lat"], place["long"]) == (10.5, -20.25)
    assert place["label"] == "Alpha City"  # no French label: English one
    assert "lat" not in fixture_graph.nodes[fx("e")]


def test_fixture_tie_attributes(fixture_graph) -> None:
    ab = {d["type"]: d for d in fixture_graph.get_edge_data(fx("a"), fx("b")).values()}
    assert set(ab) == {"partnership", "membership"}
    assert (ab["partnership"]["start"], ab["partnership"]["end"]) == ("2010", "2015")
    assert ab["partnership"]["via"] == ID["partnership/fixture-p1"]
    # stated in both graphs: one tie, two sources, no period
    assert [s.rsplit("/", 1)[1] for s in ab["membership"]["sources"]] == ["one", "two"]
    assert "start" not in ab["membership"] and "end" not in ab["membership"]
    assert (ab["membership"]["source"], ab["membership"]["target"]) == (fx("a"), fx("b"))
    (bc,) = fixture_graph.get_edge_data(fx("b"), fx("c")).values()
    assert (bc["start"], bc.get("end")) == ("2018", None)  # signing year, kept a year
    (dg,) = fixture_graph.get_edge_data(fx("d"), fx("g")).values()
    assert (dg["type"], dg["source"], dg["start"], dg["end"]) == (
        "funding", fx("d"), "2020", "2022",  # years stay years
    )
    (ap,) = fixture_graph.get_edge_data(fx("a"), fx("p")).values()
    assert (ap["type"], ap["start"], ap["end"]) == ("employment", "2022-11-03", "2022-12-03")


def test_fixture_metrics(fixture_graph) -> None:
    m = network.compute_metrics(fixture_graph)
    degree = {n: m[fx(n)].degree for n in "pabcdge"}
    assert degree == {"p": 1, "a": 2, "b": 2, "c": 2, "d": 2, "g": 1, "e": 0}
    weighted = {n: m[fx(n)].weighted_degree for n in "pabcdge"}
    assert weighted == {"p": 1, "a": 3, "b": 3, "c": 2, "d": 2, "g": 1, "e": 0}
    betweenness = {n: m[fx(n)].betweenness for n in "pabcdge"}
    assert betweenness == {
        "p": 0.0, "a": round(4 / 15, 6), "b": 0.4, "c": 0.4, "d": round(4 / 15, 6),
        "g": 0.0, "e": 0.0,
    }
    assert network.components(fixture_graph) == [
        sorted(fx(n) for n in "pabcdg"), [fx("e")],
    ]
    assert (m[fx("e")].component, m[fx("e")].component_size) == (1, 1)
    assert (m[fx("a")].component, m[fx("a")].component_size) == (0, 6)


def test_fixture_shortest_path(fixture_graph) -> None:
    assert network.shortest_path(fixture_graph, fx("p"), fx("g")) == [
        fx(n) for n in "pabcdg"
    ]
    with pytest.raises(NotFound, match="no path"):
        network.shortest_path(fixture_graph, fx("a"), fx("e"))
    with pytest.raises(NotFound, match="not a node"):
        network.shortest_path(fixture_graph, fx("a"), ID["org/nobody"])


def test_fixture_stats(fixture_graph) -> None:
    stats = network.network_stats(fixture_graph)
    assert (stats.nodes, stats.ties, stats.pairs, stats.components) == (7, 6, 5, 2)
    assert stats.largest_component == 6
    assert stats.ties_by_type["partnership"] == 3
    assert stats.nodes_by_kind == {"organisation": 5, "place": 1, "programme": 1}


def test_ranking_orders_by_metric(fixture_graph) -> None:
    by_degree = network.ranking(fixture_graph, by="weighted_degree")
    # tie on weighted degree (3) and degree (2): betweenness decides
    assert [r["label"] for r in by_degree[:2]] == ["Bravo", "Alpha"]
    assert [r["rank"] for r in by_degree] == list(range(1, 6))  # organisations only
    by_betweenness = network.ranking(fixture_graph, by="betweenness")
    assert [r["label"] for r in by_betweenness[:2]] == ["Bravo", "Charlie"]
    with pytest.raises(BadRequest):
        network.ranking(fixture_graph, by="pagerank")


@pytest.mark.parametrize(
    ("as_of", "pairs"),
    [
        # 2012: p1 (2010–2015) and the undated membership and partnerOf
        (date(2012, 6, 1), [("a", "b", "membership"), ("a", "b", "partnership"),
                            ("c", "d", "partnership")]),
        # 2021: p1 has ended; p2 (signed 2018) and the funding (2020–2022) are on
        (date(2021, 1, 1), [("a", "b", "membership"), ("b", "c", "partnership"),
                            ("c", "d", "partnership"), ("d", "g", "funding")]),
        # the offer's posting window
        (date(2022, 11, 15), [("a", "b", "membership"), ("a", "p", "employment"),
                              ("b", "c", "partnership"), ("c", "d", "partnership"),
                              ("d", "g", "funding")]),
    ],
)
def test_as_of_drops_ties_outside_their_period(fixture_store, as_of, pairs) -> None:
    graph = network.build_graph(fixture_store, as_of=as_of)
    names = {fx(n): n for n in "pabcdge"}
    got = sorted(
        (*sorted((names[a], names[b])), d["type"]) for a, b, d in graph.edges(data=True)
    )
    assert got == sorted(pairs)
    assert graph.number_of_nodes() == 7  # nodes are kept


def test_between_keeps_overlapping_ties(fixture_store) -> None:
    graph = network.build_graph(fixture_store, between=(date(2016, 1, 1), date(2017, 12, 31)))
    assert sorted(d["type"] for _, _, d in graph.edges(data=True)) == [
        "membership", "partnership",  # undated ones only: p1 ended 2015, p2 starts 2018
    ]
    graph = network.build_graph(fixture_store, between=(date(2015, 6, 1), date(2018, 6, 1)))
    assert graph.number_of_edges() == 4
    with pytest.raises(BadRequest):
        network.build_graph(fixture_store, between=(date(2020, 1, 1), date(2019, 1, 1)))
    with pytest.raises(BadRequest):
        network.build_graph(fixture_store, as_of=date(2020, 1, 1),
                            between=(date(2019, 1, 1), date(2020, 1, 1)))


def test_filter_types(fixture_graph) -> None:
    only = network.filter_types(fixture_graph, ["funding", "employment"])
    assert sorted(d["type"] for _, _, d in only.edges(data=True)) == ["employment", "funding"]
    with pytest.raises(BadRequest, match="unknown tie type"):
        network.filter_types(fixture_graph, ["friendship"])


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2022", date(2022, 1, 1), date(2022, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2022-11-03", date(2022, 11, 3), date(2022, 11, 3)),
        ("2021-02-19T12:00:00Z", date(2021, 2, 19), date(2021, 2, 19)),
    ],
)
def test_parse_date(text, start, end) -> None:
    assert network.parse_date(text) == start
    assert network.parse_date(text, end=True) == end


def test_parse_date_rejects_garbage() -> None:
    with pytest.raises(BadRequest):
        network.parse_date("yesterday")


def test_resolve_node(fixture_graph) -> None:
    assert network.resolve_node(fixture_graph, "org/fixture-a") == fx("a")
    assert network.resolve_node(fixture_graph, "cgid:org/fixture-b") == fx("b")
    assert network.resolve_node(fixture_graph, "charlie") == fx("c")
    with pytest.raises(NotFound):
        network.resolve_node(fixture_graph, "Zulu")


# ------------------------------------------------------------------ project data


def test_every_projection_query_has_a_header() -> None:
    queries = network.projection_queries()
    assert {"nodes", "partnership", "funding", "employment", "membership",
            "suborganisation", "programme", "offer"} <= set(queries)
    for name, text in queries.items():
        header = [line for line in text.splitlines() if line.startswith("#+ ")]
        keys = {line[3:].split(":", 1)[0] for line in header}
        assert {"title@fr", "title@en", "description@fr", "description@en", "expect"} <= keys, name
        assert "#+ expect: none" in header, name
        assert "CONSTRUCT" in text, name


def test_project_nodes_match_sparql_counts(project_store, project_graph) -> None:
    kinds: dict[str, int] = {}
    for _, kind in project_graph.nodes(data="kind"):
        kinds[kind] = kinds.get(kind, 0) + 1
    prefixes = (
        "PREFIX org: <http://www.w3.org/ns/org#> PREFIX cg: <https://w3id.org/coopgraph/ontology#> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    )
    assert kinds["organisation"] == count(
        project_store,
        prefixes + "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?o a/rdfs:subClassOf* org:Organization }",
    )
    assert kinds["programme"] == count(
        project_store, prefixes + "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?p a cg:Programme }"
    )
    assert kinds["call"] == count(
        project_store, prefixes + "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?p a cg:CallForProjects }"
    )
    assert kinds["place"] == count(
        project_store, prefixes + "SELECT (COUNT(DISTINCT ?p) AS ?n) { [] cg:dutyStation ?p }"
    )
    assert "other" not in kinds  # every tie end is a described node


def test_project_ties_match_sparql_counts(project_store, project_graph) -> None:
    by_type: dict[str, int] = {}
    for _, _, kind in project_graph.edges(data="type"):
        by_type[kind] = by_type.get(kind, 0) + 1
    assert by_type["employment"] == count(
        project_store,
        "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/coopgraph/ontology#> "
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?o ?e ?p "
        "{ ?o schema:hiringOrganization ?e ; cg:dutyStation ?p } }",
    )
    # each n-ary partnership gives n(n-1)/2 ties (EGTC memberships are membership ties)
    assert by_type["partnership"] >= count(
        project_store,
        "PREFIX cg: <https://w3id.org/coopgraph/ontology#> "
        "PREFIX ptype: <https://w3id.org/coopgraph/id/concept/partnership-type/> "
        "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?p ?a ?b { ?p a cg:Partnership ; "
        "cg:partner ?a , ?b FILTER(STR(?a) < STR(?b)) "
        "FILTER NOT EXISTS { ?p cg:partnershipType ptype:cross-border-grouping-membership } } }",
    )
    assert set(by_type) == set(network.TIE_TYPES)


def test_project_ties_keep_their_sources(project_graph) -> None:
    for _, _, data in project_graph.edges(data=True):
        assert data["sources"], data
        assert all("/graph/" in s and not s.endswith("/inferred") for s in data["sources"])


def test_lille_oujda_cooperation_agreement(project_graph) -> None:
    ties = project_graph.get_edge_data(ID["org/ville-de-lille"], ID["org/commune-oujda"])
    (agreement,) = [d for d in ties.values() if d["type"] == "partnership"]
    assert agreement["start"] == "2005"  # signed in 2005: a year stays a year
    assert agreement["via"] == ID["partnership/lille-oujda"]
    assert agreement["sources"] == ["https://w3id.org/coopgraph/graph/seed/000"]
    lille = project_graph.nodes[ID["org/ville-de-lille"]]
    assert (lille["label_fr"], lille["kind"], lille["category"]) == (
        "Ville de Lille", "organisation", "Commune",
    )
    assert (lille["lat"], lille["long"]) == (50.6292, 3.0573)


def test_as_of_on_project_data(project_store, project_graph) -> None:
    before = network.build_graph(project_store, as_of=date(2000, 1, 1))
    assert before.number_of_edges() < project_graph.number_of_edges()
    for _, _, d in before.edges(data=True):
        assert d.get("start", "0000") <= "2000-01-01" <= d.get("end", "9999")
    dated_offers = [d for _, _, d in before.edges(data=True) if d["type"] == "employment"]
    assert all("start" not in d for d in dated_offers)


def test_snapshot_figures(project_store, project_graph) -> None:
    from coopgraph.netview import build_snapshot

    snapshot = build_snapshot(project_store)
    lille = ID["org/ville-de-lille"]
    m = snapshot.figures(lille)
    assert m["degree"] > 0 and m["weighted_degree"] >= m["degree"]
    assert 0 <= m["betweenness"] <= 1
    for metric in ("degree", "betweenness"):
        order = [r["iri"] for r in network.ranking(project_graph, by=metric)]
        assert m["rank_" + metric] == order.index(lille) + 1
    neighbours = {n["iri"]: n for n in m["neighbours"]}
    assert "partnership" in neighbours[ID["org/commune-oujda"]]["types"]
    assert sum(m["ties_by_type"].values()) == m["weighted_degree"]
    assert snapshot.figures(ID["org/nobody"]) == {}


# ------------------------------------------------------------------ CLI


def test_cli_network_stats(project_graph) -> None:
    result = CliRunner().invoke(main, ["network", "stats", "--top", "3", "--store", ":memory:"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    stats = network.network_stats(project_graph)
    assert lines[0].split()[:2] == ["nodes", str(stats.nodes)]
    assert lines[1].split()[:2] == ["ties", str(stats.ties)]
    assert ["partnership", str(stats.ties_by_type["partnership"])] in [ln.split() for ln in lines]
    top = network.ranking(project_graph)[0]
    assert lines[-3].split()[0] == "1" and top["label"] in lines[-3]
    assert len(lines[lines.index(next(ln for ln in lines if ln.startswith("rank"))) + 1:]) == 3


def test_cli_network_stats_as_of_bad_date() -> None:
    result = CliRunner().invoke(
        main, ["network", "stats", "--as-of", "soon", "--store", ":memory:"]
    )
    assert result.exit_code == 2
    assert "not a date" in result.output


def test_cli_network_path() -> None:
    result = CliRunner().invoke(
        main, ["network", "path", "org/commune-oujda", "org/so-cooperation", "--store", ":memory:"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ID["org/commune-oujda"] in lines[0]
    assert ID["org/so-cooperation"] in lines[-1]
    assert "[partnership]" in lines[1]


def test_cli_network_path_unknown_node() -> None:
    result = CliRunner().invoke(
        main, ["network", "path", "org/commune-oujda", "org/nobody", "--store", ":memory:"]
    )
    assert result.exit_code == 2
    assert "not a node" in result.output


# ------------------------------------------------------------------ HTTP


@pytest.fixture(scope="module")
def client(settings, project_store):
    from coopgraph.web import create_app

    return create_app(settings, store=project_store).test_client()


def test_api_network_json(client, project_graph) -> None:
    resp = client.get("/api/network.json")
    assert resp.status_code == 200
    data = resp.get_json()
    assert len(data["nodes"]) == project_graph.number_of_nodes()
    assert len(data["links"]) == project_graph.number_of_edges()
    assert [t["name"] for t in data["types"]] == list(network.TIE_TYPES)
    lille = next(n for n in data["nodes"] if n["id"] == ID["org/ville-de-lille"])
    assert lille["href"] == "/id/org/ville-de-lille"
    assert lille["degree"] == network.compute_metrics(project_graph)[lille["id"]].degree
    ends = {n["id"] for n in data["nodes"]}
    assert all(link["source"] in ends and link["target"] in ends for link in data["links"])


def test_api_network_filters(client, project_store) -> None:
    data = client.get("/api/network.json?asOf=2006-01-01").get_json()
    assert data["asOf"] == "2006-01-01"
    old = network.build_graph(project_store, as_of=date(2006, 1, 1))
    assert len(data["links"]) == old.number_of_edges()
    data = client.get("/api/network.json?types=funding").get_json()
    assert {link["type"] for link in data["links"]} == {"funding"}
    data = client.get("/api/network.json?between=2022-01-01/2022-12-31").get_json()
    assert data["between"] == ["2022-01-01", "2022-12-31"]
    assert client.get("/api/network.json?types=gossip").status_code == 400
    assert client.get("/api/network.json?between=2022").status_code == 400


@pytest.mark.parametrize("path", ["/network", "/map", "/ranking"])
def test_pages_link_their_json_twin(client, path) -> None:
    resp = client.get(path + "?asOf=2022-11-15")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    link = resp.headers["Link"]
    assert 'rel="alternate"' in link and "asOf=2022-11-15" in link
    twin = link[1:link.index(">")]
    assert client.get(twin).status_code == 200
    assert b"<script>" not in resp.data  # CSP: scripts come from static files only


def test_ranking_json_and_html_agree(client, project_graph) -> None:
    data = client.get("/ranking.json?by=betweenness").get_json()
    expected = network.ranking(project_graph, by="betweenness")
    assert [r["iri"] for r in data["rows"]] == [r["iri"] for r in expected]
    html = client.get("/ranking?by=betweenness").get_data(as_text=True)
    first = expected[0]
    assert f'data-iri="{first["iri"]}"><td>1</td>' in html
    assert client.get("/ranking.json?by=fame").status_code == 400


def test_static_scripts_are_served(client) -> None:
    for name in ("network.js", "map.js", "network.css"):
        resp = client.get(f"/static/researchers/{name}")
        assert resp.status_code == 200 and len(resp.data) > 500
        resp.close()


def test_rank_order_is_the_ranking_order() -> None:
    """rank_order sorts by the metric, then the other two, then label and IRI (each
    descending metric first), and keeps only the kinds and nodes asked for."""
    graph = network.graph_from_ties([("a", "b", "partnership"), ("b", "c", "funding"),
                             ("c", "d", "partnership"), ("b", "d", "membership"),
                             ("e", "f", "partnership"), ("e", "f", "funding")])
    graph.nodes["f"]["kind"] = "place"
    metrics = network.compute_metrics(graph)
    for by in ("degree", "weighted_degree", "betweenness"):
        others = [k for k in ("degree", "weighted_degree", "betweenness") if k != by]
        order = network.rank_order(graph, by=by, metrics=metrics)
        assert "f" not in order and sorted(order) == ["a", "b", "c", "d", "e"]
        keys = [(-getattr(metrics[n], by), *(-getattr(metrics[n], k) for k in others),
                 graph.nodes[n]["label"], n) for n in order]
        assert keys == sorted(keys)
        assert [r["iri"] for r in network.ranking(graph, by=by, metrics=metrics)] == order
    assert network.rank_order(graph, kinds=(), among=["f", "a"]) == ["f", "a"]
    assert network.rank_order(graph, by="degree")[0] == "b"
