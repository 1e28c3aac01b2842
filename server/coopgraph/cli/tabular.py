"""``coopgraph template`` and ``coopgraph import``: spreadsheets and datasets in bulk
(:mod:`coopgraph.tabular`, :mod:`coopgraph.bulk`)."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coopgraph.cli.common import (
    StoreFlags,
    default_agent,
    lang_option,
    loaded_store,
    reports_errors,
    tell,
    writable_store,
)
from coopgraph.cli.through_server import import_files, server_for, write_options
from coopgraph.errors import BadRequest

if TYPE_CHECKING:
    from coopgraph.settings import Settings
    from coopgraph.store import Store

KINDS = ("offer", "organisation", "partnership")


@click.command("template")
@click.argument("kind", type=click.Choice(KINDS))
@lang_option("Language of the column names and explanations.", choices=("fr", "en"),
             default="fr")
@reports_errors
def template_cmd(kind: str, lang: str) -> None:
    """Print a CSV template for KIND (UTF-8, comma-separated): header, explanation row,
    example row. Multi-valued cells separate their values with ';'."""
    from coopgraph.tabular import template

    sys.stdout.buffer.write(template(kind, lang))


@click.command("import")
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
    type=click.Choice(KINDS),
    default=None,
    help="Spreadsheets: kind of rows (default: guessed from the headers).",
)
@lang_option("Spreadsheets: language of the report and of the texts (default: the headers').",
             choices=("fr", "en"))
@click.option(
    "--annotate",
    default=None,
    metavar="OUT.csv",
    type=click.Path(dir_okay=False),
    help="Spreadsheets: write a copy of the sheet with an errors column.",
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
@click.option(
    "--views/--no-views",
    default=True,
    show_default=True,
    help="After writing into a disk store, compute the network view and keep it beside "
    "the store, so that serve answers the network pages at once.",
)
@write_options("Who imports, recorded as prov:wasAttributedTo")
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
    server: str | None,
    token: str | None,
    views: bool,
    where: StoreFlags,
) -> None:
    """Import datasets: N-Quads / TriG files of many entry graphs, Turtle / JSON-LD /
    N-Triples / RDF/XML files of one entry each, filled spreadsheet templates (CSV).

    Each entry is validated against the shapes with the store as context and, with
    --add, written whole with its provenance; inferences are rebuilt once at the end.
    A progress bar (rate, ETA) goes to stderr, then a report line per entry: added,
    replaced, unchanged (skipped: same content as the current version), rejected (rule
    IDs). Re-running on the same files writes only what changed.

    While `coopgraph serve` holds the store (or with --server URL), --add sends the
    files to that server, which imports them through the same pipeline; the token is
    --token or $COOPGRAPH_TOKEN, and the provenance names its owner.

    Exit 0 when every entry conforms, 1 when one does not (with --add the conforming
    ones are written anyway), 2 when a file cannot be read or the token is refused, 3
    unsupported format, 4 store or server error.
    """
    from coopgraph.bulk import ImportOptions, run_import, source_for
    from coopgraph.bulk.progress import ProgressBar
    from coopgraph.validate import Validator

    sources = [source_for(f) for f in files]
    settings = where.settings()
    through = server_for(settings, server, token) if add_ or server else None
    if through is not None:
        if annotate:
            raise BadRequest(
                "--annotate checks the sheet here: run the same command without --add "
                "first (a dry run reads the served store), then with --add"
            )
        sent = import_files(through, files, write=add_, reference=reference, kind=kind,
                            lang=lang)
        click.echo(sent.to_json() if fmt == "json" else sent.to_text())
        sys.exit(sent.exit_code)
    opened: AbstractContextManager[Store] = (
        writable_store(settings) if add_ else loaded_store(settings)
    )
    options = ImportOptions(
        agent=agent or default_agent(), write=add_, reference=reference,
        batch_quads=batch_quads, kind=kind, lang=lang, cache_dir=Path(settings.cache_dir),
    )
    bar = ProgressBar(sum(s.size for s in sources))
    try:
        with opened as st:
            report = run_import(st, sources, validator=Validator(st), options=options,
                                progress=bar)
            bar.close()
            counts = report.counts()
            if views and add_ and counts["added"] + counts["replaced"]:
                _prepare_views(st, settings)
    except KeyboardInterrupt:
        bar.close()
        tell(
            "coopgraph: interrupted; the entries committed so far are whole, the others "
            "were not written; inferences are rebuilt when the store is next opened. Run "
            "the same command again to finish (unchanged entries are skipped)."
        )
        sys.exit(130)
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


def _prepare_views(st: Store, settings: Settings) -> None:
    """The derived views a server needs at once, computed while nobody waits on them; an
    interrupt here loses no data (the import is committed): serve then builds them."""
    from coopgraph.cli.network import prepare_network_view

    try:
        prepare_network_view(st, settings)
    except KeyboardInterrupt:
        tell("coopgraph: the import is complete; the network view was not kept (serve "
             "computes it in the background)")


COMMANDS = [template_cmd, import_cmd]
