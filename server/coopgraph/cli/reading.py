"""``coopgraph query`` and ``coopgraph lookup``: reading the store from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from coopgraph.cli.common import StoreFlags, loaded_store, reports_errors, store_options, tell


@click.command()
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
@store_options
@reports_errors
def query(query: str, fmt: str, no_inferred: bool, where: StoreFlags) -> None:
    """Run QUERY (a .rq file or SPARQL text) against the store; results to stdout."""
    from coopgraph.localquery import run_local_query

    with loaded_store(where.settings()) as st:
        text = query_text(query)
        sys.stdout.buffer.write(run_local_query(st, text, fmt, include_inferred=not no_inferred))


def query_text(query: str) -> str:
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


@click.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.option("--limit", default=20, show_default=True, help="Maximum matches.")
@click.option(
    "--reindex", is_flag=True,
    help="Rebuild the search index first (after writes made without coopgraph).",
)
@store_options
@reports_errors
def lookup(text: str, as_json: bool, limit: int, reindex: bool, where: StoreFlags) -> None:
    """Find an actor by any label or identifier (accents and case ignored, words may be
    cut short: `lil` finds Lille), best first.

    Reuse the IRI it prints instead of minting a duplicate: `coopgraph lookup Oujda`,
    `coopgraph lookup Q648`, `coopgraph lookup 59350`.
    """
    import json

    from coopgraph.lookup import lookup as find
    from coopgraph.search import index_for

    with loaded_store(where.settings()) as st:
        index = index_for(st)
        if reindex:
            index.rebuild(tell)
        index.ensure(tell)
        matches = find(st, text, limit=limit)
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in matches], ensure_ascii=False, indent=2))
    else:
        for m in matches:
            click.echo(f"{m.curie:<55} {m.matched}  [{m.via}] {' '.join(m.types)}")


COMMANDS = [query, lookup]
