"""Load: many concurrent clients read through /sparql while entries are written, optionally
with runaway queries thrown in.

    /tmp/venv/bin/python benchmarks/load.py [--clients 50] [--queries 2000] [--store DIR]
        [--runaway 5] [--timeout 5] [--write-every 100] [--max-seconds 600]

Starts ``coopgraph serve`` on 127.0.0.1 (a fresh store in a temporary directory unless
``--store``; a write token through ``COOPGRAPH_TOKENS``; ``COOPGRAPH_QUERY_TIMEOUT`` =
``--timeout``). ``--clients`` threads, each with its own keep-alive connection, share
``--queries`` requests: the example gallery (``queries/*.rq``) round-robin, POSTed as
``application/sparql-query``, with one POST /entries (a small valid offer or partnership,
from tests/data/valid/) every ``--write-every`` reads. The run stops early after
``--max-seconds``. Afterwards every write that got a 2xx is read back (GET /entries/<id>).

Prints: requests, errors (any non-2xx or connection failure; target 0), lost writes
(target 0), read latency p50/p99, write latency p50/p99, throughput.

With ``--runaway N`` the same load runs twice on the same server: once as is, once with N
runaway queries (cartesian products, unbounded property paths) started at intervals during
it. Each runaway must end with an error within ``--timeout`` plus a restart margin; the
script prints each one's status and time, both read p99s and their ratio (target ≤ 2).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import math
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import gallery, loadavg, machine
from crash import AUTH, ROOT, Server, entry_body, request

#: Queries that never finish on their own: the store must stop them at the timeout.
RUNAWAYS = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s (!<urn:x:none>)* ?o . ?o (!<urn:x:none>)* ?z "
    ". ?z ?p ?w }",
    "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY DESC(STR(?a)) STR(?f) "
    "LIMIT 1",
    "ASK { ?a (<http://www.w3.org/2000/01/rdf-schema#label>|!<urn:x:none>)+ ?b . ?c ?d ?e "
    ". ?f ?g ?h . FILTER(STR(?b) = CONCAT(STR(?e), STR(?h), 'x')) }",
    "SELECT (COUNT(DISTINCT CONCAT(STR(?a), STR(?c), STR(?e))) AS ?n) WHERE { ?a ?b ?c . "
    "?c ?d ?e . ?f ?g ?h . ?i ?j ?k }",
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0…100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class LoadResult:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    acked: list[str] = field(default_factory=list)
    write_attempts: int = 0
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False
    runaways: list[tuple[int, float, str]] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.reads) + self.write_attempts,
            "reads": len(self.reads),
            "writes": self.write_attempts,
            "writes_acknowledged": len(self.acked),
            "errors": self.error_count,
            "error_kinds": self.errors,
            "lost_writes": len(self.lost),
            "read_p50_ms": percentile(self.reads, 50) * 1000,
            "read_p99_ms": percentile(self.reads, 99) * 1000,
            "write_p50_ms": percentile(self.writes, 50) * 1000,
            "write_p99_ms": percentile(self.writes, 99) * 1000,
            "reads_per_second": len(self.reads) / self.seconds if self.seconds else math.nan,
            "seconds": self.seconds,
            "stopped_early": self.stopped_early,
        }


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_load(
    port: int, *, clients: int, queries: int, write_every: int, max_seconds: float,
    tag: str, runaway: int = 0, query_timeout: float = 5.0,
) -> LoadResult:
    """One load run against a started server; see the module docstring."""
    items = gallery(ROOT / "queries")
    items = [q for q in items if "/" not in q.name]  # queries/*.rq (not network/)
    result = LoadResult()
    lock = threading.Lock()
    counter = itertools.count()
    writes = itertools.count()
    start = time.perf_counter()
    deadline = start + max_seconds

    def worker() -> None:
        client = Client(port, timeout=query_timeout + 120)
        try:
            while True:
                i = next(counter)
                if i >= queries:
                    return
                if time.perf_counter() > deadline:
                    result.stopped_early = True
                    return
                if write_every and i % write_every == write_every - 1:
                    n = next(writes)
                    entry_id = f"{tag}-{n}"
                    t0 = time.perf_counter()
                    try:
                        status, _ = client.send(
                            "POST", f"/entries?id={entry_id}", entry_body(n, tag),
                            {**AUTH, "Content-Type": "text/turtle"})
                    except (OSError, http.client.HTTPException) as exc:
                        with lock:
                            result.write_attempts += 1
                            result.error(f"write {type(exc).__name__}")
                        continue
                    elapsed = time.perf_counter() - t0
                    with lock:
                        result.write_attempts += 1
                        result.writes.append(elapsed)
                        if 200 <= status < 300:
                            result.acked.append(entry_id)
                        else:
                            result.error(f"write HTTP {status}")
                    continue
                q = items[i % len(items)]
                t0 = time.perf_counter()
                try:
                    status, _ = client.send("POST", "/sparql", q.text.encode("utf-8"), {
                        "Content-Type": "application/sparql-query", "Accept": q.accept})
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        result.error(f"read {type(exc).__name__}")
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    result.reads.append(elapsed)
                    if status != 200:
                        result.error(f"read HTTP {status} ({q.name})")
        finally:
            client.close()

    def runaway_worker(k: int, delay: float) -> None:
        time.sleep(delay)
        t0 = time.perf_counter()
        try:
            status, body = request(port, "POST", "/sparql", RUNAWAYS[k % len(RUNAWAYS)].encode(),
                                   {"Content-Type": "application/sparql-query",
                                    "Accept": "application/sparql-results+json"},
                                   timeout=query_timeout + 120)
            detail = body[:120].decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            status, detail = 0, type(exc).__name__
        with lock:
            result.runaways.append((status, time.perf_counter() - t0, detail))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    # Runaways start spread over the first part of the run (a run of the gallery lasts
    # several timeouts at the default sizes; a later one would find no load to disturb).
    threads += [threading.Thread(target=runaway_worker, args=(k, 0.5 + k * query_timeout * 0.6),
                                 daemon=True) for k in range(runaway)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max_seconds + query_timeout + 300)
    result.seconds = time.perf_counter() - start
    # Every acknowledged write must be readable.
    for entry_id in result.acked:
        status, _ = request(port, "GET", f"/entries/{entry_id}",
                            headers={"Accept": "application/n-quads"})
        if status != 200:
            result.lost.append(entry_id)
    return result


def print_result(title: str, result: LoadResult) -> None:
    s = result.summary()
    print(f"{title}:")
    print(f"  requests {s['requests']} ({s['reads']} reads, {s['writes']} writes) in "
          f"{s['seconds']:.1f} s{' (stopped at --max-seconds)' if s['stopped_early'] else ''}")
    print(f"  errors {s['errors']}" + (f" {s['error_kinds']}" if s["errors"] else ""))
    print(f"  lost writes {s['lost_writes']} of {s['writes_acknowledged']} acknowledged")
    print(f"  read latency p50 {s['read_p50_ms']:.1f} ms, p99 {s['read_p99_ms']:.1f} ms; "
          f"write latency p50 {s['write_p50_ms']:.0f} ms, p99 {s['write_p99_ms']:.0f} ms")
    print(f"  throughput {s['reads_per_second']:.1f} reads/s")
    for status, seconds, detail in sorted(result.runaways, key=lambda r: r[1]):
        print(f"  runaway: HTTP {status} after {seconds:.1f} s ({detail[:80]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--queries", type=int, default=2000,
                        help="requests in all, writes included (default 2000)")
    parser.add_argument("--store", type=Path, default=None,
                        help="store directory (default: a fresh one in a temporary directory)")
    parser.add_argument("--runaway", type=int, default=0,
                        help="also run the load with this many runaway queries")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="the server's query timeout, seconds (default 5)")
    parser.add_argument("--write-every", type=int, default=100,
                        help="one write per this many requests (default 100; 0: no writes)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="stop issuing requests after this long (default 600)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 500 or args.queries < 1:
        parser.error("--clients 1…500 and --queries ≥ 1")
    info = machine()
    print(f"machine: {info.get('cpu', '?')}, {info.get('nproc', '?')} cores; "
          f"load average {loadavg()}")
    print(f"{args.clients} clients, {args.queries} requests, one write per "
          f"{args.write_every or '∞'}, query timeout {args.timeout:g} s", flush=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix="coopgraph-load-") as tmp:
        store = args.store or Path(tmp) / "store"
        log = Path(tmp) / "serve.log"
        with Server(store, log=log, env={"COOPGRAPH_QUERY_TIMEOUT": str(args.timeout)}) as srv:
            run = int(time.time())
            common = {"clients": args.clients, "queries": args.queries,
                      "write_every": args.write_every, "max_seconds": args.max_seconds,
                      "query_timeout": args.timeout}
            # Warm-up: every gallery query once (first runs fill the engine's caches).
            run_load(srv.port, clients=2, queries=60, write_every=0, max_seconds=60,
                     tag=f"warm{run}", query_timeout=args.timeout)
            base = run_load(srv.port, tag=f"load{run}", **common)  # type: ignore[arg-type]
            print_result("without runaway queries", base)
            failed |= base.error_count > 0 or bool(base.lost)
            if args.runaway:
                hostile = run_load(srv.port, tag=f"runaway{run}", runaway=args.runaway,
                                   **common)  # type: ignore[arg-type]
                print_result(f"with {args.runaway} runaway queries", hostile)
                limit = args.timeout + 15
                bad = [r for r in hostile.runaways if r[0] < 400 or r[1] > limit]
                p99_base = percentile(base.reads, 99)
                p99_hostile = percentile(hostile.reads, 99)
                ratio = p99_hostile / p99_base if p99_base else math.nan
                print(f"runaways stopped with an error within {limit:g} s: "
                      f"{len(hostile.runaways) - len(bad)}/{args.runaway}")
                print(f"read p99 without {p99_base * 1000:.1f} ms, with "
                      f"{p99_hostile * 1000:.1f} ms: ratio {ratio:.2f} (target ≤ 2)")
                print(f"read p50 without {statistics.median(base.reads) * 1000:.1f} ms, with "
                      f"{statistics.median(hostile.reads) * 1000:.1f} ms")
                failed |= (hostile.error_count > 0 or bool(hostile.lost) or bool(bad)
                           or len(hostile.runaways) != args.runaway or not ratio <= 2)
            srv_children = srv.store_children()
            print(f"store child processes at the end: {srv_children}")
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
