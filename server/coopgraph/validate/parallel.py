"""A bulk import's batches validated on every core: the work in forked children.

Validating a batch (``batch.py``) is two steps: gathering each entry's context
(:func:`~coopgraph.validate.batch.prepare`), then building the shared index and running
the compiled checks on each entry's view of it (:func:`~coopgraph.validate.batch.judge`).
Both are CPU in Python; only the first reads the store, and the import reads every
entry's context into the validator's cache beforehand (:meth:`Validator.prefetch`).
So each batch goes to a forked child (:func:`coopgraph.forked.spawn`: it sees the
batch, the validator, its cache and compiled shapes as they are, copy-on-write, with
nothing pickled on the way in) that prepares it from the cache alone (``offline``) and
judges it; at most ``workers`` children run at once while this process collects their
reports, in order. A child writes its reports (small: most entries have no finding) to
a file, pickled, and exits; it never reads or writes the store and dies with this
process (Ctrl-C, SIGKILL; after a SIGKILL, a child's result file may be left in the
temporary directory).

The reports are those :func:`~coopgraph.validate.batch.validate_batch` gives: the same
code on the same data. A child whose cache lacks something (``StoreNeeded``) or that
fails (killed, out of memory) is not an error: its batch is validated here instead. A
remote store's validator keeps no descriptions: its batches are prepared here and only
judged in the children.
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from coopgraph import forked
from coopgraph.validate.batch import Overlays, Prepared, complete, judge, prepare
from coopgraph.validate.context import Candidate, StoreNeeded
from coopgraph.validate.report import Report

__all__ = ["FORK_AT", "validate_batches", "workers"]

#: Batches with fewer entries are validated in this process (a fork costs ≈ 10-50 ms).
FORK_AT = 100
#: What a child writes when its cache lacks something (``StoreNeeded``).
_NEEDS_STORE = "store needed"


def workers() -> int:
    """Children at once: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class _Child:
    batch: Sequence[Candidate]
    #: prepared here (a remote store's batch), else by the child
    prepared: Prepared | None
    pid: int
    path: str


def validate_batches(
    validator: Any, batches: Iterable[Sequence[Candidate]], overlays: Overlays,
    unseen: frozenset[str] = frozenset(), *, children: int | None = None,
    fork_at: int = FORK_AT,
) -> Iterator[list[Report]]:
    """Each batch's reports (in order), as :func:`~coopgraph.validate.batch.validate_batch`
    gives them, computed in forked children (module doc).

    :param children: children at once (default :func:`workers`; 0: all in this process).
    :param fork_at: smaller batches are validated in this process.
    """
    limit = workers() if children is None else children
    offline = bool(validator.context.describe)
    running: deque[_Child] = deque()
    prepared: Prepared | None
    # the children's result files; removed at the end, and at exit if the run is not
    # closed (Ctrl-C)
    folder = tempfile.TemporaryDirectory(prefix="coopgraph-validate-")
    try:
        for number, batch in enumerate(batches):
            if not forked.FORK or limit < 1 or len(batch) < fork_at:
                while running:  # in order
                    yield _next(validator, running, overlays, unseen)
                prepared = prepare(validator, batch, overlays, unseen)
                yield complete(validator, batch, judge(validator, prepared), overlays, unseen)
                continue
            prepared = None if offline else prepare(validator, batch, overlays, unseen)
            while len(running) >= limit:
                yield _next(validator, running, overlays, unseen)
            path = os.path.join(folder.name, f"{number}.pickle")
            running.append(_start(validator, batch, prepared, overlays, unseen, path))
        while running:
            yield _next(validator, running, overlays, unseen)
    finally:  # an error or Ctrl-C here: no child outlives the run, no file is left
        for child in running:
            _stop(child)
        folder.cleanup()


def _next(
    validator: Any, running: deque[_Child], overlays: Overlays, unseen: frozenset[str]
) -> list[Report]:
    """The oldest child's reports; it stays in ``running`` (stopped on an error) until
    they are read."""
    reports = _collect(validator, running[0], overlays, unseen)
    running.popleft()
    return reports


def _start(
    validator: Any, batch: Sequence[Candidate], prepared: Prepared | None, overlays: Overlays,
    unseen: frozenset[str], path: str,
) -> _Child:

    def work() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it on Ctrl-C
        found: list[Report | None] | str
        try:
            ready = prepared or prepare(validator, batch, overlays, unseen, offline=True)
            found = judge(validator, ready)
        except StoreNeeded:
            found = _NEEDS_STORE
        with open(path, "wb") as out:
            pickle.dump(found, out, protocol=pickle.HIGHEST_PROTOCOL)

    return _Child(batch, prepared, forked.spawn(work), path)


def _collect(
    validator: Any, child: _Child, overlays: Overlays, unseen: frozenset[str]
) -> list[Report]:
    """The child's reports once it is done (the batch validated here if it could not)."""
    _, status = os.waitpid(child.pid, 0)
    child.pid = 0  # reaped
    found: Any = None
    try:
        if os.waitstatus_to_exitcode(status) == 0:
            with open(child.path, "rb") as out:
                found = pickle.load(out)  # noqa: S301 - our own child's file
    except (OSError, EOFError, pickle.UnpicklingError):
        found = None
    finally:
        _remove(child.path)
    if not isinstance(found, list) or len(found) != len(child.batch):
        prepared = child.prepared or prepare(validator, child.batch, overlays, unseen)
        found = judge(validator, prepared)
    return complete(validator, child.batch, found, overlays, unseen)


def _stop(child: _Child) -> None:
    if child.pid:
        try:
            os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    _remove(child.path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
