"""The search index behind ``lookup``: names and identifiers in SQLite FTS5, kept in step
with every write, so finding an actor at 1M triples takes milliseconds, not a REGEX over
every literal (issue 12, item 4).

Why SQLite FTS5: it ships with Python (no new dependency, nothing to compile), its
``unicode61 remove_diacritics 2`` tokenizer and prefix indexes do exactly what staff need
(words, accents and case ignored, prefixes), it is transactional, and the same file can
be read by a second process (``coopgraph lookup`` while ``serve`` runs) in WAL mode.

One row per indexed quad — ``(graph, entity, property, value, language, datatype)`` — so
removing or replacing one named graph removes exactly its rows, even when the same label
also comes from another graph. Names (``rdfs:label``, ``skos:prefLabel``/``altLabel``,
``schema:name``/``alternateName``) go to the full-text index; identifiers (INSEE, NUTS,
country codes, ``dcterms:identifier``…) and the last segment of ``owl:sameAs`` IRIs
(``Q648``) match exactly, case ignored. Only asserted graphs are indexed (not
``cgg:inferred`` nor the activity log); only subjects under ``cgid:`` are actors.

The index lives inside an on-disk store's directory (``search-index.sqlite3``), in
memory for a ``:memory:`` store, in a local file for a remote store
(``settings.search_index`` overrides). It records a fingerprint of the store (how many
``prov:Activity`` the activity log holds, and the greatest activity IRI: every coopgraph
write adds one); when the fingerprint does not match at start the index is rebuilt —
in the background by ``serve`` (answers then say ``"index": "building"``), at once
elsewhere. Writes made without coopgraph (pyoxigraph directly) are not seen:
``coopgraph lookup --reindex`` rebuilds.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

from coopgraph import events
from coopgraph.search.index import SearchIndex, weakrefable
from coopgraph.search.terms import (
    FILE_NAME,
    IDENTIFIER_PROPERTIES,
    NAME_PROPERTIES,
    SKIPPED_GRAPHS,
    Hit,
    fold,
    store_fingerprint,
    words,
)
from coopgraph.store.base import Store

__all__ = [
    "FILE_NAME",
    "IDENTIFIER_PROPERTIES",
    "NAME_PROPERTIES",
    "SKIPPED_GRAPHS",
    "Hit",
    "SearchIndex",
    "attach",
    "default_location",
    "fold",
    "index_for",
    "store_fingerprint",
    "words",
]

# ---------------------------------------------------------------------------------------
# One index per store
# ---------------------------------------------------------------------------------------

_LOCK = threading.Lock()
_INDEXES: dict[int, SearchIndex] = {}


def default_location(store: Store) -> Path | None:
    """Where a store's index lives: inside an on-disk store's directory, ``None`` (in
    memory) for an in-memory store, ``.coopgraph/search-<hash>.sqlite3`` for a remote one."""
    import hashlib

    url = getattr(store, "query_url", None)
    if isinstance(url, str):
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        return Path(".coopgraph") / f"search-{digest}.sqlite3"
    path = getattr(store, "path", None)
    return Path(path) / FILE_NAME if path is not None else None


def attach(
    store: Store, location: str | Path | None = None, *, background: bool = False
) -> SearchIndex:
    """The index of ``store``, created once and subscribed to its commits.

    :param location: the SQLite file (``settings.search_index``); default
        :func:`default_location`; ``:memory:`` for an in-memory index.
    :param background: rebuild in a thread when stale (``serve``: ready at once).
    """
    key = id(store)
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None:
            if location is None:
                path = default_location(store)
            else:
                path = None if str(location) == ":memory:" else Path(location)
            if path is not None and not getattr(store, "read_only", False):
                path.parent.mkdir(parents=True, exist_ok=True)
            index = SearchIndex(store, path, read_only=bool(getattr(store, "read_only", False)))
            _INDEXES[key] = index
            events.subscribe(store, index.on_commit)
            if weakrefable(store):
                weakref.finalize(store, _forget, key)
    if background and not index.background:
        index.background = True
        if index.state == "stale":
            index.ensure()
    return index


def index_for(store: Store) -> SearchIndex:
    """The index of ``store`` (attached at its default location when first asked)."""
    return _INDEXES.get(id(store)) or attach(store)


def _forget(key: int) -> None:
    with _LOCK:
        index = _INDEXES.pop(key, None)
    if index is not None:
        index.close()
