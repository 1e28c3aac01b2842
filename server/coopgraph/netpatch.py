"""The network view's figures after a write, published in two stages (issue 12, item 5:
a write visible in the network within 2 s at 1M triples).

:func:`coopgraph.netupdate.patch` brings the *graph* up to date: its ties and nodes are
exactly those of a full build. At 1M triples (19,000 nodes) the figures over the whole
network cost as much again in ``serve`` (components, the layout, then the ranks: each a
pass over every node), and the write waited for them before it showed. So a patch of a
large network (over :data:`~coopgraph.network.EXACT_BETWEENNESS_MAX_NODES` nodes) is
published twice:

1. :func:`patched_snapshot`: the patched graph with exact degrees, weighted degrees and
   totals, and **provisional** components and positions, marked pending
   (:data:`PROVISIONAL`): a node the writes did not touch keeps its component, its
   component's size and its position; a touched node keeps its component (a new one
   joins that of its known neighbour with the lowest number, else gets a component of
   its own numbered after the others, of size 1) and is placed by the layout's rules
   from its neighbours' current positions (:func:`coopgraph.netlayout.placed`); the
   total of components counts those new ones, the largest component keeps its size.
2. :func:`finished_snapshot`: the same graph, components and layout recomputed as a full
   build computes them. :class:`coopgraph.netview.NetworkView` runs it once no other
   write is waiting (a burst of writes is patched first, then finished once).

Betweenness stays pending after both (recomputed in a forked child:
:func:`recompute_betweenness`). Every node of either stage has its metrics and a
position, and every tie joins two nodes of the graph (the graph is exact in both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from coopgraph import events, forked, netupdate, network
from coopgraph.gcquiet import paused
from coopgraph.netlayout import layout, placed
from coopgraph.netsnapshot import NetworkSnapshot, snapshot_of
from coopgraph.store.base import Store
from coopgraph.views import Progress, step

__all__ = [
    "PROVISIONAL",
    "exact_components",
    "finished_snapshot",
    "patched_snapshot",
    "patched_stats",
    "recompute_betweenness",
    "with_betweenness",
]

#: What a stage-1 snapshot marks pending until :func:`finished_snapshot`.
PROVISIONAL = ("components", "layout")


def patched_stats(
    previous: network.NetworkStats,
    before: nx.MultiGraph,
    done: netupdate.Patch,
) -> network.NetworkStats:
    """:func:`coopgraph.network.network_stats` of ``done.graph`` from those of ``before``:
    degrees of the nodes the patch touched, totals from the ties it removed and added,
    exact; components provisional (see the module doc); betweenness carried over (0 for
    a new node)."""
    after = done.graph
    by_type = dict(previous.ties_by_type)
    pairs_touched: set[tuple[str, str]] = set()
    affected = set(done.nodes)
    for sign, ties in ((-1, done.removed), (1, done.added)):
        for u, v, _, data in ties:
            by_type[data["type"]] = by_type.get(data["type"], 0) + sign
            affected |= {u, v}
            if u != v:
                pairs_touched.add((min(u, v), max(u, v)))
    pairs = previous.pairs
    for u, v in pairs_touched:
        pairs += (after.has_edge(u, v)) - (before.has_edge(u, v))
    old = previous.metrics
    metrics = {n: m for n, m in old.items() if n in after._adj}
    adj = after._adj
    components = previous.components
    for n in sorted(affected & after._adj.keys()):
        neighbours = adj[n]
        if n in old:
            component, size = old[n].component, old[n].component_size
        else:
            known = [(old[m].component, old[m].component_size)
                     for m in neighbours if m in old and m in metrics]
            if known:
                component, size = min(known)
            else:
                component, size = components, 1
                components += 1
        metrics[n] = network.NodeMetrics(
            degree=len(neighbours) - (n in neighbours),
            weighted_degree=sum(len(k) for m, k in neighbours.items() if m != n),
            betweenness=old[n].betweenness if n in old else 0.0,
            component=component,
            component_size=size,
        )
    by_kind: dict[str, int] = {}
    for kind in (d.get("kind") for d in after._node.values()):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    n_nodes = after.number_of_nodes()
    return network.NetworkStats(
        nodes=n_nodes,
        ties=previous.ties - len(done.removed) + len(done.added),
        pairs=pairs,
        components=components,
        largest_component=previous.largest_component,
        density=round(pairs / (n_nodes * (n_nodes - 1)) * 2, 6) if pairs and n_nodes > 1 else 0.0,
        ties_by_type=by_type,
        nodes_by_kind=dict(sorted(by_kind.items())),
        metrics=metrics,
    )


def exact_components(
    stats: network.NetworkStats, graph: nx.MultiGraph
) -> network.NetworkStats:
    """``stats`` with the components of ``graph`` recomputed (as
    :func:`coopgraph.network.network_stats` numbers them; read on the multigraph itself:
    parallel ties and self-loops change no component, no simple graph to build)."""
    comps = network.components(graph)
    metrics = dict(stats.metrics)
    for i, comp in enumerate(comps):
        size = len(comp)
        for n in comp:
            m = metrics[n]
            if m.component != i or m.component_size != size:
                metrics[n] = network.NodeMetrics(m.degree, m.weighted_degree, m.betweenness,
                                                 i, size)
    return dataclasses.replace(
        stats, components=len(comps), largest_component=len(comps[0]) if comps else 0,
        metrics=metrics,
    )


def patched_snapshot(
    store: Store,
    previous: NetworkSnapshot,
    commits: list[events.Commit],
    queries_dir: Path | None = None,
    progress: Progress | None = None,
) -> NetworkSnapshot:
    """``previous`` brought up to date with ``commits`` (:func:`coopgraph.netupdate.patch`):
    on a small network every figure exact at once; on a large one stage 1 of the module
    doc, with betweenness carried over (``pending``: :data:`PROVISIONAL` and
    ``betweenness``)."""
    with step(progress, f"network: patching after {len(commits)} write(s)"), paused():
        done = netupdate.patch(
            store, previous.graph, commits, network.projection_queries(queries_dir),
            previous.tie_index(),
        )
        graph = done.graph
        if graph.number_of_nodes() <= network.EXACT_BETWEENNESS_MAX_NODES:
            snapshot = snapshot_of(graph, progress=progress)
        else:
            touched = {n for u, v, _, _ in (*done.removed, *done.added) for n in (u, v)}
            snapshot = NetworkSnapshot(
                graph=graph,
                stats=patched_stats(previous.stats, previous.graph, done),
                layout=placed(graph, (done.nodes | touched) & graph.nodes, previous.layout),
                betweenness=network.betweenness_method(graph.number_of_nodes()),
                pending=(*PROVISIONAL, "betweenness"),
            )
    snapshot._index["ties"] = done.index
    return snapshot


def finished_snapshot(
    snapshot: NetworkSnapshot, abandon: Callable[[], bool] = lambda: False
) -> NetworkSnapshot | None:
    """Stage 2 of the module doc: ``snapshot`` with its components and layout recomputed
    (no longer pending); ``None`` when ``abandon()`` says, between the two, that a newer
    write waits (it will be finished after that write's patch)."""
    with paused():
        stats = exact_components(snapshot.stats, snapshot.graph)
        if abandon():
            return None
        positions = layout(snapshot.graph)
    out = NetworkSnapshot(
        graph=snapshot.graph, stats=stats, layout=positions, betweenness=snapshot.betweenness,
        pending=tuple(p for p in snapshot.pending if p not in PROVISIONAL),
    )
    out._index.update(snapshot._index)  # the same graph: the same tie index
    # ranks order nodes by degree, weighted degree, betweenness and label: unchanged
    out._ranks.update(snapshot._ranks)
    out._orders.update(snapshot._orders)
    return out


def with_betweenness(snapshot: NetworkSnapshot, between: dict[str, float]) -> NetworkSnapshot:
    """``snapshot`` with its betweenness recomputed (no longer pending)."""
    metrics = {
        n: dataclasses.replace(m, betweenness=round(between.get(n, 0.0), 6))
        for n, m in snapshot.metrics.items()
    }
    out = NetworkSnapshot(
        graph=snapshot.graph,
        stats=dataclasses.replace(snapshot.stats, metrics=metrics),
        layout=snapshot.layout,
        betweenness=snapshot.betweenness,
        pending=tuple(p for p in snapshot.pending if p != "betweenness"),
    )
    out._index.update(snapshot._index)  # the same graph: the same tie index
    return out


def recompute_betweenness(snapshot: NetworkSnapshot) -> dict[str, float]:
    """Betweenness of ``snapshot``'s network, in a forked child above
    :data:`~coopgraph.network.EXACT_BETWEENNESS_MAX_NODES` nodes (it holds an interpreter
    for seconds at 1M triples: the requests keep this one), in this process below. The
    child (:func:`coopgraph.forked.compute_forked`) reads the graph copy-on-write, dies
    with the server and returns the figures through a file.

    :raises RuntimeError: the child failed (the caller keeps the figures it served).
    """
    if snapshot.graph.number_of_nodes() <= network.EXACT_BETWEENNESS_MAX_NODES:
        return network.betweenness(network.simple_graph(snapshot.graph))
    graph = snapshot.graph
    return forked.compute_forked(
        lambda: network.betweenness(network.simple_graph(graph), network.BETWEENNESS_SAMPLES),
        name="network betweenness", background=True,
    )
