"""The embedded store run in a supervised child process, so a runaway query can be stopped.

pyoxigraph has no query timeout and a Python thread cannot be interrupted inside it; a
query nested thousands of braces deep can even crash the process. So ``coopgraph serve``
keeps the store in one child process (the only process that opens the RocksDB directory)
that answers calls on a pipe, several at a time in threads (pyoxigraph releases the GIL,
so both cores work). The parent waits for each call with its timeout; when a query runs
past it, the parent waits for in-flight writes to finish, kills the child, starts a new
one on the same directory and re-sends the other in-flight reads (reads are idempotent).
A child that dies by itself fails its in-flight calls with a StoreError and is restarted.
Query results cross the pipe as bytes: :meth:`IsolatedStore.query_serialized` has the
child serialise with pyoxigraph's writers, because pickling terms cost more than running
the query (benchmarks/README.md, benchmarks/ipc.py).
The child runs under an address-space limit (``RLIMIT_AS``, setting ``memory_limit_mib``)
that the kernel enforces: a query that needs more gets no memory, the engine aborts, the
calls in flight get 503 ``Query over memory budget`` and a new child starts (issue 16;
RLIMIT_AS rather than a cgroup because it needs no privilege and applies to exactly the
process that runs queries). A timed-out reader is answered at once: the child is
killed on another thread, after the write in flight if there is one (a write is never
cut), and replaced on yet another, so neither writes nor restarts delay the 503.
The child exits as soon as the parent dies (its socket reads EOF), so a killed server
never leaves the store locked. (PR_SET_PDEATHSIG is not used: it fires when the *thread*
that started the child ends, and restarts happen on short-lived threads.)
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Unpack

import pyoxigraph as ox

from coopgraph.errors import (
    CoopgraphError,
    NotAcceptable,
    QueryTimeout,
    StartupError,
    StoreError,
)
from coopgraph.formats import RDF_FORMATS, RESULT_FORMATS, Format
from coopgraph.store.base import (
    Changes,
    Pattern,
    QueryOptions,
    QueryResult,
    SerializedResult,
)
from coopgraph.store.wire import (
    OVER_BUDGET,
    error_payload,
    pack_changes,
    pack_patterns,
    pack_quads,
    rebuild_error,
    unpack_changes,
    unpack_patterns,
    unpack_quads,
)

log = logging.getLogger(__name__)

_READ_METHODS = {
    "query", "query_serialized", "graph_sizes", "graph_names", "quads", "count", "match",
}

#: Formats cross the pipe by name (pyoxigraph's format objects do not pickle); the names
#: of the two tables do not overlap.
_FORMATS_BY_NAME = {fmt.name: fmt for fmt in (*RESULT_FORMATS, *RDF_FORMATS)}


def _child_main(path: str, conn: Connection, threads: int, memory_limit_mib: int = 0) -> None:
    """Child process: open the store, answer calls until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # a write's lookups (thousands of patterns) hold the interpreter between calls into
    # the engine: an ASK's thread gets it back after 1 ms instead of 5 (issue 16)
    sys.setswitchinterval(0.001)
    if memory_limit_mib > 0:
        limit = memory_limit_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from coopgraph.store.embedded import EmbeddedStore

    try:  # imports done; wait for the word to open the store
        conn.recv()
    except (EOFError, OSError):
        os._exit(0)
    send_lock = threading.Lock()
    try:
        store = EmbeddedStore(path)
    except CoopgraphError as exc:
        conn.send((0, False, error_payload(exc)))
        return
    conn.send((0, True, os.getpid()))

    def run(call_id: int, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            # quads cross the pipe as N-Quads (coopgraph.store.wire)
            if method == "quads":
                value: Any = pack_quads(store.quads(*args, **kwargs))
            elif method == "match":
                patterns = unpack_patterns(args[0])
                value = [pack_quads(found) for found in store.match(patterns, **kwargs)]
            elif method == "apply":
                store.apply(unpack_changes(args[0]))
                value = None
            elif method == "bulk_load":
                store.bulk_load(unpack_quads(args[0]))
                value = None
            elif method == "query_serialized":
                sparql, fmt_name = args
                value = store.query_serialized(sparql, _FORMATS_BY_NAME[fmt_name], **kwargs)
            elif method == "count":
                value = len(store)
            else:
                value = getattr(store, method)(*args, **kwargs)
            ok = True
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            ok, value = False, error_payload(exc)
        _reply(call_id, ok, value)

    def _reply(call_id: int, ok: bool, value: Any) -> None:
        # Pickled here, unpickled by the caller's thread: a big answer never holds up the
        # parent's one reader thread, so the other replies are not queued behind it.
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            ok, payload = False, pickle.dumps(("OverBudget", OVER_BUDGET, {}))
        with send_lock:
            try:
                conn.send((call_id, ok))
                conn.send_bytes(payload)
            except (OSError, ValueError):
                os._exit(0)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            try:
                call_id, method, args, kwargs = conn.recv()
            except (EOFError, OSError):
                store.flush()
                os._exit(0)  # parent gone: stop at once, the store is consistent on disk
            if method == "close":
                pool.shutdown(wait=True)
                store.close()
                _reply(call_id, True, None)
                return
            pool.submit(run, call_id, method, args, kwargs)


@dataclass
class _Call:
    id: int
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    generation: int
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    value: Any = None
    #: ``value`` is the child's pickled reply (unpickled by the caller's thread)
    packed: bool = False
    #: sent again after the store process went over its memory budget
    retried: bool = False


class IsolatedStore:
    """A :class:`~coopgraph.store.base.Store` whose embedded store lives in a child process.

    :param path: the store directory.
    :param threads: calls the child runs at once.
    :param memory_limit_mib: address space the child may use (0: no limit).
    :raises StartupError: the child could not open the store.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int = 8,
        start_timeout: float = 120.0,
        memory_limit_mib: int = 0,
    ) -> None:
        if str(path) == ":memory:":
            raise StartupError("':memory:' is not a store directory: an isolated store "
                               "runs an on-disk store (open_store(':memory:') for memory)")
        self.path = Path(path)
        self.threads = threads
        self.memory_limit_mib = memory_limit_mib
        self._writer = threading.local()  # per thread: request deadline, write flag
        self.start_timeout = start_timeout
        self.restarts = 0
        self._lock = threading.RLock()  # child, pipe and pending calls
        self._send_lock = threading.Lock()
        self._write_lock = threading.Lock()  # held by in-flight writes; a kill waits for it
        self._ids = itertools.count(1)
        self._pending: dict[int, _Call] = {}
        self._generation = 0
        self._closed = False
        self._closing = False
        self._replacing = False  # a killed child's successor is starting
        self._standby: tuple[subprocess.Popen[bytes], Connection] | None = None
        with self._lock:
            self._start_child()

    # -- child lifecycle -----------------------------------------------------------------

    def _start_child(self) -> None:
        """Start a child process and have it open the store. (A warm standby spawned
        ahead of time would save the 1-2 s of Python start-up on a busy machine; it is
        not kept: a second child confused the crash checks, benchmarks/crash.py.)"""
        standby, self._standby = self._standby, None
        if standby is None or standby[0].poll() is not None:
            standby = self._spawn()
        proc, parent_conn = standby
        try:
            parent_conn.send("open")
        except OSError:
            proc, parent_conn = self._spawn()
            parent_conn.send("open")
        if not parent_conn.poll(self.start_timeout):
            proc.kill()
            raise StartupError(f"store process did not start within {self.start_timeout}s")
        try:
            _, ok, value = parent_conn.recv()
        except EOFError:
            raise StartupError(f"store process for {self.path} died while starting") from None
        if not ok:
            proc.wait()
            raise rebuild_error(value)
        self._generation += 1
        self._conn, self._proc = parent_conn, proc
        generation = self._generation
        threading.Thread(
            target=self._read_replies,
            args=(parent_conn, generation),
            daemon=True,
            name=f"coopgraph-store-reader-{generation}",
        ).start()

    def _spawn(self) -> tuple[subprocess.Popen[bytes], Connection]:
        """A new child process, importing while it waits to be told to open the store."""
        # A plain subprocess (not multiprocessing's spawn, which re-imports the caller's
        # __main__) talking multiprocessing's Connection protocol over a socket pair.
        ours, theirs = socket.socketpair()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coopgraph.store.isolated",
                str(self.path),
                str(theirs.fileno()),
                str(self.threads),
                str(self.memory_limit_mib),
            ],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            # glibc reserves 64 MiB of address space per thread arena: keep the budget
            # for data, not reservations.
            env={**os.environ, "MALLOC_ARENA_MAX": "2"},
        )
        theirs.close()
        return proc, Connection(ours.detach())

    def _read_replies(self, conn: Connection, generation: int) -> None:
        while True:
            try:
                call_id, ok = conn.recv()
                value = conn.recv_bytes()
            except (EOFError, OSError):
                self._child_died(generation)
                return
            with self._lock:
                call = self._pending.pop(call_id, None)
            if call is not None:
                call.ok, call.value, call.packed = ok, value, True
                call.done.set()

    def _child_died(self, generation: int) -> None:
        """The pipe closed. If nobody killed the child on purpose, it crashed."""
        with self._lock:
            if generation != self._generation or self._closing:
                return  # a deliberate restart or close: nothing to do here
            try:
                code = self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                code = self._proc.wait(timeout=5)
            # Rust and C++ abort (SIGABRT) when the kernel refuses them memory.
            over_budget = self.memory_limit_mib > 0 and code == -signal.SIGABRT
            log.error("store process died (exit %s%s); restarting it", code,
                      ", over its memory budget" if over_budget else "")
            error = (
                ("OverBudget", OVER_BUDGET, {"memory_limit_mib": self.memory_limit_mib})
                if over_budget
                else (
                    "StoreError",
                    f"the store process crashed while answering (exit {code}) and was "
                    "restarted; the request was stopped (if it was a query, simplify it)",
                    {},
                )
            )
            # The kernel does not say which call took the memory: every read in flight is
            # sent again once (the culprit fails at its next crash or its timeout); a read
            # already sent twice, a write, or any call after a plain crash fails now.
            in_flight = [c for c in self._pending.values() if c.generation == generation]
            again = [
                c for c in in_flight
                if over_budget and c.method in _READ_METHODS and not c.retried
            ]
            for call in in_flight:
                if call in again:
                    continue
                self._pending.pop(call.id, None)
                call.ok = False
                call.value = error
                call.done.set()
            self.restarts += 1
            self._start_child()
            for call in again:
                call.retried = True
                call.generation = self._generation
                self._send(call)

    def _restart_for_timeout(self, runaway: _Call) -> None:
        """Have the child running ``runaway`` killed and replaced, on another thread: the
        reader gets its timeout at once, neither after a write in flight (the kill waits
        for it; issue 16: the 503 came after the write, 95 s) nor behind a restart that
        holds the pipe (a crash restart at 1M: 503 at timeout + 5 s)."""
        threading.Thread(
            target=self._restart_after_write, args=(runaway,), daemon=True,
            name="coopgraph-store-stop-runaway",
        ).start()

    def _restart_after_write(self, runaway: _Call) -> None:
        with self._write_lock:
            self._restart_now(runaway)

    def _restart_now(self, runaway: _Call) -> None:
        """Kill the child at once; start the new one on another thread, so the reader
        that timed out gets its 503 now, not after the 1-2 s a child takes to start
        (issue 16: the runaway's 503 came at timeout + 1.7 s)."""
        with self._lock:
            if runaway.done.is_set() or self._closed:
                return  # it just finished, or the store was closed meanwhile
            self._pending.pop(runaway.id, None)  # its caller gives up: never send it again
            if runaway.generation != self._generation or self._replacing:
                return  # not running in the current child: another timeout killed its child
            old = self._proc
            old.kill()
            old.wait(timeout=10)
            self._conn.close()
            self.restarts += 1
            self._generation += 1  # the old reader sees EOF, finds a newer generation: no-op
            self._replacing = True  # calls made meanwhile wait in _pending
        threading.Thread(target=self._replace_child, daemon=True,
                         name="coopgraph-store-restart").start()

    def _replace_child(self) -> None:
        """Start the child that replaces a killed one and send it every call waiting:
        the reads that were in flight (reads are idempotent) and the calls made since."""
        with self._lock:
            try:
                self._start_child()
            except CoopgraphError as exc:
                log.error("store process could not be restarted: %s", exc)
                failed: tuple[str, str, dict[str, Any]] = (
                    "StoreError", f"the store process could not be restarted: {exc}", {})
                for call in self._pending.values():
                    call.ok, call.value = False, failed
                    call.done.set()
                self._pending.clear()
                return
            finally:
                self._replacing = False
            for call in list(self._pending.values()):
                call.generation = self._generation
                self._send(call)

    def _send(self, call: _Call) -> None:
        with self._send_lock:
            self._conn.send((call.id, call.method, call.args, call.kwargs))

    # -- calls ---------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        if self._closed:
            raise StoreError("the store is closed")
        if method in _READ_METHODS and not getattr(self._writer, "on", 0):
            timeout = self._read_budget(timeout)
        with self._lock:
            call = _Call(next(self._ids), method, args, kwargs, self._generation)
            self._pending[call.id] = call
            if not self._replacing:  # else the new child gets it (_replace_child)
                self._send(call)
        if not call.done.wait(timeout):
            self._restart_for_timeout(call)
            if not call.done.is_set():
                raise QueryTimeout(
                    f"the query ran for more than {timeout:g} s and was stopped; "
                    "add LIMIT, narrow the patterns or avoid unbounded property paths",
                    details={"timeout": timeout},
                )
        value = pickle.loads(call.value) if call.packed else call.value
        if not call.ok:
            raise rebuild_error(value)
        return value

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryResult:
        return self._call("query", sparql, **options)  # type: ignore[no-any-return]

    def query_serialized(
        self, sparql: str, fmt: Format, **options: Unpack[QueryOptions]
    ) -> SerializedResult:
        """Run a query and serialise its result in the child, which sends back only the
        bytes: no term is pickled (see
        :meth:`~coopgraph.store.base.SerializingStore.query_serialized`).

        :raises NotAcceptable: ``fmt`` is not one of ``RESULT_FORMATS``/``RDF_FORMATS``,
            or cannot carry the query's kind of result.
        """
        if _FORMATS_BY_NAME.get(fmt.name) != fmt:
            raise NotAcceptable(f"{fmt.label} is not a query result format")
        return self._call(  # type: ignore[no-any-return]
            "query_serialized", sparql, fmt.name, **options
        )

    def match(
        self, patterns: Sequence[Pattern], *, limit: int | None = None
    ) -> list[list[ox.Quad]]:
        """:func:`coopgraph.store.base.match` answered by the child with index lookups:
        one round trip for the whole batch, the patterns packed
        (:func:`~coopgraph.store.wire.pack_patterns`)."""
        packed = self._call("match", pack_patterns(patterns), limit=limit)
        return [unpack_quads(found) for found in packed]

    def _read_budget(self, timeout: float | None) -> float | None:
        """The timeout of a read: its own, cut to what is left of this thread's request
        deadline (:meth:`deadline`). Threads outside a request (derived views refreshed
        after a commit) have no deadline: a timeout there would kill the store process
        under everyone's feet.

        :raises QueryTimeout: the request's deadline has passed.
        """
        until: float | None = getattr(self._writer, "until", None)
        if until is None:
            return timeout
        left = until - time.monotonic()
        if left <= 0:
            raise QueryTimeout(
                "the request ran out of its time budget (query_timeout) before this read; "
                "narrow it (a period, fewer types) or try again later",
                details={"timeout": getattr(self._writer, "budget", None)},
            )
        return left if timeout is None else min(timeout, left)

    @contextlib.contextmanager
    def deadline(self, seconds: float | None) -> Iterator[None]:
        """Every read of this thread inside the block shares one budget of ``seconds``: a
        page or export that runs several queries answers within ``query_timeout`` in all,
        not per query (issue 16: an export on a 1M store took 58 s for a 30 s timeout)."""
        previous = getattr(self._writer, "until", None)
        self._writer.until = None if seconds is None else time.monotonic() + seconds
        self._writer.budget = seconds
        try:
            yield
        finally:
            self._writer.until = previous

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Calls from this thread inside the block belong to a write (validation context,
        inference delta): trusted queries, so no request deadline stops them."""
        self._writer.on = getattr(self._writer, "on", 0) + 1
        try:
            yield
        finally:
            self._writer.on -= 1


    def apply(self, changes: Changes) -> None:
        packed = pack_changes(changes)  # before the lock: the other writes need not wait
        with self._write_lock:
            self._call("apply", packed)

    def graph_sizes(self) -> dict[str, int]:
        return self._call("graph_sizes")  # type: ignore[no-any-return]

    def graph_names(self) -> list[str]:
        return self._call("graph_names")  # type: ignore[no-any-return]

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        return iter(unpack_quads(self._call("quads", graph)))

    def bulk_load(self, quads: Iterable[ox.Quad]) -> None:
        batch: list[ox.Quad] = []
        with self._write_lock:
            for quad in quads:
                batch.append(quad)
                if len(batch) >= 200_000:
                    self._call("bulk_load", pack_quads(batch))
                    batch = []
            if batch:
                self._call("bulk_load", pack_quads(batch))

    def __len__(self) -> int:
        return self._call("count")  # type: ignore[no-any-return]

    def __bool__(self) -> bool:
        """Always true: without this, ``if store`` counts every quad (``__len__``: 0.6 s
        holding the store process at 1M triples, on every ``GET /data``; issue 16)."""
        return True

    @property
    def worker_pid(self) -> int | None:
        return self._proc.pid

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closing = True
            try:
                self._call("close", timeout=30)
            except CoopgraphError:
                pass
            self._closed = True
            with self._lock:
                self._generation += 1
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            if self._standby is not None:  # its recv() reads EOF and it exits
                proc, conn = self._standby
                self._standby = None
                conn.close()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    _child_main(sys.argv[1], Connection(int(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4]))
