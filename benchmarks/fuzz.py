"""Fuzz the entry parser, the SPARQL endpoint, the entity pages and the write routes with
hypothesis; the longer run of the properties ``tests/test_fuzz.py`` checks briefly.

    /tmp/venv/bin/python benchmarks/fuzz.py [--examples 2000] [--no-live] [--seed N]

Properties (the same functions serve the test and this script):

* **parse**: :func:`coopgraph.parse.parse_bytes` on random and mutated documents of every
  RDF format returns quads or raises a :class:`~coopgraph.errors.CoopgraphError`; nothing
  else escapes;
* **sparql**: ``/sparql`` with random/mutated queries, parameters (``format``, ``output``,
  ``default-graph-uri``…), methods, ``Accept`` and ``Content-Type`` answers below 500
  (503 only for a query timeout), and the store is unchanged;
* **paths**: ``/id/…``, ``/graph/…``, ``/entries/…`` with random paths answer below 500;
* **writes**: ``POST /entries`` with random/mutated bodies and content types answers below
  500, and the store is unchanged unless the write was accepted (2xx);
* **csv**: :func:`coopgraph.tabular.read_sheet` on mutated templates raises only a
  CoopgraphError, and :func:`~coopgraph.tabular.import_sheet` reports problems by row and
  column without raising or writing.

The script runs each property ``--examples`` times in-process (Flask test client on an
in-memory store) and, unless ``--no-live``, against ``coopgraph serve`` over HTTP; it prints
how many inputs were tried and every failure hypothesis found (shrunk), then exits 1 if
there was any.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "data" / "valid"
QUERIES = ROOT / "queries"
BEARER = "Bearer alice-secret-token"

# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


def _documents() -> dict[str, list[bytes]]:
    """Valid documents in every RDF format (the valid fixtures, re-serialised)."""
    import pyoxigraph as ox

    from coopgraph.formats import RDF_FORMATS
    from coopgraph.parse import parse_bytes

    out: dict[str, list[bytes]] = {}
    for path in sorted(VALID.glob("*.ttl")):
        quads = parse_bytes(path.read_bytes(), "turtle")
        for fmt in RDF_FORMATS:
            assert fmt.oxigraph is not None
            items: list[Any] = quads if fmt.quads else [
                ox.Triple(q.subject, q.predicate, q.object) for q in quads]
            out.setdefault(fmt.name, []).append(ox.serialize(items, format=fmt.oxigraph))
    return out


DOCUMENTS = _documents()
FORMAT_NAMES = sorted(DOCUMENTS)
MEDIA_TYPES = {
    "turtle": "text/turtle", "trig": "application/trig", "ntriples": "application/n-triples",
    "nquads": "application/n-quads", "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
GALLERY = [p.read_text("utf-8") for p in sorted(QUERIES.glob("*.rq"))]

#: Fragments that matter to parsers: brackets, quotes, escapes, keywords, odd bytes.
SNIPPETS = [
    b"{", b"}", b"[", b"]", b"(", b")", b"<", b">", b'"', b"'", b'"""', b"\\", b"\\u00",
    b"\\U0010FFFF", b"@prefix", b"@base", b"PREFIX", b"GRAPH", b"SERVICE", b"LOAD", b"INSERT",
    b"FILTER(", b"OPTIONAL {", b"?x", b"$y", b"_:b", b"a", b";", b",", b".", b"^^", b"@fr",
    b"#", b"\n", b"\r", b"\t", b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf",
    b"<<", b">>", b"<<(", b")>>", b"{{", b"@context", b'"@id"', b'"@graph"', b"<!ENTITY",
    b"<!DOCTYPE", b"&amp;", b"&#0;", b"]]>", b"1e999999", b"-0", b"9" * 40, b"\xe2\x80\xae",
]


@st.composite
def mutated(draw: st.DrawFn, bases: list[bytes]) -> bytes:
    """A base document with a few random edits: cut, delete, insert, duplicate."""
    data = bytearray(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["cut", "delete", "snippet", "bytes", "repeat"]))
        if edit == "cut":
            del data[at:]
        elif edit == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif edit == "snippet":
            data[at:at] = draw(st.sampled_from(SNIPPETS)) * draw(st.integers(1, 3))
        elif edit == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            piece = bytes(data[at:at + draw(st.integers(1, 30))])
            data[at:at] = piece * draw(st.integers(1, 50))
    return bytes(data)


