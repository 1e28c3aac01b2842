"""Store implementations and :func:`open_store`, the one way to get a store from settings."""

from __future__ import annotations

from coopgraph.store.base import (
    Boolean,
    Changes,
    Dataset,
    QueryResult,
    Solutions,
    Store,
    Term,
    Triples,
)

__all__ = [
    "Boolean",
    "Changes",
    "Dataset",
    "QueryResult",
    "Solutions",
    "Store",
    "Term",
    "Triples",
    "open_store",
]


def open_store(
    location: str,
    *,
    update_url: str | None = None,
    isolated: bool = False,
    read_only: bool = False,
    memory_limit_mib: int = 0,
) -> Store:
    """Open the store a settings value names.

    :param location: a directory (embedded persistent), ``:memory:`` (embedded in-memory)
        or ``sparql+http(s)://…`` (remote SPARQL 1.1 endpoint).
    :param update_url: the remote store's update endpoint, when not the query endpoint.
    :param isolated: run an embedded on-disk store in a supervised child process so that
        query timeouts can be enforced (what ``coopgraph serve`` does).
    :param memory_limit_mib: with ``isolated``, the child's address-space budget.
    :param read_only: open an embedded on-disk store read-only (a snapshot: works while
        a server holds it).
    :raises StartupError: the store cannot be opened.
    """
    if location.startswith(("sparql+http://", "sparql+https://")):
        from coopgraph.store.remote import RemoteStore

        return RemoteStore(location.removeprefix("sparql+"), update_url=update_url)
    if location == ":memory:":
        from coopgraph.store.embedded import EmbeddedStore

        return EmbeddedStore(None)
    if isolated:
        from coopgraph.store.isolated import IsolatedStore

        return IsolatedStore(location, memory_limit_mib=memory_limit_mib)
    from coopgraph.store.embedded import EmbeddedStore

    return EmbeddedStore(location, read_only=read_only)
