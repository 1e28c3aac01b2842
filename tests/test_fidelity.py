"""Every number, date, amount, code and proper name in a seed graph occurs in its seed text.

Issue 14: a seed graph (``cgg:seed/NNN``) states only what its source document says. The
check is mechanical: each typed value (numbers, dates, years, durations, codes) and each
number and capitalised name inside the graph's French prose is looked for in the seed text
(``data/sources/<identifier>``, personal data redacted) after normalising case, accents,
spacing, thousands separators, decimal commas, number words and French dates. A value the
text does not hold must be in :data:`DERIVED`, which names the documented convention
(docs/conventions.md, "Stated facts and conventions") that derives it. Statements the
observatory adds belong in ``data/added/`` (cg:AddedGraph), not in a seed graph.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from coopgraph.settings import Settings
from coopgraph.vocab import DCTERMS, GRAPH, PROV

DATA = Settings().data_dir
SEEDS = sorted((DATA / "seeds").glob("*.trig"))
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}
#: Language codes (cg:language, xsd:language) and the French name the text must write.
LANGUAGE_NAMES = {"fr": "francais", "en": "anglais", "nl": "neerlandais", "ar": "arabe",
                  "ary": "darija", "de": "allemand", "es": "espagnol"}
NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
}

#: Values a seed text does not hold verbatim, each with the documented convention that
#: derives it from the text (docs/conventions.md, "Stated facts and conventions").
#: Key: (seed, value as written in the graph, lexical form).
DERIVED: dict[tuple[str, str], str] = {
    # time fractions and hours
    ("001", "0.333"): "fraction of time: « 1/3 temps » → cg:timeFraction 0.333",
    # amounts: « 25 et 32 000 euros » is a range of thousands
    ("002", "25000"): "amount range: « 25 et 32 000 euros » → minValue 25000, maxValue 32000",
    # population: « 2,1 millions d'habitants »
    ("003", "2100000"): "number words: « 2,1 millions » → 2100000",
    # durations and experience in months
    ("001", "24"): "years of experience in months: « minimum 2 ans » → monthsOfExperience 24",
    ("002", "36"): "years of experience in months: « 3 ans » → monthsOfExperience 36",
    ("003", "60"): "years of experience in months: « au moins 5 ans » → monthsOfExperience 60",
    # codes the conventions fix
    ("000", "VOLUNTEER"): "schema:employmentType enumeration for a VSI",
    ("001", "PART_TIME"): "schema:employmentType enumeration: « à temps partiel »",
    ("001", "CONTRACTOR"): "schema:employmentType enumeration: a convention paid on invoice",
    ("003", "FULL_TIME"): "schema:employmentType enumeration: « Temps plein »",
    ("004", "FULL_TIME"): "schema:employmentType enumeration: « Temps complet »",
    ("001", "EUR"): "ISO 4217 currency code: « euro(s) »",
    ("002", "EUR"): "ISO 4217 currency code: « euros »",
    ("001", "MONTH"): "schema:unitText period: « mensuelle », « par mois »",
    ("002", "YEAR"): "schema:unitText period: « annuels »",
    ("000", "YEAR"): "schema:unitText period: « par an »",
    ("003", "WALK"): "cg:travelMode code: « à pied »",
    ("003", "Belgique"): "country letters of the contract options: « (F) », « (B) » Belgique",
    ("004", "Saint"): "names: « St Maurice Pellevoisin » (the quarter's full name)",
    ("002", "2023-01-15"): "a day without a year: « A pourvoir au 15 janvier » → the year of "
                           "the text's deadline, « avant le 6 janvier 2023 »",
    ("002", "25 000"): "amount range: « 25 et 32 000 euros » → 25 000 to 32 000 euros",
    ("003", "13"): "a sum the graph's note computes from the text's breakdown (2+3+3+5)",
    ("003", "Départements"): "plural agreement: the text's « 3 Département et Provinces »",
}


def fold(text: str) -> str:
    """Lower case, no accents, typographic quotes and dashes as ASCII, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text)


def numbers_in(text: str) -> set[str]:
    """Every number a text writes: digits (thousands separators and decimal commas
    normalised), number words, fractions and « N millions »."""
    folded = fold(text)
    found: set[str] = set()
    for match in re.finditer(r"\d+(?:[ .]\d{3})+(?![\d])|\d+(?:,\d+)?", folded):
        raw = match.group(0)
        if re.fullmatch(r"\d+(?:[ .]\d{3})+", raw):
            found.add(re.sub(r"[ .]", "", raw))
        if "," in raw:
            found.add(raw.replace(",", "."))
        found.update(re.findall(r"\d+", raw))
    for percent in re.findall(r"(\d+(?:,\d+)?) ?%", folded):
        found.add(str(float(percent.replace(",", ".")) / 100))  # « 50 % » is the share 0.5
    for word, value in NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b", folded):
            found.add(str(value))
    return {canonical(n) for n in found}


