"""Bytes or files → quads, with errors that name the file, line and column.

pyoxigraph does the parsing: it is fast, reports positions, resolves no XML external
entities and fetches no remote JSON-LD context. A JSON-LD ``@context`` may only name a
context bundled with coopgraph (``contexts/``); any other URL is refused before parsing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from coopgraph.errors import ParseError, UnsupportedFormat
from coopgraph.formats import Format, rdf_format, rdf_format_for_path
from coopgraph.vocab import ID

#: Where skolem IRIs live (RDF 1.1 §3.5 "Replacing Blank Nodes with IRIs"), under our id space
#: so that they dereference like every other minted IRI (``/id/.well-known/genid/…``).
SKOLEM_PREFIX = ID[".well-known/genid/"]

_POSITION = re.compile(r"line (\d+) column (\d+)")

#: Remote context URL → file in coopgraph/contexts/ substituted for it (never fetched).
BUNDLED_CONTEXTS = {
    "https://w3id.org/coopgraph/context.jsonld": "coopgraph.jsonld",
}


def _bundled_context(url: str) -> Any:
    name = BUNDLED_CONTEXTS[url]
    text = resources.files("coopgraph").joinpath("contexts", name).read_text("utf-8")
    return json.loads(text)["@context"]


def _inline_contexts(node: Any, source: str) -> Any:
    """Replace bundled ``@context`` URLs by their content; refuse any other URL."""
    if isinstance(node, list):
        return [_inline_contexts(item, source) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "@context":
            value = _resolve_context(value, source)
        else:
            value = _inline_contexts(value, source)
        out[key] = value
    return out


def _resolve_context(value: Any, source: str) -> Any:
    if isinstance(value, list):
        return [_resolve_context(v, source) for v in value]
    if isinstance(value, str):
        if value in BUNDLED_CONTEXTS:
            return _bundled_context(value)
        raise ParseError(
            f"remote JSON-LD context {value!r} refused: coopgraph never fetches URLs; "
            f"inline the context or use {', '.join(BUNDLED_CONTEXTS)}",
            source=source,
        )
    if isinstance(value, dict):
        return {k: _resolve_context(v, source) if k == "@import" else v for k, v in value.items()}
    return value


def _position(message: str) -> tuple[int | None, int | None]:
    match = _POSITION.search(message)
    if match:
        return int(match.group(1)), int(match.group(2))
    return None, None


def byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of byte ``offset`` of ``data``, for
    errors an editor can jump to.

    >>> byte_position(b"ab" + bytes([10]) + b"c" + bytes([0xE9]), 4)
    (2, 2)
    """
    before = data[:offset]
    start = before.rfind(b"\n") + 1
    column = len(before[start:].decode("utf-8", errors="replace").removeprefix("\ufeff"))
    return before.count(b"\n") + 1, column + 1


def parse_bytes(
    data: bytes,
    fmt: Format | str,
    *,
    source: str = "<input>",
    default_graph: str | None = None,
    base_iri: str | None = None,
) -> list[ox.Quad]:
    """Parse RDF bytes into quads.

    :param data: the document.
    :param fmt: a :class:`Format` or anything :func:`rdf_format` resolves.
    :param source: the name reported in errors (file path or ``request body``).
    :param default_graph: graph IRI for triples outside any named graph (``None``: keep
        them in the default graph).
    :param base_iri: base for relative IRIs.
    :raises ParseError: empty, not UTF-8, or syntactically invalid input (with position).
    :raises UnsupportedFormat: unknown format.
    """
    if isinstance(fmt, str):
        fmt = rdf_format(fmt)
    if fmt.oxigraph is None:
        raise UnsupportedFormat(f"{fmt.label} is not an RDF format coopgraph can read")
    if not data.strip():
        raise ParseError("the document is empty; expected " + fmt.label, source=source)
    try:
        # A UTF-8 byte-order mark (Windows editors write one) is not part of the text:
        # dropped, not reported as an invisible character (issue 16).
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line, column = byte_position(data, exc.start)
        raise ParseError(
            f"not UTF-8 text (byte {data[exc.start : exc.start + 1]!r}; Latin-1 or "
            f"Windows-1252?): save the file as UTF-8; is this really a {fmt.label} file?",
            source=source,
            line=line,
            column=column,
        ) from None
    if "\x00" in text:
        raise ParseError(f"binary content (NUL byte); expected {fmt.label} text", source=source)
    if fmt.name == "jsonld":
        try:
            document = json.loads(text)
            text = json.dumps(_inline_contexts(document, source))
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"invalid JSON: {exc.msg}", source=source, line=exc.lineno, column=exc.colno
            ) from None
        except RecursionError:
            # Thousands of nested [ or { (issue "Reliability and security under load,
            # faults and hostile input": was an unhandled RecursionError, a 500).
            raise ParseError("JSON nested too deeply", source=source) from None
    if fmt.name == "rdfxml":
        _check_xml(text, source)
    graph = ox.NamedNode(default_graph) if default_graph else ox.DefaultGraph()
    try:
        parsed = ox.parse(text.encode("utf-8"), fmt.oxigraph, base_iri=base_iri)
        quads = [
            q
            if not isinstance(q.graph_name, ox.DefaultGraph) or default_graph is None
            else ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in (_as_quad(item) for item in parsed)
        ]
    except SyntaxError as exc:
        message = str(exc)
        at_line, at_column = _position(message)
        message = re.sub(r"^Parser error at line \d+ column \d+: ", "", message)
        raise ParseError(message, source=source, line=at_line, column=at_column) from None
    if not quads:
        raise ParseError(f"no triples found in this {fmt.label} document", source=source)
    return quads


