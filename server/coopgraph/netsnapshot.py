"""One computed actor network (:class:`NetworkSnapshot`: the graph, its figures and node
positions) and how its figures are computed from a graph (:func:`snapshot_of`); kept by
:class:`coopgraph.netview.NetworkView`, patched by :mod:`coopgraph.netpatch`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from coopgraph import network
from coopgraph.netlayout import layout
from coopgraph.views import Progress, step

__all__ = ["NetworkSnapshot", "snapshot_of"]


#: The caches a snapshot derives from its figures (rebuilt on first use, never pickled).
_DERIVED = ("_ranks", "_orders", "_rankings", "_index")


@dataclass(frozen=True)
class NetworkSnapshot:
    """One computed network: the graph, its figures and node positions."""

    graph: nx.MultiGraph
    stats: network.NetworkStats
    layout: dict[str, tuple[float, float]]
    betweenness: str  # how betweenness was computed (network.betweenness_method)
    #: figures carried over from the previous build while they are recomputed in the
    #: background after a write (``("betweenness",)``), else empty
    pending: tuple[str, ...] = ()
    _ranks: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)
    #: the IRIs of each ranking in its order (metric, kinds), and its rows
    _orders: dict[tuple[str, ...], list[str]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _rankings: dict[tuple[str, ...], list[dict[str, Any]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _index: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # networkx builds these views on first use and stores them in the graph's
        # __dict__: built now, a save pickling the graph never sees that dict grow
        for view in ("adj", "nodes", "edges", "degree"):
            getattr(self.graph, view)

    @property
    def metrics(self) -> dict[str, network.NodeMetrics]:
        return self.stats.metrics

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the ranking caches (derived, rebuilt on first use)."""
        return {
            k: v for k, v in self.__dict__.items() if k not in _DERIVED
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"pending": ()}, **state, **{k: {} for k in _DERIVED})
        self.__post_init__()

    def tie_index(self) -> Any:
        """The :class:`coopgraph.netupdate.TieIndex` of the graph (built once, then
        handed from patch to patch)."""
        index = self._index.get("ties")
        if index is None:
            from coopgraph.netupdate import TieIndex

            index = self._index["ties"] = TieIndex.of(self.graph)
        return index

    def resolve(self, ref: str) -> str:
        """:func:`coopgraph.network.resolve_node` with the label index kept (built once:
        a client polling for a node not there yet costs a lookup, not a scan)."""
        labels = self._index.get("labels")
        if labels is None and ref not in self.graph:
            labels = self._index["labels"] = network.label_index(self.graph)
        return network.resolve_node(self.graph, ref, labels)

    def order(self, by: str = "degree", kinds: Iterable[str] = ("organisation",)) -> list[str]:
        """:func:`coopgraph.network.rank_order` on the computed metrics (once per
        snapshot, metric and kinds)."""
        key = (by, *sorted(kinds))
        order = self._orders.get(key)
        if order is None:
            order = self._orders[key] = network.rank_order(
                self.graph, by=by, kinds=kinds, metrics=self.metrics)
        return order

    def ranking(
        self, by: str = "degree", kinds: Iterable[str] = ("organisation",)
    ) -> list[dict[str, Any]]:
        """:func:`coopgraph.network.ranking` on the computed metrics (once per snapshot,
        metric and kinds; callers copy the rows they change)."""
        key = (by, *sorted(kinds))
        rows = self._rankings.get(key)
        if rows is None:
            rows = network.ranking_rows(self.graph, self.metrics, self.order(by, kinds))
            self._rankings[key] = rows
        return rows

    def page(
        self, by: str, kinds: Iterable[str], offset: int, limit: int | None
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many nodes :meth:`ranking` ranks, and a copy of its rows from ``offset``
        (``limit`` of them, all when ``None``): only those rows are built when the whole
        ranking is not kept yet (right after a write: a page, not 15,000 rows at 1M)."""
        order = self.order(by, kinds)
        end = None if limit is None else offset + limit
        rows = self._rankings.get((by, *sorted(kinds)))
        if rows is not None:
            return len(order), [dict(r) for r in rows[offset:end]]
        return len(order), network.ranking_rows(self.graph, self.metrics, order[offset:end],
                                                offset + 1)

    def ranks(self, by: str) -> dict[str, int]:
        """``{organisation: rank}`` by ``by`` (computed once per snapshot)."""
        ranks = self._ranks.get(by)
        if ranks is None:
            ranks = self._ranks[by] = {n: i for i, n in enumerate(self.order(by), 1)}
        return ranks

    def prepare_ranks(self) -> None:
        """Compute what entity pages and ``/ranking`` read first (the ranks by degree and
        betweenness: the orders a ranking's pages are cut from) before they ask."""
        for by in ("degree", "betweenness"):
            self.ranks(by)

    def figures(self, iri: str) -> dict[str, Any]:
        """The network figures of one node for its entity page (``{}``: not a node).

        ``degree``, ``weighted_degree``, ``betweenness``, ``component``,
        ``component_size``, ``rank_degree`` and ``rank_betweenness`` (organisations only),
        ``ties_by_type`` and ``neighbours`` (``[{iri, label, kind, types}]``, by label).
        """
        graph = self.graph
        if iri not in graph:
            return {}
        mine = self.metrics[iri]
        out: dict[str, Any] = mine.to_dict()
        if graph.nodes[iri].get("kind") == "organisation":
            for metric in ("degree", "betweenness"):
                out["rank_" + metric] = self.ranks(metric)[iri]
        by_type: dict[str, int] = {}
        neighbours: dict[str, set[str]] = {}
        for _, other, kind in graph.edges(iri, data="type"):
            by_type[kind] = by_type.get(kind, 0) + 1
            neighbours.setdefault(other, set()).add(kind)
        out["ties_by_type"] = dict(sorted(by_type.items()))
        out["neighbours"] = sorted(
            (
                {
                    "iri": n,
                    "label": graph.nodes[n].get("label", n),
                    "kind": graph.nodes[n].get("kind"),
                    "types": sorted(types),
                }
                for n, types in neighbours.items()
            ),
            key=lambda r: (r["label"], r["iri"]),
        )
        return out


def snapshot_of(
    graph: nx.MultiGraph,
    *,
    positions: dict[str, tuple[float, float]] | None = None,
    progress: Progress | None = None,
    between: dict[str, float] | None = None,
) -> NetworkSnapshot:
    """Figures and layout of ``graph`` (``positions``: reuse a parent's layout;
    ``between``: betweenness carried over from a previous build, marked pending)."""
    n = graph.number_of_nodes()
    with step(progress, f"network: metrics of {n} nodes, {graph.number_of_edges()} ties"):
        stats = network.network_stats(graph, between)
    with step(progress, "network: layout"):
        positions = positions if positions is not None else layout(graph)
    return NetworkSnapshot(
        graph=graph, stats=stats, layout=positions, betweenness=network.betweenness_method(n),
        pending=("betweenness",) if between is not None else (),
    )
