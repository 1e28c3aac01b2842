"""CSV in and out: the template, reading a filled sheet, writing the annotated copy.

Files are UTF-8 (a byte-order mark is written so Excel shows accents right, and accepted
on reading). The template is comma-separated; a sheet saved again by a French Excel
(semicolon-separated) is read too: the header row decides the delimiter.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from coopgraph.csvsafe import SafeWriter
from coopgraph.errors import BadRequest, ParseError
from coopgraph.lookup import fold
from coopgraph.parse import byte_position
from coopgraph.tabular.columns import COMMENT, ERRORS_HEADER, KINDS, LANGS, Column, header_index

BOM = "\ufeff"


def template(kind: str, lang: str = "fr") -> bytes:
    """The CSV template of ``kind``: header, explanation row, example row (UTF-8 + BOM).

    :raises BadRequest: unknown kind or language.
    """
    columns = _columns(kind)
    if lang not in LANGS:
        raise BadRequest(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    explanation = [c.explanation(lang) for c in columns]
    explanation[0] = f"{COMMENT} {explanation[0]}"
    return _write(
        [[c.header[lang] for c in columns], explanation, [c.example[lang] for c in columns]]
    )


def example_row(kind: str, lang: str) -> list[str]:
    return [c.example[lang] for c in KINDS[kind]]


def _columns(kind: str) -> tuple[Column, ...]:
    if kind not in KINDS:
        raise BadRequest(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    return KINDS[kind]


def _write(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = SafeWriter(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


@dataclass
class Sheet:
    """A read sheet: its kind, header language, columns in order and data records."""

    source: str
    kind: str
    lang: str
    delimiter: str
    header: list[str]
    #: the column of each header cell (``None``: the errors column of an annotated copy)
    columns: list[Column | None]
    #: (row number as the spreadsheet shows it, cells) for every record after the header
    records: list[tuple[int, list[str]]]

    def cells(self, values: list[str]) -> dict[str, str]:
        """Column key → cell text for one record."""
        return {
            c.key: (values[i] if i < len(values) else "")
            for i, c in enumerate(self.columns)
            if c is not None
        }

    def is_comment(self, values: list[str]) -> bool:
        """The first cell, or the id cell wherever the columns were moved, starts with ``#``."""
        firsts = [values[0] if values else "", self.cells(values).get("id", "")]
        return any(cell.lstrip().startswith(COMMENT) for cell in firsts)

    def is_example(self, values: list[str]) -> bool:
        """Is this the template's example row, left as it was?"""
        example = example_row(self.kind, self.lang)
        cells = self.cells(values)
        return all(
            cells.get(c.key, "") == e for c, e in zip(KINDS[self.kind], example, strict=True)
        )


def read_sheet(data: bytes, *, source: str = "<sheet>", kind: str | None = None) -> Sheet:
    """Read a filled template.

    :param kind: ``offer``, ``organisation`` or ``partnership``; ``None``: the kind whose
        headers the sheet uses.
    :raises ParseError: not UTF-8, no header row, or headers of no known kind; the CLI
        exits 2.
    :raises BadRequest: unknown ``kind``.
    """
    if kind is not None:
        _columns(kind)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = byte_position(data, exc.start)
        raise ParseError(
            "the file is not UTF-8: in the spreadsheet, save it as "
            "“CSV UTF-8” / enregistrez-le au format « CSV UTF-8 »",
            source=source,
            line=line,
            column=column,
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ParseError(f"not a readable CSV file: {exc}", source=source) from None
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    if not numbered:
        raise ParseError(
            "the file is empty: it needs a header row (coopgraph template)", source=source
        )
    line, header = numbered[0]
    folded = [fold(h).strip() for h in header]
    kinds = [kind] if kind else list(KINDS)
    best: tuple[int, str] | None = None
    for candidate in kinds:
        index = header_index(candidate)
        score = sum(1 for h in folded if h in index)
        if best is None or score > best[0]:
            best = (score, candidate)
    assert best is not None
    chosen = best[1]
    index = header_index(chosen)
    errors_headers = {fold(h) for h in ERRORS_HEADER.values()}
    unknown = [
        h for h, f in zip(header, folded, strict=True) if f not in index and f not in errors_headers
    ]
    if best[0] == 0 or unknown:
        expected = ", ".join(f"“{c.header['en']}”" for c in KINDS[chosen])
        what = (
            f"unknown column(s) {', '.join(repr(u) for u in unknown)}"
            if best[0]
            else "no known column"
        )
        raise ParseError(
            f"{what} in the header row of a {chosen} sheet; expected (fr or en): {expected} "
            "(get the template with `coopgraph template`)",
            source=source,
            line=line,
        )
    columns: list[Column | None] = [index[f][0] if f in index else None for f in folded]
    seen = [c.key for c in columns if c is not None]
    duplicates = sorted({k for k in seen if seen.count(k) > 1})
    if duplicates:
        raise ParseError(
            f"column(s) given twice: {', '.join(duplicates)}", source=source, line=line
        )
    langs = [
        index[f][1]
        for f in folded
        if f in index and fold(index[f][0].header["fr"]) != fold(index[f][0].header["en"])
    ]
    lang = max(LANGS, key=langs.count) if langs else "fr"
    return Sheet(
        source, chosen, lang, delimiter, header, columns, [(n, r) for n, r in numbered[1:]]
    )


def annotated(sheet: Sheet, messages: dict[int, list[str]], lang: str) -> bytes:
    """The sheet again with one more column holding every message of each row."""
    keep = [i for i, c in enumerate(sheet.columns) if c is not None]
    rows = [[sheet.header[i] for i in keep] + [ERRORS_HEADER[lang]]]
    for number, values in sheet.records:
        cells = [values[i] if i < len(values) else "" for i in keep]
        rows.append(cells + ["\n".join(messages.get(number, []))])
    return _write(rows, sheet.delimiter)
