"""Hardening (issue 16): slow clients, the memory budget, public reads on a big store and
runaway queries during a big write, each against a real ``coopgraph serve``.

    .venv/bin/python benchmarks/hardening.py [--parts slowloris,memory,reads,runaway]
        [--connections 1000] [--hold 60] [--store DIR] [--timeout 30] [--memory 3072]
        [--write-mib 10] [--settle 0]

* ``slowloris``: ``--connections`` sockets each send a partial request, one header line
  every 5 s, for ``--hold`` seconds; from the first connection to the end ``GET /healthz``
  and ``ASK {}`` are sent every 0.5 s on fresh connections. Prints the slowest probe of
  each (target ≤ 1 s), when it was sent, and how many probes failed (target 0).
* ``memory``: three concurrent cartesian ``ORDER BY`` queries under
  ``memory_limit_mib = --memory``; prints each status (target 503), the peak RSS of the
  server's processes sampled every 0.1 s (target: the store process under the budget),
  and the status of the next query (target 200).
* ``reads``: on ``--store DIR`` (a 1M-triple store), ``GET /data?default`` and each
  ``/export/network.*``, with an ``ASK {}`` every 0.2 s meanwhile; prints each read's
  time and status (target ≤ ``--timeout``) and the slowest ASK (target ≤ 1 s).
* ``runaway``: a ``--write-mib`` MiB entry is POSTed; 2 s later a runaway query is sent;
  prints the runaway's status and time (target 503 within ``--timeout`` + 2 s), the
  write's time and status, and the slowest of the ``ASK {}`` sent every 0.5 s during the
  write and answered before the runaway's 503 (target ≤ 1 s; those after it wait for the
  runaway's store process to be replaced, printed apart).

Exit status 1 when a target is missed. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import quote

from common import loadavg
from crash import AUTH, ROOT, Server, request

CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = "ASK {}"
EXPORTS = ("graphml", "gexf", "zip", "jsonld")


def line(name: str, value: str, target: str, ok: bool) -> bool:
    print(f"  {name:<44} {value:<28} target {target:<18} {'ok' if ok else 'MISSED'}",
          flush=True)
    return ok


def sparql(port: int, text: str, timeout: float = 120.0, why: list[str] | None = None
           ) -> tuple[int, float]:
    """POST one query; (status, seconds). ``why`` receives the error title of a non-200."""
    start = time.monotonic()
    try:
        status, body = request(port, "POST", "/sparql", text.encode(),
                               {"Content-Type": "application/sparql-query",
                                "Accept": "application/sparql-results+json"}, timeout=timeout)
    except OSError as exc:
        status, body = 0, repr(exc).encode()
    if why is not None and status != 200:
        try:
            why.append(json.loads(body)["error"])
        except (ValueError, KeyError):
            why.append(body[:80].decode("utf-8", "replace"))
    return status, time.monotonic() - start


class Prober(threading.Thread):
    """Sends ``GET /healthz`` and ``ASK {}`` every ``every`` seconds until stopped."""

    def __init__(self, port: int, every: float, with_health: bool = True) -> None:
        super().__init__(daemon=True)
        self.port, self.every, self.with_health = port, every, with_health
        self.health: list[float] = []
        self.ask: list[float] = []
        #: (seconds since the start, probe, seconds taken) of every probe
        self.log: list[tuple[float, str, float]] = []
        self.failures = 0
        self.stop = threading.Event()
        self.began = time.monotonic()

    def slowest(self) -> str:
        """When the slowest probe was sent, and which: '1.234 s (healthz at 12.3 s)'."""
        if not self.log:
            return "none"
        at, what, seconds = max(self.log, key=lambda row: row[2])
        return f"{seconds:.3f} s ({what} sent at {at:.1f} s)"

    def run(self) -> None:
        while not self.stop.is_set():
            if self.with_health:
                start = time.monotonic()
                try:
                    ok = request(self.port, "GET", "/healthz", timeout=10)[0] == 200
                except OSError:
                    ok = False
                self.health.append(time.monotonic() - start)
                self.log.append((start - self.began, "healthz", self.health[-1]))
                self.failures += not ok
            sent = time.monotonic()
            status, seconds = sparql(self.port, ASK, timeout=10)
            self.ask.append(seconds)
            self.log.append((sent - self.began, "ASK", seconds))
            self.failures += status != 200
            self.stop.wait(self.every)


def open_slow(port: int, count: int) -> list[socket.socket]:
    socks = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(f"GET /healthz?slow={i} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        socks.append(s)
    return socks


def slowloris(port: int, connections: int, hold: float) -> bool:
    print(f"slowloris: {connections} connections held {hold:g} s (load {loadavg()})")
    prober = Prober(port, 0.5)  # probing from the first connection on
    prober.start()
    socks = open_slow(port, connections)
    line("connections opened after", f"{time.monotonic() - prober.began:.1f} s", "(info)", True)
    dropped: set[int] = set()
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:  # each socket sends a header line every 5 s
        for i, s in enumerate(socks):
            time.sleep(5.0 / len(socks))
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                dropped.add(i)
    prober.stop.set()
    prober.join()
    for s in socks:
        s.close()
    ok = line("probes (healthz + ASK)", f"{len(prober.health)} + {len(prober.ask)}",
              "> 0", bool(prober.ask))
    ok &= line("probe failures", str(prober.failures), "0", prober.failures == 0)
    ok &= line("slowest /healthz", f"{max(prober.health):.3f} s", "≤ 1 s",
               max(prober.health) <= 1.0)
    ok &= line("slowest ASK {}", f"{max(prober.ask):.3f} s", "≤ 1 s", max(prober.ask) <= 1.0)
    line("median /healthz, ASK", f"{median(prober.health):.3f} s, {median(prober.ask):.3f} s",
         "(info)", True)
    line("slowest probe", prober.slowest(), "(info)", True)
    line("probes over 1 s", str(sum(row[2] > 1.0 for row in prober.log)), "(info)", True)
    line("slow connections closed by the server", str(len(dropped)), "(info)", True)
    return ok


def _rss_mib(pid: int) -> float:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(server: Server, budget: int) -> bool:
    print(f"memory: 3 concurrent cartesian ORDER BY, budget {budget} MiB (load {loadavg()})")
    port = server.port
    peak: dict[str, float] = {"server": 0.0, "store": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["server"] = max(peak["server"], _rss_mib(server.pid))
            for kid in server.store_children():
                peak["store"] = max(peak["store"], _rss_mib(kid))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    results: list[tuple[int, float]] = []
    why: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(sparql(port, CARTESIAN, 600, why)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sampler.join()
    after = sparql(port, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", 120)
    ok = True
    for i, (status, seconds) in enumerate(sorted(results, key=lambda r: r[1]), 1):
        ok &= line(f"query {i}", f"{status} after {seconds:.1f} s", "503", status == 503)
    line("errors", ", ".join(sorted(set(why))), "(info)", True)
    ok &= line("peak RSS, store process", f"{peak['store']:.0f} MiB", f"< {budget} MiB",
               peak["store"] < budget)
    line("peak RSS, web process", f"{peak['server']:.0f} MiB", "(info)", True)
    ok &= line("next query", f"{after[0]} after {after[1]:.2f} s", "200", after[0] == 200)
    return ok


def reads(port: int, timeout: float) -> bool:
    print(f"reads: GET /data?default and exports, ASK meanwhile (load {loadavg()})")
    ok = True
    for path in ["/data?default", *(f"/export/network.{ext}" for ext in EXPORTS)]:
        prober = Prober(port, 0.2, with_health=False)
        prober.start()
        start = time.monotonic()
        try:
            status, body = request(port, "GET", path, headers={"Accept": "application/n-triples"},
                                   timeout=timeout + 60)
        except OSError:
            status, body = 0, b""
        seconds = time.monotonic() - start
        prober.stop.set()
        prober.join()
        ok &= line(f"GET {path}", f"{status}, {len(body) / 2**20:.1f} MiB, {seconds:.1f} s",
                   f"≤ {timeout:g} s", status in (200, 503) and seconds <= timeout + 2)
        slowest = max(prober.ask) if prober.ask else float("nan")
        ok &= line("  slowest ASK meanwhile", f"{slowest:.3f} s ({len(prober.ask)} sent)",
                   "≤ 1 s", slowest <= 1.0 and prober.failures == 0)
    return ok


def big_entry(mib: float) -> bytes:
    """A valid offer with enough ``cg:activity`` literals to weigh ``mib`` MiB."""
    text = (ROOT / "tests/data/valid/new-offer.ttl").read_text("utf-8")
    text = text.replace("offer/test-lille-kortrijk-stage", "offer/big-entry")
    head, _, _ = text.rpartition("dcterms:source")
    parts = [head]
    n = 0
    size = len(head)
    while size < mib * 2**20 - 4096:  # just under max_body_bytes when mib = 10
        piece = f'    cg:activity "Activité numéro {n} : animer un groupe transfrontalier."@fr ;\n'
        parts.append(piece)
        size += len(piece.encode())
        n += 1
    parts.append("    dcterms:source <https://example.org/test-offer> .\n")
    return "".join(parts).encode("utf-8")


def runaway(port: int, timeout: float, mib: float) -> bool:
    body = big_entry(mib)
    print(f"runaway: a {len(body) / 2**20:.1f} MiB entry, a runaway query 2 s later "
          f"(load {loadavg()})")
    write: dict[str, Any] = {}

    def post() -> None:
        start = time.monotonic()
        try:
            write["status"], _ = request(port, "POST", f"/entries?id={quote('big-entry')}", body,
                                         {**AUTH, "Content-Type": "text/turtle"}, timeout=900)
        except OSError as exc:
            write["status"] = repr(exc)
        write["seconds"] = time.monotonic() - start

    writer = threading.Thread(target=post)
    writer.start()
    prober = Prober(port, 0.5, with_health=False)  # reads are not held behind the write
    prober.start()
    time.sleep(2)
    status, seconds = sparql(port, RUNAWAY, timeout + 120)
    answered = time.monotonic() - prober.began  # then its store process is replaced
    writer.join()
    prober.stop.set()
    prober.join()
    before = [took for at, _, took in prober.log if at + took < answered]
    held = max((row for row in prober.log if row[0] + row[2] < answered),
               key=lambda row: row[2], default=(0.0, "", 0.0))
    after = [took for at, _, took in prober.log if at + took >= answered]
    ok = line("runaway query", f"{status} after {seconds:.1f} s", f"503 ≤ {timeout + 2:g} s",
              status == 503 and seconds <= timeout + 2)
    line("the write", f"{write['status']} after {write['seconds']:.1f} s", "(info)", True)
    ok &= line("slowest ASK {} during the write", f"{held[2]:.3f} s (sent at {held[0]:.1f} s; "
               f"{len(before)} before the runaway's 503)", "≤ 1 s",
               bool(before) and max(before) <= 1.0)
    line("  after it (its store process restarts)", f"{max(after, default=0):.3f} s "
         f"({len(after)} sent, {prober.failures} failed)", "(info)", True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="slowloris,memory,reads,runaway")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=60.0)
    parser.add_argument("--store", type=Path, help="store directory (default: a fresh one)")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--memory", type=int, default=3072)
    parser.add_argument("--write-mib", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the start, so that the start-up work "
                             "(network view read back and rendered) is over")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    ok = True
    with tempfile.TemporaryDirectory(prefix="coopgraph-harden-") as tmp:
        store = args.store or Path(tmp) / "store"
        server = Server(store, log=Path(tmp) / "serve.log", env={
            "COOPGRAPH_QUERY_TIMEOUT": str(args.timeout),
            "COOPGRAPH_MEMORY_LIMIT_MIB": str(args.memory),
            "COOPGRAPH_ACCESS_LOG": "",
        })
        server.start(timeout=1800)
        if args.settle:
            print(f"waiting {args.settle:g} s after the start (load {loadavg()})", flush=True)
            time.sleep(args.settle)
        try:
            if "slowloris" in parts:
                ok &= slowloris(server.port, args.connections, args.hold)
            if "memory" in parts:
                ok &= memory(server, args.memory)
            if "reads" in parts:
                ok &= reads(server.port, args.timeout)
            if "runaway" in parts:
                ok &= runaway(server.port, args.timeout, args.write_mib)
        finally:
            server.stop()
    print("all targets met" if ok else "some targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
