"""The summary at the top of an entity page, as Wikidata's item pages have: what the thing
is in words, then its key facts in readable form (partners and places by their labels,
amounts with currency and period, dates at their own precision, contract, languages and
levels). The statements table with the source of each follows it, unchanged.

Parts of an entity minted under its IRI (an offer's ``#salary``, ``#lang-fr``…) are
described here too, so that the offer's page shows them instead of a bare link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from babel import Locale
from babel.numbers import format_decimal

from coopgraph.i18n import N_, translate
from coopgraph.store.base import Term
from coopgraph.vocab import CG, GEO, ORG, RDF, RDFS, SCHEMA, SKOS

#: Key facts in the order they are shown, with their names (translated per page).
KEY_PROPERTIES: tuple[tuple[str, str], ...] = (
    (SCHEMA.hiringOrganization, N_("Employer")),
    (CG.supervisingUnit, N_("Unit")),
    (CG.dutyStation, N_("Duty station")),
    (SCHEMA.jobLocation, N_("Job location")),
    (SCHEMA.datePosted, N_("Posted on")),
    (SCHEMA.validThrough, N_("Deadline")),
    (SCHEMA.jobStartDate, N_("Start of the job")),
    (SCHEMA.startDate, N_("Start")),
    (SCHEMA.endDate, N_("End")),
    (CG.signedYear, N_("Signed in")),
    (SCHEMA.baseSalary, N_("Pay")),
    (SCHEMA.employmentType, N_("Working time")),
    (CG.contractType, N_("Contract")),
    (CG.grade, N_("Grade")),
    (CG.requiresLanguage, N_("Languages")),
    (SCHEMA.educationRequirements, N_("Education")),
    (SCHEMA.experienceRequirements, N_("Experience")),
    (CG.partner, N_("Partners")),
    (CG.partnerOf, N_("Partner of")),
    (CG.managingBody, N_("Managed by")),
    (CG.jurisdiction, N_("Jurisdiction")),
    (CG.preparationCourse, N_("Preparation")),
    (CG.language, N_("Language")),
    (CG.requirementLevel, N_("Level required")),
    (CG.cefrLevel, N_("CEFR level")),
    (ORG.memberOf, N_("Member of")),
    (ORG.subOrganizationOf, N_("Part of")),
    (CG.funder, N_("Funder")),
    (CG.programme, N_("Programme")),
    (CG.within, N_("Lies in")),
    (SCHEMA.location, N_("Location")),
    (GEO.lat, N_("Latitude")),
    (GEO.long, N_("Longitude")),
)
#: schema.org enumeration values in words.
ENUMERATIONS: dict[str, str] = {
    "FULL_TIME": N_("full time"),
    "PART_TIME": N_("part time"),
    "CONTRACTOR": N_("contractor"),
    "TEMPORARY": N_("temporary"),
    "INTERN": N_("internship"),
    "VOLUNTEER": N_("volunteer"),
}
#: Classes of other vocabularies in words, when the ontology gives them no label.
KIND_WORDS: dict[str, str] = {
    SCHEMA.JobPosting: N_("job posting"),
    SCHEMA.Organization: N_("organisation"),
    SCHEMA.GovernmentOrganization: N_("government organisation"),
    SCHEMA.Place: N_("place"),
    SCHEMA.City: N_("city"),
    SCHEMA.Country: N_("country"),
    SCHEMA.AdministrativeArea: N_("administrative area"),
    SCHEMA.MonetaryAmount: N_("amount"),
    SCHEMA.ContactPoint: N_("contact point"),
    SCHEMA.EducationalOccupationalCredential: N_("credential asked for"),
    SCHEMA.OccupationalExperienceRequirements: N_("experience asked for"),
    SCHEMA.Event: N_("event"),
    ORG.Organization: N_("organisation"),
    ORG.FormalOrganization: N_("organisation"),
    ORG.OrganizationalUnit: N_("unit"),
    ORG.Site: N_("site"),
}
UNITS: dict[str, str] = {
    "YEAR": N_("a year"), "MONTH": N_("a month"),
    "WEEK": N_("a week"), "DAY": N_("a day"),
    "HOUR": N_("an hour"),
}
_XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass
class Fact:
    """One key fact: its name and its values, each a text and an optional link."""

    name: str
    values: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class Summary:
    label: str
    kinds: list[str]
    facts: list[Fact]
    description: str | None = None


def words(local: str) -> str:
    """``JobPosting`` → ``job posting``: a class name in words when it has no label."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()


def _month(lang: str, month: int) -> str:
    """The month's name in ``lang`` (CLDR data through Babel): ``juin``, ``June``."""
    return str(Locale.parse(lang).months["format"]["wide"][month])


def readable_date(value: str, datatype: str, lang: str) -> str:
    """A date at its own precision: a year stays a year (``xsd:gYear``)."""
    try:
        if datatype == _XSD + "gYear":
            return value[:4]
        if datatype == _XSD + "gYearMonth":
            month = int(value[5:7])
            return translate(lang, "%(month)s %(year)s", month=_month(lang, month),
                             year=value[:4])
        if datatype in (_XSD + "date", _XSD + "dateTime"):
            year, month, day = int(value[:4]), int(value[5:7]), int(value[8:10])
            # French writes the first of the month "1er"
            first = translate(lang, "1 (the first day of a month)")
            return translate(lang, "%(day)s %(month)s %(year)s",
                             day=first if day == 1 else str(day), month=_month(lang, month),
                             year=str(year))
    except (ValueError, IndexError, KeyError):
        pass
    return value


