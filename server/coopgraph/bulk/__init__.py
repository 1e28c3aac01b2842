"""Bulk import of datasets: many entries from N-Quads, TriG, Turtle, JSON-LD and
spreadsheet files, each validated and written whole, with one materialisation per run.

``coopgraph import FILES… --add`` and ``POST /import`` run :func:`run_import`.
"""

from __future__ import annotations

from coopgraph.bulk.pipeline import SMALL_BATCH, ImportOptions, Progress, run_import
from coopgraph.bulk.report import BulkReport, Outcome
from coopgraph.bulk.sources import Candidate, Source, source_for

__all__ = [
    "SMALL_BATCH",
    "BulkReport",
    "Candidate",
    "ImportOptions",
    "Outcome",
    "Progress",
    "Source",
    "run_import",
    "source_for",
]
