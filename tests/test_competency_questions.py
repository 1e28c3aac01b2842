"""The competency questions in ``queries/`` give exactly their expected answers.

Every ``queries/**/*.rq`` carries a ``#+ key: value`` header (docs/conventions.md). When
its ``expect`` is ``ordered`` or ``unordered``, ``<name>.expected.tsv`` next to it holds the
exact answer in the SPARQL 1.1 TSV results format; the query runs on the project store
(ontology + data + inferences, the ``project_store`` fixture) and its rows must equal the
expected rows: as lists for ``ordered``, as multisets for ``unordered``.

Terms are compared by kind and value: IRIs by IRI; literals by lexical form, datatype and
language tag (tag case-insensitively); numeric literals (any XSD numeric datatype) by
numeric value, as SPARQL ``=`` does, so ``480``, ``480.0`` and ``"480"^^xsd:decimal`` are
equal; blank nodes match any blank node. Headers and expected files are read with
``coopgraph.queries`` (the catalog the web pages use), so both agree on what a header means.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest

from coopgraph.errors import ParseError
from coopgraph.queries import EXPECT_VALUES, CatalogQuery, parse_query_text
from coopgraph.settings import Settings
from coopgraph.store import Store
from coopgraph.store.base import Solutions

QUERIES = Settings().queries_dir
REQUIRED_LOCALISED = (
    ("title", "fr"),
    ("title", "en"),
    ("description", "fr"),
    ("description", "en"),
)

XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC_TYPES = {
    XSD + name
    for name in (
        "integer decimal float double nonPositiveInteger negativeInteger long int short "
        "byte nonNegativeInteger unsignedLong unsignedInt unsignedShort unsignedByte "
        "positiveInteger"
    ).split()
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Key = tuple[str, ...] | tuple[str, Decimal] | None


def query_files() -> list[Path]:
    return sorted(QUERIES.rglob("*.rq"))


def query_id(path: Path) -> str:
    return path.relative_to(QUERIES).with_suffix("").as_posix()


def catalog_entry(path: Path) -> CatalogQuery:
    """:raises ParseError: a bad ``expect`` value."""
    return parse_query_text(query_id(path), path.read_text(encoding="utf-8"), path)


def declared_expect(path: Path) -> str:
    try:
        return catalog_entry(path).expect
    except ParseError:
        return "invalid"  # reported by test_query_header_is_complete


def checked_queries() -> list[Path]:
    return [q for q in query_files() if declared_expect(q) in {"ordered", "unordered"}]


def term_key(term: Term | None) -> Key:
    """What two terms must share to be equal (see module docstring)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if term.language:
        return ("lang", term.value, term.language.lower())
    datatype = term.datatype.value
    if datatype in NUMERIC_TYPES:
        lexical = term.value.strip()
        lexical = {"INF": "Infinity", "+INF": "Infinity", "-INF": "-Infinity"}.get(lexical, lexical)
        try:
            return ("number", Decimal(lexical))
        except InvalidOperation:
            pass
    return ("literal", term.value, datatype)


def show(term: Term | None) -> str:
    return "" if term is None else str(term)


def render(variables: list[str], rows: list[tuple[Term | None, ...]]) -> list[str]:
    lines = ["\t".join("?" + v for v in variables)]
    lines.extend("\t".join(show(t) for t in row) for row in rows)
    return lines


