"""The /sparql endpoint through the Flask test client on the project store: every rule of
the SPARQL 1.1 Protocol that coopgraph implements, each answer parsed and checked."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest
import rdflib

from coopgraph.errors import QueryTimeout
from coopgraph.formats import RDF_FORMATS
from coopgraph.vocab import CG, GRAPH, ID, INFERRED_GRAPH, SD, XSD

LILLE_OUJDA = ID["partnership/lille-oujda"]
SEED0 = GRAPH["seed/000"]
SEED1 = GRAPH["seed/001"]
ASK_SIGNED = f'ASK {{ <{LILLE_OUJDA}> <{CG.signedYear}> "2005"^^<{XSD.gYear}> }}'
LABELS = (
    f"SELECT ?label WHERE {{ <{LILLE_OUJDA}> <http://www.w3.org/2000/01/rdf-schema#label> "
    "?label } ORDER BY ?label"
)
EXPECTED_LABELS = [
    ("Accord de coopération Lille-Oujda (2005)", "fr"),
    ("Lille-Oujda cooperation agreement (2005)", "en"),
    ("Samenwerkingsakkoord Rijsel-Oujda (2005)", "nl"),
]
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CONSTRUCT = (
    f"CONSTRUCT {{ <{LILLE_OUJDA}> <{CG.partner}> ?o }} "
    f"WHERE {{ <{LILLE_OUJDA}> <{CG.partner}> ?o }}"
)
PARTNERS = {ID["org/ville-de-lille"], ID["org/commune-oujda"]}


def get(client, query: str, **params):  # type: ignore[no-untyped-def]
    headers = params.pop("headers", {})
    return client.get("/sparql?" + urlencode({"query": query, **params}), headers=headers)


def json_rows(response) -> list[dict[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    return json.loads(response.data)["results"]["bindings"]


def count(response) -> int:  # type: ignore[no-untyped-def]
    return int(json_rows(response)[0]["n"]["value"])


# --- query forms and formats ---------------------------------------------------------


def test_select_json_is_the_default(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, LABELS)
    assert response.mimetype == "application/sparql-results+json"
    rows = json_rows(response)
    assert [(r["label"]["value"], r["label"]["xml:lang"]) for r in rows] == EXPECTED_LABELS


@pytest.mark.parametrize(
    ("accept", "mimetype", "ox_format"),
    [
        ("application/sparql-results+json", "application/sparql-results+json",
         ox.QueryResultsFormat.JSON),
        ("application/sparql-results+xml", "application/sparql-results+xml",
         ox.QueryResultsFormat.XML),
        ("text/tab-separated-values", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
    ],
)
def test_select_formats_parse_back(client, accept, mimetype, ox_format) -> None:  # type: ignore[no-untyped-def]
    response = get(client, LABELS, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    solutions = ox.parse_query_results(response.data, ox_format)
    assert [(s["label"].value, s["label"].language) for s in solutions] == EXPECTED_LABELS


def test_select_csv(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, LABELS, headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8"))))
    assert rows == [["label"], *[[label] for label, _ in EXPECTED_LABELS]]


@pytest.mark.parametrize(("param", "value", "mimetype"), [
    ("format", "json", "application/sparql-results+json"),
    ("output", "json", "application/sparql-results+json"),
    ("format", "xml", "application/sparql-results+xml"),
    ("format", "csv", "text/csv"),
    ("output", "tsv", "text/tab-separated-values"),
    ("format", "text/csv", "text/csv"),
])
def test_format_and_output_parameters_win_over_accept(client, param, value, mimetype) -> None:  # type: ignore[no-untyped-def]
    """Over the client's preference; not over an Accept that refuses the format (then
    Accept decides: tests/test_negotiate.py)."""
    accept = {"Accept": "application/sparql-results+xml, */*;q=0.1"}
    response = get(client, LABELS, **{param: value}, headers=accept)
    assert response.status_code == 200
    assert response.mimetype == mimetype


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_ask_in_every_results_format(client, accept) -> None:  # type: ignore[no-untyped-def]
    response = get(client, ASK_SIGNED, headers={"Accept": accept})
    assert response.status_code == 200
    text = response.data.decode()
    if accept.endswith("json"):
        assert json.loads(text)["boolean"] is True
    elif accept.endswith("xml"):
        assert bool(ox.parse_query_results(response.data, ox.QueryResultsFormat.XML)) is True
    else:
        assert text.split()[-1] == "true"
    no = get(client, ASK_SIGNED.replace("2005", "2006"), headers={"Accept": accept})
    assert "false" in no.data.decode()


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_construct_in_every_rdf_format(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = get(client, CONSTRUCT, headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    objects = {q.object.value for q in ox.parse(response.data, fmt.oxigraph)}
    assert objects == PARTNERS


def test_construct_defaults_to_turtle_and_describe_works(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, CONSTRUCT)
    assert response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.data.decode(), format="turtle")
    assert {str(o) for o in graph.objects()} == PARTNERS
    described = get(client, f"DESCRIBE <{LILLE_OUJDA}>", format="ntriples")
    assert described.mimetype == "application/n-triples"
    triples = list(ox.parse(described.data, ox.RdfFormat.N_TRIPLES))
    assert {t.object.value for t in triples if t.predicate.value == CG.partner} == PARTNERS


def test_construct_with_a_results_format_is_406(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, CONSTRUCT, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert json.loads(response.data)["status"] == 406


# --- the three ways to send a query ---------------------------------------------------


def test_post_form(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/sparql", data={"query": LABELS})
    assert len(json_rows(response)) == 3


def test_post_sparql_query_body(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/sparql", data=LABELS.encode(),
                           headers={"Content-Type": "application/sparql-query"})
    assert len(json_rows(response)) == 3


def test_post_sparql_query_latin1_body(client) -> None:  # type: ignore[no-untyped-def]
    query = 'SELECT ?x WHERE { BIND("coopération" AS ?x) }'
    response = client.post("/sparql", data=query.encode("iso-8859-1"),
                           headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"})
    assert json_rows(response)[0]["x"]["value"] == "coopération"
    # the same bytes declared as (default) UTF-8 are not valid UTF-8: 400, not a crash
    bad = client.post("/sparql", data=query.encode("iso-8859-1"),
                      headers={"Content-Type": "application/sparql-query"})
    assert bad.status_code == 400
    assert "utf-8" in json.loads(bad.data)["detail"]


def test_post_form_latin1(client) -> None:  # type: ignore[no-untyped-def]
    query = 'SELECT ?x WHERE { BIND("été" AS ?x) }'
    body = "query=" + quote(query, encoding="iso-8859-1")
    response = client.post("/sparql", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"})
    assert json_rows(response)[0]["x"]["value"] == "été"


def test_sparql_query_body_with_query_in_url_too_is_400(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/sparql?" + urlencode({"query": LABELS}), data=LABELS,
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "detail"),
    [
        ("post", {"data": {}}, 400, "missing query"),
        ("get", {"query_string": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "2 times"),
        ("post", {"data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400, "not both"),
        ("post", {"data": {"update": "CLEAR ALL"}}, 403, "read-only"),
        ("get", {"query_string": {"update": "CLEAR ALL"}}, 403, "read-only"),
        ("post", {"data": "CLEAR ALL", "content_type": "application/sparql-update"}, 403,
         "read-only"),
        ("post", {"data": "ASK {}", "content_type": "text/plain"}, 415, "text/plain"),
        ("post", {"data": "ASK {}", "content_type": "application/sparql-query; charset=nope"},
         415, "charset"),
        ("get", {"query_string": {"query": "SELECT * WHERE { ?s ?p ?o"}}, 400, "1, col"),
        ("get", {"query_string": {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}},
         400, "INSERT"),
        ("get", {"query_string": {"query": "LOAD <http://example.org/x.ttl>"}}, 400, "LOAD"),
        ("get", {"query_string": {"query": "SELECT * { SERVICE <http://127.0.0.1:1/> {} }"}},
         400, "SERVICE"),
        ("get", {"query_string": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}}, 406,
         "image/png"),
        ("get", {"query_string": {"query": "ASK {}", "format": "turtle"}}, 406, "turtle"),
        ("get", {"query_string": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400,
         "default-graph-uri"),
        ("put", {"data": {"query": "ASK {}"}}, 405, ""),
    ],
)
def test_error_statuses(client, method, kwargs, status, detail) -> None:  # type: ignore[no-untyped-def]
    response = getattr(client, method)("/sparql", **kwargs)
    assert response.status_code == status, response.data
    body = json.loads(response.data)
    assert body["status"] == status
    assert detail in body["detail"]


def test_syntax_error_carries_line_and_column(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, "SELECT *\nWHERE { ?s ?p }")
    body = json.loads(response.data)
    assert response.status_code == 400
    assert body["error"] == "SPARQL syntax error"
    assert body["line"] == 2 and body["column"] >= 1  # and in words, in the visitor's language
    assert body["detail"].startswith(("Ligne 2, colonne", "Line 2, column"))
    assert body["engine"].startswith("error at 2:")


def test_body_too_large_is_413(app, client) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/sparql", data="ASK {} #" + "x" * 2000,
                           headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    assert json.loads(response.data)["status"] == 413


class _SlowStore:
    """A store whose every query runs past its timeout."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.timeouts: list[float | None] = []

    def query(self, sparql, **kwargs):  # type: ignore[no-untyped-def]
        self.timeouts.append(kwargs.get("timeout"))
        raise QueryTimeout(f"query stopped after {kwargs.get('timeout')} s")

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def test_timeout_is_503_and_counted(web_settings, project_store) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.web import create_app

    slow = _SlowStore(project_store)
    app = create_app(web_settings, store=slow)  # type: ignore[arg-type]
    client = app.test_client()
    response = get(client, LABELS)
    assert response.status_code == 503
    assert json.loads(response.data) == {"error": "Query timeout", "status": 503,
                                         "detail": "query stopped after 5.0 s"}
    assert slow.timeouts == [web_settings.query_timeout]
    stats = json.loads(client.get("/stats").data)
    assert stats["timeouts"] == 1


