"""Blueprint: the read-only SPARQL 1.1 Protocol endpoint at ``/sparql``.

* ``GET /sparql?query=…``, ``POST`` form-urlencoded, ``POST application/sparql-query``;
  ``default-graph-uri`` / ``named-graph-uri`` override the query's FROM / FROM NAMED;
* ``format=`` / ``output=`` (``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``jsonld``…
  or a media type) win over ``Accept``, unless ``Accept`` refuses that format;
* ``GET /sparql`` without a query: the SPARQL 1.1 Service Description.

Statuses: 400 missing/repeated ``query``, ``query`` with ``update``, syntax error (line, column,
what was expected and the PREFIX to declare, in plain French or English:
:mod:`coopgraph.sparql_errors`), refused query (SERVICE, LOAD, too deep…); 403 any update (the
endpoint is read-only); 406 no acceptable format; 413 body too large; 415 unknown POST
``Content-Type`` or charset; 503 query timeout.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request, url_for

from coopgraph import results, sparql_guard
from coopgraph.errors import (
    BadRequest,
    Forbidden,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    UnsupportedFormat,
)
from coopgraph.formats import HTML, RDF_FORMATS, RESULT_FORMATS, Format
from coopgraph.projection import explicit_projection
from coopgraph.sparql_errors import explained
from coopgraph.store.base import Dataset, QueryResult, Triples, serializing
from coopgraph.vocab import DCTERMS, RDF, SD, VOID, XSD
from coopgraph.web.appstate import current_lang, described, maintained_totals, state
from coopgraph.web.negotiate import choose
from coopgraph.web.respond import rdf_response, requested, result_response

bp = Blueprint("sparql", __name__)

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
QUERY_MEDIA_TYPE = "application/sparql-query"
UPDATE_MEDIA_TYPE = "application/sparql-update"
_UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")

# TODO(lead): move to vocab.py as FORMATS = NS("http://www.w3.org/ns/formats/").
_W3C_FORMATS_NS = "http://www.w3.org/ns/formats/"
#: formats.py name → local name of its W3C format IRI (sd:resultFormat values).
_W3C_FORMAT_NAMES = {
    "json": "SPARQL_Results_JSON",
    "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV",
    "turtle": "Turtle",
    "trig": "TriG",
    "ntriples": "N-Triples",
    "nquads": "N-Quads",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF_XML",
}

Params = dict[str, list[str]]


def _charset(default: str = "utf-8") -> str:
    """The body's declared charset, checked to be a known text encoding.

    :raises UnsupportedFormat: unknown charset.
    """
    name = request.mimetype_params.get("charset", default).strip().strip('"') or default
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise UnsupportedFormat(f"unknown charset {name!r} in Content-Type") from None
    if not info._is_text_encoding:
        raise UnsupportedFormat(f"{name!r} is not a text encoding")
    return info.name


def _decode(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset)
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the request body is not valid {charset} (byte {exc.start}); "
            "declare its charset in Content-Type"
        ) from None


def _merge(*sources: Sequence[tuple[str, str]]) -> Params:
    params: Params = {}
    for source in sources:
        for key, value in source:
            params.setdefault(key, []).append(value)
    return params


def read_params() -> Params:
    """All protocol parameters of the request (query string and body), as lists.

    :raises Forbidden: a SPARQL Update body.
    :raises UnsupportedFormat: a POST body of another type, or an unknown charset.
    :raises BadRequest: an undecodable body, or ``query`` both in the URL and the body.
    """
    args = list(request.args.items(multi=True))
    if request.method != "POST":
        return _merge(args)
    mimetype = request.mimetype
    if not mimetype and not request.content_length:
        return _merge(args)  # an empty POST: parameters in the URL only
    if mimetype == FORM_MEDIA_TYPE:
        charset = _charset()
        # Parsed here, not by werkzeug, so that a declared charset is honoured.
        raw = _decode(request.get_data(cache=True, parse_form_data=False), charset)
        try:
            body = parse_qsl(raw, keep_blank_values=True, encoding=charset, errors="strict")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"a form field is not valid {charset}: {exc.reason}") from None
        return _merge(args, body)
    if mimetype == QUERY_MEDIA_TYPE:
        if "query" in request.args:
            raise BadRequest("query given both in the URL and as the request body")
        text = _decode(request.get_data(cache=True, parse_form_data=False), _charset())
        return _merge(args, [("query", text)])
    if mimetype == UPDATE_MEDIA_TYPE:
        raise Forbidden("this endpoint is read-only: SPARQL Update is not accepted")
    raise UnsupportedFormat(
        f"POST body of type {mimetype or '(none)'} not accepted; send "
        f"{FORM_MEDIA_TYPE} or {QUERY_MEDIA_TYPE}"
    )


def _graph_iris(values: list[str], name: str) -> tuple[str, ...]:
    iris: list[str] = []
    for value in values:
        value = value.strip()
        try:
            ox.NamedNode(value)
        except ValueError:
            raise BadRequest(f"{name}={value!r} is not an IRI") from None
        if not urlsplit(value).scheme:
            raise BadRequest(f"{name}={value!r} is not an absolute IRI")
        iris.append(value)
    return tuple(dict.fromkeys(iris))


def protocol_dataset(params: Params) -> Dataset | None:
    """The dataset of ``default-graph-uri`` / ``named-graph-uri``, or ``None`` if absent.

    :raises BadRequest: a value that is not an absolute IRI.
    """
    defaults = params.get("default-graph-uri", [])
    named = params.get("named-graph-uri", [])
    if not defaults and not named:
        return None
    return Dataset(
        _graph_iris(defaults, "default-graph-uri"), _graph_iris(named, "named-graph-uri")
    )


def _format_params(params: Params) -> list[str | None]:
    return [params.get(key, [None])[0] for key in ("format", "output")]


def _choose(params: Params, available: Sequence[Format]) -> Format:
    return choose(request.headers.get("Accept"), _format_params(params), available)


def _form_of(result: QueryResult) -> str:
    return "CONSTRUCT" if isinstance(result, Triples) else "SELECT"


def run_query(text: str, params: Params) -> Response:
    """Guard, negotiate, run and serialise one query from a request.

    :raises QueryRefused, QuerySyntaxError, NotAcceptable, QueryTimeout: see module doc.
    """
    app_state = state()
    settings = app_state.settings
    checked = sparql_guard.check(text, allowed_service_hosts=settings.allowed_service_hosts)
    text = explicit_projection(text)  # SELECT * keeps the query's variable order
    fmt = _choose(params, results.formats_for(checked.form)) if checked.form else None
    dataset = protocol_dataset(params) or checked.dataset
    limit, timeout = settings.result_limit, settings.query_timeout
    store = serializing(app_state.store)
    try:
        if fmt is not None and store is not None:
            # The store serialises (in its own process for IsolatedStore): no term objects.
            try:
                serialized = store.query_serialized(
                    text, fmt, dataset=dataset, limit=limit, timeout=timeout
                )
            except NotAcceptable:
                pass  # the guard misread the form: run it below and negotiate on the result
            else:
                app_state.stats.count("queries")
                return result_response(serialized, fmt, download="download" in params)
        result = app_state.store.query(text, dataset=dataset, limit=limit, timeout=timeout)
    except QueryTimeout:
        app_state.stats.count("timeouts")
        raise
    app_state.stats.count("queries")
    if fmt is None or (isinstance(result, Triples) != (fmt in RDF_FORMATS)):
        fmt = _choose(params, results.formats_for(_form_of(result)))
    return result_response(result, fmt, download="download" in params)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """The SPARQL 1.1 Protocol query operation (see the module docstring)."""
    params = read_params()
    if any(key in params for key in _UPDATE_PARAMS):
        if "query" in params:
            raise BadRequest("give either query or update, not both")
        raise Forbidden("this endpoint is read-only: SPARQL Update is not accepted")
    queries = params.get("query", [])
    if not queries:
        if request.method == "GET":
            return service_description()
        raise BadRequest("missing query parameter")
    if len(queries) > 1:
        raise BadRequest(f"the query parameter is given {len(queries)} times; give it once")
    try:
        return run_query(queries[0], params)
    except QuerySyntaxError as exc:
        raise explained(exc, queries[0], current_lang()) from None


def _sd_triples() -> list[ox.Triple]:
    sizes = maintained_totals().sizes
    endpoint_iri = ox.NamedNode(url_for("sparql.endpoint", _external=True))
    t = ox.Triple
    a = ox.NamedNode(RDF.type)
    service = endpoint_iri
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    triples = [
        t(service, a, SD.node("Service")),
        t(service, SD.node("endpoint"), endpoint_iri),
        t(service, SD.node("supportedLanguage"), SD.node("SPARQL11Query")),
        t(service, SD.node("feature"), SD.node("UnionDefaultGraph")),
        t(service, SD.node("defaultDataset"), dataset),
        t(dataset, a, SD.node("Dataset")),
        t(dataset, SD.node("defaultGraph"), default_graph),
        t(default_graph, a, SD.node("Graph")),
        t(
            default_graph,
            ox.NamedNode(DCTERMS.description),
            ox.Literal("The union of all named graphs (asserted and inferred).", language="en"),
        ),
        t(
            default_graph,
            ox.NamedNode(DCTERMS.description),
            ox.Literal("L'union de tous les graphes nommés (affirmés et inférés).", language="fr"),
        ),
        t(default_graph, ox.NamedNode(VOID.triples),
          ox.Literal(str(sum(sizes.values())), datatype=XSD.node("integer"))),
    ]
    for fmt in (*RESULT_FORMATS, *RDF_FORMATS):
        local = _W3C_FORMAT_NAMES.get(fmt.name)
        if local:
            iri = ox.NamedNode(_W3C_FORMATS_NS + local)
            triples.append(t(service, SD.node("resultFormat"), iri))
    for i, (graph, size) in enumerate(sorted(sizes.items())):
        named = ox.BlankNode(f"named{i}")
        inner = ox.BlankNode(f"graph{i}")
        triples += [
            t(dataset, SD.node("namedGraph"), named),
            t(named, a, SD.node("NamedGraph")),
            t(named, SD.node("name"), ox.NamedNode(graph)),
            t(named, SD.node("graph"), inner),
            t(inner, a, SD.node("Graph")),
            t(inner, ox.NamedNode(VOID.triples),
              ox.Literal(str(size), datatype=XSD.node("integer"))),
        ]
    return triples


def service_description() -> Response:
    """The SPARQL 1.1 Service Description, in the negotiated RDF format or as HTML."""
    fmt = requested((*RDF_FORMATS, HTML))

    def render() -> Response:
        triples = _sd_triples()
        if fmt is HTML:
            turtle = results.serialize_rdf(triples, RDF_FORMATS[0]).decode("utf-8")
            page = render_template(
                "service.html",
                lang=current_lang(),
                turtle=turtle,
                graphs=sorted(maintained_totals().sizes.items()),
                result_formats=RESULT_FORMATS,
                rdf_formats=RDF_FORMATS,
            )
            return Response(page, mimetype="text/html")
        return rdf_response(triples, fmt)

    response = described("service", fmt.name, render)
    response.headers["Vary"] = "Accept"
    return response
