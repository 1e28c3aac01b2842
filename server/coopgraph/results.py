"""Serialise query results with pyoxigraph's writers: SPARQL 1.1 results in JSON, XML,
CSV and TSV (``pyoxigraph.QueryResultsFormat``), triples or quads in any RDF format of
:mod:`coopgraph.formats` (``pyoxigraph.serialize``). There is no other writer: every store
(embedded, isolated, remote) and the CLI write through :func:`serialize_native`.

Compute once, render many: a view gets a :data:`~coopgraph.store.base.QueryResult` (or
the bytes a store already wrote, :class:`~coopgraph.store.base.SerializedResult`) and asks
for the bytes of the negotiated :class:`~coopgraph.formats.Format`. CSV and TSV answers
are made safe to open in a spreadsheet (:mod:`coopgraph.csvsafe`).

>>> import pyoxigraph as ox
>>> from coopgraph.formats import result_format
>>> result = Solutions(["x"], [(ox.Literal("a,b"),)])
>>> serialize(result, result_format("csv")).decode()
'x\\r\\n"a,b"\\r\\n'
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from coopgraph.csvsafe import escape_tsv, neutralise_csv
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
from coopgraph.vocab import RDF_PREFIXES

_TSV = ox.QueryResultsFormat.TSV
_CSV = ox.QueryResultsFormat.CSV
#: SPARQL's CSV and TSV formats define no ASK answer (pyoxigraph writes a bare ``true``):
#: ours has a header line, like every other CSV and TSV the product writes.
_BOOLEAN_HEADERS = {_CSV: (b"boolean", b"\r\n"), _TSV: (b"?boolean", b"\n")}


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
    return _written(
        ox.serialize(items, format=fmt.oxigraph, prefixes=_rdf_prefixes(fmt, prefixes))
    )


def _rdf_prefixes(fmt: Format, prefixes: dict[str, str] | None = None) -> dict[str, str]:
    if fmt.oxigraph in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return {}
    return RDF_PREFIXES if prefixes is None else prefixes


def serialize(result: QueryResult, fmt: Format) -> bytes:
    """The bytes of a result already read into terms, in ``fmt`` (a results format or, for
    triples, an RDF format), by the writers of :func:`serialize_native`.

    :raises NotAcceptable: the format cannot carry this kind of result.
    """
    if isinstance(result, Triples):
        return serialize_rdf(result.triples, fmt)
    target = _results_format(fmt, "SELECT or ASK")
    if isinstance(result, Boolean):
        return _boolean(result.value, target)
    return _from_tsv(_tsv(result), target)


def _results_format(fmt: Format, kind: str) -> ox.QueryResultsFormat:
    """pyoxigraph's results format for ``fmt``.

    :raises NotAcceptable: ``fmt`` is not a results format.
    """
    if fmt not in RESULT_FORMATS:
        raise NotAcceptable(f"{fmt.label} cannot carry {kind} results")
    target = ox.QueryResultsFormat.from_media_type(fmt.media_type)
    assert target is not None  # every results format of formats.py is one of pyoxigraph's
    return target


def _tsv(result: Solutions) -> bytes:
    """Terms as SPARQL TSV, as pyoxigraph's TSV writer puts them (N-Triples terms, one row
    a line): how terms get back into pyoxigraph, which builds result objects only from a
    query or a parser."""
    lines = ["\t".join("?" + v for v in result.variables)]
    lines.extend("\t".join(_tsv_term(t) for t in row) for row in result.rows)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _tsv_term(term: Term | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Triple):
        inner = (_tsv_term(term.subject), _tsv_term(term.predicate), _tsv_term(term.object))
        return "<<( {} {} {} )>>".format(*inner)
    return str(term)  # N-Triples: tabs and newlines of literals escaped


def _from_tsv(body: bytes, target: ox.QueryResultsFormat) -> bytes:
    """Solutions written as SPARQL TSV, in ``target`` by pyoxigraph's writer; CSV and TSV
    made safe for spreadsheets (:mod:`coopgraph.csvsafe`)."""
    if target == _TSV:
        return escape_tsv(body)  # literals a spreadsheet would run: first char escaped
    solutions = ox.parse_query_results(body, _TSV)
    assert isinstance(solutions, ox.QuerySolutions)
    written = _written(solutions.serialize(format=target))
    return neutralise_csv(written) if target == _CSV else written  # formula-like cells


def _boolean(value: bool, target: ox.QueryResultsFormat) -> bytes:
    """An ASK answer in ``target``."""
    word = b"true" if value else b"false"
    if target in _BOOLEAN_HEADERS:
        header, end = _BOOLEAN_HEADERS[target]
        return header + end + word + end
    return _written(ox.parse_query_results(word, _TSV).serialize(format=target))


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
    re-parsed and written in ``fmt`` by pyoxigraph when ``fmt`` is another format. No
    Python term object is made for a row; the bytes parse back to the same rows. A CSV
    or TSV answer is made safe for spreadsheets (:mod:`coopgraph.csvsafe`), and an ASK
    answer in CSV or TSV gets a header line (``boolean``, ``?boolean``).

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
        body = _boolean(bool(result), _results_format(fmt, "ASK"))
        return SerializedResult("ASK", fmt.media_type, body, rows=1)
    if isinstance(result, ox.QuerySolutions):
        target = _results_format(fmt, "SELECT")
        keep = None if limit is None else limit + 1  # + the header line
        body, lines, truncated = _write_lines(result, _TSV, keep)
        body = _from_tsv(body, target)
        return SerializedResult("SELECT", fmt.media_type, body, truncated, lines - 1)
    if fmt.oxigraph is None:
        raise NotAcceptable(f"{fmt.label} cannot carry CONSTRUCT or DESCRIBE results")
    nt = ox.RdfFormat.N_TRIPLES
    body, lines, truncated = _write_lines(result, nt, limit)
    if fmt.oxigraph != nt:
        body = _written(
            ox.serialize(ox.parse(body, nt), format=fmt.oxigraph, prefixes=_rdf_prefixes(fmt))
        )
    return SerializedResult("CONSTRUCT", fmt.media_type, body, truncated, lines)


def _written(body: bytes | None) -> bytes:
    """What a pyoxigraph writer returned when given no output (always the bytes)."""
    assert body is not None
    return body


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
