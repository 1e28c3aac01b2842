"""SELECT * keeps the query's variable order (the engine sorts them by name)."""

from __future__ import annotations


def test_select_star_keeps_the_query_order(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.get_json()["head"]["vars"] == ["s", "p", "o"]
    csv_header = client.get(
        "/sparql",
        query_string={"query": "SELECT DISTINCT * { ?x a ?type } LIMIT 1", "format": "csv"},
    ).data.decode().splitlines()[0]
    assert csv_header == "x,type"