def _number(value: str, lang: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    pattern = "#,##0" if number == int(number) else "#,##0.00"
    return format_decimal(number, format=pattern, locale=lang)


def literal_text(literal: ox.Literal, lang: str) -> str:
    """A literal as people read it (dates, numbers, enumeration codes)."""
    datatype = literal.datatype.value if literal.datatype else ""
    if datatype.startswith(_XSD + "g") or datatype in (_XSD + "date", _XSD + "dateTime"):
        return readable_date(literal.value, datatype, lang)
    if datatype in (_XSD + "integer", _XSD + "decimal", _XSD + "double"):
        return _number(literal.value, lang)
    if literal.value in ENUMERATIONS:
        return translate(lang, ENUMERATIONS[literal.value])
    return literal.value


def amount_text(part: dict[str, list[Term]], lang: str) -> str | None:
    """``25 000 – 32 000 EUR par an`` from a ``schema:MonetaryAmount`` and its value."""
    currency = _first_literal(part, SCHEMA.currency)
    low = _first_literal(part, SCHEMA.minValue)
    high = _first_literal(part, SCHEMA.maxValue)
    single = _first_literal(part, SCHEMA.value)
    unit = _first_literal(part, SCHEMA.unitText)
    if low is None and high is None and single is None:
        return None
    if low is not None and high is not None:
        figure = f"{_number(low, lang)} – {_number(high, lang)}"
    else:
        figure = _number(low or high or single or "", lang)
    period = translate(lang, UNITS[unit]) if unit in UNITS else (unit or "")
    return " ".join(x for x in (figure, currency, period) if x)


def _described(props: dict[str, list[Term]], lang: str, limit: int = 140) -> str | None:
    """A part with no label, told by its description (or credential category)."""
    for predicate in (SCHEMA.credentialCategory, SCHEMA.description, SKOS.note):
        literals = [v for v in props.get(predicate, []) if isinstance(v, ox.Literal)]
        chosen = [v for v in literals if v.language == lang] or literals
        if chosen:
            text = chosen[0].value
            return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return None


def _first_literal(props: dict[str, list[Term]], predicate: str) -> str | None:
    for value in props.get(predicate, []):
        if isinstance(value, ox.Literal):
            return value.value
    return None


def properties_of(store: Any, iri: str) -> dict[str, list[Term]]:
    """Outgoing values of ``iri`` (and of its ``schema:value`` node), by predicate."""
    node = str(ox.NamedNode(iri))  # checked, then written as <…>
    query = f"""SELECT ?p ?o WHERE {{
      {{ {node} ?p ?o }} UNION {{ {node} <http://schema.org/value> ?v . ?v ?p ?o }}
    }}"""
    props: dict[str, list[Term]] = {}
    for row in store.query(query).dicts():
        props.setdefault(row["p"].value, [])
        if row["o"] not in props[row["p"].value]:
            props[row["p"].value].append(row["o"])
    return props


def value_text(store: Any, value: Term, labels: dict[str, str], lang: str,
               href: Any) -> tuple[str, str | None]:
    """A value in words, with a link for a resource that has a page."""
    if isinstance(value, ox.Literal):
        return literal_text(value, lang), None
    if isinstance(value, ox.NamedNode):
        iri = value.value
        text = labels.get(iri)
        if text is None or "#" in iri:
            part = properties_of(store, iri)
            text = amount_text(part, lang) or text or _described(part, lang)
        return text or iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1], href(iri)
    return str(value), None


def summarise(store: Any, resource: Any, labels: dict[str, str], lang: str,
              href: Any) -> Summary:
    """The summary of ``resource`` (a :class:`~coopgraph.web.entities.Resource`)."""
    by_predicate: dict[str, list[Term]] = {}
    for statement in resource.outgoing:
        by_predicate.setdefault(statement.predicate.value, []).append(statement.value)
    asserted_types = [
        s.value.value for s in resource.outgoing
        if s.predicate.value == RDF.type and s.asserted and isinstance(s.value, ox.NamedNode)
    ]
    kinds = [
        labels.get(t) or (translate(lang, KIND_WORDS[t]) if t in KIND_WORDS else "")
        or words(t.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        for t in asserted_types
    ]
    facts = []
    for predicate, name in KEY_PROPERTIES:
        values = by_predicate.get(str(predicate), [])
        if not values:
            continue
        fact = Fact(translate(lang, name))
        for value in values:
            text, link = value_text(store, value, labels, lang, href)
            if (text, link) not in fact.values:
                fact.values.append((text, link))
        facts.append(fact)
    description = None
    for predicate in (SCHEMA.description, RDFS.comment, SKOS.definition):
        literals = [v for v in by_predicate.get(str(predicate), []) if isinstance(v, ox.Literal)]
        chosen = [v for v in literals if v.language == lang] or literals
        if chosen:
            description = chosen[0].value
            break
    label = labels.get(resource.iri)
    if label is None and "#" in resource.iri:
        label = _described(by_predicate, lang) or words(resource.iri.rsplit("#", 1)[-1])
    return Summary(label or resource.iri, list(dict.fromkeys(kinds)), facts, description)


def parts_of(resource: Any) -> list[str]:
    """IRIs minted under the resource's own (``…/offer/x#salary``), in order of use."""
    prefix = resource.iri + "#"
    return list(dict.fromkeys(
        s.value.value for s in resource.outgoing
        if isinstance(s.value, ox.NamedNode) and s.value.value.startswith(prefix)
    ))
