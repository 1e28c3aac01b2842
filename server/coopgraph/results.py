"""Serialise query results: SPARQL 1.1 results in JSON, XML, CSV and TSV, and triples or
quads in any RDF format of :mod:`coopgraph.formats` (through ``pyoxigraph.serialize``).

Compute once, render many: a view gets a :data:`~coopgraph.store.base.QueryResult` and
asks :func:`serialize` for the bytes of the negotiated :class:`~coopgraph.formats.Format`.

>>> import pyoxigraph as ox
>>> from coopgraph.formats import result_format
>>> result = Solutions(["x"], [(ox.Literal("a,b"),)])
>>> serialize(result, result_format("csv")).decode()
'x\\r\\n"a,b"\\r\\n'
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from coopgraph.csvsafe import SafeWriter, escape_tsv, escape_tsv_term
from coopgraph.errors import NotAcceptable
from coopgraph.formats import RDF_FORMATS, RESULT_FORMATS, Format
from coopgraph.store.base import (
    Boolean,
    QueryResult,
    SerializedResult,
    Solutions,
    Term,
    Triples,
)
from coopgraph.vocab import RDF_PREFIXES, XSD

_SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
_XSD_STRING = XSD.string


def _json_term(term: Term | ox.Triple) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")


def to_json(result: Solutions | Boolean) -> bytes:
    """SPARQL 1.1 Query Results JSON."""
    if isinstance(result, Boolean):
        return json.dumps({"head": {}, "boolean": result.value}).encode()
    bindings = [
        {v: _json_term(t) for v, t in zip(result.variables, row, strict=True) if t is not None}
        for row in result.rows
    ]
    body = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _xml_term(term: Term | ox.Triple) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != _XSD_STRING:
            dt = quoteattr(term.datatype.value)
            return f"<literal datatype={dt}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {term!r}")


def to_xml(result: Solutions | Boolean) -> bytes:
    """SPARQL Query Results XML Format (second edition)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sparql xmlns="{_SPARQL_RESULTS_NS}">']
    if isinstance(result, Boolean):
        out.append("<head/>")
        out.append(f"<boolean>{'true' if result.value else 'false'}</boolean>")
    else:
        out.append("<head>")
        out.extend(f"<variable name={quoteattr(v)}/>" for v in result.variables)
        out.append("</head>")
        out.append("<results>")
        for row in result.rows:
            out.append("<result>")
            for v, t in zip(result.variables, row, strict=True):
                if t is not None:
                    out.append(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>")
            out.append("</result>")
        out.append("</results>")
    out.append("</sparql>")
    return "\n".join(out).encode("utf-8")


def _csv_value(term: Term | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def to_csv(result: Solutions | Boolean) -> bytes:
    """SPARQL 1.1 Query Results CSV (lossy: plain values). ASK gives one ``boolean`` cell."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lineterminator="\r\n")  # formula-like cells as text
    if isinstance(result, Boolean):
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.value else "false"])
    else:
        writer.writerow(result.variables)
        for row in result.rows:
            writer.writerow([_csv_value(t) for t in row])
    return buffer.getvalue().encode("utf-8")


def _tsv_value(term: Term | ox.Triple | None) -> str:
    if term is None:
        return ""
    # pyoxigraph's str() is the N-Triples form; tabs and newlines are escaped in literals.
    text = str(term)
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def to_tsv(result: Solutions | Boolean) -> bytes:
    """SPARQL 1.1 Query Results TSV (terms in N-Triples syntax). ASK gives one cell."""
    if isinstance(result, Boolean):
        return ("?boolean\n" + ("true" if result.value else "false") + "\n").encode()
    lines = ["\t".join("?" + v for v in result.variables)]
    lines.extend("\t".join(escape_tsv_term(_tsv_value(t)) for t in row) for row in result.rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


_RESULT_WRITERS = {"json": to_json, "xml": to_xml, "csv": to_csv, "tsv": to_tsv}


def serialize_rdf(
    statements: Iterable[ox.Triple | ox.Quad],
    fmt: Format,
    *,
    prefixes: dict[str, str] | None = None,
) -> bytes:
    """Triples or quads in an RDF format; quads lose their graph in triple formats.

    :raises NotAcceptable: ``fmt`` is not an RDF format.
    """
    if fmt.oxigraph is None:
        raise NotAcceptable(f"{fmt.label} is not an RDF serialisation")
    items: list[ox.Triple] | list[ox.Quad]
    if fmt.quads:
        items = [
            ox.Quad(s.subject, s.predicate, s.object, ox.DefaultGraph())
            if isinstance(s, ox.Triple) else s
            for s in statements
        ]
    else:
        items = [s.triple if isinstance(s, ox.Quad) else s for s in statements]
    data = ox.serialize(items, format=fmt.oxigraph, prefixes=_rdf_prefixes(fmt, prefixes))
    assert data is not None
    return data


def _rdf_prefixes(fmt: Format, prefixes: dict[str, str] | None = None) -> dict[str, str]:
    if fmt.oxigraph in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return {}
    return RDF_PREFIXES if prefixes is None else prefixes


def serialize(result: QueryResult, fmt: Format) -> bytes:
    """The bytes of ``result`` in ``fmt`` (a results format or, for triples, an RDF format).

    :raises NotAcceptable: the format cannot carry this kind of result.
    """
    if isinstance(result, Triples):
        return serialize_rdf(result.triples, fmt)
    writer = _RESULT_WRITERS.get(fmt.name) if fmt in RESULT_FORMATS else None
    if writer is None:
        raise NotAcceptable(f"{fmt.label} cannot carry SELECT or ASK results")
    return writer(result)


class _CapReached(Exception):
    """Raised by :class:`_LineSink` to stop a pyoxigraph writer (and the query) early."""


class _LineSink:
    """A binary output for pyoxigraph's writers that keeps the first ``keep`` lines.

    The line-based writers (SPARQL TSV, N-Triples) end every row with a newline and
    escape newlines inside terms, so lines are rows. At the next newline past ``keep``
    the sink raises :class:`_CapReached`: pyoxigraph stops writing and evaluating.
    """

    def __init__(self, keep: int | None) -> None:
        self.keep = keep
        self.chunks: list[bytes] = []
        self.lines = 0
        self.overflowed = False

    def write(self, data: bytes) -> int:
        if self.overflowed:
            raise _CapReached
        count = data.count(b"\n")
        if self.keep is not None and self.lines + count > self.keep:
            end = -1
            for _ in range(self.keep - self.lines):
                end = data.index(b"\n", end + 1)
            self.chunks.append(bytes(data[: end + 1]))
            self.lines = self.keep
            self.overflowed = True
            raise _CapReached
        self.chunks.append(bytes(data))
        self.lines += count
        return len(data)

    def flush(self) -> None:
        pass


def _write_lines(
    result: ox.QuerySolutions | ox.QueryTriples,
    fmt: ox.QueryResultsFormat | ox.RdfFormat,
    keep: int | None,
) -> tuple[bytes, int, bool]:
    """(bytes, lines, overflowed): ``result`` written natively, cut after ``keep`` lines."""
    sink = _LineSink(keep)
    try:
        result.serialize(sink, format=fmt)  # type: ignore[arg-type]
    except Exception:
        if not sink.overflowed:
            raise
    return b"".join(sink.chunks), sink.lines, sink.overflowed


def serialize_native(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples,
    fmt: Format,
    *,
    limit: int | None = None,
) -> SerializedResult:
    """Serialise a lazy pyoxigraph query result with pyoxigraph's own writers, at most
    ``limit`` rows or triples (``truncated`` tells when more existed).

    The cap is enforced natively: solutions are written as SPARQL TSV and triples as
    N-Triples (one row per line) until the line after the cap, then that text is
    re-parsed and written in ``fmt`` when ``fmt`` is another format. No Python term
    object is made for a row, which is what makes this several times faster than
    :func:`serialize` on a materialised result; the bytes parse back to the same rows.

    :param result: what ``pyoxigraph.Store.query`` returned, not yet iterated.
    :param fmt: a results format for solutions and booleans, an RDF format for triples.
    :raises NotAcceptable: ``fmt`` cannot carry this kind of result (checked before
        anything is evaluated).
    :raises OSError: a storage error while the query is evaluated.

    >>> store = ox.Store()
    >>> store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("1")))
    >>> from coopgraph.formats import result_format
    >>> out = serialize_native(store.query("SELECT ?o { ?s ?p ?o }"), result_format("csv"))
    >>> out.body, out.rows, out.truncated
    (b'o\\r\\n1\\r\\n', 1, False)
    """
    if isinstance(result, ox.QueryBoolean):
        body = serialize(Boolean(bool(result)), fmt)
        return SerializedResult("ASK", fmt.media_type, body, rows=1)
    if isinstance(result, ox.QuerySolutions):
        if fmt not in RESULT_FORMATS:
            raise NotAcceptable(f"{fmt.label} cannot carry SELECT results")
        tsv_format = ox.QueryResultsFormat.TSV
        keep = None if limit is None else limit + 1  # + the header line
        body, lines, truncated = _write_lines(result, tsv_format, keep)
        target = ox.QueryResultsFormat.from_media_type(fmt.media_type)
        if target == ox.QueryResultsFormat.CSV:  # ours: neutralises formula-like cells
            solutions = ox.parse_query_results(body, tsv_format)
            assert isinstance(solutions, ox.QuerySolutions)
            variables = [v.value for v in solutions.variables]
            body = to_csv(Solutions(variables, [tuple(row) for row in solutions]))
        elif target != tsv_format:
            solutions = ox.parse_query_results(body, tsv_format)
            assert isinstance(solutions, ox.QuerySolutions)
            written = solutions.serialize(format=target)
            assert written is not None
            body = written
        else:
            body = escape_tsv(body)  # literals a spreadsheet would run: first char escaped
        return SerializedResult("SELECT", fmt.media_type, body, truncated, lines - 1)
    if fmt.oxigraph is None:
        raise NotAcceptable(f"{fmt.label} cannot carry CONSTRUCT or DESCRIBE results")
    nt = ox.RdfFormat.N_TRIPLES
    body, lines, truncated = _write_lines(result, nt, limit)
    if fmt.oxigraph != nt:
        written = ox.serialize(ox.parse(body, nt), format=fmt.oxigraph, prefixes=_rdf_prefixes(fmt))
        assert written is not None
        body = written
    return SerializedResult("CONSTRUCT", fmt.media_type, body, truncated, lines)


def formats_for(result_kind: str | None) -> tuple[Format, ...]:
    """The formats a query form can be answered in, the default first.

    ``result_kind``: a query form (SELECT, ASK, CONSTRUCT, DESCRIBE).
    """
    if result_kind in ("CONSTRUCT", "DESCRIBE"):
        return RDF_FORMATS
    return RESULT_FORMATS


def content_type(fmt: Format) -> str:
    """The Content-Type header value for a format (UTF-8 for every textual one)."""
    return f"{fmt.media_type}; charset=utf-8"
