"""Security suite (issue "Reliability and security under load, faults and hostile input").

* no SSRF: SERVICE, LOAD, FROM, ``default-graph-uri``, remote JSON-LD contexts, XML
  external entities, owl:imports — a canary HTTP server on 127.0.0.1 records every hit and
  must get none (the engine itself *does* fetch SERVICE and LOAD targets: the guard is
  what stops them);
* no XXE: an external entity naming a local file never brings its content anywhere;
* no path traversal on the static and entity routes, in-process and over a real socket;
* write routes need a valid bearer token;
* no personal data of named individuals on any public route (the routes come from the
  app's url_map; the needles are the personal names and e-mail addresses of the seeds);
* security headers on HTML pages; HTML escaping of labels added through POST /entries.
"""

from __future__ import annotations

import http.client
import http.server
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import DATA, build_store, store_fingerprint
from coopgraph.errors import CoopgraphError
from coopgraph.formats import EXPORT_FORMATS, FEED_FORMATS, RESULT_FORMATS
from coopgraph.parse import parse_bytes
from coopgraph.settings import PROJECT_ROOT, Settings
from coopgraph.store import Store
from coopgraph.tabular import KINDS
from coopgraph.vocab import ENTRY_GRAPH_PREFIX, GRAPH, ID
from coopgraph.web import create_app

ALICE = {"Authorization": "Bearer alice-secret-token"}
ORGANISATION = (DATA / "valid" / "new-organisation.ttl").read_text("utf-8")
ORG_IRI = "https://w3id.org/coopgraph/id/org/test-commune-tournai"

#: Personal data of named individuals found in the seed offers (/work/shared/seeds:
#: contact e-mails and the addressee of the Eurométropole offer). None may be served.
#: Functional addresses (candidatures@…, presidence@…) are not personal data.
PERSONAL = [
    re.compile(r"f\.fortune@socooperation\.org", re.IGNORECASE),
    re.compile(r"charlotte\.mali@brulocalis\.brussels", re.IGNORECASE),
    re.compile(r"loic\.delhuvenne@eurometropolis\.eu", re.IGNORECASE),
    re.compile(r"[\w.-]+\.[\w-]+@(?:socooperation\.org|brulocalis\.brussels|eurometropolis\.eu)",
               re.IGNORECASE),
    re.compile(r"Rudy\s+Demotte", re.IGNORECASE),
    re.compile(r"Demotte", re.IGNORECASE),
    re.compile(r"Delhuvenne", re.IGNORECASE),
    re.compile(r"\bFortune\b"),  # the surname; the French noun "fortune" is lower-case
    re.compile(r"\bCharlotte\b", re.IGNORECASE),
    re.compile(r"\bLo[iï]c\b", re.IGNORECASE),
]
ACCEPTS = [
    None, "*/*", "text/html", "application/json", "text/turtle", "application/ld+json",
    "application/n-quads", "application/rdf+xml", "text/csv", "application/atom+xml",
]


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------


class Canary:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        hits: list[str] = []
        self.hits = hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self) -> None:
                hits.append(f"{self.command} {self.path}")
                body = b'{"@context": {}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _record

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    server = Canary()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def no_hits(canary: Canary) -> Iterator[Canary]:
    """The canary, checked to have received nothing at the end of the test."""
    canary.hits.clear()
    yield canary
    assert canary.hits == [], f"the server fetched a URL: {canary.hits}"


@pytest.fixture(scope="module")
def write_app(settings: Settings) -> Flask:
    """An app on a private store (tests here write), result cap high enough for a crawl."""
    return create_app(settings.replace(result_limit=1_000_000), store=build_store(settings))


@pytest.fixture
def wclient(write_app: Flask) -> FlaskClient:
    return write_app.test_client()


