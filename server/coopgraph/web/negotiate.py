"""Content negotiation: an ``Accept`` header (q-values, wildcards) or a ``format`` /
``output`` parameter → one entry of the formats table (:mod:`coopgraph.formats`).

>>> from coopgraph.formats import RESULT_FORMATS
>>> negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULT_FORMATS).name
'xml'
>>> negotiate("*/*", RESULT_FORMATS).name
'json'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coopgraph.errors import NotAcceptable
from coopgraph.formats import Format

#: Names clients send in ``format=``/``output=`` that are not in the formats table.
#: (SPARQLWrapper sends ``n3``, ``rdf+xml`` and ``json-ld``.)
ALIASES = {
    "n3": "turtle",
    "ttl": "turtle",
    "rdf+xml": "rdfxml",
    "rdf/xml": "rdfxml",
    "json-ld": "jsonld",
    "n-triples": "ntriples",
    "n-quads": "nquads",
    "sparql-results+json": "json",
    "sparql-results+xml": "xml",
}


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    position: int

    def matches(self, media_type: str) -> int:
        """Specificity of the match: 3 exact, 2 ``type/*``, 1 ``*/*``, 0 no match."""
        main, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1
        if self.type != main:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges of an ``Accept`` header, best first; malformed parts are skipped.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/*;q=0.3, text/csv")]
    [('text', 'csv', 1.0), ('text', '*', 0.3)]
    """
    ranges: list[MediaRange] = []
    for position, part in enumerate((header or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        kind = fields[0].lower()
        if "/" not in kind:
            if kind == "*":  # some clients send a bare "*"
                kind = "*/*"
            else:
                continue
        main, _, sub = kind.partition("/")
        if not main or not sub or (main == "*" and sub != "*"):
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(main, sub, q, position))
    ranges.sort(key=lambda r: (-r.q, r.position))
    return ranges


def _quality(ranges: list[MediaRange], fmt: Format) -> float:
    """The q the client gives ``fmt``: from its most specific matching range."""
    best_q, best_spec = 0.0, 0
    for media_type in fmt.media_types:
        for r in ranges:
            spec = r.matches(media_type)
            if spec > best_spec or (spec == best_spec and spec and r.q > best_q):
                best_spec, best_q = spec, r.q
    return best_q


def negotiate(accept: str | None, available: Sequence[Format]) -> Format:
    """The format to answer in: the client's highest q, ties going to ``available`` order.

    No or empty ``Accept`` means ``*/*``, so the first available format (the default).

    :raises NotAcceptable: every available format has q=0 for this client.
    """
    ranges = parse_accept(accept) if accept and accept.strip() else parse_accept("*/*")
    scored = [(_quality(ranges, fmt), -i, fmt) for i, fmt in enumerate(available)]
    q, _, fmt = max(scored, key=lambda item: (item[0], item[1]))
    if q <= 0:
        offered = ", ".join(f.media_type for f in available)
        raise NotAcceptable(f"cannot answer in any type of Accept: {accept}; offered: {offered}")
    return fmt


def preferred(accept: str | None, available: Sequence[Format]) -> Format:
    """:func:`negotiate`, or the first available format when the client accepts none of
    them (for answers that must come in some format: a rejected write's report, a feed).

    >>> from coopgraph.formats import FEED_FORMATS
    >>> preferred("application/json", FEED_FORMATS).name, preferred("image/png", FEED_FORMATS).name
    ('json', 'atom')
    """
    try:
        return negotiate(accept, available)
    except NotAcceptable:
        return available[0]


def by_name(value: str, available: Sequence[Format]) -> Format:
    """The format a ``format``/``output`` parameter names (name, alias, extension or media
    type), among those available.

    :raises NotAcceptable: the value names none of them.

    >>> from coopgraph.formats import RDF_FORMATS
    >>> by_name("xml", RDF_FORMATS).name, by_name("n3", RDF_FORMATS).name
    ('rdfxml', 'turtle')
    """
    key = value.strip().lower()
    base = key.split(";", 1)[0].strip()
    base = ALIASES.get(base, base)
    for fmt in available:
        if base == fmt.name or base in fmt.media_types or base.lstrip(".") in fmt.extensions:
            return fmt
    offered = ", ".join(f.name for f in available)
    raise NotAcceptable(f"format {value!r} is not offered here; choose one of: {offered}")


def choose(
    accept: str | None, params: Sequence[str | None], available: Sequence[Format]
) -> Format:
    """A ``format``/``output`` parameter wins over ``Accept``, unless ``Accept`` refuses
    the format it names: SPARQLWrapper sends its default ``format=xml`` beside the
    ``Accept: application/n-triples`` a user set (issue 16), and then ``Accept`` decides.

    :raises NotAcceptable: from :func:`by_name` or :func:`negotiate`.

    >>> from coopgraph.formats import RDF_FORMATS
    >>> choose("application/n-triples", ["xml"], RDF_FORMATS).name
    'ntriples'
    >>> choose("text/html, */*;q=0.8", ["xml"], RDF_FORMATS).name
    'rdfxml'
    """
    for value in params:
        if value:
            fmt = by_name(value, available)
            if accept and accept.strip() and _quality(parse_accept(accept), fmt) <= 0:
                return negotiate(accept, available)
            return fmt
    return negotiate(accept, available)
