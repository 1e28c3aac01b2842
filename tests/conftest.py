"""Shared fixtures: settings, a loaded in-memory store, the Flask app and client.

The project store (ontology + shapes + data + inferences) is built once per test session;
tests that write get their own fresh store from ``fresh_store``.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

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


def bench_module(name: str) -> ModuleType:
    """``benchmarks/NAME.py`` imported once: the harness tests share with the benchmarks
    (the scripts are not a package; issue 15)."""
    key = f"coopgraph_bench_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the throw-away Virtuoso (directly or through a fixture) is
    marked ``virtuoso``, so ``make quick`` leaves it out without a list to keep up."""
    for item in items:
        if "virtuoso_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.virtuoso)


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


def store_fingerprint(store: Store) -> tuple[int, str]:
    """(quad count, sha256 of the sorted N-Quads lines): equal before and after a write
    means the store is quad-for-quad unchanged."""
    import hashlib

    lines = sorted(str(q) + " ." for q in store.quads())
    return len(lines), hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# --- web app fixtures (issue "The SPARQL endpoint") -----------------------------------

#: Result cap used by the web tests: small enough that "every triple" is truncated.
WEB_RESULT_LIMIT = 1000


@pytest.fixture(scope="session")
def web_settings(settings: Settings) -> Settings:
    """The test settings with a small result cap."""
    return settings.replace(result_limit=WEB_RESULT_LIMIT)


@pytest.fixture
def app(web_settings: Settings, project_store: Store):  # type: ignore[no-untyped-def]
    """The Flask app on the session's project store (fresh counters for each test)."""
    from coopgraph.web import create_app

    return create_app(web_settings, store=project_store)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@contextmanager
def serving(
    store: Path, log_path: Path, env: dict[str, str], stop_with: int = signal.SIGINT,
) -> Iterator[str]:
    """``coopgraph serve --port 0`` on ``store`` (stderr to ``log_path``), polled until
    /healthz answers; yields its base URL, then stops it with ``stop_with`` (killed after
    60 s: under load the last write may still be finishing)."""
    import re
    import subprocess
    import time
    import urllib.request

    command = [sys.executable, "-m", "coopgraph", "serve", "--store", str(store),
               "--port", "0", "--host", "127.0.0.1"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        url = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            match = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", log_path.read_text())
            if match:
                url = match.group(1)
                try:
                    with urllib.request.urlopen(url + "healthz", timeout=5) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.2)
        else:
            pytest.fail(f"coopgraph serve did not start:\n{log_path.read_text()[-3000:]}")
        assert url is not None
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(stop_with)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/``) of ``coopgraph serve --port 0`` on a temporary
    disk store, started once per session, polled until /healthz answers, stopped at the end."""
    import os

    store_dir = tmp_path_factory.mktemp("live-store")
    log_path = tmp_path_factory.mktemp("live-log") / "serve.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
    env.update(COOPGRAPH_RESULT_LIMIT=str(WEB_RESULT_LIMIT), COOPGRAPH_QUERY_TIMEOUT="3")
    with serving(store_dir, log_path, env) as url:
        yield url
