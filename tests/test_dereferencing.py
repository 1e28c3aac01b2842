"""Linked-data clients can follow every IRI (issue 14): an offer's document describes its
``#`` parts, ontology IRIs dereference, Turtle uses readable prefixes, ``rdfs:label``
holds one preferred label per language, and statements added by the observatory are
shown as added."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from coopgraph.formats import RDF_FORMATS
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.store.base import Solutions
from coopgraph.vocab import CG, ID, RDFS

OFFER = ID["offer/000-lille-oujda"]
PARTS = {OFFER + "#preparation", OFFER + "#lang-fr", OFFER + "#trips-lille", OFFER + "#contact"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CG_NS = str(CG)


@pytest.fixture
def client(web_settings: Settings, project_store: Store):  # type: ignore[no-untyped-def]
    from coopgraph.web import create_app

    return create_app(web_settings, store=project_store).test_client()


@pytest.mark.parametrize("fmt", [f for f in RDF_FORMATS if f.name in ("turtle", "jsonld", "nt")],
                         ids=lambda f: f.name)
def test_offer_document_describes_its_hash_parts(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/offer/000-lille-oujda", headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    triples = list(ox.parse(response.data, fmt.oxigraph))
    subjects = {t.subject.value for t in triples}
    assert PARTS <= subjects, PARTS - subjects
    trips = {(t.predicate.value, t.object.value) for t in triples
             if t.subject.value == OFFER + "#trips-lille"}
    assert (CG.roundTrips, "3") in trips


def test_offer_page_shows_its_parts_under_anchors(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/offer/000-lille-oujda", headers=BROWSER).data.decode()
    for anchor in ("preparation", "lang-fr", "trips-lille"):
        assert f'id="{anchor}"' in html
    # a link to a part points at the anchor in the document, not at a %23 path
    assert 'href="/id/offer/000-lille-oujda#preparation"' in html


def test_turtle_uses_readable_prefixes(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/id/org/commune-oujda", headers={"Accept": "text/turtle"}).data.decode()
    assert "place:oujda" in text
    assert "cgid:place\\/" not in text and "cgid:org\\/" not in text


def test_ontology_dereferences_in_html_with_fr_and_en(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/ontology", headers=BROWSER)
    assert response.status_code == 200
    html = response.data.decode()
    assert 'id="Partnership"' in html and 'id="employerShare"' in html
    assert "partenariat" in html and "partnership" in html


@pytest.mark.parametrize("how", ["accept", "suffix"])
def test_ontology_dereferences_in_turtle(client, how: str) -> None:  # type: ignore[no-untyped-def]
    response = (client.get("/ontology", headers={"Accept": "text/turtle"}) if how == "accept"
                else client.get("/ontology.ttl", headers=BROWSER))
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    triples = list(ox.parse(response.data, ox.RdfFormat.TURTLE))
    labels = {(t.subject.value, t.object.language) for t in triples
              if t.predicate.value == RDFS.label and isinstance(t.object, ox.Literal)}
    assert {(CG.Partnership, "fr"), (CG.Partnership, "en")} <= labels
    # a reused term the data uses is labelled too
    assert ("http://schema.org/hiringOrganization", "fr") in labels


def test_entity_page_links_terms_to_the_ontology(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/org/ville-de-lille", headers=BROWSER).data.decode()
    assert re.search(r'href="/ontology#partnerOf"', html)


def test_every_own_term_has_fr_and_en_labels_and_comments(project_store: Store) -> None:
    result = project_store.query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?term ?p (GROUP_CONCAT(DISTINCT LANG(?text)) AS ?langs) WHERE { "
        "GRAPH <https://w3id.org/coopgraph/graph/ontology> { ?term a ?kind ; ?p ?text } "
        f'FILTER(STRSTARTS(STR(?term), "{CG_NS}") '
        "&& ?p IN (rdfs:label, rdfs:comment)) } GROUP BY ?term ?p"
    )
    assert isinstance(result, Solutions)
    found = {(r[0].value, r[1].value): set(r[2].value.split()) for r in result.rows}
    terms = {term for term, _ in found}
    missing = [(t, p) for t in terms for p in (RDFS.label, RDFS.comment)
               if not {"fr", "en"} <= found.get((t, p), set())]
    assert len(terms) > 80
    assert not missing, missing


def test_rdfs_label_holds_one_preferred_label_per_language(project_store: Store) -> None:
    """Alternative names stay in skos:altLabel: no inference folds them into rdfs:label."""
    result = project_store.query(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?s ?lang (COUNT(DISTINCT ?l) AS ?n) WHERE { ?s rdfs:label ?l "
        'BIND(LANG(?l) AS ?lang) FILTER(STRSTARTS(STR(?s), "https://w3id.org/coopgraph/id/")) } '
        "GROUP BY ?s ?lang HAVING (COUNT(DISTINCT ?l) > 1)"
    )
    assert isinstance(result, Solutions)
    assert result.rows == []
    ville = project_store.query(
        "ASK { <https://w3id.org/coopgraph/id/org/ville-de-lille> "
        '<http://www.w3.org/2000/01/rdf-schema#label> "Mairie de Lille"@fr }'

    )
    assert not ville


def test_added_statements_are_shown_as_added(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/offer/004-lille-participation-citoyenne", headers=BROWSER).data.decode()
    row = next(r for r in html.split("<tr") if "concept/sdg/16" in r)
    assert "added by the observatory" in row or "ajouté par l'observatoire" in row
    assert "/graph/added/sdg-classification" in row
