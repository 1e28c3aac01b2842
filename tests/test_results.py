"""SPARQL results and RDF serialisers (coopgraph.results), parsed back to check them."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from coopgraph.errors import NotAcceptable
from coopgraph.formats import RDF_FORMATS, RESULT_FORMATS, rdf_format, result_format
from coopgraph.results import content_type, formats_for, serialize, serialize_rdf
from coopgraph.store.base import Boolean, Solutions, Triples
from coopgraph.vocab import ID, RDFS, XSD

ORG = ox.NamedNode(ID["org/ville-de-lille"])
LABEL = ox.NamedNode(RDFS.label)
ROWS = Solutions(
    ["s", "label", "n"],
    [
        (ORG, ox.Literal("Ville de Lille", language="fr"),
         ox.Literal("3", datatype=XSD.node("integer"))),
        (ox.BlankNode("b0"), ox.Literal('quote " tab\t nl\n, comma é 😀'), None),
        (None, None, ox.Literal("plain")),
    ],
)
_OX = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
       "tsv": ox.QueryResultsFormat.TSV}


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_select_round_trip(name: str) -> None:
    data = serialize(ROWS, result_format(name))
    parsed = ox.parse_query_results(data, _OX[name])
    assert [v.value for v in parsed.variables] == ROWS.variables
    rows = [tuple(sol[v] for v in ROWS.variables) for sol in parsed]
    assert rows[0] == ROWS.rows[0]
    assert rows[1][0] is not None and isinstance(rows[1][0], ox.BlankNode)
    assert rows[1][1:] == ROWS.rows[1][1:]
    assert rows[2] == ROWS.rows[2]


def test_json_shape() -> None:
    body = json.loads(serialize(ROWS, result_format("json")))
    assert body["head"]["vars"] == ["s", "label", "n"]
    first = body["results"]["bindings"][0]
    assert first["s"] == {"type": "uri", "value": ORG.value}
    assert first["label"] == {"type": "literal", "value": "Ville de Lille", "xml:lang": "fr"}
    assert first["n"]["datatype"] == XSD.integer
    assert "datatype" not in body["results"]["bindings"][2]["n"]  # xsd:string is implicit
    assert "s" not in body["results"]["bindings"][2]  # unbound


def test_csv_values() -> None:
    text = serialize(ROWS, result_format("csv")).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["s", "label", "n"]
    assert rows[1] == [ORG.value, "Ville de Lille", "3"]
    assert rows[2] == ["_:b0", 'quote " tab\t nl\n, comma é 😀', ""]
    assert rows[3] == ["", "", "plain"]


@pytest.mark.parametrize("value", [True, False])
def test_ask(value: bool) -> None:
    result = Boolean(value)
    assert json.loads(serialize(result, result_format("json"))) == {"head": {}, "boolean": value}
    root = ET.fromstring(serialize(result, result_format("xml")))
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert root.find(f"{ns}boolean").text == str(value).lower()  # type: ignore[union-attr]
    assert bool(ox.parse_query_results(serialize(result, result_format("xml")),
                                       ox.QueryResultsFormat.XML)) is value
    word = str(value).lower()
    assert serialize(result, result_format("csv")).decode().split() == ["boolean", word]
    assert serialize(result, result_format("tsv")).decode().split() == ["?boolean", word]


TRIPLES = Triples([
    ox.Triple(ORG, LABEL, ox.Literal("Ville de Lille", language="fr")),
    ox.Triple(ORG, LABEL, ox.Literal("City of Lille", language="en")),
])


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_triples_round_trip_in_every_rdf_format(fmt) -> None:  # type: ignore[no-untyped-def]
    data = serialize(TRIPLES, fmt)
    parsed = {(q.subject, q.predicate, q.object) for q in ox.parse(data, fmt.oxigraph)}
    assert parsed == {(t.subject, t.predicate, t.object) for t in TRIPLES.triples}


def test_quads_keep_their_graph_in_quad_formats_only() -> None:
    graph = ox.NamedNode(ID["g"])
    quad = ox.Quad(ORG, LABEL, ox.Literal("x"), graph)
    nq = list(ox.parse(serialize_rdf([quad], rdf_format("nquads")), ox.RdfFormat.N_QUADS))
    assert nq[0].graph_name == graph
    nt = list(ox.parse(serialize_rdf([quad], rdf_format("ntriples")), ox.RdfFormat.N_TRIPLES))
    assert nt[0].graph_name == ox.DefaultGraph()


def test_wrong_kind_of_format() -> None:
    with pytest.raises(NotAcceptable):
        serialize(ROWS, rdf_format("turtle"))
    with pytest.raises(NotAcceptable):
        serialize(TRIPLES, result_format("csv"))


def test_formats_for_and_content_type() -> None:
    assert formats_for("SELECT") == RESULT_FORMATS
    assert formats_for("ASK") == RESULT_FORMATS
    assert formats_for("DESCRIBE") == RDF_FORMATS
    assert content_type(result_format("csv")) == "text/csv; charset=utf-8"


# --- serialize_native: pyoxigraph's writers on a lazy result, capped natively -----------

EX = "http://example.org/"
NATIVE_TERMS = [
    ox.Literal('quote " tab\t nl\n cr\r backslash \\ comma, é 😀 <&>'),
    ox.Literal("Ville de Lille", language="fr"),
    ox.Literal("3", datatype=XSD.node("integer")),
    ox.Literal("2005", datatype=XSD.node("gYear")),
    ox.Literal("z", datatype=ox.NamedNode(EX + "dt")),
    ox.NamedNode(EX + "é?q=1#f"),
    ox.Triple(ORG, LABEL, ox.Literal("inner\tquoted")),
]
SELECT_ALL = f"SELECT ?s ?o ?u WHERE {{ ?s <{EX}p> ?o OPTIONAL {{ ?s <{EX}none> ?u }} }}"


@pytest.fixture(scope="module")
def native_store() -> ox.Store:
    store = ox.Store()
    graph = ox.NamedNode(EX + "g")
    for i, term in enumerate(NATIVE_TERMS):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), term, graph))
    store.add(ox.Quad(ox.BlankNode("b0"), ox.NamedNode(EX + "p"), ORG, graph))
    return store


def _lazy(store: ox.Store, query: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    return store.query(query, use_default_graph_as_union=True)


def _rows(parsed: ox.QuerySolutions) -> tuple[list[str], list[tuple[object, ...]]]:
    variables = [v.value for v in parsed.variables]
    return variables, [tuple(sol[v] for v in variables) for sol in parsed]


def _expected(store: ox.Store, query: str) -> Solutions:
    from coopgraph.store.embedded import materialise

    result = materialise(_lazy(store, query), None)
    assert isinstance(result, Solutions)
    return result


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_native_select_parses_back_to_the_same_rows(native_store, name: str) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.results import serialize_native

    expected = _expected(native_store, SELECT_ALL)
    out = serialize_native(_lazy(native_store, SELECT_ALL), result_format(name), limit=100)
    assert (out.form, out.rows, out.truncated) == ("SELECT", len(expected), False)
    assert out.media_type == result_format(name).media_type
    variables, rows = _rows(ox.parse_query_results(out.body, _OX[name]))  # type: ignore[arg-type]
    assert variables == expected.variables
    assert rows == expected.rows


def test_native_csv_has_the_same_values_as_the_python_writer(native_store) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.results import serialize_native

    expected = _expected(native_store, SELECT_ALL)
    out = serialize_native(_lazy(native_store, SELECT_ALL), result_format("csv"))
    native = list(csv.reader(io.StringIO(out.body.decode("utf-8"), newline="")))
    python = list(csv.reader(io.StringIO(serialize(expected, result_format("csv")).decode(),
                                         newline="")))
    assert native[0] == ["s", "o", "u"]
    assert len(native) == len(expected) + 1
    # Python's writer prints a triple term in N-Triples; the spec's CSV leaves it free.
    assert [row for row in native if "inner" not in row[1]] == [
        row for row in python if "inner" not in row[1]]


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_native_select_cap(native_store, name: str) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.results import serialize_native

    n = len(_expected(native_store, SELECT_ALL))
    fmt = result_format(name)
    exact = serialize_native(_lazy(native_store, SELECT_ALL), fmt, limit=n)
    assert (exact.rows, exact.truncated) == (n, False)
    capped = serialize_native(_lazy(native_store, SELECT_ALL), fmt, limit=3)
    assert (capped.rows, capped.truncated) == (3, True)
    if name == "csv":
        assert len(list(csv.reader(io.StringIO(capped.body.decode(), newline="")))) == 1 + 3
    else:
        assert len(list(ox.parse_query_results(capped.body, _OX[name]))) == 3  # type: ignore[arg-type]
    none = serialize_native(_lazy(native_store, SELECT_ALL), fmt, limit=0)
    assert (none.rows, none.truncated) == (0, True)


@pytest.mark.parametrize(("query", "rows"), [
    ("SELECT * WHERE { }", 1),  # one solution without variables: an empty TSV line
    ("SELECT * WHERE { {} UNION {} }", 2),
    ("SELECT ?x WHERE { FILTER(false) }", 0),
])
def test_native_select_without_variables_or_rows(native_store, query: str, rows: int) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.results import serialize_native

    out = serialize_native(_lazy(native_store, query), result_format("json"), limit=10)
    assert (out.rows, out.truncated) == (rows, False)
    assert len(json.loads(out.body)["results"]["bindings"]) == rows
    capped = serialize_native(_lazy(native_store, query), result_format("xml"), limit=1)
    assert capped.truncated is (rows > 1)


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_native_construct_in_every_rdf_format(native_store, fmt) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.results import serialize_native

    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    if fmt.name == "jsonld":  # pyoxigraph's JSON-LD writer has no triple terms yet
        query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(!isTRIPLE(?o)) }"
    expected = {(t.subject, t.predicate, t.object) for t in _lazy(native_store, query)}
    out = serialize_native(_lazy(native_store, query), fmt, limit=100)
    assert (out.form, out.rows, out.truncated) == ("CONSTRUCT", len(expected), False)
    parsed = {(q.subject, q.predicate, q.object) for q in ox.parse(out.body, fmt.oxigraph)}
    assert parsed == expected
    capped = serialize_native(_lazy(native_store, query), fmt, limit=2)
    assert (capped.rows, capped.truncated) == (2, True)
    assert len(list(ox.parse(capped.body, fmt.oxigraph))) == 2


def test_native_ask_and_wrong_formats(native_store) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.results import serialize_native

    out = serialize_native(_lazy(native_store, "ASK { ?s ?p ?o }"), result_format("json"))
    assert (out.form, json.loads(out.body)["boolean"]) == ("ASK", True)
    with pytest.raises(NotAcceptable):
        serialize_native(_lazy(native_store, SELECT_ALL), rdf_format("turtle"))
    with pytest.raises(NotAcceptable):
        serialize_native(_lazy(native_store, "CONSTRUCT WHERE { ?s ?p ?o }"),
                         result_format("csv"))
