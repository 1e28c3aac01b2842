"""Crash and restart: SIGKILL a loaded server in the middle of a burst of writes, restart it
on the same store, and check that nothing acknowledged was lost and nothing is half-written.

    /tmp/venv/bin/python benchmarks/crash.py [--writers 4] [--kill-after 6] [--rounds 1]

Each round: ``coopgraph serve`` on a fresh store (127.0.0.1, free port, a write token),
``--writers`` threads POST small valid entries (offers and partnerships based on
tests/data/valid/) to ``/entries``; once ``--kill-after`` writes got a 2xx the server
process is SIGKILLed. Then:

1. its store child process exits by itself (it must not keep the RocksDB store locked);
2. ``coopgraph serve`` restarts on the same store and answers;
3. every acknowledged entry is there over HTTP, and, with the store opened directly, every
   entry graph present holds all the triples of the document sent, or the graph is absent
   (never a part), with its provenance;
4. the inferred graph equals what a fresh full materialisation computes
   (:meth:`coopgraph.reason.Reasoner.materialise`).

Every second round also has a never-ending query running in the store child at the kill.
Prints one line per check and exits 1 when one fails. ``tests/test_crash_restart.py`` runs
one short round of the same code. This module also holds :class:`Server`, the helper the
other reliability scripts (``load.py``, ``fuzz.py``) use to run ``coopgraph serve``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "data" / "valid"
TOKEN_NAME, TOKEN = "bench", "bench-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENTRY_PREFIX = "https://w3id.org/coopgraph/graph/entry/"
PROVENANCE = "https://w3id.org/coopgraph/graph/provenance"
INFERRED = "https://w3id.org/coopgraph/graph/inferred"
_URL = re.compile(r"serving on (http://127\.0\.0\.1:\d+/)")


# ---------------------------------------------------------------------------------------
# coopgraph serve as a child process
# ---------------------------------------------------------------------------------------


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(k) for k in (task / "children").read_text().split()]
    except OSError:
        pass
    return kids


class Server:
    """``coopgraph serve --store DIR --host 127.0.0.1 --port 0`` with a write token.

    :param store: the store directory.
    :param log: file receiving the server's stderr (the URL is read from it).
    :param env: extra ``COOPGRAPH_*`` settings.
    """

    def __init__(self, store: Path, *, log: Path, env: dict[str, str] | None = None) -> None:
        self.store, self.log_path, self.extra = store, log, env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port = 0

    def start(self, timeout: float = 300.0) -> str:
        """Start and wait until ``/healthz`` answers; the base URL.

        :raises RuntimeError: the server exited or did not answer in ``timeout`` seconds.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
        env["COOPGRAPH_TOKENS"] = f"{TOKEN_NAME}:{TOKEN}"
        env.update(self.extra)
        command = [sys.executable, "-m", "coopgraph", "serve", "--store", str(self.store),
                   "--host", "127.0.0.1", "--port", "0"]
        with open(self.log_path, "ab") as log:
            offset = log.tell()
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env,
                                         cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"coopgraph serve exited ({self.proc.returncode}):\n"
                                   + self.log_tail())
            match = _URL.search(self.log_path.read_bytes()[offset:].decode("utf-8", "replace"))
            if match:
                self.url = match.group(1)
                self.port = urlsplit(self.url).port or 0
                try:
                    if request(self.port, "GET", "/healthz", timeout=5)[0] == 200:
                        return self.url
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"coopgraph serve did not answer within {timeout:g} s\n"
                           + self.log_tail())

    def log_tail(self) -> str:
        return self.log_path.read_text("utf-8", "replace")[-3000:]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def store_children(self) -> list[int]:
        return children(self.pid)

    def kill(self) -> list[int]:
        """SIGKILL the server (only it: its child must notice on its own); the child pids."""
        assert self.proc is not None
        kids = self.store_children()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return kids

    def stop(self) -> None:
        """SIGINT (a clean shutdown), SIGKILL after 60 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def request(
    port: int, method: str, path: str, body: bytes | None = None,
    headers: dict[str, str] | None = None, timeout: float = 120.0,
) -> tuple[int, bytes]:
    """One request on a fresh connection to 127.0.0.1:port; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------------------

_OFFER = (VALID / "new-offer.ttl").read_text("utf-8")
_PARTNERSHIP = (VALID / "new-partnership.ttl").read_text("utf-8")


def entry_body(n: int, tag: str = "rel") -> bytes:
    """A small valid entry with its own IRIs: an offer (even ``n``) or a partnership."""
    if n % 2 == 0:
        text = _OFFER.replace("offer/test-lille-kortrijk-stage", f"offer/{tag}-{n}").replace(
            "(offre de test)", f"(offre de test {tag} {n})")
    else:
        text = _PARTNERSHIP.replace(
            "partnership/test-france-volontaires-so-cooperation-volontariat",
            f"partnership/{tag}-{n}",
        ).replace("Partenariat de test", f"Partenariat de test {tag} {n}")
    return text.encode("utf-8")


