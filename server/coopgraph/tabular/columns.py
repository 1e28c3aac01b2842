"""The columns of each spreadsheet kind: header names (fr/en), help text, example, rule,
read from ``columns.toml`` beside this module.

A column writes its cell on one node of the row's data (``node``: the offer itself, its
pay, its education, …) through ``paths``; a SHACL finding about that node and path is
told back on this column (see :mod:`coopgraph.tabular.importer`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from coopgraph.lookup import fold
from coopgraph.tabular.column import (
    COMMENT,
    ERRORS_HEADER,
    LANGS,
    SEPARATOR,
    Column,
)
from coopgraph.vocab import expand

#: The table itself: data, not code (texts in both languages, rule IDs, CURIEs).
COLUMNS_FILE = Path(__file__).with_name("columns.toml")


def _column(entry: dict[str, Any]) -> Column:
    """A :class:`Column` from its table entry (``paths`` as CURIEs)."""
    return Column(
        **{
            **entry,
            "paths": tuple(expand(p) for p in entry.get("paths", ())),
            "also": tuple(entry.get("also", ())),
        }
    )


def _read_kinds() -> dict[str, tuple[Column, ...]]:
    table = tomllib.loads(COLUMNS_FILE.read_text("utf-8"))
    return {kind: tuple(_column(entry) for entry in entries) for kind, entries in table.items()}


#: kind → its columns, in the template's order.
KINDS: dict[str, tuple[Column, ...]] = _read_kinds()
OFFER = KINDS["offer"]
ORGANISATION = KINDS["organisation"]
PARTNERSHIP = KINDS["partnership"]


def header_index(kind: str) -> dict[str, tuple[Column, str]]:
    """Folded header text (either language) → (column, language)."""
    out: dict[str, tuple[Column, str]] = {}
    for col in KINDS[kind]:
        for lang in LANGS:
            out.setdefault(fold(col.header[lang]).strip(), (col, lang))
    return out


__all__ = [
    "COMMENT",
    "ERRORS_HEADER",
    "KINDS",
    "LANGS",
    "OFFER",
    "ORGANISATION",
    "PARTNERSHIP",
    "SEPARATOR",
    "Column",
    "header_index",
]