@pytest.fixture
def wstore(write_app: Flask) -> Store:
    return write_app.extensions["coopgraph.store"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def read_app(settings: Settings, project_store: Store) -> Flask:
    """An app on the session's project store (read-only here), no result cap in practice."""
    return create_app(settings.replace(result_limit=1_000_000), store=project_store)


def sparql(client: FlaskClient, query: str, **params: str) -> Any:
    return client.post("/sparql", data={"query": query, **params},
                       headers={"Accept": "application/sparql-results+json"})


# ---------------------------------------------------------------------------------------
# SSRF
# ---------------------------------------------------------------------------------------


def ssrf_queries(base: str) -> list[str]:
    return [
        f"SELECT * WHERE {{ SERVICE <{base}sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{base}sparql> {{ ?s ?p ?o }} }}",
        f"select * where {{ service<{base}sparql>{{?s ?p ?o}} }}",
        f"PREFIX c: <{base}> SELECT * WHERE {{ SERVICE c:sparql {{ ?s ?p ?o }} }}",
        f"BASE <{base}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE # comment\n <{base}sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{base}sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"ASK {{ OPTIONAL {{ SERVICE <{base}x> {{ ?s ?p ?o }} }} }}",
        f"LOAD <{base}data.ttl>",
        f"LOAD SILENT <{base}data.ttl> INTO GRAPH <{base}g>",
        f"PREFIX c: <{base}> CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE c:x {{ ?s ?p ?o }} }}",
    ]


@pytest.mark.parametrize("index", range(11))
def test_service_and_load_are_refused_without_any_fetch(
    client: FlaskClient, no_hits: Canary, index: int
) -> None:
    query = ssrf_queries(no_hits.base)[index]
    for response in (
        sparql(client, query),
        client.get("/sparql", query_string={"query": query}),
        client.post("/sparql", data=query.encode(),
                    headers={"Content-Type": "application/sparql-query"}),
    ):
        assert response.status_code in (400, 403), response.get_data(as_text=True)[:300]
        assert response.get_json()["status"] == response.status_code


def test_the_allow_list_does_not_open_other_hosts(
    settings: Settings, project_store: Store, no_hits: Canary
) -> None:
    app = create_app(settings.replace(allowed_service_hosts=("query.wikidata.org",)),
                     store=project_store)
    response = sparql(app.test_client(),
                      f"SELECT * WHERE {{ SERVICE <{no_hits.base}sparql> {{ ?s ?p ?o }} }}")
    assert response.status_code == 400
    assert "query.wikidata.org" in response.get_json()["detail"]


def test_sparql_update_is_refused_without_any_fetch(client: FlaskClient, no_hits: Canary) -> None:
    update = f"LOAD <{no_hits.base}data.ttl>"
    assert client.post("/sparql", data={"update": update}).status_code == 403
    response = client.post("/sparql", data=update.encode(),
                           headers={"Content-Type": "application/sparql-update"})
    assert response.status_code == 403


def test_from_and_dataset_parameters_never_fetch(client: FlaskClient, no_hits: Canary) -> None:
    graph = no_hits.base + "graph.ttl"
    responses = [
        sparql(client, f"SELECT * FROM <{graph}> WHERE {{ ?s ?p ?o }}"),
        sparql(client, f"SELECT * FROM NAMED <{graph}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
        sparql(client, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": graph}),
        sparql(client, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": graph}),
        client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                            "default-graph-uri": graph}),
    ]
    for response in responses:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.get_json()["results"]["bindings"] == []


def jsonld_bodies(base: str) -> list[dict[str, Any]]:
    node = {"@id": ORG_IRI, "http://www.w3.org/2000/01/rdf-schema#label": "x"}
    return [
        {"@context": base + "context.jsonld", **node},
        {"@context": [base + "a.jsonld", {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}],
         **node},
        {"@context": {"@import": base + "import.jsonld"}, **node},
        {"@context": {"p": {"@id": "http://example.org/p", "@context": base + "scoped.jsonld"}},
         **node, "p": {"@id": "http://example.org/o"}},
        {"@graph": [{"@context": base + "nested.jsonld", **node}]},
    ]


@pytest.mark.parametrize("index", range(5))
def test_remote_json_ld_contexts_are_never_fetched(
    wclient: FlaskClient, wstore: Store, no_hits: Canary, index: int
) -> None:
    body = json.dumps(jsonld_bodies(no_hits.base)[index]).encode()
    before = store_fingerprint(wstore)
    response = wclient.post("/entries?id=ssrf-jsonld", data=body,
                            headers={**ALICE, "Content-Type": "application/ld+json"})
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    with pytest.raises(CoopgraphError):
        parse_bytes(body, "jsonld")
    assert store_fingerprint(wstore) == before


def test_imports_and_shapes_graph_links_in_an_entry_are_not_followed(
    wclient: FlaskClient, no_hits: Canary
) -> None:
    body = ORGANISATION.replace("test-commune-tournai", "test-ssrf-imports") + (
        f"\n<{ID['org/test-ssrf-imports']}> <http://www.w3.org/2002/07/owl#imports> "
        f"<{no_hits.base}onto.ttl> ;\n"
        f"  <http://www.w3.org/ns/shacl#shapesGraph> <{no_hits.base}shapes.ttl> ;\n"
        f"  <http://www.w3.org/2000/01/rdf-schema#seeAlso> <{no_hits.base}more.ttl> .\n"
    )
    response = wclient.post("/entries?id=ssrf-imports", data=body.encode(),
                            headers={**ALICE, "Content-Type": "text/turtle"})
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


# ---------------------------------------------------------------------------------------
# XXE
# ---------------------------------------------------------------------------------------

SECRET = "coopgraph-xxe-secret-7f3a9c"


def xxe_documents(secret_file: Path, canary_base: str) -> list[bytes]:
    head = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n  {decl}\n]>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
            '         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
            f'  <rdf:Description rdf:about="{ORG_IRI}">\n'
            '    <rdfs:label xml:lang="fr">{use}</rdfs:label>\n'
            '  </rdf:Description>\n</rdf:RDF>\n')
    uri = secret_file.as_uri()
    variants = [
        (f'<!ENTITY xxe SYSTEM "{uri}">', "&xxe;"),
        (f'<!ENTITY xxe PUBLIC "-//x//EN" "{uri}">', "&xxe;"),
        (f'<!ENTITY % xxe SYSTEM "{uri}"> %xxe;', "x"),
        (f'<!ENTITY xxe SYSTEM "{canary_base}xxe">', "&xxe;"),
        (f'<!ENTITY % remote SYSTEM "{canary_base}dtd"> %remote;', "x"),
    ]
    return [head.format(decl=decl, use=use).encode() for decl, use in variants]


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def test_xxe_in_the_parser_never_reads_the_file(secret_file: Path, no_hits: Canary) -> None:
    for document in xxe_documents(secret_file, no_hits.base):
        try:
            quads = parse_bytes(document, "rdfxml")
        except CoopgraphError as exc:
            assert SECRET not in str(exc)
        else:
            assert all(SECRET not in str(q) for q in quads)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/entries?id=xxe"),
    ("PUT", "/entries/xxe"),
    ("PUT", "/data?graph=" + quote(ENTRY_GRAPH_PREFIX + "xxe", safe="")),
    ("POST", "/data"),
])
def test_xxe_over_http_is_refused_and_leaks_nothing(
    wclient: FlaskClient, wstore: Store, secret_file: Path, no_hits: Canary,
    method: str, path: str,
) -> None:
    before = store_fingerprint(wstore)
    for document in xxe_documents(secret_file, no_hits.base):
        response = wclient.open(path, method=method, data=document,
                                headers={**ALICE, "Content-Type": "application/rdf+xml"})
        assert 400 <= response.status_code < 500
        assert SECRET not in response.get_data(as_text=True)
    assert store_fingerprint(wstore) == before
    assert all(SECRET not in str(q) for q in wstore.quads())


