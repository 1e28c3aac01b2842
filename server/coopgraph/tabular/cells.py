"""Reading one cell: dates, durations, numbers, languages, and names resolved to IRIs.

Every parser returns the value or raises :class:`CellError` carrying a message in fr and
en written for someone who knows no RDF (the rule ID is added by the caller, from the
column). Names of organisations and places go through :func:`coopgraph.lookup.lookup`;
concept labels (contract types, skills, themes…) are matched against their scheme.

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
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from coopgraph.entries import expand_iri
from coopgraph.errors import BadRequest
from coopgraph.lookup import fold, lookup, suggest
from coopgraph.store.base import Boolean, Solutions, Store
from coopgraph.validate import compact
from coopgraph.vocab import CG, ID, ORG, RDFS, SCHEMA, SKOS, XSD


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


def _both(fr: str, en: str, text: str) -> tuple[str, str]:
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
                *_both(
                    "{} n'est pas une date qui existe : vérifiez le jour et le mois (AAAA-MM-JJ)",
                    "{} is not a real date: check the day and month (YYYY-MM-DD)",
                    text,
                )
            ) from None
    raise CellError(
        *_both(
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
            *_both(
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
        *_both(
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
            *_both(
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
            *_both(
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
        *_both(
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
            *_both(
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
                *_both(
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
        *_both(
            "{} n'est pas une adresse web : écrivez-la en entier, https://…",
            "{} is not a web address: write it in full, https://…",
            text,
        )
    )


def slugify(text: str) -> str:
    """``"Chargé·e de mission (Oujda)"`` → ``charge-e-de-mission-oujda``."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80].strip("-")


# -- names → IRIs -------------------------------------------------------------------------


def _variants(label: str) -> set[str]:
    """Looser forms of a label: without its parentheses, their content, each side of " / "."""
    out = set()
    inner = re.findall(r"\(([^)]*)\)", label)
    outer = re.sub(r"\s*\([^)]*\)", "", label)
    head = re.split(r"\s*:\s", outer)[0]  # "ODD 17 : Partenariats…" → "ODD 17"
    for part in [outer, head, *inner, *re.split(r"\s*/\s*", outer)]:
        for piece in re.split(r"\s*,\s*", part):
            if piece.strip():
                out.add(fold(piece).strip())
    return out


@dataclass
class _Index:
    exact: dict[str, set[str]]
    loose: dict[str, set[str]]
    labels: dict[str, dict[str, str]]  # iri → lang → label


_WHAT = {
    "org": ("une organisation connue", "a known organisation"),
    "place": ("un lieu connu", "a known place"),
    "programme": (
        "un programme ou un appel à projets connu",
        "a known programme or call for projects",
    ),
}
#: Allowed types (full IRIs) for each kind of name.
TYPES = {
    "org": (ORG.Organization,),
    "place": (SCHEMA.Place,),
    "programme": (CG.Programme, CG.CallForProjects),
}
_CONCEPTS = (
    "SELECT ?c ?l ?scheme WHERE { ?c <" + SKOS.inScheme + "> ?scheme . "
    "{ ?c <"
    + SKOS.prefLabel
    + "> ?l } UNION { ?c <"
    + SKOS.altLabel
    + "> ?l } UNION { ?c <"
    + SKOS.notation
    + "> ?l } }"
)
_TYPES_OF = "SELECT ?t ?s WHERE { ?s a ?t }"
_CLASSES = (
    f"SELECT ?c ?l WHERE {{ ?c <{RDFS.subClassOf}>* <{ORG.Organization}> ; <{RDFS.label}> ?l "
    "FILTER(isIRI(?c)) }"
)
_ASK = "ASK { ?s ?p ?o }"


