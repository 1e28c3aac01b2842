"""Blueprint: the query page (``/``), ``/queries.json``, ``/stats`` and ``/healthz``.

The query page is YASGUI (vendored under ``static/vendor/yasgui``, wired by
``static/query.js``: completion from :mod:`~coopgraph.web.completion`, tabs, paginated
tables, downloads, short shared links that run), and beside it the example gallery from
``queries/**/*.rq`` in the visitor's language, each with its expected answer when the
query's header has one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from coopgraph import results
from coopgraph.errors import BadRequest, CoopgraphError, NotFound
from coopgraph.formats import HTML, JSON, RDF_FORMATS, RESULT_FORMATS, result_format
from coopgraph.i18n import DEFAULT_LANG
from coopgraph.queries import FALLBACK_LANG, CatalogQuery
from coopgraph.vocab import ID, INFERRED_GRAPH, PREFIXES
from coopgraph.web.appstate import TOTALS_FIRST_BUILD_WAIT, current_lang, state
from coopgraph.web.respond import requested
from coopgraph.web.ui_words import page_words

bp = Blueprint("pages", __name__)

#: The query shown when the page opens without ``?query=``.
DEFAULT_QUERY_NAME = "class-counts"

@bp.app_context_processor
def _ui_text() -> dict[str, Any]:
    try:
        lang = current_lang()
    except (RuntimeError, KeyError):
        lang = DEFAULT_LANG

    def lang_url(code: str) -> str:
        """This page in another language, its other parameters kept."""
        args = {**request.args.to_dict(), "lang": code}
        return request.path + "?" + urlencode(args)

    return {"ui_lang": lang, "lang_url": lang_url, **page_words(lang)}


def _default_query(catalog: list[CatalogQuery]) -> str:
    for q in catalog:
        if q.name == DEFAULT_QUERY_NAME:
            return q.body
    if catalog:
        return catalog[0].body
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("cg", "cgid")) + (
        "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 20\n"
    )


def _expected_table(query: CatalogQuery) -> dict[str, Any] | None:
    try:
        expected = query.expected()
    except CoopgraphError:
        return None
    if expected is None:
        return None
    return {"variables": expected.variables, "rows": expected.rows}


def _shared(catalog: list[CatalogQuery], lang: str) -> tuple[str | None, str | None]:
    """The query (and tab name) of a shared link: ``?example=NAME`` or ``?query=TEXT``."""
    name = request.args.get("example")
    if name:
        for q in catalog:
            if q.name == name:
                return q.text, q.title(lang)
        raise NotFound(f"no example query named {name!r}")
    return request.args.get("query") or None, None


@bp.route("/")
def index() -> Response:
    """The query page (YASGUI). A shared link, ``?example=NAME`` or ``?query=TEXT``, opens
    the query in a new tab and runs it.

    :raises NotFound: ``?example=`` names no query of the gallery.
    """
    lang = current_lang()
    catalog = state().catalog
    shared_query, shared_name = _shared(catalog, lang)
    gallery = [
        {"query": q, "title": q.title(lang), "description": q.description(lang),
         "expected": _expected_table(q),
         # a gallery text not written in the visitor's language says which one it is in
         "text_lang": lang if lang in q.localised.get("title", {}) else FALLBACK_LANG}
        for q in catalog
    ]
    page = render_template(
        "query.html",
        lang=lang,
        default_query=_default_query(catalog),
        shared_query=shared_query,
        shared_name=shared_name,
        gallery=gallery,
        result_formats=RESULT_FORMATS,
        rdf_formats=RDF_FORMATS,
        id_base=str(ID),
        limit=state().settings.result_limit,
    )
    return Response(page, mimetype="text/html")


@bp.route("/queries.json")
def queries_json() -> Response:
    """The gallery as JSON (titles in ``?lang=`` / Accept-Language), with expected answers
    as SPARQL JSON results."""
    lang = current_lang()
    items = []
    for q in state().catalog:
        item: dict[str, Any] = q.to_dict(lang)
        try:
            expected = q.expected()
        except CoopgraphError as exc:  # a missing or broken .expected.tsv: say so
            item["expected_error"] = exc.message
            expected = None
        if expected is not None:
            item["expected"] = json.loads(results.serialize(expected, result_format("json")))
        items.append(item)
    return jsonify({"lang": lang, "queries": items})


@bp.route("/healthz")
def healthz() -> Response:
    """Liveness: answers without touching the store."""
    return jsonify({"status": "ok"})


#: Named graphs listed per page of ``/stats`` (``?limit=``, at most STATS_MAX_LIMIT).
STATS_PAGE_GRAPHS = 100
STATS_MAX_LIMIT = 10_000
#: Seconds ``/stats`` waits for the first count of the graphs before answering 503.


def _count_arg(name: str, default: int, highest: int) -> int:
    raw = request.args.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: {raw!r} is not a whole number") from None
    if not 0 <= value <= highest:
        raise BadRequest(f"{name}: expected 0 to {highest}")
    return value


@bp.route("/stats")
def stats() -> Response:
    """Totals by kind of graph, one page of graphs (``?offset=``, ``?limit=``), queries
    served, errors, timeouts, uptime: JSON or HTML. The sizes come from the maintained
    :class:`~coopgraph.summary.GraphTotals` view (recounted after each write, in the
    background; ``stale`` says a recount is under way)."""
    app_state = state()
    offset = _count_arg("offset", 0, 10**9)
    limit = _count_arg("limit", STATS_PAGE_GRAPHS, STATS_MAX_LIMIT)
    built = app_state.totals.get(wait=TOTALS_FIRST_BUILD_WAIT)
    totals = built.value
    following = offset + limit < len(totals.sizes)
    body = {
        "triples": totals.triples,
        "inferred": totals.sizes.get(INFERRED_GRAPH, 0),
        "graph_count": len(totals.sizes),
        "graph_kinds": totals.by_kind,
        "offset": offset,
        "limit": limit,
        "next": url_for("pages.stats", offset=offset + limit, limit=limit) if following else None,
        "graphs": totals.page(offset, limit),
        "generation": built.generation,
        "stale": app_state.totals.stale,
        **app_state.stats.snapshot(),
    }
    fmt = requested((JSON, HTML))
    if fmt is HTML:
        return Response(
            render_template("stats.html", lang=current_lang(), stats=body),
            mimetype="text/html",
        )
    return jsonify(body)
