"""Spreadsheets for people who know no RDF: a CSV template per kind, and its import.

``coopgraph template offer --lang fr > new.csv`` writes a header row (plain-language
column names), one explanation row (what to write, format, example, required or not, the
rule that checks it; its first cell starts with ``#`` so the importer skips it) and one
example row (skipped too while left unchanged). ``coopgraph import new.csv`` turns each
row into RDF shaped like the seeds, validates it against the shapes with the store as
context and tells every problem by row and column, with the rule ID::

    ligne 3, colonne « Date limite » : « fin avril » n'est pas une date : écrivez AAAA-MM-JJ
        (règle CG-OFFER-004)

Multi-valued cells (languages, skills, partners, themes…) separate their values with
``;``. Names (“Ville de Lille”, “Oujda”) are resolved with :func:`coopgraph.lookup.lookup`
and list labels (“CDD”, “Gestion de projet”) against their concept scheme.

>>> template("offer", "en").decode("utf-8-sig").splitlines()[0].split(",")[:3]
['Identifier', 'Job title', 'Employer']
"""

from __future__ import annotations

from coopgraph.tabular.columns import KINDS, SEPARATOR, Column
from coopgraph.tabular.importer import ImportReport, add_rows, import_sheet
from coopgraph.tabular.rows import Issue, Row
from coopgraph.tabular.sheet import Sheet, read_sheet, template

__all__ = [
    "KINDS",
    "SEPARATOR",
    "Column",
    "ImportReport",
    "Issue",
    "Row",
    "Sheet",
    "add_rows",
    "import_sheet",
    "read_sheet",
    "template",
]
