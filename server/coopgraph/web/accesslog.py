"""The access log: one line per request in the Common Log Format, written by a WSGI
wrapper around the app (issue 16: refused writes and failed logins were recorded nowhere).

What it never holds: secrets (no header is logged, so no ``Authorization``) and query
texts (the value of ``query``/``update`` in a query string is replaced by its length;
bodies are never logged). Refused writes appear as their 401/403/413/422/503 lines, and
so do the requests waitress answers itself without calling the app (a body over
``max_body_bytes``: 413; a malformed request: 400), through :meth:`AccessLog.channel_class`.

>>> redact_query("query=SELECT%20*&format=json")
'query=[8 chars]&format=json'
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, Any
from urllib.parse import parse_qsl

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

__all__ = ["AccessLog", "redact_query"]

#: Query-string parameters whose values are query texts: logged as their length only.
REDACTED = frozenset({"query", "update", "q"})


def redact_query(query_string: str) -> str:
    """The query string with the values of :data:`REDACTED` parameters replaced."""
    parts = []
    for piece in query_string.split("&"):
        name, sep, value = piece.partition("=")
        if sep and name in REDACTED:
            decoded = "".join(v for _, v in parse_qsl(piece, keep_blank_values=True))
            parts.append(f"{name}=[{len(decoded)} chars]")
        else:
            parts.append(piece)
    return "&".join(parts)


def _clean(text: str) -> str:
    """No line breaks, quotes or control characters from the client in the log."""
    return "".join(c if " " <= c < "\x7f" and c != '"' else f"\\x{ord(c):02x}" for c in text)


class AccessLog:
    """WSGI middleware writing ``host - - [date] "METHOD path HTTP/x" status bytes``.

    :param app: the WSGI application.
    :param stream: where lines go (stderr, or an open file).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], stream: IO[str]) -> None:
        self.app = app
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def logging_start(status: str, headers: Any, exc_info: Any = None) -> Any:
            # Logged when the answer starts; the size is its Content-Length. The body is
            # left as it is: wrapping it in a generator took waitress off its fast path
            # (gallery reads under load: p50 25 → 90 ms).
            length = next((v for k, v in headers if k.lower() == "content-length"), "-")
            self._write(environ, status.split(" ", 1)[0], length)
            return start_response(status, headers, exc_info)

        return self.app(environ, logging_start)

    def channel_class(self) -> type[HTTPChannel]:
        """A waitress channel whose own error answers (413 for a body over the limit, 400
        for a malformed request: the app never sees those) are logged here too."""
        log = self

        class LoggedErrorTask(ErrorTask):
            def execute(self) -> None:
                super().execute()
                request: Any = self.request  # waitress's parser of the refused request
                addr = self.channel.addr
                log._write({
                    "REMOTE_ADDR": addr[0] if isinstance(addr, tuple) else "-",
                    "REQUEST_METHOD": request.command or "-",
                    "PATH_INFO": request.path or "",
                    "QUERY_STRING": request.query or "",
                    "SERVER_PROTOCOL": f"HTTP/{request.version}" if request.version else "-",
                }, str(self.status).split(" ", 1)[0], str(self.content_length))

        class LoggedChannel(HTTPChannel):
            error_task_class = LoggedErrorTask

        return LoggedChannel

    def _write(self, environ: dict[str, Any], status: str, size: str) -> None:
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        target = path + ("?" + redact_query(query) if query else "")
        method, protocol = environ.get("REQUEST_METHOD", "-"), environ.get("SERVER_PROTOCOL", "-")
        request = f"{method} {target} {protocol}"
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime())
        line = (
            f'{environ.get("REMOTE_ADDR", "-")} - - [{stamp}] "{_clean(request)}" '
            f"{status} {size if size not in ('', '0') else '-'}\n"
        )
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):
                pass


def open_log(target: str) -> IO[str] | None:
    """The stream for the ``access_log`` setting: ``-`` stderr, ``""`` none, else a file
    opened for appending."""
    if target == "":
        return None
    if target == "-":
        return sys.stderr
    return open(target, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the server
