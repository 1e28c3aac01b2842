"""Blueprint for researchers: the network picture, the map, rankings and exports.

Routes (all read-only, all take ``?asOf=YYYY-MM-DD`` or ``?between=START/END``):

* ``/network`` — interactive network (``static/network.js``: sigma.js + graphology +
  ForceAtlas2, vendored): search, hover, focus (``?focus=&depth=``) and top-N (``?limit=``);
* ``/map`` — places, partnership lines and offers on a Leaflet map over a Natural Earth
  base map (``static/map.js``, data from ``/api/map.json``; nothing fetched from outside);
* ``/ranking`` (HTML) and ``/ranking.json`` — actors ranked by ``?by=degree``,
  ``weighted_degree`` or ``betweenness``;
* ``/api/network.json`` — the network the two pictures draw (nodes, links, tie types);
  ``?focus=IRI&depth=N`` (a neighbourhood), ``?limit=N&by=METRIC`` (the N most
  important nodes) ask for a readable part of it;
* ``/export/network.graphml``, ``.gexf``, ``.zip`` (nodes.csv + edges.csv), ``.jsonld``;
* ``/context/network.jsonld`` — the JSON-LD context the JSON-LD export references;
* ``/changes`` (Atom, or JSON when asked by ``Accept``), ``/changes.atom``,
  ``/changes.json`` — the change feed from the provenance log, ``?since=`` ISO date-time,
  ``?before=`` the activity a page of older changes starts after (its ``next`` link),
  ``?limit=`` (default 100).

Every view reads the app's maintained network (:class:`coopgraph.netview.NetworkView`:
computed once per store generation, never inside a request) and says which build
answered: ``X-Coopgraph-Generation`` (the store generation it reflects) and
``X-Coopgraph-Stale: true`` while a newer one is being computed after a write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

import networkx as nx
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from coopgraph import exports, netview, network
from coopgraph.answers import AnswerFile
from coopgraph.errors import BadRequest, NotFound
from coopgraph.formats import EXPORT_FORMATS, FEED_FORMATS, HTML
from coopgraph.netview import Filters, NetworkSnapshot
from coopgraph.views import Built, ViewNotReady
from coopgraph.vocab import ID
from coopgraph.web.appstate import current_lang, state
from coopgraph.web.respond import preferred_by_accept

bp = Blueprint(
    "researchers",
    __name__,
    template_folder="templates",
    # own static route, so the pages work whatever the app's static folder is
    static_folder="static",
    static_url_path="/static/researchers",
)

#: Metrics the ranking can sort by.
RANKING_METRICS = ("degree", "weighted_degree", "betweenness")
#: Seconds a request waits for the network's first build before answering 503.
FIRST_BUILD_WAIT = 30.0
#: Answers rendered with each new build before it is served (the heavy ones at scale).
PREPARED_PATHS = (
    "/api/network.json",
    "/export/network.graphml",
    "/export/network.gexf",
    "/export/network.zip",
    "/export/network.jsonld",
    "/ranking.json",
    "/ranking.json?limit=1",
    "/ranking.json?limit=1&by=betweenness",
)
_CONTEXT_PLACEHOLDER = "urn:coopgraph:network-context"


def prepare_answers(app: Any) -> Any:
    """A preparer for the app's network view: renders :data:`PREPARED_PATHS` (through the
    app itself, so exactly as a request would) while the previous build still answers."""

    def prepare(built: Built[NetworkSnapshot]) -> None:
        view = app.extensions["coopgraph"].network
        built.value.prepare_ranks()  # kept in this process: pages read them

        def render_all() -> None:  # in a forked child (see NetworkView.render_answers)
            client = app.test_client()
            for path in PREPARED_PATHS:
                client.get(path).close()

        view.render_answers(built, render_all)

    return prepare


def answer_response(
    body: bytes | AnswerFile, mimetype: str, replace: tuple[bytes, bytes] | None = None
) -> Response:
    """A rendered answer: bytes from memory, or a file streamed as it is (through the
    server's ``wsgi.file_wrapper``: waitress sends it without copying it through Python);
    ``replace``: (old, new) once, near the start (the JSON-LD context URL)."""
    if isinstance(body, bytes):
        return Response(body if replace is None else body.replace(*replace, 1),
                        mimetype=mimetype)
    try:
        f = body.path.open("rb")
    except FileNotFoundError:  # its build was replaced meanwhile and its files removed
        raise ViewNotReady("the network changed while answering; retry", retry_after=1) from None
    wrapper = request.environ.get("wsgi.file_wrapper")
    if replace is None and wrapper is not None:
        resp = Response(wrapper(f, 1 << 20), mimetype=mimetype, direct_passthrough=True)
    else:
        resp = Response(_streamed(f, replace), mimetype=mimetype)
    if replace is None:
        resp.content_length = body.size
    return resp


def _streamed(f: BinaryIO, replace: tuple[bytes, bytes] | None) -> Iterator[bytes]:
    """The file's bytes by the megabyte, ``replace`` applied once in the first one (the
    file is closed once read to its end or when the response is dropped)."""
    with f:
        first = f.read(1 << 20)
        yield first if replace is None else first.replace(*replace, 1)
        while chunk := f.read(1 << 20):
            yield chunk


def period_args() -> dict[str, Any]:
    """``as_of``/``between`` from ``?asOf=`` / ``?between=START/END``.

    :raises BadRequest: a malformed date, or both parameters.
    """
    as_of = request.args.get("asOf", "").strip()
    between = request.args.get("between", "").strip()
    out: dict[str, Any] = {}
    if as_of:
        out["as_of"] = network.parse_date(as_of)
    if between:
        start, sep, end = between.partition("/")
        if not sep:
            raise BadRequest("between: expected START/END, e.g. 2020-01-01/2022-12-31")
        out["between"] = (network.parse_date(start), network.parse_date(end, end=True))
    if len(out) > 1:
        raise BadRequest("give either asOf or between, not both")
    return out


def current_snapshot() -> tuple[NetworkSnapshot, Built[NetworkSnapshot]]:
    """The network for this request, narrowed by the period and ``?types=a,b``, and the
    build it comes from (never computed here: see :class:`~coopgraph.netview.NetworkView`).

    :raises BadRequest: a malformed filter.
    :raises ViewNotReady: the first build is not finished (503).
    """
    types = tuple(sorted({t.strip() for t in request.args.get("types", "").split(",")} - {""}))
    network.check_types(types)
    filters = Filters(types=types, **period_args())
    return state().network.snapshot(filters, wait=FIRST_BUILD_WAIT)


def with_build(resp: Response, built: Built[NetworkSnapshot]) -> Response:
    """Say which build answered and whether a newer one is on its way: a write not in
    it yet, a figure of it still being recomputed (``X-Coopgraph-Pending: betweenness``),
    or its answer not rendered yet (the previous build's answered)."""
    view = state().network
    resp.headers["X-Coopgraph-Generation"] = str(built.generation)
    stale = view.stale or built is not view.latest or bool(built.value.pending)
    resp.headers["X-Coopgraph-Stale"] = "true" if stale else "false"
    if built.value.pending:
        resp.headers["X-Coopgraph-Pending"] = ",".join(built.value.pending)
    return resp


def _int_arg(name: str, default: Any = None) -> Any:
    """``?name=`` as an int, ``default`` when absent.

    :raises BadRequest: not a whole number.
    """
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name}: expected a whole number, got {raw!r}") from None


