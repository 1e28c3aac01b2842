"""The validation rules, read from the shapes: one entry per stable rule ID.

``docs/rules.md`` and the ``/rules`` page are generated from here (``coopgraph rules``),
so a rule's explanation, severity, messages and examples cannot drift from the shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby

import pyoxigraph as ox
import rdflib

from coopgraph.rdfbridge import graph_of
from coopgraph.vocab import CG, DCTERMS, RDFS, SH, compact

SEVERITY_WORDS = {
    "Violation": {"fr": "obligatoire", "en": "must", "nl": "verplicht"},
    "Warning": {"fr": "recommandé", "en": "should", "nl": "aanbevolen"},
    "Info": {"fr": "conseil", "en": "advice", "nl": "advies"},
}


@dataclass
class Rule:
    """One rule: a shape with a stable ``dcterms:identifier``."""

    id: str
    shape: str
    severity: str
    messages: dict[str, str]
    targets: list[str] = field(default_factory=list)
    path: str | None = None
    label: str | None = None
    valid_example: str | None = None
    invalid_example: str | None = None

    @property
    def family(self) -> str:
        return self.id.rsplit("-", 1)[0]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "shape": self.shape,
            "severity": self.severity,
            "messages": self.messages,
            "targets": self.targets,
            "path": self.path,
            "validExample": self.valid_example,
            "invalidExample": self.invalid_example,
        }


def rules_from_graph(shapes: rdflib.Graph) -> list[Rule]:
    """Every identified shape of ``shapes`` as a :class:`Rule`, sorted by ID."""
    U = rdflib.URIRef
    ident, prop, sev = U(DCTERMS.identifier), U(SH.property), U(SH.severity)
    rules = []
    for shape, rule_id in shapes.subject_objects(ident):
        if (
            (shape, rdflib.RDF.type, U(SH.NodeShape)) not in shapes
            and (shape, rdflib.RDF.type, U(SH.PropertyShape)) not in shapes
            and shapes.value(shape, U(SH.path)) is None
            and not list(shapes.subjects(prop, shape))
        ):
            continue  # an identifier on something that is not a shape (the shapes document)
        owners = [shape, *shapes.subjects(prop, shape)]
        targets = sorted(
            compact(str(t)) for o in owners for t in shapes.objects(o, U(SH.targetClass))
        )
        path = shapes.value(shape, U(SH.path))
        severity = str(shapes.value(shape, sev) or SH.Violation).rsplit("#", 1)[-1]
        messages = {
            m.language or "": str(m)
            for m in shapes.objects(shape, U(SH.message))
            if isinstance(m, rdflib.Literal)
        }
        label = shapes.value(shape, U(RDFS.label))
        valid = shapes.value(shape, U(CG.validExample))
        invalid = shapes.value(shape, U(CG.invalidExample))
        rules.append(
            Rule(
                id=str(rule_id),
                shape=str(shape),
                severity=severity,
                messages=messages,
                targets=targets,
                path=compact(str(path))
                if isinstance(path, rdflib.URIRef)
                else (str(path) if path is not None else None),
                label=str(label) if label is not None else None,
                valid_example=str(valid) if valid is not None else None,
                invalid_example=str(invalid) if invalid is not None else None,
            )
        )
    return sorted(rules, key=lambda r: r.id)


def rules_from_quads(quads: Iterable[ox.Quad]) -> list[Rule]:
    return rules_from_graph(graph_of(quads))


def render_markdown(rules: list[Rule], *, version: str = "") -> str:
    """``docs/rules.md``: every rule with severity, messages in fr/en/nl and two examples."""
    out = [
        "# coopgraph validation rules",
        "",
        "Generated from `shapes/` by `coopgraph rules --format md` — do not edit by hand.",
        "Each rule has a stable ID cited by every report (CLI, HTTP 422, CSV import).",
        "Severity: **Violation** = must (the entry is rejected), **Warning** = should,",
        "**Info** = advice.",
        "",
    ]
    if version:
        out += [f"Shapes version: `{version}`", ""]
    for family, members in groupby(rules, key=lambda r: r.family):
        out += [f"## {family}", ""]
        for rule in members:
            out.append(f'### {rule.id}<a id="{rule.id}"></a>')
            out.append("")
            words = SEVERITY_WORDS.get(rule.severity, {})
            out.append(
                f"- severity: **{rule.severity}** ({words.get('fr', '')} / {words.get('en', '')}"
                f" / {words.get('nl', '')})"
            )
            if rule.targets:
                out.append(f"- applies to: {', '.join(f'`{t}`' for t in rule.targets)}")
            if rule.path:
                out.append(f"- field: `{rule.path}`")
            for lang in ("fr", "en", "nl"):
                if lang in rule.messages:
                    out.append(f"- {lang}: {rule.messages[lang]}")
            for title, example in (
                ("valid", rule.valid_example),
                ("invalid", rule.invalid_example),
            ):
                if example:
                    out += [
                        "",
                        f"{title.capitalize()} example:",
                        "",
                        "```turtle",
                        example.strip(),
                        "```",
                    ]
            out.append("")
    return "\n".join(out).rstrip() + "\n"