class Resolver:
    """Turns names typed in cells into IRIs of the store, caching each answer for the sheet."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._names: dict[tuple[str, str], str] = {}
        self._indexes: dict[str, _Index] = {}

    # entities (lookup) ------------------------------------------------------------------

    def entity(self, text: str, kind: str) -> str:
        """The IRI of the organisation / place / programme named ``text``.

        :raises CellError: unknown, ambiguous, or of the wrong kind.
        """
        key = (kind, fold(text).strip())
        if key not in self._names:
            self._names[key] = self._entity(text.strip(), kind)
        return self._names[key]

    def _entity(self, text: str, kind: str) -> str:
        what_fr, what_en = _WHAT[kind]
        allowed = set(TYPES[kind])
        iri = self._as_iri(text)
        if iri is not None:
            types = self.types_of(iri)
            if types & allowed:
                return iri
            raise CellError(
                *_both(
                    "{} n'est pas " + what_fr + " (IRI inconnue ou d'un autre genre)",
                    "{} is not " + what_en + " (unknown IRI or of another kind)",
                    text,
                )
            )
        try:
            matches = lookup(self.store, text, limit=50)
        except BadRequest:
            matches = []
        wanted = fold(text).strip()
        fitting = [m for m in matches if {expand_iri(t) for t in m.types} & allowed]
        exact = {m.iri for m in fitting if m.score == 3}
        if not exact:
            exact = {m.iri for m in fitting if wanted in _variants(m.matched)}
        if len(exact) == 1:
            return exact.pop()
        if exact:
            shown = ", ".join(compact(i) for i in sorted(exact))
            raise CellError(
                *_both(
                    "{} désigne plusieurs ressources ("
                    + shown
                    + ") : écrivez le nom complet ou l'IRI",
                    "{} names several resources (" + shown + "): write the full name or the IRI",
                    text,
                )
            )
        near = list(dict.fromkeys(m.matched for m in fitting))[:3] or self._close(text, kind)
        hint_fr = f" ; vouliez-vous dire {', '.join(q(n, 'fr') for n in near)} ?" if near else ""
        hint_en = f"; did you mean {', '.join(q(n, 'en') for n in near)}?" if near else ""
        raise CellError(
            *_both(
                "{} n'est pas "
                + what_fr
                + " : écrivez son nom exact (cherchez-le avec « coopgraph lookup ») ou son IRI"
                + hint_fr,
                "{} is not "
                + what_en
                + ": write its exact name (find it with “coopgraph lookup”) or its IRI"
                + hint_en,
                text,
            )
        )

    def _close(self, text: str, kind: str) -> list[str]:
        """Names of the right kind spelt nearly like ``text`` ("Mairie de Lilles"), from
        the search index (:func:`coopgraph.lookup.suggest`)."""
        allowed = set(TYPES[kind])
        try:
            near = suggest(self.store, text, limit=10, cutoff=0.8)
        except BadRequest:
            return []
        fitting = [m.matched for m in near if {expand_iri(t) for t in m.types} & allowed]
        return list(dict.fromkeys(fitting))[:3]

    def _as_iri(self, text: str) -> str | None:
        if text.startswith(("http://", "https://", "<")) or re.fullmatch(
            r"[a-z]+:[^\s:]+/[^\s]+", text
        ):
            try:
                return expand_iri(text)
            except BadRequest:
                return None
        return None

    def types_of(self, iri: str) -> set[str]:
        result = self.store.query(_TYPES_OF, bindings={"s": ox.NamedNode(iri)})
        assert isinstance(result, Solutions)
        return {row[0].value for row in result.rows if row[0] is not None}

    def exists(self, iri: str) -> bool:
        """Does the store say anything about ``iri``?"""
        result = self.store.query(_ASK, bindings={"s": ox.NamedNode(iri)})
        assert isinstance(result, Boolean)
        return bool(result)

    def defined_in(self, iri: str, graph: str) -> bool:
        """Does named graph ``graph`` hold statements about ``iri``?"""
        ask = f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ {ox.NamedNode(iri)} ?p ?o }} }}"
        result = self.store.query(ask)
        assert isinstance(result, Boolean)
        return bool(result)

    # concepts and classes ---------------------------------------------------------------

    def concept(self, text: str, scheme: str | tuple[str, ...], what: tuple[str, str]) -> str:
        """The concept of ``scheme`` (or one of several) whose label, alternative label,
        notation or IRI ending is ``text``.

        :param what: (fr, en) name of the list for messages, e.g. ("type de contrat", …).
        """
        schemes = (scheme,) if isinstance(scheme, str) else scheme
        index = self._merged(schemes)
        return self._pick(text, index, what)

    def organisation_class(self, text: str) -> str:
        if "class" not in self._indexes:
            result = self.store.query(_CLASSES)
            assert isinstance(result, Solutions)
            self._indexes["class"] = self._index(result.rows)
        return self._pick(
            text, self._indexes["class"], ("type d'organisation", "organisation type")
        )

    def _merged(self, schemes: tuple[str, ...]) -> _Index:
        key = " ".join(schemes)
        if key not in self._indexes:
            rows: list[Sequence[object]] = []
            for scheme in schemes:
                result = self.store.query(
                    _CONCEPTS, bindings={"scheme": ox.NamedNode(ID["scheme/" + scheme])}
                )
                assert isinstance(result, Solutions)
                rows += result.rows
            self._indexes[key] = self._index(rows)
        return self._indexes[key]

    @staticmethod
    def _index(rows: Sequence[Sequence[object]]) -> _Index:
        index = _Index({}, {}, {})
        for concept, label, *_ in rows:
            assert isinstance(concept, ox.NamedNode) and isinstance(label, ox.Literal)
            iri = concept.value
            for key in (
                fold(label.value).strip(),
                fold(iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]),
            ):
                index.exact.setdefault(key, set()).add(iri)
            for key in _variants(label.value):
                index.loose.setdefault(key, set()).add(iri)
            if label.language:
                index.labels.setdefault(iri, {}).setdefault(label.language, label.value)
        return index

    def _pick(self, text: str, index: _Index, what: tuple[str, str]) -> str:
        iri = self._as_iri(text.strip())
        if iri is not None and iri in index.labels:
            return iri
        wanted = fold(text).strip()
        for table in (index.exact, index.loose):
            found = table.get(wanted, set())
            if len(found) == 1:
                return next(iter(found))
            if found:
                break
        names = {
            lang: sorted({labels.get(lang, "") for labels in index.labels.values()} - {""})
            for lang in ("fr", "en")
        }
        hints = {}
        for lang in ("fr", "en"):
            close = difflib.get_close_matches(text, names[lang], n=3, cutoff=0.5)
            if not close:
                close = [n for n in names[lang] if wanted and wanted in fold(n)][:3]
            hints[lang] = ", ".join(q(c, lang) for c in close)
        raise CellError(
            *_both(
                "{} n'est pas dans la liste « "
                + what[0]
                + " »"
                + (f" ; proches : {hints['fr']}" if hints["fr"] else ""),
                "{} is not in the “"
                + what[1]
                + "” list"
                + (f"; close: {hints['en']}" if hints["en"] else ""),
                text,
            )
        )


__all__ = [
    "CellError",
    "Resolver",
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
