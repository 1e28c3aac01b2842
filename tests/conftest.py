"""Shared fixtures: settings, a loaded in-memory store, the Flask app and client.

The project store (ontology + shapes + data + inferences) is built once per test session;
tests that write get their own fresh store from ``fresh_store``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coopgraph.settings import PROJECT_ROOT, Settings
from coopgraph.store import Store, open_store

ROOT = PROJECT_ROOT
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings for tests: in-memory store, project files from this checkout, two tokens."""
    return Settings(
        store=":memory:",
        tokens={"alice": "alice-secret-token", "bob": "bob-secret-token"},
        query_timeout=5.0,
    )


def build_store(settings: Settings) -> Store:
    from coopgraph.load import load_project

    store = open_store(":memory:")
    load_project(store, settings)
    return store


@pytest.fixture(scope="session")
def project_store(settings: Settings) -> Store:
    """The project's data, loaded and reasoned, shared read-only by the session."""
    return build_store(settings)


@pytest.fixture
def fresh_store(settings: Settings) -> Store:
    """A private loaded store for tests that write."""
    return build_store(settings)


@pytest.fixture(scope="session")
def virtuoso_url() -> Iterator[str]:
    """SPARQL endpoint of a throw-away Virtuoso (127.0.0.1, free port, temp database),
    started once per session; fails (never skips) when Virtuoso is not installed."""
    import shutil

    from virtuoso import INSTALL_HINT, Virtuoso

    if shutil.which("virtuoso-t") is None:
        pytest.fail(INSTALL_HINT)
    with Virtuoso() as server:
        yield server.url
