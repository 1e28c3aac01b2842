"""One spreadsheet row → the quads of one entry, shaped like the seeds in ``data/seeds/``.

Minted IRIs: ``cgid:offer/<id>`` (parts as hash IRIs ``#salary``, ``#salary-value``,
``#education``, ``#experience``, ``#lang-<code>``, as in the seeds), ``cgid:org/<id>``,
``cgid:partnership/<id>``. Each node remembers its role so that a validation finding on
it can be told on the right column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from coopgraph.csvsafe import is_formula, read_cell
from coopgraph.entries import SLUG, entry_graph
from coopgraph.tabular.cells import (
    CellError,
    number_literal,
    parse_currency,
    parse_date,
    parse_duration,
    parse_language,
    parse_number,
    parse_period,
    parse_url,
    parse_working_time,
    parse_year_or_date,
    q,
    slugify,
)
from coopgraph.tabular.columns import KINDS, SEPARATOR, Column
from coopgraph.tabular.resolver import Resolver
from coopgraph.vocab import CG, DCTERMS, ID, ORG, OWL, RDF, RDFS, SCHEMA, SKOS, XSD

_MINT = {"offer": "offer/", "organisation": "org/", "partnership": "partnership/"}


@dataclass
class Issue:
    """One problem of one row, told on a column when it can be."""

    row: int
    column: Column | None
    messages: dict[str, str]
    rule: str | None = None
    severity: str = "Violation"

    def message(self, lang: str) -> str:
        return (
            self.messages.get(lang)
            or self.messages.get("en")
            or next(iter(self.messages.values()), "")
        )


@dataclass
class Row:
    """One data row of a sheet and what it became."""

    number: int
    cells: dict[str, str]
    iri: str | None = None
    graph: str | None = None
    quads: list[ox.Quad] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: the row's entry exists from an earlier import of the sheet: adding it replaces it
    update: bool = False

    @property
    def conforms(self) -> bool:
        return not any(i.severity == "Violation" for i in self.issues)


class _Builder:
    def __init__(self, row: Row, kind: str, resolver: Resolver, lang: str) -> None:
        self.row, self.kind, self.resolver, self.lang = row, kind, resolver, lang
        self.columns = {c.key: c for c in KINDS[kind]}
        self.graph = ox.NamedNode(row.graph) if row.graph else ox.DefaultGraph()
        self.failed: set[str] = set()

    def text(self, key: str) -> str:
        return self.row.cells.get(key, "").strip()

    def values(self, key: str) -> list[str]:
        column = self.columns[key]
        raw = self.text(key)
        return (
            [v.strip() for v in raw.split(SEPARATOR) if v.strip()]
            if column.multi
            else ([raw] if raw else [])
        )

    def node(self, iri: str, role: str) -> ox.NamedNode:
        self.row.roles[iri] = role
        return ox.NamedNode(iri)

    def add(self, s: ox.NamedNode, p: str, o: Any) -> None:
        self.row.quads.append(ox.Quad(s, ox.NamedNode(p), o, self.graph))

    def lit(self, text: str) -> ox.Literal:
        return ox.Literal(text, language=self.lang)

    def each(self, key: str, parse: Callable[[str], Any]) -> list[Any]:
        """Parse every value of a cell; a failure becomes an issue on this column."""
        out = []
        for value in self.values(key):
            try:
                out.append(parse(value))
            except CellError as exc:
                self.fail(key, exc)
        return out

    def one(self, key: str, parse: Callable[[str], Any]) -> Any:
        found = self.each(key, parse)
        return found[0] if found else None

    def fail(self, key: str, exc: CellError) -> None:
        column = self.columns[key]
        self.failed.add(key)
        self.row.issues.append(
            Issue(
                self.row.number,
                column,
                exc.messages,
                exc.rule or column.rule,
                "Warning" if exc.warning else "Violation",
            )
        )

    def missing(self) -> None:
        for column in self.columns.values():
            if column.required and not self.text(column.key):
                self.row.issues.append(
                    Issue(
                        self.row.number,
                        column,
                        {
                            "fr": "cette colonne est obligatoire : remplissez-la",
                            "en": "this column is required: fill it in",
                        },
                        column.rule,
                    )
                )
                self.failed.add(column.key)

    # typed helpers
    def date(self, s: ox.NamedNode, key: str, p: str) -> None:
        value = self.one(key, parse_date)
        if value:
            self.add(s, p, ox.Literal(value, datatype=XSD.node("date")))

    def refs(self, s: ox.NamedNode, key: str, p: str, kind: str) -> list[str]:
        iris = self.each(key, lambda v: self.resolver.entity(v, kind))
        for iri in iris:
            self.add(s, p, ox.NamedNode(iri))
        return iris

    def concepts(
        self,
        s: ox.NamedNode,
        key: str,
        p: str,
        scheme: str | tuple[str, ...],
        what: tuple[str, str],
    ) -> None:
        for iri in self.each(key, lambda v: self.resolver.concept(v, scheme, what)):
            self.add(s, p, ox.NamedNode(iri))

    def texts(self, s: ox.NamedNode, key: str, p: str) -> None:
        if self.text(key):
            self.add(s, p, self.lit(self.text(key)))


def build_row(
    resolver: Resolver, kind: str, cells: dict[str, str], number: int, lang: str, taken: set[str]
) -> Row:
    """Turn one row's cells (column key → text) into quads; problems become issues.

    :param taken: ids already used by earlier rows of the sheet (updated).
    """
    # A formula (=, +, -, @…), even marked as text by our own CSV writers, is refused:
    # it would come back out of a spreadsheet export as a live formula (issue 16).
    cells = {k: read_cell(v.strip()) for k, v in cells.items()}
    formulas = [k for k, v in cells.items() if is_formula(v)]
    row = Row(number, cells)
    names = {"offer": "title", "organisation": "name_fr", "partnership": "name_fr"}
    wanted = cells.get("id", "").strip()
    slug = wanted or slugify(cells.get(names[kind], ""))
    b = _Builder(row, kind, resolver, lang)
    b.missing()
    for key in formulas:
        if key in b.columns:
            sign = cells[key][0].replace("\t", "tab").replace("\r", "CR")
            b.fail(key, CellError(
                f"la cellule commence par {q(sign, 'fr')} : un tableur l'exécuterait comme "
                "une formule ; coopgraph n'enregistre pas de formule, retirez ce signe",
                f"the cell starts with {q(sign, 'en')}: a spreadsheet would run it as a "
                "formula; coopgraph stores no formulas, remove that sign",
            ))
    if not slug:
        return row
    if not SLUG.fullmatch(slug):
        b.fail(
            "id",
            CellError(
                f"{q(slug, 'fr')} n'est pas un identifiant : "
                "minuscules sans accents, chiffres et tirets",
                f"{q(slug, 'en')} is not an identifier: "
                "lower-case letters without accents, digits and hyphens",
            ),
        )
        return row
    iri = ID[_MINT[kind] + slug]
    graph = entry_graph(f"{kind}-{slug}"[:100].strip("-"))
    # A row imported before is in its own entry graph: importing it again updates it.
    row.update = slug not in taken and resolver.defined_in(iri, graph)
    if slug in taken or (resolver.exists(iri) and not row.update):
        where_fr, where_en = (
            ("plus haut dans la feuille", "higher in the sheet")
            if slug in taken
            else ("dans le graphe", "in the graph")
        )
        b.fail(
            "id",
            CellError(
                f"l'identifiant {q(slug, 'fr')} est déjà utilisé ({where_fr}) : "
                "choisissez-en un autre",
                f"the identifier {q(slug, 'en')} is already used ({where_en}): choose another one",
            ),
        )
        return row
    taken.add(slug)
    row.iri = iri
    row.graph = graph
    b.graph = ox.NamedNode(row.graph)
    {"offer": _offer, "organisation": _organisation, "partnership": _partnership}[kind](b, iri)
    return row


def _offer(b: _Builder, iri: str) -> None:
    s = b.node(iri, "main")
    b.add(s, RDF.type, SCHEMA.node("JobPosting"))
    if b.text("title"):
        b.add(s, SCHEMA["title"], b.lit(b.text("title")))
        b.add(s, RDFS.label, b.lit(b.text("title")))
    b.refs(s, "employer", SCHEMA.hiringOrganization, "org")
    b.refs(s, "intermediary", CG.intermediary, "org")
    for place in b.refs(s, "duty_station", CG.dutyStation, "place"):
        b.add(s, SCHEMA.jobLocation, ox.NamedNode(place))
    b.date(s, "posted", SCHEMA.datePosted)
    b.date(s, "deadline", SCHEMA.validThrough)
    b.date(s, "start", SCHEMA.jobStartDate)
    duration = b.one("duration", parse_duration)
    if duration:
        b.add(s, CG.duration, ox.Literal(duration, datatype=XSD.node("duration")))
    b.concepts(
        s, "contract", CG.contractType, "contract-type", ("types de contrat", "contract types")
    )
    working = b.one("working_time", parse_working_time)
    if working:
        b.add(s, SCHEMA.employmentType, ox.Literal(working[0]))
        if working[1] is not None:
            b.add(s, CG.timeFraction, ox.Literal(str(working[1]), datatype=XSD.node("decimal")))
    hours = b.one("weekly_hours", parse_number)
    if hours is not None:
        b.add(s, CG.weeklyHours, number_literal(hours))
    _pay(b, s, iri)
    if b.text("education"):
        e = b.node(iri + "#education", "education")
        b.add(s, SCHEMA.educationRequirements, e)
        b.add(e, RDF.type, SCHEMA.node("EducationalOccupationalCredential"))
        b.add(e, SCHEMA.credentialCategory, b.lit(b.text("education")))
        try:
            level = b.resolver.concept(
                b.text("education"), "education-level", ("niveaux de formation", "education levels")
            )
            b.add(e, SCHEMA.educationalLevel, ox.NamedNode(level))
        except CellError as exc:
            exc.warning = True
            exc.messages = {
                k: v + (" ; gardé comme texte" if k == "fr" else "; kept as text")
                for k, v in exc.messages.items()
            }
            b.fail("education", exc)
    years = b.one("experience", parse_number)
    if years is not None:
        x = b.node(iri + "#experience", "experience")
        b.add(s, SCHEMA.experienceRequirements, x)
        b.add(x, RDF.type, SCHEMA.node("OccupationalExperienceRequirements"))
        b.add(x, SCHEMA.monthsOfExperience, number_literal((years * 12).to_integral_value()))
        shown = b.text("experience")
        b.add(
            x,
            SCHEMA.description,
            b.lit(
                f"Au moins {shown} an(s) d'expérience"
                if b.lang == "fr"
                else f"At least {shown} year(s) of experience"
            ),
        )
        b.add(x, CG.requirementLevel, CG.node("Required"))
    seen: dict[str, int] = {}
    for value in b.values("languages"):
        try:
            code, cefr, level = parse_language(value)
        except CellError as exc:
            b.fail("languages", exc)
            continue
        seen[code] = seen.get(code, 0) + 1
        node = b.node(f"{iri}#lang-{code}" + (f"-{seen[code]}" if seen[code] > 1 else ""), "lang")
        b.add(s, CG.requiresLanguage, node)
        b.add(node, RDF.type, CG.node("LanguageRequirement"))
        b.add(node, RDFS.label, b.lit(value))
        b.add(node, CG.language, ox.Literal(code, datatype=XSD.node("language")))
        b.add(node, CG.requirementLevel, CG.node(level))
        if cefr:
            try:
                b.add(
                    node,
                    CG.cefrLevel,
                    ox.NamedNode(
                        b.resolver.concept(cefr, "cefr", ("niveaux CECRL", "CEFR levels"))
                    ),
                )
            except CellError as exc:
                exc.rule = "CG-OFFER-039"
                b.fail("languages", exc)
    b.concepts(s, "skills", SCHEMA.skills, "skill", ("compétences", "skills"))
    for target in b.each("programme", lambda v: b.resolver.entity(v, "programme")):
        is_call = CG.CallForProjects in b.resolver.types_of(target)
        b.add(s, CG.answersCall if is_call else CG.programme, ox.NamedNode(target))
    _source(b, s)
    b.texts(s, "description", SCHEMA.description)


def _pay(b: _Builder, s: ox.NamedNode, iri: str) -> None:
    low = b.one("pay_min", parse_number)
    high = b.one("pay_max", parse_number)
    currency = b.text("currency")
    period = b.one("pay_period", parse_period)
    if low is None and high is None and "pay_min" not in b.failed and "pay_max" not in b.failed:
        if currency or period or b.text("gross_net"):
            b.fail(
                "pay_min",
                CellError(
                    "une devise ou une période est donnée sans montant : écrivez le montant",
                    "a currency or period is given without an amount: write the amount",
                    rule="CG-OFFER-011",
                ),
            )
        return
    m = b.node(iri + "#salary", "salary")
    v = b.node(iri + "#salary-value", "salary-value")
    b.add(s, SCHEMA.baseSalary, m)
    b.add(m, RDF.type, SCHEMA.node("MonetaryAmount"))
    if currency:
        b.add(m, SCHEMA.currency, ox.Literal(parse_currency(currency)))
    b.add(m, SCHEMA.value, v)
    b.add(v, RDF.type, SCHEMA.node("QuantitativeValue"))
    if low is not None and high is not None and low == high:
        b.add(v, SCHEMA.value, number_literal(low))
    else:
        if low is not None:
            b.add(v, SCHEMA.minValue, number_literal(low))
        if high is not None:
            b.add(v, SCHEMA.maxValue, number_literal(high))
    if period:
        b.add(v, SCHEMA.unitText, ox.Literal(period))
    b.concepts(m, "gross_net", CG.grossOrNet, "pay-basis", ("brut ou net", "gross or net"))


def _source(b: _Builder, s: ox.NamedNode) -> None:
    url = b.one("source", parse_url)
    if url:
        b.add(s, DCTERMS.source, ox.NamedNode(url))


def _organisation(b: _Builder, iri: str) -> None:
    s = b.node(iri, "main")
    for cls in b.each("type", b.resolver.organisation_class):
        b.add(s, RDF.type, ox.NamedNode(cls))
    if "type" in b.failed or not b.text("type"):
        b.add(s, RDF.type, ORG.node("Organization"))
    for key, lang in (("name_fr", "fr"), ("name_en", "en")):
        if b.text(key):
            b.add(s, RDFS.label, ox.Literal(b.text(key), language=lang))
    if b.text("acronym"):
        b.add(s, SKOS.altLabel, ox.Literal(b.text("acronym"), language="fr"))
    b.refs(s, "place", CG.jurisdiction, "place")
    b.refs(s, "parent", ORG.subOrganizationOf, "org")
    b.refs(s, "member_of", ORG.memberOf, "org")
    website = b.one("website", parse_url)
    if website:
        b.add(s, SCHEMA.url, ox.NamedNode(website))
    identifiers: list[tuple[str, ox.Literal | ox.NamedNode]] = []
    if b.text("siren"):
        identifiers.append((CG.sirenCode, ox.Literal(b.text("siren").replace(" ", ""))))
    if b.text("iati"):
        identifiers.append((CG.iatiIdentifier, ox.Literal(b.text("iati"))))
    wikidata = b.text("wikidata")
    if wikidata:
        qid = wikidata.rstrip("/").rsplit("/", 1)[-1]
        if qid[:1].upper() == "Q" and qid[1:].isdigit():
            identifiers.append(
                (OWL.sameAs, ox.NamedNode("http://www.wikidata.org/entity/Q" + qid[1:]))
            )
        else:
            b.fail(
                "wikidata",
                CellError(
                    f"{q(wikidata, 'fr')} n'est pas un identifiant Wikidata (Q…)",
                    f"{q(wikidata, 'en')} is not a Wikidata identifier (Q…)",
                ),
            )
    source = b.one("id_source", parse_url)
    if identifiers and not source and "id_source" not in b.failed:
        b.fail(
            "id_source",
            CellError(
                "donnez la page où les identifiants peuvent être vérifiés",
                "give the page where the identifiers can be checked",
                warning=True,
            ),
        )
    for number, (p, o) in enumerate(identifiers):
        b.add(s, p, o)
        if source:
            note = b.node(f"{iri}#id-note-{number + 1}", "note")
            b.add(note, RDF.type, RDF.node("Statement"))
            b.add(note, RDF.subject, s)
            b.add(note, RDF.predicate, ox.NamedNode(p))
            b.add(note, RDF.object, o)
            b.add(note, DCTERMS.source, ox.NamedNode(source))
    b.texts(s, "description", SCHEMA.description)


def _partnership(b: _Builder, iri: str) -> None:
    s = b.node(iri, "main")
    b.add(s, RDF.type, CG.node("Partnership"))
    for key, lang in (("name_fr", "fr"), ("name_en", "en")):
        if b.text(key):
            b.add(s, RDFS.label, ox.Literal(b.text(key), language=lang))
    partners = b.refs(s, "partners", CG.partner, "org")
    if len(partners) == 1 and "partners" not in b.failed:
        b.fail(
            "partners",
            CellError(
                "un partenariat a au moins deux partenaires : séparez-les par « ; »",
                "a partnership has at least two partners: separate them with “;”",
            ),
        )
    for other in partners[1:]:
        # one direct tie, one direction only (docs/conventions.md); the reasoner adds the other
        b.add(ox.NamedNode(partners[0]), CG.partnerOf, ox.NamedNode(other))
    b.concepts(
        s,
        "type",
        CG.partnershipType,
        "partnership-type",
        ("types de partenariat", "partnership types"),
    )
    signed = b.one("signed", parse_year_or_date)
    if signed:
        b.add(s, CG.signedYear, ox.Literal(signed[0][:4], datatype=XSD.node("gYear")))
    start, end = b.one("start", parse_year_or_date), b.one("end", parse_year_or_date)
    if start and end and start[1] != end[1]:
        # a year and a date cannot be compared (CG-PART-009): say so on the start column
        b.fail(
            "start",
            CellError(
                "écrivez le début et la fin de la même façon : deux années ou deux dates",
                "write the start and the end the same way: two years or two dates",
            ),
        )
    else:
        for found, p in ((start, SCHEMA.startDate), (end, SCHEMA.endDate)):
            if found:
                b.add(s, p, ox.Literal(found[0], datatype=XSD.node(found[1])))
    b.refs(s, "programme", CG.programme, "programme")
    b.refs(s, "funders", SCHEMA.funder, "org")
    b.concepts(s, "themes", CG.theme, ("theme", "sdg"), ("thèmes et ODD", "themes and SDGs"))
    _source(b, s)
    b.texts(s, "description", SCHEMA.description)
