"""Linked data: /id/… and /graph/… dereference (HTML with provenance, or RDF), 404 for
unknown IRIs, and the VoID + DCAT description at /.well-known/void."""

from __future__ import annotations

from html.parser import HTMLParser

import pyoxigraph as ox
import pytest
import rdflib

from coopgraph.formats import RDF_FORMATS
from coopgraph.settings import Settings
from coopgraph.vocab import CG, DCTERMS, GRAPH, ID, INFERRED_GRAPH, ORG, RDFS, VOID

LILLE = ID["org/ville-de-lille"]
OUJDA = ID["org/commune-oujda"]
SEED0 = GRAPH["seed/000"]
SOURCE0 = ID["source/000_b87d6592fc36fb98"]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class Page(HTMLParser):
    """Text of the page, its links, and the rows of the statements tables."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []
        self.title = ""
        self.rows: dict[str, list[str]] = {}
        self._table: str | None = None
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.rows[self._table] = []
        if tag == "tr" and self._table:
            self.rows[self._table].append("")
        if tag == "h1":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        if tag == "h1":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_title:
            self.title += data
        if self._table and self.rows[self._table]:
            self.rows[self._table][-1] += " " + " ".join(data.split())


def test_entity_page_in_the_visitors_language(client) -> None:  # type: ignore[no-untyped-def]
    en = Page(client.get("/id/org/ville-de-lille?lang=en", headers=BROWSER).data.decode())
    assert en.title.strip() == "City of Lille"
    # the choice is kept in a cookie: the next page is in English whatever the browser says
    kept = client.get("/id/org/ville-de-lille", headers={**BROWSER, "Accept-Language": "fr-FR"})
    assert Page(kept.data.decode()).title.strip() == "City of Lille"
    client.delete_cookie("coopgraph_lang")
    fr = client.get("/id/org/ville-de-lille", headers={**BROWSER, "Accept-Language": "fr-FR"})
    assert fr.status_code == 200
    assert Page(fr.data.decode()).title.strip() == "Ville de Lille"
    nl_visitor = client.get("/id/org/ville-de-lille",
                            headers={**BROWSER, "Accept-Language": "en;q=0.9, fr;q=0.5"})
    assert Page(nl_visitor.data.decode()).title.strip() == "City of Lille"


def test_entity_page_shows_statements_with_their_graph_source_and_status(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/org/ville-de-lille?lang=en", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = Page(response.data.decode())
    # an asserted statement: partnerOf Oujda, from seed 000, derived from its source document
    partner = [r for r in page.rows["outgoing"] if "Commune of Oujda" in r or "Oujda" in r]
    assert any("seed/000" in r and "asserted" in r and "000_b87d6592fc36fb98.txt" in r
               for r in partner), partner
    # an inferred-only statement: rdf:type org:Organization
    organisation = [r for r in page.rows["outgoing"] if "inferred" in r and "asserted" not in r]
    assert organisation
    # links: local entity pages, graph pages and the RDF twins
    assert "/id/org/commune-oujda" in page.links
    assert "/graph/seed/000" in page.links
    assert "/graph/inferred" in page.links
    assert "/id/org/ville-de-lille.ttl" in page.links
    # incoming links: a partnership pointing at Lille
    assert any("Lille-Oujda" in r for r in page.rows["incoming"])


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_entity_rdf_by_accept(client, fmt) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/org/ville-de-lille", headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    statements = list(ox.parse(response.data, fmt.oxigraph))
    assert {s.subject.value for s in statements} == {LILLE}
    assert ox.Literal("City of Lille", language="en") in {s.object for s in statements}
    if fmt.name in ("trig", "nquads"):
        graphs = {s.graph_name.value for s in statements}  # type: ignore[union-attr]
        assert {SEED0, INFERRED_GRAPH, GRAPH["reference/organisations"]} <= graphs


@pytest.mark.parametrize(("suffix", "fmt"), [("ttl", "turtle"), ("jsonld", "json-ld"),
                                             ("nt", "nt"), ("rdf", "xml")])
def test_entity_rdf_by_suffix(client, suffix: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/id/org/ville-de-lille.{suffix}", headers=BROWSER)
    assert response.status_code == 200
    g = rdflib.Graph().parse(data=response.data.decode(), format=fmt)
    lille = rdflib.URIRef(LILLE)
    assert (lille, rdflib.URIRef(CG.partnerOf), rdflib.URIRef(OUJDA)) in g
    assert (lille, rdflib.RDF.type, rdflib.URIRef(ORG.Organization)) in g


@pytest.mark.parametrize("path", ["/id/org/nobody", "/id/nothing.ttl", "/id/org/ville-de-lille/x",
                                  "/graph/seed/999", "/graph/seed/999.ttl"])
def test_unknown_iris_are_404(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_graph_page_and_rdf(client, project_store) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/graph/seed/000?lang=en", headers=BROWSER)
    assert page.status_code == 200
    parsed = Page(page.data.decode())
    text = " ".join(parsed.text)
    assert str(project_store.graph_sizes()[SEED0]) in text
    assert "000_b87d6592fc36fb98.txt" in text
    assert "/id/org/ville-de-lille" in parsed.links
    ttl = client.get("/graph/seed/000.ttl")
    triples = list(ox.parse(ttl.data, ox.RdfFormat.TURTLE))
    assert len(triples) == project_store.graph_sizes()[SEED0]
    nq = client.get("/graph/seed/000", headers={"Accept": "application/n-quads"})
    assert {q.graph_name.value for q in ox.parse(nq.data, ox.RdfFormat.N_QUADS)} == {SEED0}  # type: ignore[union-attr]
    inferred = client.get("/graph/inferred", headers=BROWSER)
    assert "inferred" in " ".join(Page(inferred.data.decode()).text)


def test_labels_render_as_text_never_as_markup(web_settings: Settings) -> None:
    from coopgraph.store import open_store
    from coopgraph.web import create_app

    store = open_store(":memory:")
    evil = ox.NamedNode(ID["org/evil"])
    store.bulk_load([
        ox.Quad(evil, ox.NamedNode(RDFS.label), ox.Literal("<script>alert(1)</script>"),
                ox.NamedNode(SEED0)),
        ox.Quad(evil, ox.NamedNode(RDFS.comment), ox.Literal('"><img src=x onerror=alert(2)>'),
                ox.NamedNode(SEED0)),
        ox.Quad(evil, ox.NamedNode(RDFS.seeAlso), ox.NamedNode("javascript:alert(3)"),
                ox.NamedNode(SEED0)),
    ])
    client = create_app(web_settings, store=store).test_client()
    response = client.get("/id/org/evil", headers=BROWSER)
    html = response.data.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    page = Page(html)
    assert page.title.strip() == "<script>alert(1)</script>"
    assert "javascript:alert(3)" in " ".join(page.text)  # shown…
    assert not any(link.startswith("javascript:") for link in page.links)  # …never a link
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_void(client, project_store) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/.well-known/void")
    assert response.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=response.data.decode(), format="turtle")
    void = rdflib.Namespace(str(VOID))
    dataset = rdflib.URIRef("http://localhost/.well-known/void#dataset")
    assert (dataset, rdflib.RDF.type, void.Dataset) in g
    assert (dataset, rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Dataset")) in g
    sizes = project_store.graph_sizes()
    assert int(g.value(dataset, void.triples)) == sum(sizes.values())
    assert int(g.value(dataset, void.classes)) > 10
    assert str(g.value(dataset, void.sparqlEndpoint)) == "http://localhost/sparql"
    assert str(g.value(dataset, rdflib.URIRef(DCTERMS["license"]))).startswith(
        "https://creativecommons.org/licenses/by/4.0")
    examples = [str(e) for e in g.objects(dataset, void.exampleResource)]
    assert examples and all(e.startswith(str(ID)) for e in examples)
    subsets = {str(s): int(g.value(s, void.triples)) for s in g.objects(dataset, void.subset)}
    assert subsets == sizes
    assert (rdflib.URIRef(LILLE), None, None) not in g  # a description, not the data
    jsonld = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json"
    html = client.get("/.well-known/void", headers=BROWSER)
    assert html.mimetype == "text/html"
