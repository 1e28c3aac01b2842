"""What every write route shares (``/entries``, ``/data``, ``/import``, ``/upload``): the
token check, the write turn, the request body and its format, the store's validator, and
the 422 answer of a rejected entry.

Statuses: 401 no or wrong token, 413 body over ``max_body_bytes`` (refused before it is
read), 415 unknown ``Content-Type``, 503 no write turn within ``write_wait``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request

from coopgraph.auth import authenticate
from coopgraph.errors import PayloadTooLarge, UnsupportedFormat, ValidationFailed
from coopgraph.formats import JSON, RDF_FORMATS, Format, rdf_format
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import ENTRY_GRAPH_PREFIX
from coopgraph.web.appstate import state
from coopgraph.web.respond import preferred_by_accept

LANGS = ("fr", "en", "nl")
_TURTLE = rdf_format("turtle")


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

    def validate_batch(self, candidates: Any, overlays: Any, unseen: Any = frozenset()) -> Any:
        """A bulk import's batch (``POST /import``): one shared index."""
        with self.lock:
            return self.validator.validate_batch(candidates, overlays, unseen)

    def validate_batches(self, batches: Any, overlays: Any, unseen: Any = frozenset()) -> Any:
        """A bulk import's batches, one after the other in this process (the CLI's import
        forks children for them, ``validate/parallel.py``; a server keeps its workers)."""
        with self.lock:
            done = [self.validator.validate_batch(b, overlays, unseen) for b in batches]
        return (reports for reports in done)


_WARM_SAMPLE = (
    "SELECT ?g WHERE { GRAPH ?g { ?offer a <http://schema.org/JobPosting> } "
    f'FILTER(STRSTARTS(STR(?g), "{ENTRY_GRAPH_PREFIX}")) }} LIMIT 1'
)


def warm_up(app: Flask) -> None:
    """Build the store's validator and validate one stored entry (reads only), so that
    the first write after a start does not pay for preparing the shapes and pyshacl's
    first run; ``coopgraph serve`` runs it before it listens."""
    with app.app_context():
        store = state().store
        validation = get_validator(store)
        result = store.query(_WARM_SAMPLE)
        if isinstance(result, Solutions) and result.rows and result.rows[0][0] is not None:
            graph = result.rows[0][0].value
            validation.validate_quads(list(store.quads(graph)), entry=f"warm-up ({graph})")


def get_validator(store: Store) -> _Validation:
    """The store's validator, built once per app and store (:class:`_Validation`)."""
    with _VALIDATION_LOCK:  # concurrent first writes must not build two validators
        holder: dict[int, _Validation] = state().validators
        validation = holder.get(id(store))
        if validation is None or validation.store is not store:
            validation = holder[id(store)] = _Validation(store)
    return validation


def writer() -> str:
    """The token name of the request's ``Authorization: Bearer`` header.

    :raises Unauthorized: missing or wrong token.
    """
    return authenticate(request.headers.get("Authorization"), state().settings.tokens)


def write_turn() -> Any:
    """This write's turn in the app's :class:`~coopgraph.web.writequeue.WriteQueue`.

    :raises Busy: it waited ``write_wait`` seconds (503).
    """
    app_state = state()
    return app_state.write_queue.turn(app_state.settings.write_wait)


def one_write_at_a_time(view: Any) -> Any:
    """Check the token, then run ``view`` in its turn (writes in arrival order); the
    time spent waiting for the turn is kept for :func:`waited`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.write_started = time.perf_counter()
        writer()
        writing = getattr(state().store, "writing", contextlib.nullcontext)
        with write_turn(), writing():
            g.write_waited = time.perf_counter() - g.write_started
            return view(*args, **kwargs)

    return wrapper


def waited() -> dict[str, float]:
    """Seconds this write waited for its turn (``wait``) and in all (``total``: from the
    token check to now): the Server-Timing steps the pipeline does not see."""
    started = g.get("write_started")
    if started is None:
        return {}
    return {"wait": g.get("write_waited", 0.0), "total": time.perf_counter() - started}


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
    return request.accept_languages.best_match(LANGS) or state().settings.lang


def rejected(exc: ValidationFailed) -> Response:
    """422 with the validation report, as JSON or as a Turtle sh:ValidationReport."""
    if preferred_by_accept((JSON, _TURTLE)) is _TURTLE:
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


def source() -> str:
    """Where a write's content comes from, for its provenance (``HTTP POST /entries``)."""
    return f"HTTP {request.method} {request.path}"