def post_entry(port: int, entry_id: str, body: bytes, timeout: float = 120.0) -> int:
    status, _ = request(port, "POST", f"/entries?id={quote(entry_id)}", body,
                        {**AUTH, "Content-Type": "text/turtle"}, timeout=timeout)
    return status


# ---------------------------------------------------------------------------------------
# One crash round
# ---------------------------------------------------------------------------------------


@dataclass
class CrashResult:
    sent: int = 0
    acked: list[str] = field(default_factory=list)
    store_children: list[int] = field(default_factory=list)
    children_left: list[int] = field(default_factory=list)
    child_exit_seconds: float = 0.0
    restart_seconds: float = 0.0
    acked_missing_over_http: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    unknown_graphs: list[str] = field(default_factory=list)
    without_provenance: list[str] = field(default_factory=list)
    inferred_quads: int = 0
    inferred_consistent: bool = False
    inferred_diff: int = 0

    @property
    def ok(self) -> bool:
        return bool(
            self.acked and self.store_children and not self.children_left
            and not self.acked_missing_over_http and not self.missing and not self.partial
            and not self.unknown_graphs and not self.without_provenance
            and self.inferred_consistent
        )

    def lines(self) -> list[str]:
        return [
            f"writes sent: {self.sent}, acknowledged (2xx) before the kill: {len(self.acked)}",
            f"store child processes of the killed server: {self.store_children}, "
            f"still running after the kill: {self.children_left or 'none'} "
            f"(exited within {self.child_exit_seconds:.2f} s)",
            f"restart on the same store: answered after {self.restart_seconds:.1f} s",
            f"acknowledged entries missing over HTTP: {self.acked_missing_over_http or 'none'}",
            f"entries present: {len(self.present)} (acknowledged missing: "
            f"{self.missing or 'none'}; partial: {self.partial or 'none'}; "
            f"unknown: {self.unknown_graphs or 'none'}; "
            f"without provenance: {self.without_provenance or 'none'})",
            f"inferred graph: {self.inferred_quads} quads, equal to a full materialisation: "
            f"{self.inferred_consistent} ({self.inferred_diff} quads differ)",
            "OK" if self.ok else "FAILED",
        ]


def _writer(port: int, ids: list[str], bodies: dict[str, bytes], acked: list[str],
            lock: threading.Lock, counter: list[int], stop: threading.Event) -> None:
    for entry_id in ids:
        if stop.is_set():
            return
        with lock:
            counter[0] += 1
        try:
            status = post_entry(port, entry_id, bodies[entry_id], timeout=120)
        except (OSError, http.client.HTTPException):
            return  # the server is gone
        if 200 <= status < 300:
            with lock:
                acked.append(entry_id)


def _ground(quads: list[Any], *, canonical: bool = False) -> set[str]:
    """The triples without blank nodes, as N-Triples; ``canonical``: with literals written
    the way the store writes them (entries go in through a SPARQL update, which turns
    ``"1.0"^^xsd:decimal`` into ``"1"``, ``"P12M"`` into ``"P1Y"``…)."""
    import pyoxigraph as ox

    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads
               if not isinstance(q.subject, ox.BlankNode)
               and not isinstance(q.object, ox.BlankNode)]
    if canonical:
        memory = ox.Store()
        memory.update("INSERT DATA { " + " .\n".join(str(t) for t in triples) + " }")
        return {str(ox.Triple(q.subject, q.predicate, q.object)) for q in memory}
    return {str(t) for t in triples}