def canonical(number: str) -> str:
    """``"480.0"`` and ``"480"`` compare equal; leading zeros dropped."""
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number.lstrip("0") or "0"


def dates_in(text: str) -> tuple[set[str], set[str]]:
    """Full dates (YYYY-MM-DD) and month dates (YYYY-MM) a French text writes."""
    folded = fold(text).replace("*", "")
    days: set[str] = set()
    months: set[str] = set()
    for d, m, y in re.findall(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", folded):
        days.add(f"{y}-{int(m):02d}-{int(d):02d}")
    names = "|".join(MONTHS)
    for first, second, name, year in re.findall(
        rf"\b(\d{{1,2}})(?:er)?(?: au (\d{{1,2}}))? ({names}) (\d{{4}})\b", folded
    ):
        for day in filter(None, (first, second)):
            days.add(f"{year}-{MONTHS[name]:02d}-{int(day):02d}")
    for name, year in re.findall(rf"\b({names}) (\d{{4}})\b", folded):
        months.add(f"{year}-{MONTHS[name]:02d}")
    return days, months


@dataclass(frozen=True)
class Unsupported:
    seed: str
    subject: str
    predicate: str
    value: str

    def __str__(self) -> str:
        return (f"seed {self.seed}: <{self.subject}> <{self.predicate}> {self.value!r} "
                "is not in the seed text and no documented convention derives it")


def seed_quads(path: Path) -> tuple[str, list[ox.Quad]]:
    """The seed's number and the quads of its own graph ``cgg:seed/NNN``."""
    seed = path.name[:3]
    graph = ox.NamedNode(GRAPH[f"seed/{seed}"])
    quads = [q for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)
             if q.graph_name == graph]
    return seed, quads


def source_text(quads: list[ox.Quad]) -> str:
    """The seed document the graph says it is derived from (``prov:wasDerivedFrom``)."""
    derived = PROV.node("wasDerivedFrom")
    identifier = DCTERMS.node("identifier")
    sources = {q.object for q in quads if q.predicate == derived}
    names = [q.object.value for q in quads if q.subject in sources and q.predicate == identifier]
    assert len(names) == 1, f"expected one source identifier, found {names}"
    return (DATA / "sources" / names[0]).read_text(encoding="utf-8")


#: Capitalised words (names, acronyms) inside French prose, hyphenated names kept whole.
NAME = re.compile(r"(?<![\w'’-])([A-ZÀ-Ý][\w’'-]*[A-Za-zÀ-ÿ0-9](?:[ -][A-ZÀ-Ý][\w-]*)*)")


def names_in_prose(text: str) -> set[str]:
    """Proper names of a French literal: capitalised words not opening a sentence or
    clause (their capital may be grammatical), single letters and roman numerals aside."""
    names: set[str] = set()
    for match in NAME.finditer(text):
        before = text[: match.start()].rstrip()
        if not before or before[-1] in ".:;!?«(\"—–-,/" or before.endswith("..."):
            continue
        word = match.group(1)
        names.add(word)
    return names


def check(seed: str, quads: list[ox.Quad], text: str) -> list[Unsupported]:
    """Every value of the seed graph the text does not support (see module docstring)."""
    folded = fold(text)
    folded_words = re.sub(r"[-'’]", " ", folded)
    numbers = numbers_in(text)
    days, months = dates_in(text)
    problems: list[Unsupported] = []

    def supported_date(iso: str) -> bool:
        # month-precision dates are written as the month's first day (convention)
        return iso in days or (iso.endswith("-01") and iso[:7] in months)

    derived_from = PROV.node("wasDerivedFrom")
    metadata = {q.subject for q in quads if q.predicate == derived_from}
    metadata |= {q.object for q in quads if q.predicate == derived_from}

    def bad(quad: ox.Quad, value: str) -> None:
        if (seed, value) not in DERIVED:
            problems.append(Unsupported(seed, quad.subject.value, quad.predicate.value, value))

    for quad in quads:
        value = quad.object
        if not isinstance(value, ox.Literal):
            continue
        datatype = value.datatype.value
        lexical = value.value
        if quad.subject in metadata:
            continue  # the graph's and the source document's own description
        if datatype == RDF_LANG:
            if value.language != "fr":
                continue  # translations repeat the French facts; those are checked
            for iso in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", lexical):
                if not supported_date(iso):
                    bad(quad, iso)
            lexical = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", " ", lexical)
            for number in re.findall(r"\d+(?:[  .]\d{3})+(?!\d)|\d+(?:[.,]\d+)?", lexical):
                if not numbers_in(number) <= numbers:
                    bad(quad, number)
            for name in names_in_prose(lexical):
                for word in re.split(r"[ -]", name):
                    if not re.search(rf"\b{re.escape(fold(word))}\b", folded_words):
                        bad(quad, word)
        elif datatype in (XSD + "integer", XSD + "decimal", XSD + "double", XSD + "float"):
            if canonical(lexical) not in numbers:
                bad(quad, lexical)
        elif datatype == XSD + "gYear":
            if lexical not in numbers:
                bad(quad, lexical)
        elif datatype == XSD + "date":
            if not supported_date(lexical):
                bad(quad, lexical)
        elif datatype == XSD + "duration":
            amount = re.fullmatch(r"P(\d+)[YM]", lexical)
            if not amount or amount.group(1) not in numbers:
                bad(quad, lexical)
        elif datatype == XSD + "language":
            name = LANGUAGE_NAMES.get(lexical.lower())
            if name is None or not re.search(rf"\b{name}\b", folded):
                bad(quad, lexical)
        elif datatype == XSD + "string":
            if not re.search(rf"(?<!\w){re.escape(fold(lexical))}(?!\w)", folded):
                bad(quad, lexical)
    return problems


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_seed_graph_states_only_what_its_text_says(path: Path) -> None:
    seed, quads = seed_quads(path)
    assert quads, f"{path.name} has no cgg:seed/{seed} graph"
    problems = check(seed, quads, source_text(quads))
    assert not problems, "\n".join(str(p) for p in problems)