# ---------------------------------------------------------------------------------------
# Path traversal
# ---------------------------------------------------------------------------------------

TRAVERSALS = [
    "/static/../../pyproject.toml",
    "/static/../../../pyproject.toml",
    "/static/..%2F..%2F..%2Fpyproject.toml",
    "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/static/%252e%252e/%252e%252e/pyproject.toml",
    "/static/....//....//....//pyproject.toml",
    "/static/..\\..\\..\\pyproject.toml",
    "/static//etc/passwd",
    "/static/researchers/../../../../pyproject.toml",
    "/static/researchers/..%2F..%2F..%2F..%2Fpyproject.toml",
    "/static/researchers/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/id/..%2F..%2Fetc/passwd",
    "/id/../../etc/passwd",
    "/id/%2e%2e/%2e%2e/etc/passwd",
    "/id/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/id/..%252F..%252Fetc%252Fpasswd",
    "/id/%2F%2Fetc/passwd",
    "/graph/..%2F..%2Fetc/passwd",
    "/graph/../../../pyproject.toml",
    "/entries/..%2F..%2Fetc%2Fpasswd",
    "/export/network.%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/changes.%2e%2e%2fpyproject",
]
#: What the files look like: none of this may come back.
LEAKS = ["root:x:0:0", "[build-system]", "[project]", "setuptools"]


