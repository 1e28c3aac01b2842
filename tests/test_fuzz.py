"""Fuzzing, short (issue "Reliability and security under load, faults and hostile input",
part 2): hypothesis over the entry parser (every RDF format), the SPARQL endpoint's
parameters and headers, entity-page paths, the write route and the CSV import, plus
explicit hostile cases.

Properties: no 5xx (503 only for a query timeout), no exception other than a
CoopgraphError out of the parser, and the store unchanged unless a write was accepted
(conftest.store_fingerprint). The strategies and checks live in ``benchmarks/fuzz.py``,
which runs them much longer and against a live server too.
"""

from __future__ import annotations

import http.client
import socket
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings

from conftest import DATA, bench_module, build_store, store_fingerprint
from coopgraph.errors import CoopgraphError, ParseError
from coopgraph.parse import parse_bytes
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.web import create_app

fuzz = bench_module("fuzz")
SHORT = settings(max_examples=50, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ALICE = {"Authorization": "Bearer alice-secret-token"}
LIMIT = 1 << 20  # max_body_bytes of the apps here
ORGANISATION = (DATA / "valid" / "new-organisation.ttl").read_bytes()


@pytest.fixture(scope="module")
def read_app(settings: Settings, project_store: Store) -> Flask:
    return create_app(settings.replace(max_body_bytes=LIMIT), store=project_store)


@pytest.fixture(scope="module")
def write_app(settings: Settings) -> Flask:
    return create_app(settings.replace(max_body_bytes=LIMIT), store=build_store(settings))


# ---------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", fuzz.FORMAT_NAMES)
def test_parser_raises_only_its_own_errors(fmt: str) -> None:
    tried: list[int] = []

    @SHORT
    @given(fuzz.documents(fmt))
    def prop(data: bytes) -> None:
        tried.append(1)
        fuzz.check_parse(fmt, data)

    prop()
    assert len(tried) >= 50


def test_parser_check_catches_a_stray_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property fails when parse_bytes lets something else out."""
    import coopgraph.parse

    def broken(data: bytes, fmt: Any, **_: Any) -> list[Any]:
        raise RecursionError("boom")

    monkeypatch.setattr(coopgraph.parse, "parse_bytes", broken)
    with pytest.raises(fuzz.Finding):
        fuzz.check_parse("turtle", b"x")


def test_sparql_parameters_and_headers_never_5xx(read_app: Flask, project_store: Store) -> None:
    target = fuzz.AppTarget(read_app)
    before = store_fingerprint(project_store)

    @SHORT
    @given(fuzz.sparql_requests())
    def prop(request: Any) -> None:
        fuzz.check_read(target, request)

    prop()
    assert store_fingerprint(project_store) == before


def test_entity_paths_never_5xx(read_app: Flask, project_store: Store) -> None:
    target = fuzz.AppTarget(read_app)
    before = store_fingerprint(project_store)

    @SHORT
    @given(fuzz.entity_requests())
    def prop(request: Any) -> None:
        fuzz.check_read(target, request)

    prop()
    assert store_fingerprint(project_store) == before


def test_writes_never_5xx_and_change_nothing_when_refused(write_app: Flask) -> None:
    target = fuzz.AppTarget(write_app)
    statuses: list[int] = []

    @settings(SHORT, max_examples=15)
    @given(fuzz.write_requests())
    def prop(request: Any) -> None:
        statuses.append(fuzz.check_write(target, request))

    prop()
    assert len(statuses) >= 15 and all(s < 500 for s in statuses)
    assert any(400 <= s < 500 for s in statuses)


def test_csv_import_reports_and_never_raises(project_store: Store) -> None:
    before = store_fingerprint(project_store)
    read: list[int] = []

    @SHORT
    @given(fuzz.sheets())
    def prop_read(data: bytes) -> None:
        read.append(fuzz.check_sheet(project_store, data, validate=False))

    @settings(SHORT, max_examples=8)
    @given(fuzz.sheets())
    def prop_import(data: bytes) -> None:
        read.append(fuzz.check_sheet(project_store, data, validate=True))

    prop_read()
    prop_import()
    assert 200 in read and 400 in read
    assert store_fingerprint(project_store) == before


def test_read_check_catches_a_5xx() -> None:
    class Broken:
        def send(self, *args: Any) -> tuple[int, bytes]:
            return 500, b"{}"

        def fingerprint(self) -> tuple[int, str]:
            return 0, ""

    with pytest.raises(fuzz.Finding):
        fuzz.check_read(Broken(), ("GET", "/sparql", None, {}))


# ---------------------------------------------------------------------------------------
# Explicit hostile cases
# ---------------------------------------------------------------------------------------


def sparql_status(client: Any, query: str | bytes, method: str = "POST") -> tuple[int, Any]:
    if method == "GET":
        response = client.get("/sparql", query_string={"query": query})
    else:
        body = query if isinstance(query, bytes) else query.encode("utf-8")
        response = client.post("/sparql", data=body,
                               headers={"Content-Type": "application/sparql-query"})
    return response.status_code, response.get_json(silent=True)


@pytest.mark.parametrize("depth", [250, 5_000])
def test_thousands_of_nested_braces_are_refused(read_app: Flask, depth: int) -> None:
    client = read_app.test_client()
    for query in ("SELECT * WHERE " + "{ " * depth + "?s ?p ?o" + " }" * depth,
                  "SELECT * WHERE { FILTER(" + "(" * depth + "1" + ")" * depth + ") }",
                  "ASK " + "{" * depth):
        for method in ("GET", "POST"):
            status, body = sparql_status(client, query, method)
            assert status == 400, (depth, method, status)
            assert body["error"] == "Query refused"


def test_nested_json_ld_is_a_parse_error(write_app: Flask) -> None:
    """Thousands of nested [ or { in a JSON-LD entry (was a RecursionError → 500)."""
    client = write_app.test_client()
    store = write_app.extensions["coopgraph.store"]
    before = store_fingerprint(store)
    for body in (b"[" * 5_000 + b"]" * 5_000,
                 b'{"http://e/p":' * 3_000 + b'"x"' + b"}" * 3_000):
        with pytest.raises(ParseError):
            parse_bytes(body, "jsonld")
        response = client.post("/entries?id=deep", data=body,
                               headers={**ALICE, "Content-Type": "application/ld+json"})
        assert response.status_code == 400
    assert store_fingerprint(store) == before


def test_deeply_nested_turtle_parses_or_fails_cleanly() -> None:
    depth = 20_000
    body = b"@prefix : <http://e/> . :a :p " + b"[ :p " * depth + b":b" + b" ]" * depth + b" ."
    assert len(parse_bytes(body, "turtle")) == depth + 1
    with pytest.raises(ParseError):
        parse_bytes(body[:-1000], "turtle")


def test_huge_literals(read_app: Flask, write_app: Flask) -> None:
    client = read_app.test_client()
    long_ok = "SELECT ('" + "x" * 150_000 + "' AS ?x) WHERE {}"
    status, body = sparql_status(client, long_ok)
    assert status == 200 and len(body["results"]["bindings"][0]["x"]["value"]) == 150_000
    status, body = sparql_status(client, "SELECT ('" + "x" * 250_000 + "' AS ?x) WHERE {}")
    assert status == 400 and body["error"] == "Query refused"
    writer = write_app.test_client()
    store = write_app.extensions["coopgraph.store"]
    before = store_fingerprint(store)
    huge = ORGANISATION.replace(b"Fixture de test.", b"y" * 900_000)
    response = writer.post("/entries?id=huge-literal", data=huge,
                           headers={**ALICE, "Content-Type": "text/turtle"})
    assert response.status_code < 500
    if not 200 <= response.status_code < 300:
        assert store_fingerprint(store) == before


def test_invalid_utf8_is_a_400(read_app: Flask, write_app: Flask) -> None:
    client = read_app.test_client()
    bad = b"SELECT * WHERE { ?s ?p '\xff\xfe' }"
    assert sparql_status(client, bad)[0] == 400
    response = client.post("/sparql", data=b"query=SELECT%20*%20%7B%7D%ff%fe",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    response = client.get("/sparql?query=SELECT%20*%20%7B%7D%ff%fe")
    assert response.status_code < 500
    writer = write_app.test_client()
    store = write_app.extensions["coopgraph.store"]
    before = store_fingerprint(store)
    for ctype in fuzz.MEDIA_TYPES.values():
        response = writer.post("/entries?id=utf8", data=ORGANISATION[:200] + b"\xc3\x28\xff",
                               headers={**ALICE, "Content-Type": ctype})
        assert response.status_code == 400, ctype
    assert store_fingerprint(store) == before


def test_truncated_queries_never_5xx(read_app: Flask) -> None:
    client = read_app.test_client()
    tried = 0
    for text in fuzz.GALLERY:
        for cut in range(1, len(text), max(1, len(text) // 12)):
            status, _ = sparql_status(client, text[:cut])
            assert status in (200, 400), (text[:cut][-80:], status)
            tried += 1
    assert tried > 100


@pytest.mark.parametrize(("method", "path", "ctype"), [
    ("POST", "/entries?id=big", "text/turtle"),
    ("PUT", "/data?graph=" + quote("https://w3id.org/coopgraph/graph/entry/big", safe=""),
     "text/turtle"),
    ("POST", "/sparql", "application/sparql-query"),
    ("POST", "/sparql", "application/x-www-form-urlencoded"),
])
def test_a_body_of_tens_of_mib_is_413(
    write_app: Flask, method: str, path: str, ctype: str
) -> None:
    client = write_app.test_client()
    store = write_app.extensions["coopgraph.store"]
    before = store_fingerprint(store)
    body = b"# " + b"x" * (30 << 20)
    response = client.open(path, method=method, data=body,
                           headers={**ALICE, "Content-Type": ctype})
    assert response.status_code == 413
    assert client.get("/healthz").status_code == 200
    assert store_fingerprint(store) == before


@pytest.mark.slow
def test_a_body_of_tens_of_mib_over_a_socket(live_server: str) -> None:
    """waitress refuses it (413, or closes the connection); /healthz answers right after."""
    port = urlsplit(live_server).port
    assert port is not None
    size = 40 << 20
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/sparql-query\r\n"
                     + f"Content-Length: {size}\r\n\r\n".encode())
        chunk = b"#" * (1 << 20)
        sent = 0
        try:
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server stopped reading: it answered already
        try:
            reply = sock.recv(4096)
        except ConnectionResetError:
            reply = b""
    assert reply.startswith(b"HTTP/1.1 413") or (reply == b"" and sent < size), reply[:200]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_the_fuzz_inputs_cover_every_format() -> None:
    assert set(fuzz.FORMAT_NAMES) == set(fuzz.MEDIA_TYPES)
    for fmt, docs in fuzz.DOCUMENTS.items():
        for doc in docs:
            assert parse_bytes(doc, fmt), fmt
    with pytest.raises(CoopgraphError):
        parse_bytes(b"\xff", "turtle")