def documents(fmt: str) -> st.SearchStrategy[bytes]:
    """Documents for one format: mostly mutated valid ones, some noise."""
    return st.one_of(
        mutated(DOCUMENTS[fmt]),
        mutated(DOCUMENTS[fmt]),
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


#: Any format with its matching documents.
any_document = st.sampled_from(FORMAT_NAMES).flatmap(
    lambda f: st.tuples(st.just(f), documents(f)))

queries = st.one_of(
    mutated([q.encode("utf-8") for q in GALLERY]).map(lambda b: b.decode("utf-8", "replace")),
    st.text(max_size=200),
    st.sampled_from(GALLERY),
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
accepts = st.one_of(
    st.none(),
    st.sampled_from([
        "*/*", "text/html", "application/json", "application/sparql-results+json",
        "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
        "text/turtle", "application/ld+json", "application/n-triples", "application/xml",
        "text/html;q=0, */*;q=0", "application/json;q=abc", "*/*;q=0.5, text/*;q=1.1",
        "image/png", ";;;", "text/turtle;charset=latin-1",
    ]),
    header_text,
)
format_values = st.one_of(
    st.sampled_from(["json", "xml", "csv", "tsv", "turtle", "jsonld", "html", "ntriples",
                     "application/sparql-results+json", "text/turtle", "../../etc/passwd",
                     "", "JSON", "nquads", "rdfxml", "trig"]),
    st.text(max_size=20),
)
iri_values = st.one_of(
    st.sampled_from(["https://w3id.org/coopgraph/graph/seed/000", "urn:x", "http://127.0.0.1/",
                     "not an iri", "", "file:///etc/passwd", "http://[::1]:0/",
                     "https://w3id.org/coopgraph/graph/inferred"]),
    st.text(max_size=40),
)
content_types = st.one_of(
    st.sampled_from([
        "application/sparql-query", "application/x-www-form-urlencoded",
        "application/sparql-query; charset=latin-1", "application/sparql-query; charset=bogus",
        "application/x-www-form-urlencoded; charset=utf-16", "application/sparql-update",
        "text/plain", "multipart/form-data; boundary=x", "", "application/json",
        "application/sparql-query; charset=base64",
    ]),
    header_text,
)


@st.composite
def sparql_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str]]:
    """(method, path with query string, body, headers) for /sparql."""
    params: list[tuple[str, str]] = []
    query = draw(queries)
    in_body = draw(st.booleans())
    method = "POST" if in_body else draw(st.sampled_from(["GET", "GET", "POST", "HEAD"]))
    for key, values in (("format", format_values), ("output", format_values),
                        ("default-graph-uri", iri_values), ("named-graph-uri", iri_values),
                        ("query", queries), ("update", queries), ("download", header_text)):
        if draw(st.integers(0, 5)) == 0:
            params.append((key, draw(values)))
    headers: dict[str, str] = {}
    accept = draw(accepts)
    if accept is not None:
        headers["Accept"] = accept
    body: bytes | None = None
    if in_body:
        ctype = draw(content_types)
        headers["Content-Type"] = ctype
        raw = query.encode("utf-8", "surrogatepass")
        if ctype.startswith("application/x-www-form-urlencoded"):
            raw = b"query=" + quote(raw).encode()
        body = draw(st.one_of(st.just(raw), st.binary(max_size=200)))
    else:
        params.append(("query", query))
    if draw(st.integers(0, 8)) == 0:
        headers["Accept-Language"] = draw(header_text)
    qs = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in params)
    return method, "/sparql" + ("?" + qs if qs else ""), body, headers


path_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["org/ville-de-lille", "place/oujda", "offer/000-lille-oujda#salary",
                     "org/ville-de-lille.ttl", "org/ville-de-lille.json", "seed/000",
                     "..", "%2e%2e/%2e%2e", "a" * 3000, "org/", "./org", "org//x", "x.",
                     ".ttl", "org/ville-de-lille.ttl.ttl", "%00", "%ff", "%C0%AE"]),
)


@st.composite
def entity_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str]]:
    prefix = draw(st.sampled_from(["/id/", "/graph/", "/entries/", "/static/",
                                   "/export/network.", "/changes."]))
    raw = draw(path_text)
    path = prefix + (quote(raw.encode("utf-8", "surrogatepass"), safe="/%#")
                     if draw(st.booleans()) else quote(raw.encode("utf-8", "surrogatepass")))
    headers = {"Accept": a} if (a := draw(accepts)) else {}
    if draw(st.integers(0, 3)) == 0:
        path += "?format=" + quote(draw(format_values))
    return "GET", path.replace("#", "%23"), None, headers


