"""The ``coopgraph`` command: each command parses options, calls one function, prints.

Errors leave as one line on stderr and the exit code of their class (see errors.py):
0 ok / conforms, 1 does not conform, 2 unreadable input or bad usage, 3 unsupported
format, 4 store or server error.
"""

from __future__ import annotations

import functools
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
    """Turn a CoopgraphError into one stderr line and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoopgraphError as exc:
            click.echo(f"coopgraph: {exc.message}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


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
    from coopgraph.store import open_store

    try:
        store = open_store(settings.store, update_url=settings.update_url)
    except StartupError:
        store = open_store(settings.store, read_only=True)
        click.echo(f"coopgraph: {settings.store} is in use; reading a snapshot of it", err=True)
        return store
    progress = None if quiet else (lambda name: click.echo(f"loading {name}", err=True))
    load_project(store, settings, force=reload, progress=progress)
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
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--lang", type=click.Choice(["fr", "en", "nl"]), default=None,
              help="Language of the report (default fr).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="text for people; json or turtle (sh:ValidationReport) for tools.")
@store_option
@update_url_option
@config_option
@reports_errors
def validate(
    files: tuple[str, ...],
    lang: str | None,
    fmt: str,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Validate entry FILES (.ttl .trig .jsonld .nt .nq .rdf) against the shapes.

    The ontology and the existing data are the context, so references to known
    organisations and places resolve. Exit 0 when every file conforms, 1 when one does
    not, 2 when a file cannot be read or parsed.
    """
    from coopgraph.validate import validate_files

    settings = settings_from(config, store=store, update_url=update_url, lang=lang)
    st = open_loaded_store(settings, quiet=True)
    report = validate_files(st, [Path(f) for f in files], settings=settings)
    click.echo(report.render(fmt, lang=settings.lang))
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "xml",
              "turtle", "ntriples", "jsonld", "trig"]), default="table", show_default=True,
              help="Output format; table is for people.")
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
    text = Path(query).read_text("utf-8") if query.endswith(".rq") else query
    sys.stdout.buffer.write(run_local_query(st, text, fmt, include_inferred=not no_inferred))
    st.close()


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.option("--limit", default=20, show_default=True, help="Maximum matches.")
@store_option
@update_url_option
@config_option
@reports_errors
def lookup(
    text: str,
    as_json: bool,
    limit: int,
    store: str | None,
    update_url: str | None,
    config: str | None,
) -> None:
    """Find an actor by any label or identifier (accents and case ignored), best first.

    Reuse the IRI it prints instead of minting a duplicate: `coopgraph lookup Oujda`,
    `coopgraph lookup Q648`, `coopgraph lookup 59350`.
    """
    import json

    from coopgraph.lookup import lookup as find

    settings = settings_from(config, store=store, update_url=update_url)
    st = open_loaded_store(settings, quiet=True)
    matches = find(st, text, limit=limit)
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in matches], ensure_ascii=False, indent=2))
    else:
        for m in matches:
            click.echo(f"{m.curie:<55} {m.matched}  [{m.via}] {' '.join(m.types)}")
    st.close()


@main.command()
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of stdout (docs/rules.md).")
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