def assert_no_leak(status: int, body: bytes, path: str) -> None:
    text = body.decode("utf-8", "replace")
    assert status < 500, (path, status, text[:300])
    for leak in LEAKS:
        assert leak not in text, (path, status)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal_in_process(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    body = response.get_data()
    response.close()
    assert_no_leak(response.status_code, body, path)
    assert response.status_code in (400, 404, 406, 308), (path, response.status_code)


def test_no_path_traversal_over_a_socket(live_server: str) -> None:
    """Raw request targets (http.client sends the path as given, unnormalised)."""
    host = urlsplit(live_server)
    conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
    try:
        for path in TRAVERSALS:
            conn.request("GET", path)
            response = conn.getresponse()
            assert_no_leak(response.status, response.read(), path)
            assert response.status in (400, 404, 406, 308), (path, response.status)
        conn.request("GET", "/static/query.js")  # the static route itself works
        response = conn.getresponse()
        assert response.status == 200 and response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------

WRITE_ROUTES = [
    ("POST", "/entries?id=token-test"),
    ("PUT", "/entries/token-test"),
    ("DELETE", "/entries/token-test"),
    ("PUT", "/data?graph=" + quote(ENTRY_GRAPH_PREFIX + "token-test", safe="")),
    ("POST", "/data"),
    ("DELETE", "/data?graph=" + quote(ENTRY_GRAPH_PREFIX + "token-test", safe="")),
]
BAD_AUTH: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer wrong-token-123"},
    {"Authorization": "Bearer alice-secret-toke"},
    {"Authorization": "Bearer alice-secret-token-and-more"},
    {"Authorization": "Bearer ALICE-SECRET-TOKEN"},
    {"Authorization": "Basic YWxpY2U6YWxpY2Utc2VjcmV0LXRva2Vu"},
    {"Authorization": "alice-secret-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer alice"},
]


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_write_routes_need_a_valid_token(
    wclient: FlaskClient, wstore: Store, method: str, path: str
) -> None:
    before = store_fingerprint(wstore)
    for auth in BAD_AUTH:
        response = wclient.open(path, method=method, data=ORGANISATION.encode(),
                                headers={**auth, "Content-Type": "text/turtle"})
        assert response.status_code == 401, (auth, response.status_code)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert store_fingerprint(wstore) == before


def test_writes_are_disabled_without_configured_tokens(
    settings: Settings, project_store: Store
) -> None:
    client = create_app(settings.replace(tokens={}), store=project_store).test_client()
    before = store_fingerprint(project_store)
    for auth in ({}, ALICE, {"Authorization": "Bearer "}):
        response = client.post("/entries", data=ORGANISATION.encode(),
                               headers={**auth, "Content-Type": "text/turtle"})
        assert response.status_code == 401
    assert store_fingerprint(project_store) == before


# ---------------------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------------------


def texts_of(body: bytes, content_type: str) -> list[str]:
    """The texts to search in a response (zip exports: every member)."""
    if content_type.startswith("application/zip") or body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    return [body.decode("utf-8", "replace")]