def _ignore_errors(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except (OSError, http.client.HTTPException):
        pass


def _check_store(store_dir: Path, bodies: dict[str, bytes], result: CrashResult) -> None:
    """Open the store directly (the server is stopped) and check entries and inferences."""
    import pyoxigraph as ox

    from coopgraph.parse import parse_bytes, skolemise
    from coopgraph.reason import Reasoner
    from coopgraph.store.embedded import EmbeddedStore

    store = EmbeddedStore(store_dir)
    try:
        graphs = [g for g in store.graph_sizes() if g.startswith(ENTRY_PREFIX)]
        for graph in sorted(graphs):
            entry_id = graph[len(ENTRY_PREFIX):]
            if entry_id not in bodies:
                result.unknown_graphs.append(entry_id)
                continue
            result.present.append(entry_id)
            # as the entries pipeline stores it: blank nodes skolemised
            expected = skolemise(parse_bytes(bodies[entry_id], "turtle", default_graph=graph),
                                 graph)
            got = list(store.quads(graph))

            if len(got) != len(expected) or _ground(got) != _ground(expected, canonical=True):
                result.partial.append(entry_id)
            attributed = store.query(
                "ASK { GRAPH ?pg { ?g ?p ?who } }",
                bindings={"g": ox.NamedNode(graph), "pg": ox.NamedNode(PROVENANCE)},
            )
            if not bool(attributed):
                result.without_provenance.append(entry_id)
        result.missing = sorted(set(result.acked) - set(result.present))
        kept = {str(q) for q in store.quads(INFERRED)}
        result.inferred_quads = len(kept)
        Reasoner(store).materialise()
        fresh = {str(q) for q in store.quads(INFERRED)}
        result.inferred_diff = len(kept ^ fresh)
        result.inferred_consistent = kept == fresh
    finally:
        store.close()


#: A query that runs until stopped: in flight in the store child when the server is killed.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def crash_round(
    workdir: Path, *, writers: int = 4, kill_after: int = 6, per_writer: int = 50,
    tag: str = "crash", max_seconds: float = 300.0, jitter: float = 0.0,
    runaway: bool = False,
) -> CrashResult:
    """Start, write, SIGKILL, check the child exits, restart, verify. Never raises on a
    failed check: the result says what went wrong.

    :param jitter: wait a random 0…jitter seconds after the ``kill_after``-th
        acknowledgement before the kill, so that it lands anywhere in a write.
    :param runaway: have a never-ending query running in the store child at the kill.
    """
    store_dir, log = workdir / "store", workdir / "serve.log"
    result = CrashResult()
    ids = [[f"{tag}-{w}-{i}" for i in range(per_writer)] for w in range(writers)]
    bodies = {eid: entry_body(w * per_writer + i, tag)
              for w, row in enumerate(ids) for i, eid in enumerate(row)}
    server = Server(store_dir, log=log)
    server.start()
    lock, stop, counter = threading.Lock(), threading.Event(), [0]
    threads = [threading.Thread(target=_writer, daemon=True,
                                args=(server.port, row, bodies, result.acked, lock, counter, stop))
               for row in ids]
    try:
        for thread in threads:
            thread.start()
        if runaway:
            threading.Thread(target=_ignore_errors, daemon=True, args=(
                request, server.port, "POST", "/sparql", RUNAWAY.encode(),
                {"Content-Type": "application/sparql-query"})).start()
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            with lock:
                if len(result.acked) >= kill_after:
                    break
            time.sleep(0.01)
        time.sleep(random.uniform(0, jitter))
        result.store_children = server.kill()
        stop.set()
        start = time.monotonic()
        while time.monotonic() - start < 30 and not all(map(process_gone, result.store_children)):
            time.sleep(0.02)
        result.child_exit_seconds = time.monotonic() - start
        result.children_left = [p for p in result.store_children if not process_gone(p)]
        for pid in result.children_left:  # do not leave it behind; it is ours
            os.kill(pid, signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=130)
    finally:
        stop.set()
        if server.proc is not None and server.proc.poll() is None:
            server.kill()
    result.sent = counter[0]
    start = time.monotonic()
    with Server(store_dir, log=log) as again:
        result.restart_seconds = time.monotonic() - start
        for entry_id in result.acked:
            status, _ = request(again.port, "GET", f"/entries/{entry_id}",
                                headers={"Accept": "application/n-quads"})
            if status != 200:
                result.acked_missing_over_http.append(entry_id)
    _check_store(store_dir, bodies, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=4, help="writing threads (default 4)")
    parser.add_argument("--kill-after", type=int, default=6,
                        help="SIGKILL once this many writes were acknowledged (default 6)")
    parser.add_argument("--rounds", type=int, default=1, help="crash rounds (default 1)")
    parser.add_argument("--jitter", type=float, default=2.0,
                        help="random extra delay before the kill, seconds (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep stores and logs here (default: a temporary directory)")
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    args = parser.parse_args(argv)
    failures = 0
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="coopgraph-crash-") as tmp:
        base = args.workdir or Path(tmp)
        for round_no in range(1, args.rounds + 1):
            workdir = base / f"round-{round_no}"
            workdir.mkdir(parents=True, exist_ok=True)
            print(f"round {round_no}: {args.writers} writers, kill after "
                  f"{args.kill_after} acknowledged writes + 0…{args.jitter:g} s"
                  + (", a runaway query in flight" if round_no % 2 == 0 else ""), flush=True)
            random.seed(args.seed * 1000 + round_no)
            result = crash_round(workdir, writers=args.writers, kill_after=args.kill_after,
                                 tag=f"crash{round_no}", jitter=args.jitter,
                                 runaway=round_no % 2 == 0)
            for line in result.lines():
                print("  " + line, flush=True)
            failures += not result.ok
            results.append({**result.__dict__, "ok": result.ok})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(f"{args.rounds - failures}/{args.rounds} rounds OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
