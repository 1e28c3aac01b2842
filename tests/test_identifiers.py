"""Shared identifiers in data/: well formed, and each one with its source note next to it.

Convention (docs/conventions.md, "External identifiers"): every owl:sameAs, cg:nutsRegion,
cg:nutsCode, cg:inseeCode, cg:sirenCode and cg:iatiIdentifier triple has, in the same
named graph, an ``rdf:Statement`` naming that triple with ``dcterms:source <IRI>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox
import pytest

from coopgraph.parse import parse_bytes, parse_files
from coopgraph.settings import PROJECT_ROOT

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
CG = "https://w3id.org/coopgraph/ontology#"
DCT_SOURCE = "http://purl.org/dc/terms/source"
OWN = "https://w3id.org/coopgraph/"
NUTS = "http://data.europa.eu/nuts/code/"
IDENTIFIER_PROPERTIES = {
    OWL_SAME_AS,
    CG + "nutsRegion",
    CG + "nutsCode",
    CG + "inseeCode",
    CG + "sirenCode",
    CG + "iatiIdentifier",
}
WIKIDATA = re.compile(r"^http://www\.wikidata\.org/entity/Q\d+$")
GEONAMES = re.compile(r"^https://sws\.geonames\.org/\d+/$")
LITERAL_FORMATS = {
    CG + "nutsCode": re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$"),
    CG + "inseeCode": re.compile(r"^[0-9][0-9AB]([0-9]{1,3})?$"),
    CG + "sirenCode": re.compile(r"^[0-9]{9}$"),
    CG + "iatiIdentifier": re.compile(r"^[A-Z]{2}-[A-Za-z0-9._-]+$"),
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Key = tuple[str, Term, Term, Term]


def _key(q: ox.Quad) -> Key:
    return (str(q.graph_name), q.subject, q.predicate, q.object)  # type: ignore[return-value]


def identifier_triples(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The shared-identifier triples (owl:sameAs to coopgraph's own IRIs excluded)."""
    return [
        q
        for q in quads
        if q.predicate.value in IDENTIFIER_PROPERTIES
        and not (isinstance(q.object, ox.NamedNode) and q.object.value.startswith(OWN))
    ]


def source_notes(quads: Iterable[ox.Quad]) -> dict[Key, list[str]]:
    """(graph, subject, predicate, object) named by an rdf:Statement → its dcterms:source IRIs."""
    quads = list(quads)
    by_node: dict[tuple[str, object], dict[str, list[object]]] = {}
    for q in quads:
        props = by_node.setdefault((str(q.graph_name), q.subject), {})
        props.setdefault(q.predicate.value, []).append(q.object)
    notes: dict[Key, list[str]] = {}
    for (graph, _node), props in by_node.items():
        if ox.NamedNode(RDF + "Statement") not in props.get(RDF + "type", []):
            continue
        subject, predicate, obj = (
            props.get(RDF + p, [None])[0] for p in ("subject", "predicate", "object")
        )
        sources = [s.value for s in props.get(DCT_SOURCE, []) if isinstance(s, ox.NamedNode)]
        notes.setdefault((graph, subject, predicate, obj), []).extend(sources)  # type: ignore[arg-type]
    return notes