# --- datasets -------------------------------------------------------------------------


def test_default_graph_is_the_union_including_inferences(client, project_store) -> None:  # type: ignore[no-untyped-def]
    inferred_only = (
        f"ASK {{ <{ID['org/ville-de-lille']}> a <http://www.w3.org/ns/org#Organization> }}"
    )
    assert json.loads(get(client, inferred_only).data)["boolean"] is True
    asserted = f"SELECT * FROM <{SEED0}> FROM <{GRAPH['reference/organisations']}> WHERE {{ }}"
    assert get(client, asserted).status_code == 200
    without = inferred_only.replace("ASK {", f"ASK FROM <{GRAPH['reference/organisations']}> {{")
    assert json.loads(get(client, without).data)["boolean"] is False


def test_from_is_honoured(client, project_store) -> None:  # type: ignore[no-untyped-def]
    sizes = project_store.graph_sizes()
    query = f"SELECT (COUNT(*) AS ?n) FROM <{SEED0}> WHERE {{ ?s ?p ?o }}"
    assert count(get(client, query)) == sizes[SEED0]
    two = f"SELECT (COUNT(*) AS ?n) FROM <{SEED0}> FROM <{INFERRED_GRAPH}> WHERE {{ ?s ?p ?o }}"
    assert sizes[SEED0] < count(get(client, two)) <= sizes[SEED0] + sizes[INFERRED_GRAPH]