def public_urls(app: Flask, store: Store) -> list[str]:
    """Every GET URL of the url_map, arguments filled from the store and the formats."""
    sizes = store.graph_sizes()
    subjects = store.query(
        "SELECT DISTINCT ?s WHERE { { ?s ?p ?o } UNION { ?x ?p ?s } FILTER(isIRI(?s)) }"
    )
    ids = sorted({row[0].value.split("#")[0][len(str(ID)):]  # type: ignore[index]
                  for row in subjects.rows  # type: ignore[union-attr]
                  if row[0].value.startswith(str(ID))})  # type: ignore[index]
    static = {
        "static": sorted(p.name for p in (Path(app.static_folder or "")).iterdir()
                         if p.is_file()),
        "researchers.static": sorted(
            p.name for p in (PROJECT_ROOT / "server/coopgraph/web/static").iterdir()
            if p.is_file()),
    }
    urls: list[str] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        args = set(rule.arguments)
        if not args:
            urls.append(rule.rule)
        elif rule.endpoint in static:
            urls += [rule.rule.replace("<path:filename>", name) for name in static[rule.endpoint]]
        elif rule.rule == "/id/<path:path>":
            urls += ["/id/" + quote(p, safe="/") for p in ids]
        elif rule.rule == "/graph/<path:path>":
            urls += ["/graph/" + quote(g[len(str(GRAPH)):], safe="/") for g in sizes
                     if g.startswith(str(GRAPH))]
        elif rule.rule == "/entries/<entry_id>":
            urls += ["/entries/" + g[len(ENTRY_GRAPH_PREFIX):] for g in sizes
                     if g.startswith(ENTRY_GRAPH_PREFIX)]
        elif rule.rule == "/export/network.<ext>":
            urls += [f"/export/network.{f.extension}" for f in EXPORT_FORMATS]
        elif rule.rule == "/ontology.<ext>":
            urls += ["/ontology.ttl", "/ontology.jsonld", "/ontology.nt"]
        elif rule.rule == "/changes.<ext>":
            urls += [f"/changes.{f.extension}" for f in FEED_FORMATS]
        elif rule.rule == "/upload/template/<kind>.csv":
            urls += [f"/upload/template/{kind}.csv" for kind in KINDS]
        elif rule.rule == "/upload/annotated/<key>.csv":
            continue  # only an uploader's own sheet, under a random key
        else:
            pytest.fail(f"the crawl does not know how to fill {rule.rule}: teach it")
    urls += ["/data?default"] + [f"/data?graph={quote(g, safe='')}" for g in sizes]
    every = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"
    for fmt in RESULT_FORMATS:
        urls.append(f"/sparql?query={quote(every)}&format={fmt.name}")
    urls.append("/sparql?query=" + quote("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    urls += ["/changes?limit=1000", "/changes.json?limit=1000", "/sparql"]
    return urls


@pytest.mark.slow
def test_no_personal_data_on_any_public_route(read_app: Flask, project_store: Store) -> None:
    client = read_app.test_client()
    urls = public_urls(read_app, project_store)
    assert len(urls) > 300  # every minted IRI is crawled
    seen = 0
    for url in urls:
        if url.startswith("/id/"):  # their RDF is in the /data and SPARQL dumps
            accepts: list[str | None] = ["text/html"]
        elif url.startswith(("/graph/", "/data")):
            accepts = ["text/html", "application/n-quads"]
        elif "format=" in url or url.startswith("/static"):
            accepts = [None]
        else:
            accepts = ACCEPTS
        for accept in accepts:
            response = client.get(url, headers={"Accept": accept} if accept else {})
            body = response.get_data()
            response.close()
            assert response.status_code < 500, (url, accept, response.status_code)
            for text in texts_of(body, response.content_type or ""):
                seen += len(text)
                for needle in PERSONAL:
                    found = needle.search(text)
                    assert found is None, f"{needle.pattern} served by GET {url} ({accept})"
    assert seen > 1_000_000  # the crawl did read the dataset


# ---------------------------------------------------------------------------------------
# Headers and escaping
# ---------------------------------------------------------------------------------------

XSS = "<script>alert(1)</script>"
HTML_PAGES = ["/", "/stats", "/network", "/map", "/ranking", "/sparql", "/.well-known/void",
              "/id/org/ville-de-lille", "/graph/seed/000", "/missing-page"]


def assert_safe_headers(response: Any, url: str) -> None:
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    if response.mimetype == "text/html":
        csp = response.headers.get("Content-Security-Policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        scripts = directives.get("script-src", directives.get("default-src"))
        assert scripts, (url, csp)
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, url
        assert directives.get("object-src") == ["'none'"], url


@pytest.mark.parametrize("url", HTML_PAGES)
def test_html_pages_carry_security_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.mimetype == "text/html", (url, response.status_code)
    assert_safe_headers(response, url)
    assert "<script>" not in response.get_data(as_text=True)  # no inline script at all


def test_non_html_responses_carry_nosniff(client: FlaskClient) -> None:
    for url in ("/healthz", "/sparql?query=ASK%20%7B%7D", "/id/org/ville-de-lille.ttl",
                "/nowhere"):
        response = client.get(url)
        assert_safe_headers(response, url)


def test_a_script_label_is_rendered_as_text(wclient: FlaskClient) -> None:
    body = ORGANISATION.replace("test-commune-tournai", "test-xss").replace(
        "Ville de Tournai (organisation de test)", XSS)
    response = wclient.post("/entries?id=xss", data=body.encode(),
                            headers={**ALICE, "Content-Type": "text/turtle"})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = ["/id/org/test-xss", "/graph/entry/xss", "/network", "/map", "/ranking", "/",
             "/id/org/eurometropole", "/changes"]
    shown = 0
    for url in pages:
        response = wclient.get(url, headers={"Accept": "text/html", "Accept-Language": "fr"})
        text = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code)
        assert XSS not in text, url
        shown += escaped in text
        assert_safe_headers(response, url)
    assert shown >= 2  # the entity page and the graph page show the label, escaped
    query = f"SELECT ?l WHERE {{ <{ID['org/test-xss']}> ?p ?l FILTER(CONTAINS(STR(?l), 'alert')) }}"
    for accept in ("text/html", "application/sparql-results+xml", "*/*"):
        response = wclient.get("/sparql", query_string={"query": query},
                               headers={"Accept": accept})
        assert response.status_code in (200, 406)
        assert XSS not in response.get_data(as_text=True) or response.mimetype != "text/html"
        if response.mimetype.endswith("xml"):
            assert XSS not in response.get_data(as_text=True)


def test_the_checks_can_fail(canary: Canary) -> None:
    """The canary records a fetch, and every needle matches the seed text it stands for."""
    import urllib.request

    before = len(canary.hits)
    with urllib.request.urlopen(canary.base + "probe", timeout=10) as response:
        assert response.status == 200
    assert len(canary.hits) == before + 1
    seed_lines = (
        "doivent être envoyés à Charlotte.mali@brulocalis.brussels, au plus tard\n"
        "envoyer votre CV et une lettre de motivation à f.fortune@socooperation.org et\n"
        "M. Rudy Demotte\nPrésident de l’Eurométropole\n"
        "par mail au directeur de l’Agence : loic.delhuvenne@eurometropolis.eu\n"
        "Loïc Delhuvenne, Charlotte Mali, F. Fortune"
    )
    for needle in PERSONAL:
        assert needle.search(seed_lines), needle.pattern
    assert not any(n.search("faire fortune, le Mali, candidatures@france-volontaires.org")
                   for n in PERSONAL)


@pytest.mark.parametrize(("url", "params"), [
    ("/", {"query": "</textarea>" + XSS}),
    ("/sparql", {"query": "</textarea>" + XSS}),
    ("/id/</textarea>" + XSS, {}),
    ("/network", {"asOf": XSS}),
    ("/changes", {"since": XSS}),
    ("/ranking", {"by": XSS}),
    ("/stats", {"lang": XSS}),
])
def test_reflected_input_is_escaped(client: FlaskClient, url: str, params: dict[str, str]) -> None:
    response = client.get(url, query_string=params, headers={"Accept": "text/html"})
    assert response.status_code < 500
    assert response.mimetype == "text/html"
    assert "<script>alert" not in response.get_data(as_text=True), url
    assert_safe_headers(response, url)
