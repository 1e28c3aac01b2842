"""Node positions of the actor network (:func:`layout`): deterministic, linear in the
size of the network, computed with each build of :mod:`coopgraph.netview`."""

from __future__ import annotations

import functools
import math
import zlib

import networkx as nx

__all__ = ["layout", "placed"]


@functools.lru_cache(maxsize=65536)
def _jitter(iri: str, radius: float) -> tuple[float, float]:
    """A small offset that depends on the IRI only (the same picture on every build)."""
    h = zlib.crc32(iri.encode("utf-8"))
    angle = (h % 3600) / 3600 * 2 * math.pi
    r = radius * (0.3 + 0.7 * ((h >> 12) % 1000) / 1000)
    return r * math.cos(angle), r * math.sin(angle)


def _ring(i: int, count: int) -> tuple[float, float]:
    """The ``i``-th of ``count`` points on the ring below the map."""
    angle = 2 * math.pi * i / max(1, count)
    return 180 * math.cos(angle), -100 + 20 * math.sin(angle)


def layout(graph: nx.MultiGraph) -> dict[str, tuple[float, float]]:
    """Node positions: x = longitude, y = latitude for located nodes; the others near the
    mean of their placed neighbours (two rounds), the rest on a ring below the map.
    Deterministic (the same graph gives the same positions) and linear in the size of the
    network; a client can refine it with a force layout (ForceAtlas2 in the browser)."""
    pos: dict[str, tuple[float, float]] = {
        n: (float(d["long"]), float(d["lat"]))
        for n, d in graph.nodes(data=True)
        if "lat" in d and "long" in d
    }
    for _ in range(2):
        placed: dict[str, tuple[float, float]] = {}
        for n in graph.nodes:
            if n in pos:
                continue
            near = [pos[m] for m in sorted(graph.neighbors(n)) if m in pos]
            if near:
                dx, dy = _jitter(n, 2.0)
                placed[n] = (sum(p[0] for p in near) / len(near) + dx,
                             sum(p[1] for p in near) / len(near) + dy)
        pos.update(placed)
    rest = sorted(n for n in graph.nodes if n not in pos)
    for i, n in enumerate(rest):
        pos[n] = _ring(i, len(rest))
    return {n: (round(x, 4), round(y, 4)) for n, (x, y) in pos.items()}


def placed(
    graph: nx.MultiGraph, nodes: set[str], positions: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Provisional positions after a write (:mod:`coopgraph.netpatch`): those of
    ``positions`` for the nodes of ``graph`` but ``nodes`` (new or changed), and these
    placed by the rules of :func:`layout` applied once: at their coordinates when
    located, else near the mean of their neighbours already placed, else where they
    were, else on the ring below the map at an angle given by the IRI. :func:`layout` of
    the whole graph may place them otherwise (its two rounds and the ring's even spacing
    depend on every node); it replaces these once computed."""
    out = {n: p for n, p in positions.items() if n in graph._adj and n not in nodes}
    for n in sorted(nodes):
        d = graph.nodes[n]
        if "lat" in d and "long" in d:
            out[n] = (round(float(d["long"]), 4), round(float(d["lat"]), 4))
    for n in sorted(nodes):
        if n in out:
            continue
        near = [out[m] for m in sorted(graph.neighbors(n)) if m in out]
        if near:
            dx, dy = _jitter(n, 2.0)
            x, y = (sum(p[0] for p in near) / len(near) + dx,
                    sum(p[1] for p in near) / len(near) + dy)
        elif n in positions:
            x, y = positions[n]
        else:
            x, y = _ring(zlib.crc32(n.encode("utf-8")) % 3600, 3600)
        out[n] = (round(x, 4), round(y, 4))
    return out
