"""Generate a realistic, seeded cooperation graph in coopgraph's own ontology.

The output looks like what staff would enter after reading many job offers: countries,
regions and cities (``cg:within``, coordinates), organisations of every kind with a site,
an address and sometimes a unit, programmes and calls with funders and periods, typed and
dated ``cg:Partnership`` nodes with themes plus the ``cg:partnerOf`` shortcut, and job
offers carrying every field the seeds use. About 100 triples per organisation, so
``--orgs 10000`` is about one million triples.

Each organisation's "dossier" (its identity, site, partnerships and offer) is one named
graph ``cgg:entry/gen-<seed>-<n>`` that describes itself with PROV-O, like the seeds;
places and programmes go to ``cgg:reference/gen-…`` graphs. Concepts (themes, skills,
contract types…) are the project's own, from ``data/reference/concepts.trig``: load the
project first, then this file.

The output is streamed (one graph at a time) and deterministic: the same ``--orgs`` and
``--seed`` always give the same bytes.

    python benchmarks/generate.py --orgs 1000 --seed 1 --out /tmp/gen-1000.nq
    python benchmarks/generate.py --orgs 50 --out /tmp/gen-50.trig
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from coopgraph.vocab import (
    CG,
    DCTERMS,
    FOAF,
    GEO,
    GRAPH,
    ID,
    ORG,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    XSD,
)

# -- vocabulary of the project's reference concepts (data/reference/concepts.trig) -------

THEMES = [
    "urban-planning", "economic-development", "sustainable-development", "social-action",
    "culture", "cultural-exchange", "vocational-training", "social-professional-inclusion",
    "social-solidarity-economy", "youth-mobility", "sustainable-energy", "climate-change",
    "citizen-participation", "local-governance", "institutional-strengthening",
    "international-solidarity", "decentralised-cooperation", "cross-border-cooperation",
    "territorial-development", "water-sanitation", "circular-economy", "air-quality",
    "sustainable-mobility", "employment", "work-linked-training", "language-learning",
    "higher-education", "european-citizenship", "civil-society", "volunteering",
    "sdg-localisation",
]
THEME_FR = {
    "urban-planning": "urbanisme", "economic-development": "développement économique",
    "sustainable-development": "développement durable", "social-action": "action sociale",
    "culture": "culture", "cultural-exchange": "échanges culturels",
    "vocational-training": "formation professionnelle",
    "social-professional-inclusion": "insertion socioprofessionnelle",
    "social-solidarity-economy": "économie sociale et solidaire",
    "youth-mobility": "mobilité des jeunes", "sustainable-energy": "énergie durable",
    "climate-change": "changement climatique", "citizen-participation": "participation citoyenne",
    "local-governance": "gouvernance locale",
    "institutional-strengthening": "renforcement institutionnel",
    "international-solidarity": "solidarité internationale",
    "decentralised-cooperation": "coopération décentralisée",
    "cross-border-cooperation": "coopération transfrontalière",
    "territorial-development": "développement territorial",
    "water-sanitation": "eau et assainissement", "circular-economy": "économie circulaire",
    "air-quality": "qualité de l'air", "sustainable-mobility": "mobilité durable",
    "employment": "emploi", "work-linked-training": "alternance",
    "language-learning": "apprentissage des langues", "higher-education": "enseignement supérieur",
    "european-citizenship": "citoyenneté européenne", "civil-society": "société civile",
    "volunteering": "volontariat", "sdg-localisation": "localisation des ODD",
}
SKILLS = [
    "project-management", "project-reporting", "fundraising", "administrative-financial-management",
    "decentralised-cooperation-knowledge", "international-solidarity-knowledge",
    "moroccan-context-knowledge", "office-software", "written-communication", "communication",
    "facilitation", "networking", "advocacy", "teamwork", "autonomy", "diplomacy-negotiation",
    "intercultural-collaboration", "citizen-participation-methods", "collective-intelligence",
    "translation", "public-finance", "urban-project", "evaluation", "strategic-planning",
    "local-authority-knowledge", "sdg-knowledge", "european-programmes-watch", "public-speaking",
]
CONTRACT_TYPES = ["vsi", "service-civique", "cdi", "cdd", "service-agreement", "civil-servant",
                  "contract-agent", "secondment"]
CEFR = ["a1", "a2", "b1", "b2", "c1", "c2"]
PARTNERSHIP_TYPES = ["twinning", "cooperation-agreement", "friendship-pact",
                     "cross-border-grouping-membership", "programme-partnership",
                     "institutional-partnership"]
EDUCATION = ["eqf-7", "bac-plus-5"]
JOB_FAMILIES = ["habitat-politique-de-la-ville", "politique-de-la-ville",
                "international-cooperation"]
GRADES = ["attache", "attache-principal"]
LANGUAGES = [("fr", "Français", "French"), ("en", "Anglais", "English"),
             ("nl", "Néerlandais", "Dutch"), ("ar", "Arabe", "Arabic"),
             ("es", "Espagnol", "Spanish"), ("de", "Allemand", "German"),
             ("pt", "Portugais", "Portuguese"),
             ("ary", "Arabe marocain (darija)", "Moroccan Arabic")]

# -- places --------------------------------------------------------------------------------

#: slug, ISO code, French name, English name, latitude, longitude, in Europe, org weight
COUNTRIES = [
    ("france", "FR", "France", "France", 46.6, 2.2, True, 40),
    ("belgique", "BE", "Belgique", "Belgium", 50.6, 4.6, True, 10),
    ("maroc", "MA", "Maroc", "Morocco", 32.0, -6.8, False, 8),
    ("senegal", "SN", "Sénégal", "Senegal", 14.5, -14.4, False, 5),
    ("burkina-faso", "BF", "Burkina Faso", "Burkina Faso", 12.3, -1.6, False, 4),
    ("mali", "ML", "Mali", "Mali", 13.5, -7.0, False, 3),
    ("tunisie", "TN", "Tunisie", "Tunisia", 34.0, 9.5, False, 4),
    ("cote-d-ivoire", "CI", "Côte d'Ivoire", "Ivory Coast", 7.5, -5.5, False, 3),
    ("cameroun", "CM", "Cameroun", "Cameroon", 5.7, 12.4, False, 3),
    ("madagascar", "MG", "Madagascar", "Madagascar", -19.0, 46.7, False, 2),
    ("haiti", "HT", "Haïti", "Haiti", 19.0, -72.3, False, 2),
    ("benin", "BJ", "Bénin", "Benin", 9.3, 2.3, False, 2),
    ("niger", "NE", "Niger", "Niger", 16.1, 8.1, False, 1),
    ("vietnam", "VN", "Viêt Nam", "Vietnam", 16.0, 107.8, False, 2),
    ("liban", "LB", "Liban", "Lebanon", 33.9, 35.9, False, 2),
    ("allemagne", "DE", "Allemagne", "Germany", 51.1, 10.4, True, 3),
    ("espagne", "ES", "Espagne", "Spain", 40.4, -3.7, True, 2),
    ("italie", "IT", "Italie", "Italy", 42.8, 12.6, True, 2),
    ("pologne", "PL", "Pologne", "Poland", 52.1, 19.4, True, 1),
    ("roumanie", "RO", "Roumanie", "Romania", 45.9, 24.9, True, 1),
    ("ukraine", "UA", "Ukraine", "Ukraine", 49.0, 31.4, True, 1),
    ("quebec-canada", "CA", "Canada", "Canada", 52.9, -73.5, False, 1),
]
REGIONS_PER_COUNTRY = 6

SYLLABLES = ["la", "mon", "ber", "ville", "sur", "ro", "chat", "bel", "mar", "cour", "vil",
             "lan", "tou", "ri", "nan", "sa", "ba", "ka", "dou", "ta", "mé", "ni", "gor",
             "fleur", "bois", "pont", "val", "mont", "lac", "roc", "tin", "zo", "kou", "dia"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "place de l'Hôtel de Ville",
           "rue Victor Hugo", "boulevard de la Liberté", "rue des Écoles", "quai du Port",
           "avenue Mohammed V", "rue de l'Église", "chaussée de Bruxelles"]

# -- organisations -------------------------------------------------------------------------

#: kind, class IRI local name (cg: or org:), French prefix of the name, weight
ORG_KINDS = [
    ("commune", CG.Commune, "Ville de", 34),
    ("intermunicipality", CG.Intermunicipality, "Communauté d'agglomération de", 5),
    ("department", CG.DepartmentalAuthority, "Conseil départemental de", 4),
    ("region", CG.RegionalAuthority, "Conseil régional de", 3),
    ("state", CG.State, "Ministère de la coopération –", 2),
    ("agency", CG.PublicAgency, "Agence de développement de", 6),
    ("io", CG.InternationalOrganisation, "Organisation internationale pour", 1),
    ("egtc", CG.CrossBorderGrouping, "GECT transfrontalier de", 2),
    ("association", CG.Association, "Association", 30),
    ("network", CG.Network, "Réseau régional multi-acteurs de", 5),
    ("participatory", CG.ParticipatoryBody, "Conseil citoyen de", 8),
]
FUNDER_KINDS = {"state", "agency", "region", "io", "department"}
AUTHORITY_KINDS = {"commune", "intermunicipality", "department", "region", "state"}
ASSOCIATION_WORDS = ["Solidarité", "Eau Vive", "Horizons", "Passerelles", "Terres d'Avenir",
                     "Les Amis de", "Entraide", "Jeunesse et Échanges", "Ponts du Sud",
                     "Coopération Citoyenne"]

JOB_TITLES = [
    "Chargé·e de mission {t}", "Coordinateur·rice de projets {t}",
    "Chargé·e de coopération {t}", "Volontaire de solidarité internationale – {t}",
    "Responsable de programme {t}", "Chef·fe de projet {t}",
]
ACTIVITIES = [
    "Coordonner les projets de coopération et en assurer le suivi technique et financier.",
    "Animer le réseau des partenaires locaux et organiser les missions d'échange.",
    "Rédiger les rapports narratifs et financiers destinés aux bailleurs.",
    "Répondre aux appels à projets et monter les dossiers de financement.",
    "Organiser la communication autour de la coopération et de ses résultats.",
    "Accompagner les collectivités dans leur stratégie d'action internationale.",
    "Évaluer les dispositifs et proposer des améliorations.",
    "Assurer une veille sur les programmes européens et internationaux.",
]
BENEFITS = [
    "Titres-restaurant et participation à la mutuelle.",
    "Remboursement des frais de déplacement selon le barème en vigueur.",
    "Indemnité de logement et assurance rapatriement.",
    "Télétravail partiel possible.",
]

# -- N-Quads writing -----------------------------------------------------------------------


def iri(value: str) -> str:
    return f"<{value}>"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"')
            .replace("\n", "\\n").replace("\r", "\\r"))


def lit(text: str, lang: str | None = None) -> str:
    return f'"{_escape(text)}"@{lang}' if lang else f'"{_escape(text)}"'


def typed(text: object, datatype: str) -> str:
    return f'"{text}"^^<{datatype}>'


def integer(value: int) -> str:
    return typed(value, XSD.integer)


def decimal(value: float, places: int = 4) -> str:
    return typed(f"{value:.{places}f}", XSD.decimal)


def date(year: int, month: int, day: int) -> str:
    return typed(f"{year:04d}-{month:02d}-{day:02d}", XSD.date)


def concept(scheme: str, slug: str) -> str:
    return iri(ID[f"concept/{scheme}/{slug}"])


A = iri(RDF.type)


class Graph:
    """The triples of one named graph, written in one go (N-Quads or TriG)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []

    def add(self, s: str, p: str, *objects: str) -> None:
        for o in objects:
            self.lines.append(f"{s} {iri(p) if not p.startswith('<') else p} {o}")

    def write(self, out: TextIO, trig: bool) -> int:
        if trig:
            out.write(f"<{self.name}> {{\n")
            for line in self.lines:
                out.write(f"  {line} .\n")
            out.write("}\n")
        else:
            g = iri(self.name)
            for line in self.lines:
                out.write(f"{line} {g} .\n")
        return len(self.lines)


