"""``SELECT *`` keeps the query's variable order.

The engine lists the variables of ``SELECT *`` sorted by name (``o, p, s``); people expect
them in the order they wrote them (``s, p, o``). :func:`explicit_projection` rewrites the
``*`` into that list: the same variables (asked to the engine on an empty store, where
nothing is evaluated), ordered by their first appearance in the text.

>>> explicit_projection("SELECT * WHERE { ?s ?p ?o }")
'SELECT ?s ?p ?o WHERE { ?s ?p ?o }'
>>> explicit_projection("SELECT DISTINCT * { ?x a ?type FILTER(?x != ?other) }")
'SELECT DISTINCT ?x ?type { ?x a ?type FILTER(?x != ?other) }'
"""

from __future__ import annotations

import pyoxigraph as ox

from coopgraph.sparql_text import tokenize

_EMPTY = ox.Store()


def _star(query: str) -> int | None:
    """Offset of the top-level ``SELECT [DISTINCT|REDUCED] *`` star, if any."""
    tokens = list(tokenize(query))
    depth = 0
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text in "{([":
            depth += 1
        elif token.kind == "punct" and token.text in "})]":
            depth -= 1
        elif depth == 0 and token.kind == "word" and token.upper == "SELECT":
            j = i + 1
            if j < len(tokens) and tokens[j].upper in ("DISTINCT", "REDUCED"):
                j += 1
            if j < len(tokens) and tokens[j].text == "*":
                return tokens[j].start
            return None
    return None


def explicit_projection(query: str) -> str:
    """``query`` with a top-level ``SELECT *`` written as its variables in text order;
    any other query (or one the engine cannot read) is returned unchanged."""
    star = _star(query)
    if star is None:
        return query
    try:
        result = _EMPTY.query(query)  # lazy: only the header is computed
        names = [v.value for v in result.variables]  # type: ignore[union-attr]
    except (SyntaxError, ValueError, RuntimeError, OSError):
        return query
    first = {}
    for token in tokenize(query):
        if token.kind == "var" and token.text[1:] not in first:
            first[token.text[1:]] = token.start
    names.sort(key=lambda name: first.get(name, len(query)))
    if not names:
        return query
    return query[:star] + " ".join(f"?{name}" for name in names) + query[star + 1:]
