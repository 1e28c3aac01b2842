"""Wikidata bridge: the twinning-like partnerships of the graph as QuickStatements v1 lines.

For every partnership that Wikidata's P190 ("twinned administrative body": twin towns,
sister cities and other localities with a partnership or cooperation agreement) can say,
one line per direction::

    Q648|P190|Q…|P580|+2005-00-00T00:00:00Z/9|S854|"https://w3id.org/coopgraph/id/source/…"

Which partnerships: type twinning, cooperation agreement or friendship pact, exactly two
partners, each a local or regional authority whose territory (``cg:jurisdiction``) has a
Wikidata item (``owl:sameAs wd:Q…``). P190 links territorial entities on Wikidata (the
item of Lille, not of its town hall), so the item is always read through the authority's
``cg:jurisdiction``; an organisation's own ``owl:sameAs`` is not used.

Both directions are written because P190 is symmetric on Wikidata (it carries a
symmetric constraint). P580 (start time, year precision 9) comes from
``schema:startDate``, or else ``cg:signedYear``, and is left out when neither is known.
S854 (reference URL) is the partnership's ``dcterms:source`` document IRI (the first in
IRI order when there are several). The output is sorted, one line per statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from coopgraph.queries import internal_sparql
from coopgraph.store.base import Solutions, Store

#: Partnership types that Wikidata's P190 covers.
P190_TYPES = (
    "https://w3id.org/coopgraph/id/concept/partnership-type/twinning",
    "https://w3id.org/coopgraph/id/concept/partnership-type/cooperation-agreement",
    "https://w3id.org/coopgraph/id/concept/partnership-type/friendship-pact",
)

WIKIDATA_ITEM = re.compile(r"^http://www\.wikidata\.org/entity/(Q[0-9]+)$")

@dataclass(frozen=True)
class Twinning:
    """One P190 statement to write: ``subject`` twinned with ``target``."""

    subject: str  # Q-id
    target: str  # Q-id
    year: int | None
    source: str | None

    def line(self) -> str:
        """The QuickStatements v1 line (fields separated by ``|``)."""
        fields = [self.subject, "P190", self.target]
        if self.year is not None:
            fields += ["P580", f"+{self.year:04d}-00-00T00:00:00Z/9"]
        if self.source is not None:
            fields += ["S854", f'"{self.source}"']
        return "|".join(fields)


@dataclass
class _Evidence:
    """What the graph says about one pair of twinned places."""

    years: set[int | None] = field(default_factory=set)
    signed: set[int | None] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)


def _year(term: ox.Literal | None) -> int | None:
    """The year of an xsd:gYear or xsd:date literal (``"2005"``, ``"2005-03-01"``)."""
    if term is None:
        return None
    match = re.match(r"^(-?\d{4})", term.value)
    return int(match.group(1)) if match else None


def _qid(term: object) -> str:
    match = WIKIDATA_ITEM.match(getattr(term, "value", ""))
    if match is None:
        raise ValueError(f"not a Wikidata item IRI: {term}")
    return match.group(1)


def _safe_url(url: str) -> str:
    """A source IRI usable inside a QuickStatements string (no quote, bar or whitespace)."""
    if re.search(r'["|\s]', url):
        raise ValueError(f"source IRI cannot be written in QuickStatements: {url!r}")
    return url


def twinnings(store: Store) -> list[Twinning]:
    """Every P190 statement the graph supports, both directions, sorted.

    :param store: a loaded store (asserted data and ontology; inferences are not needed).
    :returns: one :class:`Twinning` per direction of each eligible partnership.
    :raises ValueError: a source IRI contains a character QuickStatements cannot quote.
    """
    # one row per (partnership, partner, partner) with both territories' Wikidata items;
    # the type filter and "exactly two partners" are checked there
    result = store.query(internal_sparql("wikidata-partnerships"))
    assert isinstance(result, Solutions)
    by_pair: dict[tuple[str, str], _Evidence] = {}
    for row in result.dicts():
        if row["type"].value not in P190_TYPES:
            continue
        pair = (_qid(row["itemA"]), _qid(row["itemB"]))
        if pair[0] == pair[1]:
            continue
        info = by_pair.setdefault(pair, _Evidence())
        start, signed, source = row.get("start"), row.get("signed"), row.get("source")
        if isinstance(start, ox.Literal):
            info.years.add(_year(start))
        if isinstance(signed, ox.Literal):
            info.signed.add(_year(signed))
        if source is not None:
            info.sources.add(_safe_url(source.value))
    statements = []
    for (qa, qb), info in by_pair.items():
        years = sorted(y for y in info.years if y is not None) or sorted(
            y for y in info.signed if y is not None
        )
        year = years[0] if years else None
        cited = min(info.sources) if info.sources else None
        statements.append(Twinning(qa, qb, year, cited))
        statements.append(Twinning(qb, qa, year, cited))
    return sorted(statements, key=lambda t: (int(t.subject[1:]), int(t.target[1:])))


def quickstatements(store: Store) -> str:
    """The QuickStatements v1 batch for :func:`twinnings`, one line each, newline-ended
    (an empty string when no partnership qualifies)."""
    return "".join(t.line() + "\n" for t in twinnings(store))


__all__ = ["P190_TYPES", "Twinning", "quickstatements", "twinnings"]
