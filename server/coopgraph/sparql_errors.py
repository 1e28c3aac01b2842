"""SPARQL syntax errors in plain words: line, column, what was expected, and for a prefix
the query uses without declaring it, the ``PREFIX`` line to add.

The engine's own message (``error at 1:27: expected one of ",", ".", [_]``) is kept in
the error body as ``engine``; people read ``detail``, in the visitor's language
(:mod:`coopgraph.i18n`). The query page uses ``line`` and ``column`` to mark the spot in
the editor.

>>> e = explain("SELECT * WHERE { ?s cg:x ?o }", "error at 1:26: expected OPTIONAL", "en")
>>> e["line"], e["column"], e["prefix"]
(1, 21, 'cg')
>>> e["declare"]
'PREFIX cg: <https://w3id.org/coopgraph/ontology#>'
"""

from __future__ import annotations

import re
from typing import Any

from coopgraph.errors import QuerySyntaxError
from coopgraph.i18n import N_, translate, translate_plural
from coopgraph.sparql_text import tokenize
from coopgraph.vocab import PREFIXES

_POSITION = re.compile(r"(?:error )?at (?:line )?(\d+)[:, ]+(?:column )?(\d+)")
_EXPECTED = re.compile(r"expected (?:one of )?(.+)$", re.DOTALL)
#: The engine's placeholders, in words.
_PLACEHOLDERS = {
    "[_]": N_("a valid character"),
    "Prefix not found": N_("a declared prefix"),
}
_MAX_EXPECTED = 8
#: One alternative in "expected one of …": a quoted token, a character class or a word.
_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^,\s][^,]*')

def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def undeclared_prefixes(query: str) -> list[tuple[str, int]]:
    """Prefixes the query uses without a ``PREFIX`` declaration, with the offset of their
    first use, in order of appearance."""
    tokens = list(tokenize(query))
    declared: set[str] = set()
    found: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.kind != "pname":
            continue
        prefix = token.text.partition(":")[0]
        if i > 0 and tokens[i - 1].kind == "word" and tokens[i - 1].upper == "PREFIX":
            declared.add(prefix)
        elif prefix not in declared and prefix not in found:
            found[prefix] = token.start
    return list(found.items())


def _expected(message: str, lang: str) -> tuple[list[str], int]:
    match = _EXPECTED.search(message)
    if not match:
        return [], 0
    items = _ITEM.findall(match.group(1))
    words = [translate(lang, _PLACEHOLDERS[item]) if item in _PLACEHOLDERS else item
             for item in items if item]
    return words[:_MAX_EXPECTED], max(0, len(words) - _MAX_EXPECTED)


def explain(query: str, message: str, lang: str = "en") -> dict[str, Any]:
    """The details of a syntax error: ``line``, ``column``, ``expected``, ``detail`` (in
    ``lang``), and ``prefix`` / ``declare`` for an undeclared prefix."""
    info: dict[str, Any] = {"engine": message}
    position = _POSITION.search(message)
    if position:
        info["line"], info["column"] = int(position.group(1)), int(position.group(2))
    parts: list[str] = []
    undeclared = undeclared_prefixes(query)
    if undeclared:
        prefix, offset = undeclared[0]
        info["line"], info["column"] = _line_column(query, offset)
        info["prefix"] = prefix
        if prefix in PREFIXES:
            info["declare"] = f"PREFIX {prefix}: <{PREFIXES[prefix]}>"
            parts.append(translate(
                lang, "the prefix \"%(prefix)s:\" is not declared; add at the top of the "
                "query: %(declare)s", prefix=prefix, declare=info["declare"]))
        else:
            parts.append(translate(
                lang, "the prefix \"%(prefix)s:\" is not declared and is not one of "
                "coopgraph's known prefixes; declare it with PREFIX %(prefix)s: "
                "<namespace IRI>", prefix=prefix))
    else:
        expected, more = _expected(message, lang)
        if expected:
            info["expected"] = expected
            items = translate(lang, " or ").join(expected)
            if more:
                items += translate_plural(
                    lang, " (and %(num)d other possibility)",
                    " (and %(num)d other possibilities)", more)
            parts.append(translate(lang, "expected %(items)s", items=items))
            if "line" in info and _at_end(query, info["line"], info["column"]):
                parts.append(translate(
                    lang, "the query ends too early (an unclosed brace or parenthesis?)"))
        else:
            parts.append(translate(lang, "the query cannot be read"))
    where = ""
    if "line" in info:
        where = translate(lang, "Line %(line)s, column %(column)s: ",
                          line=info["line"], column=info["column"])
    info["detail"] = where + translate(lang, "; ").join(parts)
    return info


def _at_end(query: str, line: int, column: int) -> bool:
    """Is the error at the end of the text, with a brace or parenthesis left open?"""
    lines = query.split("\n")
    rest = "\n".join([lines[line - 1][column - 1:], *lines[line:]]) if line <= len(lines) else ""
    tokens = [t.text for t in tokenize(query) if t.kind == "punct"]
    unclosed = tokens.count("{") > tokens.count("}") or tokens.count("(") > tokens.count(")")
    return not rest.strip() and unclosed


def explained(exc: QuerySyntaxError, query: str, lang: str) -> QuerySyntaxError:
    """``exc`` again, its message in plain ``lang`` words and its details filled in."""
    info = explain(query, exc.message, lang)
    detail = info.pop("detail")
    # ``error`` stays the stable English title clients match on; ``detail`` is in ``lang``.
    return QuerySyntaxError(detail, details={**exc.details, **info})
