"""Writes take turns, first come first served, and none waits forever (issue 16: behind a
10 MiB entry other writes waited 42 s, in no particular order, with no end in sight).

One :class:`WriteQueue` per app; each write route runs inside :meth:`WriteQueue.turn`
after its token is checked (so anonymous requests cannot fill the line). A write that
has waited ``write_wait`` seconds leaves the line with :class:`~coopgraph.errors.Busy`
(503, ``Retry-After``), having changed nothing. Reads never enter the line.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from coopgraph.errors import Busy

__all__ = ["WriteQueue"]


class WriteQueue:
    """A FIFO lock with a bounded wait.

    >>> queue = WriteQueue()
    >>> with queue.turn(1.0):
    ...     queue.waiting
    0
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: deque[object] = deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        """Writes in line, not counting the one running."""
        with self._cond:
            return len(self._line)

    @contextmanager
    def turn(self, wait: float) -> Iterator[None]:
        """Hold the write turn; ``wait`` seconds at most to get it.

        :raises Busy: the turn did not come within ``wait`` seconds.
        """
        me = object()
        started = time.monotonic()
        with self._cond:
            ahead = len(self._line) + int(self._busy)
            self._line.append(me)
            got = self._cond.wait_for(lambda: self._line[0] is me and not self._busy, wait)
            if not got:
                self._line.remove(me)
                self._cond.notify_all()
                raise Busy(
                    f"the server is busy with other writes ({ahead} ahead of this one when it "
                    f"arrived); it waited {time.monotonic() - started:.0f} s (write_wait) and "
                    "was not applied: nothing was written, send it again later",
                    details={"store_changed": False, "retry_after": max(1, round(wait / 2))},
                )
            self._line.popleft()
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
