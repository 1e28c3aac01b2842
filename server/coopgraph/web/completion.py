"""Blueprint: what the query editor completes from, served by coopgraph itself (the page
never asks prefix.cc or LOV).

* ``GET /prefixes.json``: the project's prefixes, ``{"cg": "https://…#", …}``;
* ``GET /completions.json?kind=class|property&q=TEXT``: classes or properties of the
  store whose IRI, compact name or label contains ``q``, with their label in the
  visitor's language;
* ``POST /labels.json`` ``{"iris": [...]}``: labels of up to 500 IRIs, for result tables.

The class and property lists are computed once per store generation (see
:mod:`coopgraph.events`), so typing does not scan the store.
"""

from __future__ import annotations

import threading

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request

from coopgraph import events
from coopgraph.errors import BadRequest
from coopgraph.vocab import PREFIXES, compact
from coopgraph.web import current_lang, state

bp = Blueprint("completion", __name__)

#: Most suggestions returned for one completion request.
MAX_SUGGESTIONS = 50
#: Most IRIs labelled in one ``/labels.json`` request.
MAX_LABELS = 500
_LABEL_PROPERTIES = (
    "<http://www.w3.org/2000/01/rdf-schema#label>",
    "<http://www.w3.org/2004/02/skos/core#prefLabel>",
    "<http://schema.org/name>",
)
_TERMS_QUERY = {
    "class": """
SELECT DISTINCT ?term WHERE {
  { ?term a <http://www.w3.org/2002/07/owl#Class> } UNION
  { ?term a <http://www.w3.org/2000/01/rdf-schema#Class> } UNION
  { GRAPH ?g { [] a ?term } }
  FILTER(isIRI(?term))
}""",
    "property": """
SELECT DISTINCT ?term WHERE {
  { ?term a <http://www.w3.org/1999/02/22-rdf-syntax-ns#Property> } UNION
  { ?term a <http://www.w3.org/2002/07/owl#ObjectProperty> } UNION
  { ?term a <http://www.w3.org/2002/07/owl#DatatypeProperty> } UNION
  { GRAPH ?g { [] ?term [] } }
  FILTER(isIRI(?term))
}""",
}
_cache_lock = threading.Lock()
#: (store id, generation, kind, lang) → terms; one entry per store, kind and language.
_CACHE: dict[tuple[int, int, str, str], list[dict[str, str]]] = {}


def labels_of(iris: list[str], lang: str) -> dict[str, str]:
    """The best label of each IRI (``lang``, then untagged, then any language)."""
    if not iris:
        return {}
    values = " ".join(f"<{iri}>" for iri in iris)
    query = f"""
SELECT ?s ?label (LANG(?label) AS ?lang) WHERE {{
  VALUES ?s {{ {values} }}
  VALUES ?p {{ {" ".join(_LABEL_PROPERTIES)} }}
  ?s ?p ?label FILTER(isLiteral(?label))
}}"""
    rank: dict[str, tuple[int, str]] = {}
    for row in state().store.query(query).dicts():  # type: ignore[union-attr]
        subject, label, tag = row["s"].value, row["label"].value, row["lang"].value
        score = 0 if tag == lang else 1 if tag == "" else 2
        if subject not in rank or score < rank[subject][0]:
            rank[subject] = (score, label)
    return {iri: label for iri, (_, label) in rank.items()}


def _terms(kind: str, lang: str) -> list[dict[str, str]]:
    """Every class or property of the store with its label, cached per generation."""
    app_state = state()
    cache = _CACHE
    key = (id(app_state.store), events.generation(app_state.store), kind, lang)
    with _cache_lock:
        if key in cache:
            return cache[key]
    result = app_state.store.query(_TERMS_QUERY[kind])
    iris = sorted({row["term"].value for row in result.dicts()})  # type: ignore[union-attr]
    labels: dict[str, str] = {}
    for start in range(0, len(iris), MAX_LABELS):
        labels.update(labels_of(iris[start:start + MAX_LABELS], lang))
    terms = [{"iri": iri, "name": compact(iri), "label": labels.get(iri, "")} for iri in iris]
    with _cache_lock:
        for old in [k for k in cache if k[0] == key[0] and k[2:] == key[2:]]:
            del cache[old]
        cache[key] = terms
    return terms


@bp.route("/prefixes.json")
def prefixes() -> Response:
    """The project's prefixes (the editor's prefix completion and auto-declaration)."""
    return jsonify(PREFIXES)


@bp.route("/completions.json")
def completions() -> Response:
    """Classes or properties matching ``q`` (in IRI, compact name or label).

    :raises BadRequest: ``kind`` is not ``class`` or ``property``.
    """
    kind = request.args.get("kind", "")
    if kind not in _TERMS_QUERY:
        raise BadRequest("kind must be class or property")
    needle = request.args.get("q", "").strip().lower()
    if needle.startswith("<"):
        needle = needle[1:]
    matches = [
        term for term in _terms(kind, current_lang())
        if needle in term["iri"].lower() or needle in term["name"].lower()
        or needle in term["label"].lower()
    ]
    matches.sort(key=lambda t: (not t["name"].lower().startswith(needle), t["name"]))
    return jsonify(matches[:MAX_SUGGESTIONS])


@bp.route("/labels.json", methods=["POST"])
def labels() -> Response:
    """Labels of the IRIs in the JSON body ``{"iris": [...]}`` (at most 500).

    :raises BadRequest: not a JSON object with a list of IRIs, or too many.
    """
    body = request.get_json(silent=True)
    iris = body.get("iris") if isinstance(body, dict) else None
    if not isinstance(iris, list) or not all(isinstance(i, str) for i in iris):
        raise BadRequest('send a JSON object {"iris": ["…", …]}')
    if len(iris) > MAX_LABELS:
        raise BadRequest(f"at most {MAX_LABELS} IRIs per request")
    valid = []
    for iri in dict.fromkeys(iris):
        try:
            ox.NamedNode(iri)
        except ValueError:
            continue
        valid.append(iri)
    return jsonify(labels_of(valid, current_lang()))
