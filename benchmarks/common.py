"""Helpers shared by the benchmark scripts: timing statistics, processes, HTTP, queries.

Nothing here is imported by coopgraph itself; the benchmarks are outside the package.
"""

from __future__ import annotations

import http.client
import math
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# -- statistics ----------------------------------------------------------------------------


@dataclass
class Samples:
    """Wall-clock samples in seconds, or why there are none."""

    times: list[float] = field(default_factory=list)
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.ok else None

    @property
    def p99(self) -> float | None:
        """Nearest-rank 99th percentile (the maximum below 100 samples)."""
        if not self.ok:
            return None
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_s": self.median,
            "p99_s": self.p99,
            "runs": len(self.times),
            "error": self.error,
            "note": self.note,
        }


class Timeout(Exception):
    """A measured call ran past its time limit."""


@contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python work (rdflib) after ``seconds`` (main thread only)."""

    def fire(signum: int, frame: Any) -> None:
        raise Timeout(f"> {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measure(
    fn: Callable[[], object],
    *,
    runs: int,
    budget: float,
    timeout: float | None = None,
    interruptible: bool = False,
) -> Samples:
    """Time ``fn`` ``runs`` times after one warm-up run.

    When the warm-up shows that ``runs`` runs would exceed ``budget`` seconds, fewer runs
    are made (at least 3, or only the warm-up when it alone exceeds the budget); the
    result's ``note`` says so. ``interruptible`` stops pure-Python calls at ``timeout``.
    """

    def once() -> float:
        start = time.perf_counter()
        if interruptible and timeout:
            with alarm(timeout):
                fn()
        else:
            fn()
        return time.perf_counter() - start

    try:
        warm = once()
    except Timeout as exc:
        return Samples(error=f"timeout {exc}")
    except Exception as exc:  # noqa: BLE001 - a failing engine is reported, not fatal
        return Samples(error=f"{type(exc).__name__}: {str(exc)[:160]}")
    if timeout and warm > timeout:
        return Samples([warm], note=f"1 run (warm-up {warm:.1f} s > timeout)")
    if warm >= budget:
        return Samples([warm], note="1 run (warm-up over budget)")
    n = runs if warm * runs <= budget else max(3, int(budget / max(warm, 1e-9)))
    samples = Samples(note=None if n == runs else f"{n} runs (budget {budget:g} s)")
    for _ in range(n):
        try:
            samples.times.append(once())
        except Timeout as exc:
            samples.error = f"timeout {exc}"
            break
        except Exception as exc:  # noqa: BLE001
            samples.error = f"{type(exc).__name__}: {str(exc)[:160]}"
            break
    return samples


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, max) seconds of ``runs`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


# -- machine and processes -----------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_mb": mem,
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            kids.extend(int(k) for k in text)
    except OSError:
        pass
    return kids


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of a process and all its descendants, in MiB."""
    total = 0
    seen: set[int] = set()
    stack = [pid]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        stack.extend(_children(p))
    return total / 1024 if total else None


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a server we started (SIGTERM, then SIGKILL), by its pid only."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# -- HTTP ----------------------------------------------------------------------------------


class HttpClient:
    """One keep-alive connection to a SPARQL endpoint (SPARQL 1.1 Protocol, POST)."""

    def __init__(self, port: int, path: str = "/sparql", timeout: float = 120.0) -> None:
        self.port = port
        self.path = path
        self.timeout = timeout
        self.form = False  # POST application/sparql-query unless the server refuses it
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def get(self, path: str) -> tuple[int, bytes]:
        conn = self._connection()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def query(self, sparql: str, accept: str) -> bytes:
        """Run a query and read the whole answer; raise on a non-200 status."""
        if self.form:
            body = urllib.parse.urlencode({"query": sparql}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body = sparql.encode()
            ctype = "application/sparql-query"
        conn = self._connection()
        try:
            conn.request("POST", self.path, body, {"Content-Type": ctype, "Accept": accept})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.status == 415 and not self.form:
            self.form = True
            return self.query(sparql, accept)
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:200].decode(errors='replace')}")
        return data


def wait_until(check: Callable[[], bool], timeout: float, proc: subprocess.Popen[Any]) -> float:
    """Poll ``check`` every 10 ms; seconds until it held. Raises if the process died."""
    start = time.perf_counter()
    while True:
        try:
            if check():
                return time.perf_counter() - start
        except (OSError, http.client.HTTPException, RuntimeError):
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"server not ready after {timeout:g} s")
        time.sleep(0.01)


# -- queries -------------------------------------------------------------------------------

_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


@dataclass
class Query:
    name: str
    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE

    @property
    def accept(self) -> str:
        if self.form in ("CONSTRUCT", "DESCRIBE"):
            return "application/n-triples"
        return "application/sparql-results+json"


def gallery(queries_dir: Path) -> list[Query]:
    """Every ``queries/*.rq`` and ``queries/network/*.rq``, read at run time."""
    found: list[Query] = []
    for path in sorted(queries_dir.glob("*.rq")) + sorted(queries_dir.glob("network/*.rq")):
        text = path.read_text("utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        body = re.sub(r"<[^>]*>", "<>", body)  # IRIs may contain the keywords
        match = _FORM.search(body)
        name = str(path.relative_to(queries_dir).with_suffix(""))
        found.append(Query(name, text, match.group(1).upper() if match else "SELECT"))
    return found