# -- the model -----------------------------------------------------------------------------


@dataclass
class Place:
    iri: str
    country: int
    region: int
    lat: float
    lon: float
    name: str


@dataclass
class Organisation:
    n: int
    kind: str
    cls: str
    iri: str
    name: str
    country: int
    city: Place


class World:
    """Every place and organisation, decided up front from the seed (small: a few per org)."""

    def __init__(self, orgs: int, seed: int) -> None:
        self.seed = seed
        self.orgs_count = orgs
        rng = random.Random(f"coopgraph-bench-{seed}-world")
        self.prefix = f"gen-{seed}"
        self.countries = [iri(ID[f"place/{self.prefix}-{c[0]}"]) for c in COUNTRIES]
        self.regions: list[list[tuple[str, str]]] = []
        for c in COUNTRIES:
            regions = []
            for r in range(REGIONS_PER_COUNTRY):
                name = self._name(rng).capitalize()
                regions.append((iri(ID[f"place/{self.prefix}-{c[0]}-r{r}"]), name))
            self.regions.append(regions)
        weights = [c[7] for c in COUNTRIES]
        n_cities = max(len(COUNTRIES) * REGIONS_PER_COUNTRY, orgs // 3)
        self.cities: list[Place] = []
        self.cities_by_country: list[list[Place]] = [[] for _ in COUNTRIES]
        for k in range(n_cities):
            ci = k % len(COUNTRIES) if k < len(COUNTRIES) * 2 else rng.choices(
                range(len(COUNTRIES)), weights)[0]
            c = COUNTRIES[ci]
            place = Place(
                iri(ID[f"place/{self.prefix}-city-{k:06d}"]), ci,
                rng.randrange(REGIONS_PER_COUNTRY),
                c[4] + rng.uniform(-3, 3), c[5] + rng.uniform(-3, 3),
                self._name(rng).capitalize() + ("-sur-" + self._name(rng).capitalize()
                                                if rng.random() < 0.15 else ""),
            )
            self.cities.append(place)
            self.cities_by_country[ci].append(place)
        kind_weights = [k[3] for k in ORG_KINDS]
        self.orgs: list[Organisation] = []
        for n in range(orgs):
            kind, cls, prefix, _ = ORG_KINDS[rng.choices(range(len(ORG_KINDS)), kind_weights)[0]]
            ci = rng.choices(range(len(COUNTRIES)), weights)[0]
            city = rng.choice(self.cities_by_country[ci])
            if kind == "association":
                name = f"{prefix} {rng.choice(ASSOCIATION_WORDS)} {city.name}"
            elif kind in ("region", "department", "egtc", "network"):
                name = f"{prefix} {self.regions[ci][city.region][1]}"
            elif kind == "state":
                name = f"{prefix} {COUNTRIES[ci][2]}"
            elif kind == "io":
                name = f"{prefix} {THEME_FR[rng.choice(THEMES)]}"
            else:
                name = f"{prefix} {city.name}"
            self.orgs.append(Organisation(
                n, kind, cls, iri(ID[f"org/{self.prefix}-{n:07d}"]), f"{name} ({n})", ci, city))
        self.funders = [o for o in self.orgs if o.kind in FUNDER_KINDS] or self.orgs[:1]
        self.managers = [o for o in self.orgs if o.kind in ("association", "network", "agency")] \
            or self.orgs[:1]
        n_prog = max(1, orgs // 20)
        self.programmes = [iri(ID[f"programme/{self.prefix}-{k:06d}"]) for k in range(n_prog)]
        self.calls = [iri(ID[f"call/{self.prefix}-{k:06d}"]) for k in range(n_prog)]

    @staticmethod
    def _name(rng: random.Random) -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


# -- graphs --------------------------------------------------------------------------------


def _prov(g: Graph, title_fr: str, source: str, ident: str, publisher: str | None,
          when: str | None) -> None:
    gi = iri(g.name)
    g.add(gi, RDF.type, iri(PROV.Entity))
    g.add(gi, DCTERMS["title"], lit(title_fr, "fr"))
    g.add(gi, PROV.wasDerivedFrom, source)
    g.add(source, RDF.type, iri(PROV.Entity), iri(FOAF.Document))
    g.add(source, DCTERMS.identifier, lit(ident))
    g.add(source, DCTERMS["title"], lit(f"Document source {ident}", "fr"))
    g.add(source, DCTERMS.language, lit("fr"))
    if publisher:
        g.add(source, DCTERMS.publisher, publisher)
    if when:
        g.add(source, DCTERMS.date, when)


def place_graphs(world: World) -> Iterator[Graph]:
    """One reference graph per country: the country, its regions and cities."""
    for ci, c in enumerate(COUNTRIES):
        slug, code, fr, en, lat, lon, european, _ = c
        g = Graph(GRAPH[f"reference/{world.prefix}-places-{slug}"])
        src = iri(ID[f"source/{world.prefix}-places"])
        _prov(g, f"Lieux générés : {fr}", src, f"{world.prefix}-places.txt", None, None)
        country = world.countries[ci]
        g.add(country, RDF.type, iri(SCHEMA.Country))
        g.add(country, RDFS.label, lit(fr, "fr"), lit(en, "en"))
        g.add(country, CG.countryCode, lit(code))
        g.add(country, GEO.lat, decimal(lat))
        g.add(country, GEO.long, decimal(lon))
        if european:
            g.add(country, CG.within, iri(ID["place/europe"]))
            g.add(country, CG.nutsCode, lit(code))
        for r, (region, name) in enumerate(world.regions[ci]):
            g.add(region, RDF.type, iri(SCHEMA.AdministrativeArea))
            g.add(region, RDFS.label, lit(f"Région {name}", "fr"), lit(f"{name} Region", "en"))
            g.add(region, CG.within, country)
            if european:
                g.add(region, CG.nutsCode, lit(f"{code}{r + 1}"))
        for city in world.cities_by_country[ci]:
            g.add(city.iri, RDF.type, iri(SCHEMA.City))
            g.add(city.iri, RDFS.label, lit(city.name, "fr"), lit(city.name, "en"))
            g.add(city.iri, GEO.lat, decimal(city.lat))
            g.add(city.iri, GEO.long, decimal(city.lon))
            g.add(city.iri, CG.within, world.regions[ci][city.region][0])
        yield g


def programme_graphs(world: World, batch: int = 100) -> Iterator[Graph]:
    """Programmes and calls for projects, ``batch`` of each per reference graph."""
    rng = random.Random(f"coopgraph-bench-{world.seed}-programmes")
    for start in range(0, len(world.programmes), batch):
        g = Graph(GRAPH[f"reference/{world.prefix}-programmes-{start // batch:04d}"])
        src = iri(ID[f"source/{world.prefix}-programmes-{start // batch:04d}"])
        _prov(g, "Programmes et appels générés", src, f"{world.prefix}-programmes.txt", None, None)
        for k in range(start, min(start + batch, len(world.programmes))):
            prog, call = world.programmes[k], world.calls[k]
            funder = rng.choice(world.funders)
            manager = rng.choice(world.managers)
            themes = rng.sample(THEMES, 3)
            first = rng.randint(2015, 2024)
            target = world.countries[rng.randrange(len(COUNTRIES))]
            title = THEME_FR[themes[0]]
            g.add(prog, RDF.type, iri(CG.Programme))
            g.add(prog, RDFS.label, lit(f"Programme {title} {first}-{first + 4} ({k})", "fr"),
                  lit(f"{themes[0].replace('-', ' ').title()} programme {first}-{first + 4}", "en"))
            g.add(prog, SCHEMA.funder, funder.iri)
            g.add(prog, CG.managingBody, manager.iri)
            g.add(prog, SCHEMA.startDate, typed(first, XSD.gYear))
            g.add(prog, SCHEMA.endDate, typed(first + 4, XSD.gYear))
            g.add(prog, CG.targetCountry, target)
            g.add(prog, CG.beneficiary, rng.choice(world.orgs).iri)
            g.add(prog, CG.theme, *(concept("theme", t) for t in themes),
                  concept("sdg", str(rng.randint(1, 17))))
            g.add(prog, SCHEMA.description, lit(
                f"Programme pluriannuel consacré à {title}, financé par {funder.name}.", "fr"))
            g.add(prog, DCTERMS.source, src)
            g.add(call, RDF.type, iri(CG.CallForProjects))
            g.add(call, RDFS.label, lit(f"Appel à projets {title} ({k})", "fr"),
                  lit(f"Call for projects {themes[0]} ({k})", "en"))
            g.add(call, SCHEMA.funder, funder.iri)
            g.add(call, CG.managingBody, funder.iri)
            g.add(call, CG.targetCountry, target)
            g.add(call, CG.conditions, lit(
                "Note d'intention puis dossier complet déposé avec le partenaire ; "
                f"cofinancement jusqu'à {rng.choice([50, 70, 80])} %.", "fr"))
            g.add(call, DCTERMS.source, src)
        yield g


def org_graph(world: World, org: Organisation, rng: random.Random, with_offer: bool) -> Graph:
    """The dossier of one organisation: identity, site, unit, partnerships, offer."""
    p = world.prefix
    g = Graph(GRAPH[f"entry/{p}-{org.n:07d}"])
    src = iri(ID[f"source/{p}-{org.n:07d}"])
    year = rng.randint(2019, 2025)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    _prov(g, f"Dossier de {org.name}", src, f"{p}-{org.n:07d}.txt", org.iri,
          date(year, month, day))
    o = org.iri
    c = COUNTRIES[org.country]
    region = world.regions[org.country][org.city.region][0]
    g.add(o, RDF.type, iri(org.cls))
    g.add(o, RDFS.label, lit(org.name, "fr"), lit(org.name, "en"))
    if rng.random() < 0.4:
        g.add(o, SKOS.altLabel, lit("".join(w[0] for w in org.name.split() if w[0].isalpha())
                                    .upper(), "fr"))
    jurisdiction = {
        "state": world.countries[org.country], "agency": world.countries[org.country],
        "region": region, "department": region, "intermunicipality": region, "egtc": region,
        "network": region, "io": iri(ID["place/europe"]),
    }.get(org.kind, org.city.iri)
    g.add(o, CG.jurisdiction, jurisdiction)
    g.add(o, SCHEMA.url, iri(f"https://{p}-{org.n}.example.org/"))
    g.add(o, CG.theme, *(concept("theme", t) for t in rng.sample(THEMES, 2)))
    g.add(o, SCHEMA.foundingDate, typed(rng.randint(1950, 2020), XSD.gYear))
    if org.kind == "commune":
        g.add(o, CG.population, integer(rng.randint(800, 900_000)))
    elif org.kind in ("network", "egtc", "participatory"):
        g.add(o, CG.memberCount, integer(rng.randint(5, 200)))
    site = iri(ID[f"site/{p}-{org.n:07d}"])
    address = iri(ID[f"site/{p}-{org.n:07d}-address"])
    street = f"{rng.randint(1, 180)} {rng.choice(STREETS)}"
    postcode = f"{rng.randint(1000, 98999):05d}"
    g.add(o, ORG.hasRegisteredSite, site)
    g.add(site, RDF.type, iri(ORG.Site), iri(SCHEMA.Place))
    g.add(site, RDFS.label, lit(f"Siège de {org.name}", "fr"))
    g.add(site, ORG.siteAddress, address)
    g.add(site, CG.within, org.city.iri)
    g.add(address, RDF.type, iri(SCHEMA.PostalAddress))
    g.add(address, RDFS.label, lit(f"{street}, {postcode} {org.city.name}", "fr"))
    g.add(address, SCHEMA.streetAddress, lit(street))
    g.add(address, SCHEMA.postalCode, lit(postcode))
    g.add(address, SCHEMA.addressLocality, lit(org.city.name))
    g.add(address, SCHEMA.addressCountry, lit(c[1]))
    unit = None
    if org.kind in AUTHORITY_KINDS or org.kind in ("agency", "egtc"):
        unit = iri(ID[f"org/{p}-{org.n:07d}-ri"])
        g.add(o, ORG.hasSubOrganization, unit)
        g.add(unit, RDF.type, iri(ORG.OrganizationalUnit))
        g.add(unit, RDFS.label, lit(f"Service des relations internationales – {org.name}", "fr"),
              lit(f"International relations department – {org.name}", "en"))
        g.add(unit, SCHEMA.description, lit(
            "Conduit les projets de coopération et les partenariats internationaux.", "fr"))

    # partnerships: one or two, with organisations anywhere in the world
    for k in range(1 if rng.random() < 0.6 else 2):
        other = world.orgs[rng.randrange(len(world.orgs))]
        if other.n == org.n:
            other = world.orgs[(org.n + 1) % len(world.orgs)]
        if other.n == org.n:
            break
        ptype = ("twinning" if org.kind == other.kind == "commune"
                 else "cross-border-grouping-membership" if "egtc" in (org.kind, other.kind)
                 else rng.choice(["cooperation-agreement", "friendship-pact",
                                  "programme-partnership", "institutional-partnership"]))
        pship = iri(ID[f"partnership/{p}-{org.n:07d}-{k}"])
        themes = rng.sample(THEMES, 3)
        g.add(o, CG.partnerOf, other.iri)
        g.add(pship, RDF.type, iri(CG.Partnership))
        g.add(pship, RDFS.label, lit(f"Partenariat {org.name} – {other.name}", "fr"),
              lit(f"{org.name} – {other.name} partnership", "en"))
        g.add(pship, CG.partner, o, other.iri)
        g.add(pship, CG.partnershipType, concept("partnership-type", ptype))
        start = rng.randint(1990, 2024)
        g.add(pship, CG.signedYear, typed(start, XSD.gYear))
        g.add(pship, SCHEMA.startDate, typed(start, XSD.gYear))
        if rng.random() < 0.3:
            g.add(pship, SCHEMA.endDate, typed(start + rng.randint(2, 6), XSD.gYear))
        g.add(pship, CG.theme, *(concept("theme", t) for t in themes),
              concept("sdg", str(rng.randint(1, 17))))
        if ptype == "programme-partnership":
            g.add(pship, CG.programme, rng.choice(world.programmes))
        g.add(pship, SCHEMA.description, lit(
            f"Coopération autour de {THEME_FR[themes[0]]} et {THEME_FR[themes[1]]}.", "fr"))
        g.add(pship, DCTERMS.source, src)
    if with_offer:
        _offer(g, world, org, rng, src, unit, site, (year, month, day))
    return g


def _offer(g: Graph, world: World, org: Organisation, rng: random.Random, src: str,
           unit: str | None, site: str, posted: tuple[int, int, int]) -> None:
    p = world.prefix
    base = ID[f"offer/{p}-{org.n:07d}"]
    offer = iri(base)

    def part(name: str) -> str:
        return iri(f"{base}#{name}")

    theme = rng.choice(THEMES)
    title = rng.choice(JOB_TITLES).format(t=THEME_FR[theme])
    year, month, day = posted
    abroad = rng.random() < 0.35
    station_place = rng.choice(world.cities) if abroad else org.city
    station = station_place.iri
    ctype = ("vsi" if abroad and rng.random() < 0.5 else
             rng.choice(["cdi", "cdd", "civil-servant", "contract-agent"])
             if org.kind in AUTHORITY_KINDS else rng.choice(["cdi", "cdd", "service-agreement"]))
    g.add(offer, RDF.type, iri(SCHEMA.JobPosting))
    g.add(offer, RDFS.label, lit(f"{title} ({org.name})", "fr"))
    g.add(offer, SCHEMA["title"], lit(title, "fr"))
    g.add(offer, SCHEMA.identifier, lit(f"G{org.n:07d}"))
    g.add(offer, SCHEMA.hiringOrganization, org.iri)
    if unit:
        g.add(offer, CG.supervisingUnit, unit)
    if ctype == "vsi":
        g.add(offer, CG.intermediary, rng.choice(world.managers).iri)
    g.add(offer, SCHEMA.jobLocation, station)
    g.add(offer, CG.dutyStation, station)
    if not abroad:
        g.add(offer, CG.office, site)
    g.add(offer, DCTERMS.source, src)
    g.add(offer, SCHEMA.datePosted, date(year, month, day))
    valid = (year + (month == 12), month % 12 + 1, day)
    g.add(offer, SCHEMA.validThrough, date(*valid))
    g.add(offer, SCHEMA.jobStartDate, date(valid[0] + (valid[1] >= 11), (valid[1] + 1) % 12 + 1, 1))
    g.add(offer, CG.contractType, concept("contract-type", ctype))
    if ctype in ("cdd", "vsi", "service-agreement"):
        g.add(offer, CG.duration, typed(f"P{rng.choice([6, 12, 24, 36])}M", XSD.duration))
        g.add(offer, CG.renewable, typed("true" if rng.random() < 0.5 else "false", XSD.boolean))
    if ctype in ("civil-servant", "contract-agent"):
        g.add(offer, CG.grade, concept("grade", rng.choice(GRADES)))
        g.add(offer, CG.contractOption, part("option"))
        g.add(part("option"), RDF.type, iri(CG.ContractOption))
        g.add(part("option"), RDFS.label, lit("Contractuel : un an renouvelable", "fr"))
        g.add(part("option"), CG.contractType, concept("contract-type", "contract-agent"))
        g.add(part("option"), CG.duration, typed("P1Y", XSD.duration))
    full = rng.random() < 0.8
    g.add(offer, SCHEMA.employmentType, lit("VOLUNTEER" if ctype == "vsi" else
                                            "FULL_TIME" if full else "PART_TIME"))
    g.add(offer, CG.timeFraction, decimal(1.0 if full else 0.5, 3))
    g.add(offer, CG.weeklyHours, decimal(35.0 if full else 17.5, 1))
    g.add(offer, CG.partialTelework, typed("true" if rng.random() < 0.5 else "false", XSD.boolean))
    g.add(offer, CG.payNature, concept("pay-nature", "allowance" if ctype == "vsi" else "salary"))
    salary = part("salary")
    value = part("salary-value")
    low = rng.randrange(22_000, 40_000, 500)
    g.add(offer, SCHEMA.baseSalary, salary)
    g.add(salary, RDF.type, iri(SCHEMA.MonetaryAmount))
    g.add(salary, RDFS.label, lit(f"{low} à {low + 6000} euros bruts annuels", "fr"))
    g.add(salary, SCHEMA.currency, lit("EUR"))
    g.add(salary, SCHEMA.value, value)
    g.add(salary, CG.grossOrNet, concept("pay-basis", "gross"))
    g.add(value, RDF.type, iri(SCHEMA.QuantitativeValue))
    g.add(value, SCHEMA.minValue, integer(low))
    g.add(value, SCHEMA.maxValue, integer(low + 6000))
    g.add(value, SCHEMA.unitText, lit("YEAR"))
    g.add(offer, SCHEMA.occupationalCategory, concept("job-family", rng.choice(JOB_FAMILIES)))
    g.add(offer, SCHEMA.description, lit(
        f"{org.name} recrute un·e {title.lower()} pour conduire ses projets de "
        f"{THEME_FR[theme]} avec ses partenaires.", "fr"))
    g.add(offer, SCHEMA.responsibilities, lit(
        f"Mise en œuvre, suivi et coordination des projets de {THEME_FR[theme]}.", "fr"))
    g.add(offer, CG.activity, *(lit(a, "fr") for a in rng.sample(ACTIVITIES, 3)))
    g.add(offer, SCHEMA.jobBenefits, lit(rng.choice(BENEFITS), "fr"))
    g.add(offer, CG.programme, rng.choice(world.programmes))
    g.add(offer, CG.answersCall, rng.choice(world.calls))
    g.add(offer, CG.theme, concept("theme", theme),
          *(concept("theme", t) for t in rng.sample([t for t in THEMES if t != theme], 2)))
    g.add(offer, SCHEMA.skills, *(concept("skill", s) for s in rng.sample(SKILLS, 6)))
    education = part("education")
    g.add(offer, SCHEMA.educationRequirements, education)
    g.add(education, RDF.type, iri(SCHEMA.EducationalOccupationalCredential))
    g.add(education, SCHEMA.credentialCategory, lit("Master ou équivalent", "fr"))
    g.add(education, SCHEMA.educationalLevel, concept("education-level", rng.choice(EDUCATION)))
    experience = part("experience")
    g.add(offer, SCHEMA.experienceRequirements, experience)
    g.add(experience, RDF.type, iri(SCHEMA.OccupationalExperienceRequirements))
    g.add(experience, SCHEMA.monthsOfExperience, integer(rng.choice([12, 24, 36, 60])))
    g.add(experience, SCHEMA.description, lit(
        f"Expérience en gestion de projets de {THEME_FR[theme]}.", "fr"))
    g.add(experience, CG.requirementLevel, iri(CG.Required))
    for code, fr, en in rng.sample(LANGUAGES[1:], 1) + [LANGUAGES[0]]:
        lang = part(f"lang-{code}")
        preferred = code != "fr" and rng.random() < 0.5
        g.add(offer, CG.requiresLanguage, lang)
        g.add(lang, RDF.type, iri(CG.LanguageRequirement))
        g.add(lang, RDFS.label, lit(f"{fr} ({'un plus' if preferred else 'exigé'})", "fr"),
              lit(f"{en} ({'an asset' if preferred else 'required'})", "en"))
        g.add(lang, CG.language, typed(code, XSD.language))
        g.add(lang, CG.requirementLevel, iri(CG.Preferred if preferred else CG.Required))
        if code != "fr":
            g.add(lang, CG.cefrLevel, concept("cefr", rng.choice(CEFR[2:])))
    if ctype == "vsi":
        restriction = part("eligibility")
        g.add(offer, CG.eligibilityRestriction, restriction)
        g.add(restriction, RDF.type, iri(CG.EligibilityRestriction))
        g.add(restriction, SCHEMA.description, lit(
            "Les ressortissants du pays d'affectation ne peuvent pas candidater.", "fr"))
        g.add(restriction, CG.excludedNationality, world.countries[station_place.country])
    contact = part("contact")
    g.add(offer, SCHEMA.applicationContact, contact)
    g.add(contact, RDF.type, iri(SCHEMA.ContactPoint))
    g.add(contact, SCHEMA.email, lit(f"recrutement@{p}-{org.n}.example.org"))
    g.add(contact, SCHEMA.contactType, lit("candidatures", "fr"))
    g.add(offer, CG.applicationInstructions, lit(
        f"CV et lettre de motivation par e-mail avant le {valid[2]:02d}/{valid[1]:02d}/"
        f"{valid[0]}.", "fr"))
    g.add(offer, CG.selectionProcess, lit("Entretien avec un jury.", "fr"))


#: share of organisations with an offer in their dossier (tuned for ~100 triples/org)
OFFER_SHARE = 0.55


def graphs(orgs: int, seed: int = 1) -> Iterator[Graph]:
    """Every graph of the generated dataset, in a stable order."""
    world = World(orgs, seed)
    yield from place_graphs(world)
    yield from programme_graphs(world)
    for org in world.orgs:
        rng = random.Random(f"coopgraph-bench-{seed}-org-{org.n}")
        yield org_graph(world, org, rng, with_offer=rng.random() < OFFER_SHARE)


def entry_nquads(orgs: int, seed: int, k: int, world: World | None = None) -> str:
    """One new offer entry (~30–60 triples) for the generated world, as N-Quads.

    Its graph is ``cgg:entry/bench-<k>``; it points at existing generated organisations,
    places, programmes and calls (the store must hold ``graphs(orgs, seed)``), so it is
    what a member of staff would add to the grown graph.
    """
    world = world or World(orgs, seed)
    rng = random.Random(f"coopgraph-bench-{seed}-entry-{k}")
    org = world.orgs[rng.randrange(len(world.orgs))]
    g = Graph(GRAPH[f"entry/bench-{k}"])
    src = iri(ID[f"source/bench-{k}"])
    _prov(g, f"Nouvelle offre {k}", src, f"bench-{k}.txt", org.iri, date(2025, 1, 15))
    prefix, world.prefix = world.prefix, f"bench-{k}"  # new offer and sub-node IRIs
    try:
        _offer(g, world, org, rng, src, None, iri(ID[f"site/{prefix}-{org.n:07d}"]),
               (2025, 1, 15))
    finally:
        world.prefix = prefix
    out = "".join(f"{line} {iri(g.name)} .\n" for line in g.lines)
    return out


def write(out: TextIO, orgs: int, seed: int, trig: bool) -> int:
    """Write the dataset to ``out``; return the number of triples."""
    total = 0
    for g in graphs(orgs, seed):
        total += g.write(out, trig)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, required=True, help="number of organisations")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", default="-", help="FILE.nq or FILE.trig (default: N-Quads "
                        "on stdout)")
    args = parser.parse_args(argv)
    if args.orgs < 1:
        parser.error("--orgs must be at least 1")
    trig = args.out.endswith(".trig")
    if args.out == "-":
        total = write(sys.stdout, args.orgs, args.seed, False)
    else:
        with Path(args.out).open("w", encoding="utf-8", newline="\n") as out:
            total = write(out, args.orgs, args.seed, trig)
    print(f"{total} triples, {args.orgs} organisations, seed {args.seed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
