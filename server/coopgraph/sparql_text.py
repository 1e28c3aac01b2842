"""SPARQL text read without a parser: the one lexer (used by :mod:`coopgraph.sparql_guard`
on request texts and by the remote store), the query form, its dataset clauses, and
``VALUES`` injected for bindings.

The lexer skips comments, strings (short and long), IRIs and prefixed names, so that
keywords and brackets are only found where the engine would see them.

>>> [t.text for t in tokenize("ASK { ?s <x> 'SELECT' } # DROP")]
['ASK', '{', '?s', '<x>', "'SELECT'", '}']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from coopgraph.errors import BadRequest
from coopgraph.store.base import Term

__all__ = [
    "QUERY_FORMS",
    "Token",
    "declares_dataset",
    "form_of",
    "inject_values",
    "query_form",
    "tokenize",
]

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_IRI = r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"
_PN_LOCAL_CHAR = r"(?:[\w:%\-\u00B7]|\\[_~.\-!$&'()*+,;=/?#@%])"
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
             |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
             |'(?:[^'\\\n\r]|\\.)*'
             |"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri>"""
    + _IRI
    + r""")
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[^\W\d](?:[\w.\-\u00B7]*[\w\-\u00B7])?)?:"""
    + rf"(?:{_PN_LOCAL_CHAR}|\.(?={_PN_LOCAL_CHAR}))*)"
    + r"""
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|!=|<=|>=|\^\^|[!=<>+\-*/|^?])
  | (?P<punct>[{}()\[\],;.])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
OPENERS = {"{": "}", "(": ")", "[": "]"}
CLOSERS = frozenset(OPENERS.values())
OPERAND_KINDS = frozenset({"var", "number", "string", "langtag"})


@dataclass(frozen=True)
class Token:
    """One significant piece of the text: ``kind`` is the lexer group that matched."""

    kind: str
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str, *, lt_operator_at: frozenset[int] = frozenset()) -> Iterator[Token]:
    """Significant tokens of ``text`` (whitespace and comments dropped).

    :param lt_operator_at: offsets where a ``<`` must be read as the less-than operator
        even though an IRI could start there.
    """
    pos = 0
    while pos < len(text):
        if pos in lt_operator_at:
            match = re.compile(r"<=?").match(text, pos)
            assert match is not None
            kind = "op"
        else:
            match = _TOKEN.match(text, pos)
            assert match is not None  # the "other" branch matches any character
            kind = match.lastgroup or "other"
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group(), pos)
        pos = match.end()


@dataclass(frozen=True)
class Placed:
    """A token and how deep in ``{}`` and ``()`` it stands."""

    token: Token
    brace: int
    paren: int


def _placed(sparql: str) -> list[Placed]:
    out: list[Placed] = []
    brace = paren = 0
    for token in tokenize(sparql):
        out.append(Placed(token, brace, paren))
        if token.kind != "punct":
            continue
        if token.text == "{":
            brace += 1
        elif token.text == "}":
            brace = max(brace - 1, 0)
        elif token.text == "(":
            paren += 1
        elif token.text == ")":
            paren = max(paren - 1, 0)
    return out


def _top_words(placed: Sequence[Placed]) -> Iterator[tuple[int, str]]:
    for i, p in enumerate(placed):
        if p.token.kind == "word" and p.brace == 0 and p.paren == 0:
            yield i, p.token.upper


def form_of(tokens: Sequence[Token]) -> str | None:
    """The first query form keyword outside any bracket (``None``: not a query)."""
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.text in OPENERS:
            depth += 1
        elif token.kind == "punct" and token.text in CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and token.kind == "word" and token.upper in QUERY_FORMS:
            return token.upper
    return None


def query_form(sparql: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` (``None``: not a query).

    >>> query_form("PREFIX a: <http://a/> # SELECT\\nASK { ?s a:p 'SELECT' }")
    'ASK'
    """
    return form_of(list(tokenize(sparql)))


def declares_dataset(sparql: str) -> tuple[bool, bool]:
    """Whether the query has its own ``FROM`` (default graph) and ``FROM NAMED`` clauses.

    >>> declares_dataset("SELECT * FROM NAMED <http://g> WHERE { ?from ?p '<FROM>' }")
    (False, True)
    """
    placed = _placed(sparql)
    default = named = False
    for i, word in _top_words(placed):
        if word == "FROM":
            nxt = placed[i + 1].token.upper if i + 1 < len(placed) else ""
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


def _where_brace(placed: Sequence[Placed]) -> int | None:
    """Index of the ``{`` opening the outermost group pattern, if the query has one."""
    form_at = next((i for i, w in _top_words(placed) if w in QUERY_FORMS), None)
    if form_at is None:
        return None
    i = form_at + 1
    if placed[form_at].token.upper == "CONSTRUCT":
        if i >= len(placed) or placed[i].token.text != "{":
            return None  # CONSTRUCT WHERE { … }: the template is the pattern
        depth = placed[i].brace
        i += 1
        while i < len(placed) and not (
            placed[i].token.text == "}" and placed[i].brace == depth + 1
        ):
            i += 1
        i += 1  # past the template
    for j in range(i, len(placed)):
        p = placed[j]
        if p.token.text == "{" and p.brace == 0 and p.paren == 0:
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
    placed = _placed(sparql)
    at = _where_brace(placed)
    if at is None:
        return f"{sparql}\n{block}"
    pos = placed[at].token.start + 1
    return f"{sparql[:pos]} {block}\n{sparql[pos:]}"
