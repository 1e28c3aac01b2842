"""Heavy, read-only work of the web process run in a forked child (issue 12, item 2).

The network view's whole-network answers (30–60 MB of GraphML, GEXF, JSON at 1M
triples: a minute of CPU) and its pickling were computed in threads of the web process,
so they held its interpreter (the GIL) while writes and pages waited for it: the writes
right after a start took 0.4–0.6 s instead of 0.1 s. A forked child sees the parent's
objects as they are (copy-on-write: nothing is pickled or sent), renders on the other
core and writes files; the parent only waits for it, which releases the GIL.

The child must not touch anything shared with the parent's other threads: the store
connection (its pipes), locks other threads may hold at the fork. It renders from
objects in memory, writes files and leaves with :func:`os._exit` (no ``atexit``, no
flush of inherited buffers). Where ``fork`` does not exist the work runs in-process.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "FORK", "NICENESS", "compute_forked", "die_with_parent", "run_forked", "spawn",
]

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How much lower a background child's CPU priority is than the server's.
NICENESS = 5

#: Can this platform fork (POSIX)? Elsewhere :func:`run_forked` runs the work in-process.
FORK = hasattr(os, "fork")


def _never() -> bool:
    return False


def die_with_parent() -> None:
    """In a child process: be killed when the parent dies (Linux ``PR_SET_PDEATHSIG``; the
    signal comes when the *thread* that started the child ends, so that thread must wait
    for the child): a stopped server leaves no child computing for minutes."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's timeout still applies
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _detach() -> None:
    """In the child: die with the parent (:func:`die_with_parent`: the thread that forked
    waits for the child, so it outlives it), and close every inherited descriptor but
    stdin/stdout/stderr: the parent's sockets (its store process reads EOF on its socket
    to exit when the server stops, releasing the store's lock), listening socket and
    files stay the parent's alone."""
    die_with_parent()
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 4096))
    for fd in fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


def spawn(work: Callable[[], None]) -> int:
    """Fork a child that runs ``work()`` then leaves with :func:`os._exit` (0, or 1 after
    printing the traceback of what ``work`` raised); the child's pid (``FORK`` only). The
    caller waits for it (``os.waitpid``) from the thread that forked it: the child dies
    with that thread (:func:`die_with_parent`)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            gc.disable()  # a collection would touch (and copy) every object of the parent
            _detach()
            work()
            code = 0
        except BaseException:  # noqa: BLE001 - reported, then the exit code says it
            try:
                traceback.print_exc()
                sys.stderr.flush()
            except Exception:  # noqa: BLE001, S110 - nothing left to report with
                pass
        finally:
            os._exit(code)
    return pid


def run_forked(
    work: Callable[[], None],
    *,
    name: str,
    cancelled: Callable[[], bool] = _never,
    timeout: float = 1800.0,
) -> bool:
    """Run ``work()`` in a forked child and wait for it (polling ``cancelled`` every
    0.05 s: ``True`` kills the child, as does ``timeout``).

    :param name: what the work is, for the log.
    :returns: did the work finish (exit code 0)? A failure is logged with the child's
        traceback on stderr; the caller keeps what it served before.
    """
    if not FORK:
        try:
            work()
        except Exception:
            log.exception("%s failed", name)
            return False
        return True
    pid = spawn(work)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                log.warning("%s failed in its child process (exit code %s)", name, code)
            return code == 0
        if cancelled() or time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.05)


def compute_forked(
    work: Callable[[], T],
    *,
    name: str,
    background: bool = False,
    cancelled: Callable[[], bool] = _never,
    timeout: float = 1800.0,
) -> T:
    """``work()``'s result, computed in a forked child (:func:`run_forked`: the child
    reads the parent's objects as they are, nothing is pickled on the way in) and
    returned through a temporary file (pickled once, on the way out).

    :param background: work no request waits for (betweenness after a write, the search
        index's rebuild): the child runs at ``nice`` :data:`NICENESS`, so requests come
        first on a busy machine. (Not the views' answers: requests wait for those.)

    :raises RuntimeError: the child failed, was cancelled or timed out (its traceback is
        on stderr).
    """
    import pickle
    import tempfile

    with tempfile.TemporaryDirectory(prefix="coopgraph-forked-") as folder:
        path = os.path.join(folder, "result.pickle")

        def child() -> None:
            if background:
                os.nice(NICENESS)
            result = work()
            with open(path + ".tmp", "wb") as f:
                pickle.dump(result, f, protocol=5)
            os.replace(path + ".tmp", path)  # complete, or absent

        if not run_forked(child, name=name, cancelled=cancelled, timeout=timeout):
            raise RuntimeError(f"{name}: its child process did not finish")
        with open(path, "rb") as f:
            out: T = pickle.load(f)  # noqa: S301 - written just now by our own child
        return out
