"""Blueprint: what the query editor completes from, served by coopgraph itself (the page
never asks prefix.cc or LOV).

* ``GET /prefixes.json``: the project's prefixes, ``{"cg": "https://…#", …}``;
* ``GET /completions.json?kind=class|property&q=TEXT``: classes or properties of the
  store whose IRI, compact name or label contains ``q``, with their label in the
  visitor's language;
* ``POST /labels.json`` ``{"iris": [...]}``: labels of up to 500 IRIs, for result tables.

The class and property lists are a maintained view (:class:`~coopgraph.views.View`):
built in the background when the server starts (or read back from
``<store>.completion.pickle``), patched from each write's inserted quads, so typing
never scans the store (a scan of every predicate takes tens of seconds at 1M triples).
Until the first build is ready, the terms the ontology declares are offered.
"""

from __future__ import annotations

import threading

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from coopgraph import events
from coopgraph.errors import BadRequest
from coopgraph.netview import persist_path, store_fingerprint
from coopgraph.queries import internal_sparql
from coopgraph.store.base import Solutions, Store
from coopgraph.views import View, ViewNotReady
from coopgraph.vocab import PREFIXES, compact
from coopgraph.web.appstate import current_lang, state

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
#: The queries listing each kind of term (``queries/internal/completion-*.rq``).
_TERMS_QUERY = {"class": "completion-classes", "property": "completion-properties"}
#: The terms the ontology declares (index lookups only): offered before the first build.
_DECLARED_QUERY = {
    kind: internal_sparql(name).replace(" UNION\n  { GRAPH ?g { [] a ?term } }", "").replace(
        " UNION\n  { GRAPH ?g { [] ?term [] } }", "")
    for kind, name in _TERMS_QUERY.items()
}
#: Seconds a completion waits for the first build of the terms before offering the
#: declared ones (the build runs from the server's start).
FIRST_BUILD_WAIT = 0.1
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
Terms = dict[str, list[str]]
_cache_lock = threading.Lock()
#: (view id, build generation, kind, lang) → terms with labels: one entry per kind and
#: language (a new build replaces the older entries).
_CACHE: dict[tuple[int, int, str, str], list[dict[str, str]]] = {}


def _iris(store: Store, query: str) -> list[str]:
    result = store.query(query)
    assert isinstance(result, Solutions)
    return sorted({row["term"].value for row in result.dicts()})


def store_terms(store: Store) -> Terms:
    """Every class and property of the store (one scan of the store each)."""
    return {kind: _iris(store, internal_sparql(name)) for kind, name in _TERMS_QUERY.items()}


def patched_terms(store: Store, terms: Terms, commits: list[events.Commit]) -> Terms:
    """``terms`` with those of the quads the commits inserted (a removed graph may leave
    a term no longer used: completion offers it until the next full build)."""
    if any(c.everything or (c.graphs and not c.inserted and not c.removed) for c in commits):
        return store_terms(store)
    classes, properties = set(terms["class"]), set(terms["property"])
    for commit in commits:
        for quad in commit.inserted:
            properties.add(quad.predicate.value)
            if quad.predicate.value == _RDF_TYPE and isinstance(quad.object, ox.NamedNode):
                classes.add(quad.object.value)
    return {"class": sorted(classes), "property": sorted(properties)}


def terms_view(store: Store) -> View[Terms]:
    """The maintained class and property lists of ``store`` (kept beside a disk store)."""
    return View(
        "completion terms", store, lambda progress: store_terms(store),
        fingerprint=lambda: store_fingerprint(store), persist=persist_path(store, "completion"),
        update=lambda terms, commits, progress: patched_terms(store, terms, commits),
    )


@bp.record_once
def _keep_terms(setup: BlueprintSetupState) -> None:
    """One view per app, on the app's store (``coopgraph serve`` starts it at once)."""
    app = setup.app
    app.extensions[VIEW_KEY] = terms_view(app.extensions["coopgraph"].store)


VIEW_KEY = "coopgraph.completion"


def label_candidates(store: Store, iris: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Every label of each IRI as (language tag, text), :data:`MAX_LABELS` IRIs a query.

    One UNION branch per label property: pyoxigraph 0.5 answers ``VALUES ?p { … } ?s ?p
    ?label`` by scanning every triple (4.6 s for 500 IRIs at 1M triples, 0.08 s so)."""
    found: dict[str, list[tuple[str, str]]] = {}
    branches = " UNION ".join(f"{{ ?s {p} ?label }}" for p in _LABEL_PROPERTIES)
    for start in range(0, len(iris), MAX_LABELS):
        values = " ".join(f"<{iri}>" for iri in iris[start:start + MAX_LABELS])
        query = f"""
SELECT ?s ?label (LANG(?label) AS ?lang) WHERE {{
  VALUES ?s {{ {values} }}
  {branches}
  FILTER(isLiteral(?label))
}}"""
        for row in store.query(query).dicts():  # type: ignore[union-attr]
            found.setdefault(row["s"].value, []).append((row["lang"].value, row["label"].value))
    return found


def best_label(candidates: list[tuple[str, str]], lang: str) -> str:
    """The label in ``lang``, then an untagged one, then any language (the first of each
    rank in code-point order, so the choice does not depend on the store's order).

    >>> best_label([("en", "Oujda"), ("ar", "وجدة"), ("fr", "Oujda (ville)")], "fr")
    'Oujda (ville)'
    >>> best_label([("ar", "وجدة"), ("", "Oujda")], "nl")
    'Oujda'
    """
    return min(candidates, key=lambda c: (0 if c[0] == lang else 1 if c[0] == "" else 2,
                                          c[1]))[1]


def labels_of(iris: list[str], lang: str) -> dict[str, str]:
    """The best label of each IRI (``lang``, then untagged, then any language)."""
    found = label_candidates(state().store, iris) if iris else {}
    return {iri: best_label(candidates, lang) for iri, candidates in found.items()}


def _terms(kind: str, lang: str) -> tuple[list[dict[str, str]], bool]:
    """Every class or property with its label, and whether the list is the full one (the
    declared terms only before the first build)."""
    view: View[Terms] = current_app.extensions[VIEW_KEY]
    try:
        built = view.get(wait=FIRST_BUILD_WAIT)
    except ViewNotReady:
        iris, key = _iris(state().store, _DECLARED_QUERY[kind]), None
    else:
        iris, key = built.value[kind], (id(view), built.generation, kind, lang)
        with _cache_lock:
            if key in _CACHE:
                return _CACHE[key], True
    labels: dict[str, str] = {}
    for start in range(0, len(iris), MAX_LABELS):
        labels.update(labels_of(iris[start:start + MAX_LABELS], lang))
    terms = [{"iri": iri, "name": compact(iri), "label": labels.get(iri, "")} for iri in iris]
    if key is not None:
        with _cache_lock:
            for old in [k for k in _CACHE if k[0] == key[0] and k[2:] == key[2:]]:
                del _CACHE[old]
            _CACHE[key] = terms
    return terms, key is not None


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
    terms, complete = _terms(kind, current_lang())
    matches = [
        term for term in terms
        if needle in term["iri"].lower() or needle in term["name"].lower()
        or needle in term["label"].lower()
    ]
    matches.sort(key=lambda t: (not t["name"].lower().startswith(needle), t["name"]))
    response = jsonify(matches[:MAX_SUGGESTIONS])
    # before the first build: the declared terms only, and the answer says so
    response.headers["X-Coopgraph-Stale"] = "false" if complete else "true"
    return response


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
