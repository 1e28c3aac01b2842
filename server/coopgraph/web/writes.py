"""Blueprint for writes: ``/entries`` and the Graph Store HTTP Protocol at ``/data``.

Routes (reads are public, writes need ``Authorization: Bearer <token>``):

* ``POST /entries`` — add an entry (body: Turtle, TriG, JSON-LD, N-Triples, N-Quads or
  RDF/XML by ``Content-Type``; optional id by ``?id=`` or a ``Slug`` header) → 201 and
  ``Location: /entries/<id>``;
* ``GET /entries/<id>`` — the entry, in the RDF format ``Accept`` (or ``?format=``) asks;
* ``PUT /entries/<id>`` — replace the entry (200) or create it (201);
* ``DELETE /entries/<id>`` — remove it (200);
* ``GET /data?graph=<iri>`` / ``GET /data?default`` — a named graph, or the default graph
  (the read-only union of every graph);
* ``PUT``/``POST``/``DELETE /data?graph=<iri>`` — replace, merge into, remove an entry
  graph (only ``cgg:entry/<id>`` graphs are writable); ``POST /data`` creates a new one.

Every write goes through :mod:`coopgraph.entries` (parse → validate → one transaction).
Statuses: 401 no or wrong token (with ``WWW-Authenticate: Bearer``), 403 not an entry
graph, 404 unknown entry, 409 entry exists, 413 body over ``max_body_bytes`` (refused
before it is read), 415 unknown ``Content-Type``, 400 unparseable body (with line and
column), 422 the entry does not conform (the report as JSON, or as a Turtle
``sh:ValidationReport`` when ``Accept`` prefers ``text/turtle``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, jsonify, request, url_for

from coopgraph import entries
from coopgraph.auth import CHALLENGE, authenticate
from coopgraph.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UnsupportedFormat,
    ValidationFailed,
)
from coopgraph.formats import RDF_FORMATS, Format
from coopgraph.settings import Settings
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import ENTRY_GRAPH_PREFIX, PREFIXES
from coopgraph.web.negotiate import by_name, negotiate

bp = Blueprint("writes", __name__)

LANGS = ("fr", "en", "nl")


# ---------------------------------------------------------------------------------------
# App resources
# ---------------------------------------------------------------------------------------


def get_store() -> Store:
    """The app's store: :func:`coopgraph.web.state`, the one accessor of the app's state."""
    from coopgraph.web import state  # (the package imports this blueprint)

    return state().store


def get_settings() -> Settings:
    """The app's settings (:func:`coopgraph.web.state`)."""
    from coopgraph.web import state

    return state().settings


#: One validation at a time in the whole process: pyshacl parses SPARQL with rdflib's
#: pyparsing grammar, which is not thread-safe (two first parses at once corrupt its parse
#: actions for good: every later write failed with a 500 TypeError). Issue "Reliability
#: and security under load, faults and hostile input".
_VALIDATION_LOCK = threading.RLock()


class _Validation:
    """One :class:`~coopgraph.validate.Validator` per store, used by one write at a time
    (pyshacl's prepared shapes graph is shared between runs)."""

    def __init__(self, store: Store) -> None:
        from coopgraph.validate import Validator

        self.store = store
        self.lock = _VALIDATION_LOCK
        with self.lock:
            self.validator = Validator(store)

    def validate_quads(
        self, quads: Any, *, entry: str, text: str | None = None, **options: Any
    ) -> Any:
        with self.lock:
            return self.validator.validate_quads(quads, entry=entry, text=text, **options)

    def validate_many(self, candidates: Any) -> Any:
        """A batch with one context query (the spreadsheet upload's rows)."""
        with self.lock:
            return self.validator.validate_many(candidates)


_WARM_SAMPLE = (
    "SELECT ?g WHERE { GRAPH ?g { ?offer a <http://schema.org/JobPosting> } "
    f'FILTER(STRSTARTS(STR(?g), "{ENTRY_GRAPH_PREFIX}")) }} LIMIT 1'
)