@st.composite
def write_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str]]:
    fmt, body = draw(any_document)
    ctype = draw(st.one_of(st.just(MEDIA_TYPES[fmt]), st.sampled_from(list(MEDIA_TYPES.values())),
                           content_types))
    auth = draw(st.sampled_from([BEARER, BEARER, BEARER, "Bearer nope", ""]))
    headers = {"Content-Type": ctype}
    if auth:
        headers["Authorization"] = auth
    entry_id = draw(st.one_of(st.none(), st.sampled_from(["fuzz", "fuzz-2", "Bad Id", "../x",
                                                          "cgg:seed/000"]), st.text(max_size=20)))
    path = "/entries" + (f"?id={quote(entry_id.encode('utf-8', 'surrogatepass'))}"
                         if entry_id is not None else "")
    method = draw(st.sampled_from(["POST", "POST", "POST", "PUT"]))
    if method == "PUT":
        path = "/entries/" + quote((entry_id or "fuzz").encode("utf-8", "surrogatepass"), safe="")
    return method, path, body, headers


#: Cell texts the CSV import must cope with: the template's examples, near misses, noise.
CELL_TEXTS = [
    "", " ", "Ville de Lille", "Oujda", "2024-02-30", "fin avril", "12 mois", "P12M", "-3",
    "1e9999", "NaN", "35,5", "EUR", "€", "XXX", "fr", "arabe (C1, souhaité)", "a;b;;c",
    "https://example.org/x", "javascript:alert(1)", "=1+1", "@SUM(A1)", "# comment",
    "<script>alert(1)</script>", "\u202eevil", "x" * 5000, "Ville de Lille;Ville de Lille",
    "cgid:org/ville-de-lille", "<https://w3id.org/coopgraph/id/place/oujda>", "\"", "\r\n",
]


@st.composite
def sheets(draw: st.DrawFn) -> bytes:
    """A CSV spreadsheet: a template's header (maybe shuffled, cut or misspelt), its
    explanation and example rows or not, and rows of example-like or random cells."""
    import csv
    import io

    from coopgraph.tabular import KINDS, template

    kind = draw(st.sampled_from(sorted(KINDS)))
    lang = draw(st.sampled_from(["fr", "en"]))
    rows = list(csv.reader(io.StringIO(template(kind, lang).decode("utf-8-sig"))))
    header, example = rows[0], rows[2]
    if draw(st.booleans()):
        order = draw(st.permutations(range(len(header))))
        header, example = [header[i] for i in order], [example[i] for i in order]
    if draw(st.integers(0, 4)) == 0:
        header = header[:draw(st.integers(0, len(header)))]
    if draw(st.integers(0, 6)) == 0:
        header = [*header, draw(st.text(max_size=10))]
    body: list[list[str]] = [header]
    if draw(st.booleans()):
        body.append(rows[1])
    for _ in range(draw(st.integers(0, 2))):
        row = list(example)
        for i in range(len(row)):
            if draw(st.integers(0, 3)) == 0:
                row[i] = draw(st.one_of(st.sampled_from(CELL_TEXTS), st.text(max_size=30)))
        body.append(row[:draw(st.integers(0, len(row) + 2))])
    out = io.StringIO()
    csv.writer(out, delimiter=draw(st.sampled_from([",", ";"])),
               lineterminator="\r\n").writerows(body)
    data = out.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        data = draw(mutated([data]))
    return data


# ---------------------------------------------------------------------------------------
# Targets and properties
# ---------------------------------------------------------------------------------------


