"""The HTTP side of the remote store: one POST, its errors, its answer parsed.

Everything here talks the SPARQL 1.1 Protocol and knows nothing of coopgraph's dataset
or write choices (those are :mod:`coopgraph.store.remote`'s).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from http.client import HTTPResponse
from typing import IO

import pyoxigraph as ox

from coopgraph.errors import StoreError
from coopgraph.formats import Format
from coopgraph.results import serialize_native, serialize_rdf
from coopgraph.store.base import QueryResult, SerializedResult, Triples, materialise

JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
FORM = "application/x-www-form-urlencoded"
# Virtuoso reports blank nodes as "nodeID://b10001" in JSON results (not a valid label).
_VIRTUOSO_BNODE = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')


def send(
    url: str,
    form: Mapping[str, str | Sequence[str]] | None,
    accept: str,
    timeout: float,
    *,
    body: bytes | None = None,
    content_type: str = FORM,
) -> HTTPResponse:
    """POST and return the open response; map transport and HTTP errors."""
    if form is not None:
        body = urllib.parse.urlencode(form, doseq=True).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Accept": accept, "Content-Type": content_type}
    )
    try:
        response: HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
        return response
    except urllib.error.HTTPError as exc:
        message = _server_message(exc.read())
        exc.close()
        raise HTTPFailure(exc.code, message) from None
    except TimeoutError as exc:
        raise NoAnswer(f"no answer from {url} within {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise NoAnswer(f"no answer from {url} within {timeout:g} s") from exc
        raise StoreError(f"cannot reach remote store {url}: {exc.reason}") from exc
    except OSError as exc:
        raise StoreError(f"cannot reach remote store {url}: {exc}") from exc


class HTTPFailure(Exception):
    """The server answered with an HTTP error status; ``message`` is its useful part."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class NoAnswer(Exception):
    """No answer (or no more of it) within the timeout."""


def _server_message(body: bytes) -> str:
    """The useful part of an error body (Virtuoso appends the query text: dropped)."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            text = str(data.get("detail") or data.get("message") or data.get("error") or text)
    text = text.split("\n\nSPARQL query:", 1)[0].strip()
    return text[:2000] or "(no message)"


def read_result(
    response: IO[bytes],
    content_type: str,
    limit: int | None,
    *,
    virtuoso: bool,
    written_as: Format | None = None,
) -> QueryResult | SerializedResult:
    """A query's answer (JSON or XML results, or RDF), at most ``limit`` rows or triples:
    as terms, or written in ``written_as`` by pyoxigraph's writers."""
    media = content_type.split(";", 1)[0].strip().lower()
    parsed: ox.QuerySolutions | ox.QueryBoolean | None = None
    if media in (JSON_RESULTS, "application/json"):
        data: bytes | IO[bytes] = response
        if virtuoso:
            data = _VIRTUOSO_BNODE.sub(rb"\1", response.read())
        parsed = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    elif media in ("application/sparql-results+xml", "application/xml"):
        parsed = ox.parse_query_results(response, ox.QueryResultsFormat.XML)
    if parsed is not None:
        if written_as is not None:
            return serialize_native(parsed, written_as, limit=limit)
        return materialise(parsed, limit)
    from coopgraph.formats import rdf_format

    fmt = rdf_format(media)
    assert fmt.oxigraph is not None
    triples: list[ox.Triple] = []
    truncated = False
    for item in ox.parse(response, fmt.oxigraph):
        if limit is not None and len(triples) >= limit:
            truncated = True
            break
        triples.append(item.triple if isinstance(item, ox.Quad) else item)
    if written_as is not None:
        body = serialize_rdf(triples, written_as)
        return SerializedResult("CONSTRUCT", written_as.media_type, body, truncated, len(triples))
    return Triples(triples, truncated)
