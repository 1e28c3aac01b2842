"""Python twins of coopgraph's own SHACL-SPARQL queries (shapes/components.ttl, the
sh:sparql constraints of shapes/places.ttl), for speed: building an in-memory store and
running SPARQL for every entry costs more than the rest of its validation.

A twin is used only when the shapes hold exactly the query text it was written from
(compared with whitespace collapsed); any other text — an edited component, a new one —
runs as SPARQL (``sparql.py``). Each twin answers like the query: for one set of
pre-bound variables, the solutions that make a finding (an ASK that is false: one empty
solution). tests/test_validate_equivalence.py holds them to pyshacl's answers.
"""

# ruff: noqa: E501 (the query texts are kept verbatim, as in the shapes)
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import rdflib
from rdflib import RDF, Literal, URIRef

from coopgraph.validate.engine import Data

Node = rdflib.term.Node
Solutions = list[dict[str, Node]]
SKOS_IN_SCHEME = URIRef("http://www.w3.org/2004/02/skos/core#inScheme")
LABELS = (
    URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
    URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
)
XSD = rdflib.XSD
SCHEMA = rdflib.Namespace("http://schema.org/")
CG = rdflib.Namespace("https://w3id.org/coopgraph/ontology#")
GEO_LAT = URIRef("http://www.w3.org/2003/01/geo/wgs84_pos#lat")
THEME_OR_SDG = {
    URIRef("https://w3id.org/coopgraph/id/scheme/theme"),
    URIRef("https://w3id.org/coopgraph/id/scheme/sdg"),
}
IDENTIFIER_PATHS = {
    URIRef("http://www.w3.org/2002/07/owl#sameAs"),
    CG.nutsRegion,
    CG.nutsCode,
    CG.inseeCode,
    CG.sirenCode,
    CG.iatiIdentifier,
}
DC_SOURCE = URIRef("http://purl.org/dc/terms/source")
NUTS = "http://data.europa.eu/nuts/code/"


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _true(term: Node | None) -> bool:
    """SPARQL's effective boolean value of a boolean parameter."""
    return isinstance(term, Literal) and bool(term.toPython())


def _lang_matches(tag: str, pattern: str) -> bool:
    tag, pattern = tag.lower(), pattern.lower()
    if pattern == "*":
        return bool(tag)
    return tag == pattern or tag.startswith(pattern + "-")


def _typed(value: Node | None, *datatypes: URIRef) -> bool:
    return isinstance(value, Literal) and (value.datatype or XSD.string) in datatypes


def _failed(ok: bool) -> Solutions:
    return [] if ok else [{}]


