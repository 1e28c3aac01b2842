"""Find an actor by any label or identifier, so staff reuse IRIs instead of minting duplicates.

Matching ignores case and accents ("metropole" finds "Métropole Européenne de Lille") and
ranks exact matches first, then prefixes, then substrings. Identifiers match on their
literal (INSEE, NUTS, country codes) or on the last segment of a linked IRI (``Q648``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph.errors import BadRequest
from coopgraph.settings import PROJECT_ROOT
from coopgraph.store.base import Solutions, Store
from coopgraph.validate import compact

LOOKUP_QUERY = PROJECT_ROOT / "queries" / "lookup.rq"

_VARIANTS = {
    "a": "aàâäáãå",
    "e": "eéèêë",
    "i": "iîïíì",
    "o": "oôöóòõ",
    "u": "uûüùú",
    "c": "cç",
    "n": "nñ",
    "y": "yÿý",
}


def fold(text: str) -> str:
    """Lower case without accents: ``"Métropole"`` → ``"metropole"``.

    >>> fold("Eurométropole Lille-Kortrijk-Tournai")
    'eurometropole lille-kortrijk-tournai'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def accent_insensitive_pattern(needle: str) -> str:
    """A regular expression matching ``needle`` whatever the accents (for SPARQL REGEX).

    >>> accent_insensitive_pattern("oujda")
    '[oôöóòõ][uûüùú]jd[aàâäáãå]'
    """
    out = []
    for char in fold(needle):
        variants = _VARIANTS.get(char)
        out.append(f"[{variants}]" if variants else re.escape(char))
    return "".join(out)


@dataclass
class Match:
    iri: str
    curie: str
    matched: str
    via: str
    types: list[str] = field(default_factory=list)
    score: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lookup(store: Store, text: str, *, limit: int = 20) -> list[Match]:
    """Actors whose label or identifier matches ``text``, best first.

    :raises BadRequest: ``text`` is empty or longer than 200 characters.
    """
    needle = text.strip()
    if not needle or len(needle) > 200:
        raise BadRequest("lookup needs a text of 1 to 200 characters")
    result = store.query(
        LOOKUP_QUERY.read_text("utf-8"),
        bindings={"pattern": ox.Literal(accent_insensitive_pattern(needle))},
    )
    assert isinstance(result, Solutions)
    wanted = fold(needle)
    best: dict[str, Match] = {}
    for row in result.dicts():
        entity, matched, via = row["entity"].value, row["matched"].value, row["via"].value
        candidate = fold(
            matched.rstrip("/").rsplit("/", 1)[-1] if via.endswith("sameAs") else matched
        )
        score = 3 if candidate == wanted else 2 if candidate.startswith(wanted) else 1
        types = sorted(compact(t) for t in row["types"].value.split()) if "types" in row else []
        match = Match(entity, compact(entity), matched, compact(via), types, score)
        if entity not in best or score > best[entity].score:
            best[entity] = match
    ranked = sorted(best.values(), key=lambda m: (-m.score, len(m.matched), m.iri))
    return ranked[:limit]
