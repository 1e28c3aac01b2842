"""A lexical pre-check run on every query text that comes from a request, before any engine
sees it.

It is not a parser: a tokenizer skips comments, strings (short and long), IRIs and
prefixed names, then looks at the keywords left. It refuses what a public, read-only
endpoint must never run (``SERVICE`` to a host not allowed by the settings, ``LOAD``,
update operations), refuses texts big or deep enough to crash the engine's recursive
parser, and extracts the dataset (``FROM``/``FROM NAMED``) so that the store reads only
its own graphs (pyoxigraph ignores FROM once a dataset is passed, and never fetches).

>>> check("PREFIX cgg: <https://w3id.org/coopgraph/graph/> "
...       "SELECT * FROM cgg:inferred WHERE { ?s ?p ?o }").dataset
Dataset(default_graphs=('https://w3id.org/coopgraph/graph/inferred',), named_graphs=())
>>> check("ASK { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
coopgraph.errors.QueryRefused: SERVICE <http://evil.example/sparql> refused: ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from coopgraph.errors import BadRequest, QueryRefused, QuerySyntaxError
from coopgraph.sparql_text import (
    CLOSERS,
    OPENERS,
    OPERAND_KINDS,
    Token,
    form_of,
    tokenize,
)
from coopgraph.store.base import Dataset

#: Longest query text accepted, in characters.
MAX_LENGTH = 200_000
#: Deepest nesting of ``{``, ``(`` and ``[`` accepted (pyoxigraph crashes near 5,000).
MAX_DEPTH = 200
#: Most operators (``! + - * / || && = < …``) accepted; long chains overflow the parser.
MAX_OPERATORS = 1_000
#: Most group-pattern keywords (OPTIONAL, MINUS, BIND, UNION, FILTER…) accepted.
MAX_PATTERN_KEYWORDS = 500

#: Keywords that only exist in SPARQL Update (plus LOAD, which fetches a URL).
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "LOAD"}
)
_PATTERN_KEYWORDS = frozenset(
    {"OPTIONAL", "MINUS", "BIND", "UNION", "FILTER", "VALUES", "GRAPH", "SERVICE", "EXISTS"}
)

@dataclass(frozen=True)
class GuardResult:
    """What the guard learnt about an accepted query."""

    #: SELECT, ASK, CONSTRUCT or DESCRIBE (``None`` when no form keyword was found; the
    #: engine then reports the syntax error).
    form: str | None
    #: the dataset of FROM / FROM NAMED, or ``None`` (coopgraph's default dataset).
    dataset: Dataset | None = None
    prefixes: dict[str, str] = field(default_factory=dict)

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


#: Keywords the engine also reads at the start of a prefixed name (``SERVICE:x`` is
#: ``SERVICE :x`` to pyoxigraph when that parses).
_GLUED_KEYWORDS = frozenset({"SERVICE", "SILENT", "FROM", "NAMED"})


def _split_glued(tokens: list[Token]) -> list[Token]:
    """The reading where ``SERVICE:x`` is the keyword SERVICE followed by ``:x``."""
    out: list[Token] = []
    for i, token in enumerate(tokens):
        prefix, colon, local = token.text.partition(":")
        declared = i > 0 and tokens[i - 1].kind == "word" and tokens[i - 1].upper == "PREFIX"
        if (token.kind == "pname" and colon and not declared
                and prefix.upper() in _GLUED_KEYWORDS):
            out.append(Token("word", prefix, token.start))
            out.append(Token("pname", ":" + local, token.start + len(prefix)))
        else:
            out.append(token)
    return out


def _refuse(message: str) -> QueryRefused:
    return QueryRefused(message)


def _ambiguous_lt(tokens: list[Token]) -> frozenset[int]:
    """Offsets of ``<`` read as an IRI start where the engine may see a comparison.

    Comparisons only occur inside parentheses, right after an operand (``?a<?b)…>``):
    there both readings are checked, so no text can hide a keyword from the guard.
    """
    stack: list[str] = []
    found: set[int] = set()
    previous: Token | None = None
    for token in tokens:
        if token.kind == "punct" and token.text in OPENERS:
            stack.append(token.text)
        elif token.kind == "punct" and token.text in CLOSERS and stack:
            stack.pop()
        elif (
            token.kind == "iri"
            and stack
            and stack[-1] == "("
            and previous is not None
            and (previous.kind in OPERAND_KINDS or previous.text == ")")
        ):
            found.add(token.start)
        previous = token
    return frozenset(found)


def _resolve(token: Token, prefixes: dict[str, str], base: str | None) -> str:
    """The absolute IRI an IRI token or prefixed name stands for.

    :raises QuerySyntaxError: unknown prefix.
    :raises QueryRefused: a relative IRI with no BASE to resolve it against.
    """
    if token.kind == "iri":
        iri = token.text[1:-1]
    else:
        prefix, _, local = token.text.partition(":")
        if prefix not in prefixes:
            raise QuerySyntaxError(f"undefined prefix {prefix}: in {token.text}")
        iri = prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    if base and not urlsplit(iri).scheme:
        iri = urljoin(base, iri)
    if not urlsplit(iri).scheme:
        raise _refuse(f"<{iri}> is not an absolute IRI; graph names must be absolute IRIs")
    return iri


def _prologue(tokens: list[Token]) -> tuple[dict[str, str], str | None]:
    prefixes: dict[str, str] = {}
    base: str | None = None
    for i, token in enumerate(tokens):
        if token.kind != "word":
            continue
        if token.upper == "PREFIX" and i + 2 < len(tokens):
            name, iri = tokens[i + 1], tokens[i + 2]
            if name.kind == "pname" and name.text.endswith(":") and iri.kind == "iri":
                value = iri.text[1:-1]
                prefixes[name.text[:-1]] = urljoin(base, value) if base else value
        elif token.upper == "BASE" and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            value = tokens[i + 1].text[1:-1]
            base = urljoin(base, value) if base else value
    return prefixes, base


def _check_tokens(
    tokens: list[Token],
    prefixes: dict[str, str],
    base: str | None,
    allowed_service_hosts: Iterable[str],
) -> None:
    allowed = {h.lower() for h in allowed_service_hosts}
    depth = max_depth = operators = pattern_keywords = 0
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text in OPENERS:
            depth += 1
            max_depth = max(max_depth, depth)
            if max_depth > MAX_DEPTH:
                raise _refuse(
                    f"query nested deeper than {MAX_DEPTH} brackets; simplify the query"
                )
        elif token.kind == "punct" and token.text in CLOSERS:
            depth = max(0, depth - 1)
        elif token.kind == "op":
            operators += 1
            if operators > MAX_OPERATORS:
                raise _refuse(f"query has more than {MAX_OPERATORS} operators; simplify it")
        elif token.kind == "word":
            word = token.upper
            if word in _PATTERN_KEYWORDS:
                pattern_keywords += 1
                if pattern_keywords > MAX_PATTERN_KEYWORDS:
                    raise _refuse(
                        f"query has more than {MAX_PATTERN_KEYWORDS} group-pattern keywords "
                        "(OPTIONAL, MINUS, BIND, UNION, FILTER…); simplify it"
                    )
            if word in UPDATE_KEYWORDS:
                if word == "LOAD":
                    raise _refuse("LOAD refused: this endpoint never fetches URLs")
                raise _refuse(
                    f"{word} refused: this endpoint is read-only and runs only queries "
                    "(SELECT, ASK, CONSTRUCT, DESCRIBE)"
                )
            if word == "SERVICE":
                _check_service(tokens, i, prefixes, base, allowed)


def _check_service(
    tokens: list[Token], i: int, prefixes: dict[str, str], base: str | None, allowed: set[str]
) -> None:
    j = i + 1
    if j < len(tokens) and tokens[j].kind == "word" and tokens[j].upper == "SILENT":
        j += 1
    target = tokens[j] if j < len(tokens) else None
    following = tokens[j + 1] if j + 1 < len(tokens) else None
    if target is not None and (following is None or following.text != "{"):
        # Not "SERVICE [SILENT] target {": the engine cannot read a service call here
        # (e.g. the prefixed name service:x in a triple, split by _split_glued).
        return
    if target is None or target.kind not in ("iri", "pname"):
        raise _refuse(
            "SERVICE with a variable or without an IRI refused: federated queries may only "
            "call the allowed hosts, named by IRI"
        )
    try:
        iri = _resolve(target, prefixes, base)
    except QuerySyntaxError as exc:
        raise _refuse(f"SERVICE {target.text} refused: {exc.message}") from None
    host = (urlsplit(iri).hostname or "").lower()
    if host not in allowed:
        hosts = ", ".join(sorted(allowed)) or "none"
        raise _refuse(
            f"SERVICE <{iri}> refused: federated queries may only call allowed hosts "
            f"({hosts})"
        )


def _dataset(tokens: list[Token], prefixes: dict[str, str], base: str | None) -> Dataset | None:
    defaults: list[str] = []
    named: list[str] = []
    depth = 0
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text in OPENERS:
            depth += 1
        elif token.kind == "punct" and token.text in CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and token.kind == "word" and token.upper == "FROM":
            j = i + 1
            is_named = j < len(tokens) and tokens[j].kind == "word" and tokens[j].upper == "NAMED"
            j += is_named
            target = tokens[j] if j < len(tokens) else None
            if target is None or target.kind not in ("iri", "pname"):
                raise QuerySyntaxError("FROM must be followed by a graph IRI")
            (named if is_named else defaults).append(_resolve(target, prefixes, base))
    if not defaults and not named:
        return None
    return Dataset(tuple(dict.fromkeys(defaults)), tuple(dict.fromkeys(named)))


def check(
    query: str,
    *,
    allowed_service_hosts: Iterable[str] = (),
    max_length: int = MAX_LENGTH,
    prefixes: Mapping[str, str] | None = None,
) -> GuardResult:
    """Check a query text from a request and tell its form and dataset.

    :param query: the SPARQL query text.
    :param allowed_service_hosts: hosts a ``SERVICE`` clause may call.
    :param max_length: longest text accepted, in characters.
    :param prefixes: prefixes declared outside the text (``Store.query(prefixes=…)``);
        the text's own PREFIX declarations win.
    :returns: the query form and the FROM/FROM NAMED dataset.
    :raises BadRequest: empty query.
    :raises QueryRefused: SERVICE to another host, LOAD, an update keyword, a text too
        long, nested too deep or with too many operators.
    :raises QuerySyntaxError: a FROM without IRI, or with an undefined prefix.

    >>> check("SELECT ?s WHERE { ?s ?p 'INSERT DATA' } # DROP ALL").form
    'SELECT'
    """
    if not query.strip():
        raise BadRequest("the query is empty")
    if len(query) > max_length:
        raise _refuse(f"query longer than {max_length} characters refused")
    allowed = tuple(allowed_service_hosts)
    tokens = list(tokenize(query))
    declared, base = _prologue(tokens)
    prefixes = {**(prefixes or {}), **declared}
    readings = [tokens, _split_glued(tokens)]
    ambiguous = _ambiguous_lt(tokens)
    if ambiguous:
        # Also check the readings where those "<" are comparisons.
        alternative = list(tokenize(query, lt_operator_at=ambiguous))
        readings += [alternative, _split_glued(alternative)]
    for reading in readings:
        _check_tokens(reading, prefixes, base, allowed)
    form = form_of(tokens)
    # FROM:g is "FROM :g" (at the top level a prefixed name can only follow FROM).
    return GuardResult(form, _dataset(_split_glued(tokens), prefixes, base), prefixes)
