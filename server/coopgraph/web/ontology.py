"""Blueprint: the ontology dereferences. ``/ontology`` is the document of
``https://w3id.org/coopgraph/ontology`` and of every term ``…/ontology#Term`` (a client
drops the fragment): an HTML page listing each own term with its fr/en labels and
comments (anchor = the term's local name), or the ontology graph in Turtle, JSON-LD, …
by ``Accept`` or suffix (``/ontology.ttl``). Labels of the reused terms the data uses are
in the same graph (``ontology/external.ttl``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import Blueprint, Response, render_template

from coopgraph.formats import HTML, RDF_FORMATS
from coopgraph.vocab import CG, ONTOLOGY_GRAPH, RDF, RDFS
from coopgraph.web.appstate import current_lang, state
from coopgraph.web.entities import _negotiated, page_rdf

bp = Blueprint("ontology", __name__)

ONTOLOGY_IRI = str(CG).rstrip("#")
KIND_ORDER = ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty")


@dataclass
class Term:
    """One own term with its texts by language."""

    iri: str
    kinds: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.iri[len(str(CG)) :]


def own_terms(quads: list[ox.Quad]) -> list[Term]:
    """The ``cg:`` terms of the ontology graph, classes first, then by name."""
    terms: dict[str, Term] = {}
    for q in quads:
        if not (isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(str(CG))):
            continue
        term = terms.setdefault(q.subject.value, Term(q.subject.value))
        value = q.object
        if q.predicate.value == RDF.type and isinstance(value, ox.NamedNode):
            term.kinds.append(value.value.rsplit("#", 1)[-1])
        elif isinstance(value, ox.Literal) and q.predicate.value in (RDFS.label, RDFS.comment):
            texts = term.labels if q.predicate.value == RDFS.label else term.comments
            texts.setdefault(value.language or "", value.value)

    def rank(term: Term) -> tuple[int, str]:
        known = [KIND_ORDER.index(k) for k in term.kinds if k in KIND_ORDER]
        return (min(known) if known else len(KIND_ORDER), term.name.lower())

    return sorted(terms.values(), key=rank)


@bp.route("/ontology")
@bp.route("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    """The ontology: HTML (every own term, fr/en) or its graph in an RDF format."""
    suffix = None
    if ext is not None:
        suffix = next((f for f in (*RDF_FORMATS, HTML) if ext.lower() in f.extensions), None)
        if suffix is None:
            from coopgraph.errors import NotFound

            raise NotFound(f"no /ontology.{ext}: use .ttl, .jsonld, .nt, .rdf or .html")
    quads = list(state().store.quads(ONTOLOGY_GRAPH))
    fmt = _negotiated(suffix)
    if fmt is not HTML:
        return page_rdf(quads, fmt)
    page = render_template(
        "ontology.html", lang=current_lang(), iri=ONTOLOGY_IRI, terms=own_terms(quads)
    )
    response = Response(page, mimetype="text/html")
    response.headers["Vary"] = "Accept"
    return response
