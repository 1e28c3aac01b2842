"""Commit notifications: how derived views (search index, network view) keep in step.

Every write of the pipeline (:mod:`coopgraph.entries`, the bulk import, ``load``) calls
:func:`publish` once its transaction has committed, with what changed. A view registers a
listener with :func:`subscribe` for the store it derives from and updates itself (or
marks itself stale); :func:`generation` is a counter per store that caches can key on.

A listener that fails never fails the write (the data is already committed): the
failure is logged and the view is expected to rebuild itself on its next read.

>>> class S: pass
>>> s = S()
>>> seen = []
>>> subscribe(s, lambda commit: seen.append(commit.graphs))
>>> generation(s)
0
>>> publish(s, Commit(graphs=("g",)))
>>> seen, generation(s)
([('g',)], 1)
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

__all__ = ["Commit", "Listener", "generation", "publish", "subscribe"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commit:
    """What one committed write changed."""

    #: the named graphs whose asserted content changed (entry graphs, reference graphs)
    graphs: tuple[str, ...]
    #: asserted quads removed (the previous version of a replaced or removed graph)
    removed: Sequence[ox.Quad] = ()
    #: asserted quads inserted
    inserted: Sequence[ox.Quad] = ()
    #: the change is too large to describe quad by quad (a full load): rebuild the view
    everything: bool = False
    #: the IRIs of the PROV-O activities the commit recorded (one per graph written)
    activities: tuple[str, ...] = ()


Listener = Callable[[Commit], None]


@dataclass
class _Channel:
    listeners: list[Listener]
    generation: int = 0


_LOCK = threading.Lock()
#: keyed by ``id(store)``; the entry is dropped when the store is garbage-collected
_CHANNELS: dict[int, _Channel] = {}


def _channel(store: object) -> _Channel:
    key = id(store)
    with _LOCK:
        channel = _CHANNELS.get(key)
        if channel is None:
            channel = _CHANNELS[key] = _Channel([])
            try:
                weakref.finalize(store, _CHANNELS.pop, key, None)
            except TypeError:  # not weak-referenceable: lives as long as the process
                pass
        return channel


def subscribe(store: object, listener: Listener) -> None:
    """Call ``listener`` after every write committed to ``store``."""
    channel = _channel(store)
    with _LOCK:
        channel.listeners.append(listener)


def generation(store: object) -> int:
    """How many writes were published for ``store`` in this process (0 at start)."""
    return _channel(store).generation


def publish(store: object, commit: Commit) -> None:
    """Tell the listeners of ``store`` that ``commit`` is in; never raises."""
    channel = _channel(store)
    with _LOCK:
        channel.generation += 1
        listeners = list(channel.listeners)
    for listener in listeners:
        try:
            listener(commit)
        except Exception:  # a derived view must never fail a committed write
            log.exception("listener %r failed on a commit of %s", listener, commit.graphs)