def warm_up(app: Flask) -> None:
    """Build the store's validator and validate one stored entry (reads only), so that
    the first write after a start does not pay for preparing the shapes and pyshacl's
    first run; ``coopgraph serve`` runs it in the background once it listens (a write
    that comes first waits for it on the validation lock)."""
    with app.app_context():
        store = get_store()
        validation = get_validator(store)
        result = store.query(_WARM_SAMPLE)
        if isinstance(result, Solutions) and result.rows and result.rows[0][0] is not None:
            graph = result.rows[0][0].value
            validation.validate_quads(list(store.quads(graph)), entry=f"warm-up ({graph})")


def get_validator(store: Store) -> _Validation:
    from coopgraph.web import state

    with _VALIDATION_LOCK:  # concurrent first writes must not build two validators
        holder: dict[int, _Validation] = state().validators
        validation = holder.get(id(store))
        if validation is None or validation.store is not store:
            validation = holder[id(store)] = _Validation(store)
    return validation


# ---------------------------------------------------------------------------------------
# Request helpers
# ---------------------------------------------------------------------------------------


@bp.after_request
def _challenge(response: Response) -> Response:
    """RFC 6750: a 401 names the scheme the client must use."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def writer() -> str:
    """The token name of the request's ``Authorization: Bearer`` header.

    :raises Unauthorized: missing or wrong token.
    """
    return authenticate(request.headers.get("Authorization"), get_settings().tokens)


def write_turn() -> Any:
    """This write's turn in the app's :class:`~coopgraph.web.writequeue.WriteQueue`.

    :raises Busy: it waited ``write_wait`` seconds (503).
    """
    from coopgraph.web import state

    app_state = state()
    return app_state.write_queue.turn(app_state.settings.write_wait)


def one_write_at_a_time(view: Any) -> Any:
    """Check the token, then run ``view`` in its turn (writes in arrival order)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        writer()
        writing = getattr(get_store(), "writing", contextlib.nullcontext)
        with write_turn(), writing():
            return view(*args, **kwargs)

    return wrapper


def body_format() -> Format:
    """The RDF format the ``Content-Type`` names.

    :raises UnsupportedFormat: no or unknown Content-Type (415).
    """
    mimetype = request.mimetype
    for fmt in RDF_FORMATS:
        if mimetype in fmt.media_types:
            return fmt
    accepted = ", ".join(t for f in RDF_FORMATS for t in f.media_types)
    shown = mimetype or "none"
    raise UnsupportedFormat(
        f"Content-Type {shown!r} is not an RDF format coopgraph reads; send one of: {accepted}"
    )


