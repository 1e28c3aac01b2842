"""coopgraph.gcquiet: bulk allocations are frozen instead of walked by the next
collections, and the idle collector still reclaims the cycles among frozen objects."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from coopgraph.gcquiet import BULK, IdleCollector, paused


class Node:
    """An object in a reference cycle (as a networkx graph and its cached views are)."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen and the collector on."""
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable()


def test_a_bulk_allocation_is_frozen_and_a_small_one_is_not() -> None:
    with paused():
        assert not gc.isenabled()
        small = [[i] for i in range(100)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with paused():
        bulk = [[i] for i in range(BULK + 1000)]
    assert gc.isenabled() and gc.get_freeze_count() > BULK
    assert len(small) + len(bulk) > BULK


def test_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()


def test_the_idle_collector_reclaims_frozen_cycles_only_when_quiet() -> None:
    now = [0.0]
    collector = IdleCollector(lambda: now[0], quiet=10.0)
    cycle = Node()
    alive = weakref.ref(cycle)
    with paused():
        _ = [[i] for i in range(BULK + 1000)]  # frozen with the cycle
    del cycle, _
    gc.collect()
    assert alive() is not None  # frozen: no collection walks it
    assert not collector.due(now=5.0)  # a request 5 s ago: not quiet yet
    assert collector.due(now=10.0)
    assert collector.collect() >= 1
    assert alive() is None and collector.collections == 1
    assert not collector.due(now=100.0)  # nothing frozen since
