"""Blueprint: staff upload a filled spreadsheet while the site runs, ``/upload`` (the page
and its form; ``POST /import`` is the bulk import of datasets, :mod:`coopgraph.web.imports`).

* ``GET /upload``: the upload page (the token is asked in the form) and the blank
  templates, ``/upload/template/<kind>.csv``;
* ``POST /upload``: a ``multipart/form-data`` upload (field ``sheet``, token in the field
  ``token`` or an ``Authorization: Bearer`` header), or the sheet itself as the body
  (``text/csv``) with the header. The conforming rows are added, each as its own entry;
  a row imported before (same identifier) replaces the entry it made, so a correction is
  "fix the cell, upload again". The answer: an HTML page with the report and, when rows
  are wrong, a link to the annotated sheet; JSON (the report) or the annotated sheet as
  CSV when ``Accept`` asks for them;
* ``GET /upload/annotated/<key>.csv``: that annotated sheet (kept in memory for an hour,
  under a random key only the uploader gets).
"""

from __future__ import annotations

import secrets
import threading
import time

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from coopgraph.auth import authenticate
from coopgraph.errors import BadRequest, NotFound
from coopgraph.formats import CSV, HTML, JSON
from coopgraph.tabular import add_rows, import_sheet, read_sheet
from coopgraph.tabular.columns import KINDS, LANGS
from coopgraph.tabular.sheet import template
from coopgraph.web.appstate import current_lang, state
from coopgraph.web.researchers import entity_href
from coopgraph.web.respond import requested
from coopgraph.web.writing import get_validator

bp = Blueprint("upload", __name__)

#: Annotated sheets kept for download: key → (time, bytes); at most this many.
MAX_KEPT = 100
KEEP_SECONDS = 3600
_kept: dict[str, tuple[float, bytes]] = {}
_kept_lock = threading.Lock()


def _keep(data: bytes) -> str:
    key = secrets.token_urlsafe(16)
    now = time.time()
    with _kept_lock:
        for old in [k for k, (t, _) in _kept.items() if now - t > KEEP_SECONDS]:
            del _kept[old]
        while len(_kept) >= MAX_KEPT:
            del _kept[next(iter(_kept))]
        _kept[key] = (now, data)
    return key


def _uploaded() -> tuple[bytes, str, str | None]:
    """The sheet's bytes, its name and the token given in the form (if any).

    :raises BadRequest: no file in the form, or an empty body.
    """
    if request.mimetype == "multipart/form-data":
        file = request.files.get("sheet")
        if file is None or not file.filename:
            raise BadRequest("choose the spreadsheet to upload (field 'sheet')")
        return file.read(), file.filename, request.form.get("token") or None
    data = request.get_data(cache=False)
    if not data:
        raise BadRequest("send the spreadsheet (CSV UTF-8) as the body or as a form upload")
    return data, "upload.csv", None


@bp.get("/upload")
def import_page() -> Response:
    """The upload form."""
    html = render_template("upload.html", lang=current_lang(), kinds=list(KINDS), report=None)
    return Response(html, mimetype=HTML.media_type)


def _sheet_lang() -> str:
    """The sheets' language: the visitor's when the spreadsheet columns have it (French or
    English), else English."""
    lang = current_lang()
    return lang if lang in LANGS else "en"


@bp.get("/upload/template/<kind>.csv")
def import_template(kind: str) -> Response:
    """A blank template of ``kind`` (``offer``, ``organisation``, ``partnership``).

    :raises NotFound: unknown kind.
    """
    if kind not in KINDS:
        raise NotFound(f"no template for {kind!r}; kinds: {', '.join(KINDS)}")
    response = Response(template(kind, _sheet_lang()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response


@bp.post("/upload")
def import_upload() -> Response:
    """Check the uploaded sheet and add (or update) its conforming rows.

    :raises Unauthorized: no or wrong token; nothing is read.
    :raises ParseError: not a CSV UTF-8 sheet of a known kind.
    """
    data, name, form_token = _uploaded()
    header = f"Bearer {form_token}" if form_token else request.headers.get("Authorization")
    agent = authenticate(header, state().settings.tokens)
    lang = _sheet_lang()
    store = state().store
    validator = get_validator(store)
    sheet = read_sheet(data, source=name)
    report = import_sheet(store, sheet, validator=validator)  # type: ignore[arg-type]
    add_rows(store, report, agent=agent, validator=validator)  # type: ignore[arg-type]
    fmt = requested((HTML, JSON, CSV))
    if fmt is JSON:
        return jsonify(report.to_dict(lang))
    annotated = report.annotated(lang)
    if fmt is CSV:
        response = Response(annotated, mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="checked-{name}"'
        return response
    link = None
    if not report.conforms:
        link = url_for("upload.annotated", key=_keep(annotated))
    html = render_template(
        "upload.html", lang=current_lang(), kinds=list(KINDS), report=report,
        lines=report.to_text(lang).splitlines(), annotated_href=link, name=name,
        href=entity_href,
    )
    return Response(html, status=200, mimetype=HTML.media_type)


@bp.get("/upload/annotated/<key>.csv")
def annotated(key: str) -> Response:
    """An annotated sheet from an upload of the last hour.

    :raises NotFound: unknown or expired key.
    """
    with _kept_lock:
        found = _kept.get(key)
    if found is None or time.time() - found[0] > KEEP_SECONDS:
        raise NotFound("this annotated sheet is no longer kept: upload the sheet again")
    response = Response(found[1], mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="checked.csv"'
    return response
