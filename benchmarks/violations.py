"""Seed violations into generated data, deterministically, to exercise every kind of check.

Each mutation breaks data the way a person or a broken import would: a triple dropped, a
literal with a wrong lexical form or datatype or language, a reference to an unknown
node, a value of the wrong kind, a stray property, a place used as a partner. The same
``seed`` always mutates the same triples, so a failing comparison can be replayed.

    from violations import inject
    quads, notes = inject(quads, seed=3, count=60)
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
UNKNOWN = "https://w3id.org/coopgraph/id/org/nobody-knows-"
STRAY = ox.NamedNode("https://w3id.org/coopgraph/ontology#notInTheOntology")
PLACE = "http://schema.org/Place"


def _bad_literal(lit: ox.Literal, rng: random.Random) -> ox.Literal:
    choice = rng.randrange(5)
    if choice == 0:  # ill-typed lexical form
        return ox.Literal("not-a-" + lit.datatype.value.rsplit("#", 1)[-1], datatype=lit.datatype)
    if choice == 1:  # a number out of every plausible range
        return ox.Literal("-999999", datatype=ox.NamedNode(XSD + "integer"))
    if choice == 2:  # another language
        return ox.Literal(lit.value, language="de")
    if choice == 3:  # a plain string
        return ox.Literal(lit.value + " ?")
    return ox.Literal(lit.value.lower() + "@@", datatype=ox.NamedNode(XSD + "string"))


def inject(quads: Sequence[ox.Quad], *, seed: int, count: int) -> tuple[list[ox.Quad], list[str]]:
    """``quads`` with ``count`` mutations (module doc), and one note per mutation."""
    rng = random.Random(seed)
    out = list(quads)
    notes: list[str] = []
    places = sorted(
        {q.subject.value for q in out if q.predicate.value == RDF_TYPE and q.object.value == PLACE}
    )
    for n in range(count):
        i = rng.randrange(len(out))
        q = out[i]
        kind = rng.randrange(5)
        if kind == 0 and q.predicate.value != RDF_TYPE:
            del out[i]
            notes.append(f"dropped {q}")
        elif kind == 1 and isinstance(q.object, ox.Literal):
            out[i] = ox.Quad(q.subject, q.predicate, _bad_literal(q.object, rng), q.graph_name)
            notes.append(f"bad literal {out[i]}")
        elif kind == 2 and isinstance(q.object, ox.NamedNode) and q.predicate.value != RDF_TYPE:
            target = (
                ox.NamedNode(UNKNOWN + str(n))
                if rng.random() < 0.5 or not places
                else (ox.NamedNode(rng.choice(places)))
            )
            out[i] = ox.Quad(q.subject, q.predicate, target, q.graph_name)
            notes.append(f"other reference {out[i]}")
        elif kind == 3:
            out.append(ox.Quad(q.subject, STRAY, ox.Literal("stray"), q.graph_name))
            notes.append(f"stray property on {q.subject}")
        elif isinstance(q.object, ox.Literal):
            out[i] = ox.Quad(
                q.subject, q.predicate, ox.NamedNode(UNKNOWN + "x" + str(n)), q.graph_name
            )
            notes.append(f"IRI for a literal {out[i]}")
        else:
            out.append(
                ox.Quad(q.subject, q.predicate, ox.Literal("12", language="fr"), q.graph_name)
            )
            notes.append(f"extra literal on {q.subject} {q.predicate}")
    return out, notes
