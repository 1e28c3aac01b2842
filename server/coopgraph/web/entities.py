"""Blueprint: linked data. Every ``cgid:`` IRI dereferences at ``/id/<path>``, every named
graph at ``/graph/<path>``, and the dataset describes itself at ``/.well-known/void``.

HTML pages show labels in the visitor's language, every statement with the named
graph(s) holding it, the source document each graph was derived from, and whether the
statement is asserted or inferred (``cgg:inferred``). Turtle, TriG, N-Triples, N-Quads,
JSON-LD and RDF/XML come by ``Accept``, ``?format=`` or a suffix (``/id/org/x.ttl``).
404 for an IRI with no statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, url_for

from coopgraph import results
from coopgraph.errors import BadRequest, CoopgraphError, NotFound, QuerySyntaxError
from coopgraph.formats import HTML, RDF_FORMATS, Format
from coopgraph.store.base import Solutions, Store, Term, match
from coopgraph.vocab import (
    CG,
    DCAT,
    DCTERMS,
    FOAF,
    GRAPH,
    ID,
    INFERRED_GRAPH,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VOID,
    XSD,
    compact,
)
from coopgraph.web.appstate import current_lang, described, maintained_totals, state
from coopgraph.web.entity_summary import parts_of, summarise
from coopgraph.web.respond import rdf_response, requested

bp = Blueprint("entities", __name__)

# TODO(lead): move to vocab.py (LICENSE = the dataset's licence IRI).
_CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"

# item access: DCTERMS.title would be str.title
LABEL_PROPERTIES = (
    SKOS["prefLabel"],
    RDFS["label"],
    SCHEMA["name"],
    DCTERMS["title"],
    FOAF["name"],
)
MAX_INCOMING = 500
MAX_GRAPH_ROWS = 2_000

# pyoxigraph substitutes only projected variables: ?s / ?o are projected and bound.
_OUTGOING = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_INCOMING = f"SELECT ?o ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT {MAX_INCOMING}"
# The OPTIONAL outside the first GRAPH: inside it, pyoxigraph joined every identifier of
# every graph (0.2-0.3 s a page at 1M); here it is a lookup per source.
_GRAPH_SOURCES = (
    f"SELECT ?g ?source ?identifier WHERE {{ GRAPH ?g {{ ?g <{PROV.wasDerivedFrom}> ?source }} "
    f"OPTIONAL {{ GRAPH ?g {{ ?source <{DCTERMS.identifier}> ?identifier }} }} }}"
)
# Subject first: each ?s is looked up, then its label properties kept. A second VALUES
# for ?p made pyoxigraph join two tables with a scan of every quad (7 s a page at 1M).
_LABEL_PATTERN = (
    " } GRAPH ?g { ?s ?p ?label } FILTER(isLiteral(?label) && ?p IN ("
    + ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    + ")) }"
)
_CLASS_COUNT = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"
#: Resources VoID offers as examples: the first few typed ones under our IRI space, found
#: lazily (an ORDER BY would sort every typed resource: seconds at 1M triples).
_EXAMPLES = (
    "SELECT DISTINCT ?s ?base WHERE { ?s a ?c "
    "FILTER(isIRI(?s) && STRSTARTS(STR(?s), STR(?base))) } LIMIT 5"
)


def internal_query(sparql: str, **kwargs: Any) -> Solutions:
    """Run one of this module's own SELECT queries; a syntax error there is a bug (500).

    :raises CoopgraphError: the query does not parse (status 500, not 400).
    :raises QueryTimeout, StoreError: from the store.
    """
    try:
        result = state().store.query(sparql, **kwargs)
    except QuerySyntaxError as exc:
        raise CoopgraphError(f"internal query failed: {exc.message}") from exc
    assert isinstance(result, Solutions)
    return result


# ---------------------------------------------------------------------------------------
# IRIs ↔ local URLs, labels
# ---------------------------------------------------------------------------------------


def local_href(iri: str) -> str | None:
    """The URL on this server where ``iri`` dereferences, if it is one of ours."""
    if iri.startswith(str(ID)):
        # a hash IRI is described in its document, under an anchor of that name
        document, hash_mark, fragment = iri[len(ID) :].partition("#")
        anchor = f"#{fragment}" if hash_mark else ""
        return url_for("entities.entity", path=document) + anchor
    if iri.startswith(str(CG)):
        return url_for("ontology.ontology") + "#" + iri[len(CG) :]
    if iri.startswith(str(GRAPH)):
        return url_for("entities.graph", path=iri[len(GRAPH) :])
    return None


def pick_label(literals: Iterable[ox.Literal], lang: str) -> str | None:
    """The best label for a visitor: their language, then French, English, plain, any;
    among equals, the first given (callers pass asserted labels before inferred ones).

    >>> pick_label([ox.Literal("Ville", language="fr"), ox.Literal("City", language="en")], "en")
    'City'
    """
    ranked: dict[int, str] = {}
    for lit in literals:
        tag = (lit.language or "").lower().split("-")[0]
        rank = 0 if tag == lang else {"fr": 1, "en": 2, "": 3}.get(tag, 4)
        ranked.setdefault(rank, lit.value)
    return ranked[min(ranked)] if ranked else None


def labels_for(iris: Iterable[str], lang: str) -> dict[str, str]:
    """Labels of many IRIs in one query (VALUES of serialised terms, not pasted text).

    Asserted labels come before inferred ones, then by property (skos:prefLabel first),
    then alphabetically, so a page always shows the same label.
    """
    nodes = sorted(set(iris))
    found: dict[str, list[tuple[bool, int, str, ox.Literal]]] = {}
    for start in range(0, len(nodes), 200):
        chunk = nodes[start : start + 200]
        values = " ".join(str(ox.NamedNode(iri)) for iri in chunk)
        result = internal_query(
            "SELECT ?s ?p ?label ?g WHERE { VALUES ?s { " + values + _LABEL_PATTERN
        )
        for row in result.dicts():
            subject, label = row.get("s"), row.get("label")
            if isinstance(subject, ox.NamedNode) and isinstance(label, ox.Literal):
                key = (
                    row["g"].value == INFERRED_GRAPH,
                    LABEL_PROPERTIES.index(row["p"].value),
                    label.value,
                    label,
                )
                found.setdefault(subject.value, []).append(key)
    labels = {}
    for iri, keys in found.items():
        chosen = pick_label([k[3] for k in sorted(keys, key=lambda k: k[:3])], lang)
        if chosen:
            labels[iri] = chosen
    return labels


def graph_sources(graphs: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{graph: {"source": iri, "identifier": …}}`` from the prov:wasDerivedFrom of the
    given graphs (only those a page shows: a large store has thousands)."""
    names = sorted(set(graphs))
    sources: dict[str, dict[str, str]] = {}
    for start in range(0, len(names), 200):
        values = " ".join(str(ox.NamedNode(g)) for g in names[start : start + 200])
        result = internal_query(_GRAPH_SOURCES.replace("WHERE {", "WHERE { VALUES ?g { "
                                                       + values + " }", 1))
        for row in result.dicts():
            info = {"source": row["source"].value}
            if "identifier" in row:
                info["identifier"] = row["identifier"].value
            sources.setdefault(row["g"].value, info)
    return sources


