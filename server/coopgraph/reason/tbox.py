"""The TBox: the ontology closed with owlrl, reduced to what the seven ABox rules need.

owlrl's OWL 2 RL closure of the ontology takes seconds, so it is computed once per
ontology *content*: kept in memory per process and, when a cache folder is given (the
server passes ``Settings.cache_dir``), on disk as JSON named by the content's sha256, so
that ``coopgraph serve`` starts without running owlrl again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from coopgraph.store.base import Store
from coopgraph.vocab import ONTOLOGY_GRAPH, OWL, RDF, RDFS, XSD

if TYPE_CHECKING:
    import rdflib

__all__ = ["RULES", "TBox", "ontology_tbox", "owlrl_expand", "property_reach", "tbox_from_triples"]

log = logging.getLogger(__name__)

#: Rule id → (label fr, label en). OWL 2 RL names: ``cax-sco``, ``prp-spo1``, ``prp-dom``,
#: ``prp-rng``, ``prp-inv1/2``, ``prp-symp``, ``prp-trp``.
RULES: dict[str, tuple[str, str]] = {
    "rdfs9-subclass": (
        "sous-classe : une instance de la sous-classe est une instance de la super-classe",
        "subclass: an instance of a subclass is an instance of its superclass",
    ),
    "rdfs7-subproperty": (
        "sous-propriété : une relation implique sa super-propriété",
        "sub-property: a statement implies the same statement with the super-property",
    ),
    "rdfs2-domain": (
        "domaine : le sujet d'une propriété est une instance de son domaine",
        "domain: the subject of a property is an instance of its domain",
    ),
    "rdfs3-range": (
        "portée : l'objet d'une propriété est une instance de sa portée",
        "range: the object of a property is an instance of its range",
    ),
    "owl-inverse": (
        "propriété inverse : la relation vaut aussi dans l'autre sens avec l'inverse",
        "inverse property: the relation also holds the other way round with the inverse",
    ),
    "owl-symmetric": (
        "propriété symétrique : la relation vaut dans les deux sens",
        "symmetric property: the relation holds both ways",
    ),
    "owl-transitive": (
        "propriété transitive : a→b et b→c donnent a→c",
        "transitive property: a→b and b→c give a→c",
    ),
}

TYPE = RDF.type
_META_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))
#: Properties that state schema, not facts: never premises or conclusions of ABox rules.
#: Annotation properties of RDFS (``rdfs:label``, ``rdfs:comment``…) are facts and stay.
_SCHEMA_PROPERTIES = frozenset(
    {TYPE, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, RDF.first, RDF.rest}
)


def is_meta(iri: str) -> bool:
    """A term of the RDF/RDFS/OWL/XSD vocabularies (``owl:Thing``, ``rdfs:Class``…)."""
    return iri.startswith(_META_NAMESPACES)


def _is_meta_property(iri: str) -> bool:
    return iri in _SCHEMA_PROPERTIES or iri.startswith(str(OWL))


@dataclass(frozen=True)
class TBox:
    """The schema closure the ABox rules follow (IRIs as strings)."""

    sub_classes: frozenset[tuple[str, str]] = frozenset()
    sub_properties: frozenset[tuple[str, str]] = frozenset()
    domains: frozenset[tuple[str, str]] = frozenset()
    ranges: frozenset[tuple[str, str]] = frozenset()
    #: (p, q): every ``x p y`` gives ``y q x`` (both directions of each owl:inverseOf)
    inverses: frozenset[tuple[str, str]] = frozenset()
    symmetric: frozenset[str] = frozenset()
    transitive: frozenset[str] = frozenset()
    #: every class or property IRI the TBox mentions (not "nodes" of the ABox)
    terms: frozenset[str] = frozenset()

    def axioms(self) -> dict[str, list[tuple[str, str, str]]]:
        """The TBox as triples, grouped by rule id (for ``explain`` and docs)."""
        return {
            "rdfs9-subclass": [(c, RDFS.subClassOf, d) for c, d in sorted(self.sub_classes)],
            "rdfs7-subproperty": [
                (p, RDFS.subPropertyOf, q) for p, q in sorted(self.sub_properties)
            ],
            "rdfs2-domain": [(p, RDFS.domain, c) for p, c in sorted(self.domains)],
            "rdfs3-range": [(p, RDFS.range, c) for p, c in sorted(self.ranges)],
            "owl-inverse": [(p, OWL.inverseOf, q) for p, q in sorted(self.inverses)],
            "owl-symmetric": [(p, TYPE, OWL.SymmetricProperty) for p in sorted(self.symmetric)],
            "owl-transitive": [
                (p, TYPE, OWL.TransitiveProperty) for p in sorted(self.transitive)
            ],
        }

    def composed(self) -> list[str]:
        """The transitive properties to compose: one of each pair of transitive inverses
        (the other's closure follows through the inverse axiom)."""
        chosen: list[str] = []
        for p in sorted(self.transitive):
            if not any((p, q) in self.inverses for q in chosen):
                chosen.append(p)
        return chosen

    def to_json(self) -> str:
        return json.dumps({f.name: sorted(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def from_json(cls, text: str) -> TBox:
        data = json.loads(text)
        values = {
            f.name: frozenset(tuple(x) if isinstance(x, list) else x for x in data[f.name])
            for f in fields(cls)
        }
        return cls(**values)  # type: ignore[arg-type]


def owlrl_expand(graph: rdflib.Graph) -> None:
    """Close ``graph`` in place with owlrl's OWL 2 RL rules, leaving rdflib as it was.

    owlrl swaps rdflib's literal conversions for its own while it runs and puts back
    only some of them (xsd:gYear literals got a str value for good): literals built
    afterwards compared and serialised differently from those built before
    (validation, pyshacl, the remote store's writes). Every owlrl run in the project,
    the tests' oracle included, goes through here.
    """
    import owlrl
    from rdflib.term import _toPythonMapping

    conversions = dict(_toPythonMapping)
    try:
        owlrl.DeductiveClosure(
            owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False
        ).expand(graph)
    finally:
        _toPythonMapping.clear()
        _toPythonMapping.update(conversions)


def tbox_from_triples(triples: Iterable[ox.Triple]) -> TBox:
    """Close ontology triples with owlrl (OWL 2 RL) and keep what the ABox rules need.

    :param triples: the ontology (``cgg:ontology``) as pyoxigraph triples.
    :returns: the :class:`TBox`; meta-vocabulary (RDF/RDFS/OWL/XSD) classes and
        properties, ``owl:Thing``, blank-node classes and reflexive pairs are left out.
    """
    import rdflib

    triples = list(triples)
    graph = rdflib.Graph()
    if triples:
        nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        graph.parse(data=nt, format="nt")
    owlrl_expand(graph)

    def pairs(predicate: str, meta: Callable[[str], bool]) -> set[tuple[str, str]]:
        out = set()
        for s, o in graph.subject_objects(rdflib.URIRef(predicate)):
            if isinstance(s, rdflib.URIRef) and isinstance(o, rdflib.URIRef) and s != o:
                if not meta(str(s)) and not meta(str(o)):
                    out.add((str(s), str(o)))
        return out

    def property_class(predicate: str) -> set[tuple[str, str]]:
        return {
            (p, c)
            for p, c in pairs(predicate, lambda _: False)
            if not _is_meta_property(p) and not is_meta(c)
        }

    def typed(cls: str) -> set[str]:
        return {
            str(s)
            for s in graph.subjects(rdflib.URIRef(TYPE), rdflib.URIRef(cls))
            if isinstance(s, rdflib.URIRef) and not _is_meta_property(str(s))
        }

    inverses = pairs(OWL.inverseOf, _is_meta_property)
    inverses |= {(q, p) for p, q in inverses}
    # A symmetric property is its own inverse: owlrl records that as p inverseOf p.
    inverses = {(p, q) for p, q in inverses if p != q}
    sub_classes = pairs(RDFS.subClassOf, is_meta)
    sub_properties = pairs(RDFS.subPropertyOf, _is_meta_property)
    domains = property_class(RDFS.domain)
    ranges = property_class(RDFS.range)
    symmetric = typed(OWL.SymmetricProperty)
    transitive = typed(OWL.TransitiveProperty)
    terms: set[str] = set(symmetric | transitive)
    for pair_set in (sub_classes, sub_properties, domains, ranges, inverses):
        for a, b in pair_set:
            terms.update((a, b))
    return TBox(
        sub_classes=frozenset(sub_classes),
        sub_properties=frozenset(sub_properties),
        domains=frozenset(domains),
        ranges=frozenset(ranges),
        inverses=frozenset(inverses),
        symmetric=frozenset(symmetric),
        transitive=frozenset(transitive),
        terms=frozenset(terms),
    )


_CACHE: dict[str, TBox] = {}
_LOCK = threading.Lock()


def ontology_tbox(store: Store, cache_dir: Path | None = None) -> TBox:
    """The TBox of the store's ``cgg:ontology`` graph, from a cache when its content was
    closed before (in this process, or in ``cache_dir`` by an earlier one).

    A cache file that cannot be read or written is ignored (logged): owlrl runs instead.
    """
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads(ONTOLOGY_GRAPH)]
    key = hashlib.sha256("\n".join(sorted(str(t) for t in triples)).encode()).hexdigest()
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    path = cache_dir / f"tbox-{key[:32]}.json" if cache_dir is not None else None
    tbox = None
    if path is not None and path.is_file():
        try:
            tbox = TBox.from_json(path.read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable TBox cache %s: %s", path, exc)
    if tbox is None:
        tbox = tbox_from_triples(triples)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(tbox.to_json(), "utf-8")
                tmp.replace(path)
            except OSError as exc:
                log.warning("cannot write the TBox cache %s: %s", path, exc)
    with _LOCK:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = tbox
    return tbox


def property_reach(tbox: TBox, start: str) -> set[tuple[str, bool]]:
    """Every ``(q, flipped)`` reached from ``(start, False)`` through sub-property, inverse
    (which flips) and symmetric axioms, ``(start, False)`` included: ``x start y``
    entails ``x q y`` (``y q x`` when flipped)."""
    seen = {(start, False)}
    todo = [(start, False)]
    while todo:
        prop, flipped = todo.pop()
        nxt = [(q, flipped) for p, q in tbox.sub_properties if p == prop]
        nxt += [(q, not flipped) for p, q in tbox.inverses if p == prop]
        if prop in tbox.symmetric:
            nxt.append((prop, not flipped))
        for item in nxt:
            if item not in seen:
                seen.add(item)
                todo.append(item)
    return seen
