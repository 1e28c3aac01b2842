"""SIGKILL of ``coopgraph serve`` during a burst of writes, restart on the same store
(issue "Reliability and security under load, faults and hostile input", part 3).

One short round of ``benchmarks/crash.py`` (which runs more and longer rounds and prints
the figures): threads POST valid entries to /entries, the server process is SIGKILLed once
a few writes were acknowledged (a never-ending query is running in the store child at that
moment), its store child must exit by itself (else the store stays
locked), the server restarts on the same directory, and then every acknowledged entry is
there, no entry graph is partial, each has its provenance, and the inferred graph is what
a full materialisation computes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import bench_module

pytestmark = pytest.mark.slow  # make quick leaves it out


crash = bench_module("crash")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> object:
    return crash.crash_round(tmp_path_factory.mktemp("crash"), writers=3, kill_after=3,
                             per_writer=20, tag="t", max_seconds=240,
                             runaway=True)


def test_writes_were_acknowledged_before_the_kill(result: object) -> None:
    assert len(result.acked) >= 3  # type: ignore[attr-defined]
    assert result.sent >= len(result.acked)  # type: ignore[attr-defined]


def test_the_store_child_exits_with_the_killed_server(result: object) -> None:
    assert result.store_children  # type: ignore[attr-defined]
    assert result.children_left == []  # type: ignore[attr-defined]


def test_every_acknowledged_write_survives_the_restart(result: object) -> None:
    assert result.acked_missing_over_http == []  # type: ignore[attr-defined]
    assert result.missing == []  # type: ignore[attr-defined]
    assert set(result.acked) <= set(result.present)  # type: ignore[attr-defined]


def test_no_entry_is_partial_or_unexplained(result: object) -> None:
    assert result.partial == []  # type: ignore[attr-defined]
    assert result.unknown_graphs == []  # type: ignore[attr-defined]
    assert result.without_provenance == []  # type: ignore[attr-defined]


def test_inferences_match_a_full_materialisation(result: object) -> None:
    assert result.inferred_quads > 0  # type: ignore[attr-defined]
    assert result.inferred_consistent, result.inferred_diff  # type: ignore[attr-defined]


def test_the_checks_see_a_partial_entry(tmp_path: Path) -> None:
    """The verification itself: an entry graph one triple short, or without provenance, or
    unknown, or missing, is reported."""
    import pyoxigraph as ox

    from coopgraph.parse import parse_bytes, skolemise
    from coopgraph.store.embedded import EmbeddedStore

    bodies = {f"check-{n}": crash.entry_body(n, "check") for n in range(3)}
    store = EmbeddedStore(tmp_path / "store")
    for n, (entry_id, body) in enumerate(bodies.items()):
        graph = crash.ENTRY_PREFIX + entry_id
        quads = skolemise(parse_bytes(body, "turtle", default_graph=graph), graph)
        store.bulk_load(quads[1:] if n == 0 else quads)
        if n != 1:
            store.bulk_load([ox.Quad(ox.NamedNode(graph), ox.NamedNode("http://example.org/by"),
                                     ox.Literal("test"), ox.NamedNode(crash.PROVENANCE))])
    store.bulk_load(parse_bytes(crash.entry_body(9, "x"), "turtle",
                                default_graph=crash.ENTRY_PREFIX + "stranger"))
    store.close()
    result = crash.CrashResult(acked=["check-0", "check-1", "check-2", "check-3"])
    crash._check_store(tmp_path / "store", {**bodies, "check-3": b""}, result)
    assert result.partial == ["check-0"]
    assert result.without_provenance == ["check-1"]
    assert result.unknown_graphs == ["stranger"]
    assert result.missing == ["check-3"]
    assert not result.ok