# ---------------------------------------------------------------------------------------
# View model: compute once, render in any format
# ---------------------------------------------------------------------------------------


@dataclass
class Statement:
    """One (predicate, value) of a resource and the graphs that hold it."""

    predicate: ox.NamedNode
    value: Term
    graphs: list[str] = field(default_factory=list)

    @property
    def inferred_only(self) -> bool:
        return self.graphs == [INFERRED_GRAPH]

    @property
    def asserted(self) -> bool:
        return any(g != INFERRED_GRAPH for g in self.graphs)


@dataclass
class Resource:
    iri: str
    outgoing: list[Statement]
    incoming: list[Statement]
    quads: list[ox.Quad]
    #: the ``#`` parts (``…/offer/x#salary``) and blank nodes it points to, described too:
    #: a client that drops the fragment finds them in this document (Concise Bounded
    #: Description extended to the hash IRIs of the document)
    parts: list[Resource] = field(default_factory=list)

    @staticmethod
    def type_node(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    @property
    def types(self) -> list[str]:
        return sorted(
            {
                s.value.value
                for s in self.outgoing
                if s.predicate.value == RDF.type and isinstance(s.value, ox.NamedNode)
            }
        )


def _group(rows: Iterable[tuple[ox.NamedNode, Term, str]]) -> list[Statement]:
    by_key: dict[tuple[str, str], Statement] = {}
    for predicate, value, graph in rows:
        key = (str(predicate), str(value))
        statement = by_key.setdefault(key, Statement(predicate, value))
        if graph not in statement.graphs:
            statement.graphs.append(graph)
    for s in by_key.values():
        s.graphs.sort(key=lambda g: (g == INFERRED_GRAPH, g))
    return sorted(
        by_key.values(),
        key=lambda s: (s.predicate.value != RDF.type, str(s.predicate), str(s.value)),
    )


#: At most this many parts are described in one document (an offer has about a dozen).
MAX_PARTS = 200


def _is_part(term: Term, iri: str) -> bool:
    return isinstance(term, ox.BlankNode) or (
        isinstance(term, ox.NamedNode) and term.value.startswith(iri + "#")
    )


def _outgoing(nodes: list[Any]) -> list[list[tuple[Any, Any, str]]]:
    """``(predicate, object, graph)`` of each node's statements in named graphs: one
    store call for all of them (a blank node, which a remote store cannot be asked
    about by name, by its own query)."""
    named = [n for n in nodes if not isinstance(n, ox.BlankNode)]
    found = dict(zip(map(str, named), match(state().store, [(n, None, None, None)
                                                           for n in named]), strict=True))
    rows: list[list[tuple[Any, Any, str]]] = []
    for node in nodes:
        if str(node) in found:
            rows.append([(q.predicate, q.object, q.graph_name.value) for q in found[str(node)]
                         if isinstance(q.graph_name, ox.NamedNode)])
        else:
            rows.append([(r["p"], r["o"], r["g"].value)
                         for r in internal_query(_OUTGOING, bindings={"s": node}).dicts()])
    return rows


def _parts(iri: str, out_rows: list[tuple[Any, Any, str]]) -> list[Resource]:
    """The ``iri#…`` parts and blank nodes reachable from ``iri`` through other parts,
    each with its outgoing statements (breadth first, each once; one store call per
    level)."""
    parts: list[Resource] = []
    seen: set[str] = set()
    level = [o for _, o, _ in out_rows if _is_part(o, iri)]
    while level and len(parts) < MAX_PARTS:
        nodes = []
        for node in level:
            if str(node) not in seen:
                seen.add(str(node))
                nodes.append(node)
        level = []
        for node, rows in zip(nodes, _outgoing(nodes), strict=True):
            rows = [r for r in rows if isinstance(r[0], ox.NamedNode)]
            if not rows or len(parts) >= MAX_PARTS:
                continue
            quads = [ox.Quad(node, p, o, ox.NamedNode(g)) for p, o, g in rows]
            label = node.value if isinstance(node, ox.NamedNode) else str(node)
            parts.append(Resource(label, _group(rows), [], quads))
            level.extend(o for _, o, _ in rows if _is_part(o, iri))
    return parts


def describe(iri: str) -> Resource | None:
    """Everything the store says about ``iri`` and its ``#`` parts, and what points at it;
    ``None`` when nothing."""
    try:
        node = ox.NamedNode(iri)
    except ValueError:  # not even an IRI (``/id/a<b``): nothing to say about it
        return None
    out = internal_query(_OUTGOING, bindings={"s": node})
    inc = internal_query(_INCOMING, bindings={"o": node})
    if not out.rows and not inc.rows:
        return None
    out_rows = [(r["p"], r["o"], r["g"].value) for r in out.dicts()]
    in_rows = [(r["p"], r["s"], r["g"].value) for r in inc.dicts()]
    quads = [ox.Quad(node, p, o, ox.NamedNode(g)) for p, o, g in out_rows]  # type: ignore[arg-type]
    parts = _parts(iri, out_rows)
    quads += [q for part in parts for q in part.quads]
    return Resource(iri, _group(out_rows), _group(in_rows), quads, parts)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------


def _graph_exists(store: Store, iri: str) -> bool:
    """Does the store hold a quad in graph ``iri``? (One index lookup, not a count of
    every graph.)"""
    try:
        ox.NamedNode(iri)
    except ValueError:  # not even an IRI (``/graph/"``): no such graph, not a 500
        return False
    return bool(match(store, [(None, None, None, iri)], limit=1)[0])


def _suffix_format(path: str, exists: Any) -> tuple[str, Format | None]:
    """Split ``org/x.ttl`` into (``org/x``, Turtle) when ``org/x`` exists and ``.ttl`` is an
    RDF extension; otherwise (path, None)."""
    stem, dot, ext = path.rpartition(".")
    if dot and ext:
        for fmt in (*RDF_FORMATS, HTML):
            if ext.lower() in fmt.extensions and exists(stem):
                return stem, fmt
    return path, None


def _negotiated(suffix: Format | None) -> Format:
    """The format a ``.ext`` suffix names, else the one the request asks for."""
    return suffix or requested((*RDF_FORMATS, HTML))


def page_rdf(statements: Sequence[ox.Quad | ox.Triple], fmt: Format) -> Response:
    """A page's statements in ``fmt``: TriG and N-Quads keep the named graphs; JSON-LD
    too gets each triple once, so that plain JSON-LD clients see the triples."""
    return rdf_response(statements, fmt, keep_graphs=fmt.name != "jsonld")


def _twins(path_endpoint: str, path: str) -> list[dict[str, str]]:
    return [
        {
            "label": f.label,
            "href": url_for(path_endpoint, path=f"{path}.{f.extension}"),
            "type": f.media_type,
        }
        for f in RDF_FORMATS
    ]


#: Explanations computed per page, at most (the rest say "inferred" without the why).
MAX_EXPLAINED = 40


def explain_inferred(resource: Resource) -> dict[tuple[str, str], list[Any]]:
    """``(predicate, value) → [Explanation]`` for the resource's inferred-only statements:
    which rule produced each one from which premises ("why is this here?")."""
    from coopgraph.reason import Reasoner

    inferred = [s for s in resource.outgoing if s.inferred_only][:MAX_EXPLAINED]
    if not inferred:
        return {}
    subject = ox.NamedNode(resource.iri)
    triples = [ox.Triple(subject, s.predicate, s.value) for s in inferred]
    found = Reasoner(state().store).explain_many(triples, depth=1)
    return {(t.predicate.value, str(t.object)): found[t] for t in triples}


#: Seconds an entity page waits for the network's first build before leaving its
#: figures out (they appear on the next visit).
NETWORK_WAIT = 5.0


def network_metrics(iri: str) -> dict[str, Any]:
    """The resource's place in the actor network ({} when it is not a node of it, or the
    network's first build is not finished): read from the maintained view."""
    from coopgraph.views import ViewNotReady

    try:
        built = state().network.get(wait=NETWORK_WAIT)
    except ViewNotReady:
        return {}
    return built.value.figures(iri)


def did_you_mean(path: str) -> str:
    """"; did you mean cgid:org/ville-de-lille (Ville de Lille)?" for a mistyped IRI: the
    known names closest to its last segment, from the search index ("" when none)."""
    from coopgraph.lookup import suggest

    text = path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
    try:
        near = suggest(state().store, text, limit=3)
    except BadRequest:  # an empty or overlong segment: no suggestion, still a 404
        return ""
    shown = ", ".join(f"{m.curie} ({m.matched})" for m in near)
    return f"; did you mean {shown}?" if near else ""


@bp.route("/id/<path:path>")
def entity(path: str) -> Response:
    """A minted resource: HTML page or RDF; 404 when the store says nothing about it."""
    cache: dict[str, Resource | None] = {}

    def lookup(p: str) -> Resource | None:
        if p not in cache:
            cache[p] = describe(ID[p])
        return cache[p]

    path, suffix = _suffix_format(path, lookup)
    resource = lookup(path)
    if resource is None:
        raise NotFound(f"no statement about <{ID[path]}> in this dataset" + did_you_mean(path))
    fmt = _negotiated(suffix)
    if fmt is not HTML:
        return page_rdf(resource.quads, fmt)
    lang = current_lang()
    iris = {resource.iri, *resource.types}
    for s in (*resource.outgoing, *resource.incoming, *(
        s for part in resource.parts for s in part.outgoing
    )):
        iris.add(s.predicate.value)
        if isinstance(s.value, ox.NamedNode):
            iris.add(s.value.value)
    explanations = explain_inferred(resource)
    for found in explanations.values():
        for premise in found[0].premises if found else ():
            iris |= {premise.triple.subject.value, premise.triple.predicate.value}
            if isinstance(premise.triple.object, ox.NamedNode):
                iris.add(premise.triple.object.value)
    described = {part.iri: part for part in resource.parts}  # read once, with the page
    part_resources = [r for r in (described.get(i) or describe(i) for i in parts_of(resource))
                      if r is not None]
    for part in part_resources:
        for s in part.outgoing:
            iris.add(s.predicate.value)
            if isinstance(s.value, ox.NamedNode):
                iris.add(s.value.value)
    labels = labels_for(iris, lang)
    store = state().store
    page = render_template(
        "entity.html",
        lang=lang,
        resource=resource,
        summary=summarise(store, resource, labels, lang, local_href),
        parts=[(part, summarise(store, part, labels, lang, local_href)) for part in part_resources],
        explanations=explanations,
        metrics=network_metrics(resource.iri),
        labels=labels,
        sources=graph_sources(g for st in (*resource.outgoing, *resource.incoming)
                              for g in st.graphs),
        inferred_graph=INFERRED_GRAPH,
        twins=_twins("entities.entity", path),
        href=local_href,
        curie=compact,
    )
    response = Response(page, mimetype="text/html")
    response.headers["Link"] = (
        f'<{url_for("entities.entity", path=path + ".ttl")}>; rel="alternate"; type="text/turtle"'
    )
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/graph/<path:path>")
def graph(path: str) -> Response:
    """A named graph: its size, source document, provenance and triples; or its RDF."""
    store = state().store
    path, suffix = _suffix_format(path, lambda p: _graph_exists(store, GRAPH[p]))
    iri = GRAPH[path]
    quads = list(store.quads(iri)) if _graph_exists(store, iri) else []
    if not quads:
        raise NotFound(f"no named graph <{iri}> in this dataset")
    fmt = _negotiated(suffix)
    if fmt is not HTML:
        return page_rdf(quads, fmt)
    lang = current_lang()
    shown = quads[:MAX_GRAPH_ROWS]
    iris = {q.predicate.value for q in shown}
    iris |= {t.value for q in shown for t in (q.subject, q.object) if isinstance(t, ox.NamedNode)}
    page = render_template(
        "graph.html",
        lang=lang,
        iri=iri,
        size=len(quads),
        quads=shown,
        truncated=len(quads) > len(shown),
        labels=labels_for(iris, lang),
        source=graph_sources([iri]).get(iri),
        inferred=iri == INFERRED_GRAPH,
        twins=_twins("entities.graph", path),
        href=local_href,
        curie=compact,
    )
    return Response(page, mimetype="text/html")


def void_triples() -> list[ox.Triple]:
    """The VoID + DCAT description of the dataset, one void:subset per named graph."""
    totals = maintained_totals()
    sizes = totals.sizes
    t, a = ox.Triple, ox.NamedNode(RDF.type)
    integer = XSD.node("integer")
    dataset = ox.NamedNode(url_for("entities.void", _external=True) + "#dataset")
    endpoint = ox.NamedNode(url_for("sparql.endpoint", _external=True))
    classes = internal_query(_CLASS_COUNT)
    n_classes = classes.rows[0][0].value if classes.rows and classes.rows[0][0] else "0"
    examples = internal_query(_EXAMPLES, bindings={"base": ID.node()})
    distribution = ox.BlankNode("sparql")
    triples = [
        t(dataset, a, VOID.node("Dataset")),
        t(dataset, a, DCAT.node("Dataset")),
        t(dataset, DCTERMS.node("title"), ox.Literal("coopgraph", language="en")),
        t(
            dataset,
            DCTERMS.node("description"),
            ox.Literal(
                "Actors of decentralised cooperation and their partnerships, programmes, calls "
                "and job offers, with the provenance of every statement.",
                language="en",
            ),
        ),
        t(
            dataset,
            DCTERMS.node("description"),
            ox.Literal(
                "Les acteurs de la coopération décentralisée, leurs partenariats, programmes, "
                "appels et offres d'emploi, avec la provenance de chaque énoncé.",
                language="fr",
            ),
        ),
        t(dataset, DCTERMS.node("license"), ox.NamedNode(_CC_BY_4)),
        t(dataset, VOID.node("sparqlEndpoint"), endpoint),
        t(dataset, VOID.node("uriSpace"), ox.Literal(str(ID))),
        t(dataset, VOID.node("triples"), ox.Literal(str(sum(sizes.values())), datatype=integer)),
        t(dataset, VOID.node("classes"), ox.Literal(str(n_classes), datatype=integer)),
        t(dataset, DCAT.node("distribution"), distribution),
        t(distribution, a, DCAT.node("Distribution")),
        t(distribution, DCAT.node("accessURL"), endpoint),
        t(distribution, DCTERMS.node("title"), ox.Literal("SPARQL 1.1 endpoint", language="en")),
    ]
    for row in examples.rows:
        if isinstance(row[0], ox.NamedNode):
            triples.append(t(dataset, VOID.node("exampleResource"), row[0]))
    for graph_iri, size in sorted(sizes.items()):
        subset = ox.NamedNode(graph_iri)
        triples += [
            t(dataset, VOID.node("subset"), subset),
            t(subset, a, VOID.node("Dataset")),
            t(subset, VOID.node("triples"), ox.Literal(str(size), datatype=integer)),
            t(subset, VOID.node("sparqlEndpoint"), endpoint),
        ]
    return triples


@bp.route("/.well-known/void")
def void() -> Response:
    """VoID + DCAT description: Turtle by default, any RDF format, or an HTML page."""
    fmt = _negotiated(None)

    def render() -> Response:
        triples = void_triples()
        if fmt is HTML:
            page = render_template(
                "rdf.html",
                lang=current_lang(),
                title="VoID",
                turtle=results.serialize_rdf(triples, RDF_FORMATS[0]).decode("utf-8"),
            )
            return Response(page, mimetype="text/html")
        return page_rdf(triples, fmt)

    return described("void", fmt.name, render)