@pytest.mark.parametrize("query", checked_queries(), ids=query_id)
def test_query_gives_expected_answer(project_store: Store, query: Path) -> None:
    entry = catalog_entry(query)
    expect = entry.expect
    expected_file = entry.expected_path
    assert expected_file is not None and expected_file.is_file(), (
        f"{query.name} says expect: {expect}; add {query.stem}.expected.tsv"
    )
    expected = entry.expected()
    assert expected is not None
    want_vars, want_rows = expected.variables, expected.rows

    result = project_store.query(entry.text)
    assert isinstance(result, Solutions), f"{query.name}: expected a SELECT query"
    got_vars, got_rows = result.variables, result.rows

    assert got_vars == want_vars, (
        f"{query.name}: variables {got_vars} differ from {expected_file.name}: {want_vars}"
    )
    got = [tuple(term_key(t) for t in row) for row in got_rows]
    want = [tuple(term_key(t) for t in row) for row in want_rows]
    same = got == want if expect == "ordered" else Counter(got) == Counter(want)
    if not same:
        got_lines = render(got_vars, got_rows)
        # a row equal to a result row (e.g. 480 vs 480.0) is shown as the result shows it
        shown = dict(zip(got, got_lines[1:], strict=True))
        want_lines = render(want_vars, want_rows)
        want_lines[1:] = [
            shown.get(key, line) for key, line in zip(want, want_lines[1:], strict=True)
        ]
        if expect == "unordered":  # sort both so the diff shows only real differences
            want_lines = want_lines[:1] + sorted(want_lines[1:])
            got_lines = got_lines[:1] + sorted(got_lines[1:])
        diff = "\n".join(
            difflib.unified_diff(
                want_lines,
                got_lines,
                fromfile=expected_file.name,
                tofile="query result",
                lineterm="",
            )
        )
        pytest.fail(
            f"{query.name} ({expect}): {len(got_rows)} row(s), expected {len(want_rows)}\n{diff}",
            pytrace=False,
        )


@pytest.mark.parametrize("query", query_files(), ids=query_id)
def test_query_header_is_complete(query: Path) -> None:
    try:
        entry = catalog_entry(query)
    except ParseError as error:
        pytest.fail(f"{query.name}: {error}", pytrace=False)
    missing = [
        f"{key}@{lang}"
        for key, lang in REQUIRED_LOCALISED
        if not entry.localised.get(key, {}).get(lang)
    ]
    if not entry.meta.get("expect"):
        missing.append("expect")
    assert not missing, f"{query.name}: header lacks {', '.join(missing)}"
    assert entry.expect in EXPECT_VALUES, f"{query.name}: bad expect {entry.expect!r}"


@pytest.mark.parametrize("query", query_files(), ids=query_id)
def test_query_is_valid_sparql(query: Path) -> None:
    """Gallery queries (``expect: none``) too: each one parses and runs on an empty store."""
    try:
        ox.Store().query(query.read_text(encoding="utf-8"))
    except SyntaxError as error:
        pytest.fail(f"{query.name}: {error}", pytrace=False)


@pytest.mark.parametrize("query", checked_queries(), ids=query_id)
def test_ordered_answers_are_ordered(query: Path) -> None:
    """An ``ordered`` answer of several rows needs an ORDER BY to be deterministic."""
    entry = catalog_entry(query)
    if entry.expect != "ordered" or entry.expected_path is None:
        pytest.skip("not an ordered query")
    if not entry.expected_path.is_file():
        pytest.skip("no expected answer (test_query_gives_expected_answer fails)")
    expected = entry.expected()
    rows = expected.rows if expected is not None else []
    text = entry.body
    assert len(rows) <= 1 or re.search(r"\bORDER\s+BY\b", text, re.IGNORECASE), (
        f"{query.name}: expect: ordered with {len(rows)} rows but no ORDER BY"
    )


def test_every_expected_answer_has_its_query() -> None:
    orphans = []
    for tsv in sorted(QUERIES.rglob("*.expected.tsv")):
        query = tsv.with_name(tsv.name.removesuffix(".expected.tsv") + ".rq")
        if not query.is_file():
            orphans.append(f"{tsv.relative_to(QUERIES)}: no {query.name}")
        elif declared_expect(query) not in {"ordered", "unordered"}:
            orphans.append(f"{tsv.relative_to(QUERIES)}: {query.name} says expect: none")
    assert not orphans, "expected answers without a checked query:\n" + "\n".join(orphans)


def test_some_questions_are_checked() -> None:
    assert len(checked_queries()) >= 14
