"""The ``coopgraph`` command: each command parses options, calls one function, prints.

Errors leave as one line on stderr and the exit code of their class (see errors.py):
0 ok / conforms, 1 does not conform, 2 unreadable input or bad usage, 3 unsupported
format, 4 store or server error.
"""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from coopgraph import __version__
from coopgraph.errors import CoopgraphError
from coopgraph.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn any error into one stderr line and the README's exit code, never a traceback
    (issue 16): a CoopgraphError its own code, an unreadable file 2, anything else 4. A
    write that failed says whether it changed the store."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoopgraphError as exc:
            click.echo(f"coopgraph: {exc.message}{_outcome(exc)}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except (OSError, UnicodeDecodeError) as exc:
            where = getattr(exc, "filename", None)
            what = getattr(exc, "strerror", None) or str(exc)
            click.echo(f"coopgraph: {where + ': ' if where else ''}{what}{_outcome(exc)}",
                       err=True)
            sys.exit(2 if isinstance(exc, FileNotFoundError | IsADirectoryError |
                                     PermissionError | UnicodeDecodeError) else 4)
        except Exception as exc:  # noqa: BLE001 - a bug: one line, exit 4, no traceback
            click.echo(f"coopgraph: internal error ({type(exc).__name__}: {exc}){_outcome(exc)}",
                       err=True)
            sys.exit(4)

    return wrapper  # type: ignore[return-value]


def _outcome(exc: BaseException) -> str:
    """What a failed write did to the store, when the write pipeline knows."""
    changed = getattr(exc, "store_changed", "unset")
    return {
        "unset": "",
        False: " (nothing was written: the store is unchanged)",
        True: " (the write was applied before this error)",
        None: " (whether the write was applied is unknown)",
    }[changed]


def store_option(func: F) -> F:
    return click.option(
        "--store",
        "store",
        default=None,
        metavar="PATH|:memory:|sparql+http://…",
        help="Store directory (default .coopgraph/store), :memory:, or a remote SPARQL "
        "1.1 endpoint (sparql+http://host:port/path).",
    )(func)


def update_url_option(func: F) -> F:
    return click.option(
        "--update-url", default=None, help="Update endpoint of a remote store, if different."
    )(func)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False),
        default=None,
        help="TOML settings file with a [coopgraph] table (also COOPGRAPH_CONFIG).",
    )(func)


def settings_from(config: str | None, **flags: Any) -> Settings:
    return load_settings(config, **flags)


def open_loaded_store(settings: Settings, *, reload: bool = False, quiet: bool = False) -> Any:
    """Open the configured store and bring it up to date with the project files.

    When a running server holds the store, read commands fall back to a read-only
    snapshot of it (and say so on stderr) instead of failing.
    """
    from coopgraph.errors import StartupError
    from coopgraph.load import load_project
    from coopgraph.search import attach
    from coopgraph.store import open_store

    try:
        store = open_store(settings.store, update_url=settings.update_url)
    except StartupError:
        store = open_store(settings.store, read_only=True)
        click.echo(f"coopgraph: {settings.store} is in use; reading a snapshot of it", err=True)
        attach(store, settings.search_index)
        return store
    progress = None if quiet else (lambda name: click.echo(f"loading {name}", err=True))
    load_project(store, settings, force=reload, progress=progress)
    attach(store, settings.search_index)  # keeps the search index in step with writes
    return store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coopgraph")
def main() -> None:
    """coopgraph: a knowledge graph of decentralised-cooperation actors.

    Load the ontology, shapes and seed data into a store, validate new entries
    against the SHACL shapes, query with SPARQL and serve the graph over HTTP.
    """


