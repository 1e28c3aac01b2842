"""`coopgraph query`: the README's examples run; errors exit 2 with the user's positions."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.settings import PROJECT_ROOT

MOROCCO = "<https://w3id.org/coopgraph/id/place/morocco>"


def run(*args: str):
    return CliRunner().invoke(main, ["query", "--store", ":memory:", *args])


def test_rq_file_as_a_table():
    result = run(str(PROJECT_ROOT / "queries" / "offers-in-morocco.rq"))
    assert result.exit_code == 0, result.output
    assert "cgid:offer/000-lille-oujda" in result.stdout
    assert "(2 row(s))" in result.stdout


def test_predeclared_prefixes_and_csv():
    result = run(f"SELECT ?p WHERE {{ ?p cg:within+ {MOROCCO} }} ORDER BY ?p", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert "https://w3id.org/coopgraph/id/place/oujda" in {r["p"] for r in rows}


def test_json_results_and_construct_as_turtle():
    result = run("ASK { ?s a schema:JobPosting }", "--format", "json")
    assert json.loads(result.stdout)["boolean"] is True
    result = run(
        "CONSTRUCT { ?o a schema:JobPosting } WHERE { ?o a schema:JobPosting }",
        "--format",
        "turtle",
    )
    assert result.exit_code == 0 and "JobPosting" in result.stdout


def test_syntax_error_keeps_the_users_column():
    result = run("SELECT * WHERE { ?s ?p }")
    assert result.exit_code == 2
    assert "1:25" in result.output


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "LOAD <http://127.0.0.1:9/x>",
    ],
)
def test_refused(query):
    result = run(query)
    assert result.exit_code == 2
    assert "refused" in result.output.lower() or "load" in result.output.lower()


def test_format_that_cannot_carry_the_result():
    result = run("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "--format", "turtle")
    assert result.exit_code == 3


def test_no_inferred_reads_the_asserted_graphs_only():
    """Issue 15: ``--no-inferred`` on a query without FROM crashed (AttributeError)."""
    ask = f"ASK {{ <https://w3id.org/coopgraph/id/place/oujda> cg:within {MOROCCO} }}"
    assert json.loads(run(ask, "--format", "json").stdout)["boolean"] is True
    result = run(ask, "--format", "json", "--no-inferred")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["boolean"] is False
