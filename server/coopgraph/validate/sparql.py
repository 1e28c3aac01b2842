"""SHACL-SPARQL checks (shapes/components.ttl, sh:sparql) on a pyoxigraph in-memory store.

pyshacl runs one query per focus node and value node, with pre-bound variables. Here all
the checks that share a query text run as ONE query: the pre-bound variables become a
``VALUES`` block (``?__row`` numbers each binding), an ASK becomes ``SELECT ?__row WHERE
{ VALUES … FILTER NOT EXISTS { body } }``. A binding holding a blank node cannot be
written in VALUES: it runs alone with pyoxigraph's ``substitutions`` (SEP-0007, the same
pre-binding semantics), as does every binding of a query the rewrite cannot parse.

Which variables are pre-bound, and what a result holds, follows pyshacl 0.40
(``constraints/sparql``): $this when the text names it, $value for custom validators,
the component's parameters by local name; a property shape's ASK failure has no sh:value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyoxigraph as ox
import rdflib

from coopgraph.rdfbridge import from_rdflib, to_rdflib
from coopgraph.validate.engine import Data, Pending, Result, result
from coopgraph.validate.native import twin
from coopgraph.validate.shapes import Shape, SparqlCheck

Node = rdflib.term.Node

_THIS = re.compile(r"([\s{}()])[\$\?]this", flags=re.M)
_VALUE = re.compile(r"([\s{}()])[\$\?]value", flags=re.M)
_ASK = re.compile(r"^\s*ASK\s*(\{.*\})\s*$", flags=re.S | re.I)
_SELECT = re.compile(r"\bSELECT(\s+DISTINCT|\s+REDUCED)?\s", flags=re.I)
_WHERE = re.compile(r"\bWHERE\s*\{|\{", flags=re.I)
ROW = "__row"
CHUNK = 2000
#: batched query per (query text, pre-bound variables); None: cannot be batched
_REWRITTEN: dict[str, str | None] = {}


class SparqlRunner:
    """Runs pending SHACL-SPARQL checks on ``data``: by their Python twin (``native.py``)
    when there is one, else as SPARQL on a store of the quads ``source`` yields (built
    lazily, the same triples as ``data``)."""

    use_twins = True

    def __init__(self, data: Data, source: Callable[[], Iterable[ox.Quad]]) -> None:
        self.data = data
        self._source = source  # quads in the default graph
        self._store: ox.Store | None = None

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            store = ox.Store()
            store.extend(self._source())
            self._store = store
        return self._store

    def run_many(self, pending: Sequence[Pending]) -> list[Result]:
        """Every pending check's results; one query per distinct query text."""
        groups: dict[str, list[tuple[Shape, SparqlCheck, Node, Node | None, dict[str, Node]]]] = {}
        for shape, check, focus, values in pending:
            for value, binding in _bindings(shape, check, focus, values):
                groups.setdefault(check.text, []).append((shape, check, focus, value, binding))
        results: list[Result] = []
        for text, rows in groups.items():
            found = twin(rows[0][1].template) if self.use_twins else None
            if found is None:
                answers = self._answers(text, rows)
            else:
                answers = {}
                for i, (shape, _check, _focus, _value, binding) in enumerate(rows):
                    solutions = found(self.data, binding, shape.path)
                    if solutions:
                        answers[i] = solutions
            results.extend(_report(rows, answers))
        return results

    # -- evaluation ----------------------------------------------------------------------

    def _answers(self, text: str, rows: list[Any]) -> dict[int, list[dict[str, Node]]]:
        """For each row index, the solutions that make it a finding (an ASK: one empty)."""
        answers: dict[int, list[dict[str, Node]]] = {}
        batched = [i for i, row in enumerate(rows) if not _has_blank(row[4])]
        alone = [i for i, row in enumerate(rows) if _has_blank(row[4])]
        names = sorted({name for row in rows for name in row[4]})
        query = self._rewrite(text, names) if batched else None
        if query is None:
            alone, batched = list(range(len(rows))), []
        for start in range(0, len(batched), CHUNK):
            chunk = batched[start : start + CHUNK]
            values = " ".join(
                "(" + " ".join([str(i)] + [_sparql(rows[i][4].get(n)) for n in names]) + ")"
                for i in chunk
            )
            block = f"VALUES (?{ROW} {' '.join('?' + n for n in names)}) {{ {values} }}"
            assert query is not None
            solutions = self.store.query(query.replace("#VALUES#", block))
            variables = [v.value for v in solutions.variables]  # type: ignore[union-attr]
            for solution in solutions:  # type: ignore[union-attr]
                row = {
                    v: to_rdflib(solution[v])
                    for v in variables
                    if solution[v] is not None
                }
                index = int(str(row.pop(ROW)))
                answers.setdefault(index, []).append(row)
        for i in alone:
            subs = {ox.Variable(n): from_rdflib(t) for n, t in rows[i][4].items()}
            outcome = self.store.query(text, substitutions=subs)  # type: ignore[arg-type]
            if isinstance(outcome, ox.QueryBoolean):
                if not bool(outcome):
                    answers[i] = [{}]
                continue
            variables = [v.value for v in outcome.variables]  # type: ignore[union-attr]
            for solution in outcome:
                answers.setdefault(i, []).append(
                    {v: to_rdflib(solution[v]) for v in variables if solution[v] is not None}
                )
        return answers

    def _rewrite(self, text: str, names: list[str]) -> str | None:
        """The batched form of ``text`` with a ``#VALUES#`` slot, or None if it cannot be."""
        key = text + "\x00" + " ".join(names)
        if key not in _REWRITTEN:
            _REWRITTEN[key] = self._try_rewrite(text, names)
        return _REWRITTEN[key]

    def _try_rewrite(self, text: str, names: list[str]) -> str | None:
        ask = _ASK.match(text)
        if ask:
            query = f"SELECT ?{ROW} WHERE {{ #VALUES# FILTER NOT EXISTS {ask.group(1)} }}"
        else:
            select = _SELECT.search(text)
            where = _WHERE.search(text, select.end()) if select else None
            if select is None or where is None:
                return None
            head = text[: select.end()]
            if not text[select.end() :].lstrip().startswith("*"):
                head += f"?{ROW} "
            query = head + text[select.end() : where.end()] + " #VALUES# " + text[where.end() :]
        empty = f"VALUES (?{ROW} {' '.join('?' + n for n in names)}) {{ }}"
        try:
            self.store.query(query.replace("#VALUES#", empty))
        except SyntaxError:
            return None
        return query