def entity_href(iri: str | None) -> str | None:
    """The local entity page of a ``cgid:`` IRI (``/id/org/ville-de-lille``), else None."""
    if not iri or not iri.startswith(str(ID)):
        return None
    return request.script_root + "/id/" + iri[len(ID):]


def network_json(
    snapshot: NetworkSnapshot, built: Built[NetworkSnapshot], graph: nx.MultiGraph,
    selection: dict[str, Any],
) -> dict[str, Any]:
    """What /api/network.json returns: nodes (with metrics, layout and page links), links,
    tie types, and which part and build of the network they are (see the README)."""
    metrics, positions = snapshot.metrics, snapshot.layout
    nodes = []
    for n, d in graph.nodes(data=True):
        node = {k: d[k] for k in ("label", "label_fr", "label_en", "kind", "category",
                                  "lat", "long", "location") if d.get(k) is not None}
        node.update(id=n, href=entity_href(n), **metrics[n].to_dict())
        node["x"], node["y"] = positions.get(n, (0.0, 0.0))
        if d.get("location"):
            node["location_href"] = entity_href(d["location"])
        nodes.append(node)
    links = []
    for a, b, key, d in graph.edges(keys=True, data=True):
        link = {k: d[k] for k in ("type", "start", "end", "via", "via_label") if d.get(k)}
        link.update(id=key, source=d.get("source", a), target=d.get("target", b),
                    sources=list(d.get("sources", [])), via_href=entity_href(d.get("via")))
        links.append(link)
    args = period_args()
    return {
        "asOf": args["as_of"].isoformat() if "as_of" in args else None,
        "between": [x.isoformat() for x in args["between"]] if "between" in args else None,
        "types": [{"name": t, **network.TIE_LABELS[t]} for t in network.TIE_TYPES],
        **selection,
        "total": {"nodes": snapshot.graph.number_of_nodes(),
                  "links": snapshot.graph.number_of_edges()},
        "truncated": graph.number_of_nodes() < snapshot.graph.number_of_nodes(),
        "generation": built.generation,
        "builtAt": _stamp(built.built_at),
        "betweenness": snapshot.betweenness,
        "pending": list(built.value.pending),
        "nodes": nodes,
        "links": links,
    }


