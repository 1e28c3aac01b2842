"""Staff upload a filled spreadsheet while the site runs: wrong rows come back annotated,
conforming rows are added, and uploading the fixed sheet updates what the first upload
made instead of failing on the used identifier."""

from __future__ import annotations

import csv
import io
import re

import pytest

from coopgraph.tabular import template

TOKEN = {"Authorization": "Bearer alice-secret-token"}
HTML = {"Accept": "text/html"}


def sheet(*rows: dict[str, str]) -> bytes:
    """An English offer sheet: the template's header and explanation rows, then ``rows``."""
    lines = list(csv.reader(io.StringIO(template("offer", "en").decode("utf-8-sig"))))
    header, explanation = lines[0], lines[1]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerow(explanation)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue().encode("utf-8")


GOOD = {"Identifier": "upload-test-a", "Job title": "Cooperation officer Lille-Oujda (test)",
        "Employer": "Ville de Lille", "Duty station": "Oujda", "Deadline": "2024-04-15"}
BAD = {"Identifier": "upload-test-b", "Job title": "Project coordinator (test)",
       "Employer": "Ville de Lille", "Duty station": "Lille", "Deadline": "end of April"}


@pytest.fixture
def write_client(web_settings, fresh_store):  # type: ignore[no-untyped-def]
    from coopgraph.web import create_app

    app = create_app(web_settings, store=fresh_store)
    return app.test_client(), fresh_store


def titles(store, slug: str) -> list[str]:  # type: ignore[no-untyped-def]
    rows = store.query(
        "SELECT ?t WHERE { GRAPH ?g { "
        f"<https://w3id.org/coopgraph/id/offer/{slug}> <http://schema.org/title> ?t }} }}"
    )
    return sorted(r["t"].value for r in rows.dicts())


def test_upload_needs_a_token(write_client) -> None:  # type: ignore[no-untyped-def]
    client, store = write_client
    response = client.post("/upload", data=sheet(GOOD), content_type="text/csv")
    assert response.status_code == 401
    assert titles(store, "upload-test-a") == []


def test_upload_fix_and_upload_again_updates(write_client) -> None:  # type: ignore[no-untyped-def]
    client, store = write_client
    first = client.post(
        "/upload?lang=en",
        data={"sheet": (io.BytesIO(sheet(GOOD, BAD)), "offers.csv"),
              "token": "alice-secret-token"},
        content_type="multipart/form-data", headers=HTML,
    )
    assert first.status_code == 200
    page = first.data.decode()
    assert 'data-added="1"' in page and 'data-conforms="false"' in page
    href = re.search(r'id="annotated" href="([^"]+)"', page).group(1)
    annotated = client.get(href).data.decode("utf-8-sig")
    assert "“end of April” is not a date" in annotated or "end of April" in annotated
    assert "Deadline" in annotated
    assert titles(store, "upload-test-a") == ["Cooperation officer Lille-Oujda (test)"]
    # fix the wrong cell, change a title, send the same sheet again
    fixed = client.post(
        "/upload?lang=en",
        data=sheet({**GOOD, "Job title": "Cooperation officer Lille-Oujda (corrected)"},
                   {**BAD, "Deadline": "2024-04-30"}),
        content_type="text/csv", headers={**TOKEN, "Accept": "application/json"},
    )
    assert fixed.status_code == 200, fixed.data
    report = fixed.get_json()
    assert report["conforms"] is True
    assert [r["updated"] for r in report["rows"]] == [True, False]
    assert titles(store, "upload-test-a") == ["Cooperation officer Lille-Oujda (corrected)"]
    assert titles(store, "upload-test-b") == ["Project coordinator (test)"]
    graphs = store.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { "
        "<https://w3id.org/coopgraph/id/offer/upload-test-a> ?p ?o } "
        "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/coopgraph/graph/entry/')) }"
    )
    assert len(graphs.dicts()) == 1  # updated in place, not duplicated


def test_upload_page_and_templates(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/upload?lang=fr", headers=HTML).data.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="token"' in page
    blank = client.get("/upload/template/offer.csv?lang=fr")
    assert blank.status_code == 200 and blank.mimetype == "text/csv"
    assert blank.data == template("offer", "fr")
    assert client.get("/upload/template/nothing.csv").status_code == 404
