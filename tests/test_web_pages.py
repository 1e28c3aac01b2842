"""The query page, the example gallery, /queries.json, /stats and /healthz."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from coopgraph.queries import load_catalog
from coopgraph.settings import Settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class Doc(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = ""
        self.textarea = ""
        self._stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        self.elements.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1] == "script":
            self.inline_script += data.strip()
        if self._stack and self._stack[-1] == "textarea":
            self.textarea += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements
                if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def test_query_page_gallery_in_french_and_english(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    catalog = load_catalog(settings.queries_dir)
    assert catalog, "the example gallery is empty"
    for lang in ("fr", "en"):
        response = client.get(f"/?lang={lang}", headers=BROWSER)
        assert response.status_code == 200
        html = response.data.decode()
        doc = Doc(html)
        buttons = doc.find("button", **{"class": "cg-load-example"})
        assert len(buttons) == len(catalog)
        assert [b["data-query"] for b in buttons] == [q.text for q in catalog]
        for q in catalog:
            assert q.title(lang) in html.replace("&#39;", "'").replace("&#34;", '"')
    by_header = client.get("/", headers={**BROWSER, "Accept-Language": "en-GB,en;q=0.8"})
    assert catalog[0].title("en") in by_header.data.decode().replace("&#39;", "'")


def test_gallery_entries_carry_their_expected_answer(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/?lang=en", headers=BROWSER).data.decode()
    doc = Doc(html)
    with_expect = [q for q in load_catalog(settings.queries_dir) if q.expect != "none"]
    assert with_expect
    items = {a["data-name"] for a in doc.find("li") if a.get("data-name")}
    assert {q.name for q in with_expect} <= items
    assert len(doc.find("details", **{"class": "cg-expected"})) == len(with_expect)
    listing = json.loads(client.get("/queries.json?lang=en").data)
    assert listing["lang"] == "en"
    by_name = {q["name"]: q for q in listing["queries"]}
    for q in with_expect:
        expected = q.expected()
        assert expected is not None
        entry = by_name[q.name]
        assert entry["expect"] == q.expect
        assert entry["expected"]["head"]["vars"] == expected.variables
        assert len(entry["expected"]["results"]["bindings"]) == len(expected)


def test_shared_link_opens_the_query(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """``?query=`` and ``?example=`` reach the page as data (the script opens and runs them
    in a new tab; the browser tests check that), never as markup."""
    query = "SELECT ?x WHERE { ?x ?y '</textarea><script>alert(1)</script>' }"
    response = client.get("/", query_string={"query": query}, headers=BROWSER)
    doc = Doc(response.data.decode())
    assert doc.find("div", id="query-page")[0]["data-shared-query"] == query
    assert doc.textarea.strip() == query  # the form used without JavaScript
    assert doc.inline_script == ""
    formats = {a["data-format"] for a in doc.find("a") if a.get("data-format")}
    assert {"json", "xml", "csv", "tsv", "turtle", "jsonld", "rdfxml", "ntriples"} <= formats
    example = load_catalog(settings.queries_dir)[0]
    page = Doc(client.get("/", query_string={"example": example.name}, headers=BROWSER)
               .data.decode())
    assert page.find("div", id="query-page")[0]["data-shared-query"] == example.text
    missing = client.get("/?example=no-such-query", headers=BROWSER)
    assert missing.status_code == 404
    assert "no-such-query" in missing.data.decode()


def test_pages_load_only_our_static_files(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/stats", "/sparql", "/id/org/ville-de-lille", "/graph/seed/000"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert script_src.strip() == "script-src 'self'"  # no inline or foreign script
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        doc = Doc(response.data.decode())
        assert doc.inline_script == "", path
        assets = [a["src"] for a in doc.find("script")] + [
            a["href"] for a in doc.find("link", rel="stylesheet")]
        for asset in assets:
            assert asset and asset.startswith("/static/"), asset
            with client.get(asset) as static:
                assert static.status_code == 200
        assert not any("style" in a for _, a in doc.elements), path


def test_static_script_exists_and_reads_the_page_data(client) -> None:  # type: ignore[no-untyped-def]
    with client.get("/static/query.js") as js:
        assert js.status_code == 200
        assert js.mimetype in ("text/javascript", "application/javascript")
        source = js.data.decode()
    assert "X-Coopgraph-Truncated" in source and "innerHTML" not in source


def test_truncation_notice_text(client, web_settings) -> None:  # type: ignore[no-untyped-def]
    doc = Doc(client.get("/?lang=en", headers=BROWSER).data.decode())
    page = doc.find("div", id="query-page")[0]
    assert page["data-limit"] == str(web_settings.result_limit)
    html = client.get("/?lang=en", headers=BROWSER).data.decode()
    assert f"only the first {web_settings.result_limit} rows are shown" in html
    assert page["data-id-base"] == "https://w3id.org/coopgraph/id/"
    assert page["data-id-route"] == "/id/"


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_stats_counts_queries_errors_and_graphs(client, project_store) -> None:  # type: ignore[no-untyped-def]
    client.get("/sparql?query=ASK%7B%7D")
    client.get("/sparql?query=ASK%7B%7D")
    client.get("/sparql?query=ASK%7B")
    stats = client.get("/stats").get_json()
    assert stats["queries"] == 2
    assert stats["errors"] == 1
    assert stats["timeouts"] == 0
    assert stats["uptime_seconds"] >= 0
    assert stats["graphs"] == project_store.graph_sizes()
    assert stats["triples"] == sum(project_store.graph_sizes().values())
    html = client.get("/stats", headers=BROWSER)
    assert html.mimetype == "text/html"
    assert Doc(html.data.decode()).find("dd", id="stat-queries")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_html_lang_attribute(client, lang: str) -> None:  # type: ignore[no-untyped-def]
    doc = Doc(client.get(f"/?lang={lang}", headers=BROWSER).data.decode())
    assert doc.find("html")[0]["lang"] == lang
