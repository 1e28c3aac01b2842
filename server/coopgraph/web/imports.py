"""Blueprint for ``POST /import``: the bulk import (:mod:`coopgraph.bulk`) over HTTP.

The body is one file — N-Quads or TriG holding many entry graphs, Turtle / JSON-LD /
N-Triples / RDF/XML holding one entry, or a filled spreadsheet template (``text/csv``)
— chosen by ``Content-Type``. It goes through exactly the pipeline of ``coopgraph import
--add``: every entry validated with the store as context, written whole with its
provenance (agent: the token's name), inferences rebuilt once at the end. The answer is
the per-entry report as JSON (200), the same as ``coopgraph import --format json``.

Parameters: ``?reference=true`` also imports ``cgg:reference/<id>`` graphs; ``?check=true``
validates and reports without writing; ``?kind=`` and ``?lang=`` for spreadsheets.
Statuses: 401 no or wrong token, 409 another import is running, 413 body over
``max_body_bytes``, 415 unknown ``Content-Type``, 400 the body cannot be parsed (the
report says which entries before the error were imported).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from flask import Blueprint, Response, jsonify, request

from coopgraph.auth import CHALLENGE
from coopgraph.bulk import ImportOptions, run_import
from coopgraph.bulk.sources import Source
from coopgraph.errors import Conflict, UnsupportedFormat
from coopgraph.formats import RDF_FORMATS, Format
from coopgraph.web.appstate import state
from coopgraph.web.writing import get_validator, one_write_at_a_time, read_body, writer

bp = Blueprint("imports", __name__)

#: One import at a time per process (each holds the write lock batch by batch).
_IMPORT_LOCK = threading.Lock()
_TRUE = ("1", "true", "yes", "on")


def _body_format() -> Format | str:
    """``"csv"`` or the RDF format ``Content-Type`` names (415 otherwise)."""
    mimetype = request.mimetype
    if mimetype == "text/csv":
        return "csv"
    for fmt in RDF_FORMATS:
        if mimetype in fmt.media_types:
            return fmt
    accepted = ", ".join(t for f in RDF_FORMATS for t in f.media_types)
    raise UnsupportedFormat(
        f"Content-Type {mimetype or 'none'!r} cannot be imported; send text/csv or one of: "
        f"{accepted}"
    )


@bp.after_request
def _challenge(response: Response) -> Response:
    """RFC 6750: a 401 names the scheme the client must use."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in _TRUE


@bp.post("/import")
@one_write_at_a_time  # takes its turn with the other writes (issue 16)
def import_body() -> Response:
    """Import the body's entries; 200 with the per-entry report (400 when unreadable)."""
    writer()  # 401 before 415: the token is checked first
    return import_request(_body_format())


def import_request(fmt: Format | str, *, rejected_status: int = 200) -> Response:
    """The import of this request's body in ``fmt``: the report as JSON, 400 when the body
    could not be read, ``rejected_status`` when an entry was rejected (the conforming ones
    are written). ``?name=`` names the file in the report (``offre.csv row 3``). Called
    with the write turn held (:func:`~coopgraph.web.writing.one_write_at_a_time`)."""
    agent = writer()
    data = read_body(state().settings.max_body_bytes)
    kind = request.args.get("kind") or None
    if kind not in (None, "offer", "organisation", "partnership"):
        kind = None
    lang = request.args.get("lang") if request.args.get("lang") in ("fr", "en") else None
    options = ImportOptions(
        agent=agent, write=not _flag("check"), reference=_flag("reference"), kind=kind,
        lang=lang, cache_dir=Path(state().settings.cache_dir),
    )
    if not _IMPORT_LOCK.acquire(blocking=False):
        raise Conflict("another import is running on this server; try again when it is done")
    try:
        store = state().store
        suffix = "." + (fmt if isinstance(fmt, str) else fmt.extension)
        with tempfile.TemporaryDirectory(prefix="coopgraph-import-") as folder:
            path = Path(folder) / f"body{suffix}"
            path.write_bytes(data)
            name = request.args.get("name", "").strip()[:200]
            label = f"{name} (HTTP {request.method} {request.path})" if name else (
                f"HTTP {request.method} {request.path} ({len(data)} bytes)")
            source = Source(path, label, fmt)
            report = run_import(
                store, [source], validator=get_validator(store), options=options
            )
    finally:
        _IMPORT_LOCK.release()
    response = jsonify(report.to_dict())
    response.status_code = 400 if report.errors else (
        200 if report.conforms else rejected_status)
    return response
