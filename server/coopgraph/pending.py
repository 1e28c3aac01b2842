"""The "inferences pending" marker: how a batched write stays safe against a crash.

The bulk import commits its entries in large batches *without* refreshing ``cgg:inferred``
entry by entry, and materialises once at the end. Each batch transaction also inserts
:data:`MARKER` (one quad in ``cgg:provenance``); the marker is removed only after the
materialisation has finished. If the process dies in between (Ctrl-C, SIGKILL, power
loss), the marker is still there and :meth:`coopgraph.reason.Reasoner.repair` — called by
every open of the store through :func:`coopgraph.load.load_project` — drops the graphs left
unfinished (:func:`drop_unfinished`) and rebuilds the inferences before anything reads
them. So stale inferences never outlive a crash.

New entry graphs go in with the store's bulk loader, which is not transactional: each is
marked "in progress" first (:func:`in_progress`), and the mark goes only after the
transaction that records the graph's provenance. :func:`drop_unfinished` drops a marked
graph without that record (it may be half-written) and keeps one with it (only the
removal of its mark was missed).

>>> from coopgraph.store.embedded import EmbeddedStore
>>> store = EmbeddedStore(None)
>>> is_pending(store)
False
>>> from coopgraph.store.base import Changes
>>> store.apply(Changes(insert=[MARKER]))
>>> is_pending(store), drop_unfinished(store), is_pending(store)
(True, [], True)
>>> clear(store)
>>> is_pending(store)
False
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyoxigraph as ox

from coopgraph.store.base import Boolean, Changes, Solutions, Store
from coopgraph.store.wire import pack_quads
from coopgraph.vocab import CG, INFERRED_GRAPH, PROV, PROVENANCE_GRAPH

__all__ = [
    "MARKER", "Preload", "bulk_insert", "clear", "drop_unfinished", "in_progress",
    "is_pending", "unfinished",
]

#: ``cgg:inferred cg:rematerialisationPending true`` in ``cgg:provenance``.
MARKER = ox.Quad(
    ox.NamedNode(INFERRED_GRAPH),
    ox.NamedNode(CG.rematerialisationPending),
    ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
    ox.NamedNode(PROVENANCE_GRAPH),
)
_IN_PROGRESS = CG.importInProgress
_UNFINISHED = (
    f"SELECT ?g ?done WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{_IN_PROGRESS}> ?v "
    f"OPTIONAL {{ ?g <{PROV.wasGeneratedBy}> ?done }} }} }}"
)
_HAS_QUADS = "SELECT ?g {{ VALUES ?g {{ {} }} FILTER EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }}"
_MARKED = f"GRAPH <{PROVENANCE_GRAPH}> {{ <{INFERRED_GRAPH}> <{CG.rematerialisationPending}> ?v }}"
_ASK = f"ASK {{ {_MARKED} }}"
_CLEAR = f"DELETE {{ {_MARKED} }} WHERE {{ {_MARKED} }}"


def in_progress(graph: str) -> ox.Quad:
    """The marker of a new graph being written by the bulk import's fast path (not in one
    transaction: ``Store.bulk_load``); removed after the transaction that records its
    provenance. :func:`drop_unfinished` drops a graph still marked without provenance: it
    may be half-written."""
    return ox.Quad(
        ox.NamedNode(graph), ox.NamedNode(_IN_PROGRESS), MARKER.object,
        ox.NamedNode(PROVENANCE_GRAPH),
    )


def bulk_insert(
    store: Store, graphs: Sequence[str], quads: Sequence[ox.Quad], provenance: Sequence[ox.Quad],
    *, preloaded: bool = False,
) -> None:
    """New entry graphs written with the store's bulk loader (3× faster than a transaction
    on pyoxigraph, but not atomic), made safe by markers: one transaction records an "in
    progress" marker per graph (and the inferences-pending one), the bulk load writes the
    entries, one transaction adds their provenance, a last one removes the markers. A
    crash before the provenance leaves marked graphs without it, which :func:`drop_unfinished`
    drops at the next open: each entry ends up whole or absent (a reader *during* the load
    may see part of one).

    :param preloaded: the graphs were marked and loaded already (:class:`Preload`).
    """
    markers = [in_progress(g) for g in graphs]
    if not preloaded:
        store.apply(Changes(insert=[*markers, MARKER]))
        store.bulk_load(quads)
    insert = getattr(store, "insert_nquads", None)
    if insert is not None and not any(isinstance(t, ox.BlankNode) for q in provenance
                                      for t in (q.subject, q.object)):
        insert(pack_quads(provenance))  # one transaction, without holding the GIL
    else:
        store.apply(Changes(insert=provenance))  # a plain insertion: no SPARQL to parse
    store.apply(Changes(delete=markers))


class Preload:
    """New graphs handed to the bulk loader in a background thread while the caller
    validates them (the bulk import): the embedded store's loader parses and writes without
    holding the GIL (``EmbeddedStore.bulk_load_nquads``), so validation and loading use
    both cores. The graphs are marked "in progress" first; the caller then drops the
    rejected ones (:meth:`discard`) and records the others' provenance
    (:func:`bulk_insert` with ``preloaded``). A crash before that leaves marked graphs
    without provenance, which :func:`drop_unfinished` drops. Meanwhile the store shows the graphs
    to its readers (the CLI's store has none): validation leaves a graph out of the
    context where the entry is not in its batch (``exclude_graphs``).

    Start one with :meth:`start`.
    """

    def __init__(self, store: Any, graphs: Mapping[str, Sequence[ox.Quad]]) -> None:
        self.store = store
        self.graphs = set(graphs)
        store.apply(Changes(insert=[*(in_progress(g) for g in sorted(graphs)), MARKER]))
        data = pack_quads(q for quads in graphs.values() for q in quads)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._load, args=(data,), name="coopgraph-preload", daemon=True
        )
        self._thread.start()

    @classmethod
    def start(cls, store: Any, graphs: Mapping[str, Sequence[ox.Quad]]) -> Preload | None:
        """A preload of ``graphs``, or ``None`` when the store cannot load in the background
        or one of the graphs holds quads already (a replacement goes in a transaction)."""
        if not hasattr(store, "bulk_load_nquads") or not graphs:
            return None
        names = sorted(graphs)
        for first in range(0, len(names), 2000):
            values = " ".join(f"<{g}>" for g in names[first:first + 2000])
            result = store.query(_HAS_QUADS.format(values))
            assert isinstance(result, Solutions)
            if result.rows:
                return None
        return cls(store, graphs)

    def _load(self, data: bytes) -> None:
        try:
            self.store.bulk_load_nquads(data)
        except BaseException as exc:  # re-raised in the caller's thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Wait for the load; raises what it raised (``StoreError``)."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def discard(self, graphs: Iterable[str]) -> None:
        """Drop loaded graphs that are not to be kept (rejected or deferred entries), with
        their markers, in one transaction."""
        self.wait()
        gone = sorted(set(graphs) & self.graphs)
        if gone:
            self.store.apply(Changes(drop_graphs=gone, delete=[in_progress(g) for g in gone]))
            self.graphs -= set(gone)


def is_pending(store: Store) -> bool:
    """Whether a batched write left ``cgg:inferred`` to be rebuilt."""
    result = store.query(_ASK)
    assert isinstance(result, Boolean)
    return bool(result)


def clear(store: Store) -> None:
    """Remove the marker (after a materialisation that started after the last batch).

    By pattern, not ``DELETE DATA``: Virtuoso stores the xsd:boolean as it likes, and a
    ``DELETE DATA`` of the literal as written left the marker there."""
    store.apply(Changes(before=[_CLEAR]))


def _marked(store: Store) -> tuple[set[str], set[str]]:
    """The graphs marked "in progress", and those of them with their provenance."""
    result = store.query(_UNFINISHED)
    assert isinstance(result, Solutions)
    marked = {row[0].value for row in result.rows}  # type: ignore[union-attr]
    finished = {row[0].value for row in result.rows if row[1] is not None}  # type: ignore[union-attr]
    return marked, finished


def unfinished(store: Store) -> set[str]:
    """The graphs a bulk write has not finished (marked "in progress", without their
    provenance): :func:`drop_unfinished` drops them."""
    marked, finished = _marked(store)
    return marked - finished


def drop_unfinished(store: Store) -> list[str]:
    """Drop the graphs a fast bulk write left unfinished (marked "in progress" without
    their provenance: they may be half-written) and the marks of the finished ones (their
    provenance is recorded: only the removal of the mark was missed); the graphs dropped."""
    marked, finished = _marked(store)
    dropped = sorted(marked - finished)
    if marked:
        store.apply(Changes(drop_graphs=dropped, delete=[in_progress(g) for g in sorted(marked)]))
    return dropped
