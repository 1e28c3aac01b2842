"""Writes while a server holds the store: ``import --add``, ``add``, ``replace`` and
``remove`` send their file to the running ``coopgraph serve`` over HTTP (issue 13).

The server is the one given by ``--server URL``, else the one that recorded serving the
configured disk store (:mod:`coopgraph.served`). The token is ``--token`` or
``COOPGRAPH_TOKEN`` (one of the server's ``COOPGRAPH_TOKENS`` secrets); the provenance
log names the token's owner, as for any HTTP write. The server runs the same pipeline
as the command would (``POST /import``, ``POST`` / ``PUT`` / ``DELETE /entries``), and its
answer becomes the command's report and exit code (README): 0 written, 1 an entry does
not conform, 2 unreadable input or refused token, 3 unsupported format, 4 server error.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coopgraph import errors
from coopgraph.cli.common import F, agent_option, reports_errors, store_options, tell
from coopgraph.served import served_by
from coopgraph.settings import Settings

if TYPE_CHECKING:
    from coopgraph.bulk.report import BulkReport

TOKEN_ENV = "COOPGRAPH_TOKEN"
#: Seconds a write may take on the server (a large sheet, inferences included).
TIMEOUT = 600.0

server_option = click.option(
    "--server",
    default=None,
    metavar="URL",
    help="Write through this running coopgraph server (default: the server holding the "
    "store, if any).",
)
token_option = click.option(
    "--token",
    default=None,
    metavar="SECRET",
    help=f"Bearer token for --server (default: ${TOKEN_ENV}).",
)



def write_options(who: str) -> Callable[[F], F]:
    """The options of every write command (add, replace, remove, import), stacked once:
    ``--agent`` (``who`` is its help), ``--server``, ``--token``, the store options, and
    errors turned into the README's exit codes.
    """

    def stack(func: F) -> F:
        return agent_option(who)(server_option(token_option(store_options(reports_errors(func)))))

    return stack


#: HTTP statuses of the server's answers → the error the command exits with.
_BY_STATUS: dict[int, type[errors.CoopgraphError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedFormat,
    422: errors.ValidationFailed,
}


@dataclass(frozen=True)
class Server:
    """A running coopgraph server and the token to write with."""

    url: str
    token: str

    def send(self, method: str, path: str, data: bytes | None = None,
             content_type: str | None = None, **params: str) -> tuple[int, Any]:
        """One request; the status and the JSON body (``None`` when not JSON).

        :raises StoreError: the server cannot be reached (exit 4).
        """
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
        url = self.url.rstrip("/") + path + ("?" + query if query else "")
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise errors.StoreError(
                f"cannot reach the coopgraph server at {self.url}: {reason}",
                details={"store_changed": False},
            ) from None


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def server_for(settings: Settings, url: str | None, token: str | None) -> Server | None:
    """The server to write through: ``--server``, else the live server holding the store;
    None when the command can open the store itself.

    :raises Unauthorized: a server is to be used and no token was given (exit 2); the
        message says what to run.
    """
    found = None if url else served_by(settings.store)
    if url is None and found is None:
        return None
    secret = token or os.environ.get(TOKEN_ENV, "")
    where = url or found.url  # type: ignore[union-attr]
    if not secret:
        held = (f"{settings.store} is held by `coopgraph serve` (pid {found.pid}) at "
                f"{found.url}; " if found else "")
        refused = errors.Unauthorized(
            f"{held}writing through the server needs a token: set {TOKEN_ENV}=<secret> "
            "(one of the server's COOPGRAPH_TOKENS) or pass --token, and run the same "
            "command again",
            details={"store_changed": False},
        )
        refused.store_changed = False  # type: ignore[attr-defined]
        raise refused
    if found is not None:
        tell(f"coopgraph: {settings.store} is served by pid {found.pid}; writing through "
             f"{found.url}")
    return Server(where, secret)


class ServerRefused(errors.CoopgraphError):
    """The server refused the write: its status, its words, and the exit code of the
    error that status stands for (a 422 exits 1, a 415 exits 3, a 5xx exits 4)."""

    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else None
        changed = body.get("store_changed", False) if isinstance(body, dict) else None
        super().__init__(f"the server answered {status}: {detail or 'no detail'}",
                         details={"store_changed": changed})
        kind = _BY_STATUS.get(status, errors.StoreError)
        self.status = status
        self.exit_code = kind.exit_code
        self.store_changed = changed


def media_type(file: str) -> str:
    """The ``Content-Type`` to send ``file`` with, from its extension.

    :raises UnsupportedFormat: an extension coopgraph does not read (exit 3).
    """
    from coopgraph.formats import rdf_format_for_path

    if file.lower().endswith(".csv"):
        return "text/csv"
    return rdf_format_for_path(file).media_type


def read(file: str) -> bytes:
    """:raises ParseError: the file cannot be read (exit 2)."""
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        raise errors.ParseError(f"cannot read file: {exc.strerror}", source=file) from None


def import_files(server: Server, files: tuple[str, ...] | list[str], *, write: bool = True,
                 reference: bool = False, kind: str | None = None,
                 lang: str | None = None) -> BulkReport:
    """``POST /import`` each file (the pipeline of ``coopgraph import --add``; with
    ``write=False`` its dry run, ``?check=true``); the reports of all files as one.

    :raises ServerRefused: the server refused a file (token, format, size, busy…).
    """
    from coopgraph.bulk.report import BulkReport

    merged = BulkReport()
    for file in files:
        status, body = server.send(
            "POST", "/import", read(file), media_type(file), name=Path(file).name,
            reference="true" if reference else "", kind=kind or "", lang=lang or "",
            check="" if write else "true",
        )
        if status not in (200, 400) or not isinstance(body, dict) or "entries" not in body:
            raise ServerRefused(status, body)
        part = BulkReport.from_dict(body)
        merged.outcomes += part.outcomes
        merged.errors += [f"{file}: {error}" for error in part.errors]
        merged.seconds += part.seconds
        merged.inferred = part.inferred
    return merged


def write_entry(server: Server, action: str, file: str | None, graph: str | None,
                lang: str) -> dict[str, Any]:
    """``POST /entries`` (add), ``PUT /entries/<id>`` (replace) or ``DELETE`` (remove);
    the server's account of the write. A rejected entry's report is printed first.

    :raises ServerRefused: the entry was rejected (exit 1) or the request refused.
    """
    from coopgraph.entries import entry_graph, entry_id

    wanted = entry_id(entry_graph(graph)) if graph else ""
    if action == "remove":
        status, body = server.send("DELETE", f"/entries/{urllib.parse.quote(wanted)}")
    else:
        assert file is not None
        method, path = ("POST", "/entries") if action == "add" else (
            "PUT", f"/entries/{urllib.parse.quote(wanted)}")
        status, body = server.send(method, path, read(file), media_type(file),
                                   id=wanted if action == "add" else "", lang=lang)
    if status in (200, 201) and isinstance(body, dict):
        return body
    if status == 422 and isinstance(body, dict):
        for result in body.get("report", {}).get("results", []):
            where = " ".join(str(x) for x in (result.get("focusLabel") or result.get("focus"),
                                              result.get("path")) if x)
            click.echo(f"{result.get('severity', '')} [{result.get('rule') or '?'}] "
                       f"{where}: {result.get('message', '')}")
    raise ServerRefused(status, body)
