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

from coopgraph.vocab import CG, GEO, ORG, RDF, RDFS, SCHEMA, SKOS

#: Key facts in the order they are shown; the label is in French and English.
KEY_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    (SCHEMA.hiringOrganization, "Employeur", "Employer"),
    (CG.supervisingUnit, "Service", "Unit"),
    (CG.dutyStation, "Lieu d'affectation", "Duty station"),
    (SCHEMA.jobLocation, "Lieu de travail", "Job location"),
    (SCHEMA.datePosted, "Publiée le", "Posted on"),
    (SCHEMA.validThrough, "Date limite", "Deadline"),
    (SCHEMA.jobStartDate, "Prise de poste", "Start of the job"),
    (SCHEMA.startDate, "Début", "Start"),
    (SCHEMA.endDate, "Fin", "End"),
    (CG.signedYear, "Signé en", "Signed in"),
    (SCHEMA.baseSalary, "Rémunération", "Pay"),
    (SCHEMA.employmentType, "Temps de travail", "Working time"),
    (CG.contractType, "Contrat", "Contract"),
    (CG.grade, "Grade", "Grade"),
    (CG.requiresLanguage, "Langues", "Languages"),
    (SCHEMA.educationRequirements, "Formation", "Education"),
    (SCHEMA.experienceRequirements, "Expérience", "Experience"),
    (CG.partner, "Partenaires", "Partners"),
    (CG.partnerOf, "Partenaire de", "Partner of"),
    (CG.managingBody, "Géré par", "Managed by"),
    (CG.jurisdiction, "Territoire", "Jurisdiction"),
    (CG.preparationCourse, "Préparation", "Preparation"),
    (CG.language, "Langue", "Language"),
    (CG.requirementLevel, "Niveau requis", "Level required"),
    (CG.cefrLevel, "Niveau CECRL", "CEFR level"),
    (ORG.memberOf, "Membre de", "Member of"),
    (ORG.subOrganizationOf, "Fait partie de", "Part of"),
    (CG.funder, "Financeur", "Funder"),
    (CG.programme, "Programme", "Programme"),
    (CG.within, "Situé dans", "Lies in"),
    (SCHEMA.location, "Lieu", "Location"),
    (GEO.lat, "Latitude", "Latitude"),
    (GEO.long, "Longitude", "Longitude"),
)
#: schema.org enumeration values in words.
ENUMERATIONS: dict[str, tuple[str, str]] = {
    "FULL_TIME": ("temps plein", "full time"),
    "PART_TIME": ("temps partiel", "part time"),
    "CONTRACTOR": ("prestataire", "contractor"),
    "TEMPORARY": ("temporaire", "temporary"),
    "INTERN": ("stage", "internship"),
    "VOLUNTEER": ("volontariat", "volunteer"),
}
#: Classes of other vocabularies in words, when the ontology gives them no label.
KIND_WORDS: dict[str, tuple[str, str]] = {
    SCHEMA.JobPosting: ("offre d'emploi", "job posting"),
    SCHEMA.Organization: ("organisation", "organisation"),
    SCHEMA.GovernmentOrganization: ("administration", "government organisation"),
    SCHEMA.Place: ("lieu", "place"),
    SCHEMA.City: ("ville", "city"),
    SCHEMA.Country: ("pays", "country"),
    SCHEMA.AdministrativeArea: ("territoire administratif", "administrative area"),
    SCHEMA.MonetaryAmount: ("montant", "amount"),
    SCHEMA.ContactPoint: ("contact", "contact point"),
    SCHEMA.EducationalOccupationalCredential: ("diplôme demandé", "credential asked for"),
    SCHEMA.OccupationalExperienceRequirements: ("expérience demandée", "experience asked for"),
    SCHEMA.Event: ("événement", "event"),
    ORG.Organization: ("organisation", "organisation"),
    ORG.FormalOrganization: ("organisation", "organisation"),
    ORG.OrganizationalUnit: ("service", "unit"),
    ORG.Site: ("site", "site"),
}
UNITS: dict[str, tuple[str, str]] = {
    "YEAR": ("par an", "a year"), "MONTH": ("par mois", "a month"),
    "WEEK": ("par semaine", "a week"), "DAY": ("par jour", "a day"),
    "HOUR": ("de l'heure", "an hour"),
}
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
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