def _bindings(
    shape: Shape, check: SparqlCheck, focus: Node, values: list[Node]
) -> list[tuple[Node | None, dict[str, Node]]]:
    """(value node, pre-bound variables) per query pyshacl would run."""
    binds_this, binds_value = _binds(check.text)
    base = dict(check.params)
    if binds_this:
        base["this"] = focus
    if check.kind == "constraint":
        return [(None, base)]
    out: list[tuple[Node | None, dict[str, Node]]] = []
    for v in values:
        binding = dict(base)
        if binds_value and v:
            binding["value"] = v
        out.append((v, binding))
    return out


@functools.lru_cache(maxsize=256)
def _binds(text: str) -> tuple[bool, bool]:
    """Whether pyshacl pre-binds $this and $value in this query text."""
    return bool(_THIS.search(text)), bool(_VALUE.search(text))


def _report(rows: list[Any], answers: dict[int, list[dict[str, Node]]]) -> list[Result]:
    results: list[Result] = []
    seen: set[Any] = set()
    for i, (shape, check, focus, value, _binding) in enumerate(rows):
        for solution in answers.get(i, []):
            report_value = None if shape.is_property else (value if value is not None else focus)
            if check.kind == "ask":
                results.append(
                    result(shape, focus, check.component, report_value, source=check.source)
                )
                continue
            t, p, v = solution.get("this"), solution.get("path"), solution.get("value")
            if t is None and p is None and v is None:
                continue  # a generic failure row: pyshacl ignores it here
            key: tuple[Any, ...]
            if check.kind == "constraint":
                key = (id(shape), focus, tuple(sorted(solution.items(), key=str)))
            else:
                key = (id(shape), focus, value, t, p, v)
            if key in seen:
                continue
            seen.add(key)
            results.append(
                result(shape, t or focus, check.component,
                       v if v is not None else report_value, p, check.source)
            )
    return results


def _has_blank(binding: dict[str, Node]) -> bool:
    return any(isinstance(t, rdflib.BNode) for t in binding.values())


def _sparql(term: Node | None) -> str:
    return "UNDEF" if term is None else str(from_rdflib(term))
