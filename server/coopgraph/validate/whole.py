"""The data graph of a whole-store validation (``coopgraph validate --all``).

Every graph's triples except the shapes themselves, and of the inferred graph only the
types (as for an entry's context: the rest of the inferred closure, e.g. ``cg:contains``,
is not data the shapes speak about). The union is validated as one graph, every target
of every shape, with full SHACL semantics (no entry focus filter).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from coopgraph.store.base import Store
from coopgraph.vocab import INFERRED_GRAPH, RDF, SHAPES_GRAPH


def store_quads(store: Store, graphs: Iterable[str] | None = None) -> list[ox.Quad]:
    """The whole-store data graph (module doc) as default-graph quads; ``graphs``: only
    these named graphs (plus the inferred types)."""
    chosen = set(graphs) if graphs is not None else None
    seen: set[ox.Triple] = set()
    out: list[ox.Quad] = []
    default = ox.DefaultGraph()
    for q in store.quads():
        g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        if g == SHAPES_GRAPH:
            continue
        if g == INFERRED_GRAPH:
            if q.predicate.value != RDF.type:
                continue
        elif chosen is not None and g not in chosen:
            continue
        t = q.triple
        if t not in seen:
            seen.add(t)
            out.append(ox.Quad(t.subject, t.predicate, t.object, default))
    return out