def readable_date(value: str, datatype: str, lang: str) -> str:
    """A date at its own precision: a year stays a year (``xsd:gYear``)."""
    fr = lang == "fr"
    try:
        if datatype == _XSD + "gYear":
            return value[:4]
        if datatype == _XSD + "gYearMonth":
            month = int(value[5:7])
            return f"{(MONTHS_FR if fr else MONTHS_EN)[month - 1]} {value[:4]}"
        if datatype in (_XSD + "date", _XSD + "dateTime"):
            year, month, day = int(value[:4]), int(value[5:7]), int(value[8:10])
            if fr:
                return f"{'1er' if day == 1 else day} {MONTHS_FR[month - 1]} {year}"
            return f"{day} {MONTHS_EN[month - 1]} {year}"
    except (ValueError, IndexError):
        pass
    return value


def _number(value: str, lang: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    text = f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def literal_text(literal: ox.Literal, lang: str) -> str:
    """A literal as people read it (dates, numbers, enumeration codes)."""
    datatype = literal.datatype.value if literal.datatype else ""
    if datatype.startswith(_XSD + "g") or datatype in (_XSD + "date", _XSD + "dateTime"):
        return readable_date(literal.value, datatype, lang)
    if datatype in (_XSD + "integer", _XSD + "decimal", _XSD + "double"):
        return _number(literal.value, lang)
    if literal.value in ENUMERATIONS:
        return ENUMERATIONS[literal.value][0 if lang == "fr" else 1]
    return literal.value


def amount_text(part: dict[str, list[ox.Term]], lang: str) -> str | None:
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
    period = UNITS.get(unit or "", (unit or "", unit or ""))[0 if lang == "fr" else 1]
    return " ".join(x for x in (figure, currency, period) if x)


def _described(props: dict[str, list[ox.Term]], lang: str, limit: int = 140) -> str | None:
    """A part with no label, told by its description (or credential category)."""
    for predicate in (SCHEMA.credentialCategory, SCHEMA.description, SKOS.note):
        literals = [v for v in props.get(predicate, []) if isinstance(v, ox.Literal)]
        chosen = [v for v in literals if v.language == lang] or literals
        if chosen:
            text = chosen[0].value
            return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return None


def _first_literal(props: dict[str, list[ox.Term]], predicate: str) -> str | None:
    for value in props.get(predicate, []):
        if isinstance(value, ox.Literal):
            return value.value
    return None


def properties_of(store: Any, iri: str) -> dict[str, list[ox.Term]]:
    """Outgoing values of ``iri`` (and of its ``schema:value`` node), by predicate."""
    node = str(ox.NamedNode(iri))  # checked, then written as <…>
    query = f"""SELECT ?p ?o WHERE {{
      {{ {node} ?p ?o }} UNION {{ {node} <http://schema.org/value> ?v . ?v ?p ?o }}
    }}"""
    props: dict[str, list[ox.Term]] = {}
    for row in store.query(query).dicts():
        props.setdefault(row["p"].value, [])
        if row["o"] not in props[row["p"].value]:
            props[row["p"].value].append(row["o"])
    return props


def value_text(store: Any, value: ox.Term, labels: dict[str, str], lang: str,
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
    by_predicate: dict[str, list[ox.Term]] = {}
    for statement in resource.outgoing:
        by_predicate.setdefault(statement.predicate.value, []).append(statement.value)
    asserted_types = [
        s.value.value for s in resource.outgoing
        if s.predicate.value == RDF.type and s.asserted and isinstance(s.value, ox.NamedNode)
    ]
    kinds = [
        labels.get(t) or KIND_WORDS.get(t, ("", ""))[0 if lang == "fr" else 1]
        or words(t.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        for t in asserted_types
    ]
    facts = []
    for predicate, name_fr, name_en in KEY_PROPERTIES:
        values = by_predicate.get(str(predicate), [])
        if not values:
            continue
        fact = Fact(name_fr if lang == "fr" else name_en)
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
