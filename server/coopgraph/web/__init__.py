"""The web app: ``create_app(settings, store)`` wires blueprints, error handling and
headers; nothing is global and importing this package does no I/O.

Blueprints: :mod:`~coopgraph.web.sparql` (``/sparql``), :mod:`~coopgraph.web.entities`
(``/id/…``, ``/graph/…``, ``/.well-known/void``), :mod:`~coopgraph.web.pages` (``/``,
``/stats``, ``/healthz``), :mod:`~coopgraph.web.writes`,
:mod:`~coopgraph.web.researchers` and :mod:`~coopgraph.web.reference` (``/lookup``,
``/rules``), :mod:`~coopgraph.web.completion` (``/prefixes.json``,
``/completions.json``, ``/labels.json``), :mod:`~coopgraph.web.geo` (``/api/map.json``),
:mod:`~coopgraph.web.upload`
(``/import``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from coopgraph.errors import CoopgraphError
from coopgraph.formats import HTML, Format
from coopgraph.netview import NetworkView, persist_path
from coopgraph.queries import CatalogQuery, load_catalog
from coopgraph.settings import Settings
from coopgraph.store.base import Store
from coopgraph.summary import GraphTotals, graph_totals
from coopgraph.views import View

log = logging.getLogger("coopgraph.web")

#: Served with every HTML page: our own static JS and CSS only, no inline script. Inline
#: styles are allowed: the vendored YASGUI and DataTables set style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_JSON = Format("json", ("application/json",), ("json",), "JSON")


@dataclass
class Stats:
    """Counters shown on ``/stats``; thread-safe."""

    started: float = field(default_factory=time.time)
    queries: int = 0
    errors: int = 0
    timeouts: int = 0
    truncated: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queries": self.queries,
                "errors": self.errors,
                "timeouts": self.timeouts,
                "truncated": self.truncated,
                "uptime_seconds": round(time.time() - self.started, 1),
            }


@dataclass
class AppState:
    """What the views need, kept in ``app.extensions["coopgraph"]``."""

    settings: Settings
    store: Store
    stats: Stats
    catalog: list[CatalogQuery]
    #: the actor network, its metrics and layout: one build per store generation
    network: NetworkView
    #: named graphs' sizes and totals by kind (``/stats``): one build per generation
    totals: View[GraphTotals]


def state() -> AppState:
    """The current app's :class:`AppState`."""
    return current_app.extensions["coopgraph"]  # type: ignore[no-any-return]


def wants_html() -> bool:
    """Does the client prefer an HTML page to JSON (a browser)?"""
    from coopgraph.web.negotiate import negotiate

    accept = request.headers.get("Accept")
    if not accept:
        return False
    try:
        return negotiate(accept, (_JSON, HTML)) is HTML
    except CoopgraphError:
        return False


def error_response(exc: CoopgraphError) -> Response:
    """The one error shape: JSON ``{"error", "status", "detail"}`` or an HTML page."""
    body = exc.to_dict()
    if wants_html():
        response = Response(
            render_template("error.html", error=body, lang=current_lang()),
            status=exc.status,
            mimetype="text/html",
        )
    else:
        response = jsonify(body)
        response.status_code = exc.status
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


#: The cookie that keeps the visitor's language choice across pages and forms.
LANG_COOKIE = "coopgraph_lang"
SUPPORTED_LANGS = ("fr", "en")


def current_lang() -> str:
    """The visitor's language, ``fr`` or ``en``: ``?lang=``, then the language cookie,
    then Accept-Language, then the configured default."""
    supported = SUPPORTED_LANGS
    asked = request.args.get("lang", "").lower()
    if asked in supported:
        return asked
    kept = request.cookies.get(LANG_COOKIE, "").lower()
    if kept in supported:
        return kept
    best = request.accept_languages.best_match(supported)
    if best:
        return best
    default = state().settings.lang
    return default if default in supported else "fr"


def _handle_coopgraph_error(exc: CoopgraphError) -> Response:
    state().stats.count("errors")
    return error_response(exc)


class _HTTPError(CoopgraphError):
    def __init__(self, exc: HTTPException) -> None:
        super().__init__(exc.description or exc.name)
        self.status = exc.code or 500
        self.title = exc.name


def _handle_http_error(exc: HTTPException) -> Response:
    response = error_response(_HTTPError(exc))
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    log.exception("unexpected error on %s %s", request.method, request.path)
    state().stats.count("errors")
    return error_response(CoopgraphError(f"internal error ({type(exc).__name__}); see the log"))


def _headers(response: Response) -> Response:
    headers = response.headers
    asked = request.args.get("lang", "").lower()
    if asked in SUPPORTED_LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("Referrer-Policy", "same-origin")
    # Every route is a public read or token-checked write: any origin may read answers.
    headers.setdefault("Access-Control-Allow-Origin", "*")
    headers.setdefault(
        "Access-Control-Expose-Headers",
        "X-Coopgraph-Truncated, X-Coopgraph-Result-Limit, Location, Content-Disposition, "
        "X-Coopgraph-Generation, X-Coopgraph-Stale, Retry-After",
    )
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = headers.get("Allow", "GET, HEAD, POST, OPTIONS")
        headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Accept, Content-Type, Authorization"
        )
        headers["Access-Control-Max-Age"] = "86400"
    return response


def create_app(settings: Settings, store: Store | None = None) -> Flask:
    """Build the web app.

    :param settings: the configuration.
    :param store: the store to serve; default: ``open_store(settings.store)`` (not loaded).
    :raises StartupError: the store cannot be opened.
    :raises ParseError: a query of the catalog has a malformed header.
    """
    from coopgraph.web import (
        completion,
        entities,
        geo,
        imports,
        ontology,
        pages,
        reference,
        researchers,
        sparql,
        upload,
        writes,
    )

    if store is None:
        from coopgraph.store import open_store

        store = open_store(settings.store, update_url=settings.update_url)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["coopgraph"] = AppState(
        settings=settings,
        store=store,
        stats=Stats(),
        catalog=load_catalog(settings.queries_dir),
        network=NetworkView(
            store,
            queries_dir=settings.queries_dir / "network",
            persist=persist_path(store),
            progress=lambda message: log.warning("%s", message),
        ),
        totals=View("graph totals", store, lambda progress: graph_totals(store)),
    )
    app.extensions["coopgraph.store"] = store
    app.extensions["coopgraph.settings"] = settings
    for blueprint in (
        sparql.bp, entities.bp, ontology.bp, pages.bp, writes.bp, imports.bp, researchers.bp,
        reference.bp, completion.bp, geo.bp, upload.bp,
    ):
        app.register_blueprint(blueprint)
    app.extensions["coopgraph"].network.preparers.append(researchers.prepare_answers(app))
    app.register_error_handler(CoopgraphError, _handle_coopgraph_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
    app.after_request(_headers)
    return app
