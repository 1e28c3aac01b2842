"""Node positions of the actor network (:func:`layout`): deterministic, linear in the
size of the network, computed with each build of :mod:`coopgraph.netview`."""

from __future__ import annotations

import functools
import math
import zlib

import networkx as nx

__all__ = ["layout"]


@functools.lru_cache(maxsize=65536)
def _jitter(iri: str, radius: float) -> tuple[float, float]:
    """A small offset that depends on the IRI only (the same picture on every build)."""
    h = zlib.crc32(iri.encode("utf-8"))
    angle = (h % 3600) / 3600 * 2 * math.pi
    r = radius * (0.3 + 0.7 * ((h >> 12) % 1000) / 1000)
    return r * math.cos(angle), r * math.sin(angle)


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
        angle = 2 * math.pi * i / max(1, len(rest))
        pos[n] = (180 * math.cos(angle), -100 + 20 * math.sin(angle))
    return {n: (round(x, 4), round(y, 4)) for n, (x, y) in pos.items()}