class Target(Protocol):
    """Where requests go: the Flask test client or a live server."""

    def send(self, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[int, bytes]: ...

    def fingerprint(self) -> tuple[int, str]: ...


def fingerprint(store: Any) -> tuple[int, str]:
    lines = sorted(str(q) + " ." for q in store.quads())
    return len(lines), hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class AppTarget:
    """The Flask test client of an app on a store."""

    def __init__(self, app: Any) -> None:
        self.app, self.client = app, app.test_client()
        self.store = app.extensions["coopgraph.store"]

    def send(self, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[int, bytes]:
        response = self.client.open(path, method=method, data=body, headers=headers)
        data = response.get_data()
        response.close()
        return response.status_code, data

    def fingerprint(self) -> tuple[int, str]:
        return fingerprint(self.store)


class LiveTarget:
    """A running ``coopgraph serve``; the fingerprint is read through /data?default…"""

    def __init__(self, port: int) -> None:
        self.port = port

    def send(self, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def fingerprint(self) -> tuple[int, str]:
        """Count and digest of every quad (N-Quads of each graph, sorted)."""
        import json

        status, body = self.send("GET", "/stats", None, {"Accept": "application/json"})
        assert status == 200
        lines: list[str] = []
        for graph in json.loads(body)["graphs"]:
            status, data = self.send("GET", "/data?graph=" + quote(graph, safe=""), None,
                                     {"Accept": "application/n-triples"})
            assert status == 200, (graph, status)
            lines += [f"{line} <{graph}>" for line in data.decode("utf-8").splitlines() if line]
        lines.sort()
        return len(lines), hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class Finding(AssertionError):
    """A property does not hold."""


def check_parse(fmt: str, data: bytes) -> int:
    """parse_bytes returns quads or raises a CoopgraphError; nothing else. Returns 200 when
    the document parsed (counted as "2xx" by the script), else 400."""
    from coopgraph.errors import CoopgraphError
    from coopgraph.parse import parse_bytes

    try:
        quads = parse_bytes(data, fmt)
    except CoopgraphError:
        return 400
    except Exception as exc:  # noqa: BLE001 - that is the finding
        raise Finding(f"parse_bytes({fmt}) raised {type(exc).__name__}: {exc}") from exc
    if not quads:
        raise Finding(f"parse_bytes({fmt}) returned no quads without an error")
    return 200


def check_sheet(store: Any, data: bytes, *, validate: bool) -> int:
    """read_sheet raises only a CoopgraphError; import_sheet reports problems by row and
    column and never raises nor writes. 200 when the sheet was read."""
    from coopgraph.errors import CoopgraphError
    from coopgraph.tabular import import_sheet, read_sheet

    try:
        sheet = read_sheet(data, source="fuzz.csv")
    except CoopgraphError:
        return 400
    except Exception as exc:  # noqa: BLE001 - that is the finding
        raise Finding(f"read_sheet raised {type(exc).__name__}: {exc}") from exc
    if not validate:
        return 200
    before = fingerprint(store)
    try:
        report = import_sheet(store, sheet)
        report.to_text("fr")
        report.annotated("en")
    except Exception as exc:  # noqa: BLE001 - that is the finding
        raise Finding(f"import_sheet raised {type(exc).__name__}: {exc}") from exc
    if fingerprint(store) != before:
        raise Finding("import_sheet changed the store")
    return 200


def _status_ok(status: int, body: bytes) -> bool:
    if status < 500:
        return True
    return status == 503 and b"Query timeout" in body


def check_read(target: Target, request: tuple[str, str, bytes | None, dict[str, str]],
               before: tuple[int, str] | None = None) -> int:
    """A read answers below 500 (503 only for a timeout); the store does not change.
    Returns the status."""
    method, path, body, headers = request
    status, data = target.send(method, path, body, headers)
    if not _status_ok(status, data):
        raise Finding(f"{method} {path[:200]} → {status}: {data[:300]!r}")
    if before is not None and target.fingerprint() != before:
        raise Finding(f"{method} {path[:200]} changed the store")
    return status


def check_write(target: Target, request: tuple[str, str, bytes | None, dict[str, str]]) -> int:
    """A write answers below 500; unless it was accepted the store is unchanged."""
    method, path, body, headers = request
    before = target.fingerprint()
    status, data = target.send(method, path, body, headers)
    if not _status_ok(status, data):
        raise Finding(f"{method} {path[:200]} ({headers}) → {status}: {data[:300]!r}\n"
                      f"body: {(body or b'')[:300]!r}")
    if not 200 <= status < 300 and target.fingerprint() != before:
        raise Finding(f"{method} {path[:200]} → {status} but the store changed")
    return status


# ---------------------------------------------------------------------------------------
# The longer run
# ---------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    tried: int = 0
    accepted: int = 0
    finding: str | None = None
    seconds: float = 0.0


def run_property(name: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], Any],
                 examples: int, seed: int | None) -> Run:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fix_seed

    run = Run(name)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def prop(value: Any) -> None:
        run.tried += 1
        if check(value) in range(200, 300):
            run.accepted += 1

    test = fix_seed(seed)(prop) if seed is not None else prop
    start = time.perf_counter()
    try:
        test()
    except Exception:  # noqa: BLE001 - reported, then the next property runs
        run.finding = traceback.format_exc(limit=3)[-3000:]
    run.seconds = time.perf_counter() - start
    return run


def properties(target: Target) -> list[tuple[str, Any, Callable[[Any], Any]]]:
    """(name, strategy, check) of the HTTP properties against ``target``."""
    return [
        ("sparql", sparql_requests(), lambda r: check_read(target, r)),
        ("paths", entity_requests(), lambda r: check_read(target, r)),
        ("writes", write_requests(), lambda r: check_write(target, r)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="inputs per property")
    parser.add_argument("--no-live", action="store_true", help="in-process only")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: derandomised, the same inputs every run)")
    args = parser.parse_args(argv)

    from coopgraph.load import load_project
    from coopgraph.settings import Settings
    from coopgraph.store import open_store
    from coopgraph.web import create_app

    settings = Settings(store=":memory:", tokens={"alice": "alice-secret-token"},
                        query_timeout=5.0, max_body_bytes=1 << 20)
    runs: list[tuple[str, Run]] = []
    for fmt in FORMAT_NAMES:
        runs.append(("in-process", run_property(f"parse {fmt}", documents(fmt),
                                                lambda d, f=fmt: check_parse(f, d),
                                                args.examples, args.seed)))
        print(f"parse {fmt}: {runs[-1][1].tried} inputs", file=sys.stderr, flush=True)
    store = open_store(":memory:")
    load_project(store, settings)
    runs.append(("in-process", run_property("csv read", sheets(),
                                            lambda d: check_sheet(store, d, validate=False),
                                            args.examples, args.seed)))
    runs.append(("in-process", run_property("csv import", sheets(),
                                            lambda d: check_sheet(store, d, validate=True),
                                            max(1, args.examples // 20), args.seed)))
    print(f"csv: {runs[-2][1].tried} + {runs[-1][1].tried} inputs", file=sys.stderr,
          flush=True)
    local = AppTarget(create_app(settings, store=store))
    read_before = local.fingerprint()
    for name, strategy, check in properties(local)[:2]:
        runs.append(("in-process", run_property(name, strategy, check, args.examples, args.seed)))
        print(f"{name}: {runs[-1][1].tried} inputs", file=sys.stderr, flush=True)
    unchanged = local.fingerprint() == read_before
    name, strategy, check = properties(local)[2]
    runs.append(("in-process", run_property(name, strategy, check, max(1, args.examples // 10),
                                            args.seed)))
    if not args.no_live:
        sys.path.insert(0, str(Path(__file__).parent))
        from crash import Server

        with tempfile.TemporaryDirectory(prefix="coopgraph-fuzz-") as tmp:
            env = {"COOPGRAPH_TOKENS": "alice:alice-secret-token",
                   "COOPGRAPH_QUERY_TIMEOUT": "5", "COOPGRAPH_MAX_BODY_BYTES": str(1 << 20)}
            with Server(Path(tmp) / "store", log=Path(tmp) / "serve.log", env=env) as srv:
                live = LiveTarget(srv.port)
                live_before = live.fingerprint()
                for name, strategy, check in properties(live)[:2]:
                    runs.append(("live", run_property(name, strategy, check, args.examples,
                                                      args.seed)))
                    print(f"live {name}: {runs[-1][1].tried} inputs", file=sys.stderr,
                          flush=True)
                live_unchanged = live.fingerprint() == live_before
                name, strategy, check = properties(live)[2]
                runs.append(("live", run_property(name, strategy, check,
                                                  max(1, args.examples // 20), args.seed)))
                status, _ = live.send("GET", "/healthz", None, {})
                print(f"live server answers /healthz after the run: {status}")
                print(f"live store unchanged by the read properties: {live_unchanged}")
    print(f"in-process store unchanged by the read properties: {unchanged}")
    total = 0
    found = 0
    for where, run in runs:
        total += run.tried
        found += run.finding is not None
        print(f"{where:10} {run.name:24} {run.tried:6} inputs, {run.accepted:5} answered 2xx, "
              f"{run.seconds:6.1f} s: {'FOUND' if run.finding else 'nothing found'}")
        if run.finding:
            print("    " + run.finding.replace("\n", "\n    "))
    print(f"{total} inputs tried, {found} properties failed")
    return 1 if found or not unchanged else 0


if __name__ == "__main__":
    sys.exit(main())
