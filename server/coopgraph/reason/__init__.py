"""The reasoner: owlrl closes the ontology, one Python engine fills ``cgg:inferred``.

Two levels, because owlrl's whole-graph closure is far too slow for the data (≈7 s at 10k
triples, 69 s at 100k on the dev machine):

1. **TBox** (:mod:`~coopgraph.reason.tbox`) — the ontology graph (``cgg:ontology``) is
   closed with owlrl (OWL 2 RL); we keep the schema facts the ABox rules need:
   ``rdfs:subClassOf`` / ``rdfs:subPropertyOf`` pairs (transitive, equivalences as two
   subsumptions), ``rdfs:domain`` / ``rdfs:range`` (inherited along sub-properties and
   super-classes), ``owl:inverseOf`` (both directions), ``owl:SymmetricProperty`` and
   ``owl:TransitiveProperty``. Cached per ontology content, in memory and on disk.
2. **ABox** (:mod:`~coopgraph.reason.closure`) — one engine: the seven rules evaluated
   semi-naively in Python over N-Triples keys. It rebuilds the inferred graph
   (:meth:`Reasoner.materialise`: one read, one write) and closes the neighbourhood of a
   write (:mod:`~coopgraph.reason.delta`: bound reads before the write, the diff written
   in the same transaction). A triple asserted in some graph is never kept in
   ``cgg:inferred``, which holds only new facts.

Explanations (:mod:`~coopgraph.reason.explain`) walk the same rules backwards.

Rule ids: ``rdfs9-subclass``, ``rdfs7-subproperty``, ``rdfs2-domain``, ``rdfs3-range``,
``owl-inverse``, ``owl-symmetric``, ``owl-transitive`` (OWL 2 RL ``cax-sco``, ``prp-spo1``,
``prp-dom``, ``prp-rng``, ``prp-inv1/2``, ``prp-symp``, ``prp-trp``).

Blank nodes are never special-cased: entries and project files are skolemised when they
are parsed (:func:`coopgraph.parse.skolemise`), so every node a write touches is an IRI
that a bound read can name.

Deliberately not covered:

- ``owl:sameAs``: the data uses it only to link our places and organisations to Wikidata
  items (external identifiers). Propagating every property across those links
  (``eq-rep-*``) would copy our facts onto foreign IRIs, so sameAs is treated like
  ``skos:exactMatch``: no inference at all.
- ``owl:Thing`` / ``rdfs:Resource`` typing and facts about RDF/RDFS/OWL/XSD terms (the
  axiomatic part of OWL RL): they tell nobody anything.
- Rules that only check consistency (disjointness, cardinality ≤ 1, …): SHACL does that.
"""

from __future__ import annotations

from coopgraph.reason.closure import closure
from coopgraph.reason.delta import HUB_LIMIT, MIDDLE_LIMIT, Delta, inference_delta
from coopgraph.reason.explain import Explanation, Premise
from coopgraph.reason.reasoner import Reasoner, ReasoningStats
from coopgraph.reason.tbox import RULES, TBox, ontology_tbox, property_reach, tbox_from_triples

__all__ = [
    "HUB_LIMIT",
    "MIDDLE_LIMIT",
    "RULES",
    "Delta",
    "Explanation",
    "Premise",
    "Reasoner",
    "ReasoningStats",
    "TBox",
    "closure",
    "inference_delta",
    "ontology_tbox",
    "property_reach",
    "tbox_from_triples",
]
