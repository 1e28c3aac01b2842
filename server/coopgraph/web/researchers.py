"""Blueprint for researchers: the network picture, the map, rankings and exports.

Routes (all read-only, all take ``?asOf=YYYY-MM-DD`` or ``?between=START/END``):

* ``/network`` — interactive network (``static/network.js``: sigma.js + graphology +
  ForceAtlas2, vendored): search, hover, focus (``?focus=&depth=``) and top-N (``?limit=``);
* ``/map`` — places, partnership lines and offers on a Leaflet map over a Natural Earth
  base map (``static/map.js``, data from ``/api/map.json``; nothing fetched from outside);
* ``/ranking`` (HTML) and ``/ranking.json`` — actors ranked by ``?by=degree``,
  ``weighted_degree`` or ``betweenness``;
* ``/api/network.json`` — the network the two pictures draw (nodes, links, tie types);
* ``/export/network.graphml``, ``.gexf``, ``.zip`` (nodes.csv + edges.csv), ``.jsonld``;
* ``/context/network.jsonld`` — the JSON-LD context the JSON-LD export references;
* ``/changes`` (Atom, or JSON when asked by ``Accept``), ``/changes.atom``,
  ``/changes.json`` — the change feed from the provenance log, ``?since=`` ISO date-time,
  ``?limit=`` (default 100).

Every view builds its data once with :mod:`coopgraph.network`, then renders it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import networkx as nx
from flask import Blueprint, Response, jsonify, render_template, request, url_for

from coopgraph import exports, network
from coopgraph.errors import BadRequest, NotFound
from coopgraph.formats import EXPORT_FORMATS, FEED_FORMATS, HTML
from coopgraph.store.base import Store
from coopgraph.vocab import ID
from coopgraph.web import current_lang, state

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


def get_store() -> Store:
    """The app's store."""
    return state().store


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


def current_graph() -> nx.MultiGraph:
    """The network for this request, filtered by the period and ``?types=a,b``."""
    queries_dir = state().settings.queries_dir / "network"
    graph = network.build_graph(get_store(), queries_dir=queries_dir, **period_args())
    types = [t for t in request.args.get("types", "").split(",") if t.strip()]
    return network.filter_types(graph, types) if types else graph


def entity_href(iri: str | None) -> str | None:
    """The local entity page of a ``cgid:`` IRI (``/id/org/ville-de-lille``), else None."""
    if not iri or not iri.startswith(str(ID)):
        return None
    return request.script_root + "/id/" + iri[len(ID):]


def network_json(graph: nx.MultiGraph) -> dict[str, Any]:
    """What /api/network.json returns: nodes (with metrics and page links), links, types."""
    metrics = network.compute_metrics(graph)
    nodes = []
    for n, d in graph.nodes(data=True):
        node = {k: d[k] for k in ("label", "label_fr", "label_en", "kind", "category",
                                  "lat", "long", "location") if d.get(k) is not None}
        node.update(id=n, href=entity_href(n), **metrics[n].to_dict())
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
        "nodes": nodes,
        "links": links,
    }


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
    return jsonify(network_json(current_graph()))


#: Actors the network page shows at first (the best connected); ``?limit=0``: all.
NETWORK_PAGE_LIMIT = 200


