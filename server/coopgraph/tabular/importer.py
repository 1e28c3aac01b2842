"""Import a sheet: each row → RDF → validated with the store as context → told by row and
column; with ``add``, every conforming row becomes an entry (``coopgraph.entries``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph import entries
from coopgraph.auth import TOKEN_NAME
from coopgraph.errors import BadRequest, Conflict, ValidationFailed
from coopgraph.store.base import Store
from coopgraph.tabular.cells import q
from coopgraph.tabular.columns import KINDS, Column
from coopgraph.tabular.resolver import Resolver
from coopgraph.tabular.rows import Issue, Row, build_row
from coopgraph.tabular.sheet import Sheet, annotated
from coopgraph.validate import Candidate, Finding, Validator

_WORDS = {
    "fr": {
        "row": "ligne {}",
        "column": "colonne « {} »",
        "rule": "règle {}",
        "Warning": "avertissement",
        "Info": "conseil",
        "ok": "ligne {} : conforme",
        "added": "ligne {} : ajoutée ({})",
        "updated": "ligne {} : mise à jour ({})",
        "example": "ligne {} : exemple du modèle, ignorée",
        "summary": "{ok} ligne(s) conforme(s) sur {n}, {bad} à corriger{added}",
        "added_n": ", {} ajoutée(s)",
        "empty": "aucune ligne à importer",
    },
    "en": {
        "row": "row {}",
        "column": "column “{}”",
        "rule": "rule {}",
        "Warning": "warning",
        "Info": "advice",
        "ok": "row {}: conforms",
        "added": "row {}: added ({})",
        "updated": "row {}: updated ({})",
        "example": "row {}: the template's example, skipped",
        "summary": "{ok} of {n} row(s) conform, {bad} to fix{added}",
        "added_n": ", {} added",
        "empty": "no row to import",
    },
}
#: "(schema:currency)" and the like: vocabulary names that mean nothing to the sheet's users.
_CURIES = re.compile(r"\s*\((?:[a-z]+:[A-Za-z0-9_/#.-]+(?:\s*(?:,|ou|or|and|et)\s*)?)+\)")


@dataclass
class ImportReport:
    """What importing a sheet found (and added)."""

    sheet: Sheet
    rows: list[Row] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    added: dict[int, str] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return all(r.conforms for r in self.rows)

    def issues(self) -> list[Issue]:
        return [i for r in self.rows for i in r.issues]

    def line(self, issue: Issue, lang: str, *, with_row: bool = True) -> str:
        """One issue as a sentence: ``ligne 3, colonne « Date limite » : … (règle …)``."""
        words = _WORDS[lang]
        where = [words["row"].format(issue.row)] if with_row else []
        if issue.column is not None:
            where.append(words["column"].format(issue.column.header[self.sheet.lang]))
        kind = "" if issue.severity == "Violation" else words[issue.severity] + " — "
        rule = f" ({words['rule'].format(issue.rule)})" if issue.rule else ""
        sep = " : " if lang == "fr" else ": "
        text = issue.message(lang).rstrip(". ")
        return (", ".join(where) + sep if where else "") + kind + text + rule

    def messages(self, lang: str) -> dict[int, list[str]]:
        """Row number → its messages (without the row number), for the annotated copy."""
        out: dict[int, list[str]] = {}
        for row in self.rows:
            if row.issues:
                out[row.number] = [self.line(i, lang, with_row=False) for i in row.issues]
        return out

    def to_text(self, lang: str) -> str:
        words = _WORDS[lang]
        lines = [words["example"].format(n) for n in self.skipped]
        for row in self.rows:
            done = words["updated" if row.update else "added"]
            if not row.issues:
                if row.number in self.added:
                    lines.append(done.format(row.number, self.added[row.number]))
                else:
                    lines.append(words["ok"].format(row.number))
            for issue in row.issues:
                lines.append(self.line(issue, lang))
            if row.issues and row.number in self.added:
                lines.append(done.format(row.number, self.added[row.number]))
        if not self.rows:
            lines.append(words["empty"])
        ok = sum(1 for r in self.rows if r.conforms)
        added = words["added_n"].format(len(self.added)) if self.added else ""
        lines.append(
            words["summary"].format(ok=ok, n=len(self.rows), bad=len(self.rows) - ok, added=added)
        )
        return "\n".join(lines)

    def annotated(self, lang: str) -> bytes:
        return annotated(self.sheet, self.messages(lang), lang)

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        return {
            "kind": self.sheet.kind,
            "conforms": self.conforms,
            "rows": [
                {
                    "row": r.number,
                    "iri": r.iri,
                    "conforms": r.conforms,
                    "added": self.added.get(r.number),
                    "updated": r.update and r.number in self.added,
                    "issues": [
                        {
                            "column": i.column.header[self.sheet.lang] if i.column else None,
                            "key": i.column.key if i.column else None,
                            "rule": i.rule,
                            "severity": i.severity,
                            "message": i.message(lang),
                        }
                        for i in r.issues
                    ],
                }
                for r in self.rows
            ],
        }


def import_sheet(
    store: Store, sheet: Sheet, *, lang: str | None = None, validator: Validator | None = None
) -> ImportReport:
    """Turn every data row of ``sheet`` into RDF and validate it; nothing is written.

    :param lang: language of the texts written (titles, descriptions); default: the
        language of the sheet's headers.
    :returns: an :class:`ImportReport` (row issues with column and rule).
    """
    text_lang = lang or sheet.lang
    validator = validator or Validator(store)
    resolver = Resolver(store)
    report = ImportReport(sheet)
    taken: set[str] = set()
    for number, values in sheet.records:
        if sheet.is_comment(values):
            continue
        if sheet.is_example(values):
            report.skipped.append(number)
            continue
        report.rows.append(
            build_row(resolver, sheet.kind, sheet.cells(values), number, text_lang, taken)
        )
    # every row validated alone, with one context query to the store for the whole sheet
    checked = [row for row in report.rows if row.quads and row.graph]
    found = validator.validate_many(
        [Candidate(row.quads, f"{sheet.source}:{row.number}") for row in checked]
    )
    for row, result in zip(checked, found, strict=True):
        row.issues += _issues(row, result.findings, sheet.kind)
    order = {c.key: n for n, c in enumerate(KINDS[sheet.kind])}
    for row in report.rows:
        row.issues.sort(
            key=lambda i: (
                i.severity != "Violation",
                order.get(i.column.key, 99) if i.column else 99,
            )
        )
    return report


def _issues(row: Row, findings: list[Finding], kind: str) -> list[Issue]:
    """Findings → issues on columns; findings on a column that already has a cell problem
    are the same problem told twice and are dropped, as are warnings about resources the
    row only points at (they are not the row's to fix)."""
    failed = {i.column.key for i in row.issues if i.column is not None}
    out: list[Issue] = []
    seen: set[tuple[str | None, str | None, str]] = set()
    for f in findings:
        role = row.roles.get(f.focus)
        if role is None and f.severity != "Violation":
            continue
        column = column_of(kind, role, f)
        if column is not None and column.key in failed:
            continue
        message = {lang: _CURIES.sub("", f.message(lang)) for lang in ("fr", "en")}
        if f.value and column is not None and f.severity == "Violation":
            shown = _shown(f.value)
            message = {lang: f"{q(shown, lang)} — {m}" for lang, m in message.items()}
        key = (column.key if column else None, f.rule, message["en"])
        if key in seen:
            continue
        seen.add(key)
        out.append(Issue(row.number, column, message, f.rule, f.severity))
    return out


def _shown(value: str) -> str:
    """``"fin avril"^^xsd:string`` → ``fin avril``; IRIs stay as they are."""
    m = re.fullmatch(r'"(.*)"(?:\^\^.*|@.*)?', value, re.S)
    return m.group(1) if m else value


def column_of(kind: str, role: str | None, finding: Finding) -> Column | None:
    """The column a finding is about: same node role and rule, else same role and path,
    else the column that created the node (its first column)."""
    columns = KINDS[kind]
    role = role or "main"
    for column in columns:
        if column.node == role and finding.rule and finding.rule in (column.rule, *column.also):
            return column
    for column in columns:
        if column.node == role and finding.path in column.paths:
            return column
    if finding.path is None or role == "main":
        for column in columns:
            if finding.path in column.paths:
                return column
    if role != "main":
        return next((c for c in columns if c.node == role), None)
    return None


def add_rows(
    store: Store, report: ImportReport, *, agent: str, validator: Validator | None = None
) -> ImportReport:
    """Add every conforming row as an entry ``cgg:entry/<kind>-<id>`` (one transaction per
    row, with its provenance); rows that do not conform are left out. A row whose entry
    an earlier import made (same identifier) replaces it: fix the cell, import again.

    A row refused by the write itself (added meanwhile by someone else: Conflict) gets an
    issue and the next rows are still added.

    :raises BadRequest: a bad agent name (before anything is written).
    """
    if not TOKEN_NAME.fullmatch(agent):
        raise BadRequest(f"bad agent name {agent!r}: use ASCII letters, digits, '.', '_' or '-'")
    validator = validator or Validator(store)
    for row in report.rows:
        if not row.conforms or not row.graph:
            continue
        data = ox.serialize(row.quads, format=ox.RdfFormat.N_QUADS)
        assert isinstance(data, bytes)
        write = entries.replace_entry if row.update else entries.add_entry
        try:
            result = write(
                store,
                data,
                "nquads",
                graph=row.graph,
                agent=agent,
                source=f"{report.sheet.source} ({row.number})",
                validator=validator,
            )
        except (Conflict, ValidationFailed) as exc:
            row.issues.append(Issue(row.number, None, {"fr": exc.message, "en": exc.message}))
            continue
        report.added[row.number] = result.graph
    return report
