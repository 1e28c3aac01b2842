"""What validation reports: findings and reports told to people (text, JSON, Turtle).

Findings carry the rule's stable ID, severity and messages in fr/en/nl from the shapes
(``dcterms:identifier``, ``sh:severity``, ``sh:message``), never SHACL component names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from coopgraph.vocab import (
    PREFIXES,
    SH,
    compact,
)

SKOLEM = "urn:coopgraph:bnode:"
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
RULES_URL = "https://w3id.org/coopgraph/rules#"

_LABELS = {
    "fr": {
        "entry": "Entrée",
        "ok": "conforme",
        "nok": "non conforme",
        "field": "champ",
        "value": "valeur",
        "line": "ligne",
        "Violation": "erreur",
        "Warning": "avertissement",
        "Info": "conseil",
        "rule": "règle",
        "summary": "{n} erreur(s), {w} avertissement(s), {i} conseil(s) — formes {v}",
    },
    "en": {
        "entry": "Entry",
        "ok": "conforms",
        "nok": "does not conform",
        "field": "field",
        "value": "value",
        "line": "line",
        "Violation": "error",
        "Warning": "warning",
        "Info": "advice",
        "rule": "rule",
        "summary": "{n} error(s), {w} warning(s), {i} advice — shapes {v}",
    },
    "nl": {
        "entry": "Invoer",
        "ok": "conform",
        "nok": "niet conform",
        "field": "veld",
        "value": "waarde",
        "line": "regel",
        "Violation": "fout",
        "Warning": "waarschuwing",
        "Info": "advies",
        "rule": "regel",
        "summary": "{n} fout(en), {w} waarschuwing(en), {i} advies — vormen {v}",
    },
}


@dataclass
class Finding:
    """One problem found in an entry, ready to be told to a person."""

    entry: str
    focus: str
    path: str | None
    value: str | None
    rule: str | None
    severity: str
    messages: dict[str, str]
    shape: str
    focus_label: str | None = None
    line: int | None = None
    component: str | None = None
    #: the rule ID of the node shape holding this property shape (an umbrella rule)
    parent_rule: str | None = None

    def message(self, lang: str) -> str:
        for candidate in (lang, "en", "fr", "nl", ""):
            if candidate in self.messages:
                return self.messages[candidate]
        return next(iter(self.messages.values()), "")

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        return {
            "entry": self.entry,
            "line": self.line,
            "focus": self.focus,
            "focusLabel": self.focus_label,
            "path": self.path,
            "value": self.value,
            "rule": self.rule,
            "parentRule": self.parent_rule,
            "severity": self.severity,
            "message": self.message(lang),
            "messages": self.messages,
            "guidance": RULES_URL + self.rule if self.rule else None,
            "shape": self.shape,
        }


@dataclass
class Report:
    """The outcome of validating one or more entries."""

    entries: list[str]
    findings: list[Finding] = field(default_factory=list)
    shapes_version: str = ""
    #: each entry's sh:ValidationReport, built when asked (:meth:`to_turtle`): most
    #: reports are never rendered as RDF, and building the graph cost a third of a bulk
    #: import's validation
    graphs: list[Callable[[], rdflib.Graph]] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.findings)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def extend(self, other: Report) -> None:
        self.entries.extend(other.entries)
        self.findings.extend(other.findings)
        self.graphs.extend(other.graphs)
        self.shapes_version = other.shapes_version or self.shapes_version

    def to_dict(self, lang: str = "fr") -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "shapesVersion": self.shapes_version,
            "entries": self.entries,
            "violations": self.count("Violation"),
            "warnings": self.count("Warning"),
            "infos": self.count("Info"),
            "results": [f.to_dict(lang) for f in self.findings],
        }

    def to_turtle(self) -> str:
        """The standard sh:ValidationReport(s), one per entry, as Turtle."""
        merged = rdflib.Graph()
        for prefix, ns in PREFIXES.items():
            merged.bind(prefix, ns)
        for graph in self.graphs:
            merged += graph()
        return merged.serialize(format="turtle")

    def render(self, fmt: str = "text", *, lang: str = "fr") -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(lang), ensure_ascii=False, indent=2)
        if fmt == "turtle":
            return self.to_turtle()
        return self.to_text(lang)

    def to_text(self, lang: str = "fr") -> str:
        words = _LABELS.get(lang, _LABELS["en"])
        lines: list[str] = []
        for entry in self.entries:
            mine = [f for f in self.findings if f.entry == entry]
            bad = any(f.severity == "Violation" for f in mine)
            lines.append(f"{words['entry']} {entry} : {words['nok'] if bad else words['ok']}")
            for f in sorted(mine, key=_order):
                where = f"{words['line']} {f.line}, " if f.line else ""
                who = (
                    f"« {f.focus_label} » ({compact(f.focus)})"
                    if f.focus_label
                    else compact(f.focus)
                )
                lines.append(f"  ✗ [{f.rule or '?'}] {words[f.severity]} — {where}{who}")
                lines.append(f"      {f.message(lang)}")
                detail = []
                if f.path:
                    detail.append(f"{words['field']} {compact(f.path)}")
                if f.value:
                    detail.append(f"{words['value']} {f.value}")
                if detail:
                    lines.append("      (" + ", ".join(detail) + ")")
                if f.rule:
                    lines.append(f"      {words['rule']} : {RULES_URL}{f.rule}")
        lines.append(
            words["summary"].format(
                n=self.count("Violation"),
                w=self.count("Warning"),
                i=self.count("Info"),
                v=self.shapes_version,
            )
        )
        return "\n".join(lines)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories replaced by the RDF files under them (sorted).

    A folder without RDF files is passed over when other arguments give files
    (``validate data/*`` meets ``data/sources/``, the seed texts); when nothing at all is
    left to validate it is an error, since "0 errors" would read as "valid" (issue 16).
    """
    from coopgraph.formats import RDF_FORMATS

    extensions = {"." + e for f in RDF_FORMATS for e in f.extensions}
    out: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in extensions)
            if not found:
                empty.append(path)
            out += found
        else:
            out.append(path)
    if empty and not out:
        from coopgraph.errors import ParseError

        raise ParseError(
            "no RDF file in this folder (expected " + ", ".join(sorted(extensions)) + ")",
            source=str(empty[0]),
        )
    return out