def _stamp(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )


def _page_args() -> dict[str, Any]:
    """Query parameters the pages pass on to their data and export links."""
    return {k: v for k, v in request.args.items() if k in ("asOf", "between", "types") and v}


def _lang() -> str:
    return current_lang()


def _exports_links() -> list[dict[str, str]]:
    return [
        {"label": f.label, "href": url_for("researchers.export", ext=f.extension, **_page_args())}
        for f in EXPORT_FORMATS
    ]


def _with_link(resp: Response, href: str, media_type: str) -> Response:
    resp.headers["Link"] = f'<{href}>; rel="alternate"; type="{media_type}"'
    return resp


@bp.get("/api/network.json")
def api_network() -> Response:
    """The network, or the part ``focus``/``depth``/``limit``/``by`` ask for (rendered once
    per build and arguments)."""
    snapshot, built = current_snapshot()
    focus = request.args.get("focus", "").strip() or None
    depth = _int_arg("depth")
    limit = _int_arg("limit")
    by = request.args.get("by", "degree")
    if by not in RANKING_METRICS:
        raise BadRequest(f"by: expected one of {', '.join(RANKING_METRICS)}")
    if focus is not None:
        focus = snapshot.resolve(focus)
    selection = {"focus": focus, "depth": (1 if depth is None else depth) if focus else None,
                 "limit": limit, "by": by}

    def render() -> bytes:
        part = netview.select(snapshot, focus=focus, depth=selection["depth"] or 0,
                              limit=limit, by=by)
        body = network_json(snapshot, built, part, selection)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    key = ("json", request.script_root, _page_key(), focus, selection["depth"], limit, by)
    whole = focus is None and limit is None  # 30 MB at 1M triples
    body, source = state().network.rendered(built, key, render, heavy=whole)
    return with_build(answer_response(body, "application/json"), source)


def _page_key() -> tuple[tuple[str, str], ...]:
    """The period and type arguments, normalised, for the rendered-answer caches."""
    return tuple(sorted(_page_args().items()))


#: Actors the network page shows at first (the best connected); ``?limit=0``: all.
NETWORK_PAGE_LIMIT = 200