def required_language(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    this, wanted = b["this"], str(b["requiredLanguage"])
    ok = any(
        isinstance(v, Literal) and v.language and _lang_matches(v.language, wanted)
        for v in data.objects(this, path)
    )
    return [] if ok else [{"this": this}]


def in_scheme(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    return _failed(b["inScheme"] in data.objects(b["value"], SKOS_IN_SCHEME))


def theme_or_sdg(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    schemes = data.objects(b["value"], SKOS_IN_SCHEME)
    return _failed(not _true(b["themeOrSdg"]) or any(s in THEME_OR_SDG for s in schemes))


def described(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    value = b["value"]
    return _failed(not _true(b["described"]) or any(data.objects(value, p) for p in LABELS))


def not_class(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    return _failed(b["notClass"] not in data.objects(b["value"], RDF.type))


def year_or_date(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    return _failed(not _true(b["yearOrDate"]) or _typed(b["value"], XSD.gYear, XSD.date))


def number(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    return _failed(not _true(b["number"]) or _typed(b["value"], XSD.integer, XSD.decimal))


def amount_value(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    value = b["value"]
    quantity = SCHEMA.QuantitativeValue in data.objects(value, RDF.type) and any(
        data.objects(value, p) for p in (SCHEMA.value, SCHEMA.minValue, SCHEMA.maxValue)
    )
    return _failed(
        not _true(b["amountValue"]) or _typed(value, XSD.integer, XSD.decimal) or quantity
    )


def coordinates_if_city(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    value = b["value"]
    city = SCHEMA.City in data.objects(value, RDF.type)
    return _failed(
        not _true(b["coordinatesIfCity"]) or not city or bool(data.objects(value, GEO_LAT))
    )


def _str(term: Node) -> str | None:
    """SPARQL STR(): None (an error) for a blank node."""
    return None if isinstance(term, rdflib.BNode) else str(term)


def identifier_source(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    this = b["this"]
    found: Solutions = []
    for p, objects in data.out.get(this, {}).items():
        if p not in IDENTIFIER_PATHS:
            continue
        for value in objects:
            text = _str(value)
            if text is None or text.startswith("https://w3id.org/coopgraph/"):
                continue
            noted = any(
                RDF.Statement in data.objects(note, RDF.type)
                and p in data.objects(note, RDF.predicate)
                and value in data.objects(note, RDF.object)
                and any(isinstance(s, URIRef) for s in data.objects(note, DC_SOURCE))
                for note in data.subjects(RDF.subject, this)
            )
            if not noted:
                found.append({"this": this, "path": p, "value": value})
    return found


def nuts_region(data: Data, b: dict[str, Node], path: Node) -> Solutions:
    this = b["this"]
    codes = [_str(c) for c in data.objects(this, CG.nutsCode)]
    return [
        {"this": this, "value": value}
        for value in data.objects(this, CG.nutsRegion)
        if not any(code is not None and _str(value) == NUTS + code for code in codes)
    ]


Twin = Callable[[Data, dict[str, Node], Any], Solutions]

#: query text (whitespace collapsed) → its twin
TWINS: dict[str, Twin] = {
    _normal(text): fn
    for text, fn in [
        (
            """SELECT $this WHERE {
  FILTER NOT EXISTS { $this $PATH ?v . FILTER(isLiteral(?v) && langMatches(lang(?v), $requiredLanguage)) }
}""",
            required_language,
        ),
        ("""ASK { $value <http://www.w3.org/2004/02/skos/core#inScheme> $inScheme }""", in_scheme),
        (
            """ASK {
  FILTER(!$themeOrSdg || EXISTS {
    $value <http://www.w3.org/2004/02/skos/core#inScheme> ?s .
    FILTER(?s IN (<https://w3id.org/coopgraph/id/scheme/theme>, <https://w3id.org/coopgraph/id/scheme/sdg>))
  })
}""",
            theme_or_sdg,
        ),
        (
            """ASK {
  FILTER(!$described || EXISTS { $value <http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?l })
}""",
            described,
        ),
        ("""ASK { FILTER NOT EXISTS { $value a $notClass } }""", not_class),
        (
            """ASK {
  FILTER(!$yearOrDate || (isLiteral($value) && datatype($value) IN (<http://www.w3.org/2001/XMLSchema#gYear>, <http://www.w3.org/2001/XMLSchema#date>)))
}""",
            year_or_date,
        ),
        (
            """ASK {
  FILTER(!$number || (isLiteral($value) && datatype($value) IN (<http://www.w3.org/2001/XMLSchema#integer>, <http://www.w3.org/2001/XMLSchema#decimal>)))
}""",
            number,
        ),
        (
            """ASK {
  FILTER(!$amountValue
    || (isLiteral($value) && datatype($value) IN (<http://www.w3.org/2001/XMLSchema#integer>, <http://www.w3.org/2001/XMLSchema#decimal>))
    || EXISTS { $value a <http://schema.org/QuantitativeValue> ;
                       <http://schema.org/value>|<http://schema.org/minValue>|<http://schema.org/maxValue> ?x })
}""",
            amount_value,
        ),
        (
            """ASK {
  FILTER(!$coordinatesIfCity
    || NOT EXISTS { $value a <http://schema.org/City> }
    || EXISTS { $value <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?lat })
}""",
            coordinates_if_city,
        ),
        (
            """SELECT $this ?path ?value WHERE {
  $this ?path ?value .
  FILTER (?path IN (<http://www.w3.org/2002/07/owl#sameAs>, <https://w3id.org/coopgraph/ontology#nutsRegion>,
                    <https://w3id.org/coopgraph/ontology#nutsCode>, <https://w3id.org/coopgraph/ontology#inseeCode>,
                    <https://w3id.org/coopgraph/ontology#sirenCode>, <https://w3id.org/coopgraph/ontology#iatiIdentifier>))
  FILTER (!STRSTARTS(STR(?value), "https://w3id.org/coopgraph/"))
  FILTER NOT EXISTS {
    ?note a <http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement> ;
          <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> $this ;
          <http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate> ?path ;
          <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?value ;
          <http://purl.org/dc/terms/source> ?source .
    FILTER (isIRI(?source))
  }
}""",
            identifier_source,
        ),
        (
            """SELECT $this ?value WHERE {
  $this <https://w3id.org/coopgraph/ontology#nutsRegion> ?value .
  FILTER NOT EXISTS {
    $this <https://w3id.org/coopgraph/ontology#nutsCode> ?code .
    FILTER (STR(?value) = CONCAT("http://data.europa.eu/nuts/code/", STR(?code)))
  }
}""",
            nuts_region,
        ),
    ]
}


@functools.cache  # a few templates, looked up for every entry (a regex each: 1M import, 1 s)
def twin(template: str) -> Twin | None:
    """The Python twin of this query text, if there is one (module doc)."""
    return TWINS.get(_normal(template))
