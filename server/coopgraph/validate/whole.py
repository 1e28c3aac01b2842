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
    """The whole-store data graph (module doc) as quads, graph names kept (a triple in
    two graphs is one triple of the data graph: the index and the stores dedupe it);
    ``graphs``: only these named graphs (plus the inferred types)."""
    chosen = {ox.NamedNode(g) for g in graphs} if graphs is not None else None
    skipped = {ox.NamedNode(SHAPES_GRAPH), ox.NamedNode(PROVENANCE_GRAPH)}
    inferred_graph, rdf_type = ox.NamedNode(INFERRED_GRAPH), ox.NamedNode(RDF.type)
    out: list[ox.Quad] = []
    inferred: list[ox.Quad] = []
    for q in store.quads():
        g = q.graph_name
        if g == inferred_graph:
            if q.predicate == rdf_type:
                inferred.append(q)
        elif g not in skipped and (chosen is None or g in chosen):
            out.append(q)
    described = {q.subject for q in out}
    out += [q for q in inferred if q.subject in described]
    return out