@bp.get("/network")
def network_page() -> Response:
    """The network (``static/network.js``, sigma.js): ``?focus=IRI&depth=N`` shows one
    actor's neighbourhood, ``?limit=N`` the N best connected, ``?hide=a,b`` hides tie types.

    :raises BadRequest: a depth or limit that is not a whole number, or a bad period.
    """
    return _network_view_page(
        "network.html",
        focus=request.args.get("focus", ""),
        depth=_int_arg("depth", 1),
        limit=_int_arg("limit", NETWORK_PAGE_LIMIT),
        types=[{"name": t, **network.TIE_LABELS[t]} for t in network.TIE_TYPES],
    )


@bp.get("/map")
def map_page() -> Response:
    return _network_view_page("map.html", map_url=url_for("geo.api_map", **_page_args()))


def _network_view_page(template: str, **context: Any) -> Response:
    """A page drawn from ``/api/network.json`` with the request's arguments (network, map),
    linking that JSON as its machine-readable twin.

    :raises BadRequest: a bad period (a 400 page now, not a 200 whose script fails).
    """
    period_args()
    data_url = url_for("researchers.api_network", **_page_args())
    html = render_template(
        template,
        lang=_lang(),
        data_url=data_url,
        as_of=request.args.get("asOf", ""),
        exports=_exports_links(),
        **context,
    )
    return _with_link(Response(html, mimetype=HTML.media_type), data_url, "application/json")


def _ranking_args(default_limit: int | None = None) -> tuple[str, list[str], int, int | None]:
    """The ranking asked for: ``?by``, ``?kind``, ``?offset``, ``?limit``, checked.

    :raises BadRequest: an unknown metric or kind, a limit under 1, a negative offset.
    """
    by = request.args.get("by", "degree")
    if by not in RANKING_METRICS:
        raise BadRequest(f"by: expected one of {', '.join(RANKING_METRICS)}")
    kinds = [k for k in request.args.get("kind", "organisation").split(",") if k]
    unknown = set(kinds) - set(network.NODE_KINDS)
    if unknown:
        raise BadRequest(f"kind: unknown {', '.join(sorted(unknown))}")
    limit = _int_arg("limit") or default_limit
    offset = _int_arg("offset") or 0
    if (limit is not None and limit < 1) or offset < 0:
        raise BadRequest("limit: expected a positive number; offset: zero or more")
    return by, kinds, offset, limit


def _ranking_data(
    snapshot: NetworkSnapshot, built: Built[Any],
    ranking: tuple[str, list[str], int, int | None],
) -> dict[str, Any]:
    """The ranking rows of ``snapshot`` that ``ranking`` (:func:`_ranking_args`) asks for."""
    by, kinds, offset, limit = ranking
    total, rows = snapshot.page(by, tuple(kinds), offset, limit)
    for row in rows:
        row["href"] = entity_href(row["iri"])
    args = period_args()
    return {
        "by": by,
        "kinds": kinds,
        "asOf": args["as_of"].isoformat() if "as_of" in args else None,
        "total": total,
        "offset": offset,
        "limit": limit,
        "generation": built.generation,
        "betweenness": snapshot.betweenness,
        "rows": rows,
    }


@bp.get("/ranking.json")
def ranking_json() -> Response:
    """The ranking's rows as JSON, rendered once per build and arguments like the
    network's answers (the whole ranking, 15,000 rows at 1M triples, is prepared with
    each build: :data:`PREPARED_PATHS`)."""
    ranking = _ranking_args()
    snapshot, built = current_snapshot()

    def render() -> bytes:
        return current_app.json.dumps(_ranking_data(snapshot, built, ranking)).encode("utf-8")

    by, kinds, offset, limit = ranking
    key = ("ranking", request.script_root, _page_key(), by, tuple(kinds), offset, limit)
    body, source = state().network.rendered(built, key, render, heavy=limit is None)
    return with_build(answer_response(body, "application/json"), source)


#: Rows the HTML ranking shows per page (``?limit=`` changes it; the JSON has them all).
RANKING_PAGE_ROWS = 200