@main.command()
@store_option
@config_option
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("-p", "--port", type=int, default=None, help="Port (default 8000; 0 = a free port).")
@click.option("--threads", type=int, default=None, help="Threads answering requests.")
@reports_errors
def serve(
    store: str | None,
    config: str | None,
    host: str | None,
    port: int | None,
    threads: int | None,
) -> None:
    """Serve the SPARQL endpoint, the linked-data pages and the query page over HTTP.

    Opens the store (a disk store in a supervised child process), loads the project files
    that changed, then serves until interrupted; the URL is printed on stderr.
    """
    from coopgraph.load import load_project
    from coopgraph.reason import Reasoner
    from coopgraph.search import attach
    from coopgraph.store import open_store
    from coopgraph.web.serve import run_server

    settings = settings_from(config, store=store, host=host, port=port, threads=threads)
    progress = lambda n: click.echo(f"loading {n}", err=True)  # noqa: E731
    in_child = settings.store == ":memory:" or settings.store.startswith("sparql+")
    if not in_child:
        # Load changed project files in this process first: a reload rematerialises every
        # inference, which reads the whole store, and at 1M triples that is more than the
        # serving child's memory budget (memory_limit_mib) is meant for.
        direct = open_store(settings.store)
        try:
            load_project(direct, settings, progress=progress)
        finally:
            direct.close()
            del direct
            gc.collect()  # the RocksDB lock goes with the last reference
    st = open_store(
        settings.store, update_url=settings.update_url, isolated=True,
        memory_limit_mib=settings.memory_limit_mib,
    )
    try:
        if in_child:
            load_project(st, settings, progress=progress)
        # A stale search index is rebuilt in the background: serving starts at once.
        index = attach(st, settings.search_index, background=True)
        if index.state == "building":
            click.echo("coopgraph: search index is being rebuilt in the background", err=True)
        # the ontology's closure now, from the cache when it was computed before, so
        # that the first write does not pay for owlrl
        Reasoner(st, cache_dir=Path(settings.cache_dir)).warm()
        run_server(settings, st)
    finally:
        st.close()


@main.command()
@store_option
@update_url_option
@config_option
@click.option("--reload", is_flag=True, help="Reload every project file, even unchanged ones.")
@reports_errors
def load(store: str | None, update_url: str | None, config: str | None, reload: bool) -> None:
    """Load ontology/, shapes/ and data/ into the store, rebuild inferences, print a summary.

    Files already loaded with the same content are skipped, so running it twice is cheap.
    """
    from coopgraph.load import load_project
    from coopgraph.store import open_store
    from coopgraph.summary import graph_summary

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_store(settings.store, update_url=settings.update_url)
    result = load_project(
        st, settings, force=reload, progress=lambda n: click.echo(f"loading {n}", err=True)
    )
    click.echo(
        f"loaded {len(result.loaded)} file(s), {len(result.unchanged)} unchanged, "
        f"{result.inferred} inferred triple(s)",
        err=True,
    )
    click.echo(graph_summary(st))
    st.close()


