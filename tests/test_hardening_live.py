"""Issue 16, "Hardening", against real processes: slow clients on ``coopgraph serve``,
the store process's memory budget and a query timeout while a write is in flight.
Nothing is timed here (socket timeouts only turn a hang into a failure); the figures at
full scale come from ``benchmarks/hardening.py``."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest

from conftest import serving
from coopgraph.errors import OverBudget, QueryTimeout
from coopgraph.store.isolated import IsolatedStore

pytestmark = pytest.mark.slow  # make quick leaves it out

CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def _get(port: int, path: str, body: bytes | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        headers = {"Content-Type": "application/sparql-query"} if body else {}
        conn.request("POST" if body else "GET", path, body, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_slow_clients_do_not_take_the_server_offline(live_server: str) -> None:
    """More half-open requests than waitress's old limit of 100 connections: /healthz and
    queries still answer (each probe would hang, and fail, if they queued behind)."""
    port = urlsplit(live_server).port or 0
    slow = []
    try:
        for i in range(300):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(f"GET /healthz?slow={i} HTTP/1.1\r\nHost: x\r\n".encode())
            slow.append(s)
        for _ in range(3):
            for s in slow:
                s.sendall(b"X-Slow: 1\r\n")
            assert _get(port, "/healthz") == 200
            assert _get(port, "/sparql", b"ASK {}") == 200
    finally:
        for s in slow:
            s.close()


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[IsolatedStore]:
    """An isolated store of 4,000 triples under a 512 MiB budget (the empty child takes
    about 190 MiB of address space)."""
    store = IsolatedStore(tmp_path / "store", threads=4, memory_limit_mib=512)
    g = ox.NamedNode("urn:g")
    store.bulk_load(
        ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode(f"urn:p{i % 7}"), ox.Literal(f"v{i}"), g)
        for i in range(4000)
    )
    try:
        yield store
    finally:
        store.close()


def test_queries_over_the_memory_budget_get_503_and_the_store_restarts(
    small_store: IsolatedStore,
) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            small_store.query(CARTESIAN, timeout=600)
        except Exception as exc:  # noqa: BLE001 - collected and checked below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert len(errors) == 3 and all(isinstance(e, OverBudget) for e in errors), errors
    assert all(e.status == 503 and "memory budget" in e.message for e in errors)  # type: ignore[attr-defined]
    assert small_store.restarts >= 1
    assert len(small_store) == 4000  # the next call is answered, nothing lost


def test_a_timeout_is_not_held_behind_a_write_in_flight(small_store: IsolatedStore) -> None:
    """The reader gets QueryTimeout while the write still holds the store; the runaway's
    process is killed once the write is done."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            small_store.query(RUNAWAY, timeout=1)
        except Exception as exc:  # noqa: BLE001
            outcome.append(exc)

    with small_store._write_lock:  # a write in flight
        reader = threading.Thread(target=run)
        reader.start()
        reader.join(60)
        assert not reader.is_alive() and isinstance(outcome[0], QueryTimeout)
        assert small_store.restarts == 0  # not killed during the write
    deadline = time.monotonic() + 60
    while small_store.restarts == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert small_store.restarts == 1
    assert small_store.query("ASK { ?s ?p ?o }")


def test_the_access_log_records_what_waitress_refuses_itself(tmp_path: Path) -> None:
    """A body over ``max_body_bytes`` is refused by waitress before the app is called:
    the 413 is in the access log all the same, without the secret or the body."""
    access = tmp_path / "access.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
    env.update(COOPGRAPH_ACCESS_LOG=str(access), COOPGRAPH_MAX_BODY_BYTES="1000",
               COOPGRAPH_TOKENS="staff:staff-secret-token")
    with serving(tmp_path / "store", tmp_path / "serve.err", env) as url:
        port = urlsplit(url).port or 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("POST", "/entries?id=big", b"<urn:body-text> " * 200, {
                "Content-Type": "text/turtle", "Authorization": "Bearer staff-secret-token"})
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        assert response.status == 413
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 400")
    lines = access.read_text("utf-8").splitlines()
    assert any('"POST /entries?id=big HTTP/1.1" 413 ' in line for line in lines), lines
    assert any('"GET /healthz HTTP/1.1" 400 ' in line for line in lines), lines
    assert "staff-secret-token" not in access.read_text() and "body-text" not in access.read_text()
