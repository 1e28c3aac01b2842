"""``coopgraph validate`` and ``coopgraph rules``: checking data against the shapes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from coopgraph.cli.common import (
    StoreFlags,
    lang_option,
    loaded_store,
    reports_errors,
    store_options,
)


@click.command()
@click.argument("files", nargs=-1, type=click.Path())
@click.option(
    "--all",
    "whole",
    is_flag=True,
    help="Validate the whole store instead of FILES: every node any shape targets.",
)
@lang_option("Language of the report (default fr).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text for people; json or turtle (sh:ValidationReport) for tools.",
)
@store_options
@reports_errors
def validate(
    files: tuple[str, ...], whole: bool, lang: str | None, fmt: str, where: StoreFlags
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
    settings = where.settings(lang=lang)
    with loaded_store(settings) as st:
        validator = Validator(st)
        if whole:
            report = validator.validate_store()
        else:
            report = validator.validate_files([Path(f) for f in files])
    click.echo(report.render(fmt, lang=settings.lang))
    sys.exit(0 if report.conforms else 1)


@click.command()
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

    settings = StoreFlags().settings()
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


COMMANDS = [validate, rules]