def missing_notes(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Identifier triples with no note in their own graph, or a note without an http(s) source."""
    quads = list(quads)
    notes = source_notes(quads)
    return [
        q
        for q in identifier_triples(quads)
        if not any(s.startswith(("http://", "https://")) for s in notes.get(_key(q), []))
    ]


DATA = parse_files(sorted((PROJECT_ROOT / "data").rglob("*.trig")))
IDS = identifier_triples(DATA)


def _subjects_with(prop: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for q in IDS:
        if q.predicate.value == prop:
            out.setdefault(q.subject.value, []).append(q.object.value)
    return out


def test_data_has_shared_identifiers_of_each_kind():
    kinds = {q.predicate.value for q in IDS}
    assert kinds >= IDENTIFIER_PROPERTIES - {CG + "iatiIdentifier"}, kinds
    values = {(q.subject.value.rsplit("/", 1)[-1], q.object.value) for q in IDS}
    assert ("lille", "59350") in values
    assert ("nord", NUTS + "FRE11") in values
    assert ("mel", "200093201") in values
    assert ("france", "http://www.wikidata.org/entity/Q142") in values


def test_every_identifier_has_its_source_note_in_the_same_graph():
    missing = [f"{q.subject.value} {q.predicate.value} {q.object}" for q in missing_notes(DATA)]
    assert not missing, "identifiers without a source note:\n" + "\n".join(missing)


def test_every_source_note_names_an_asserted_identifier():
    asserted = {_key(q) for q in IDS}
    notes = source_notes(DATA)
    assert notes
    dangling = [k for k in notes if k not in asserted]
    assert not dangling, dangling


def test_the_check_finds_a_missing_note():
    """The convention check is not vacuous: a mapping without its note, or with a text
    source, is reported; one with a note is not."""
    fixture = b"""
    @prefix owl: <http://www.w3.org/2002/07/owl#> .
    @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
    @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix cg: <https://w3id.org/coopgraph/ontology#> .
    @prefix wd: <http://www.wikidata.org/entity/> .
    @prefix place: <https://w3id.org/coopgraph/id/place/> .
    <https://w3id.org/coopgraph/graph/test> {
      place:a owl:sameAs wd:Q1 ; cg:inseeCode "01001" ; cg:nutsCode "FRK21" .
      [] a rdf:Statement ; rdf:subject place:a ; rdf:predicate owl:sameAs ; rdf:object wd:Q1 ;
         dcterms:source <https://www.wikidata.org/wiki/Q1> .
      [] a rdf:Statement ; rdf:subject place:a ; rdf:predicate cg:nutsCode ; rdf:object "FRK21" ;
         dcterms:source "Eurostat" .
    }
    <https://w3id.org/coopgraph/graph/other> {
      [] a rdf:Statement ; rdf:subject place:a ; rdf:predicate cg:inseeCode ; rdf:object "01001" ;
         dcterms:source <https://www.insee.fr/fr/information/2560452> .
    }
    """
    found = missing_notes(parse_bytes(fixture, "trig"))
    missing = {q.predicate.value.rsplit("#", 1)[-1] for q in found}
    assert missing == {"inseeCode", "nutsCode"}  # note in another graph; text source


def test_same_as_targets_are_wikidata_or_geonames():
    targets = [q.object.value for q in IDS if q.predicate.value == OWL_SAME_AS]
    assert targets
    bad = [t for t in targets if not (WIKIDATA.match(t) or GEONAMES.match(t))]
    assert not bad, bad
    wikidata = [t for t in targets if t.startswith("http://www.wikidata.org/")]
    assert wikidata and all(WIKIDATA.match(t) for t in wikidata)


def test_each_resource_has_at_most_one_item_per_registry():
    for subject, targets in _subjects_with(OWL_SAME_AS).items():
        assert sum(1 for t in targets if WIKIDATA.match(t)) <= 1, subject
        assert sum(1 for t in targets if GEONAMES.match(t)) <= 1, subject


@pytest.mark.parametrize("prop", sorted(LITERAL_FORMATS), ids=lambda p: p.rsplit("#", 1)[-1])
def test_literal_identifiers_are_well_formed(prop):
    pattern = LITERAL_FORMATS[prop]
    for q in DATA:
        if q.predicate.value == prop:
            assert isinstance(q.object, ox.Literal), q
            assert pattern.match(q.object.value), q


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_siren_numbers_pass_the_luhn_check():
    sirens = [v for values in _subjects_with(CG + "sirenCode").values() for v in values]
    assert sirens
    assert all(_luhn_ok(s) for s in sirens), sirens
    assert not _luhn_ok("215903502")


def test_nuts_iris_match_the_nuts_codes():
    codes = _subjects_with(CG + "nutsCode")
    regions = _subjects_with(CG + "nutsRegion")
    assert codes
    assert set(regions) == set(codes)
    for subject, iris in regions.items():
        assert [i.startswith(NUTS) for i in iris] == [True], (subject, iris)
        assert iris == [NUTS + c for c in codes[subject]], (subject, iris, codes[subject])
