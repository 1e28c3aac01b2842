"""Syntax errors in plain words: position, what was expected, the prefix to declare."""

from __future__ import annotations

import pytest

from coopgraph.sparql_errors import explain, undeclared_prefixes


def test_undeclared_known_prefix_names_the_line_to_add() -> None:
    query = (
        "PREFIX schema: <http://schema.org/>\nSELECT * WHERE {\n"
        "  ?o a schema:JobPosting ;\n     cg:dutyStation ?p }"
    )
    info = explain(query, "error at 4:8: expected OPTIONAL", "fr")
    assert (info["line"], info["column"]) == (4, 6)
    assert info["prefix"] == "cg"
    assert info["declare"] == "PREFIX cg: <https://w3id.org/coopgraph/ontology#>"
    assert info["detail"].startswith("Ligne 4, colonne 6 : le préfixe « cg: » n'est pas déclaré")
    assert info["engine"] == "error at 4:8: expected OPTIONAL"


def test_unknown_prefix_says_to_declare_it() -> None:
    info = explain("SELECT * WHERE { ?s foo:x ?o }", "error at 1:26: expected OPTIONAL", "en")
    assert "declare" not in info
    assert 'the prefix "foo:" is not declared' in info["detail"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", 'Line 1, column 27: expected "," or "." or "}" or a valid character; the query '
               "ends too early"),
        ("fr", 'Ligne 1, colonne 27 : attendu : "," ou "." ou "}" ou un caractère valide ; la '
               "requête s'arrête trop tôt"),
    ],
)
def test_expected_tokens_in_words(lang: str, expected: str) -> None:
    message = 'error at 1:27: expected one of ",", ".", "}", [_]'
    info = explain("SELECT * WHERE { ?s ?p ?o ", message, lang)
    assert info["detail"].startswith(expected)
    assert info["expected"][-1] != "[_]"


def test_declared_prefixes_and_strings_are_not_undeclared() -> None:
    query = (
        'PREFIX cg: <x:>\nSELECT * WHERE { ?s cg:a "skos:no" ; <http://e/#a:b> ?o .'
        " ?o schema:x 1 }"
    )
    assert [p for p, _ in undeclared_prefixes(query)] == ["schema"]