def _int_arg(name: str, default: int) -> int:
    """:raises BadRequest: not a whole number."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise BadRequest(f"{name}: expected a whole number, got {value!r}")
    return int(value)


@bp.get("/network")
def network_page() -> Response:
    """The network (``static/network.js``, sigma.js): ``?focus=IRI&depth=N`` shows one
    actor's neighbourhood, ``?limit=N`` the N best connected, ``?hide=a,b`` hides tie types.

    :raises BadRequest: a depth or limit that is not a whole number, or a bad period.
    """
    data_url = url_for("researchers.api_network", **_page_args())
    html = render_template(
        "network.html",
        lang=_lang(),
        data_url=data_url,
        focus=request.args.get("focus", ""),
        depth=_int_arg("depth", 1),
        limit=_int_arg("limit", NETWORK_PAGE_LIMIT),
        as_of=request.args.get("asOf", ""),
        types=[{"name": t, **network.TIE_LABELS[t]} for t in network.TIE_TYPES],
        exports=_exports_links(),
    )
    return _with_link(Response(html, mimetype=HTML.media_type), data_url, "application/json")


@bp.get("/map")
def map_page() -> Response:
    data_url = url_for("researchers.api_network", **_page_args())
    html = render_template(
        "map.html",
        lang=_lang(),
        data_url=data_url,
        map_url=url_for("geo.api_map", **_page_args()),
        as_of=request.args.get("asOf", ""),
        exports=_exports_links(),
    )
    return _with_link(Response(html, mimetype=HTML.media_type), data_url, "application/json")


def _ranking_data() -> dict[str, Any]:
    by = request.args.get("by", "degree")
    if by not in RANKING_METRICS:
        raise BadRequest(f"by: expected one of {', '.join(RANKING_METRICS)}")
    kinds = [k for k in request.args.get("kind", "organisation").split(",") if k]
    unknown = set(kinds) - set(network.NODE_KINDS)
    if unknown:
        raise BadRequest(f"kind: unknown {', '.join(sorted(unknown))}")
    graph = current_graph()
    rows = network.ranking(graph, by=by, kinds=kinds)
    for row in rows:
        row["href"] = entity_href(row["iri"])
    args = period_args()
    return {
        "by": by,
        "kinds": kinds,
        "asOf": args["as_of"].isoformat() if "as_of" in args else None,
        "rows": rows,
    }


@bp.get("/ranking.json")
def ranking_json() -> Response:
    return jsonify(_ranking_data())


@bp.get("/ranking")
def ranking_page() -> Response:
    data = _ranking_data()
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
    return _with_link(Response(html, mimetype=HTML.media_type), json_url, "application/json")


@bp.get("/export/network.<ext>")
def export(ext: str) -> Response:
    """One export file; 404 for an extension not in formats.EXPORT_FORMATS."""
    fmt = next((f for f in EXPORT_FORMATS if ext == f.extension), None)
    if fmt is None:
        raise NotFound(
            f"no export network.{ext}; try " + ", ".join("network." + f.extension
                                                      for f in EXPORT_FORMATS)
        )
    graph = current_graph()
    options: dict[str, Any] = {}
    if fmt.name == "jsonld":
        options["context"] = url_for("researchers.network_context", _external=True)
    body = exports.export(graph, fmt, **options)
    stamp = period_args().get("as_of")
    name = f"coopgraph-network{'-' + stamp.isoformat() if isinstance(stamp, date) else ''}"
    resp = Response(body, mimetype=fmt.media_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt.extension}"'
    return resp


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
    return {"since": parse_since(since) if since else None, "limit": limit}


@bp.get("/changes")
@bp.get("/changes.<ext>")
def changes_feed(ext: str | None = None) -> Response:
    """The change feed: Atom by default, JSON for ``.json`` or ``Accept: application/json``.

    :raises NotFound: an extension other than ``atom`` or ``json``.
    """
    from coopgraph.changes import feed_atom, feed_json, list_changes

    if ext is None:
        best = request.accept_mimetypes.best_match([f.media_type for f in FEED_FORMATS])
        ext = "json" if best == "application/json" else "atom"
    fmt = next((f for f in FEED_FORMATS if f.extension == ext), None)
    if fmt is None:
        raise NotFound(f"no feed changes.{ext}; try changes.atom or changes.json")
    args = _changes_args()
    changes = list_changes(get_store(), **args)
    params = {k: v for k, v in request.args.items() if k in ("since", "limit") and v}
    json_url = url_for("researchers.changes_feed", ext="json", _external=True, **params)
    if fmt.name == "json":
        resp = jsonify(feed_json(changes, since=args["since"]))
    else:
        self_url = url_for("researchers.changes_feed", ext="atom", _external=True, **params)
        body = feed_atom(changes, self_url=self_url, json_url=json_url, lang=_lang())
        resp = Response(body, mimetype=fmt.media_type)
    resp.headers["Vary"] = "Accept"
    return resp
