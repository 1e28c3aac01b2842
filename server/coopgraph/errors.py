"""One exception tree for coopgraph.

Each class knows the HTTP status it maps to and the CLI exit code it maps to, so the
web layer (``web/__init__.py``) and the CLI (``cli/common.py``) are the only two places that
translate errors; everything below them just raises.

Exit codes (documented in README.md): 0 success/conforms, 1 does not conform,
2 input cannot be read or parsed (or bad usage), 3 unsupported format or feature,
4 store or server error.
"""

from __future__ import annotations

from typing import Any


class CoopgraphError(Exception):
    """Base class: a message for people plus machine-readable details."""

    status: int = 500
    exit_code: int = 4
    title: str = "Internal error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape: ``error``, ``status``, ``detail`` (+ optional extras)."""
        body: dict[str, Any] = {"error": self.title, "status": self.status, "detail": self.message}
        body.update(self.details)
        return body


class BadRequest(CoopgraphError):
    """The request itself is malformed (missing or repeated parameter, bad value)."""

    status = 400
    exit_code = 2
    title = "Bad request"


class ParseError(BadRequest):
    """RDF input that cannot be parsed; carries file, line and column when known."""

    title = "Unparseable RDF"

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = source or "<input>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(
            f"{where}: {message}",
            details={"source": source, "line": line, "column": column},
        )
        self.source = source
        self.line = line
        self.column = column


class QuerySyntaxError(BadRequest):
    """A SPARQL query that does not parse; the message carries the parser's position."""

    title = "SPARQL syntax error"


class QueryRefused(BadRequest):
    """A query that parses but that the public endpoint refuses (SERVICE, LOAD, update…)."""

    status = 400
    title = "Query refused"


class Forbidden(CoopgraphError):
    status = 403
    exit_code = 2
    title = "Forbidden"


class Unauthorized(CoopgraphError):
    """Missing or wrong bearer token on a write route."""

    status = 401
    exit_code = 2
    title = "Unauthorized"


class NotFound(CoopgraphError):
    status = 404
    exit_code = 2
    title = "Not found"


class NotAcceptable(CoopgraphError):
    """No representation matches the client's Accept header."""

    status = 406
    exit_code = 3
    title = "Not acceptable"


class PayloadTooLarge(CoopgraphError):
    status = 413
    exit_code = 2
    title = "Payload too large"


class UnsupportedFormat(CoopgraphError):
    """A file extension or media type coopgraph cannot read or write."""

    status = 415
    exit_code = 3
    title = "Unsupported format"


class ValidationFailed(CoopgraphError):
    """An entry that does not conform to the shapes; ``report`` is a validate.Report."""

    status = 422
    exit_code = 1
    title = "Entry does not conform to the shapes"

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["report"] = self.report.to_dict()
        return body


class Conflict(CoopgraphError):
    status = 409
    exit_code = 2
    title = "Conflict"


class QueryTimeout(CoopgraphError):
    """A query that ran past its time budget; the worker running it was stopped."""

    status = 503
    exit_code = 4
    title = "Query timeout"


class OverBudget(CoopgraphError):
    """A query that went over the store process's memory budget (``memory_limit_mib``):
    the operating system refused it memory, the process was restarted (issue 16)."""

    status = 503
    exit_code = 4
    title = "Query over memory budget"


class Busy(CoopgraphError):
    """A write that waited ``write_wait`` seconds behind other writes; nothing was written."""

    status = 503
    exit_code = 4
    title = "Busy"


class StoreError(CoopgraphError):
    """Storage or I/O failure (the store directory, a remote store)."""

    status = 500
    exit_code = 4
    title = "Store error"


class StartupError(CoopgraphError):
    """Configuration or startup problem; the CLI prints one line and exits 2."""

    status = 500
    exit_code = 2
    title = "Startup error"