def test_from_named_and_graph(client) -> None:  # type: ignore[no-untyped-def]
    query = f"SELECT DISTINCT ?g FROM NAMED <{SEED1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert [r["g"]["value"] for r in json_rows(get(client, query))] == [SEED1]
    # FROM NAMED alone: the default graph is empty
    empty = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{SEED1}> WHERE {{ ?s ?p ?o }}"
    assert count(get(client, empty)) == 0


def test_from_a_url_is_never_fetched(client) -> None:  # type: ignore[no-untyped-def]
    query = ("SELECT (COUNT(*) AS ?n) FROM <file:///etc/passwd> "
             "FROM <http://127.0.0.1:1/x.ttl> WHERE { ?s ?p ?o }")
    assert count(get(client, query)) == 0


def test_default_graph_uri_and_named_graph_uri_override_from(client, project_store) -> None:  # type: ignore[no-untyped-def]
    sizes = project_store.graph_sizes()
    query = f"SELECT (COUNT(*) AS ?n) FROM <{SEED1}> WHERE {{ ?s ?p ?o }}"
    assert count(get(client, query, **{"default-graph-uri": SEED0})) == sizes[SEED0]
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = client.get("/sparql", query_string=[
        ("query", graphs), ("named-graph-uri", SEED0), ("named-graph-uri", SEED1)])
    assert [r["g"]["value"] for r in json_rows(response)] == [SEED0, SEED1]
    posted = client.post("/sparql", data={"query": query, "default-graph-uri": SEED0})
    assert count(posted) == sizes[SEED0]


