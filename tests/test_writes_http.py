"""HTTP writes: /entries and the Graph Store HTTP Protocol at /data (web/writes.py).

Reads are public; writes need a bearer token whose name goes to the provenance log.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from urllib.parse import quote, unquote

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from conftest import DATA, build_store, store_fingerprint
from coopgraph.auth import authenticate
from coopgraph.errors import Unauthorized
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.store.base import Boolean
from coopgraph.vocab import (
    CG,
    ENTRY_GRAPH_PREFIX,
    ID,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    ORG,
    PROV,
    PROVENANCE_GRAPH,
    RDF,
    SH,
)
from coopgraph.web import create_app

ALICE = {"Authorization": "Bearer alice-secret-token"}
BOB = {"Authorization": "Bearer bob-secret-token"}
TURTLE = {"Content-Type": "text/turtle"}
ORGANISATION = (DATA / "valid" / "new-organisation.ttl").read_bytes()
PARTNERSHIP = (DATA / "valid" / "new-partnership.ttl").read_bytes()
TOURNAI = ID["org/test-commune-tournai"]
FRANCE_VOLONTAIRES = ID["org/france-volontaires"]
NOUVELLE_AQUITAINE = ID["org/conseil-regional-nouvelle-aquitaine"]


@pytest.fixture
def app(settings: Settings, fresh_store: Store) -> Flask:
    return create_app(settings, store=fresh_store)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def store(app: Flask) -> Store:
    return app.extensions["coopgraph.store"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def refusing_app(settings: Settings) -> Flask:
    """One app on a private store for the tests of refused writes: each of them checks
    that the store is unchanged, so they can share it."""
    return create_app(settings, store=build_store(settings))


@pytest.fixture
def refusing(refusing_app: Flask) -> Iterator[tuple[FlaskClient, Store]]:
    with refusing_app.test_client() as client:
        yield client, refusing_app.extensions["coopgraph.store"]


def holds(store: Store, s: str, p: str, o: str, graph: str | None = None) -> bool:
    bindings = {"s": ox.NamedNode(s), "p": ox.NamedNode(p), "o": ox.NamedNode(o)}
    if graph is not None:
        bindings["g"] = ox.NamedNode(graph)
    result = store.query("ASK { GRAPH ?g { ?s ?p ?o } }", bindings=bindings)
    assert isinstance(result, Boolean)
    return bool(result)


def used(store: Store, graph: str) -> set[str]:
    """prov:used of the activities that generated or invalidated ``graph``."""
    result = store.query(
        f"SELECT * WHERE {{ GRAPH ?pg {{ ?a ?rel ?g ; <{PROV.used}> ?used }} "
        f"FILTER(?rel IN (<{PROV.generated}>, <{PROV.invalidated}>)) }}",
        bindings={"g": ox.NamedNode(graph), "pg": ox.NamedNode(PROVENANCE_GRAPH)},
    )
    return {row["used"].value for row in result.dicts()}  # type: ignore[union-attr]


def parse(data: bytes, media_type: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=data, format=media_type)
    return graph


def count(data: bytes, media_type: str) -> int:
    """Statements in a response, whatever graph they are in."""
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format=media_type)
    return len(list(dataset.quads((None, None, None, None))))


# -- auth ------------------------------------------------------------------------------


def test_authenticate_returns_the_token_name() -> None:
    tokens = {"alice": "alice-secret-token", "bob": "bob-secret-token"}
    assert authenticate("Bearer bob-secret-token", tokens) == "bob"
    assert authenticate("bearer  alice-secret-token ", tokens) == "alice"
    for header in (None, "", "Basic YWxpY2U6eA==", "Bearer", "Bearer wrong", "alice-secret-token"):
        with pytest.raises(Unauthorized):
            authenticate(header, tokens)
    with pytest.raises(Unauthorized, match="no token is configured"):
        authenticate("Bearer alice-secret-token", {})


# -- /entries ----------------------------------------------------------------------------


def test_post_entry_creates_it_with_provenance_and_inferences(
    client: FlaskClient, store: Store
) -> None:
    assert not holds(store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES)
    response = client.post("/entries", data=PARTNERSHIP, headers={**ALICE, **TURTLE})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/entries/{body['id']}"
    graph = body["graph"]
    assert graph == ENTRY_GRAPH_PREFIX + body["id"] and body["action"] == "added"
    assert holds(store, graph, PROV.wasAttributedTo, ID["agent/alice"], PROVENANCE_GRAPH)
    assert used(store, graph) == {"HTTP POST /entries"}
    assert holds(store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES, INFERRED_GRAPH)

    got = client.get(response.headers["Location"])
    assert got.status_code == 200 and got.mimetype == "text/turtle"
    triples = parse(got.data, "text/turtle")
    assert (
        rdflib.URIRef(FRANCE_VOLONTAIRES), rdflib.URIRef(CG.partnerOf),
        rdflib.URIRef(NOUVELLE_AQUITAINE),
    ) in triples
    assert len(triples) == body["triples"]

    deleted = client.delete(response.headers["Location"], headers=BOB)
    assert deleted.status_code == 200 and deleted.get_json()["action"] == "removed"
    assert not holds(store, NOUVELLE_AQUITAINE, CG.partnerOf, FRANCE_VOLONTAIRES)
    assert used(store, graph) == {"HTTP POST /entries", f"HTTP DELETE /entries/{body['id']}"}
    assert client.get(response.headers["Location"]).status_code == 404
    assert client.delete(response.headers["Location"], headers=BOB).status_code == 404


def test_post_with_an_id_then_conflict(client: FlaskClient, store: Store) -> None:
    first = client.post("/entries?id=tournai", data=ORGANISATION, headers={**ALICE, **TURTLE})
    assert first.status_code == 201 and first.headers["Location"] == "/entries/tournai"
    assert holds(store, TOURNAI, RDF.type, ORG.Organization, INFERRED_GRAPH)
    before = store_fingerprint(store)
    again = client.post("/entries", data=ORGANISATION,
                        headers={**ALICE, **TURTLE, "Slug": "tournai"})
    assert again.status_code == 409
    assert again.get_json()["error"] == "Conflict"
    assert "already exists" in again.get_json()["detail"]
    assert store_fingerprint(store) == before


def test_put_creates_then_replaces(client: FlaskClient, store: Store) -> None:
    created = client.put("/entries/swap", data=ORGANISATION, headers={**ALICE, **TURTLE})
    assert created.status_code == 201 and created.headers["Location"] == "/entries/swap"
    replaced = client.put("/entries/swap", data=PARTNERSHIP, headers={**BOB, **TURTLE})
    assert replaced.status_code == 200 and replaced.get_json()["action"] == "replaced"
    graph = ENTRY_GRAPH_PREFIX + "swap"
    assert not holds(store, TOURNAI, RDF.type, ORG.Organization)
    assert holds(store, graph, PROV.wasAttributedTo, ID["agent/bob"], PROVENANCE_GRAPH)
    assert not holds(store, graph, PROV.wasAttributedTo, ID["agent/alice"], PROVENANCE_GRAPH)


@pytest.mark.parametrize(
    "media_type",
    ["text/turtle", "application/trig", "application/n-triples", "application/n-quads",
     "application/ld+json", "application/rdf+xml"],
)
def test_entry_in_every_format_round_trips(
    client: FlaskClient, store: Store, media_type: str
) -> None:
    """Each RDF format is accepted as a body (converted from the Turtle fixture) and served
    back on GET by Accept."""
    fmt = {"text/turtle": ox.RdfFormat.TURTLE, "application/trig": ox.RdfFormat.TRIG,
           "application/n-triples": ox.RdfFormat.N_TRIPLES,
           "application/n-quads": ox.RdfFormat.N_QUADS,
           "application/ld+json": ox.RdfFormat.JSON_LD,
           "application/rdf+xml": ox.RdfFormat.RDF_XML}[media_type]
    triples = list(ox.parse(ORGANISATION, ox.RdfFormat.TURTLE))
    items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if fmt in (
        ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS, ox.RdfFormat.JSON_LD) else triples
    body = ox.serialize(items, format=fmt)
    response = client.put("/entries/fmt", data=body,
                          headers={**ALICE, "Content-Type": media_type})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["triples"] == len(triples)
    got = client.get("/entries/fmt", headers={"Accept": media_type})
    assert got.status_code == 200 and got.mimetype == media_type
    assert count(got.data, media_type) == len(triples)


def test_get_entry_negotiates_and_refuses_what_it_cannot_serve(client: FlaskClient) -> None:
    client.put("/entries/neg", data=ORGANISATION, headers={**ALICE, **TURTLE})
    trig = client.get("/entries/neg?format=trig")
    assert trig.mimetype == "application/trig"
    dataset = rdflib.Dataset()
    dataset.parse(data=trig.data, format="trig")
    # TriG keeps the entry graph
    assert {str(g) for _, _, _, g in dataset.quads((None, None, None, None))} == {
        ENTRY_GRAPH_PREFIX + "neg"
    }
    jsonld = client.get("/entries/neg", headers={"Accept": "application/ld+json"})
    assert isinstance(json.loads(jsonld.data), (list, dict))
    refused = client.get("/entries/neg", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and refused.get_json()["status"] == 406
    assert client.get("/entries/Not_A_Slug").status_code == 400


def test_non_conforming_entry_is_422_with_the_report(
    refusing: tuple[FlaskClient, Store],
) -> None:
    client, store = refusing
    before = store_fingerprint(store)
    bad = (DATA / "invalid" / "no-employer.ttl").read_bytes()
    response = client.post("/entries?lang=en", data=bad, headers={**ALICE, **TURTLE})
    assert response.status_code == 422
    body = response.get_json()
    assert body["status"] == 422 and "CG-OFFER-002" in body["detail"]
    assert body["report"]["conforms"] is False
    assert any(r["rule"] == "CG-OFFER-002" and "employer" in r["message"]
               for r in body["report"]["results"])

    as_turtle = client.post("/entries", data=bad,
                            headers={**ALICE, **TURTLE, "Accept": "text/turtle"})
    assert as_turtle.status_code == 422 and as_turtle.mimetype == "text/turtle"
    report = parse(as_turtle.data, "text/turtle")
    node = report.value(predicate=rdflib.RDF.type, object=rdflib.URIRef(SH.ValidationReport))
    assert node is not None
    assert report.value(node, rdflib.URIRef(SH.conforms)).toPython() is False
    assert store_fingerprint(store) == before


def test_unparseable_body_is_400_with_line_and_column(
    refusing: tuple[FlaskClient, Store],
) -> None:
    client, store = refusing
    before = store_fingerprint(store)
    response = client.post("/entries", data=b"@prefix ex: <http://example.org/> .\n\nex:a ex:b .\n",
                           headers={**ALICE, **TURTLE})
    assert response.status_code == 400
    body = response.get_json()
    assert body["line"] == 3 and body["column"] is not None
    assert body["detail"].startswith("HTTP POST /entries:3:")
    assert store_fingerprint(store) == before


@pytest.mark.parametrize("content_type", ["application/pdf", None])
def test_unknown_content_type_is_415(
    refusing: tuple[FlaskClient, Store], content_type: str | None
) -> None:
    client, store = refusing
    before = store_fingerprint(store)
    headers = dict(ALICE)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/entries", data=ORGANISATION, headers=headers)
    assert response.status_code == 415
    assert "text/turtle" in response.get_json()["detail"]
    assert store_fingerprint(store) == before


def test_turtle_sent_as_a_spreadsheet_is_refused(refusing: tuple[FlaskClient, Store]) -> None:
    """``text/csv`` is a spreadsheet now (issue 13): Turtle under that type is no sheet."""
    client, store = refusing
    before = store_fingerprint(store)
    response = client.post("/entries", data=ORGANISATION,
                           headers={**ALICE, "Content-Type": "text/csv"})
    assert response.status_code == 400
    assert store_fingerprint(store) == before


# -- /data: Graph Store HTTP Protocol ----------------------------------------------------


def data_url(graph: str) -> str:
    return "/data?graph=" + quote(graph, safe="")


def test_gsp_reads_named_graphs_and_the_union(refusing: tuple[FlaskClient, Store]) -> None:
    client, store = refusing
    ontology = client.get(data_url(ONTOLOGY_GRAPH), headers={"Accept": "application/n-triples"})
    assert ontology.status_code == 200
    assert len(parse(ontology.data, "application/n-triples")) == store.graph_sizes()[ONTOLOGY_GRAPH]

    union = parse(client.get("/data?default").data, "text/turtle")
    # asserted, inferred and provenance triples are all in the default graph
    assert (rdflib.URIRef(ID["place/oujda"]), rdflib.URIRef(CG.within),
            rdflib.URIRef(ID["place/morocco"])) in union
    assert len(union) == len({(q.subject, q.predicate, q.object) for q in store.quads()})

    assert client.get(data_url(ENTRY_GRAPH_PREFIX + "nothing")).status_code == 404
    assert client.get("/data").status_code == 400
    assert client.get("/data?default&graph=" + quote(ONTOLOGY_GRAPH)).status_code == 400
    assert client.get("/data?graph=not%20an%20iri").status_code == 400


def test_gsp_writes_go_through_the_pipeline(client: FlaskClient, store: Store) -> None:
    graph = ENTRY_GRAPH_PREFIX + "gsp"
    put = client.put(data_url(graph), data=ORGANISATION, headers={**ALICE, **TURTLE})
    assert put.status_code == 201 and unquote(put.headers["Location"]) == "/data?graph=" + graph
    assert used(store, graph) == {"HTTP PUT /data"}
    again = client.put(data_url(graph), data=ORGANISATION, headers={**ALICE, **TURTLE})
    assert again.status_code == 200 and again.get_json()["action"] == "replaced"

    extra = f"<{TOURNAI}> <{CG.partnerOf}> <{FRANCE_VOLONTAIRES}> .\n".encode()
    merged = client.post(data_url(graph), data=extra,
                         headers={**BOB, "Content-Type": "application/n-triples"})
    assert merged.status_code == 200
    assert merged.get_json()["triples"] == merged.get_json()["previous"] + 1
    assert holds(store, FRANCE_VOLONTAIRES, CG.partnerOf, TOURNAI, INFERRED_GRAPH)

    bad = (DATA / "invalid" / "no-employer.ttl").read_bytes()
    before = store_fingerprint(store)
    assert client.post(data_url(graph), data=bad, headers={**BOB, **TURTLE}).status_code == 422
    assert store_fingerprint(store) == before

    new = client.post("/data", data=PARTNERSHIP, headers={**ALICE, **TURTLE})
    assert new.status_code == 201
    assert unquote(new.headers["Location"]) == "/data?graph=" + new.get_json()["graph"]

    assert client.delete(data_url(graph), headers=ALICE).status_code == 200
    assert list(store.quads(graph)) == []
    assert not holds(store, FRANCE_VOLONTAIRES, CG.partnerOf, TOURNAI)
    assert client.delete(data_url(graph), headers=ALICE).status_code == 404


def test_two_gsp_merges_at_once_lose_nothing(app: Flask, store: Store) -> None:
    """Issue 15: two POST /data into one graph at the same time both end up in it."""
    graph = ENTRY_GRAPH_PREFIX + "gsp-race"
    with app.test_client() as client:
        assert client.put(data_url(graph), data=ORGANISATION,
                          headers={**ALICE, **TURTLE}).status_code == 201
    statuses: list[int] = []

    def merge(partner: str) -> None:
        body = f"<{TOURNAI}> <{CG.partnerOf}> <{partner}> .\n".encode()
        with app.test_client() as own:  # one client per thread
            statuses.append(own.post(data_url(graph), data=body, headers={
                **BOB, "Content-Type": "application/n-triples"}).status_code)

    threads = [threading.Thread(target=merge, args=(p,))
               for p in (FRANCE_VOLONTAIRES, NOUVELLE_AQUITAINE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    for partner in (FRANCE_VOLONTAIRES, NOUVELLE_AQUITAINE):
        assert holds(store, TOURNAI, CG.partnerOf, partner, graph), partner


@pytest.mark.parametrize("method", ["put", "post", "delete"])
@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/data?default", 403),
        (data_url(ONTOLOGY_GRAPH), 403),
        (data_url(INFERRED_GRAPH), 403),
        (data_url(PROVENANCE_GRAPH), 403),
        (data_url("https://w3id.org/coopgraph/graph/seed/000"), 403),
        (data_url("http://example.org/elsewhere"), 403),
    ],
)
def test_gsp_only_entry_graphs_are_writable(
    refusing: tuple[FlaskClient, Store], method: str, target: str, status: int
) -> None:
    client, store = refusing
    before = store_fingerprint(store)
    response = getattr(client, method)(target, data=ORGANISATION, headers={**ALICE, **TURTLE})
    assert response.status_code == status
    assert "read-only" in response.get_json()["detail"] or "not writable" in \
        response.get_json()["detail"]
    assert store_fingerprint(store) == before


@pytest.mark.parametrize(
    ("method", "url"),
    [("post", "/entries"), ("put", "/entries/x"), ("delete", "/entries/x"),
     ("put", data_url(ENTRY_GRAPH_PREFIX + "x")), ("post", "/data"),
     ("delete", data_url(ENTRY_GRAPH_PREFIX + "x"))],
)
def test_every_write_route_needs_a_token(
    refusing: tuple[FlaskClient, Store], method: str, url: str
) -> None:
    client, store = refusing
    before = store_fingerprint(store)
    for headers in ({}, {"Authorization": "Bearer nope-nope-nope"}):
        response = getattr(client, method)(url, data=ORGANISATION, headers={**headers, **TURTLE})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"] == "Unauthorized"
    assert store_fingerprint(store) == before


OFFER = (DATA / "valid" / "new-offer.ttl").read_bytes()


def test_blank_nodes_are_stored_as_skolem_iris_the_same_on_every_write(
    client: FlaskClient, store: Store
) -> None:
    """An offer's salary and language requirement (blank nodes in the Turtle) are stored
    under .well-known/genid IRIs that dereference, with their inferences; writing the same
    document again gives the same IRIs; each write says where its time went."""
    created = client.put("/entries/skolem", data=OFFER, headers={**ALICE, **TURTLE})
    assert created.status_code == 201
    steps = dict(
        part.strip().split(";dur=") for part in created.headers["Server-Timing"].split(",")
    )
    assert set(steps) == {"wait", "parse", "validate", "reason", "commit", "publish", "total"}
    parts = sum(float(ms) for step, ms in steps.items() if step != "total")
    assert float(steps["total"]) >= parts - 0.5  # the steps add up to at most the whole
    assert all(float(ms) >= 0 for ms in steps.values())
    graph = ENTRY_GRAPH_PREFIX + "skolem"
    quads = list(store.quads(graph))
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
    skolem = sorted({q.subject.value for q in quads if "/.well-known/genid/" in q.subject.value})
    assert len(skolem) == 4  # salary, its value, the language and experience requirements
    page = client.get(skolem[0].removeprefix("https://w3id.org/coopgraph"),
                      headers={"Accept": "text/turtle"})
    assert page.status_code == 200 and count(page.data, "text/turtle") > 0
    assert any(q.subject.value in skolem for q in store.quads(INFERRED_GRAPH))
    again = client.put("/entries/skolem", data=OFFER, headers={**BOB, **TURTLE})
    assert again.status_code == 200
    assert set(store.quads(graph)) == set(quads)
