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
from coopgraph.formats import HTML, RDF_FORMATS, RESULT_FORMATS, Format
from coopgraph.queries import CatalogQuery
from coopgraph.vocab import ID, INFERRED_GRAPH, PREFIXES
from coopgraph.web import TOTALS_FIRST_BUILD_WAIT, current_lang, state
from coopgraph.web.negotiate import choose

bp = Blueprint("pages", __name__)

#: The query shown when the page opens without ``?query=``.
DEFAULT_QUERY_NAME = "class-counts"
_JSON = Format("json", ("application/json",), ("json",), "JSON")

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "query": "Requête",
        "run": "Exécuter",
        "examples": "Exemples",
        "results": "Résultats",
        "share": "Lien à partager",
        "download": "Télécharger",
        "truncated": "Résultat tronqué : seules les {limit} premières lignes sont montrées.",
        "expected": "Réponse attendue",
        "stats": "Statistiques",
        "service": "Description du service",
        "graphs": "Graphes nommés",
        "triples": "triplets",
        "types": "Types",
        "properties": "Propriétés",
        "incoming": "Liens entrants",
        "why": "Pourquoi ?",
        "asserted": "affirmé",
        "inferred": "inféré",
        "source": "document source",
        "graph": "Graphe",
        "other_formats": "Autres formats",
        "no_results": "Aucun résultat.",
        "error": "Erreur",
        "running": "Exécution…",
        "rows": "lignes",
        "uptime": "Temps de fonctionnement (s)",
        "queries": "Requêtes servies",
        "errors": "Erreurs",
        "timeouts": "Délais dépassés",
        "network": "Réseau",
        "endpoint": "Point d'accès SPARQL",
        "added_prefixes": "Préfixes connus ajoutés à la requête :",
        "syntax_error": "Erreur de syntaxe SPARQL.",
        "status_400": "Requête incorrecte",
        "status_403": "Interdit",
        "status_404": "Page introuvable",
        "status_405": "Méthode non permise",
        "status_406": "Format non disponible",
        "status_413": "Requête trop volumineuse",
        "status_415": "Type de contenu non accepté",
        "status_500": "Erreur interne",
        "status_503": "Délai dépassé",
        "not_found_detail": "Cette adresse ne correspond à aucune page de coopgraph.",
        "home": "Retour à l'accueil",
        "line": "ligne",
        "editor_help": "Ctrl+Entrée exécute la requête ; Ctrl+Espace complète les préfixes, "
                       "classes et propriétés ; les onglets sont gardés dans ce navigateur.",
        "row_one": "{n} ligne",
        "row_many": "{n} lignes",
    },
    "en": {
        "query": "Query",
        "run": "Run",
        "examples": "Examples",
        "results": "Results",
        "share": "Shareable link",
        "download": "Download",
        "truncated": "Truncated result: only the first {limit} rows are shown.",
        "expected": "Expected answer",
        "stats": "Statistics",
        "service": "Service description",
        "graphs": "Named graphs",
        "triples": "triples",
        "types": "Types",
        "properties": "Properties",
        "incoming": "Incoming links",
        "why": "Why is this here?",
        "asserted": "asserted",
        "inferred": "inferred",
        "source": "source document",
        "graph": "Graph",
        "other_formats": "Other formats",
        "no_results": "No results.",
        "error": "Error",
        "running": "Running…",
        "rows": "rows",
        "uptime": "Uptime (s)",
        "queries": "Queries served",
        "errors": "Errors",
        "timeouts": "Timeouts",
        "network": "Network",
        "endpoint": "SPARQL endpoint",
        "added_prefixes": "Known prefixes added to the query:",
        "syntax_error": "SPARQL syntax error.",
        "status_400": "Bad request",
        "status_403": "Forbidden",
        "status_404": "Page not found",
        "status_405": "Method not allowed",
        "status_406": "Format not available",
        "status_413": "Request too large",
        "status_415": "Content type not accepted",
        "status_500": "Internal error",
        "status_503": "Timed out",
        "not_found_detail": "This address is no page of coopgraph.",
        "home": "Back to the home page",
        "line": "line",
        "editor_help": "Ctrl+Enter runs the query; Ctrl+Space completes prefixes, classes "
                       "and properties; tabs are kept in this browser.",
        "row_one": "{n} row",
        "row_many": "{n} rows",
    },
}


@bp.app_context_processor
def _ui_text() -> dict[str, Any]:
    try:
        lang = current_lang()
    except (RuntimeError, KeyError):
        lang = "fr"
    text = TEXT.get(lang, TEXT["fr"])

    def rows_count(n: int) -> str:
        # French counts 0 and 1 as singular, English only 1.
        one = n in (0, 1) if lang == "fr" else n == 1
        return (text["row_one"] if one else text["row_many"]).format(n=n)

    def lang_url(code: str) -> str:
        """This page in another language, its other parameters kept."""
        args = {**request.args.to_dict(), "lang": code}
        return request.path + "?" + urlencode(args)

    return {"t": text, "ui_lang": lang, "rows_count": rows_count, "lang_url": lang_url}


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
         "expected": _expected_table(q)}
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
            item["expected"] = json.loads(results.to_json(expected))
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
    fmt = choose(request.headers.get("Accept"), [request.args.get("format")], (_JSON, HTML))
    if fmt is HTML:
        return Response(
            render_template("stats.html", lang=current_lang(), stats=body),
            mimetype="text/html",
        )
    return jsonify(body)
