"""Namespaces, prefixes and the few IRIs the code needs; no IRI literals elsewhere.

Every namespace here is a :class:`NS`: ``CG["Partnership"]`` / ``CG.Partnership`` give the
IRI string, ``CG.node("Partnership")`` the pyoxigraph ``NamedNode``.

>>> CG.Partnership
'https://w3id.org/coopgraph/ontology#Partnership'
>>> GRAPH.inferred
'https://w3id.org/coopgraph/graph/inferred'
"""

from __future__ import annotations

import pyoxigraph as ox

from coopgraph.errors import BadRequest


class NS(str):
    """A namespace IRI; attribute or item access appends a local name."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return str(self) + name

    def __getitem__(self, name: str) -> str:  # type: ignore[override]
        return str(self) + name

    def node(self, name: str = "") -> ox.NamedNode:
        return ox.NamedNode(str(self) + name)


BASE = "https://w3id.org/coopgraph/"
CG = NS(BASE + "ontology#")
ONTOLOGY_IRI = BASE + "ontology"
ID = NS(BASE + "id/")
GRAPH = NS(BASE + "graph/")
SHAPES = NS(BASE + "shapes#")

RDF = NS("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = NS("http://www.w3.org/2000/01/rdf-schema#")
OWL = NS("http://www.w3.org/2002/07/owl#")
XSD = NS("http://www.w3.org/2001/XMLSchema#")
SKOS = NS("http://www.w3.org/2004/02/skos/core#")
PROV = NS("http://www.w3.org/ns/prov#")
DCTERMS = NS("http://purl.org/dc/terms/")
DCAT = NS("http://www.w3.org/ns/dcat#")
VOID = NS("http://rdfs.org/ns/void#")
FOAF = NS("http://xmlns.com/foaf/0.1/")
ORG = NS("http://www.w3.org/ns/org#")
SCHEMA = NS("http://schema.org/")
SH = NS("http://www.w3.org/ns/shacl#")
GEO = NS("http://www.w3.org/2003/01/geo/wgs84_pos#")
GEOSPARQL = NS("http://www.opengis.net/ont/geosparql#")
SD = NS("http://www.w3.org/ns/sparql-service-description#")

#: Prefixes offered to every query (the SPARQL editor, `coopgraph query`) and used by serialisers.
PREFIXES: dict[str, str] = {
    "cg": str(CG),
    "cgid": str(ID),
    "cgg": str(GRAPH),
    "cgsh": str(SHAPES),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "dcat": str(DCAT),
    "void": str(VOID),
    "foaf": str(FOAF),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "sh": str(SH),
    "geo": str(GEO),
}

#: Prefixes for RDF output: the vocabularies plus one per kind of minted IRI (as in the
#: data files, docs/conventions.md), so Turtle reads ``place:oujda``, not ``cgid:place\/oujda``.
RDF_PREFIXES: dict[str, str] = {
    **PREFIXES,
    **{
        prefix: str(ID) + path
        for prefix, path in (
            ("place", "place/"), ("orgid", "org/"), ("site", "site/"), ("post", "post/"),
            ("prog", "programme/"), ("call", "call/"), ("pship", "partnership/"),
            ("offer", "offer/"), ("src", "source/"), ("scheme", "scheme/"),
            ("theme", "concept/theme/"), ("sdg", "concept/sdg/"), ("skill", "concept/skill/"),
        )
    },
    "cggs": str(GRAPH) + "seed/",
    "cggr": str(GRAPH) + "reference/",
    "cgga": str(GRAPH) + "added/",
}

#: Graph names that code (not staff) writes.
INFERRED_GRAPH = GRAPH.inferred
PROVENANCE_GRAPH = GRAPH.provenance
ONTOLOGY_GRAPH = GRAPH.ontology
SHAPES_GRAPH = GRAPH.shapes
ENTRY_GRAPH_PREFIX = GRAPH["entry/"]


def sparql_prefixes() -> str:
    """The PREFIXES as a SPARQL prologue, for queries written by the code."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def compact(iri: str) -> str:
    """``https://w3id.org/coopgraph/id/org/x`` → ``cgid:org/x`` with the longest known
    namespace; the IRI itself when none fits. (Here, not in validate.py, so that
    ``coopgraph lookup`` does not import pyshacl and rdflib.)

    >>> compact("https://w3id.org/coopgraph/id/org/x")
    'cgid:org/x'
    """
    best, name = "", ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, name = ns, prefix
    return f"{name}:{iri[len(best) :]}" if best else iri


def expand(term: str) -> str:
    """A compact IRI (``cgid:place/oujda``), ``<iri>`` or full IRI → the full IRI.

    ``a`` stands for ``rdf:type``, as in Turtle and SPARQL.

    >>> expand("cg:within")
    'https://w3id.org/coopgraph/ontology#within'
    >>> expand("<http://example.org/x>")
    'http://example.org/x'

    :raises BadRequest: an unknown prefix or something that is not an IRI.
    """
    term = term.strip()
    if term == "a":
        return PREFIXES["rdf"] + "type"
    if term.startswith("<") and term.endswith(">"):
        iri = term[1:-1]
    else:
        prefix, sep, local = term.partition(":")
        if not sep:
            raise BadRequest(f"{term!r} is not an IRI: write prefix:name or <full IRI>")
        if prefix in PREFIXES and not local.startswith("//"):
            iri = PREFIXES[prefix] + local
        elif local.startswith("//") or prefix == "urn":
            iri = term
        else:
            known = ", ".join(sorted(PREFIXES))
            raise BadRequest(f"unknown prefix {prefix!r} in {term!r}; known prefixes: {known}")
    try:
        return ox.NamedNode(iri).value
    except ValueError as exc:
        raise BadRequest(f"{term!r} is not a valid IRI: {exc}") from None
