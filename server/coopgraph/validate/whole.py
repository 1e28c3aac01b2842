"""The data graph of a whole-store validation (``coopgraph validate --all``).

Every graph's triples except the shapes themselves and the provenance log (which
describes loads and writes, not the observatory), plus the inferred types of the nodes
those triples describe (as for an entry's context: the rest of the inferred closure,
e.g. ``cg:contains``, is not data the shapes speak about, and the inferred types of the
provenance log's own nodes would make targets of them). The union is validated as one
graph, every target of every shape, with full SHACL semantics.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from coopgraph.store.base import Store
from coopgraph.vocab import INFERRED_GRAPH, PROVENANCE_GRAPH, RDF, SHAPES_GRAPH


def store_quads(store: Store, graphs: Iterable[str] | None = None) -> list[ox.Quad]:
    """The whole-store data graph (module doc) as default-graph quads; ``graphs``: only
    these named graphs (plus the inferred types)."""
    chosen = set(graphs) if graphs is not None else None
    seen: set[ox.Triple] = set()
    out: list[ox.Quad] = []
    inferred: list[ox.Triple] = []
    default = ox.DefaultGraph()
    for q in store.quads():
        g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        if g == INFERRED_GRAPH:
            if q.predicate.value == RDF.type:
                inferred.append(q.triple)
            continue
        if g in (SHAPES_GRAPH, PROVENANCE_GRAPH) or (chosen is not None and g not in chosen):
            continue
        t = q.triple
        if t not in seen:
            seen.add(t)
            out.append(ox.Quad(t.subject, t.predicate, t.object, default))
    described = {q.subject for q in out}
    for t in inferred:
        if t.subject in described and t not in seen:
            seen.add(t)
            out.append(ox.Quad(t.subject, t.predicate, t.object, default))
    return out
