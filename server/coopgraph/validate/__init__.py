"""Validate entries and whole stores against the SHACL shapes (see ``validator.py``).

Modules: ``report`` (findings and reports for people), ``validator`` (the API),
``context`` (an entry's context from the store), ``shapes`` + ``engine`` + ``sparql``
(the compiled path), ``reference`` (pyshacl: fallback and yardstick), ``results``
(sh:ValidationReport graphs), ``whole`` (the whole-store data graph), ``batch`` (a bulk
import's entries checked on views of one shared index).
"""

from coopgraph.validate.context import Candidate, Overlay
from coopgraph.validate.report import Finding, Report, expand_paths
from coopgraph.validate.validator import Validator

__all__ = [
    "Candidate",
    "Finding",
    "Overlay",
    "Report",
    "Validator",
    "expand_paths",
]
