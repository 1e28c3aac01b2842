"""The ``coopgraph`` command: each command parses options, calls one function, prints.

One module per command group (``serve``/``load``, ``validate``/``rules``,
``query``/``lookup``, the entries, the network, the spreadsheets); the options and the
store handling they share live in :mod:`coopgraph.cli.common`.

Errors leave as one line on stderr and the exit code of their class (see errors.py):
0 ok / conforms, 1 does not conform, 2 unreadable input or bad usage, 3 unsupported
format, 4 store or server error.
"""

from __future__ import annotations

import click

from coopgraph import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coopgraph")
def main() -> None:
    """coopgraph: a knowledge graph of decentralised-cooperation actors.

    Load the ontology, shapes and seed data into a store, validate new entries
    against the SHACL shapes, query with SPARQL and serve the graph over HTTP.
    """


def _register() -> None:
    """Attach every command group's commands to :func:`main` (in the order of --help)."""
    from coopgraph.cli import entries, network, reading, serving, tabular, validation

    for module in (serving, validation, reading, network, entries, tabular):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
