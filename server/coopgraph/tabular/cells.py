"""Reading one cell: dates, durations, numbers, languages, URLs; pure functions (names
are resolved to IRIs of the store by :mod:`coopgraph.tabular.resolver`).

Every parser returns the value or raises :class:`CellError` carrying a message in fr and
en written for someone who knows no RDF (the rule ID is added by the caller, from the
column).

>>> parse_date("2024-05-01")
'2024-05-01'
>>> parse_duration("12 mois"), parse_duration("2 years"), parse_duration("P1Y6M")
('P12M', 'P2Y', 'P1Y6M')
>>> parse_number("1 500,5")
Decimal('1500.5')
>>> parse_language("arabe:B2:obligatoire")
('ar', 'b2', 'Required')
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from coopgraph.lookup import fold
from coopgraph.vocab import XSD


class CellError(Exception):
    """A cell that cannot be turned into data; ``messages`` in fr and en."""

    def __init__(self, fr: str, en: str, *, rule: str | None = None, warning: bool = False) -> None:
        super().__init__(en)
        self.messages = {"fr": fr, "en": en}
        self.rule = rule
        self.warning = warning


def q(text: str, lang: str) -> str:
    """Quote a cell value the way each language does."""
    return f"« {text} »" if lang == "fr" else f"“{text}”"


def quoted(fr: str, en: str, text: str) -> tuple[str, str]:
    """The fr and en messages with ``{}`` replaced by ``text`` quoted in each language."""
    return fr.format(q(text, "fr")), en.format(q(text, "en"))


# -- plain values -------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> str:
    """``YYYY-MM-DD`` (a real day) or CellError."""
    value = text.strip()
    if _DATE.fullmatch(value):
        try:
            dt.date.fromisoformat(value)
            return value
        except ValueError:
            raise CellError(
                *quoted(
                    "{} n'est pas une date qui existe : vérifiez le jour et le mois (AAAA-MM-JJ)",
                    "{} is not a real date: check the day and month (YYYY-MM-DD)",
                    text,
                )
            ) from None
    raise CellError(
        *quoted(
            "{} n'est pas une date : écrivez AAAA-MM-JJ", "{} is not a date: write YYYY-MM-DD", text
        )
    )


def parse_year_or_date(text: str) -> tuple[str, str]:
    """``2005`` → (``2005``, ``gYear``); ``2005-03-01`` → (…, ``date``)."""
    value = text.strip()
    if re.fullmatch(r"\d{4}", value):
        return value, "gYear"
    try:
        return parse_date(value), "date"
    except CellError:
        raise CellError(
            *quoted(
                "{} n'est ni une année (2005) ni une date (AAAA-MM-JJ)",
                "{} is neither a year (2005) nor a date (YYYY-MM-DD)",
                text,
            )
        ) from None


_UNITS = {
    "Y": ("an", "ans", "annee", "annees", "year", "years", "yr", "yrs"),
    "M": ("mois", "month", "months"),
    "W": ("semaine", "semaines", "week", "weeks"),
    "D": ("jour", "jours", "day", "days"),
}
_ISO_DURATION = re.compile(r"P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?")


def parse_duration(text: str) -> str:
    """``12 mois`` / ``2 years`` / ISO 8601 ``P12M`` → an xsd:duration lexical form."""
    value = text.strip()
    if _ISO_DURATION.fullmatch(value.upper()):
        return value.upper()
    match = re.fullmatch(r"(\d+)\s*([^\d\s].*)", fold(value))
    if match:
        for letter, words in _UNITS.items():
            if match.group(2).strip().rstrip(".") in words:
                return f"P{int(match.group(1))}{letter}"
    raise CellError(
        *quoted(
            "{} n'est pas une durée : écrivez un nombre et une unité, "
            "par ex. « 12 mois » ou « 2 ans »",
            "{} is not a duration: write a number and a unit, e.g. “12 months” or “2 years”",
            text,
        )
    )


def parse_number(text: str) -> Decimal:
    """``1 500,5`` / ``1500.5`` / ``800 €`` → Decimal."""
    value = re.sub(r"[\s\u00a0\u202f€$]", "", text)
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise CellError(
            *quoted(
                "{} n'est pas un nombre : écrivez des chiffres, par ex. 1500",
                "{} is not a number: write figures, e.g. 1500",
                text,
            )
        )
    return number


def number_literal(number: Decimal) -> ox.Literal:
    """An xsd:integer when whole, else xsd:decimal."""
    if number == number.to_integral_value():
        return ox.Literal(str(int(number)), datatype=XSD.node("integer"))
    return ox.Literal(format(number.normalize(), "f"), datatype=XSD.node("decimal"))


_WORKING = {
    "FULL_TIME": (
        "temps plein",
        "plein temps",
        "temps complet",
        "full time",
        "full-time",
        "fulltime",
    ),
    "PART_TIME": ("temps partiel", "part time", "part-time", "parttime"),
    "HALF": ("mi-temps", "mi temps", "half time", "half-time"),
}


def parse_working_time(text: str) -> tuple[str, Decimal | None]:
    """→ (schema:employmentType, cg:timeFraction or None)."""
    value = fold(text).strip()
    for kind, words in _WORKING.items():
        if value in words:
            if kind == "HALF":
                return "PART_TIME", Decimal("0.5")
            return kind, Decimal("1.0") if kind == "FULL_TIME" else None
    fraction: Decimal | None = None
    if m := re.fullmatch(r"(\d+)\s*/\s*(\d+)", value):
        if int(m.group(2)):
            fraction = (Decimal(m.group(1)) / Decimal(m.group(2))).quantize(Decimal("0.001"))
    elif m := re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*%", value):
        fraction = Decimal(m.group(1).replace(",", ".")) / 100
    elif re.fullmatch(r"[01](?:[.,]\d+)?", value):
        fraction = Decimal(value.replace(",", "."))
    if fraction is None or not 0 < fraction <= 1:
        raise CellError(
            *quoted(
                "{} : écrivez « temps plein », « temps partiel », « mi-temps » "
                "ou une quotité (80 %, 1/3)",
                "{}: write “full time”, “part time”, “half time” or a fraction (80 %, 1/3)",
                text,
            )
        )
    return ("FULL_TIME" if fraction == 1 else "PART_TIME"), fraction


_PERIODS = {
    "HOUR": ("heure", "horaire", "par heure", "hour", "hourly", "per hour"),
    "DAY": ("jour", "journalier", "par jour", "day", "daily", "per day"),
    "WEEK": ("semaine", "hebdomadaire", "par semaine", "week", "weekly", "per week"),
    "MONTH": ("mois", "mensuel", "par mois", "month", "monthly", "per month"),
    "YEAR": ("an", "annee", "annuel", "par an", "year", "yearly", "annual", "per year"),
}


def parse_period(text: str) -> str:
    value = fold(text).strip()
    for unit, words in _PERIODS.items():
        if value in words or value == unit.lower():
            return unit
    raise CellError(
        *quoted(
            "{} n'est pas une période : écrivez heure, jour, semaine, mois ou an",
            "{} is not a period: write hour, day, week, month or year",
            text,
        )
    )


_CURRENCIES = {
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "dh": "MAD",
    "dirham": "MAD",
    "dirhams": "MAD",
    "$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "fcfa": "XOF",
}


def parse_currency(text: str) -> str:
    value = text.strip()
    return _CURRENCIES.get(fold(value), value.upper())


_LANGUAGES = {
    "fr": ("francais", "french"),
    "en": ("anglais", "english"),
    "ar": ("arabe", "arabic"),
    "ary": ("arabe marocain", "darija", "moroccan arabic"),
    "nl": ("neerlandais", "dutch", "flamand", "flemish"),
    "es": ("espagnol", "spanish"),
    "de": ("allemand", "german"),
    "pt": ("portugais", "portuguese"),
    "it": ("italien", "italian"),
    "zgh": ("amazighe", "tamazight", "berbere", "berber"),
    "wo": ("wolof",),
    "ru": ("russe", "russian"),
    "uk": ("ukrainien", "ukrainian"),
    "pl": ("polonais", "polish"),
    "zh": ("chinois", "chinese"),
}
_LANGUAGE_NAMES = {name: code for code, names in _LANGUAGES.items() for name in names}
_REQUIRED = (
    "obligatoire",
    "exige",
    "exigee",
    "requis",
    "requise",
    "indispensable",
    "required",
    "mandatory",
    "essential",
)
_PREFERRED = (
    "souhaite",
    "souhaitee",
    "apprecie",
    "appreciee",
    "un plus",
    "atout",
    "facultatif",
    "preferred",
    "desirable",
    "asset",
    "optional",
    "a plus",
)


def parse_language(text: str) -> tuple[str, str | None, str]:
    """``arabe:B2:obligatoire`` / ``ar:B2:required`` → (BCP-47 code, cefr slug or None,
    ``Required``/``Preferred``). The level may be left out (then: required)."""
    parts = [p.strip() for p in text.split(":")]
    name = fold(parts[0])
    code = _LANGUAGE_NAMES.get(name)
    if code is None and re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", name):
        code = name
    if code is None:
        raise CellError(
            *quoted(
                "{} n'est pas une langue connue : écrivez son nom (arabe, anglais…) "
                "ou son code (ar, en, ary…)",
                "{} is not a known language: write its name (Arabic, English…) "
                "or its code (ar, en, ary…)",
                parts[0],
            ),
            rule="CG-OFFER-037",
        )
    cefr: str | None = None
    level = "Required"
    for part in parts[1:]:
        word = fold(part)
        if re.fullmatch(r"[abc][12]", word):
            cefr = word
        elif word in _REQUIRED:
            level = "Required"
        elif word in _PREFERRED:
            level = "Preferred"
        else:
            raise CellError(
                *quoted(
                    "dans {}, « "
                    + part
                    + " » n'est ni un niveau A1 à C2 ni « obligatoire » / « souhaitée »",
                    "in {}, “"
                    + part
                    + "” is neither a level A1 to C2 nor “required” / “preferred”",
                    text,
                ),
                rule="CG-OFFER-038",
            )
    return code, cefr, level


def parse_url(text: str) -> str:
    value = text.strip()
    if re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        return value
    raise CellError(
        *quoted(
            "{} n'est pas une adresse web : écrivez-la en entier, https://…",
            "{} is not a web address: write it in full, https://…",
            text,
        )
    )


def slugify(text: str) -> str:
    """``"Chargé·e de mission (Oujda)"`` → ``charge-e-de-mission-oujda``."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80].strip("-")


__all__ = [
    "CellError",
    "q",
    "quoted",
    "number_literal",
    "parse_currency",
    "parse_date",
    "parse_duration",
    "parse_language",
    "parse_number",
    "parse_period",
    "parse_url",
    "parse_working_time",
    "parse_year_or_date",
    "slugify",
]
