"""Files of a bulk import → a stream of candidate entries, one named graph at a time.

* N-Quads and TriG hold many graphs: they are parsed as a stream (pyoxigraph reads the
  file in chunks), and each run of consecutive quads of one graph is one candidate. An
  entry's quads must be contiguous, as every serialiser writes them; a graph met again
  after other graphs is refused with that reason (its first part stands on its own).
  Triples outside any named graph form the file's own entry, named after the file.
* Turtle, N-Triples, RDF/XML and JSON-LD files are one entry each: the entry graph the
  file names, else ``cgg:entry/<file name as a slug>`` (so a re-run finds it again).
* CSV files are filled spreadsheet templates (:mod:`coopgraph.tabular`): each row is
  turned into RDF and validated there, with the row and column of each problem.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from coopgraph.entries import SLUG, GraphContent, entry_graph
from coopgraph.errors import CoopgraphError, ParseError, UnsupportedFormat
from coopgraph.formats import Format, rdf_format, rdf_format_for_path
from coopgraph.parse import parse_bytes, skolemise
from coopgraph.vocab import ENTRY_GRAPH_PREFIX, GRAPH

__all__ = ["Candidate", "Source", "candidates", "source_for"]

#: Reference graphs (places, programmes, concept schemes) are written only on request.
REFERENCE_PREFIX = GRAPH["reference/"]
#: How often (in quads) the byte position of a streamed file is reported.
_PROGRESS_EVERY = 5000


@dataclass
class Candidate(GraphContent):
    """One graph read from a file, before validation (``source``: the file name recorded
    in the provenance log)."""

    #: where it was found, for the report (``big.nq``, ``offers.csv row 3``)
    origin: str
    #: why it is refused before validation (not an entry graph, split, sheet errors)
    refused: str = ""
    #: rule IDs of the problems found before validation (spreadsheet rows)
    rules: list[str] = field(default_factory=list)
    #: already validated (spreadsheet rows are validated by the sheet import)
    validated: bool = False
    #: must not exist yet (a spreadsheet row whose identifier is taken by another entry
    #: than the one the row made before)
    new_only: bool = False
    #: the spreadsheet row it comes from, with its sheet report (:mod:`coopgraph.tabular`)
    row: Any = None

    def __post_init__(self) -> None:
        # as the entries pipeline stores them: blank nodes as skolem IRIs, the same ones
        # for the same content (re-runs compare equal, later writes can name every node)
        self.quads = skolemise(self.quads, self.graph)


@dataclass
class Source:
    """One input of a run: a file (or an HTTP body saved to one) and how to read it."""

    path: Path
    #: the name shown and recorded (the file name, or ``HTTP POST /import``)
    name: str
    #: an RDF :class:`Format`, or ``"csv"``
    fmt: Format | str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def source_for(path: str | Path, *, fmt: str | None = None, name: str | None = None) -> Source:
    """The :class:`Source` for a file; the format comes from its extension unless given.

    :raises UnsupportedFormat: an extension (or format name) coopgraph cannot import.
    :raises ParseError: the file does not exist or cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise ParseError("no such file", source=str(path))
    wanted = (fmt or path.suffix.lstrip(".")).lower()
    if wanted in ("csv", "text/csv"):
        return Source(path, name or path.name, "csv")
    try:
        rdf = rdf_format(wanted) if fmt else rdf_format_for_path(path)
    except UnsupportedFormat as exc:
        raise UnsupportedFormat(f"{exc.message}, or .csv (a filled spreadsheet)") from None
    return Source(path, name or path.name, rdf)


