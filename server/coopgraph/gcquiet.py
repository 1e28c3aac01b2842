"""Full garbage collections kept out of the requests' way (issue 12: writes right after a
start took 1.7-3.5 s when one ran).

The network view of a 1M-triple store is millions of Python objects. Reading it back or
patching it runs with the cyclic collector paused (:func:`paused`); when
the collector came back, its next collections walked all of them: 0.3 s for the young
generations, then 1-3 s for a full one, holding the interpreter, so the write that was
running stalled for as long (seen in the serve log beside each slow write). Now a block
that allocated a lot hands its objects to :func:`gc.freeze` instead (the collector never
walks frozen objects; reference counting still frees them), and :class:`IdleCollector`
(started by ``serve``) unfreezes and collects once the server has been quiet for a
while, so the cycles among frozen objects (a networkx graph and its cached views) are
still reclaimed, just not in the middle of a write.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["BULK", "IdleCollector", "paused"]

log = logging.getLogger(__name__)

#: Objects allocated with the collector paused above which they are frozen, not walked.
BULK = 50_000


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector paused inside the block; when the block allocated more than
    :data:`BULK` tracked objects they are frozen on the way out (see the module doc),
    else the collector resumes as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > BULK:
            gc.freeze()
        if enabled:
            gc.enable()


class IdleCollector:
    """Collects what frozen objects hold (:func:`gc.unfreeze`, :func:`gc.collect`, then
    :func:`gc.freeze` again) once ``last_activity()`` is ``quiet`` seconds old and objects
    were frozen since the last time; checked every ``every`` seconds in a daemon thread.

    :param last_activity: :func:`time.monotonic` of the latest write or request.
    """

    def __init__(
        self, last_activity: Callable[[], float], *, quiet: float = 10.0, every: float = 2.0
    ) -> None:
        self.last_activity = last_activity
        self.quiet = quiet
        self.every = every
        self.collections = 0
        self._collected_at = gc.get_freeze_count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self, now: float | None = None) -> bool:
        """Were objects frozen since the last collection, and is the server quiet?"""
        now = time.monotonic() if now is None else now
        return (gc.get_freeze_count() > self._collected_at
                and now - self.last_activity() >= self.quiet)

    def collect(self) -> int:
        """Unfreeze, collect, freeze again; returns the unreachable objects found."""
        started = time.monotonic()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self._collected_at = gc.get_freeze_count()
        self.collections += 1
        log.info("idle collection: %d unreachable objects in %.2f s", found,
                 time.monotonic() - started)
        return found

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="idle-collector", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.due():
                self.collect()