@bp.get("/ranking")
def ranking_page() -> Response:
    ranking = _ranking_args(default_limit=RANKING_PAGE_ROWS)
    snapshot, built = current_snapshot()
    data = _ranking_data(snapshot, built, ranking)
    params = {**_page_args(), "by": data["by"]}
    json_url = url_for("researchers.ranking_json", **params)
    html = render_template(
        "ranking.html",
        lang=_lang(),
        data=data,
        metrics=RANKING_METRICS,
        json_url=json_url,
        as_of=request.args.get("asOf", ""),
        page_args=_page_args(),
    )
    resp = _with_link(Response(html, mimetype=HTML.media_type), json_url, "application/json")
    return with_build(resp, built)


@bp.get("/export/network.<ext>")
def export(ext: str) -> Response:
    """One export file; 404 for an extension not in formats.EXPORT_FORMATS."""
    fmt = next((f for f in EXPORT_FORMATS if ext == f.extension), None)
    if fmt is None:
        raise NotFound(
            f"no export network.{ext}; try " + ", ".join("network." + f.extension
                                                      for f in EXPORT_FORMATS)
        )
    snapshot, built = current_snapshot()
    options: dict[str, Any] = {}
    if fmt.name == "jsonld":  # rendered once for every host, the context URL put in after
        options["context"] = _CONTEXT_PLACEHOLDER
    key = ("export", fmt.name, _page_key())
    body, source = state().network.rendered(
        built, key, lambda: exports.export(snapshot.graph, fmt, **options), heavy=True
    )
    replace = None
    if fmt.name == "jsonld":
        here = url_for("researchers.network_context", _external=True)
        replace = (json.dumps(_CONTEXT_PLACEHOLDER).encode(), json.dumps(here).encode())
    stamp = period_args().get("as_of")
    name = f"coopgraph-network{'-' + stamp.isoformat() if isinstance(stamp, date) else ''}"
    resp = answer_response(body, fmt.media_type, replace)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt.extension}"'
    return with_build(resp, source)


@bp.get("/context/network.jsonld")
def network_context() -> Response:
    resp = jsonify(exports.network_context())
    resp.mimetype = "application/ld+json"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _changes_args() -> dict[str, Any]:
    from coopgraph.changes import parse_since

    since = request.args.get("since", "").strip()
    raw_limit = request.args.get("limit", "100")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise BadRequest(f"limit: {raw_limit!r} is not a number") from None
    before = request.args.get("before", "").strip() or None
    return {"since": parse_since(since) if since else None, "limit": limit, "before": before}


@bp.get("/changes")
@bp.get("/changes.<ext>")
def changes_feed(ext: str | None = None) -> Response:
    """The change feed: Atom by default, JSON for ``.json`` or ``Accept: application/json``.

    :raises NotFound: an extension other than ``atom`` or ``json``.
    """
    from coopgraph.changes import feed_atom, feed_json, read_page

    if ext is None:
        ext = preferred_by_accept(FEED_FORMATS).extension
    fmt = next((f for f in FEED_FORMATS if f.extension == ext), None)
    if fmt is None:
        raise NotFound(f"no feed changes.{ext}; try changes.atom or changes.json")
    args = _changes_args()
    page = read_page(state().store, **args)
    params = {k: v for k, v in request.args.items() if k in ("since", "limit", "before") and v}

    def url(ext: str, **changed: str) -> str:
        return url_for("researchers.changes_feed", ext=ext, _external=True, **(params | changed))

    json_url = url("json")
    if fmt.name == "json":
        next_url = url("json", before=page.older) if page.older else None
        resp = jsonify(feed_json(page.changes, since=args["since"], next_url=next_url))
    else:
        next_url = url("atom", before=page.older) if page.older else None
        body = feed_atom(page.changes, self_url=url("atom"), json_url=json_url,
                         next_url=next_url, lang=_lang())
        resp = Response(body, mimetype=fmt.media_type)
    resp.headers["Vary"] = "Accept"
    return resp
