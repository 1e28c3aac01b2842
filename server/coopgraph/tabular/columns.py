"""The columns of each spreadsheet kind: header names (fr/en), help text, example, rule.

A column writes its cell on one node of the row's data (``node``: the offer itself, its
pay, its education, …) through ``paths``; a SHACL finding about that node and path is
told back on this column (see :mod:`coopgraph.tabular.importer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coopgraph.lookup import fold
from coopgraph.vocab import CG, DCTERMS, ORG, OWL, RDFS, SCHEMA, SKOS

#: Multi-valued cells separate their values with this character (documented in the
#: template's explanation row and in the README).
SEPARATOR = ";"
#: A row whose first cell starts with this is a comment (the template's explanation row).
COMMENT = "#"
LANGS = ("fr", "en")
#: The extra column written by ``--annotate`` (ignored when such a sheet is re-imported).
ERRORS_HEADER = {"fr": "Erreurs (coopgraph)", "en": "Errors (coopgraph)"}


@dataclass(frozen=True)
class Column:
    """One column of a template."""

    key: str
    header: dict[str, str]
    help: dict[str, str]
    example: dict[str, str]
    required: bool = False
    rule: str | None = None
    multi: bool = False
    #: the role of the node this column writes on (``main``, ``salary``, ``lang`` …)
    node: str = "main"
    paths: tuple[str, ...] = ()
    #: more rule IDs told on this column (node-level rules, warnings)
    also: tuple[str, ...] = ()

    def explanation(self, lang: str) -> str:
        """The text of this column's cell in the template's explanation row."""
        words = _WORDS[lang]
        parts = [words["required"] if self.required else words["optional"], self.help[lang]]
        if self.multi:
            parts.append(words["multi"])
        if self.example[lang]:
            parts.append(words["example"].format(self.example[lang]))
        if self.rule:
            parts.append(words["rule"].format(self.rule))
        return " ".join(parts)


_WORDS = {
    "fr": {
        "required": "Obligatoire.",
        "optional": "Facultatif.",
        "multi": f"Plusieurs valeurs : séparez-les par « {SEPARATOR} ».",
        "example": "Exemple : {}",
        "rule": "(vérifié par la règle {})",
    },
    "en": {
        "required": "Required.",
        "optional": "Optional.",
        "multi": f"Several values: separate them with “{SEPARATOR}”.",
        "example": "Example: {}",
        "rule": "(checked by rule {})",
    },
}


def _c(
    key: str,
    fr: str,
    en: str,
    help_fr: str,
    help_en: str,
    ex_fr: str,
    ex_en: str | None = None,
    **kw: Any,
) -> Column:
    return Column(
        key,
        {"fr": fr, "en": en},
        {"fr": help_fr, "en": help_en},
        {"fr": ex_fr, "en": ex_fr if ex_en is None else ex_en},
        **kw,
    )


_ID = _c(
    "id",
    "Identifiant",
    "Identifier",
    "Identifiant court en minuscules, chiffres et tirets ; vide = tiré du nom.",
    "Short id in lower-case letters, digits and hyphens; empty = made from the name.",
    "lille-oujda-2024",
    rule=None,
)
_SOURCE = (
    "Adresse web (https://…) de la page ou du document d'où viennent ces informations.",
    "Web address (https://…) of the page or document this comes from.",
)

OFFER: tuple[Column, ...] = (
    _ID,
    _c(
        "title",
        "Intitulé du poste",
        "Job title",
        "Intitulé du poste tel que dans l'annonce.",
        "Job title as in the offer.",
        "Chargé·e de coopération Lille-Oujda",
        "Cooperation officer Lille-Oujda",
        required=True,
        rule="CG-OFFER-003",
        paths=(SCHEMA["title"], RDFS.label),
    ),
    _c(
        "employer",
        "Employeur",
        "Employer",
        "Nom d'une organisation déjà connue (vérifiez avec « coopgraph lookup ») ou son IRI.",
        "Name of a known organisation (check with “coopgraph lookup”) or its IRI.",
        "Ville de Lille",
        required=True,
        rule="CG-OFFER-002",
        paths=(SCHEMA.hiringOrganization,),
    ),
    _c(
        "intermediary",
        "Intermédiaire",
        "Intermediary",
        "Organisation qui publie ou porte l'offre pour l'employeur (nom connu ou IRI).",
        "Organisation publishing or carrying the offer for the employer (known name or IRI).",
        "France Volontaires",
        rule="CG-OFFER-024",
        paths=(CG.intermediary,),
    ),
    _c(
        "duty_station",
        "Lieu d'affectation",
        "Duty station",
        "Ville, région ou pays déjà connu (nom ou IRI).",
        "Known city, region or country (name or IRI).",
        "Oujda",
        rule="CG-OFFER-026",
        paths=(CG.dutyStation, SCHEMA.jobLocation),
        also=("CG-OFFER-008", "CG-OFFER-009"),
    ),
    _c(
        "posted",
        "Date de publication",
        "Date posted",
        "Format AAAA-MM-JJ.",
        "Format YYYY-MM-DD.",
        "2024-03-01",
        rule="CG-OFFER-005",
        paths=(SCHEMA.datePosted,),
        also=("CG-OFFER-006",),
    ),
    _c(
        "deadline",
        "Date limite",
        "Deadline",
        "Date limite de candidature, format AAAA-MM-JJ.",
        "Application deadline, format YYYY-MM-DD.",
        "2024-04-15",
        required=True,
        rule="CG-OFFER-004",
        paths=(SCHEMA.validThrough,),
    ),
    _c(
        "start",
        "Date de début",
        "Start date",
        "Format AAAA-MM-JJ ; pour « juin 2024 » écrivez 2024-06-01.",
        "Format YYYY-MM-DD; for “June 2024” write 2024-06-01.",
        "2024-05-01",
        rule="CG-OFFER-007",
        paths=(SCHEMA.jobStartDate,),
    ),
    _c(
        "duration",
        "Durée",
        "Duration",
        "Nombre et unité (mois, ans, semaines, jours) ou ISO 8601.",
        "Number and unit (months, years, weeks, days) or ISO 8601.",
        "12 mois",
        "12 months",
        rule="CG-OFFER-013",
        paths=(CG.duration,),
    ),
    _c(
        "contract",
        "Type de contrat",
        "Contract type",
        "Libellé de la liste des types de contrat (VSI, CDI, CDD, service civique…).",
        "Label from the contract-type list (VSI, CDI, CDD, civic service…).",
        "VSI",
        rule="CG-OFFER-018",
        multi=True,
        paths=(CG.contractType,),
        also=("CG-OFFER-019",),
    ),
    _c(
        "working_time",
        "Temps de travail",
        "Working time",
        "« temps plein », « temps partiel », « mi-temps » ou une quotité (80 %, 1/3).",
        "“full time”, “part time”, “half time” or a fraction (80 %, 1/3).",
        "temps plein",
        "full time",
        rule="CG-OFFER-015",
        paths=(SCHEMA.employmentType, CG.timeFraction),
    ),
    _c(
        "weekly_hours",
        "Heures par semaine",
        "Hours per week",
        "Nombre d'heures (1 à 60).",
        "Number of hours (1 to 60).",
        "35",
        rule="CG-OFFER-016",
        paths=(CG.weeklyHours,),
    ),
    _c(
        "pay_min",
        "Rémunération minimum",
        "Pay minimum",
        "Montant en chiffres ; pour un montant fixe, écrivez-le dans minimum et maximum.",
        "Amount in figures; for a fixed amount write it in both minimum and maximum.",
        "800",
        rule="CG-OFFER-011",
        node="salary-value",
        paths=(SCHEMA.minValue, SCHEMA.value),
        also=("CG-OFFER-020", "CG-OFFER-033"),
    ),
    _c(
        "pay_max",
        "Rémunération maximum",
        "Pay maximum",
        "Montant en chiffres, pas moins que le minimum.",
        "Amount in figures, not below the minimum.",
        "800",
        rule="CG-OFFER-035",
        node="salary-value",
        paths=(SCHEMA.maxValue,),
    ),
    _c(
        "currency",
        "Devise",
        "Currency",
        "Code ISO 4217 en trois lettres (EUR, MAD…) ; obligatoire si un montant est donné.",
        "Three-letter ISO 4217 code (EUR, MAD…); required when an amount is given.",
        "EUR",
        rule="CG-OFFER-010",
        node="salary",
        paths=(SCHEMA.currency,),
        also=("CG-OFFER-050",),
    ),
    _c(
        "pay_period",
        "Période de rémunération",
        "Pay period",
        "Par heure, jour, semaine, mois ou an ; obligatoire si un montant est donné.",
        "Per hour, day, week, month or year; required when an amount is given.",
        "mois",
        "month",
        rule="CG-OFFER-034",
        node="salary-value",
        paths=(SCHEMA.unitText,),
    ),
    _c(
        "gross_net",
        "Brut ou net",
        "Gross or net",
        "« brut » ou « net ».",
        "“gross” or “net”.",
        "net",
        node="salary",
        paths=(CG.grossOrNet,),
    ),
    _c(
        "education",
        "Niveau de formation",
        "Education level",
        "Diplôme demandé ; un niveau connu (Bac+5, Master, EQF 7…) est relié à la liste "
        "des niveaux.",
        "Credential asked for; a known level (Master, EQF 7…) is linked to the level list.",
        "Bac+5",
        "Master",
        rule="CG-OFFER-045",
        node="education",
        paths=(SCHEMA.credentialCategory, SCHEMA.educationalLevel),
    ),
    _c(
        "experience",
        "Expérience minimum (années)",
        "Minimum experience (years)",
        "Nombre d'années (2, 1,5…).",
        "Number of years (2, 1.5…).",
        "2",
        rule="CG-OFFER-041",
        node="experience",
        paths=(SCHEMA.monthsOfExperience, SCHEMA.description),
    ),
    _c(
        "languages",
        "Langues",
        "Languages",
        "langue:niveau CECRL:obligatoire ou souhaitée ; langue = nom ou code (fr, ar, ary…), "
        "niveau A1 à C2 facultatif (sans niveau d'exigence : obligatoire).",
        "language:CEFR level:required or preferred; language = name or code (fr, ar, ary…), "
        "level A1 to C2 optional (no requirement word: required).",
        "arabe:B2:obligatoire; anglais:B1:souhaitée",
        "ar:B2:required; en:B1:preferred",
        rule="CG-OFFER-037",
        multi=True,
        node="lang",
        paths=(CG.language, CG.requirementLevel, CG.cefrLevel),
    ),
    _c(
        "skills",
        "Compétences",
        "Skills",
        "Libellés de la liste des compétences.",
        "Labels from the skill list.",
        "Gestion de projet; Communication",
        "Project management; Communication",
        rule="CG-OFFER-022",
        multi=True,
        paths=(SCHEMA.skills,),
        also=("CG-OFFER-023",),
    ),
    _c(
        "programme",
        "Programme ou appel à projets",
        "Programme or call for projects",
        "Nom d'un programme ou d'un appel à projets connu (ou son IRI).",
        "Name of a known programme or call for projects (or its IRI).",
        "FICOL",
        rule="CG-OFFER-031",
        multi=True,
        paths=(CG.programme, CG.answersCall),
    ),
    _c(
        "source",
        "Source (adresse web)",
        "Source (web address)",
        *_SOURCE,
        "https://www.france-volontaires.org/",
        rule="CG-OFFER-029",
        paths=(DCTERMS.source,),
    ),
    _c(
        "description",
        "Description",
        "Description",
        "Quelques phrases sur le poste.",
        "A few sentences about the post.",
        "",
        paths=(SCHEMA.description,),
    ),
)

ORGANISATION: tuple[Column, ...] = (
    _ID,
    _c(
        "name_fr",
        "Nom (français)",
        "Name (French)",
        "Nom officiel en français.",
        "Official name in French.",
        "Ville de Tournai",
        required=True,
        rule="CG-ORG-002",
        paths=(RDFS.label,),
    ),
    _c(
        "name_en",
        "Nom (anglais)",
        "Name (English)",
        "Nom en anglais.",
        "Name in English.",
        "City of Tournai",
        rule="CG-ORG-003",
    ),
    _c(
        "acronym",
        "Sigle",
        "Acronym",
        "Sigle ou autre nom.",
        "Acronym or other name.",
        "",
        paths=(SKOS.altLabel,),
    ),
    _c(
        "type",
        "Type d'organisation",
        "Organisation type",
        "commune, intercommunalité, région, État, association / ONG, réseau, établissement public…",
        "municipality, intermunicipal authority, regional authority, State, association / NGO, "
        "network…",
        "commune",
        "municipality",
        required=True,
        rule="CG-ORG-001",
    ),
    _c(
        "place",
        "Territoire",
        "Territory",
        "Lieu déjà connu où l'organisation est compétente (nom ou IRI).",
        "Known place the organisation covers (name or IRI).",
        "Tournai",
        rule="CG-ORG-007",
        paths=(CG.jurisdiction,),
    ),
    _c(
        "parent",
        "Organisation parente",
        "Parent organisation",
        "Organisation connue dont elle fait partie (nom ou IRI).",
        "Known organisation it is part of (name or IRI).",
        "",
        rule="CG-ORG-004",
        paths=(ORG.subOrganizationOf,),
    ),
    _c(
        "member_of",
        "Membre de",
        "Member of",
        "Organisations connues dont elle est membre.",
        "Known organisations it is a member of.",
        "Eurométropole Lille-Kortrijk-Tournai",
        "Lille-Kortrijk-Tournai Eurometropolis",
        multi=True,
        rule="CG-ORG-008",
        paths=(ORG.memberOf,),
    ),
    _c(
        "website",
        "Site web",
        "Website",
        "Adresse https://…",
        "Address https://…",
        "",
        paths=(SCHEMA.url,),
    ),
    _c(
        "siren",
        "SIREN",
        "SIREN",
        "Numéro SIREN à neuf chiffres (France).",
        "Nine-digit SIREN (France).",
        "",
        rule="CG-ORG-025",
        paths=(CG.sirenCode,),
    ),
    _c(
        "iati",
        "Identifiant IATI",
        "IATI identifier",
        "Code IATI {agence}-{numéro}.",
        "IATI code {agency}-{number}.",
        "",
        rule="CG-ORG-026",
        paths=(CG.iatiIdentifier,),
    ),
    _c(
        "wikidata",
        "Wikidata",
        "Wikidata",
        "Identifiant Q… ou adresse de la page Wikidata.",
        "Q… identifier or Wikidata page address.",
        "",
        rule="CG-PLACE-013",
        paths=(OWL.sameAs,),
    ),
    _c(
        "id_source",
        "Source des identifiants (adresse web)",
        "Identifier source (web address)",
        "Page où SIREN, IATI ou Wikidata peuvent être vérifiés ; obligatoire avec un identifiant.",
        "Page where SIREN, IATI or Wikidata can be checked; required with an identifier.",
        "",
        rule="CG-PLACE-014",
    ),
    _c(
        "description",
        "Description",
        "Description",
        "Quelques phrases.",
        "A few sentences.",
        "",
        paths=(SCHEMA.description,),
    ),
)

PARTNERSHIP: tuple[Column, ...] = (
    _ID,
    _c(
        "name_fr",
        "Nom (français)",
        "Name (French)",
        "Nom du partenariat en français.",
        "Name of the partnership in French.",
        "Accord de coopération Lille-Oujda (exemple)",
        required=True,
        rule="CG-PART-004",
        paths=(RDFS.label,),
    ),
    _c("name_en", "Nom (anglais)", "Name (English)", "Nom en anglais.", "Name in English.", ""),
    _c(
        "partners",
        "Partenaires",
        "Partners",
        "Au moins deux organisations connues (noms ou IRI).",
        "At least two known organisations (names or IRIs).",
        "Ville de Lille; Commune d'Oujda",
        "City of Lille; Municipality of Oujda",
        required=True,
        rule="CG-PART-002",
        multi=True,
        also=("CG-PART-010",),
        paths=(CG.partner, CG.partnerOf),
    ),
    _c(
        "type",
        "Type de partenariat",
        "Partnership type",
        "jumelage, accord de coopération, pacte d'amitié, partenariat institutionnel…",
        "twinning, cooperation agreement, friendship pact, institutional partnership…",
        "accord de coopération",
        "cooperation agreement",
        required=True,
        rule="CG-PART-003",
        also=("CG-CONCEPT-008",),
        paths=(CG.partnershipType,),
    ),
    _c(
        "signed",
        "Année de signature",
        "Year signed",
        "Année sur quatre chiffres.",
        "Four-digit year.",
        "2005",
        rule="CG-PART-005",
        paths=(CG.signedYear,),
    ),
    _c(
        "start",
        "Début",
        "Start",
        "Année (2005) ou date AAAA-MM-JJ.",
        "Year (2005) or date YYYY-MM-DD.",
        "2005",
        rule="CG-PART-009",
        paths=(SCHEMA.startDate,),
    ),
    _c(
        "end",
        "Fin",
        "End",
        "Année ou date AAAA-MM-JJ, pas avant le début.",
        "Year or date YYYY-MM-DD, not before the start.",
        "",
        rule="CG-PART-009",
        paths=(SCHEMA.endDate,),
    ),
    _c(
        "programme",
        "Programme",
        "Programme",
        "Programme connu (nom ou IRI).",
        "Known programme (name or IRI).",
        "",
        rule="CG-PART-006",
        paths=(CG.programme,),
    ),
    _c(
        "funders",
        "Financeurs",
        "Funders",
        "Organisations connues qui financent.",
        "Known funding organisations.",
        "",
        rule="CG-PART-007",
        multi=True,
        paths=(SCHEMA.funder,),
    ),
    _c(
        "themes",
        "Thèmes",
        "Themes",
        "Libellés de la liste des thèmes ou des ODD.",
        "Labels from the theme or SDG list.",
        "Coopération décentralisée; ODD 17",
        "Decentralised cooperation; SDG 17",
        rule="CG-PART-011",
        also=("CG-CONCEPT-007",),
        multi=True,
        paths=(CG.theme,),
    ),
    _c(
        "source",
        "Source (adresse web)",
        "Source (web address)",
        *_SOURCE,
        "https://www.example.org/jumelage",
        rule="CG-PART-008",
        paths=(DCTERMS.source,),
    ),
    _c(
        "description",
        "Description",
        "Description",
        "Quelques phrases.",
        "A few sentences.",
        "",
        paths=(SCHEMA.description,),
    ),
)

KINDS: dict[str, tuple[Column, ...]] = {
    "offer": OFFER,
    "organisation": ORGANISATION,
    "partnership": PARTNERSHIP,
}


def header_index(kind: str) -> dict[str, tuple[Column, str]]:
    """Folded header text (either language) → (column, language)."""
    out: dict[str, tuple[Column, str]] = {}
    for column in KINDS[kind]:
        for lang in LANGS:
            out.setdefault(fold(column.header[lang]).strip(), (column, lang))
    return out