def test_every_allowed_derivation_is_used() -> None:
    """An allow-list entry nobody needs any more is removed, so the list stays honest."""
    needed: set[tuple[str, str]] = set()
    for path in SEEDS:
        seed, quads = seed_quads(path)
        text = source_text(quads)
        saved = dict(DERIVED)
        DERIVED.clear()
        try:
            needed.update((p.seed, p.value) for p in check(seed, quads, text))
        finally:
            DERIVED.update(saved)
    assert set(DERIVED) <= needed, sorted(set(DERIVED) - needed)


CG = "https://w3id.org/coopgraph/ontology#"
SCHEMA = "http://schema.org/"


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


@pytest.mark.parametrize(
    ("predicate", "literal"),
    [
        (CG + "memberCount", typed("4242", "integer")),
        (SCHEMA + "validThrough", typed("2023-07-14", "date")),
        (SCHEMA + "startDate", typed("2019", "gYear")),
        (SCHEMA + "description", ox.Literal("Accord renouvelé en 2019 avec 37 communes.",
                                            language="fr")),
        (SCHEMA + "description", ox.Literal("Financé par la Banque mondiale.", language="fr")),
        (SCHEMA + "identifier", ox.Literal("8M9999")),
        (CG + "language", typed("de", "language")),
    ],
    ids=["number", "date", "year", "number-in-prose", "name-in-prose", "code", "language"],
)
def test_planted_unsupported_value_is_caught(predicate: str, literal: ox.Literal) -> None:
    seed, quads = seed_quads(SEEDS[0])
    text = source_text(quads)
    assert check(seed, quads, text) == []
    planted = ox.Quad(ox.NamedNode("https://w3id.org/coopgraph/id/offer/000-lille-oujda"),
                      ox.NamedNode(predicate), literal, quads[0].graph_name)
    problems = check(seed, [*quads, planted], text)
    assert problems and {p.predicate for p in problems} == {predicate}, problems


def test_normalisation() -> None:
    assert numbers_in("3.589 km² et 32 000 euros, 2,1 millions, trois a/r") >= {
        "3589", "32000", "2.1", "3"}
    assert dates_in("du 9 au 12 mai 2023, le 03/12/2022, Juin 2023") == (
        {"2023-05-09", "2023-05-12", "2022-12-03"}, {"2023-05", "2023-06"})
    assert fold("Échanges  Hauts-de-France à l’Oriental") == "echanges hauts-de-france a l'oriental"


def test_each_reference_organisation_names_the_one_document_it_comes_from() -> None:
    """Issue 14, per-fact sources: every organisation, site, address and post of the
    reference graph names one source document (dcterms:source), not all five at once."""
    path = DATA / "reference" / "organisations.trig"
    graph = ox.NamedNode(GRAPH["reference/organisations"])
    quads = [q for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)
             if q.graph_name == graph and isinstance(q.subject, ox.NamedNode)]
    typed = {q.subject.value for q in quads
             if q.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
             and q.subject.value.startswith("https://w3id.org/coopgraph/id/")}
    sources: dict[str, set[str]] = {}
    for q in quads:
        if q.predicate == DCTERMS.node("source") and q.subject.value in typed:
            sources.setdefault(q.subject.value, set()).add(q.object.value)
    assert len(typed) > 30
    wrong = {s: sorted(sources.get(s, ())) for s in typed if len(sources.get(s, ())) != 1}
    assert not wrong, wrong