@main.command()
@click.argument("files", nargs=-1, type=click.Path())
@click.option(
    "--all",
    "whole",
    is_flag=True,
    help="Validate the whole store instead of FILES: every node any shape targets.",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en", "nl"]),
    default=None,
    help="Language of the report (default fr).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text for people; json or turtle (sh:ValidationReport) for tools.",
)
@store_option
@update_url_option
@config_option
@reports_errors
def validate(
    files: tuple[str, ...],
    whole: bool,
    lang: str | None,
    fmt: str,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Validate entry FILES (.ttl .trig .jsonld .nt .nq .rdf), or with --all the whole
    store, against the shapes.

    The ontology and the existing data are the context, so references to known
    organisations and places resolve. Exit 0 when every file conforms, 1 when one does
    not, 2 when a file cannot be read or parsed.
    """
    from coopgraph.validate import Validator

    if whole == bool(files):
        raise click.UsageError("give FILES to validate, or --all for the whole store")
    settings = settings_from(config, store=store, update_url=update_url, lang=lang)
    st = open_loaded_store(settings, quiet=True)
    validator = Validator(st)
    if whole:
        report = validator.validate_store()
    else:
        report = validator.validate_files([Path(f) for f in files])
    click.echo(report.render(fmt, lang=settings.lang))
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(
        ["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "jsonld", "trig"]
    ),
    default="table",
    show_default=True,
    help="Output format; table is for people.",
)
@click.option("--no-inferred", is_flag=True, help="Query asserted graphs only.")
@store_option
@update_url_option
@config_option
@reports_errors
def query(
    query: str,
    fmt: str,
    no_inferred: bool,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Run QUERY (a .rq file or SPARQL text) against the store; results to stdout."""
    from coopgraph.localquery import run_local_query

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_loaded_store(settings, quiet=True)
    text = _query_text(query)
    sys.stdout.buffer.write(run_local_query(st, text, fmt, include_inferred=not no_inferred))
    st.close()


def _query_text(query: str) -> str:
    """QUERY itself, or the text of the ``.rq`` file it names.

    :raises ParseError: the file cannot be read or is not UTF-8 (exit 2).
    """
    from coopgraph.errors import ParseError
    from coopgraph.parse import byte_position

    if not query.endswith(".rq"):
        return query
    try:
        data = Path(query).read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read query file: {exc.strerror}", source=query) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line, column = byte_position(data, exc.start)
        raise ParseError("not UTF-8 text: save the query as UTF-8", source=query,
                         line=line, column=column) from None


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.option("--limit", default=20, show_default=True, help="Maximum matches.")
@click.option(
    "--reindex", is_flag=True,
    help="Rebuild the search index first (after writes made without coopgraph).",
)
@store_option
@update_url_option
@config_option
@reports_errors
def lookup(
    text: str,
    as_json: bool,
    limit: int,
    reindex: bool,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Find an actor by any label or identifier (accents and case ignored, words may be
    cut short: `lil` finds Lille), best first.

    Reuse the IRI it prints instead of minting a duplicate: `coopgraph lookup Oujda`,
    `coopgraph lookup Q648`, `coopgraph lookup 59350`.
    """
    import json

    from coopgraph.lookup import lookup as find
    from coopgraph.search import index_for

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_loaded_store(settings, quiet=True)
    index = index_for(st)
    tell = functools.partial(click.echo, err=True)
    if reindex:
        index.rebuild(tell)
    index.ensure(tell)
    matches = find(st, text, limit=limit)
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in matches], ensure_ascii=False, indent=2))
    else:
        for m in matches:
            click.echo(f"{m.curie:<55} {m.matched}  [{m.via}] {' '.join(m.types)}")
    st.close()


@main.command()
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to this file instead of stdout (docs/rules.md).",
)
@reports_errors
def rules(fmt: str, out: str | None) -> None:
    """Print every validation rule (ID, severity, fr/en/nl messages, examples) from shapes/."""
    import json

    from coopgraph.parse import parse_files
    from coopgraph.rules import render_markdown, rules_from_quads

    settings = settings_from(None)
    found = rules_from_quads(parse_files(sorted(settings.shapes_dir.glob("*.ttl"))))
    text = (
        render_markdown(found)
        if fmt == "md"
        else json.dumps([r.to_dict() for r in found], ensure_ascii=False, indent=2) + "\n"
    )
    if out:
        Path(out).write_text(text, "utf-8")
    else:
        click.echo(text, nl=False)


# --- network (researchers): export, network stats, network path -------------------------


def _as_of(value: str | None) -> Any:
    from coopgraph.network import parse_date

    return parse_date(value) if value else None


def _network_view(st: Any, settings: Settings) -> Any:
    from coopgraph.netview import NetworkView, persist_path

    return NetworkView(
        st,
        queries_dir=settings.queries_dir / "network",
        persist=persist_path(st),
        progress=lambda message: click.echo(message, err=True),
    )


def _network_snapshot(st: Any, settings: Settings, as_of: str | None) -> Any:
    """The network of ``st`` (as of a date): read back from beside a disk store when it
    was computed from the same content, else computed (with progress) and kept there."""
    from coopgraph.netview import Filters

    view = _network_view(st, settings)
    view.load_or_refresh()
    snapshot, _ = view.snapshot(Filters(as_of=_as_of(as_of)))
    return snapshot


@main.command("export")
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
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Keep only the ties valid on DATE (YYYY-MM-DD or YYYY).",
)
@store_option
@update_url_option
@config_option
@reports_errors
def export_cmd(
    fmt: str,
    out: str | None,
    as_of: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Export the actor network (queries/network/*.rq) for Gephi, spreadsheets or RDF tools."""
    from coopgraph.exports import write_export

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_loaded_store(settings, quiet=True)
    if fmt == "quickstatements":  # not a network projection: the partnerships themselves
        from coopgraph.quickstatements import quickstatements

        text = quickstatements(st)
        st.close()
        if out:
            Path(out).write_text(text, "utf-8")
            click.echo(f"wrote {out}", err=True)
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
            click.echo(f"wrote {path}", err=True)
    st.close()


@main.group("network")
def network_group() -> None:
    """Figures of the actor network: stats, shortest paths."""


@network_group.command("stats")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Keep only the ties valid on DATE (YYYY-MM-DD or YYYY).",
)
@click.option("--top", default=15, show_default=True, help="Organisations listed.")
@store_option
@update_url_option
@config_option
@reports_errors
def network_stats_cmd(
    as_of: str | None, top: int, store: str | None, update_url: str | None, config: str | None
) -> None:
    """Print nodes, ties by type, components and the organisations ranked by degree."""
    from coopgraph.network import render_stats

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_loaded_store(settings, quiet=True)
    try:
        from coopgraph.netview import SUMMARY_TOP

        # the persisted summary alone when it answers (no graph to read back)
        summary = None if as_of or top > SUMMARY_TOP else _network_view(st, settings).load_summary()
        if summary is None:
            snap = _network_snapshot(st, settings, as_of)
            summary = {"stats": snap.stats, "top": snap.ranking("degree"),
                       "betweenness": snap.betweenness}
        click.echo(render_stats(summary["stats"], summary["top"], top=top,
                                method=summary["betweenness"]))
    finally:
        st.close()


@network_group.command("path")
@click.argument("source")
@click.argument("target")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Keep only the ties valid on DATE (YYYY-MM-DD or YYYY).",
)
@store_option
@update_url_option
@config_option
@reports_errors
def network_path_cmd(
    source: str,
    target: str,
    as_of: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Shortest path between SOURCE and TARGET (IRI, org/slug path, or exact label).

    Exit 2 when either is not a node or no path links them.
    """
    from coopgraph.network import path_ties, resolve_node, shortest_path

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_loaded_store(settings, quiet=True)
    graph = _network_snapshot(st, settings, as_of).graph
    path = shortest_path(graph, resolve_node(graph, source), resolve_node(graph, target))
    click.echo(graph.nodes[path[0]].get("label", path[0]) + f"  <{path[0]}>")
    for node, ties in zip(path[1:], path_ties(graph, path), strict=True):
        kinds = ", ".join(sorted({t["type"] for t in ties}))
        click.echo(f"  --[{kinds}]--> " + graph.nodes[node].get("label", node) + f"  <{node}>")
    st.close()


# -- entries: add / replace / remove / explain ------------------------------------------


def _open_for_writing(settings: Settings) -> Any:
    """The configured store, writable and up to date (no read-only fallback: a running
    server holding the store is told, with the HTTP route to use instead)."""
    from coopgraph.errors import StartupError, StoreError
    from coopgraph.load import load_project
    from coopgraph.search import attach
    from coopgraph.store import open_store

    try:
        store = open_store(settings.store, update_url=settings.update_url)
    except StartupError as exc:  # a store error (exit 4), not bad usage
        raise StoreError(
            f"{exc.message}; while `coopgraph serve` holds the store, write through "
            "HTTP (POST /entries with a bearer token)",
            details={"store_changed": False},
        ) from exc
    load_project(store, settings)
    attach(store, settings.search_index)  # writes below update the search index
    return store


def _default_agent() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "coopgraph-cli"


def _entry_write(
    action: str,
    file: str | None,
    graph: str | None,
    agent: str | None,
    lang: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """add / replace / remove; every failure says whether the store changed."""
    try:
        _entry_write_or_fail(action, file, graph, agent, lang, store, update_url, config)
    except CoopgraphError as exc:  # failed before entries.* could write: say so
        if not hasattr(exc, "store_changed"):
            exc.store_changed = False  # type: ignore[attr-defined]
        raise


def _entry_write_or_fail(
    action: str,
    file: str | None,
    graph: str | None,
    agent: str | None,
    lang: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    from coopgraph import entries
    from coopgraph.errors import ParseError, ValidationFailed
    from coopgraph.formats import rdf_format_for_path
    from coopgraph.validate import Validator

    settings = settings_from(config, store=store, update_url=update_url, lang=lang)
    who = agent or _default_agent()
    data = b""
    fmt = None
    if file is not None:
        fmt = rdf_format_for_path(file)
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise ParseError(f"cannot read file: {exc.strerror}", source=file) from None
    st = _open_for_writing(settings)
    try:
        if action == "remove":
            assert graph is not None
            result = entries.remove_entry(st, graph, agent=who, source="coopgraph remove")
        else:
            assert fmt is not None and file is not None
            write = entries.add_entry if action == "add" else entries.replace_entry
            try:
                result = write(
                    st,
                    data,
                    fmt,
                    graph=graph,
                    agent=who,
                    source=Path(file).name,
                    validator=Validator(st),
                )
            except ValidationFailed as exc:
                click.echo(exc.report.render("text", lang=settings.lang))
                raise
    finally:
        st.close()
    for warning in result.warnings:
        message = warning.get("messages", {}).get(settings.lang) or warning["message"]
        click.echo(f"warning [{warning.get('rule') or '?'}] {message}", err=True)
    verb = {"added": "added", "replaced": "replaced", "removed": "removed"}[result.action]
    click.echo(f"{verb} {result.graph} ({result.triples} triple(s)) as {who}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--graph",
    default=None,
    metavar="ID|IRI",
    help="Entry id or cgg:entry/<id> IRI (default: the entry graph the file "
    "names, else a new uuid).",
)
@click.option(
    "--agent",
    default=None,
    metavar="NAME",
    help="Who adds it, recorded as prov:wasAttributedTo (default: your login).",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en", "nl"]),
    default=None,
    help="Language of the report when the entry is rejected (default fr).",
)
@store_option
@update_url_option
@config_option
@reports_errors
def add(
    file: str,
    graph: str | None,
    agent: str | None,
    lang: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Add FILE as a new entry graph: validated, then written with its provenance and
    inferences in one transaction.

    Exit 0 when added, 1 when it does not conform (the report is printed and nothing is
    written), 2 when it cannot be read or the entry already exists.
    """
    _entry_write("add", file, graph, agent, lang, store, update_url, config)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--graph", required=True, metavar="ID|IRI", help="The entry to replace.")
@click.option(
    "--agent",
    default=None,
    metavar="NAME",
    help="Who replaces it, recorded as prov:wasAttributedTo (default: your login).",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en", "nl"]),
    default=None,
    help="Language of the report when the entry is rejected (default fr).",
)
@store_option
@update_url_option
@config_option
@reports_errors
def replace(
    file: str,
    graph: str,
    agent: str | None,
    lang: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Replace the whole content of an entry graph with FILE (same checks as add).

    Exit 0 when replaced, 1 when FILE does not conform, 2 when the entry does not exist.
    """
    _entry_write("replace", file, graph, agent, lang, store, update_url, config)


@main.command()
@click.option("--graph", required=True, metavar="ID|IRI", help="The entry to remove.")
@click.option(
    "--agent",
    default=None,
    metavar="NAME",
    help="Who removes it, recorded in the provenance log (default: your login).",
)
@store_option
@update_url_option
@config_option
@reports_errors
def remove(
    graph: str,
    agent: str | None,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Remove an entry graph and the inferences that depended on it.

    Exit 0 when removed, 2 when there is no such entry.
    """
    _entry_write("remove", None, graph, agent, None, store, update_url, config)


def _explain_object(term: str) -> Any:
    """An IRI (compact or full) or a literal written as in Turtle: "text", "text"@fr."""
    import pyoxigraph as ox

    from coopgraph.entries import expand_iri

    text = term.strip()
    if text.startswith('"'):
        body, _, tail = text[1:].rpartition('"')
        if tail.startswith("@"):
            return ox.Literal(body, language=tail[1:])
        if tail.startswith("^^"):
            return ox.Literal(body, datatype=ox.NamedNode(expand_iri(tail[2:])))
        return ox.Literal(body)
    return ox.NamedNode(expand_iri(text))


def render_explanations(explanations: list[Any], lang: str = "fr", indent: str = "") -> str:
    """Explanations as text: rule, then each premise with the graph that holds it."""
    from coopgraph.validate import compact

    def term(t: Any) -> str:
        return compact(t.value) if hasattr(t, "value") and not hasattr(t, "language") else str(t)

    lines: list[str] = []
    for number, exp in enumerate(explanations, start=1):
        label = exp.label_fr if lang == "fr" else exp.label_en
        lines.append(f"{indent}{number}. [{exp.rule}] {label}")
        for s, p, o in exp.axioms:
            lines.append(f"{indent}   schema: {compact(s)} {compact(p)} {compact(o)}")
        for premise in exp.premises:
            t = premise.triple
            lines.append(
                f"{indent}   from: {term(t.subject)} {term(t.predicate)} {term(t.object)}"
                f"   (graph {compact(premise.graph)})"
            )
            if premise.explanations:
                lines.append(render_explanations(premise.explanations, lang, indent + "      "))
    return "\n".join(lines)


@main.command()
@click.argument("subject")
@click.argument("predicate")
@click.argument("object_", metavar="OBJECT")
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default=None,
    help="Language of the rule labels (default fr).",
)
@click.option(
    "--depth",
    default=4,
    show_default=True,
    help="How deep inferred premises are explained in turn.",
)
@store_option
@update_url_option
@config_option
@reports_errors
def explain(
    subject: str,
    predicate: str,
    object_: str,
    lang: str | None,
    depth: int,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Why the store infers SUBJECT PREDICATE OBJECT: the rule and its premises, each
    with the graph it comes from.

    Terms are compact IRIs (cgid:place/oujda cg:within cgid:place/morocco), <full IRIs>
    or, for the object, a Turtle literal. Exit 0 with an explanation; 2 when the triple
    is asserted (nothing to explain) or does not hold.
    """
    from coopgraph.entries import expand_iri
    from coopgraph.errors import NotFound
    from coopgraph.reason import Reasoner
    from coopgraph.store.base import Boolean

    settings = settings_from(config, store=store, update_url=update_url, lang=lang)
    s, p, o = expand_iri(subject), expand_iri(predicate), _explain_object(object_)
    st = open_loaded_store(settings, quiet=True)
    try:
        explanations = Reasoner(st).explain(s, p, o, depth=depth)
        if not explanations:
            import pyoxigraph as ox

            holds = st.query(
                "ASK { GRAPH ?g { ?s ?p ?o } }",
                bindings={"s": ox.NamedNode(s), "p": ox.NamedNode(p), "o": o},
            )
            assert isinstance(holds, Boolean)
            shown = f"{subject} {predicate} {object_}"
            if holds:
                raise NotFound(f"{shown} is asserted in the data, not inferred: nothing to explain")
            raise NotFound(f"{shown} does not hold in the store (neither asserted nor inferred)")
        click.echo(render_explanations(explanations, settings.lang))
    finally:
        st.close()


# -- spreadsheets: template / import (coopgraph.tabular) ---------------------------------


@main.command("template")
@click.argument("kind", type=click.Choice(["offer", "organisation", "partnership"]))
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default="fr",
    show_default=True,
    help="Language of the column names and explanations.",
)
@reports_errors
def template_cmd(kind: str, lang: str) -> None:
    """Print a CSV template for KIND (UTF-8, comma-separated): header, explanation row,
    example row. Multi-valued cells separate their values with ';'."""
    from coopgraph.tabular import template

    sys.stdout.buffer.write(template(kind, lang))


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--add",
    "add_",
    is_flag=True,
    help="Write every conforming entry (the others are reported); without it nothing is "
    "written: a dry run.",
)
@click.option(
    "--reference",
    is_flag=True,
    help="Also import cgg:reference/<id> graphs (places, programmes: reference data).",
)
@click.option(
    "--kind",
    type=click.Choice(["offer", "organisation", "partnership"]),
    default=None,
    help="Spreadsheets: kind of rows (default: guessed from the headers).",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default=None,
    help="Spreadsheets: language of the report and of the texts (default: the headers').",
)
@click.option(
    "--annotate",
    default=None,
    metavar="OUT.csv",
    type=click.Path(dir_okay=False),
    help="Spreadsheets: write a copy of the sheet with an errors column.",
)
@click.option(
    "--agent",
    default=None,
    metavar="NAME",
    help="Who imports, recorded as prov:wasAttributedTo (default: your login).",
)
@click.option(
    "--batch",
    "batch_quads",
    default=50_000,
    show_default=True,
    help="Quads read before a batch is validated and committed.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The per-entry report: text for people, json for tools.",
)
@store_option
@update_url_option
@config_option
@reports_errors
def import_cmd(
    files: tuple[str, ...],
    add_: bool,
    reference: bool,
    kind: str | None,
    lang: str | None,
    annotate: str | None,
    agent: str | None,
    batch_quads: int,
    fmt: str,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Import datasets: N-Quads / TriG files of many entry graphs, Turtle / JSON-LD /
    N-Triples / RDF/XML files of one entry each, filled spreadsheet templates (CSV).

    Each entry is validated against the shapes with the store as context and, with
    --add, written whole with its provenance; inferences are rebuilt once at the end.
    A progress bar (rate, ETA) goes to stderr, then a report line per entry: added,
    replaced, unchanged (skipped: same content as the current version), rejected (rule
    IDs). Re-running on the same files writes only what changed.

    Exit 0 when every entry conforms, 1 when one does not (with --add the conforming
    ones are written anyway), 2 when a file cannot be read, 3 unsupported format.
    """
    from coopgraph.bulk import ImportOptions, run_import, source_for
    from coopgraph.bulk.progress import ProgressBar
    from coopgraph.validate import Validator

    sources = [source_for(f) for f in files]
    settings = settings_from(config, store=store, update_url=update_url)
    st = _open_for_writing(settings) if add_ else open_loaded_store(settings, quiet=True)
    options = ImportOptions(
        agent=agent or _default_agent(), write=add_, reference=reference,
        batch_quads=batch_quads, kind=kind, lang=lang,
    )
    bar = ProgressBar(sum(s.size for s in sources))
    try:
        report = run_import(st, sources, validator=Validator(st), options=options, progress=bar)
    except KeyboardInterrupt:
        bar.close()
        click.echo(
            "coopgraph: interrupted; the entries committed so far are whole, the others "
            "were not written; inferences are rebuilt when the store is next opened. Run "
            "the same command again to finish (unchanged entries are skipped).",
            err=True,
        )
        sys.exit(130)
    finally:
        st.close()
    bar.close()
    for sheet in options.sheets:
        shown = lang or sheet.sheet.lang
        if annotate:
            Path(annotate).write_bytes(sheet.annotated(shown))
        if fmt == "text":
            click.echo(sheet.to_text(shown))
    if fmt == "json":
        click.echo(report.to_json())
    else:
        rdf = [o for o in report.outcomes if " row " not in o.origin]
        if rdf or report.errors:
            click.echo(report.to_text())
        else:
            click.echo(report.summary(), err=True)
    sys.exit(report.exit_code)
