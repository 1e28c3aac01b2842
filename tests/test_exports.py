"""Network exports read back with their own readers and checked against SPARQL counts.

GraphML and GEXF go through networkx's readers, the CSV zip through the csv module, the
JSON-LD through pyoxigraph's parser; counts are compared with SPARQL run on the same store.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from coopgraph import exports, network
from coopgraph.cli import main
from coopgraph.errors import UnsupportedFormat
from coopgraph.formats import EXPORT_FORMATS, export_format
from coopgraph.store import Solutions, Store, Triples
from coopgraph.vocab import CG, GEO, ID, RDF, SCHEMA, XSD

LILLE, OUJDA = ID["org/ville-de-lille"], ID["org/commune-oujda"]
AGREEMENT = ID["partnership/lille-oujda"]


@pytest.fixture(scope="module")
def graph(project_store: Store) -> nx.MultiGraph:
    return network.build_graph(project_store)


@pytest.fixture(scope="module")
def sparql_counts(project_store: Store) -> dict[str, int]:
    """Nodes and ties counted by SPARQL: node kinds by SELECT, ties as distinct
    cg:NetworkTie subjects of the projection's CONSTRUCT results."""
    prefixes = (
        "PREFIX org: <http://www.w3.org/ns/org#> "
        "PREFIX cg: <https://w3id.org/coopgraph/ontology#> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    )
    select = (
        "SELECT (COUNT(DISTINCT ?n) AS ?count) { "
        "{ ?n a/rdfs:subClassOf* org:Organization } UNION { ?n a cg:Programme } "
        "UNION { ?n a cg:CallForProjects } UNION { [] cg:dutyStation ?n } }"
    )
    result = project_store.query(prefixes + select)
    assert isinstance(result, Solutions)
    ties: set[str] = set()
    for text in network.projection_queries().values():
        triples = project_store.query(text)
        assert isinstance(triples, Triples)
        ties |= {
            t.subject.value
            for t in triples.triples
            if t.predicate.value == RDF.type and t.object.value == CG.NetworkTie
        }
    return {"nodes": int(result.rows[0][0].value), "ties": len(ties)}  # type: ignore[union-attr]


def test_graph_matches_sparql(graph, sparql_counts) -> None:
    assert graph.number_of_nodes() == sparql_counts["nodes"]
    assert graph.number_of_edges() == sparql_counts["ties"]


def agreement_of(ties: dict) -> dict:
    (tie,) = [d for d in ties.values() if d.get("via") == AGREEMENT]
    return tie


def test_graphml_read_back(graph, sparql_counts) -> None:
    back = nx.read_graphml(io.BytesIO(exports.to_graphml(graph)), force_multigraph=True)
    assert back.number_of_nodes() == sparql_counts["nodes"]
    assert back.number_of_edges() == sparql_counts["ties"]
    lille = back.nodes[LILLE]
    assert (lille["label_fr"], lille["label_en"], lille["kind"]) == (
        "Ville de Lille", "City of Lille", "organisation",
    )
    assert (lille["lat"], lille["long"]) == (50.6292, 3.0573)
    tie = agreement_of(back.get_edge_data(LILLE, OUJDA))
    assert (tie["tie_type"], tie["start"]) == ("partnership", "2005")
    assert tie["sources"] == "https://w3id.org/coopgraph/graph/seed/000"
    types = sorted(d["tie_type"] for _, _, d in back.edges(data=True))
    assert types == sorted(d["type"] for _, _, d in graph.edges(data=True))


def test_gexf_read_back(graph, sparql_counts) -> None:
    data = exports.to_gexf(graph)
    back = nx.read_gexf(io.BytesIO(data))
    assert back.number_of_nodes() == sparql_counts["nodes"]
    assert back.number_of_edges() == sparql_counts["ties"]
    assert back.nodes[LILLE]["label"] == "Ville de Lille"
    assert back.nodes[LILLE]["viz"]["position"]["y"] == pytest.approx(50.6292)
    tie = agreement_of(back.get_edge_data(LILLE, OUJDA))
    assert (tie["tie_type"], tie["start"], tie["source_iri"]) == (
        "partnership", "2005", tie["source_iri"],
    )
    assert {tie["source_iri"], tie["target_iri"]} == {LILLE, OUJDA}
    assert b'defaultedgetype="undirected"' in data


def read_zip(data: bytes) -> tuple[list[dict], list[dict]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["edges.csv", "nodes.csv"]
        nodes = list(csv.DictReader(io.StringIO(zf.read("nodes.csv").decode("utf-8"))))
        edges = list(csv.DictReader(io.StringIO(zf.read("edges.csv").decode("utf-8"))))
    return nodes, edges


def test_csv_zip_read_back(graph, sparql_counts) -> None:
    nodes, edges = read_zip(exports.to_csv_zip(graph))
    assert len(nodes) == sparql_counts["nodes"]
    assert len(edges) == sparql_counts["ties"]
    assert list(nodes[0])[:2] == ["Id", "Label"]
    assert list(edges[0])[:5] == ["Source", "Target", "Type", "Id", "Label"]
    by_id = {n["Id"]: n for n in nodes}
    assert (by_id[OUJDA]["Label"], by_id[OUJDA]["kind"], by_id[OUJDA]["lat"]) == (
        "Commune d'Oujda", "organisation", "34.6814",
    )
    (row,) = [e for e in edges if e["via"] == AGREEMENT and e["tie_type"] == "partnership"]
    assert (row["tie_type"], row["start"], row["end"], row["Type"]) == (
        "partnership", "2005", "", "Undirected",
    )
    assert {row["Source"], row["Target"]} == {LILLE, OUJDA}
    assert {e["Source"] for e in edges} | {e["Target"] for e in edges} <= set(by_id)


def test_jsonld_read_back(graph, sparql_counts) -> None:
    data = exports.to_jsonld(graph, context=None)
    quads = list(ox.parse(data, format=ox.RdfFormat.JSON_LD))

    def subjects(predicate: str, obj: str) -> set[str]:
        return {q.subject.value for q in quads if (q.predicate.value, q.object.value) == (
            predicate, obj)}

    def values(subject: str, predicate: str) -> list[ox.Literal | ox.NamedNode]:
        return [q.object for q in quads if (q.subject.value, q.predicate.value) == (
            subject, predicate)]

    assert len(subjects(RDF.type, CG.NetworkNode)) == sparql_counts["nodes"]
    assert len(subjects(RDF.type, CG.NetworkTie)) == sparql_counts["ties"]
    (edge,) = subjects(CG.edgeVia, AGREEMENT) & subjects(CG.edgeType, CG.PartnershipTie)
    assert values(edge, SCHEMA.startDate) == [
        ox.Literal("2005", datatype=ox.NamedNode(XSD.gYear))  # a year stays a year
    ]
    assert {v.value for v in values(edge, CG.edgeSource) + values(edge, CG.edgeTarget)} == {
        LILLE, OUJDA,
    }
    assert values(LILLE, GEO.lat) == [ox.Literal("50.6292", datatype=ox.NamedNode(XSD.decimal))]


def test_jsonld_references_the_published_context(graph) -> None:
    doc = json.loads(exports.to_jsonld(graph))
    assert doc["@context"] == exports.CONTEXT_URL
    assert doc["@context"].endswith("/context/network.jsonld")
    context = exports.network_context()["@context"]
    # every tie type has a term in the context, so tieType values expand to our IRIs
    assert {name: context[name] for name in network.TIE_TYPES} == {
        name: "cg:" + iri.rsplit("#", 1)[1] for name, iri in network.TIE_TYPES.items()
    }


def test_export_formats_come_from_the_table() -> None:
    assert [f.name for f in EXPORT_FORMATS] == ["graphml", "gexf", "csv", "jsonld"]
    assert export_format("zip").name == "csv"
    assert export_format("application/gexf+xml").extension == "gexf"
    with pytest.raises(UnsupportedFormat):
        export_format("pdf")


def test_as_of_export_drops_ties(project_store, graph) -> None:
    old = network.build_graph(project_store, as_of=date(2006, 1, 1))
    back = nx.read_graphml(io.BytesIO(exports.to_graphml(old)), force_multigraph=True)
    assert back.number_of_edges() == old.number_of_edges() < graph.number_of_edges()
    assert back.number_of_nodes() == graph.number_of_nodes()


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "csv", "jsonld"])
def test_cli_export_to_file(tmp_path: Path, fmt: str, sparql_counts) -> None:
    out = tmp_path / f"network.{export_format(fmt).extension}"
    result = CliRunner().invoke(
        main, ["export", "--format", fmt, "--out", str(out), "--store", ":memory:"]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if fmt == "graphml":
        assert nx.read_graphml(out, force_multigraph=True).number_of_edges() == sparql_counts[
            "ties"
        ]
    elif fmt == "gexf":
        assert nx.read_gexf(out).number_of_nodes() == sparql_counts["nodes"]
    elif fmt == "csv":
        assert len(read_zip(data)[1]) == sparql_counts["ties"]
    else:  # the CLI inlines the context, so the file reads offline
        assert isinstance(json.loads(data)["@context"], dict)
        assert len(ox.Dataset(ox.parse(data, format=ox.RdfFormat.JSON_LD))) > 0


def test_cli_export_csv_to_folder(tmp_path: Path, sparql_counts) -> None:
    folder = tmp_path / "csv"
    result = CliRunner().invoke(
        main, ["export", "--format", "csv", "--out", str(folder), "--store", ":memory:"]
    )
    assert result.exit_code == 0, result.output
    with (folder / "nodes.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == sparql_counts["nodes"]
    with (folder / "edges.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == sparql_counts["ties"]


def test_cli_export_stdout_as_of() -> None:
    runner = CliRunner()
    full = runner.invoke(main, ["export", "--format", "graphml", "--store", ":memory:"])
    old = runner.invoke(
        main, ["export", "--as-of", "2006", "--format", "graphml", "--store", ":memory:"]
    )
    assert full.exit_code == 0 and old.exit_code == 0
    n_full = nx.read_graphml(io.BytesIO(full.stdout_bytes), force_multigraph=True)
    n_old = nx.read_graphml(io.BytesIO(old.stdout_bytes), force_multigraph=True)
    assert n_old.number_of_edges() < n_full.number_of_edges()


# ------------------------------------------------------------------ HTTP


@pytest.fixture(scope="module")
def client(settings, project_store):
    from coopgraph.web import create_app

    return create_app(settings, store=project_store).test_client()


@pytest.mark.parametrize("fmt", EXPORT_FORMATS, ids=lambda f: f.name)
def test_http_export(client, fmt, sparql_counts) -> None:
    resp = client.get(f"/export/network.{fmt.extension}")
    assert resp.status_code == 200
    assert resp.mimetype == fmt.media_type
    assert f'filename="coopgraph-network.{fmt.extension}"' in resp.headers["Content-Disposition"]
    if fmt.name == "graphml":
        back = nx.read_graphml(io.BytesIO(resp.data), force_multigraph=True)
        assert back.number_of_edges() == sparql_counts["ties"]
    elif fmt.name == "gexf":
        assert nx.read_gexf(io.BytesIO(resp.data)).number_of_nodes() == sparql_counts["nodes"]
    elif fmt.name == "csv":
        nodes, edges = read_zip(resp.data)
        assert (len(nodes), len(edges)) == (sparql_counts["nodes"], sparql_counts["ties"])
    else:
        doc = json.loads(resp.data)
        assert doc["@context"] == "http://localhost/context/network.jsonld"
        doc["@context"] = json.loads(client.get("/context/network.jsonld").data)["@context"]
        quads = list(ox.parse(json.dumps(doc).encode(), format=ox.RdfFormat.JSON_LD))
        ties = {q.subject for q in quads if q.object == ox.NamedNode(CG.NetworkTie)}
        assert len(ties) == sparql_counts["ties"]


def test_http_export_as_of(client, project_store) -> None:
    resp = client.get("/export/network.zip?asOf=2006-01-01")
    assert resp.status_code == 200
    _, edges = read_zip(resp.data)
    old = network.build_graph(project_store, as_of=date(2006, 1, 1))
    assert len(edges) == old.number_of_edges()
    assert "coopgraph-network-2006-01-01.zip" in resp.headers["Content-Disposition"]


def test_http_export_errors(client) -> None:
    resp = client.get("/export/network.pdf")
    assert resp.status_code == 404
    assert resp.get_json()["status"] == 404
    resp = client.get("/export/network.graphml?asOf=someday")
    assert resp.status_code == 400
    assert "not a date" in resp.get_json()["detail"]


def test_http_context(client) -> None:
    resp = client.get("/context/network.jsonld")
    assert resp.status_code == 200 and resp.mimetype == "application/ld+json"
    assert resp.get_json() == exports.network_context()
