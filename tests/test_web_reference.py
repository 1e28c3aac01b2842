"""/lookup and /rules: staff find existing IRIs and read the rules reports point at."""

from __future__ import annotations

import pytest

from coopgraph.vocab import ID


def test_lookup_json(client):
    response = client.get("/lookup?q=oujda")
    assert response.status_code == 200
    body = response.get_json()
    assert body["matches"][0]["iri"] == ID["place/oujda"]


@pytest.mark.parametrize("url", ["/lookup", "/lookup?q=", "/lookup?q=x&limit=many"])
def test_lookup_bad_requests(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "status", "detail"}


def test_rules_page_has_an_anchor_per_rule(client):
    rules = client.get("/rules?format=json").get_json()
    assert len(rules) > 100
    page = client.get("/rules?lang=en", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for rule in rules:
        assert f'id="{rule["id"]}"' in html
    assert "Content-Security-Policy" in page.headers


def test_report_guidance_points_at_the_rules_page(client):
    rules = {r["id"] for r in client.get("/rules?format=json").get_json()}
    body = b"""@prefix schema: <http://schema.org/> .
<https://w3id.org/coopgraph/id/offer/test-guidance> a schema:JobPosting ;
    schema:title "Sans employeur"@fr ;
    schema:validThrough "2030-01-01"^^<http://www.w3.org/2001/XMLSchema#date> ."""
    response = client.post(
        "/entries",
        data=body,
        headers={"Content-Type": "text/turtle", "Authorization": "Bearer alice-secret-token"},
    )
    assert response.status_code == 422
    results = response.get_json()["report"]["results"]
    assert results and all(r["guidance"].rsplit("#", 1)[1] in rules for r in results)
