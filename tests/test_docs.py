"""Docs that cannot rot: every command, setting and route is in the README, and the README's
two commands are the ones the Makefile and CI run."""

from __future__ import annotations

import dataclasses
import re

import pytest

from coopgraph.cli import main
from coopgraph.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text("utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented(command):
    assert f"coopgraph {command}" in README


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings) if f.name != "home"])
def test_every_setting_is_documented(name):
    assert f"`{name}`" in README


def test_every_route_is_documented(app):
    undocumented = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/static"):
            continue
        stem = re.split(r"[<.]", rule.rule.rstrip("/"), maxsplit=1)[0] or "/"
        if f"`{stem}" not in README:
            undocumented.add(rule.rule)
    assert not undocumented


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text("utf-8")
    assert "make test" in ci and "make test" in README and "make serve" in README
