"""The actor network: the ``queries/network/*.rq`` projection → a networkx graph → metrics.

The projection is plain SPARQL: each ``queries/network/<name>.rq`` is a CONSTRUCT query
that writes reified ties (``cg:NetworkTie`` with ``cg:edgeSource``, ``cg:edgeTarget``,
``cg:edgeType``, ``cg:edgeVia``, ``prov:wasDerivedFrom`` the named graphs it comes from,
``schema:startDate``/``schema:endDate``), and ``nodes.rq`` describes the nodes
(``cg:NetworkNode`` with ``cg:nodeKind``, labels, classes and a located place). This module
only runs them and reads the triples back into a :class:`networkx.MultiGraph`:

* nodes are keyed by IRI; attributes ``iri``, ``label`` (fr, else en, else the IRI),
  ``label_fr``, ``label_en``, ``kind`` (organisation, place, programme, call), ``category``
  (the most specific declared class), ``lat``, ``long`` (floats) when located;
* edges are keyed by the tie's IRI; attributes ``type`` (a key of :data:`TIE_TYPES`),
  ``source``/``target`` (the tie's direction, the graph itself being undirected),
  ``sources`` (named graphs), ``start``/``end`` (ISO dates; a year counts from its first
  day to its last), ``via`` and ``via_label`` (the partnership, offer… it comes from).

Missing attributes are absent, never ``None``, so the graph writes to GraphML/GEXF as is.
Metrics use the *simple* graph (parallel ties merged, ``weight`` = how many): degree is
the number of distinct neighbours, weighted degree the number of ties.

>>> g = graph_from_ties([("a", "b", "partnership"), ("b", "c", "funding")])
>>> shortest_path(g, "a", "c")
['a', 'b', 'c']
>>> compute_metrics(g)["b"].betweenness
1.0
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import pyoxigraph as ox

from coopgraph.errors import BadRequest, NotFound
from coopgraph.settings import PROJECT_ROOT
from coopgraph.store.base import Store, Triples
from coopgraph.vocab import CG, GEO, PROV, RDF, RDFS, SCHEMA

#: Where the projection queries live in a checkout (``Settings.queries_dir / "network"``).
DEFAULT_QUERIES_DIR = PROJECT_ROOT / "queries" / "network"

#: Tie types: short name (used in exports, URLs and the UI) → ontology term.
TIE_TYPES: dict[str, str] = {
    "partnership": CG.PartnershipTie,
    "funding": CG.FundingTie,
    "employment": CG.EmploymentTie,
    "membership": CG.MembershipTie,
    "suborganisation": CG.SubOrganisationTie,
    "programme": CG.ProgrammeTie,
    "offer": CG.OfferTie,
}
_TYPE_NAMES = {iri: name for name, iri in TIE_TYPES.items()}

#: Human labels of the tie types, for pages and legends.
TIE_LABELS: dict[str, dict[str, str]] = {
    "partnership": {"fr": "partenariat, coopération", "en": "partnership, cooperation"},
    "funding": {"fr": "financement", "en": "funding"},
    "employment": {"fr": "recrutement (lieu d'affectation)", "en": "hiring (duty station)"},
    "membership": {"fr": "appartenance", "en": "membership"},
    "suborganisation": {"fr": "sous-organisation", "en": "sub-organisation"},
    "programme": {"fr": "programme ou appel", "en": "programme or call"},
    "offer": {"fr": "lien nommé dans une offre", "en": "tie named in an offer"},
}

#: Node kinds written by nodes.rq.
NODE_KINDS = ("organisation", "place", "programme", "call")


@dataclass(frozen=True)
class NodeMetrics:
    """Centrality of one node in the (simple) network."""

    degree: int
    weighted_degree: int
    betweenness: float
    component: int  # index in :func:`components` (0 = largest)
    component_size: int

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies, 1 s for the 15,000 rows of a ranking
        return {
            "degree": self.degree,
            "weighted_degree": self.weighted_degree,
            "betweenness": self.betweenness,
            "component": self.component,
            "component_size": self.component_size,
        }


@dataclass(frozen=True)
class NetworkStats:
    """Whole-network figures plus the per-node metrics."""

    nodes: int
    ties: int
    pairs: int  # distinct linked pairs
    components: int
    largest_component: int
    density: float
    ties_by_type: dict[str, int]
    nodes_by_kind: dict[str, int]
    metrics: dict[str, NodeMetrics]


# --------------------------------------------------------------------------- dates


def parse_date(value: str, *, end: bool = False) -> date:
    """An ``xsd:date``, ``xsd:gYear``, ``xsd:gYearMonth`` or ``xsd:dateTime`` lexical
    value as a date; a year or month counts from its first day (or to its last, ``end``).

    >>> parse_date("2022"), parse_date("2022", end=True), parse_date("2023-02", end=True)
    (datetime.date(2022, 1, 1), datetime.date(2022, 12, 31), datetime.date(2023, 2, 28))

    :raises BadRequest: not a date.
    """
    text = value.strip()[:10]
    try:
        if len(text) == 4:
            return date(int(text), 12, 31) if end else date(int(text), 1, 1)
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            day = calendar.monthrange(year, month)[1] if end else 1
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{value!r} is not a date (expected YYYY-MM-DD or YYYY)") from None


# --------------------------------------------------------------------------- projection


def projection_queries(queries_dir: Path | None = None) -> dict[str, str]:
    """``{name: SPARQL text}`` of every ``*.rq`` in the projection folder, sorted by name.

    :raises NotFound: the folder holds no query.
    """
    folder = queries_dir or DEFAULT_QUERIES_DIR
    queries = {p.stem: p.read_text("utf-8") for p in sorted(folder.glob("*.rq"))}
    if "nodes" not in queries:
        raise NotFound(f"{folder}: no network projection queries (nodes.rq missing)")
    return queries


def project(store: Store, queries_dir: Path | None = None) -> list[ox.Triple]:
    """Run every projection query; the union of their triples (deduplicated, ordered)."""
    seen: set[ox.Triple] = set()
    out: list[ox.Triple] = []
    for text in projection_queries(queries_dir).values():
        result = store.query(text)
        assert isinstance(result, Triples), "network queries are CONSTRUCT queries"
        for t in result.triples:
            if t not in seen:
                seen.add(t)
                out.append(t)
    return out


def _label_key(lang: str) -> str:
    return "label_" + lang.split("-", 1)[0].lower()


def _local(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1]
    return iri


def graph_from_triples(triples: Iterable[ox.Triple]) -> nx.MultiGraph:
    """Read the projection's triples into a MultiGraph (see the module doc for attributes)."""
    by_subject: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = {}
    for t in triples:
        if isinstance(t.subject, ox.Triple):
            continue  # the projection's CONSTRUCTs never make triple terms
        by_subject.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(
            t.object  # type: ignore[arg-type]
        )

    def labels(iri: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for lit in sorted(by_subject.get(iri, {}).get(RDFS.label, []), key=lambda x: x.value):
            if isinstance(lit, ox.Literal) and lit.language:
                out.setdefault(_label_key(lit.language), lit.value)
        return out

    def first(props: Mapping[str, list[Any]], predicate: str) -> str | None:
        values = sorted(v.value for v in props.get(predicate, []))
        return values[0] if values else None

    graph = nx.MultiGraph()
    node_type, tie_type = CG.NetworkNode, CG.NetworkTie
    for iri, props in sorted(by_subject.items()):
        types = {v.value for v in props.get(RDF.type, [])}
        if node_type not in types:
            continue
        data: dict[str, Any] = {"iri": iri, "kind": first(props, CG.nodeKind) or "other"}
        data.update(labels(iri))
        categories = sorted(
            (not v.value.startswith(str(CG)), _local(v.value), v.value)
            for v in props.get(CG.nodeCategory, [])
        )
        if categories:  # the most specific is usually ours (cg:Commune before org:…)
            data["category"], data["category_iri"] = categories[0][1], categories[0][2]
        location = first(props, CG.nodeLocation)
        if location:
            where = by_subject.get(location, {})
            lat, long = first(where, GEO.lat), first(where, GEO.long)
            if lat is not None and long is not None:
                data["location"] = location
                data["lat"], data["long"] = float(lat), float(long)
        data["label"] = data.get("label_fr") or data.get("label_en") or iri
        graph.add_node(iri, **data)
    for iri, props in sorted(by_subject.items()):
        types = {v.value for v in props.get(RDF.type, [])}
        if tie_type not in types:
            continue
        source, target = first(props, CG.edgeSource), first(props, CG.edgeTarget)
        kind = _TYPE_NAMES.get(first(props, CG.edgeType) or "")
        if source is None or target is None or kind is None:
            continue
        data = {"iri": iri, "type": kind, "source": source, "target": target}
        data["sources"] = sorted(v.value for v in props.get(PROV.wasDerivedFrom, []))
        # Dates keep their precision: a year stays "2005" (xsd:gYear), compared as a period.
        starts = [v.value for v in props.get(SCHEMA.startDate, [])]
        ends = [v.value for v in props.get(SCHEMA.endDate, [])]
        if starts:
            data["start"] = min(starts, key=parse_date)
        if ends:
            data["end"] = max(ends, key=lambda v: parse_date(v, end=True))
        via = first(props, CG.edgeVia)
        if via:
            data["via"] = via
            via_labels = labels(via)
            via_label = via_labels.get("label_fr") or via_labels.get("label_en")
            if via_label:
                data["via_label"] = via_label
        for end_iri in (source, target):
            if end_iri not in graph:  # an endpoint nodes.rq does not describe
                graph.add_node(end_iri, iri=end_iri, kind="other", label=end_iri, **labels(end_iri))
        graph.add_edge(source, target, key=iri, **data)
    return graph


def graph_from_ties(ties: Iterable[tuple[str, str, str]]) -> nx.MultiGraph:
    """A bare network from ``(source, target, type)`` triples (docs and quick tests)."""
    graph = nx.MultiGraph()
    for i, (a, b, kind) in enumerate(ties):
        for n in (a, b):
            graph.add_node(n, iri=n, label=n, kind="organisation")
        graph.add_edge(a, b, key=f"tie-{i}", type=kind, source=a, target=b, sources=[])
    return graph


def build_graph(
    store: Store,
    *,
    as_of: date | None = None,
    between: tuple[date, date] | None = None,
    queries_dir: Path | None = None,
) -> nx.MultiGraph:
    """The actor network of ``store``, keeping only the ties valid ``as_of`` a date or
    at some time ``between`` two dates (see :func:`filter_period`).

    :raises BadRequest: both ``as_of`` and ``between`` given, or an inverted interval.
    :raises QuerySyntaxError: a projection query does not parse.
    """
    graph = graph_from_triples(project(store, queries_dir))
    return filter_period(graph, as_of=as_of, between=between)


def tie_valid(data: Mapping[str, Any], start: date, end: date) -> bool:
    """Does the tie's period overlap ``[start, end]``? Missing bounds are open."""
    tie_start, tie_end = data.get("start"), data.get("end")
    if tie_start is not None and parse_date(tie_start) > end:
        return False
    return not (tie_end is not None and parse_date(tie_end, end=True) < start)


def filter_period(
    graph: nx.MultiGraph,
    *,
    as_of: date | None = None,
    between: tuple[date, date] | None = None,
) -> nx.MultiGraph:
    """A copy of ``graph`` without the ties not valid then; every node is kept.

    A tie is valid ``as_of`` a day when its period contains it, ``between`` two days when
    its period overlaps them; a tie without a start (or end) is open on that side, so
    undated ties are always kept.

    :raises BadRequest: both filters given, or ``between`` ends before it starts.
    """
    if as_of is not None and between is not None:
        raise BadRequest("give either asOf or between, not both")
    if as_of is None and between is None:
        return graph
    start, end = (as_of, as_of) if as_of is not None else between  # type: ignore[misc]
    if start > end:
        raise BadRequest(f"between: {start} is after {end}")
    out = nx.MultiGraph()
    out.add_nodes_from(graph.nodes(data=True))
    out.add_edges_from(
        (a, b, k, d) for a, b, k, d in graph.edges(keys=True, data=True) if tie_valid(d, start, end)
    )
    return out


def check_types(types: Iterable[str]) -> set[str]:
    """The tie type names asked for, all known.

    :raises BadRequest: an unknown type name.
    """
    wanted = set(types)
    unknown = wanted - set(TIE_TYPES)
    if unknown:
        raise BadRequest(
            f"unknown tie type(s) {', '.join(sorted(unknown))}; known: {', '.join(TIE_TYPES)}"
        )
    return wanted


def filter_types(graph: nx.MultiGraph, types: Iterable[str]) -> nx.MultiGraph:
    """A copy keeping only the ties whose type is in ``types`` (all nodes kept).

    :raises BadRequest: an unknown type name.
    """
    wanted = check_types(types)
    out = nx.MultiGraph()
    out.add_nodes_from(graph.nodes(data=True))
    out.add_edges_from(
        (a, b, k, d) for a, b, k, d in graph.edges(keys=True, data=True) if d["type"] in wanted
    )
    return out


# --------------------------------------------------------------------------- metrics


def simple_graph(graph: nx.MultiGraph) -> nx.Graph:
    """Parallel ties merged into one edge whose ``weight`` counts them; no self-loops.
    Nodes and ties in IRI order, whatever order ``graph`` was built in (a patched view
    samples the same betweenness sources as a rebuilt one)."""
    simple = nx.Graph()
    simple.add_nodes_from(sorted(graph.nodes(data=True), key=lambda nd: nd[0]))
    for a, b in sorted(tuple(sorted(e)) for e in graph.edges()):
        if a == b:
            continue
        if simple.has_edge(a, b):
            simple[a][b]["weight"] += 1
        else:
            simple.add_edge(a, b, weight=1)
    return simple


def components(graph: nx.MultiGraph | nx.Graph) -> list[list[str]]:
    """Connected components, largest first (ties broken by smallest member), each sorted."""
    comps = [sorted(c) for c in nx.connected_components(graph)]
    return sorted(comps, key=lambda c: (-len(c), c[0]))


#: Up to this many nodes betweenness is exact (Brandes); above, exact costs O(nodes × ties)
#: (hours at 1M triples), so it is estimated from :data:`BETWEENNESS_SAMPLES` source nodes
#: drawn with a fixed seed (networkx's ``k``-sample estimate: same graph, same figures).
EXACT_BETWEENNESS_MAX_NODES = 1000
BETWEENNESS_SAMPLES = 200
BETWEENNESS_SEED = 1


def betweenness_method(nodes: int) -> str:
    """How :func:`compute_metrics` computes betweenness for a graph of ``nodes`` nodes."""
    if nodes <= EXACT_BETWEENNESS_MAX_NODES:
        return "exact"
    return f"estimated from {BETWEENNESS_SAMPLES} sampled sources (seed {BETWEENNESS_SEED})"


def betweenness(simple: nx.Graph, samples: int | None = None) -> dict[str, float]:
    """Normalised betweenness: exact, or sampled above EXACT_BETWEENNESS_MAX_NODES nodes
    (``samples``: the sample size, :data:`BETWEENNESS_SAMPLES` by default; 0: exact)."""
    if samples is None:
        exact = simple.number_of_nodes() <= EXACT_BETWEENNESS_MAX_NODES
        samples = 0 if exact else BETWEENNESS_SAMPLES
    if not samples or samples >= simple.number_of_nodes():
        return nx.betweenness_centrality(simple, normalized=True)  # type: ignore[no-any-return]
    return nx.betweenness_centrality(  # type: ignore[no-any-return]
        simple, k=samples, normalized=True, seed=BETWEENNESS_SEED
    )


def compute_metrics(
    graph: nx.MultiGraph,
    simple: nx.Graph | None = None,
    between: Mapping[str, float] | None = None,
) -> dict[str, NodeMetrics]:
    """Degree, weighted degree, normalised betweenness (see :func:`betweenness`) and
    component of every node (``simple``: :func:`simple_graph` of it, when at hand;
    ``between``: betweenness already known, 0 for a node it lacks)."""
    simple = simple if simple is not None else simple_graph(graph)
    if between is None:
        between = betweenness(simple)
    where: dict[str, tuple[int, int]] = {}
    for i, comp in enumerate(components(simple)):
        for n in comp:
            where[n] = (i, len(comp))
    return {
        n: NodeMetrics(
            degree=simple.degree(n),
            weighted_degree=sum(1 for a, b in graph.edges(n) if a != b),
            betweenness=round(between.get(n, 0.0), 6),
            component=where[n][0],
            component_size=where[n][1],
        )
        for n in graph.nodes
    }


def network_stats(
    graph: nx.MultiGraph, between: Mapping[str, float] | None = None
) -> NetworkStats:
    """Whole-network figures and per-node metrics of ``graph`` (``between``: see
    :func:`compute_metrics`)."""
    simple = simple_graph(graph)
    comps = components(simple)
    by_type: dict[str, int] = dict.fromkeys(TIE_TYPES, 0)
    for _, _, kind in graph.edges(data="type"):
        by_type[kind] = by_type.get(kind, 0) + 1
    by_kind: dict[str, int] = {}
    for _, kind in graph.nodes(data="kind"):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return NetworkStats(
        nodes=graph.number_of_nodes(),
        ties=graph.number_of_edges(),
        pairs=simple.number_of_edges(),
        components=len(comps),
        largest_component=len(comps[0]) if comps else 0,
        density=round(nx.density(simple), 6) if simple.number_of_nodes() > 1 else 0.0,
        ties_by_type=by_type,
        nodes_by_kind=dict(sorted(by_kind.items())),
        metrics=compute_metrics(graph, simple, between),
    )


def rank_order(
    graph: nx.MultiGraph,
    *,
    by: str = "degree",
    kinds: Iterable[str] = ("organisation",),
    metrics: Mapping[str, NodeMetrics] | None = None,
    among: Iterable[str] | None = None,
) -> list[str]:
    """The nodes :func:`ranking` ranks, in its order, without building its rows (ranks
    and the ``limit`` of a selection need no more: a fifth of the time at 1M triples).

    :raises BadRequest: unknown metric.
    """
    order = ("degree", "weighted_degree", "betweenness")
    if by not in order:
        raise BadRequest(f"unknown metric {by!r}; expected one of: {', '.join(order)}")
    first, second, third = (by,) + tuple(k for k in order if k != by)
    metrics = metrics if metrics is not None else compute_metrics(graph)
    wanted = set(kinds)
    attrs = graph._node
    nodes = [n for n in (graph._node if among is None else among)
             if not wanted or attrs[n].get("kind") in wanted]

    def key(n: str) -> tuple[float, float, float, str, str]:
        m = metrics[n]
        return (-getattr(m, first), -getattr(m, second), -getattr(m, third),
                attrs[n].get("label", n), n)

    nodes.sort(key=key)
    return nodes


def ranking(
    graph: nx.MultiGraph,
    *,
    by: str = "degree",
    kinds: Iterable[str] = ("organisation",),
    metrics: Mapping[str, NodeMetrics] | None = None,
    among: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Nodes of the given kinds (every kind when empty) ranked by ``degree``,
    ``weighted_degree`` or ``betweenness`` (then by the other metrics, then label), with
    rank numbers from 1. ``metrics``: already computed ones; ``among``: only these nodes.

    :raises BadRequest: unknown metric.
    """
    metrics = metrics if metrics is not None else compute_metrics(graph)
    order = rank_order(graph, by=by, kinds=kinds, metrics=metrics, among=among)
    return ranking_rows(graph, metrics, order)


def ranking_rows(
    graph: nx.MultiGraph, metrics: Mapping[str, NodeMetrics], nodes: Iterable[str],
    first: int = 1,
) -> list[dict[str, Any]]:
    """The rows of :func:`ranking` for ``nodes`` (in ranking order), numbered from
    ``first`` (a page of a ranking needs no other rows)."""
    attrs = graph._node
    rows = []
    for i, n in enumerate(nodes, first):
        d = attrs[n]
        rows.append({
            "iri": n,
            "label": d.get("label", n),
            "label_fr": d.get("label_fr"),
            "label_en": d.get("label_en"),
            "kind": d.get("kind"),
            "category": d.get("category"),
            **metrics[n].to_dict(),
            "rank": i,
        })
    return rows


def label_index(graph: nx.MultiGraph) -> dict[str, list[str]]:
    """Each casefolded ``label``, ``label_fr`` and ``label_en`` → the nodes bearing it,
    sorted (what :func:`resolve_node` looks a label up in)."""
    index: dict[str, set[str]] = {}
    for n, d in graph.nodes(data=True):
        for k in ("label", "label_fr", "label_en"):
            index.setdefault(str(d.get(k, "")).casefold(), set()).add(n)
    return {label: sorted(nodes) for label, nodes in index.items()}


def resolve_node(
    graph: nx.MultiGraph, ref: str, labels: Mapping[str, list[str]] | None = None
) -> str:
    """A node named by its IRI, a ``cgid:`` CURIE, its slug path (``org/ville-de-lille``)
    or an exact label (case-insensitive); ``labels``: :func:`label_index` of ``graph``
    when kept (else built for this call).

    :raises NotFound: nothing or several things match.
    """
    if ref in graph:
        return ref
    from coopgraph.vocab import ID

    for candidate in (ID + ref.removeprefix("cgid:"), ID + ref.lstrip("/").removeprefix("id/")):
        if candidate in graph:
            return candidate
    labels = labels if labels is not None else label_index(graph)
    hits = labels.get(ref.casefold(), [])
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NotFound(f"{ref!r} names several nodes: {', '.join(hits)}")
    raise NotFound(f"{ref!r} is not a node of the network")


def shortest_path(graph: nx.MultiGraph | nx.Graph, a: str, b: str) -> list[str]:
    """The nodes of a shortest path from ``a`` to ``b`` (both included).

    :raises NotFound: either node is absent, or no path links them.
    """
    for n in (a, b):
        if n not in graph:
            raise NotFound(f"{n} is not a node of the network")
    try:
        return list(nx.shortest_path(graph, a, b))
    except nx.NetworkXNoPath:
        raise NotFound(f"no path between {a} and {b}") from None


def path_ties(graph: nx.MultiGraph, path: list[str]) -> list[list[dict[str, Any]]]:
    """For each step of ``path``, the ties linking its two nodes (their attributes)."""
    return [
        [dict(d) for d in graph.get_edge_data(a, b, default={}).values()]
        for a, b in zip(path, path[1:], strict=False)
    ]


__all__ = [
    "DEFAULT_QUERIES_DIR", "NODE_KINDS", "TIE_LABELS", "TIE_TYPES", "NetworkStats",
    "NodeMetrics", "build_graph", "check_types", "components", "compute_metrics",
    "filter_period", "filter_types", "graph_from_triples", "graph_from_ties", "label_index",
    "betweenness", "betweenness_method", "network_stats", "parse_date", "path_ties", "project",
    "rank_order", "ranking_rows", "projection_queries", "ranking", "resolve_node", "shortest_path",
    "simple_graph", "tie_valid",
]
