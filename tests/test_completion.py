"""Class and property completion of the query page (``/completions.json``): from a
maintained list of the store's terms, patched by writes, never a scan per request."""

from __future__ import annotations

from coopgraph import entries
from coopgraph.web.completion import VIEW_KEY, patched_terms

NEW_OFFER = b"""@prefix cg: <https://w3id.org/coopgraph/ontology#> .
@prefix schema: <http://schema.org/> .
<https://w3id.org/coopgraph/id/org/completion-test> a schema:Organization, cg:CompletionTestKind ;
    schema:name "Completion test"@fr ; cg:completionTestProperty "x" .
"""


def names(client, kind: str, typed: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/completions.json?kind={kind}&q={typed}")
    assert response.status_code == 200
    return [t["name"] for t in response.get_json()]


def test_classes_and_properties_of_the_store_with_labels(app) -> None:  # type: ignore[no-untyped-def]
    app.extensions[VIEW_KEY].refresh()
    client = app.test_client()
    response = client.get("/completions.json?kind=class&q=jobpost&lang=fr")
    assert response.headers["X-Coopgraph-Stale"] == "false"
    found = {t["name"]: t["label"] for t in response.get_json()}
    assert "schema:JobPosting" in found and found["schema:JobPosting"]
    assert "cg:partner" in names(client, "property", "cg:partn")
    assert client.get("/completions.json?kind=nothing").status_code == 400


def test_a_write_adds_its_terms_without_a_new_scan() -> None:
    import pyoxigraph as ox

    from coopgraph.events import Commit

    quad = ox.Quad(ox.NamedNode("https://w3id.org/coopgraph/id/x"),
                   ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                   ox.NamedNode("https://example.org/NewKind"),
                   ox.NamedNode("https://w3id.org/coopgraph/graph/entry/x"))
    terms = {"class": ["https://example.org/Old"], "property": []}
    commit = Commit(graphs=("https://w3id.org/coopgraph/graph/entry/x",), inserted=[quad])
    patched = patched_terms(None, terms, [commit])  # type: ignore[arg-type]
    assert patched["class"] == ["https://example.org/NewKind", "https://example.org/Old"]
    assert patched["property"] == ["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"]


def test_completion_follows_writes(web_settings, fresh_store) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.web import create_app

    app = create_app(web_settings, store=fresh_store)
    view = app.extensions[VIEW_KEY]
    view.refresh()
    client = app.test_client()
    assert "cg:completionTestProperty" not in names(client, "property", "completiontest")
    from coopgraph.validate import Validator

    entries.add_entry(fresh_store, NEW_OFFER, "turtle", graph="completion-test",
                      agent="tester", source="test", validator=Validator(fresh_store))
    view.catch_up()
    assert view.patches >= 1  # patched from the write's quads, not rebuilt
    assert "cg:completionTestProperty" in names(client, "property", "completiontest")
