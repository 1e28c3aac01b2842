"""The "inferences pending" marker: how a batched write stays safe against a crash.

The bulk import commits its entries in large batches *without* refreshing ``cgg:inferred``
entry by entry, and materialises once at the end. Each batch transaction also inserts
:data:`MARKER` (one quad in ``cgg:provenance``); the marker is removed only after the
materialisation has finished. If the process dies in between (Ctrl-C, SIGKILL, power
loss), the marker is still there and :meth:`coopgraph.reason.Reasoner.repair` — called by
every open of the store through :func:`coopgraph.load.load_project` — drops the graphs left
unfinished (:func:`drop_unfinished`) and rebuilds the inferences before anything reads
them. So stale inferences never outlive a crash.

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

from collections.abc import Sequence

import pyoxigraph as ox

from coopgraph.store.base import Boolean, Changes, Solutions, Store
from coopgraph.vocab import CG, INFERRED_GRAPH, PROVENANCE_GRAPH

__all__ = ["MARKER", "bulk_insert", "clear", "drop_unfinished", "in_progress", "is_pending"]

#: ``cgg:inferred cg:rematerialisationPending true`` in ``cgg:provenance``.
MARKER = ox.Quad(
    ox.NamedNode(INFERRED_GRAPH),
    ox.NamedNode(CG.rematerialisationPending),
    ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
    ox.NamedNode(PROVENANCE_GRAPH),
)
_IN_PROGRESS = CG.importInProgress
_UNFINISHED = (
    f"SELECT ?g WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ ?g <{_IN_PROGRESS}> ?v }} }}"
)
_ASK = (
    f"ASK {{ GRAPH <{PROVENANCE_GRAPH}> "
    f"{{ <{INFERRED_GRAPH}> <{CG.rematerialisationPending}> ?v }} }}"
)


_MARKED = f"GRAPH <{PROVENANCE_GRAPH}> {{ <{INFERRED_GRAPH}> <{CG.rematerialisationPending}> ?v }}"
_CLEAR = f"DELETE {{ {_MARKED} }} WHERE {{ {_MARKED} }}"


def in_progress(graph: str) -> ox.Quad:
    """The marker of a new graph being written by the bulk import's fast path (not in one
    transaction: ``Store.bulk_load``); removed in the transaction that records its
    provenance. :func:`drop_unfinished` drops a graph still marked: it may be half-written."""
    return ox.Quad(
        ox.NamedNode(graph), ox.NamedNode(_IN_PROGRESS), MARKER.object,
        ox.NamedNode(PROVENANCE_GRAPH),
    )


def bulk_insert(
    store: Store, graphs: Sequence[str], quads: Sequence[ox.Quad], provenance: Sequence[ox.Quad]
) -> None:
    """New entry graphs written with the store's bulk loader (3× faster than a transaction
    on pyoxigraph, but not atomic), made safe by markers: one transaction records an "in
    progress" marker per graph (and the inferences-pending one), the bulk load writes the
    entries, a last transaction adds their provenance and removes the markers. A crash in
    between leaves marked graphs, which :func:`drop_unfinished` drops at the next open: each entry
    ends up whole or absent (a reader *during* the load may see part of one)."""
    markers = [in_progress(g) for g in graphs]
    store.apply(Changes(insert=[*markers, MARKER]))
    store.bulk_load(quads)
    store.apply(Changes(delete=markers, insert=provenance))


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


def drop_unfinished(store: Store) -> list[str]:
    """Drop the graphs a fast bulk write left unfinished (still marked "in progress": they
    may be half-written); the graphs dropped."""
    result = store.query(_UNFINISHED)
    assert isinstance(result, Solutions)
    unfinished = sorted({row[0].value for row in result.rows})  # type: ignore[union-attr]
    if unfinished:
        store.apply(Changes(drop_graphs=unfinished, delete=[in_progress(g) for g in unfinished]))
    return unfinished
