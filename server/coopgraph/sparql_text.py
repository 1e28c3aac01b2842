"""SPARQL query text, read without a parser: the query form, its dataset clauses, and
``VALUES`` injected for bindings (what the remote store needs to send a query).

A small lexer finds keywords and braces outside strings, IRIs and comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from coopgraph.errors import BadRequest
from coopgraph.store.base import Term

__all__ = ["declares_dataset", "inject_values", "query_form"]


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             | '''(?:[^'\\]|\\.|'(?!''))*'''
             | "(?:[^"\\\n]|\\.)*"
             | '(?:[^'\\\n]|\\.)*')
  | (?P<var>[?$][^\s(){}\[\],;.]+)
  | (?P<word>[A-Za-z_][\w\-]*(?::[^\s(){}\[\],;]*)?)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    brace: int  # depth of {} before this token
    paren: int  # depth of () before this token


def _tokens(sparql: str) -> list[_Token]:
    out: list[_Token] = []
    brace = paren = 0
    for m in _TOKEN.finditer(sparql):
        kind = m.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        text = m.group()
        out.append(_Token(kind, text, m.start(), brace, paren))
        if text == "{":
            brace += 1
        elif text == "}":
            brace = max(brace - 1, 0)
        elif text == "(":
            paren += 1
        elif text == ")":
            paren = max(paren - 1, 0)
    return out


def _top_words(tokens: Sequence[_Token]) -> Iterator[tuple[int, str]]:
    for i, t in enumerate(tokens):
        if t.kind == "word" and t.brace == 0 and t.paren == 0:
            yield i, t.text.upper()


def query_form(sparql: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` (``None``: not a query).

    >>> query_form("PREFIX a: <http://a/> # SELECT\\nASK { ?s a:p 'SELECT' }")
    'ASK'
    """
    for _, word in _top_words(_tokens(sparql)):
        if word in _FORMS:
            return word
    return None


def declares_dataset(sparql: str) -> tuple[bool, bool]:
    """Whether the query has its own ``FROM`` (default graph) and ``FROM NAMED`` clauses.

    >>> declares_dataset("SELECT * FROM NAMED <http://g> WHERE { ?from ?p '<FROM>' }")
    (False, True)
    """
    tokens = _tokens(sparql)
    default = named = False
    for i, word in _top_words(tokens):
        if word == "FROM":
            nxt = tokens[i + 1].text.upper() if i + 1 < len(tokens) else ""
            if nxt == "NAMED":
                named = True
            else:
                default = True
    return default, named


def _values_block(bindings: Mapping[str, Term]) -> str:
    names = list(bindings)
    terms = []
    for name in names:
        term = bindings[name]
        if isinstance(term, ox.BlankNode):
            raise BadRequest(f"?{name}: a blank node cannot be bound in a remote query")
        terms.append(str(term))
    variables = " ".join("?" + ox.Variable(n).value for n in names)
    return f"VALUES ({variables}) {{ ({' '.join(terms)}) }}"


def _where_brace(tokens: Sequence[_Token]) -> int | None:
    """Index of the ``{`` opening the outermost group pattern, if the query has one."""
    form_at = next((i for i, w in _top_words(tokens) if w in _FORMS), None)
    if form_at is None:
        return None
    i = form_at + 1
    if tokens[form_at].text.upper() == "CONSTRUCT":
        while i < len(tokens) and tokens[i].kind == "other" and tokens[i].text != "{":
            i += 1
        if i >= len(tokens) or tokens[i].text != "{":
            return None  # CONSTRUCT WHERE { … }: the template is the pattern
        depth = tokens[i].brace
        i += 1
        while i < len(tokens) and not (tokens[i].text == "}" and tokens[i].brace == depth + 1):
            i += 1
        i += 1  # past the template
    for j in range(i, len(tokens)):
        t = tokens[j]
        if t.text == "{" and t.brace == 0 and t.paren == 0:
            return j
    return None


def inject_values(sparql: str, bindings: Mapping[str, Term]) -> str:
    """The query with ``bindings`` as a ``VALUES`` block opening its outermost group.

    >>> inject_values("SELECT ?o WHERE { ?s ?p ?o }", {"s": ox.NamedNode("http://a")})
    'SELECT ?o WHERE { VALUES (?s) { (<http://a>) }\\n ?s ?p ?o }'
    >>> inject_values("DESCRIBE ?s", {"s": ox.NamedNode("http://a")})
    'DESCRIBE ?s\\nVALUES (?s) { (<http://a>) }'
    """
    if not bindings:
        return sparql
    block = _values_block(bindings)
    tokens = _tokens(sparql)
    at = _where_brace(tokens)
    if at is None:
        return f"{sparql}\n{block}"
    pos = tokens[at].start + 1
    return f"{sparql[:pos]} {block}\n{sparql[pos:]}"
