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
from urllib.parse import parse_qsl

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from coopgraph import i18n
from coopgraph.errors import BadRequest, CoopgraphError
from coopgraph.formats import HTML, JSON
from coopgraph.netview import NetworkView, persist_path
from coopgraph.queries import load_catalog
from coopgraph.settings import Settings
from coopgraph.store.base import Store
from coopgraph.summary import graph_totals, patched_totals
from coopgraph.views import View
from coopgraph.web.appstate import (
    LANG_COOKIE,
    SUPPORTED_LANGS,
    AppState,
    Stats,
    current_lang,
    state,
)

log = logging.getLogger("coopgraph.web")

#: Served with every HTML page: our own static JS and CSS only, no inline script. Inline
#: styles are allowed: the vendored YASGUI and DataTables set style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def wants_html() -> bool:
    """Does the client prefer an HTML page to JSON (a browser)?"""
    from coopgraph.web.negotiate import negotiate

    accept = request.headers.get("Accept")
    if not accept:
        return False
    try:
        return negotiate(accept, (JSON, HTML)) is HTML
    except CoopgraphError:
        return False


_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_OUTCOME = {
    False: "Nothing was written: the store is unchanged.",
    True: "The write was applied before this error.",
    None: "Whether the write was applied is unknown: read the entry back to check.",
}


def is_write_request() -> bool:
    """Is this request a write (a write route of ``writes`` or ``imports``)?"""
    endpoint = request.endpoint or ""
    return request.method in _WRITE_METHODS and endpoint.startswith(("writes.", "imports."))


def write_outcome(exc: CoopgraphError, cause: BaseException) -> CoopgraphError:
    """On a write route, ``exc`` saying whether the data changed (``store_changed`` in
    the body and a sentence in ``detail``; issue 16). Only ``entries`` writes, and it marks
    what fails during or after its transaction; anything else failed before it."""
    if is_write_request() and "store_changed" not in exc.details:
        changed = getattr(cause, "store_changed", False)
        exc.details["store_changed"] = changed
        exc.message = f"{exc.message.rstrip('.')}. {_OUTCOME[changed]}"
    return exc


def error_response(exc: CoopgraphError) -> Response:
    """The one error shape: JSON ``{"error", "status", "detail"}`` or an HTML page."""
    body = exc.to_dict()
    if wants_html():
        response = Response(
            render_template(
                "error.html", error=body, lang=current_lang(),
                generic=isinstance(exc, _HTTPError) and exc.generic,
                detail_translated=getattr(exc, "translated", False),
            ),
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


def _page_lang() -> str:
    """:func:`current_lang`, or the default language outside a request."""
    try:
        return current_lang()
    except (RuntimeError, KeyError):
        return i18n.DEFAULT_LANG


def _install_catalogues(app: Flask) -> None:
    """Templates translate with ``_()`` / ``ngettext()`` (Jinja's i18n extension, new
    style: ``%(name)s`` placeholders, autoescaped) in the visitor's language."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations(_page_lang()).gettext(message),
        lambda singular, plural, n: i18n.translations(_page_lang()).ngettext(
            singular, plural, n
        ),
        newstyle=True,
    )


def _handle_coopgraph_error(exc: CoopgraphError) -> Response:
    state().stats.count("errors")
    response = error_response(write_outcome(exc, exc))
    retry = exc.details.get("retry_after")
    if exc.status == 503:  # busy, timeout, memory budget: worth retrying later
        response.headers["Retry-After"] = str(retry or 5)
    return response


class _HTTPError(CoopgraphError):
    def __init__(self, exc: HTTPException) -> None:
        super().__init__(exc.description or exc.name)
        self.status = exc.code or 500
        self.title = exc.name
        #: the framework's own text (a route that does not exist…), not one of ours: the
        #: error page says it in the visitor's language instead
        self.generic = exc.description == type(exc).description


def _handle_http_error(exc: HTTPException) -> Response:
    response = error_response(write_outcome(_HTTPError(exc), exc))
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    log.exception("unexpected error on %s %s", request.method, request.path)
    state().stats.count("errors")
    error = CoopgraphError(f"internal error ({type(exc).__name__}); see the log")
    return error_response(write_outcome(error, exc))


def _check_query_string() -> None:
    """Refuse a query string whose percent-escapes are not UTF-8 (issue 16: werkzeug
    replaced them with U+FFFD and the query ran as other text; a POST body got 400).

    :raises BadRequest: the first undecodable parameter.
    """
    raw = request.query_string
    if b"%" not in raw and raw.isascii():
        return
    try:
        parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the query string is not valid UTF-8 once percent-decoded ({exc.reason}); "
            "encode parameters as UTF-8 before percent-escaping them"
        ) from None


def _start_read_budget() -> None:
    """A read request (anything but a write route) gets ``query_timeout`` in all for its
    store calls, when the store can enforce it (:meth:`IsolatedStore.deadline`)."""
    deadline = getattr(state().store, "deadline", None)
    if deadline is None or is_write_request():
        return
    budget = deadline(state().settings.query_timeout)
    budget.__enter__()
    g.coopgraph_read_budget = budget


def _end_read_budget(exc: BaseException | None) -> None:
    budget = g.pop("coopgraph_read_budget", None)
    if budget is not None:
        budget.__exit__(None, None, None)


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
    _install_catalogues(app)
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
        totals=View(
            "graph totals", store, lambda progress: graph_totals(store),
            update=lambda previous, commits, progress: patched_totals(store, previous, commits),
        ),
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
    app.before_request(_check_query_string)
    app.before_request(_start_read_budget)
    app.teardown_request(_end_read_budget)
    app.after_request(_headers)
    return app
