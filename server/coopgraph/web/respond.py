"""The one way a view picks its answer's format and writes RDF or query results.

:func:`requested` reads ``?format=`` then ``Accept`` (:mod:`coopgraph.web.negotiate`);
:func:`rdf_response` and :func:`result_response` serialise with pyoxigraph's writers
(:mod:`coopgraph.results`) and set the headers every such answer carries.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox
from flask import Response, request

from coopgraph import results
from coopgraph.formats import Format
from coopgraph.store.base import QueryResult, SerializedResult
from coopgraph.web.appstate import state
from coopgraph.web.negotiate import choose, preferred


def requested(available: Sequence[Format]) -> Format:
    """The format the request asks for among ``available``: ``?format=`` wins over
    ``Accept``; no preference gives the first.

    :raises NotAcceptable: the request names or accepts none of them (406).
    """
    return choose(request.headers.get("Accept"), [request.args.get("format")], available)


def preferred_by_accept(available: Sequence[Format]) -> Format:
    """The format ``Accept`` prefers among ``available``, the first when it accepts none
    (answers that must come in some format anyway: a rejected write's report, a feed)."""
    return preferred(request.headers.get("Accept"), available)


def rdf_response(
    statements: Sequence[ox.Quad | ox.Triple], fmt: Format, *, keep_graphs: bool = True
) -> Response:
    """Statements in the RDF format ``fmt``.

    A quad format (TriG, N-Quads, JSON-LD) keeps their named graphs when ``keep_graphs``;
    otherwise, and in every triple format, each triple is written once (in the default
    graph of a quad format).
    """
    if not (fmt.quads and keep_graphs):
        statements = list(dict.fromkeys(ox.Triple(s.subject, s.predicate, s.object)
                                        for s in statements))
    response = Response(
        results.serialize_rdf(statements, fmt), content_type=results.content_type(fmt)
    )
    response.vary.add("Accept")
    return response


def result_response(
    result: QueryResult | SerializedResult, fmt: Format, *, download: bool = False
) -> Response:
    """The HTTP response for a query result in ``fmt``, with the truncation headers."""
    body = result.body if isinstance(result, SerializedResult) else results.serialize(result, fmt)
    response = Response(body, content_type=results.content_type(fmt))
    response.vary.add("Accept")
    if result.truncated:
        state().stats.count("truncated")
        response.headers["X-Coopgraph-Truncated"] = "true"
        response.headers["X-Coopgraph-Result-Limit"] = str(state().settings.result_limit)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="results.{fmt.extension}"'
    return response
