"""What a store holds: named graphs by kind with their sizes (``/stats``, ``coopgraph
load``), and the most frequent classes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from coopgraph.events import Commit
from coopgraph.settings import PROJECT_ROOT
from coopgraph.store.base import Solutions, Store
from coopgraph.vocab import GRAPH, INFERRED_GRAPH, PROVENANCE_GRAPH, compact

CLASS_COUNTS = PROJECT_ROOT / "queries" / "class-counts.rq"

#: Kinds of named graph, from the graph IRI's first segment (``cgg:entry/…`` → entry).
GRAPH_KINDS = ("ontology", "shapes", "reference", "seed", "entry", "inferred", "provenance")


def graph_kind(iri: str) -> str:
    """The kind of a named graph: one of :data:`GRAPH_KINDS`, else ``other``.

    >>> graph_kind("https://w3id.org/coopgraph/graph/entry/offer-1"), graph_kind("urn:x")
    ('entry', 'other')
    """
    if not iri.startswith(str(GRAPH)):
        return "other"
    head = iri[len(GRAPH):].split("/", 1)[0]
    return head if head in GRAPH_KINDS else "other"


@dataclass(frozen=True)
class GraphTotals:
    """Every named graph's size, and totals per kind (graphs, triples)."""

    sizes: dict[str, int]
    by_kind: dict[str, dict[str, int]] = field(init=False)
    triples: int = field(init=False)

    def __post_init__(self) -> None:
        kinds: dict[str, dict[str, int]] = {}
        for graph, n in self.sizes.items():
            row = kinds.setdefault(graph_kind(graph), {"graphs": 0, "triples": 0})
            row["graphs"] += 1
            row["triples"] += n
        order = {k: i for i, k in enumerate(GRAPH_KINDS)}
        object.__setattr__(
            self, "by_kind", dict(sorted(kinds.items(), key=lambda kv: order.get(kv[0], 99)))
        )
        object.__setattr__(self, "triples", sum(self.sizes.values()))

    def page(self, offset: int, limit: int) -> dict[str, int]:
        """``limit`` graphs from ``offset`` in IRI order."""
        names = sorted(self.sizes)[offset : offset + limit]
        return {g: self.sizes[g] for g in names}


def graph_totals(store: Store) -> GraphTotals:
    """Sizes of the store's named graphs (one query), with their totals by kind."""
    return GraphTotals(dict(sorted(store.graph_sizes().items())))


_SIZES_OF = """SELECT ?g (COUNT(*) AS ?n) WHERE {{
  VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"""


def patched_totals(store: Store, previous: GraphTotals, commits: Iterable[Commit]) -> GraphTotals:
    """``previous`` with the graphs ``commits`` changed counted again: the written ones,
    the inferences and the provenance log (every write changes both). :func:`graph_totals`
    reads every quad: a second of the store's process at 1M triples after each write,
    while the network view's patch waited for its own queries there."""
    changed = {g for c in commits for g in c.graphs} | {INFERRED_GRAPH, PROVENANCE_GRAPH}
    graphs = sorted(changed)
    sizes = {g: n for g, n in previous.sizes.items() if g not in changed}
    values = " ".join(str(ox.NamedNode(g)) for g in graphs)
    result = store.query(_SIZES_OF.format(graphs=values))
    assert isinstance(result, Solutions)
    for graph, n in result.rows:
        if isinstance(graph, ox.NamedNode) and n is not None and int(n.value):
            sizes[graph.value] = int(n.value)
    return GraphTotals(dict(sorted(sizes.items())))


def graph_summary(store: Store, *, top: int = 15) -> str:
    """Named graphs by kind with their sizes, then the ``top`` most frequent classes."""
    totals = graph_totals(store)
    lines = [f"{len(totals.sizes)} named graphs, {totals.triples} quads"]
    lines += [
        f"  {kind:<12}  {row['graphs']:>6} graphs  {row['triples']:>9} quads"
        for kind, row in totals.by_kind.items()
    ]
    result = store.query(CLASS_COUNTS.read_text("utf-8"), limit=top)
    assert isinstance(result, Solutions)
    lines.append("classes (inferences included):")
    for cls, count in result.rows:
        lines.append(f"  {compact(cls.value):<28}  {int(count.value):>8}")  # type: ignore[union-attr]
    return "\n".join(lines)
