"""The one table of formats: name ↔ media type ↔ file extension ↔ pyoxigraph format.

Negotiation (``web/negotiate.py``), ``--format`` options, exports and tests all read
:data:`RDF_FORMATS` and :data:`RESULT_FORMATS`; nothing else lists media types.

>>> rdf_format_for_path("entry.ttl").name
'turtle'
>>> rdf_format("application/ld+json").name
'jsonld'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import pyoxigraph as ox

from coopgraph.errors import UnsupportedFormat


@dataclass(frozen=True)
class Format:
    """One serialisation: its short name, media types (first = canonical) and extensions."""

    name: str
    media_types: tuple[str, ...]
    extensions: tuple[str, ...]
    label: str
    oxigraph: ox.RdfFormat | None = None
    quads: bool = False  # can it carry named graphs?

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def extension(self) -> str:
        return self.extensions[0]


RDF_FORMATS: tuple[Format, ...] = (
    Format(
        "turtle", ("text/turtle", "application/x-turtle"), ("ttl",), "Turtle", ox.RdfFormat.TURTLE
    ),
    Format("trig", ("application/trig",), ("trig",), "TriG", ox.RdfFormat.TRIG, quads=True),
    Format(
        "ntriples",
        ("application/n-triples", "text/plain"),
        ("nt",),
        "N-Triples",
        ox.RdfFormat.N_TRIPLES,
    ),
    Format(
        "nquads", ("application/n-quads",), ("nq",), "N-Quads", ox.RdfFormat.N_QUADS, quads=True
    ),
    Format(
        "jsonld",
        ("application/ld+json", "application/json"),
        ("jsonld", "json"),
        "JSON-LD",
        ox.RdfFormat.JSON_LD,
        quads=True,
    ),
    Format(
        "rdfxml",
        ("application/rdf+xml", "application/xml", "text/xml"),
        ("rdf", "owl", "xml"),
        "RDF/XML",
        ox.RdfFormat.RDF_XML,
    ),
)

RESULT_FORMATS: tuple[Format, ...] = (
    Format(
        "json", ("application/sparql-results+json", "application/json"), ("srj", "json"), "JSON"
    ),
    Format(
        "xml",
        ("application/sparql-results+xml", "application/xml", "text/xml"),
        ("srx", "xml"),
        "XML",
    ),
    Format("csv", ("text/csv",), ("csv",), "CSV"),
    Format("tsv", ("text/tab-separated-values",), ("tsv",), "TSV"),
)

HTML = Format("html", ("text/html", "application/xhtml+xml"), ("html",), "HTML")
#: Plain JSON (reports, page data, the change feed) and spreadsheets, offered beside HTML.
JSON = Format("json", ("application/json",), ("json",), "JSON")
CSV = Format("csv", ("text/csv",), ("csv",), "CSV")

#: Network exports (``coopgraph export``, ``/export/network.<ext>``); see network.py/exports.py.
EXPORT_FORMATS: tuple[Format, ...] = (
    Format("graphml", ("application/graphml+xml",), ("graphml",), "GraphML"),
    Format("gexf", ("application/gexf+xml",), ("gexf",), "GEXF"),
    Format("csv", ("application/zip",), ("zip",), "CSV (nodes.csv + edges.csv, zipped)"),
    Format("jsonld", ("application/ld+json",), ("jsonld",), "JSON-LD"),
)

#: Change feed (``/changes``, see changes.py): Atom for feed readers, JSON for scripts.
FEED_FORMATS: tuple[Format, ...] = (
    Format("atom", ("application/atom+xml",), ("atom",), "Atom"),
    JSON,
)


def _lookup(table: tuple[Format, ...], key: str, kind: str) -> Format:
    key = key.strip().lower()
    base = key.split(";", 1)[0].strip()
    for fmt in table:
        if base == fmt.name or base in fmt.media_types or base.lstrip(".") in fmt.extensions:
            return fmt
    names = ", ".join(f.name for f in table)
    raise UnsupportedFormat(f"unknown {kind} format {key!r}; expected one of: {names}")


def rdf_format(key: str) -> Format:
    """An RDF format by name, media type or extension.

    :raises UnsupportedFormat: when nothing matches.
    """
    return _lookup(RDF_FORMATS, key, "RDF")


def result_format(key: str) -> Format:
    """A SPARQL results format by name, media type or extension.

    :raises UnsupportedFormat: when nothing matches.
    """
    return _lookup(RESULT_FORMATS, key, "SPARQL results")


def export_format(key: str) -> Format:
    """A network export format by name, media type or extension.

    :raises UnsupportedFormat: when nothing matches.
    """
    return _lookup(EXPORT_FORMATS, key, "network export")


def rdf_format_for_path(path: str | PurePath) -> Format:
    """The RDF format a file's extension names.

    :raises UnsupportedFormat: for an unknown or missing extension.
    """
    suffix = PurePath(path).suffix.lstrip(".").lower()
    if not suffix:
        raise UnsupportedFormat(f"{path}: no file extension; cannot tell the RDF format")
    try:
        return rdf_format(suffix)
    except UnsupportedFormat:
        known = ", ".join("." + e for f in RDF_FORMATS for e in f.extensions)
        raise UnsupportedFormat(
            f"{path}: unknown extension .{suffix}; coopgraph reads {known}"
        ) from None