def slug_of(name: str) -> str:
    """A file name → an entry id (``Offre Lille 2026.ttl`` → ``offre-lille-2026``)."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:100].strip("-")
    return slug if SLUG.fullmatch(slug) else "entry"


def _refusal(graph: str, reference: bool) -> str:
    """Why ``graph`` cannot be imported ('' when it can)."""
    if graph.startswith(ENTRY_GRAPH_PREFIX):
        slug = graph[len(ENTRY_GRAPH_PREFIX):]
        return "" if SLUG.fullmatch(slug) else f"bad entry id {slug!r} (use a slug)"
    if graph.startswith(REFERENCE_PREFIX):
        slug = graph[len(REFERENCE_PREFIX):]
        if not SLUG.fullmatch(slug):
            return f"bad reference graph name {slug!r} (use a slug)"
        if not reference:
            return (
                "a reference graph: import reference data with --reference "
                "(HTTP: ?reference=true)"
            )
        return ""
    return (
        "not an entry graph: only cgg:entry/<id> graphs (and cgg:reference/<id> with "
        "--reference) can be imported"
    )


def _single(source: Source, reference: bool) -> Iterator[Candidate]:
    """A Turtle / N-Triples / RDF/XML / JSON-LD file: one entry."""
    assert isinstance(source.fmt, Format)
    data = source.path.read_bytes()
    quads = parse_bytes(data, source.fmt, source=source.name)
    named = sorted({q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)})
    graph = named[0] if len(named) == 1 else entry_graph(slug_of(source.name))
    refused = _refusal(graph, reference)
    if len(named) > 1:
        refused = (
            f"names {len(named)} graphs; a {source.fmt.label} file is one entry "
            "(use N-Quads or TriG for many)"
        )
    node = ox.NamedNode(graph)
    yield Candidate(
        graph,
        [ox.Quad(q.subject, q.predicate, q.object, node) for q in quads],
        source.name,
        source.name,
        refused,
    )


class _Tracked:
    """A binary file that remembers how far it has been read (for the progress bar)."""

    def __init__(self, handle: io.BufferedReader) -> None:
        self.handle = handle
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        n = self.handle.readinto(buffer)
        self.position += n or 0
        return n or 0

    def readable(self) -> bool:
        return True


def _stream(
    source: Source, reference: bool, advance: Callable[[int], None]
) -> Iterator[Candidate]:
    """An N-Quads / TriG file: one candidate per run of quads of one graph."""
    assert isinstance(source.fmt, Format) and source.fmt.oxigraph is not None
    own = entry_graph(slug_of(source.name))
    done: set[str] = set()
    current: Any = None
    quads: list[ox.Quad] = []
    reported = 0

    def flush() -> Iterator[Candidate]:
        if current is None or not quads:
            return
        graph = own if isinstance(current, ox.DefaultGraph) else current.value
        refused = _refusal(graph, reference)
        if graph in done:
            refused = (
                "its quads are not contiguous in the file (the graph appears again after "
                "other graphs): sort the file by graph and import it again"
            )
        nested = next((q for q in quads if isinstance(q.object, ox.Triple)), None)
        if nested is not None and not refused:
            refused = "RDF 1.2 triple terms are not supported in entries"
        done.add(graph)
        batch = quads
        if isinstance(current, ox.DefaultGraph):
            node = ox.NamedNode(graph)
            batch = [ox.Quad(q.subject, q.predicate, q.object, node) for q in quads]
        yield Candidate(graph, batch, source.name, source.name, refused)

    with source.path.open("rb") as handle:
        tracked = _Tracked(handle)
        try:
            for count, quad in enumerate(
                ox.parse(tracked, format=source.fmt.oxigraph), start=1  # type: ignore[arg-type]
            ):
                if quad.graph_name != current:
                    yield from flush()
                    current, quads = quad.graph_name, []
                quads.append(quad)
                if count % _PROGRESS_EVERY == 0:
                    advance(tracked.position - reported)
                    reported = tracked.position
        except SyntaxError as exc:
            raise ParseError(
                f"{exc}; the entries before this point were read, the one in progress and "
                "the rest of the file were not",
                source=source.name,
            ) from None
        yield from flush()
        advance(tracked.position - reported)


def _sheet(
    source: Source, store: Any, validator: Any, options: dict[str, Any]
) -> Iterator[Candidate]:
    """A filled spreadsheet template: rows built and validated by :mod:`coopgraph.tabular`."""
    from coopgraph.tabular import import_sheet, read_sheet

    sheet = read_sheet(source.path.read_bytes(), source=source.name, kind=options.get("kind"))
    report = import_sheet(store, sheet, lang=options.get("lang"), validator=validator)
    options.setdefault("sheets", []).append(report)
    lang = options.get("lang") or sheet.lang
    for row in report.rows:
        origin = f"{source.name} row {row.number}"
        if row.conforms and row.graph:
            yield Candidate(
                row.graph, row.quads, f"{source.name} ({row.number})", origin,
                # a row whose entry an earlier import of the sheet made (same identifier)
                # replaces it; any other taken identifier is refused (issue 13)
                validated=True, new_only=not row.update, row=(report, row),
            )
        else:
            violations = [i for i in row.issues if i.severity == "Violation"]
            yield Candidate(
                row.graph or f"{source.name}#row-{row.number}", [], source.name, origin,
                refused="; ".join(report.line(i, lang, with_row=False) for i in violations)
                or "the row could not be turned into an entry",
                rules=sorted({i.rule for i in violations if i.rule}),
                row=(report, row),
            )


def candidates(
    source: Source,
    *,
    reference: bool,
    advance: Callable[[int], None],
    store: Any = None,
    validator: Any = None,
    sheet_options: dict[str, Any] | None = None,
) -> Iterator[Candidate]:
    """Every candidate entry of ``source``, in file order.

    :param reference: accept ``cgg:reference/<id>`` graphs (reference data).
    :param advance: called with the number of bytes read since the last call.
    :raises ParseError: the file is unreadable or invalid (streamed files: at the point
        of the error, after the complete entries before it).
    :raises UnsupportedFormat: not a format the import reads.
    """
    try:
        if source.fmt == "csv":
            yield from _sheet(source, store, validator, sheet_options or {})
            advance(source.size)
        elif isinstance(source.fmt, Format) and source.fmt.name in ("nquads", "trig"):
            yield from _stream(source, reference, advance)
        else:
            yield from _single(source, reference)
            advance(source.size)
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror}", source=source.name) from None
    except CoopgraphError:
        raise
