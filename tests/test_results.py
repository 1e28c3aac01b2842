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
