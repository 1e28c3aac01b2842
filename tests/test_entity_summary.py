"""Entity pages open with a summary in words: kind, key facts, and the offer's parts."""

from __future__ import annotations

import re
from html import unescape

import pytest

from coopgraph.web.entity_summary import readable_date

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def section(html: str, element_id: str) -> str:
    """The text of the element with ``id`` (tags dropped, spaces collapsed)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:dl|p|div|section)>', html, re.S)
    assert match, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def test_offer_summary_in_english(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/offer/002-so-cooperation-aict?lang=en", headers=BROWSER).data.decode()
    assert section(html, "kind") == "job posting"  # ontology/labels.ttl
    facts = section(html, "facts")
    assert "Employer SO Coopération" in facts
    assert "Pay 25,000 – 32,000 EUR a year" in facts
    assert "Deadline 6 January 2023" in facts
    assert '<a href="/id/org/so-cooperation">SO Coopération</a>' in html
    # the parts are inside the offer's page, not only links to "#salary"
    assert 'id="part-salary"' in html and 'id="part-education"' in html
    # the statements table with sources is still there, after the summary
    assert html.index('id="summary"') < html.index('id="outgoing"')


def test_offer_summary_in_french_with_languages(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/offer/000-lille-oujda?lang=fr", headers=BROWSER).data.decode()
    assert section(html, "kind") == "offre d'emploi"
    facts = section(html, "facts")
    assert "Date limite 2 avril 2023" in facts
    assert "Prise de poste 1er juin 2023" in facts
    assert "Langues" in facts and "Arabe marocain (darija), un plus" in facts
    assert "Employeur Ville de Lille" in facts
    assert "FULL_TIME" not in facts


def test_a_year_stays_a_year(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/partnership/lille-oujda?lang=en", headers=BROWSER).data.decode()
    facts = section(html, "facts")
    assert "Start 2005" in facts and "Signed in 2005" in facts
    assert "2005-01-01" not in facts
    assert "Partners Municipality of Oujda , City of Lille" in facts


@pytest.mark.parametrize(
    ("value", "datatype", "lang", "text"),
    [
        ("2005", "gYear", "fr", "2005"),
        ("2023-02", "gYearMonth", "en", "February 2023"),
        ("2022-11-01", "date", "fr", "1er novembre 2022"),
        ("2022-11-03T10:00:00Z", "dateTime", "en", "3 November 2022"),
    ],
)
def test_readable_dates(value: str, datatype: str, lang: str, text: str) -> None:
    assert readable_date(value, "http://www.w3.org/2001/XMLSchema#" + datatype, lang) == text
