"""The one JSON error shape ``{"error", "status", "detail"}``, pinned for every route family,
the HTML error page for browsers, and unexpected errors as logged 500s (never 400)."""

from __future__ import annotations

import json
import logging
from html.parser import HTMLParser

import pytest

from coopgraph.errors import CoopgraphError, QueryRefused

SHAPE = {"error", "status", "detail"}


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/sparql?query=SELECT", 400, "SPARQL syntax error"),
        ("/sparql?query=LOAD%20%3Chttp%3A%2F%2Fe%2F%3E", 400, "Query refused"),
        ("/sparql?update=CLEAR%20ALL", 403, "Forbidden"),
        ("/sparql?query=ASK%7B%7D&format=png", 406, "Not acceptable"),
        ("/id/org/does-not-exist", 404, "Not found"),
        ("/graph/does-not-exist", 404, "Not found"),
        ("/no/such/route", 404, "Not Found"),
    ],
)
def test_json_error_shape(client, path: str, status: int, error: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = json.loads(response.data)
    # A syntax error adds where and what (line, column, expected…) beside the shape.
    extras = {"engine", "line", "column", "expected", "prefix", "declare"}
    assert SHAPE <= set(body) <= SHAPE | (extras if status == 400 else set())
    assert body["status"] == status
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]


def test_to_dict_is_the_shape() -> None:
    assert QueryRefused("no").to_dict() == {"error": "Query refused", "status": 400,
                                            "detail": "no"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        # the page's own scripts come from files (src=…); a tag without one is injected
        self.tags.append(tag if tag != "script" or not dict(attrs).get("src") else "script src")

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def test_browsers_get_an_html_error_page(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/id/org/<script>x</script>",
                          headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    parser = _Text()
    parser.feed(response.data.decode())
    text = "".join(parser.chunks)
    assert "404" in text and "<script>x</script>" in text  # shown as text…
    assert "script" not in parser.tags  # …never as markup
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


class _BrokenStore:
    def __init__(self, inner, exc: Exception) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.exc = inner, exc

    def query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise self.exc

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyError("k"), ValueError("v")])
def test_unexpected_errors_are_logged_500s(web_settings, project_store, caplog, exc) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.web import create_app

    app = create_app(web_settings, store=_BrokenStore(project_store, exc))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="coopgraph.web"):
        response = app.test_client().get("/sparql?query=ASK%7B%7D")
    assert response.status_code == 500
    body = json.loads(response.data)
    assert set(body) == SHAPE and body["status"] == 500
    assert type(exc).__name__ in body["detail"]
    assert any(r.exc_info and r.exc_info[1] is exc for r in caplog.records)


def test_a_coopgraph_error_from_the_store_keeps_its_status(web_settings, project_store) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.errors import StoreError
    from coopgraph.web import create_app

    app = create_app(web_settings, store=_BrokenStore(project_store, StoreError("disk")))  # type: ignore[arg-type]
    response = app.test_client().get("/sparql?query=ASK%7B%7D")
    assert response.status_code == 500
    assert json.loads(response.data) == {"error": "Store error", "status": 500, "detail": "disk"}
    assert issubclass(StoreError, CoopgraphError)
