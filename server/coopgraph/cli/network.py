"""``coopgraph export``, ``network stats`` and ``network path``: the actor network for
researchers, read from the maintained view (:mod:`coopgraph.netview`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coopgraph.cli.common import (
    StoreFlags,
    as_of_option,
    loaded_store,
    reports_errors,
    store_options,
    tell,
)
from coopgraph.settings import Settings

if TYPE_CHECKING:
    from coopgraph import network
    from coopgraph.netview import NetworkSnapshot, NetworkView
    from coopgraph.store import Store


def network_view(st: Store, settings: Settings) -> NetworkView:
    """The store's network view, persisted beside a disk store, progress on stderr."""
    from coopgraph.netview import NetworkView, persist_path

    return NetworkView(
        st,
        queries_dir=settings.queries_dir / "network",
        persist=persist_path(st),
        progress=tell,
    )


def prepare_network_view(st: Store, settings: Settings) -> None:
    """Compute the network view of a disk store now and keep it beside the store (after a
    bulk import), with its whole-network answers (``<store>.network-answers/``), so that
    the next ``serve`` reads both back instead of building them while it serves (a
    minute or more of CPU at 1M triples; until the answers are rendered, 15–18 s at 1M,
    a whole-network request waits and may get 503). The view is the one the web app
    keeps, so the answers are rendered exactly as ``serve`` renders them."""
    import time

    from coopgraph.netview import persist_path
    from coopgraph.web import create_app

    if persist_path(st) is None:
        return
    start = time.perf_counter()
    tell("coopgraph: computing the network view, kept beside the store for serve…")
    view = create_app(settings, store=st).extensions["coopgraph"].network
    view.progress = tell
    try:
        view.load_or_refresh()
    finally:
        view.close()
    tell(f"coopgraph: network view ready in {time.perf_counter() - start:.1f} s")


def _network_snapshot(st: Store, settings: Settings, as_of: str | None) -> NetworkSnapshot:
    """The network of ``st`` (as of a date): read back from beside a disk store when it
    was computed from the same content, else computed (with progress) and kept there."""
    from coopgraph.netview import Filters
    from coopgraph.network import parse_date

    view = network_view(st, settings)
    view.load_or_refresh()
    snapshot, _ = view.snapshot(Filters(as_of=parse_date(as_of) if as_of else None))
    return snapshot


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "gexf", "csv", "jsonld", "quickstatements"]),
    default="graphml",
    show_default=True,
    help="graphml/gexf for Gephi or Cytoscape, csv (nodes.csv + edges.csv) for "
    "spreadsheets, jsonld for linked-data tools, quickstatements for Wikidata "
    "(P190 twinnings, see coopgraph.quickstatements).",
)
@click.option(
    "--out",
    default=None,
    metavar="PATH",
    help="File to write (default stdout). With csv: a folder for nodes.csv and "
    "edges.csv, or a .zip file.",
)
@as_of_option
@store_options
@reports_errors
def export_cmd(fmt: str, out: str | None, as_of: str | None, where: StoreFlags) -> None:
    """Export the actor network (queries/network/*.rq) for Gephi, spreadsheets or RDF tools."""
    from coopgraph.exports import write_export

    settings = where.settings()
    with loaded_store(settings) as st:
        if fmt == "quickstatements":  # not a network projection: the partnerships themselves
            from coopgraph.quickstatements import quickstatements

            text = quickstatements(st)
            if out:
                Path(out).write_text(text, "utf-8")
                tell(f"wrote {out}")
            else:
                click.echo(text, nl=False)
            return
        graph = _network_snapshot(st, settings, as_of).graph
        result = (
            write_export(graph, fmt, out, context=None)
            if fmt == "jsonld"
            else write_export(graph, fmt, out)
        )
    if isinstance(result, bytes):
        sys.stdout.buffer.write(result)
    else:
        for path in result:
            tell(f"wrote {path}")


@click.group("network")
def network_group() -> None:
    """Figures of the actor network: stats, shortest paths."""


@network_group.command("stats")
@as_of_option
@click.option("--top", default=15, show_default=True, help="Organisations listed.")
@store_options
@reports_errors
def network_stats_cmd(as_of: str | None, top: int, where: StoreFlags) -> None:
    """Print nodes, ties by type, components and the organisations ranked by degree."""
    from coopgraph.netview import SUMMARY_TOP

    settings = where.settings()
    with loaded_store(settings) as st:
        # the persisted summary alone when it answers (no graph to read back)
        summary = None if as_of or top > SUMMARY_TOP else network_view(st, settings).load_summary()
        if summary is None:
            snap = _network_snapshot(st, settings, as_of)
            summary = {"stats": snap.stats, "top": snap.ranking("degree"),
                       "betweenness": snap.betweenness}
    click.echo(render_stats(summary["stats"], summary["top"], top=top,
                            method=summary["betweenness"]))


@network_group.command("path")
@click.argument("source")
@click.argument("target")
@as_of_option
@store_options
@reports_errors
def network_path_cmd(source: str, target: str, as_of: str | None, where: StoreFlags) -> None:
    """Shortest path between SOURCE and TARGET (IRI, org/slug path, or exact label).

    Exit 2 when either is not a node or no path links them.
    """
    from coopgraph.network import path_ties, resolve_node, shortest_path

    settings = where.settings()
    with loaded_store(settings) as st:
        graph = _network_snapshot(st, settings, as_of).graph
        path = shortest_path(graph, resolve_node(graph, source), resolve_node(graph, target))
        click.echo(graph.nodes[path[0]].get("label", path[0]) + f"  <{path[0]}>")
        for node, ties in zip(path[1:], path_ties(graph, path), strict=True):
            kinds = ", ".join(sorted({t["type"] for t in ties}))
            click.echo(f"  --[{kinds}]--> " + graph.nodes[node].get("label", node)
                       + f"  <{node}>")


COMMANDS = [export_cmd, network_group]


def render_stats(
    stats: network.NetworkStats, rows: list[dict[str, Any]], *, top: int = 15,
    method: str | None = None,
) -> str:
    """``coopgraph network stats`` output: figures, ties by type, then the ``top`` first
    of ``rows`` (organisations ranked by degree, :func:`coopgraph.network.ranking`) as a
    fixed-width table."""
    from coopgraph.network import betweenness_method

    kinds = ", ".join(f"{k} {v}" for k, v in stats.nodes_by_kind.items())
    lines = [
        f"nodes       {stats.nodes}  ({kinds})",
        f"ties        {stats.ties}  ({stats.pairs} linked pairs)",
        f"components  {stats.components}  (largest: {stats.largest_component} nodes)",
        f"density     {stats.density}",
        f"betweenness {method or betweenness_method(stats.nodes)}",
        "",
        "ties by type",
    ]
    lines += [f"  {k:<16}{v:>5}" for k, v in stats.ties_by_type.items()]
    rows = rows[:top]
    width = max([len("organisation")] + [len(r["label"]) for r in rows])
    lines += [
        "",
        f"{'rank':>4}  {'organisation':<{width}}  {'degree':>6}  {'weighted':>8}  "
        f"{'betweenness':>11}",
    ]
    lines += [
        f"{r['rank']:>4}  {r['label']:<{width}}  {r['degree']:>6}  {r['weighted_degree']:>8}  "
        f"{r['betweenness']:>11.4f}"
        for r in rows
    ]
    return "\n".join(lines)
