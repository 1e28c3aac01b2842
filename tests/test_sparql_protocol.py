"""The SPARQL 1.1 Protocol over real HTTP: ``coopgraph serve`` on 127.0.0.1 and a free
port (the ``live_server`` fixture), spoken to by unmodified clients: SPARQLWrapper,
rdflib's SPARQLStore and requests. Every answer is parsed and checked."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from coopgraph.vocab import CG, GRAPH, ID, SD, XSD

LILLE_OUJDA = ID["partnership/lille-oujda"]
SEED0 = GRAPH["seed/000"]
SEED1 = GRAPH["seed/001"]
LABELS = (
    f"SELECT ?label WHERE {{ <{LILLE_OUJDA}> <http://www.w3.org/2000/01/rdf-schema#label> "
    "?label } ORDER BY ?label"
)
EXPECTED = [
    "Accord de coopération Lille-Oujda (2005)",
    "Lille-Oujda cooperation agreement (2005)",
    "Samenwerkingsakkoord Rijsel-Oujda (2005)",
]
ASK = f'ASK {{ <{LILLE_OUJDA}> <{CG.signedYear}> "2005"^^<{XSD.gYear}> }}'
CONSTRUCT = (
    f"CONSTRUCT {{ <{LILLE_OUJDA}> <{CG.partner}> ?o }} "
    f"WHERE {{ <{LILLE_OUJDA}> <{CG.partner}> ?o }}"
)
PARTNERS = {ID["org/ville-de-lille"], ID["org/commune-oujda"]}


@pytest.fixture(scope="module")
def endpoint(live_server: str) -> str:
    return live_server + "sparql"


def wrapper(endpoint: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    if method:
        sparql.setMethod(method)
    return sparql


# --- SPARQLWrapper --------------------------------------------------------------------


@pytest.mark.parametrize("method", [None, POST])
def test_sparqlwrapper_json(endpoint: str, method: str | None) -> None:
    result = wrapper(endpoint, LABELS, JSON, method).queryAndConvert()
    assert [b["label"]["value"] for b in result["results"]["bindings"]] == EXPECTED  # type: ignore[index]


def test_sparqlwrapper_xml(endpoint: str) -> None:
    document = wrapper(endpoint, LABELS, XML).queryAndConvert()
    literals = [node.firstChild.data for node in document.getElementsByTagName("literal")]  # type: ignore[union-attr]
    assert literals == EXPECTED


def test_sparqlwrapper_csv_and_tsv(endpoint: str) -> None:
    data = wrapper(endpoint, LABELS, CSV).queryAndConvert()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))  # type: ignore[union-attr]
    assert rows == [["label"], *[[label] for label in EXPECTED]]
    tsv = wrapper(endpoint, LABELS, TSV).queryAndConvert()
    parsed = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)  # type: ignore[arg-type]
    assert [s["label"].value for s in parsed] == EXPECTED


def test_sparqlwrapper_ask(endpoint: str) -> None:
    assert wrapper(endpoint, ASK, JSON).queryAndConvert()["boolean"] is True  # type: ignore[index]
    no = wrapper(endpoint, ASK.replace("2005", "1999"), JSON).queryAndConvert()
    assert no["boolean"] is False  # type: ignore[index]


@pytest.mark.parametrize("fmt", [TURTLE, N3])
def test_sparqlwrapper_construct_turtle(endpoint: str, fmt: str) -> None:
    data = wrapper(endpoint, CONSTRUCT, fmt).queryAndConvert()
    graph = rdflib.Graph().parse(data=data.decode("utf-8"), format="turtle")  # type: ignore[union-attr]
    assert {str(o) for o in graph.objects()} == PARTNERS


@pytest.mark.parametrize("fmt", [RDFXML, XML])
def test_sparqlwrapper_construct_rdfxml(endpoint: str, fmt: str) -> None:
    # SPARQLWrapper's own convert() builds a deprecated rdflib ConjunctiveGraph: read the
    # raw answer it received and parse it with rdflib.
    result = wrapper(endpoint, CONSTRUCT, fmt).query()
    assert result.response.headers["Content-Type"].startswith("application/rdf+xml")
    graph = rdflib.Graph().parse(data=result.response.read(), format="xml")
    assert {str(o) for o in graph.objects()} == PARTNERS


def test_sparqlwrapper_construct_asking_n_triples(endpoint: str) -> None:
    """SPARQLWrapper has no N-Triples return format: a client sets the Accept header, and
    SPARQLWrapper still sends its default ``format=xml`` parameter (issue 16: the answer
    was Turtle). The Accept header wins over a parameter the client did not choose."""
    sparql = wrapper(endpoint, CONSTRUCT, XML)
    sparql.addCustomHttpHeader("Accept", "application/n-triples")
    response = sparql.query().response
    assert response.headers["Content-Type"].startswith("application/n-triples")
    triples = ox.parse(response.read(), ox.RdfFormat.N_TRIPLES)
    assert {q.object.value for q in triples} == PARTNERS


# --- rdflib SPARQLStore ---------------------------------------------------------------


def test_rdflib_sparqlstore_select_and_ask(endpoint: str) -> None:
    graph = rdflib.Graph(store=SPARQLStore(endpoint))
    rows = list(graph.query(LABELS))
    assert [str(row[0]) for row in rows] == EXPECTED  # type: ignore[index]
    assert graph.query(ASK).askAnswer is True
    assert graph.query(ASK.replace("2005", "1999")).askAnswer is False


# --- requests: every protocol rule ----------------------------------------------------


def test_get_post_form_and_direct_post(endpoint: str) -> None:
    got = requests.get(endpoint, params={"query": LABELS}, timeout=30)
    form = requests.post(endpoint, data={"query": LABELS}, timeout=30)
    direct = requests.post(endpoint, data=LABELS.encode(), timeout=30,
                           headers={"Content-Type": "application/sparql-query"})
    for response in (got, form, direct):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
        assert [b["label"]["value"] for b in response.json()["results"]["bindings"]] == EXPECTED


def test_latin1_body(endpoint: str) -> None:
    query = 'SELECT ?x WHERE { BIND("coopération" AS ?x) }'
    response = requests.post(endpoint, data=query.encode("iso-8859-1"), timeout=30, headers={
        "Content-Type": "application/sparql-query; charset=ISO-8859-1"})
    assert response.json()["results"]["bindings"][0]["x"]["value"] == "coopération"


@pytest.mark.parametrize(("accept", "kind"), [
    ("application/sparql-results+xml", "xml"), ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"), ("application/sparql-results+json", "json")])
def test_select_formats(endpoint: str, accept: str, kind: str) -> None:
    response = requests.get(endpoint, params={"query": LABELS}, headers={"Accept": accept},
                            timeout=30)
    assert response.headers["Content-Type"].split(";")[0] == accept
    if kind == "csv":
        labels = [r[0] for r in csv.reader(io.StringIO(response.content.decode()))][1:]
    else:
        fmt = {"xml": ox.QueryResultsFormat.XML, "tsv": ox.QueryResultsFormat.TSV,
               "json": ox.QueryResultsFormat.JSON}[kind]
        labels = [s["label"].value for s in ox.parse_query_results(response.content, fmt)]
    assert labels == EXPECTED


@pytest.mark.parametrize(("accept", "fmt"), [
    ("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ("application/trig", ox.RdfFormat.TRIG), ("application/n-quads", ox.RdfFormat.N_QUADS)])
def test_construct_formats(endpoint: str, accept: str, fmt: ox.RdfFormat) -> None:
    response = requests.get(endpoint, params={"query": CONSTRUCT}, headers={"Accept": accept},
                            timeout=30)
    assert response.headers["Content-Type"].split(";")[0] == accept
    assert {q.object.value for q in ox.parse(response.content, fmt)} == PARTNERS


@pytest.mark.parametrize(
    ("kwargs", "status", "detail"),
    [
        ({"method": "POST", "data": {}}, 400, "missing query"),
        ({"method": "GET", "params": [("query", ASK), ("query", ASK)]}, 400, "2 times"),
        ({"method": "POST", "data": {"query": ASK, "update": "CLEAR ALL"}}, 400, "not both"),
        ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 403, "read-only"),
        ({"method": "POST", "data": "DROP ALL",
          "headers": {"Content-Type": "application/sparql-update"}}, 403, "read-only"),
        ({"method": "GET", "params": {"query": "SELECT * WHERE {"}}, 400, "1, col"),
        ({"method": "GET", "params": {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> {} }"}},
         400, "SERVICE"),
        ({"method": "GET", "params": {"query": "LOAD <http://127.0.0.1:9/x.ttl>"}}, 400, "LOAD"),
        ({"method": "GET", "params": {"query": "INSERT DATA { <http://a> <http://b> 1 }"}}, 400,
         "INSERT"),
        ({"method": "GET", "params": {"query": "SELECT * WHERE " + "{" * 5000 + "}" * 5000}},
         400, "nested"),
        ({"method": "GET", "params": {"query": ASK}, "headers": {"Accept": "image/png"}}, 406,
         "image/png"),
        ({"method": "POST", "data": ASK, "headers": {"Content-Type": "text/plain"}}, 415,
         "text/plain"),
    ],
)
def test_error_statuses(endpoint: str, kwargs: dict, status: int, detail: str) -> None:  # type: ignore[type-arg]
    response = requests.request(url=endpoint, timeout=30, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert detail in body["detail"]


def test_the_server_survives_a_query_that_would_crash_the_engine(live_server: str) -> None:
    deep = "SELECT * WHERE " + "{" * 5000 + "}" * 5000
    requests.post(live_server + "sparql", data={"query": deep}, timeout=30)
    assert requests.get(live_server + "healthz", timeout=30).json() == {"status": "ok"}


def test_timeout_is_503_and_the_server_keeps_answering(endpoint: str, live_server: str) -> None:
    cross = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    response = requests.get(endpoint, params={"query": cross}, timeout=120)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == 503 and body["error"] == "Query timeout"
    again = requests.get(endpoint, params={"query": ASK}, timeout=60)
    assert again.json()["boolean"] is True
    assert requests.get(live_server + "stats", timeout=30).json()["timeouts"] >= 1


def test_from_and_default_graph_uri(endpoint: str, live_server: str) -> None:
    sizes = requests.get(live_server + "stats", timeout=30).json()["graphs"]
    count = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s ?p ?o }}"

    def n(query: str, **params: str) -> int:
        response = requests.get(endpoint, params={"query": query, **params}, timeout=30)
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    assert n(count.format(f"FROM <{SEED0}>")) == sizes[SEED0]
    assert n(count.format(f"FROM <{SEED1}>"), **{"default-graph-uri": SEED0}) == sizes[SEED0]
    assert n(count.format("FROM <file:///etc/passwd>")) == 0
    assert n(count.format("")) > sizes[SEED0]
    named = requests.get(endpoint, timeout=30, params={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": SEED1})
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [SEED1]


def test_truncation_header(endpoint: str) -> None:
    response = requests.get(endpoint, params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=30)
    assert response.headers["X-Coopgraph-Truncated"] == "true"
    limit = int(response.headers["X-Coopgraph-Result-Limit"])
    assert len(response.json()["results"]["bindings"]) == limit


def test_head_and_cors(endpoint: str) -> None:
    params = {"query": LABELS, "format": "tsv"}
    got = requests.get(endpoint, params=params, timeout=30)
    head = requests.head(endpoint, params=params, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == got.headers["Content-Length"] != "0"
    assert got.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(endpoint, timeout=30, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_service_description(endpoint: str) -> None:
    response = requests.get(endpoint, timeout=30)
    assert response.headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace(str(SD))
    service = g.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert str(g.value(service, sd.endpoint)) == endpoint
    assert g.value(service, sd.supportedLanguage) == sd.SPARQL11Query
    assert len(set(g.objects(service, sd.resultFormat))) == 10


def test_linked_data_and_void_over_http(live_server: str) -> None:
    ttl = requests.get(live_server + "id/org/ville-de-lille", timeout=30,
                       headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (rdflib.URIRef(ID["org/ville-de-lille"]), rdflib.URIRef(CG.partnerOf),
            rdflib.URIRef(ID["org/commune-oujda"])) in g
    assert requests.get(live_server + "id/org/nobody", timeout=30).status_code == 404
    void = requests.get(live_server + ".well-known/void", timeout=30)
    vg = rdflib.Graph().parse(data=void.text, format="turtle")
    vns = rdflib.Namespace("http://rdfs.org/ns/void#")
    endpoints = {str(o) for o in vg.objects(None, vns.sparqlEndpoint)}
    assert endpoints == {live_server + "sparql"}
    page = requests.get(live_server, timeout=30, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "query.js" in page.text
    assert json.loads(requests.get(live_server + "healthz", timeout=30).text) == {"status": "ok"}
