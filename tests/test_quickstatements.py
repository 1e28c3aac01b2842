"""QuickStatements v1 export of twinning-like partnerships (Wikidata P190), line by line.

The seed data yields no line: its only partnership of a P190 type between two authorities
is the Lille-Oujda cooperation agreement (2005), and only Lille's territory has a verified
Wikidata item (wd:Q648); Oujda's item is not in the data because it could not be checked.
The lines are therefore checked on a small fixture graph, written by hand below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.parse import parse_bytes, parse_file
from coopgraph.quickstatements import Twinning, quickstatements, twinnings
from coopgraph.settings import PROJECT_ROOT
from coopgraph.store import open_store
from coopgraph.vocab import ONTOLOGY_GRAPH

FIXTURE = b"""
@prefix cg:      <https://w3id.org/coopgraph/ontology#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix schema:  <http://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix wd:      <http://www.wikidata.org/entity/> .
@prefix ptype:   <https://w3id.org/coopgraph/id/concept/partnership-type/> .
@prefix ex:      <https://example.org/qs/> .

<https://example.org/qs/graph> {
  ex:town-a a cg:Commune ; rdfs:label "A"@fr ; cg:jurisdiction ex:place-a .
  ex:town-b a cg:Commune ; rdfs:label "B"@fr ; cg:jurisdiction ex:place-b .
  ex:town-c a cg:Intermunicipality ; rdfs:label "C"@fr ; cg:jurisdiction ex:place-c .
  ex:region-d a cg:RegionalAuthority ; rdfs:label "D"@fr ; cg:jurisdiction ex:place-d .
  ex:town-e a cg:Commune ; rdfs:label "E (GeoNames only)"@fr ; cg:jurisdiction ex:place-e .
  ex:ngo a cg:Association ; rdfs:label "NGO"@fr ; cg:jurisdiction ex:place-b ; owl:sameAs wd:Q9 .
  ex:place-a owl:sameAs wd:Q101 .
  ex:place-b owl:sameAs wd:Q22 .
  ex:place-c owl:sameAs wd:Q303 .
  ex:place-d owl:sameAs wd:Q44 .
  ex:place-e owl:sameAs <https://sws.geonames.org/123/> .

  # twinning with a start year: two lines (P190 is symmetric)
  ex:p1 a cg:Partnership ; cg:partnershipType ptype:twinning ; cg:partner ex:town-a , ex:town-b ;
      schema:startDate "1962"^^xsd:gYear ; dcterms:source <https://example.org/docs/twinning-a-b> .
  # cooperation agreement known by its signature year only, two sources: the first IRI
  ex:p2 a cg:Partnership ; cg:partnershipType ptype:cooperation-agreement ;
      cg:partner ex:town-a , ex:town-c ; cg:signedYear "2005"^^xsd:gYear ;
      dcterms:source <https://example.org/docs/z> , <https://example.org/docs/a> .
  # friendship pact with a full start date and no source
  ex:p3 a cg:Partnership ; cg:partnershipType ptype:friendship-pact ;
      cg:partner ex:town-b , ex:region-d ; schema:startDate "1999-05-12"^^xsd:date .
  # friendship pact with no date at all
  ex:p4 a cg:Partnership ; cg:partnershipType ptype:friendship-pact ;
      cg:partner ex:town-c , ex:region-d ; dcterms:source <https://example.org/docs/c-d> .

  # none of these gives a line:
  ex:n1 a cg:Partnership ; cg:partnershipType ptype:programme-partnership ;
      cg:partner ex:town-a , ex:region-d ; dcterms:source <https://example.org/docs/n1> .
  ex:n2 a cg:Partnership ; cg:partnershipType ptype:cooperation-agreement ;
      cg:partner ex:town-a , ex:town-b , ex:town-c ; dcterms:source <https://example.org/docs/n2> .
  ex:n3 a cg:Partnership ; cg:partnershipType ptype:twinning ;
      cg:partner ex:town-a , ex:ngo ; dcterms:source <https://example.org/docs/n3> .
  ex:n4 a cg:Partnership ; cg:partnershipType ptype:twinning ;
      cg:partner ex:town-a , ex:town-e ; dcterms:source <https://example.org/docs/n4> .
}
"""

EXPECTED = [
    'Q22|P190|Q44|P580|+1999-00-00T00:00:00Z/9',
    'Q22|P190|Q101|P580|+1962-00-00T00:00:00Z/9|S854|"https://example.org/docs/twinning-a-b"',
    'Q44|P190|Q22|P580|+1999-00-00T00:00:00Z/9',
    'Q44|P190|Q303|S854|"https://example.org/docs/c-d"',
    'Q101|P190|Q22|P580|+1962-00-00T00:00:00Z/9|S854|"https://example.org/docs/twinning-a-b"',
    'Q101|P190|Q303|P580|+2005-00-00T00:00:00Z/9|S854|"https://example.org/docs/a"',
    'Q303|P190|Q44|S854|"https://example.org/docs/c-d"',
    'Q303|P190|Q101|P580|+2005-00-00T00:00:00Z/9|S854|"https://example.org/docs/a"',
]


@pytest.fixture(scope="module")
def fixture_store():
    """The ontology (for the class hierarchy) and the fixture graph, no inferences."""
    store = open_store(":memory:")
    ontology = [
        q
        for path in sorted((PROJECT_ROOT / "ontology").glob("*.ttl"))
        for q in parse_file(path, default_graph=str(ONTOLOGY_GRAPH))
    ]
    store.bulk_load([*ontology, *parse_bytes(FIXTURE, "trig")])
    yield store
    store.close()


def test_fixture_lines_one_by_one(fixture_store):
    lines = quickstatements(fixture_store).splitlines()
    for got, want in zip(lines, EXPECTED, strict=True):
        assert got == want


def test_lines_come_in_both_directions(fixture_store):
    pairs = {(t.subject, t.target) for t in twinnings(fixture_store)}
    assert pairs and all((b, a) in pairs for a, b in pairs)


def test_line_format():
    assert Twinning("Q648", "Q1", 2005, "https://w3id.org/coopgraph/id/source/000_x").line() == (
        'Q648|P190|Q1|P580|+2005-00-00T00:00:00Z/9|S854|"https://w3id.org/coopgraph/id/source/000_x"'
    )
    assert Twinning("Q648", "Q1", None, None).line() == "Q648|P190|Q1"


def test_seed_data_yields_no_line_and_why(project_store):
    assert quickstatements(project_store) == ""
    # why: Lille-Oujda is the seeds' only P190-type partnership between two authorities,
    # and Oujda's territory has no Wikidata item in the data (Lille's has: wd:Q648)
    rows = project_store.query(
        """
        PREFIX cg: <https://w3id.org/coopgraph/ontology#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT ?partner ?item WHERE {
          <https://w3id.org/coopgraph/id/partnership/lille-oujda> cg:partner ?partner .
          OPTIONAL { ?partner cg:jurisdiction/owl:sameAs ?item
                     FILTER STRSTARTS(STR(?item), "http://www.wikidata.org/") }
        }"""
    ).dicts()
    items = {r["partner"].value.rsplit("/", 1)[-1]: r.get("item") for r in rows}
    assert set(items) == {"ville-de-lille", "commune-oujda"}
    assert items["ville-de-lille"].value == "http://www.wikidata.org/entity/Q648"
    assert items["commune-oujda"] is None


def test_cli_export_quickstatements(tmp_path: Path):
    out = tmp_path / "twinnings.qs"
    result = CliRunner().invoke(
        main, ["export", "--format", "quickstatements", "--out", str(out), "--store", ":memory:"]
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and out.read_text("utf-8") == ""  # the seed data yields no line
