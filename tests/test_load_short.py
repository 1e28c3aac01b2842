"""A short run of ``benchmarks/load.py`` (issue "Reliability and security under load,
faults and hostile input", part 1): concurrent clients read the example gallery through
``coopgraph serve`` while entries are written and runaway queries are thrown in. Nothing
here is timed: the test checks that no request failed, no acknowledged write was lost,
and each runaway query ended with the timeout error while the others kept being answered.
The figures come from the script itself (benchmarks/README.md, "Reliability").
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from coopgraph.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow  # make quick leaves it out

TIMEOUT = 2.0


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    try:
        import load

        yield load
    finally:
        sys.path.remove(str(PROJECT_ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def server(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    workdir: Path = tmp_path_factory.mktemp("load")
    srv = bench.Server(workdir / "store", log=workdir / "serve.log",
                       env={"COOPGRAPH_QUERY_TIMEOUT": str(TIMEOUT)})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def result(bench: ModuleType, server: object) -> object:
    return bench.run_load(server.port, clients=8, queries=120, write_every=40,  # type: ignore[attr-defined]
                          max_seconds=300, tag="short", runaway=2, query_timeout=TIMEOUT)


def test_no_request_failed(result: object) -> None:
    summary = result.summary()  # type: ignore[attr-defined]
    assert summary["errors"] == 0, summary["error_kinds"]
    assert summary["reads"] == 117 and summary["writes"] == 3
    assert not summary["stopped_early"]


def test_no_acknowledged_write_is_lost(result: object) -> None:
    assert len(result.acked) == 3  # type: ignore[attr-defined]
    assert result.lost == []  # type: ignore[attr-defined]


def test_runaway_queries_end_with_the_timeout_error(result: object) -> None:
    runaways = result.runaways  # type: ignore[attr-defined]
    assert len(runaways) == 2
    for status, _seconds, detail in runaways:
        assert status == 503, detail
        assert detail.startswith('{"error":"Query timeout"'), detail


def test_the_server_still_answers_after_the_runaways(bench: ModuleType, server: object) -> None:
    port = server.port  # type: ignore[attr-defined]
    status, body = bench.request(port, "POST", "/sparql", b"ASK { ?s ?p ?o }", {
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert status == 200 and json.loads(body)["boolean"] is True
    stats = json.loads(bench.request(port, "GET", "/stats")[1])
    assert stats["timeouts"] >= 2
    assert server.store_children()  # type: ignore[attr-defined]
