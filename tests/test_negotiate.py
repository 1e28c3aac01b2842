"""Content negotiation (coopgraph.web.negotiate), from a table of cases."""

from __future__ import annotations

import pytest

from coopgraph.errors import NotAcceptable
from coopgraph.formats import HTML, RDF_FORMATS, RESULT_FORMATS
from coopgraph.web.negotiate import by_name, choose, negotiate, parse_accept

RDF_OR_HTML = (*RDF_FORMATS, HTML)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "available", "expected"),
    [
        (None, RESULT_FORMATS, "json"),
        ("", RESULT_FORMATS, "json"),
        ("*/*", RESULT_FORMATS, "json"),
        ("*", RESULT_FORMATS, "json"),
        ("application/sparql-results+json", RESULT_FORMATS, "json"),
        ("application/sparql-results+xml", RESULT_FORMATS, "xml"),
        ("application/json", RESULT_FORMATS, "json"),
        ("text/csv", RESULT_FORMATS, "csv"),
        ("text/tab-separated-values", RESULT_FORMATS, "tsv"),
        ("text/*", RESULT_FORMATS, "xml"),  # text/xml is one of its types
        ("text/csv;q=0.5, application/sparql-results+xml", RESULT_FORMATS, "xml"),
        ("text/csv;q=0.5, text/tab-separated-values;q=0.9", RESULT_FORMATS, "tsv"),
        ("application/sparql-results+xml;q=0.1, */*;q=0.2", RESULT_FORMATS, "json"),
        # the most specific range decides a format's q
        ("*/*;q=0.9, application/sparql-results+json;q=0.1", RESULT_FORMATS, "xml"),
        ("TEXT/CSV", RESULT_FORMATS, "csv"),
        ("text/csv; charset=utf-8", RESULT_FORMATS, "csv"),
        (BROWSER, RESULT_FORMATS, "xml"),
        (None, RDF_OR_HTML, "turtle"),
        ("*/*", RDF_OR_HTML, "turtle"),
        (BROWSER, RDF_OR_HTML, "html"),
        ("text/turtle", RDF_OR_HTML, "turtle"),
        ("application/x-turtle", RDF_OR_HTML, "turtle"),
        ("application/n-triples", RDF_OR_HTML, "ntriples"),
        ("application/ld+json", RDF_OR_HTML, "jsonld"),
        ("application/rdf+xml", RDF_OR_HTML, "rdfxml"),
        ("application/trig", RDF_OR_HTML, "trig"),
        ("application/n-quads", RDF_OR_HTML, "nquads"),
        ("application/rdf+xml;q=0.5, text/turtle;q=0.4", RDF_OR_HTML, "rdfxml"),
        ("garbage, text/turtle", RDF_OR_HTML, "turtle"),
        ("text/turtle;q=abc, application/ld+json;q=0.1", RDF_OR_HTML, "jsonld"),
    ],
)
def test_negotiate(accept, available, expected) -> None:  # type: ignore[no-untyped-def]
    assert negotiate(accept, available).name == expected


@pytest.mark.parametrize(
    ("accept", "available"),
    [
        ("image/png", RESULT_FORMATS),
        ("text/turtle", RESULT_FORMATS),
        ("application/sparql-results+json;q=0", RESULT_FORMATS),
        ("*/*;q=0", RDF_OR_HTML),
        ("text/csv", RDF_OR_HTML),
    ],
)
def test_not_acceptable(accept, available) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAcceptable) as info:
        negotiate(accept, available)
    assert info.value.status == 406
    assert available[0].media_type in info.value.message


@pytest.mark.parametrize(
    ("value", "available", "expected"),
    [
        ("json", RESULT_FORMATS, "json"),
        ("xml", RESULT_FORMATS, "xml"),
        ("csv", RESULT_FORMATS, "csv"),
        ("tsv", RESULT_FORMATS, "tsv"),
        ("application/sparql-results+json", RESULT_FORMATS, "json"),
        ("sparql-results+xml", RESULT_FORMATS, "xml"),
        ("xml", RDF_FORMATS, "rdfxml"),
        ("rdf+xml", RDF_FORMATS, "rdfxml"),
        ("json", RDF_FORMATS, "jsonld"),
        ("json-ld", RDF_FORMATS, "jsonld"),
        ("turtle", RDF_FORMATS, "turtle"),
        ("n3", RDF_FORMATS, "turtle"),
        ("ttl", RDF_FORMATS, "turtle"),
        ("nt", RDF_FORMATS, "ntriples"),
        ("text/turtle", RDF_FORMATS, "turtle"),
        ("  TriG ", RDF_FORMATS, "trig"),
    ],
)
def test_by_name(value, available, expected) -> None:  # type: ignore[no-untyped-def]
    assert by_name(value, available).name == expected


def test_by_name_unknown() -> None:
    with pytest.raises(NotAcceptable, match="turtle"):
        by_name("csv", RDF_FORMATS)


def test_parameter_wins_over_accept() -> None:
    assert choose("text/csv, */*;q=0.1", [None, "xml"], RESULT_FORMATS).name == "xml"
    assert choose("text/*", ["tsv", "xml"], RESULT_FORMATS).name == "tsv"
    assert choose(None, ["tsv"], RESULT_FORMATS).name == "tsv"
    assert choose("text/csv", [None, None], RESULT_FORMATS).name == "csv"


def test_accept_wins_over_a_parameter_it_refuses() -> None:
    """SPARQLWrapper sends its default ``format=xml`` beside the Accept a user set."""
    assert choose("text/csv", [None, "xml"], RESULT_FORMATS).name == "csv"
    assert choose("application/n-triples", ["xml"], RDF_FORMATS).name == "ntriples"
    assert choose("text/tab-separated-values;q=0, */*", ["tsv"], RESULT_FORMATS).name == "json"


def test_parse_accept_orders_by_q_then_position() -> None:
    ranges = parse_accept("a/b;q=0.5, c/d, e/*;q=0.5, nonsense, */x")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("c", "d", 1.0), ("a", "b", 0.5), ("e", "*", 0.5)
    ]