#: Deepest RDF/XML element nesting accepted: the parser's cost grows much faster than the
#: depth (20,000 levels took 10 s here), and real documents stay far below it.
MAX_XML_DEPTH = 500
_XML_TAG = re.compile(r"<(/?)[A-Za-z_][^<>]*?(/?)>")


def _check_xml(text: str, source: str) -> None:
    """Refuse what makes an XML parser explode before handing the text to it.

    Entity declarations are refused outright: internal ones expand ("billion laughs", 1 kB
    becomes gigabytes) and external ones read files or URLs (the parser refuses those
    too). Element nesting deeper than :data:`MAX_XML_DEPTH` is refused.
    """
    if "<!ENTITY" in text:
        raise ParseError(
            "XML entity declarations (<!ENTITY …>) are not accepted; write the values out",
            source=source,
        )
    depth = 0
    for match in _XML_TAG.finditer(text):
        closing, empty = match.group(1), match.group(2)
        if closing:
            depth -= 1
        elif not empty:
            depth += 1
            if depth > MAX_XML_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise ParseError(
                    f"XML elements nested more than {MAX_XML_DEPTH} levels deep",
                    source=source,
                    line=line,
                )


def _as_quad(item: ox.Quad | ox.Triple) -> ox.Quad:
    if isinstance(item, ox.Quad):
        return item
    return ox.Quad(item.subject, item.predicate, item.object, ox.DefaultGraph())


def parse_file(
    path: str | Path, *, fmt: Format | str | None = None, default_graph: str | None = None
) -> list[ox.Quad]:
    """Parse one file; the format comes from its extension unless ``fmt`` is given.

    :raises ParseError: unreadable or invalid file (message starts with ``path:line:col``).
    :raises UnsupportedFormat: unknown extension.
    """
    path = Path(path)
    fmt = rdf_format_for_path(path) if fmt is None else fmt
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror}", source=str(path)) from None
    return parse_bytes(data, fmt, source=str(path), default_graph=default_graph)


def parse_files(paths: Iterable[str | Path]) -> list[ox.Quad]:
    """Parse several files, all or nothing."""
    quads: list[ox.Quad] = []
    for path in paths:
        quads.extend(parse_file(path))
    return quads


def skolemise(quads: Sequence[ox.Quad], graph: str) -> list[ox.Quad]:
    """Replace the blank nodes of one graph's quads by skolem IRIs (RDF 1.1 §3.5).

    Why: a blank node cannot be named in a query or an update, so every part of coopgraph
    that reads or writes by node (the reasoner's bound reads, ``DELETE DATA``, the remote
    store, links to an entry's salary or language requirement) would need a special case.
    Skolemised when parsed, they are plain IRIs everywhere.

    The IRI is derived from the graph and the node's place in the graph, never from the
    parser's labels: each blank node is hashed with what surrounds it (its triples, the
    hashes of its blank neighbours, refined until the partition stops splitting, as in
    colour refinement). So the same document written twice, in any syntax or triple order,
    gives the same IRIs (the bulk import skips unchanged entries by comparing quads), and
    an edit elsewhere in the entry keeps a node's IRI when its own content is unchanged.
    Nodes no refinement can tell apart (identical content) are numbered in the order they
    first appear.

    >>> doc = b'<https://x.org/a> <https://x.org/p> [ <https://x.org/v> 1 ] .'
    >>> first = skolemise(parse_bytes(doc, "turtle"), "https://x.org/g")
    >>> first == skolemise(parse_bytes(doc, "turtle"), "https://x.org/g")
    True
    >>> sorted(str(q.subject) for q in first)[0]
    '<https://w3id.org/coopgraph/id/.well-known/genid/e3f3f38aa822e1b906d11be64094f68e>'

    :param quads: the quads (their graph names are kept).
    :param graph: the graph IRI the blank nodes are scoped to (an entry, a seed file).
    :returns: the quads, blank subjects and objects replaced; the input when it has none.
    """
    where: dict[str, list[int]] = {}
    for i, q in enumerate(quads):
        for term in (q.subject, q.object):
            if isinstance(term, ox.BlankNode):
                where.setdefault(term.value, []).append(i)
    if not where:
        return list(quads)
    start = hashlib.sha256(graph.encode()).hexdigest()
    colour = dict.fromkeys(where, start)

    def name(term: object) -> str:
        return colour[term.value] if isinstance(term, ox.BlankNode) else str(term)

    classes = 1
    for _ in range(len(where)):
        new = {}
        for node, indexes in where.items():
            signature = [colour[node]]
            for i in indexes:
                q = quads[i]
                signature.append(f"{name(q.subject)} {q.predicate} {name(q.object)}")
            new[node] = hashlib.sha256("\n".join(sorted(signature)).encode()).hexdigest()
        colour = new
        count = len(set(colour.values()))
        if count in (classes, len(where)):
            break  # stable (refinement only splits), or every node told apart
        classes = count
    seen: dict[str, int] = {}
    iris: dict[str, ox.NamedNode] = {}
    for node in where:  # dict order: first appearance in the document
        n = seen[colour[node]] = seen.get(colour[node], -1) + 1
        suffix = f"-{n}" if n else ""
        iris[node] = ox.NamedNode(f"{SKOLEM_PREFIX}{colour[node][:32]}{suffix}")

    def subject(t: ox.NamedNode | ox.BlankNode | ox.Triple) -> ox.NamedNode | ox.Triple:
        return iris[t.value] if isinstance(t, ox.BlankNode) else t

    def obj(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
            ) -> ox.NamedNode | ox.Literal | ox.Triple:
        return iris[t.value] if isinstance(t, ox.BlankNode) else t

    return [
        ox.Quad(subject(q.subject), q.predicate, obj(q.object), q.graph_name)
        for q in quads
    ]
