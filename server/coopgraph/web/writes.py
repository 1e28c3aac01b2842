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

import time
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, g, jsonify, request, url_for

from coopgraph import entries
from coopgraph.auth import CHALLENGE
from coopgraph.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from coopgraph.formats import RDF_FORMATS
from coopgraph.store.base import serializing
from coopgraph.web.appstate import state
from coopgraph.web.respond import rdf_response, requested, result_response
from coopgraph.web.writing import (
    body_format,
    get_validator,
    one_write_at_a_time,
    read_body,
    rejected,
    source,
    waited,
    writer,
)

bp = Blueprint("writes", __name__)

# ---------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------


@bp.after_request
def _challenge(response: Response) -> Response:
    """RFC 6750: a 401 names the scheme the client must use."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def _write_body(write: Any, graph: str | None, **options: Any) -> entries.EntryResult:
    """Run the entries pipeline's ``write`` (add, replace or merge) on the request body,
    as the token's writer, with the store's validator."""
    agent = writer()
    fmt = body_format()
    data = read_body(state().settings.max_body_bytes)
    store = state().store
    before = time.perf_counter()
    validator = get_validator(store)  # waits while the warm-up builds it
    g.write_waited = g.get("write_waited", 0.0) + time.perf_counter() - before
    return write(  # type: ignore[no-any-return]
        store, data, fmt, graph=graph, agent=agent, source=source(),
        validator=validator, **options,
    )


def _written(result: entries.EntryResult, location: str, *, created: bool) -> Response:
    response = jsonify(result.to_dict())
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = location
    return _server_timing(response, result)


def _removed(graph: str) -> Response:
    """Remove an entry graph as the token's writer (200, what was removed)."""
    result = entries.remove_entry(state().store, graph, agent=writer(), source=source())
    return _server_timing(jsonify(result.to_dict()), result)


def _server_timing(response: Response, result: entries.EntryResult) -> Response:
    """Where the write's time went (W3C Server-Timing: wait for the write turn and the
    validator, parse, validate, reason, commit, publish: the derived views told of the
    commit; total: all of it, from the token check on)."""
    if result.timings:
        steps = {**result.timings, **waited()}
        response.headers["Server-Timing"] = ", ".join(
            f"{step};dur={seconds * 1000:.1f}" for step, seconds in steps.items()
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
    wanted = request.args.get("id") or request.headers.get("Slug") or None
    result = _write_body(entries.add_entry, wanted)
    return _written(result, _entry_location(result.graph), created=True)


@bp.get("/entries/<entry_id>")
def entry(entry_id: str) -> Response:
    """The entry's triples (TriG/N-Quads/JSON-LD keep its graph name)."""
    graph = entries.entry_graph(entry_id)
    quads = list(state().store.quads(graph))
    if not quads:
        raise NotFound(f"no entry {entry_id!r} (graph <{graph}>)")
    return rdf_response(quads, requested(RDF_FORMATS))


@bp.put("/entries/<entry_id>")
@one_write_at_a_time
def put(entry_id: str) -> Response:
    """Replace the entry (200) or create it (201)."""
    result = _write_body(entries.replace_entry, entry_id, create=True)
    return _written(result, _entry_location(result.graph), created=result.created)


@bp.delete("/entries/<entry_id>")
@one_write_at_a_time
def delete(entry_id: str) -> Response:
    """Remove the entry and its inferences (200, what was removed)."""
    return _removed(entry_id)


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
    graph = _target()
    store = state().store
    settings = state().settings
    fmt = requested(RDF_FORMATS)
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


def _writable_target() -> str:
    """The entry graph ``?graph=`` names.

    :raises Forbidden: ``?default`` (the read-only union).
    :raises BadRequest: see :func:`_target`.
    """
    graph = _target()
    if graph is None:
        raise _read_only_default()
    return graph


@bp.put("/data")
@one_write_at_a_time
def data_put() -> Response:
    """Replace (200) or create (201) an entry graph."""
    result = _write_body(entries.replace_entry, _writable_target(), create=True)
    return _written(result, _data_location(result.graph), created=result.created)


@bp.post("/data")
@one_write_at_a_time
def data_post() -> Response:
    """Merge into an entry graph (200) or create it (201); no graph: a new entry (201)."""
    if "graph" in request.args or "default" in request.args:
        result = _write_body(entries.merge_entry, _writable_target())
    else:
        result = _write_body(entries.add_entry, None)
    return _written(result, _data_location(result.graph), created=result.created)


@bp.delete("/data")
@one_write_at_a_time
def data_delete() -> Response:
    """Remove an entry graph (200)."""
    return _removed(_writable_target())
