"""Entity pages explain inferred statements (rule + premises) and show network metrics."""

from __future__ import annotations

import re

from coopgraph.netview import build_snapshot


def page(client, path: str) -> str:
    response = client.get(path + "?lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_inferred_containment_is_explained(client):
    html = page(client, "/id/place/oujda")
    rules = set(re.findall(r'data-rule="([^"]+)"', html))
    assert rules, "no explanation on the page"
    assert any("transitive" in r for r in rules), rules


def test_symmetric_partnership_is_explained(client):
    html = page(client, "/id/org/commune-oujda")
    assert 'data-rule="owl-symmetric"' in html or "symmetric" in html


def test_network_metrics_on_entity_page(client, project_store):
    iri = "https://w3id.org/coopgraph/id/org/ville-de-lille"
    expected = build_snapshot(project_store).figures(iri)
    assert expected
    html = page(client, "/id/org/ville-de-lille")
    degree = re.search(r'id="metric-degree">(\d+)<', html)
    assert degree and int(degree.group(1)) == expected["degree"]
