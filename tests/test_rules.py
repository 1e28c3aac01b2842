"""Rules: every shape has a stable ID, a severity, fr/en/nl messages and two examples that
behave as they claim; docs/rules.md is generated from the shapes and up to date."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.parse import parse_bytes, parse_files
from coopgraph.rules import rules_from_quads
from coopgraph.settings import PROJECT_ROOT
from coopgraph.validate import Validator

RULES = rules_from_quads(parse_files(sorted((PROJECT_ROOT / "shapes").glob("*.ttl"))))


def test_rule_ids_are_unique_and_well_formed():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("CG-") and i.rsplit("-", 1)[1].isdigit() for i in ids)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_documented(rule):
    assert rule.severity in {"Violation", "Warning", "Info"}
    assert {"fr", "en", "nl"} <= set(rule.messages), rule.messages
    assert rule.valid_example and rule.invalid_example


@pytest.fixture(scope="module")
def validator(project_store):
    return Validator(project_store)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_examples_behave_as_documented(validator, rule):
    """The invalid example breaks this very rule (or, for a node shape, one of its property
    rules); the valid example does not."""
    bad = validator.validate_quads(
        parse_bytes(rule.invalid_example.encode(), "turtle"), entry="invalid example"
    )
    cited = {f.rule for f in bad.findings} | {f.parent_rule for f in bad.findings}
    assert rule.id in cited, bad.to_text("en")
    good = validator.validate_quads(
        parse_bytes(rule.valid_example.encode(), "turtle"), entry="valid example"
    )
    assert rule.id not in {f.rule for f in good.findings}, good.to_text("en")


def test_docs_rules_md_is_up_to_date():
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0
    current = (PROJECT_ROOT / "docs" / "rules.md").read_text("utf-8")
    assert current == result.output, "run: coopgraph rules --out docs/rules.md"