# --- truncation, HEAD, CORS -----------------------------------------------------------


def test_truncated_result_is_flagged(client, web_settings) -> None:  # type: ignore[no-untyped-def]
    response = get(client, "SELECT * WHERE { ?s ?p ?o }")
    assert len(json_rows(response)) == web_settings.result_limit
    assert response.headers["X-Coopgraph-Truncated"] == "true"
    assert response.headers["X-Coopgraph-Result-Limit"] == str(web_settings.result_limit)
    small = get(client, LABELS)
    assert "X-Coopgraph-Truncated" not in small.headers
    construct = get(client, "CONSTRUCT WHERE { ?s ?p ?o }", format="ntriples")
    assert len(list(ox.parse(construct.data, ox.RdfFormat.N_TRIPLES))) == web_settings.result_limit
    assert construct.headers["X-Coopgraph-Truncated"] == "true"


def test_head_has_the_get_headers_and_no_body(client) -> None:  # type: ignore[no-untyped-def]
    url = "/sparql?" + urlencode({"query": LABELS, "format": "csv"})
    got, head = client.get(url), client.head(url)
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]


def test_cors(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, ASK_SIGNED, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"


def test_download_parameter(client) -> None:  # type: ignore[no-untyped-def]
    response = get(client, LABELS, format="tsv", download="1")
    assert response.headers["Content-Disposition"] == 'attachment; filename="results.tsv"'


# --- service description --------------------------------------------------------------


def _sd(client, accept: str | None = None) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    fmt = {"text/turtle": "turtle", "application/ld+json": "json-ld",
           "application/rdf+xml": "xml"}[response.mimetype]
    return rdflib.Graph().parse(data=response.data.decode(), format=fmt)


@pytest.mark.parametrize("accept", [None, "application/ld+json", "application/rdf+xml"])
def test_service_description(client, project_store, accept) -> None:  # type: ignore[no-untyped-def]
    g = _sd(client, accept)
    sd = rdflib.Namespace(str(SD))
    service = g.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert str(g.value(service, sd.endpoint)) == "http://localhost/sparql"
    assert g.value(service, sd.supportedLanguage) == sd.SPARQL11Query
    formats = {str(f).rsplit("/", 1)[1] for f in g.objects(service, sd.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
            "SPARQL_Results_TSV", "Turtle", "RDF_XML", "JSON-LD", "N-Triples"} <= formats
    assert sd.UnionDefaultGraph in set(g.objects(service, sd.feature))
    dataset = g.value(service, sd.defaultDataset)
    assert g.value(dataset, sd.defaultGraph) is not None
    names = {str(g.value(n, sd.name)) for n in g.objects(dataset, sd.namedGraph)}
    assert names == set(project_store.graph_sizes())


def test_service_description_page_for_browsers(client, project_store) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sparql", headers={"Accept": "text/html"})
    assert response.mimetype == "text/html"
    from html import unescape

    text = unescape(response.data.decode())
    assert "http://localhost/sparql" in text
    assert all(graph in text for graph in project_store.graph_sizes())
    turtle = text.split('<pre class="cg-rdf">', 1)[1].split("</pre>", 1)[0]
    g = rdflib.Graph().parse(data=turtle, format="turtle")
    assert (None, rdflib.RDF.type, rdflib.URIRef(SD.Service)) in g