def skolemise(q: ox.Quad) -> ox.Quad:
    if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode):
        return q

    def sk(t: Any) -> Any:
        return ox.NamedNode(SKOLEM + t.value) if isinstance(t, ox.BlankNode) else t

    return ox.Quad(sk(q.subject), q.predicate, sk(q.object), q.graph_name)


def unskolemise(iri: str) -> str:
    return "_:" + iri[len(SKOLEM) :] if iri.startswith(SKOLEM) else iri


def show(term: rdflib.term.Node) -> str:
    if isinstance(term, rdflib.URIRef):
        return compact(unskolemise(str(term)))
    if isinstance(term, rdflib.Literal):
        return term.n3()
    return str(term)


def line_of(text: str, iri: str) -> int | None:
    """The first line of ``text`` that names ``iri`` (full or prefixed form)."""
    if iri.startswith(SKOLEM):
        return None
    candidates = [f"<{iri}>"]
    short = compact(iri)
    if short != iri:
        candidates.append(short)
        local = short.split(":", 1)[1]
        candidates.append(":" + local)
        candidates.append(f'"{iri}"')
    for number, line in enumerate(text.splitlines(), start=1):
        for candidate in candidates:
            if re.search(re.escape(candidate) + r"(?![\w/-])", line):
                return number
    return None


def _order(f: Finding) -> tuple[int, str, str, str, str, str]:
    """Findings by line, node and rule; the rest only makes the order stable."""
    return (f.line or 0, f.focus, f.rule or "", f.path or "", f.value or "", f.shape)
