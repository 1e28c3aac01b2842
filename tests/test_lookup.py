"""lookup: find an actor by any label or identifier, accents and case ignored."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.errors import BadRequest
from coopgraph.lookup import accent_insensitive_pattern, fold, lookup
from coopgraph.vocab import ID


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Oujda", ID["place/oujda"]),
        ("OUJDA", ID["place/oujda"]),
        ("Q648", ID["place/lille"]),
        ("59350", ID["place/lille"]),
    ],
)
def test_best_match_first(project_store, text, expected):
    assert lookup(project_store, text)[0].iri == expected


def test_accents_are_ignored(project_store):
    found = {m.iri for m in lookup(project_store, "eurometropole")}
    assert any("eurometropole" in iri for iri in found)


def test_nothing_found(project_store):
    assert lookup(project_store, "zzzz-no-such-actor") == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 201])
def test_bad_text(project_store, text):
    with pytest.raises(BadRequest):
        lookup(project_store, text)


def test_regex_metacharacters_are_literal(project_store):
    assert lookup(project_store, "(.*)") == []
    assert accent_insensitive_pattern("a.b") == "[aàâäáãå]\\.b"
    assert fold("Été") == "ete"


def test_cli(tmp_path):
    result = CliRunner().invoke(main, ["lookup", "--store", ":memory:", "--json", "Oujda"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["iri"] == ID["place/oujda"]
