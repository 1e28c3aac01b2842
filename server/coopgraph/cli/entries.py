"""``coopgraph add`` / ``replace`` / ``remove`` / ``explain``: one entry at a time,
through the write pipeline (:mod:`coopgraph.entries`) and the reasoner."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from coopgraph.cli.common import (
    StoreFlags,
    default_agent,
    lang_option,
    loaded_store,
    reports_errors,
    store_options,
    writable_store,
)
from coopgraph.cli.through_server import server_for, write_entry, write_options
from coopgraph.errors import BadRequest, CoopgraphError

if TYPE_CHECKING:
    import pyoxigraph as ox

_REJECTED_LANG = "Language of the report when the entry is rejected (default fr)."


def _sheet_write(file: str, graph: str | None, agent: str | None, lang: str | None,
                 where: StoreFlags, server: str | None, token: str | None) -> None:
    """``add`` / ``replace`` of a spreadsheet: its rows are entries, so it is the import
    of ``coopgraph import FILE --add`` (rows made before are replaced when changed,
    skipped when not). Exits with the import's code.

    :raises BadRequest: ``--graph`` given (the rows' identifiers name the entries).
    """
    from coopgraph.cli.tabular import import_cmd

    if graph:
        raise BadRequest(
            f"{Path(file).name} is a spreadsheet: each row names its entry (its identifier "
            "column), so leave out --graph"
        )
    click.get_current_context().invoke(
        import_cmd, files=(file,), add_=True, lang=lang if lang in ("fr", "en") else None,
        agent=agent, server=server, token=token, store=where.store,
        update_url=where.update_url, config=where.config,
    )


def _entry_write(
    action: Literal["add", "replace", "remove"],
    file: str | None,
    graph: str | None,
    agent: str | None,
    lang: str | None,
    where: StoreFlags,
    server: str | None = None,
    token: str | None = None,
) -> None:
    """add / replace / remove, in this process or through the server holding the store;
    every failure says whether the store changed."""
    from coopgraph import entries
    from coopgraph.errors import ParseError, ValidationFailed
    from coopgraph.formats import rdf_format_for_path
    from coopgraph.validate import Validator

    if file is not None and file.lower().endswith(".csv"):
        _sheet_write(file, graph, agent, lang, where, server, token)
        return
    if action == "replace" and not graph:
        raise BadRequest(f"replace {file} needs --graph ID: the entry it replaces")
    try:
        settings = where.settings(lang=lang)
        through = server_for(settings, server, token)
        if through is not None:
            if file is not None:
                rdf_format_for_path(file)  # an unknown extension is refused here (exit 3)
            body = write_entry(through, action, file, graph, settings.lang)
            for warning in body.get("warnings", []):
                message = warning.get("messages", {}).get(settings.lang) or warning["message"]
                click.echo(f"warning [{warning.get('rule') or '?'}] {message}", err=True)
            click.echo(f"{body['action']} {body['graph']} ({body.get('triples', 0)} triple(s)) "
                       f"through {through.url}")
            return
        who = agent or default_agent()
        data = b""
        if file is not None:
            fmt = rdf_format_for_path(file)
            try:
                data = Path(file).read_bytes()
            except OSError as exc:
                raise ParseError(f"cannot read file: {exc.strerror}", source=file) from None
        with writable_store(settings) as st:
            if file is None:
                assert graph is not None
                result = entries.remove_entry(st, graph, agent=who, source="coopgraph remove")
            else:
                write = entries.add_entry if action == "add" else entries.replace_entry
                try:
                    result = write(st, data, fmt, graph=graph, agent=who,
                                   source=Path(file).name, validator=Validator(st))
                except ValidationFailed as exc:
                    click.echo(exc.report.render("text", lang=settings.lang))
                    raise
    except CoopgraphError as exc:  # failed before entries.* could write: say so
        if not hasattr(exc, "store_changed"):
            exc.store_changed = False  # type: ignore[attr-defined]
        raise
    for warning in result.warnings:
        message = warning.get("messages", {}).get(settings.lang) or warning["message"]
        click.echo(f"warning [{warning.get('rule') or '?'}] {message}", err=True)
    click.echo(f"{result.action} {result.graph} ({result.triples} triple(s)) as {who}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--graph",
    default=None,
    metavar="ID|IRI",
    help="Entry id or cgg:entry/<id> IRI (default: the entry graph the file "
    "names, else a new uuid).",
)
@lang_option(_REJECTED_LANG)
@write_options("Who adds it, recorded as prov:wasAttributedTo")
def add(file: str, graph: str | None, agent: str | None, lang: str | None,
        server: str | None, token: str | None, where: StoreFlags) -> None:
    """Add FILE as a new entry graph: validated, then written with its provenance and
    inferences in one transaction. A spreadsheet (.csv) is imported row by row, as
    `coopgraph import FILE --add` does.

    While `coopgraph serve` holds the store (or with --server URL), the write is sent
    to that server (token: --token or $COOPGRAPH_TOKEN; the provenance names its owner).

    Exit 0 when added, 1 when it does not conform (the report is printed and nothing is
    written), 2 when it cannot be read, the entry already exists or the token is refused,
    3 unsupported format, 4 store or server error.
    """
    _entry_write("add", file, graph, agent, lang, where, server, token)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--graph", default=None, metavar="ID|IRI",
              help="The entry to replace (required, except for a spreadsheet).")
@lang_option(_REJECTED_LANG)
@write_options("Who replaces it, recorded as prov:wasAttributedTo")
def replace(file: str, graph: str | None, agent: str | None, lang: str | None,
            server: str | None, token: str | None, where: StoreFlags) -> None:
    """Replace the whole content of an entry graph with FILE (same checks as add). A
    spreadsheet (.csv) replaces the entries its rows made before (the rows' identifiers;
    unchanged rows are skipped, new ones added).

    While `coopgraph serve` holds the store (or with --server URL), the write is sent
    to that server (token: --token or $COOPGRAPH_TOKEN; the provenance names its owner).

    Exit 0 when replaced, 1 when FILE does not conform, 2 when the entry does not exist,
    FILE cannot be read or the token is refused, 3 unsupported format, 4 store or server
    error.
    """
    _entry_write("replace", file, graph, agent, lang, where, server, token)


@click.command()
@click.option("--graph", required=True, metavar="ID|IRI", help="The entry to remove.")
@write_options("Who removes it, recorded in the provenance log")
def remove(graph: str, agent: str | None, server: str | None, token: str | None,
           where: StoreFlags) -> None:
    """Remove an entry graph and the inferences that depended on it.

    While `coopgraph serve` holds the store (or with --server URL), the write is sent
    to that server (token: --token or $COOPGRAPH_TOKEN; the provenance names its owner).

    Exit 0 when removed, 2 when there is no such entry or the token is refused, 4 store
    or server error.
    """
    _entry_write("remove", None, graph, agent, None, where, server, token)


def _explain_object(term: str) -> ox.NamedNode | ox.Literal:
    """An IRI (compact or full) or a literal written as in Turtle: "text", "text"@fr."""
    import pyoxigraph as ox

    from coopgraph.vocab import expand

    text = term.strip()
    if text.startswith('"'):
        body, _, tail = text[1:].rpartition('"')
        if tail.startswith("@"):
            return ox.Literal(body, language=tail[1:])
        if tail.startswith("^^"):
            return ox.Literal(body, datatype=ox.NamedNode(expand(tail[2:])))
        return ox.Literal(body)
    return ox.NamedNode(expand(text))


@click.command()
@click.argument("subject")
@click.argument("predicate")
@click.argument("object_", metavar="OBJECT")
@lang_option("Language of the rule labels (default fr).", choices=("fr", "en"))
@click.option(
    "--depth",
    default=4,
    show_default=True,
    help="How deep inferred premises are explained in turn.",
)
@store_options
@reports_errors
def explain(subject: str, predicate: str, object_: str, lang: str | None, depth: int,
            where: StoreFlags) -> None:
    """Why the store infers SUBJECT PREDICATE OBJECT: the rule and its premises, each
    with the graph it comes from.

    Terms are compact IRIs (cgid:place/oujda cg:within cgid:place/morocco), <full IRIs>
    or, for the object, a Turtle literal. Exit 0 with an explanation; 2 when the triple
    is asserted (nothing to explain) or does not hold.
    """
    from coopgraph.errors import NotFound
    from coopgraph.reason import Reasoner
    from coopgraph.reason.explain import render_text
    from coopgraph.store.base import Boolean
    from coopgraph.vocab import expand

    settings = where.settings(lang=lang)
    s, p, o = expand(subject), expand(predicate), _explain_object(object_)
    with loaded_store(settings) as st:
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
    click.echo(render_text(explanations, settings.lang))


COMMANDS = [add, replace, remove, explain]
