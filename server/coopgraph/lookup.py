"""Find an actor by any label or identifier, so staff reuse IRIs instead of minting duplicates.

Matching ignores case and accents ("metropole" finds "Métropole Européenne de Lille"),
each word typed may be the beginning of a word of the name ("euromet lil"), and ranks
whole-name matches first, then names that begin with the text, then the others, shorter
names first. Identifiers match whole (INSEE, NUTS, country codes) or on the last segment
of a linked IRI (``Q648``). The answers come from :mod:`coopgraph.search`, the text index
kept in step with every write; the entity types are read from the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph.errors import BadRequest
from coopgraph.search import fold, index_for
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import compact

__all__ = ["Match", "fold", "lookup", "suggest"]

_TYPES = "SELECT ?entity ?type WHERE { VALUES ?entity { %s } ?entity a ?type }"


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


def _check(text: str) -> str:
    needle = text.strip()
    if not needle or len(needle) > 200:
        raise BadRequest("lookup needs a text of 1 to 200 characters")
    return needle


def _matches(store: Store, hits: list[Any]) -> list[Match]:
    """Hits with their types (one query, asserted and inferred types)."""
    if not hits:
        return []
    values = " ".join(str(ox.NamedNode(h.entity)) for h in hits)
    result = store.query(_TYPES % values)
    assert isinstance(result, Solutions)
    types: dict[str, set[str]] = {}
    for entity, type_ in result.rows:
        if entity is not None and type_ is not None:
            types.setdefault(entity.value, set()).add(compact(type_.value))
    return [
        Match(h.entity, compact(h.entity), h.matched, compact(h.via),
              sorted(types.get(h.entity, ())), h.score)
        for h in hits
    ]


def lookup(store: Store, text: str, *, limit: int = 20) -> list[Match]:
    """Actors whose label or identifier matches ``text``, best first.

    :raises BadRequest: ``text`` is empty or longer than 200 characters.
    """
    return _matches(store, index_for(store).search(_check(text), limit=limit))


def suggest(store: Store, text: str, *, limit: int = 5, cutoff: float = 0.75) -> list[Match]:
    """Actors whose name is spelt nearly like ``text`` ("did you mean"), closest first.

    :param cutoff: the least :class:`difflib.SequenceMatcher` ratio kept (0 to 1).
    :raises BadRequest: ``text`` is empty or longer than 200 characters.
    """
    hits = index_for(store).suggest(_check(text), limit=limit, cutoff=cutoff)
    return _matches(store, hits)
