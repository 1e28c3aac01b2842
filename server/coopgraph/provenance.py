"""PROV-O records for every graph written: the activity log in ``cgg:provenance``.

Each load, add, replace or remove appends one ``prov:Activity`` (never rewritten), so the
change feed and "where does this come from?" can be answered from the store alone.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pyoxigraph as ox

from coopgraph.vocab import CG, DCTERMS, ID, PROV, PROVENANCE_GRAPH, RDF, RDFS, XSD

#: Activity kinds (own classes, declared in the ontology as subclasses of prov:Activity).
ADDED, REPLACED, REMOVED, LOADED = "EntryAddition", "EntryReplacement", "EntryRemoval", "Load"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def digest(data: bytes) -> str:
    """sha256 hex digest of a source document, recorded to detect changed files."""
    return hashlib.sha256(data).hexdigest()


def _lit(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


def agent_iri(name: str) -> ox.NamedNode:
    """The prov:Agent for a named token (``alice``) or the loader (``coopgraph``)."""
    return ox.NamedNode(ID["agent/" + name])


def activity(
    kind: str,
    graph: str,
    *,
    agent: str,
    used: str | None = None,
    source_digest: str | None = None,
    comment: str | None = None,
    when: datetime | None = None,
) -> list[ox.Quad]:
    """The quads recording one write of ``graph``.

    :param kind: one of ADDED, REPLACED, REMOVED, LOADED.
    :param graph: the named graph written or removed.
    :param agent: token name or ``coopgraph`` for the loader.
    :param used: where the content came from (file name, ``HTTP POST /entries``).
    :param source_digest: sha256 of the source bytes.
    """
    when = when or now()
    a = ox.NamedNode(ID["activity/" + uuid.uuid4().hex])
    g = ox.NamedNode(PROVENANCE_GRAPH)
    target = ox.NamedNode(graph)
    stamp = _lit(when.isoformat().replace("+00:00", "Z"), XSD.dateTime)
    who = agent_iri(agent)
    quads = [
        ox.Quad(a, ox.NamedNode(RDF.type), ox.NamedNode(PROV.Activity), g),
        ox.Quad(a, ox.NamedNode(RDF.type), ox.NamedNode(CG[kind]), g),
        ox.Quad(a, ox.NamedNode(PROV.startedAtTime), stamp, g),
        ox.Quad(a, ox.NamedNode(PROV.endedAtTime), stamp, g),
        ox.Quad(a, ox.NamedNode(PROV.wasAssociatedWith), who, g),
        ox.Quad(who, ox.NamedNode(RDF.type), ox.NamedNode(PROV.Agent), g),
        ox.Quad(who, ox.NamedNode(RDFS.label), ox.Literal(agent), g),
    ]
    if kind == REMOVED:
        quads.append(ox.Quad(a, ox.NamedNode(PROV.invalidated), target, g))
    else:
        quads += [
            ox.Quad(a, ox.NamedNode(PROV.generated), target, g),
            ox.Quad(target, ox.NamedNode(PROV.wasGeneratedBy), a, g),
            ox.Quad(target, ox.NamedNode(PROV.generatedAtTime), stamp, g),
            ox.Quad(target, ox.NamedNode(PROV.wasAttributedTo), who, g),
        ]
    if used:
        quads.append(ox.Quad(a, ox.NamedNode(PROV.used), _lit(used), g))
    if source_digest:
        quads.append(ox.Quad(a, ox.NamedNode(CG.sourceDigest), _lit(source_digest), g))
    if comment:
        quads.append(ox.Quad(a, ox.NamedNode(RDFS.comment), _lit(comment), g))
    return quads


def current_generation_quads(graph: str) -> str:
    """SPARQL update deleting the "current version" triples of ``graph`` (kept: activities)."""
    return (
        f"DELETE {{ GRAPH <{PROVENANCE_GRAPH}> {{ <{graph}> ?p ?o }} }} "
        f"WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ <{graph}> ?p ?o "
        f"FILTER(?p IN (<{PROV.wasGeneratedBy}>, <{PROV.generatedAtTime}>, "
        f"<{PROV.wasAttributedTo}>, <{DCTERMS.modified}>)) }} }}"
    )
