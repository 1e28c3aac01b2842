"""lookup: find an actor by any label or identifier, accents and case ignored, words may
be cut short, identifiers whole; ranked as before the text index (issue 12, item 4)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.errors import BadRequest
from coopgraph.lookup import fold, lookup, suggest
from coopgraph.search import IDENTIFIER_PROPERTIES, NAME_PROPERTIES, SKIPPED_GRAPHS, words
from coopgraph.vocab import ID


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Oujda", ID["place/oujda"]),
        ("OUJDA", ID["place/oujda"]),
        ("oujd", ID["place/oujda"]),
        ("Q648", ID["place/lille"]),
        ("q648", ID["place/lille"]),
        ("59350", ID["place/lille"]),
    ],
)
def test_best_match_first(project_store, text, expected):
    assert lookup(project_store, text)[0].iri == expected


def test_accents_are_ignored(project_store):
    found = {m.iri for m in lookup(project_store, "eurometropole")}
    assert any("eurometropole" in iri for iri in found)
    assert {m.iri for m in lookup(project_store, "EUROMÉTROPOLE")} == found


def test_every_word_may_be_cut_short(project_store):
    matches = lookup(project_store, "euromet lil")
    assert matches and all(
        all(any(w.startswith(t) for w in words(m.matched)) for t in ("euromet", "lil"))
        for m in matches
    )


def test_identifiers_match_whole_only(project_store):
    assert lookup(project_store, "59350")[0].via == "cg:inseeCode"
    assert all(m.via != "cg:inseeCode" for m in lookup(project_store, "5935"))
    assert all(m.via != "owl:sameAs" for m in lookup(project_store, "Q64"))


def test_matches_carry_types_from_the_store(project_store):
    best = lookup(project_store, "Oujda")[0]
    assert best.score == 3 and best.matched == "Oujda"
    assert "schema:City" in best.types or "schema:Place" in best.types, best.types


def test_nothing_found(project_store):
    assert lookup(project_store, "zzzz-no-such-actor") == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 201])
def test_bad_text(project_store, text):
    with pytest.raises(BadRequest):
        lookup(project_store, text)


def test_punctuation_and_fts_syntax_are_literal(project_store):
    assert lookup(project_store, "(.*)") == []
    assert lookup(project_store, '"NEAR" OR * AND') == []
    assert fold("Été") == "ete"


def test_did_you_mean(project_store):
    best = lookup(project_store, "Oujda")[0]
    assert best.iri in [m.iri for m in suggest(project_store, "Oujdda")]
    assert suggest(project_store, "zz") == []


# --- the ranking is the one of the REGEX lookup it replaces ---------------------------

_QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


def brute_force(store, text: str, limit: int = 20) -> list[tuple[str, str, int]]:
    """The ranking spelt out on every quad of the store, without the index: whole value
    (3), beginning (2), every word a word beginning (1); identifiers whole; best per
    entity, then shorter values, then IRI."""
    wanted, tokens = fold(text).strip(), words(text)
    best: dict[str, tuple[int, int, str]] = {}
    result = store.query(_QUADS)
    for g, s, p, o in result.rows:
        if g.value in SKIPPED_GRAPHS or not s.value.startswith(str(ID)):
            continue
        score = 0
        if p.value in NAME_PROPERTIES and isinstance(o, ox.Literal):
            value = fold(o.value).strip()
            if value == wanted:
                score = 3
            elif tokens and all(any(w.startswith(t) for w in words(o.value)) for t in tokens):
                score = 2 if value.startswith(wanted) else 1
        elif p.value in IDENTIFIER_PROPERTIES and isinstance(o, ox.Literal):
            score = 3 if fold(o.value).strip() == wanted else 0
        elif p.value.endswith("#sameAs") and isinstance(o, ox.NamedNode):
            score = 3 if fold(o.value.rstrip("/").rsplit("/", 1)[-1]) == wanted else 0
        if score:
            key = (-score, len(o.value), o.value)
            if s.value not in best or key[:2] < best[s.value][:2]:
                best[s.value] = key
    ranked = sorted(best.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
    return [(iri, -k[0], k[1]) for iri, k in ranked[:limit]]


@pytest.mark.parametrize(
    "text",
    ["Lille", "lil", "Oujda", "Ville de", "metropole", "Maroc", "Région", "agence",
     "France Volontaires", "Q648", "59350", "FR", "cités unies", "a"],
)
def test_ranking_is_the_brute_force_ranking(project_store, text):
    got = [(m.iri, m.score, len(m.matched)) for m in lookup(project_store, text)]
    assert got == brute_force(project_store, text)
    assert got, text


def test_cli(tmp_path):
    result = CliRunner().invoke(main, ["lookup", "--store", ":memory:", "--json", "Oujda"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["iri"] == ID["place/oujda"]
