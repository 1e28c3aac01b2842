"""`coopgraph validate`: the data conforms; every broken fixture is rejected as expected.

Fixtures live in tests/data/invalid/ and tests/data/invalid/expected.toml says, for each,
the exit code, the rule ID to cite and a substring of the message (fr and en).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.settings import PROJECT_ROOT
from coopgraph.validate import Validator

DATA = Path(__file__).parent / "data"

INVALID = DATA / "invalid"
EXPECTED = tomllib.loads((INVALID / "expected.toml").read_text("utf-8"))
VALID = sorted((DATA / "valid").iterdir())


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A persistent store loaded once for the CLI runs of this module."""
    path = tmp_path_factory.mktemp("store") / "store"
    result = CliRunner().invoke(main, ["load", "--store", str(path)])
    assert result.exit_code == 0, result.output
    return str(path)


def run(store_dir, *args):
    return CliRunner().invoke(main, ["validate", "--store", store_dir, *args])


def test_every_fixture_is_listed():
    files = {p.name for p in INVALID.iterdir() if p.name != "expected.toml"}
    assert files == set(EXPECTED)


def test_project_data_conforms(store_dir):
    result = run(store_dir, *[str(p) for p in sorted((PROJECT_ROOT / "data").iterdir())])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_entries_conform(store_dir, path):
    result = run(store_dir, str(path))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=str)
def test_broken_fixture(store_dir, name):
    expected = EXPECTED[name]
    result = run(store_dir, str(INVALID / name))
    assert result.exit_code == expected["exit"], result.output
    assert expected["message"].lower() in result.output.lower()
    if "rule" in expected:
        assert expected["rule"] in result.output


@pytest.mark.parametrize("name", [n for n in sorted(EXPECTED) if EXPECTED[n]["exit"] == 1])
def test_broken_fixture_in_english_and_json(store_dir, name):
    expected = EXPECTED[name]
    english = run(store_dir, "--lang", "en", str(INVALID / name))
    assert english.exit_code == 1
    if "message_en" in expected:
        assert expected["message_en"].lower() in english.output.lower()
    as_json = run(store_dir, "--format", "json", str(INVALID / name))
    report = json.loads(as_json.stdout)
    assert report["conforms"] is False
    assert report["shapesVersion"]
    violations = [r for r in report["results"] if r["severity"] == "Violation"]
    assert violations and all(r["rule"] and r["message"] and r["focus"] for r in violations)
    if "rule" in expected:
        assert expected["rule"] in {r["rule"] for r in violations}


def test_turtle_report_is_a_standard_validation_report(store_dir):
    import rdflib

    name = next(n for n in sorted(EXPECTED) if EXPECTED[n]["exit"] == 1)
    result = run(store_dir, "--format", "turtle", str(INVALID / name))
    graph = rdflib.Graph().parse(data=result.stdout, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    report = next(graph.subjects(rdflib.RDF.type, sh.ValidationReport))
    assert graph.value(report, sh.conforms) == rdflib.Literal(False)


def test_report_points_at_the_line(project_store):
    name = next(n for n in sorted(EXPECTED) if EXPECTED[n]["exit"] == 1)
    report = Validator(project_store).validate_files([INVALID / name])
    assert any(f.line for f in report.findings if f.severity == "Violation")


def test_missing_file_is_exit_2(store_dir, tmp_path):
    result = run(store_dir, str(tmp_path / "nowhere.ttl"))
    assert result.exit_code == 2
    assert "nowhere.ttl" in result.output


def test_the_whole_store_conforms(store_dir):
    result = run(store_dir, "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["entries"] == ["store"] and report["violations"] == 0


def test_validate_wants_files_or_all(store_dir):
    assert run(store_dir).exit_code == 2
    assert run(store_dir, "--all", str(INVALID / "no-employer.ttl")).exit_code == 2
