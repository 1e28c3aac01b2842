"""The "inferences pending" marker: how a batched write stays safe against a crash.

The bulk import commits its entries in large batches *without* refreshing ``cgg:inferred``
entry by entry, and materialises once at the end. Each batch transaction also inserts
:data:`MARKER` (one quad in ``cgg:provenance``); the marker is removed only after the
materialisation has finished. If the process dies in between (Ctrl-C, SIGKILL, power
loss), the marker is still there and :func:`repair` — called by every open of the store
through :func:`coopgraph.load.load_project` — rebuilds the inferences before anything
reads them. So stale inferences never outlive a crash.

>>> from coopgraph.store.embedded import EmbeddedStore
>>> store = EmbeddedStore(None)
>>> is_pending(store)
False
>>> from coopgraph.store.base import Changes
>>> store.apply(Changes(insert=[MARKER]))
>>> is_pending(store), repair(store), is_pending(store)
(True, True, False)
"""

from __future__ import annotations

import pyoxigraph as ox

from coopgraph.store.base import Boolean, Changes, Store
from coopgraph.vocab import CG, INFERRED_GRAPH, PROVENANCE_GRAPH

__all__ = ["MARKER", "clear", "is_pending", "repair"]

#: ``cgg:inferred cg:rematerialisationPending true`` in ``cgg:provenance``.
MARKER = ox.Quad(
    ox.NamedNode(INFERRED_GRAPH),
    ox.NamedNode(CG.rematerialisationPending),
    ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
    ox.NamedNode(PROVENANCE_GRAPH),
)
_ASK = (
    f"ASK {{ GRAPH <{PROVENANCE_GRAPH}> "
    f"{{ <{INFERRED_GRAPH}> <{CG.rematerialisationPending}> ?v }} }}"
)


def is_pending(store: Store) -> bool:
    """Whether a batched write left ``cgg:inferred`` to be rebuilt."""
    result = store.query(_ASK)
    assert isinstance(result, Boolean)
    return bool(result)


def clear(store: Store) -> None:
    """Remove the marker (after a materialisation that started after the last batch)."""
    store.apply(Changes(delete=[MARKER]))


def repair(store: Store) -> bool:
    """Rematerialise and clear the marker when it is set; ``True`` when it was."""
    if not is_pending(store):
        return False
    from coopgraph.reason import Reasoner

    Reasoner(store).materialise()
    clear(store)
    return True