def read_body(limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes.

    ``Content-Length`` is checked before anything is read; a body without one (chunked)
    is read to ``limit + 1`` bytes at most.

    :raises PayloadTooLarge: the body is over the limit (413).
    """
    too_large = PayloadTooLarge(
        f"the body is larger than the limit of {limit} bytes (max_body_bytes); "
        "split the entry or ask an administrator"
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def report_lang() -> str:
    lang = request.args.get("lang", "").strip().lower()
    if lang in LANGS:
        return lang
    return request.accept_languages.best_match(LANGS) or get_settings().lang


def rejected(exc: ValidationFailed) -> Response:
    """422 with the validation report, as JSON or as a Turtle sh:ValidationReport."""
    best = request.accept_mimetypes.best_match(["application/json", "text/turtle"])
    if best == "text/turtle":
        response = Response(exc.report.to_turtle(), status=422, mimetype="text/turtle")
    else:
        body = exc.to_dict()
        body["report"] = exc.report.to_dict(report_lang())
        body["store_changed"] = False  # validation comes before any write
        body["detail"] = body["detail"].rstrip(".") + ". Nothing was written."
        response = jsonify(body)
        response.status_code = 422
    response.vary.add("Accept")
    return response


def response_format() -> Format:
    """The RDF format for a response: ``?format=`` or ``Accept``, Turtle by default.

    :raises NotAcceptable: nothing the client accepts (406).
    """
    wanted = request.args.get("format", "").strip()
    if wanted:
        return by_name(wanted, RDF_FORMATS)
    return negotiate(request.headers.get("Accept"), RDF_FORMATS)


def rdf_response(quads: list[ox.Quad], *, keep_graphs: bool) -> Response:
    """Serialise quads (their graph names kept in a quad format when ``keep_graphs``)."""
    fmt = response_format()
    assert fmt.oxigraph is not None
    if fmt.quads and keep_graphs:
        items: list[Any] = quads
    else:
        triples = dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads)
        items = list(triples)
        if fmt.quads:  # a quad format serialises quads: the triples go to the default graph
            items = [ox.Quad(t.subject, t.predicate, t.object) for t in items]
    data = ox.serialize(items, format=fmt.oxigraph, prefixes=PREFIXES)
    response = Response(data, mimetype=fmt.media_type)  # text/* get "; charset=utf-8"
    response.vary.add("Accept")
    return response


def _source() -> str:
    path = request.path
    return f"HTTP {request.method} {path}"


def _written(result: entries.EntryResult, location: str, *, created: bool) -> Response:
    response = jsonify(result.to_dict())
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = location
    return _server_timing(response, result)


def _server_timing(response: Response, result: entries.EntryResult) -> Response:
    """Where the write's time went (W3C Server-Timing: parse, validate, reason, commit)."""
    if result.timings:
        response.headers["Server-Timing"] = ", ".join(
            f"{step};dur={seconds * 1000:.1f}" for step, seconds in result.timings.items()
        )
    return response


@bp.errorhandler(ValidationFailed)
def _on_rejected(exc: ValidationFailed) -> Response:
    # Blueprint handlers come before the app's CoopgraphError handler: this one
    # negotiates the report's format.
    return rejected(exc)


# ---------------------------------------------------------------------------------------
# /entries
# ---------------------------------------------------------------------------------------


def _entry_location(graph: str) -> str:
    return url_for("writes.entry", entry_id=entries.entry_id(graph))


@bp.post("/entries")
@one_write_at_a_time
def add() -> Response:
    """Add an entry; 201 + Location. A spreadsheet (``text/csv``) goes through the import
    of ``POST /import`` instead: its rows become entries (a row imported before replaces
    the entry it made, an unchanged one is skipped); 200 with the per-row report, 422 when
    a row was rejected (the conforming rows are written)."""
    if request.mimetype == "text/csv":
        from coopgraph.web.imports import import_request

        return import_request("csv", rejected_status=422)
    agent = writer()
    fmt = body_format()
    data = read_body(get_settings().max_body_bytes)
    wanted = request.args.get("id") or request.headers.get("Slug") or None
    store = get_store()
    result = entries.add_entry(
        store, data, fmt, graph=wanted, agent=agent, source=_source(),
        validator=get_validator(store),
    )
    return _written(result, _entry_location(result.graph), created=True)


@bp.get("/entries/<entry_id>")
def entry(entry_id: str) -> Response:
    """The entry's triples (TriG/N-Quads/JSON-LD keep its graph name)."""
    graph = entries.entry_graph(entry_id)
    quads = list(get_store().quads(graph))
    if not quads:
        raise NotFound(f"no entry {entry_id!r} (graph <{graph}>)")
    return rdf_response(quads, keep_graphs=True)


@bp.put("/entries/<entry_id>")
@one_write_at_a_time
def put(entry_id: str) -> Response:
    """Replace the entry (200) or create it (201)."""
    agent = writer()
    fmt = body_format()
    data = read_body(get_settings().max_body_bytes)
    store = get_store()
    result = entries.replace_entry(
        store, data, fmt, graph=entry_id, agent=agent, source=_source(),
        validator=get_validator(store), create=True,
    )
    return _written(result, _entry_location(result.graph), created=result.created)


@bp.delete("/entries/<entry_id>")
@one_write_at_a_time
def delete(entry_id: str) -> Response:
    """Remove the entry and its inferences (200, what was removed)."""
    agent = writer()
    result = entries.remove_entry(get_store(), entry_id, agent=agent, source=_source())
    return _server_timing(jsonify(result.to_dict()), result)


# ---------------------------------------------------------------------------------------
# /data — SPARQL 1.1 Graph Store HTTP Protocol
# ---------------------------------------------------------------------------------------


def _target() -> str | None:
    """The graph named by ``?graph=<iri>``; ``None`` for ``?default``.

    :raises BadRequest: both, several, or (for GET/PUT/DELETE) neither.
    """
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if len(graphs) > 1 or (graphs and default):
        raise BadRequest("name one graph: either ?graph=<iri> or ?default, once")
    if graphs:
        iri = graphs[0].strip()
        try:
            return ox.NamedNode(iri).value
        except ValueError:
            raise BadRequest(f"?graph={iri!r} is not an absolute IRI") from None
    if default:
        return None
    raise BadRequest("the Graph Store Protocol needs ?graph=<iri> or ?default")


def _read_only_default() -> Forbidden:
    return Forbidden(
        "the default graph is the read-only union of every named graph; "
        "write an entry graph with ?graph=" + entries.entry_graph("example-id")
    )


def _data_location(graph: str) -> str:
    return url_for("writes.data_get", graph=graph)


#: GSP reads are queries, so they run under ``query_timeout`` and ``result_limit`` in the
#: store process like ``/sparql`` (issue 16: ``GET /data?default`` took 55 s, unbounded,
#: and held other readers up meanwhile).
_GRAPH_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
_DEFAULT_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"


@bp.get("/data")
def data_get() -> Response:
    """A named graph, or the default graph (union of all graphs, triples deduplicated),
    at most ``result_limit`` triples (``X-Coopgraph-Truncated`` says when more exist)."""
    from coopgraph.store.base import serializing
    from coopgraph.web.sparql import result_response

    graph = _target()
    store = get_store()
    settings = get_settings()
    fmt = response_format()
    text = _DEFAULT_TRIPLES if graph is None else _GRAPH_TRIPLES
    bindings = None if graph is None else {"g": ox.NamedNode(graph)}
    options: dict[str, Any] = {
        "bindings": bindings, "limit": settings.result_limit, "timeout": settings.query_timeout
    }
    fast = serializing(store)
    result: Any = (
        fast.query_serialized(text, fmt, **options) if fast is not None
        else store.query(text, **options)
    )
    if graph is not None and not (result.rows if fast is not None else len(result)):
        raise NotFound(f"no graph <{graph}> in the store")
    return result_response(result, fmt)


@bp.put("/data")
@one_write_at_a_time
def data_put() -> Response:
    """Replace (200) or create (201) an entry graph."""
    agent = writer()
    graph = _target()
    if graph is None:
        raise _read_only_default()
    fmt = body_format()
    data = read_body(get_settings().max_body_bytes)
    store = get_store()
    result = entries.replace_entry(
        store, data, fmt, graph=graph, agent=agent, source=_source(),
        validator=get_validator(store), create=True,
    )
    return _written(result, _data_location(result.graph), created=result.created)


@bp.post("/data")
@one_write_at_a_time
def data_post() -> Response:
    """Merge into an entry graph (200) or create it (201); no graph: a new entry (201)."""
    agent = writer()
    named = "graph" in request.args or "default" in request.args
    graph = _target() if named else "new"
    if graph is None:
        raise _read_only_default()
    fmt = body_format()
    data = read_body(get_settings().max_body_bytes)
    store = get_store()
    validator = get_validator(store)
    if graph == "new":
        result = entries.add_entry(
            store, data, fmt, graph=None, agent=agent, source=_source(),
            validator=validator,
        )
    else:
        result = entries.merge_entry(
            store, data, fmt, graph=graph, agent=agent, source=_source(),
            validator=validator,
        )
    return _written(result, _data_location(result.graph), created=result.created)


@bp.delete("/data")
@one_write_at_a_time
def data_delete() -> Response:
    """Remove an entry graph (200)."""
    agent = writer()
    graph = _target()
    if graph is None:
        raise _read_only_default()
    result = entries.remove_entry(get_store(), graph, agent=agent, source=_source())
    return jsonify(result.to_dict())
