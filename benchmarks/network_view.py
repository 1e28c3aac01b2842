"""Latency of the network view's routes (issue 12, items 5 and 7) beside their targets.

Against a store that already holds the project and a generated dataset (for instance
``generate.py --orgs 10000`` imported into ``--store DIR``), with nothing else holding it:

1. ``coopgraph network stats`` twice: the first run may compute the view (and keep it
   beside the store), the second reads it back (target ≤ 200 ms for the command's work;
   the figure printed includes Python's start-up);
2. ``coopgraph serve`` on the store: seconds until ``/healthz`` answers and until
   ``/api/network.json`` answers (target ≤ 2 s each);
3. each route, ``--runs`` times (target ≤ 200 ms median);
4. ``--writes`` entries written over HTTP (``PUT /entries/<id>``, generated offers): for
   each, the seconds until ``/api/network.json`` and ``/export/network.graphml`` answer
   from a build that holds it (``X-Coopgraph-Generation`` past the one before the write;
   target ≤ 2 s: the view is patched, not rebuilt), then each route once (target ≤ 2 s),
   and the seconds until the betweenness recomputed in the background is served
   (``X-Coopgraph-Stale: false``).

Every step is a function (:func:`start_serve`, :func:`measure_routes`,
:func:`write_then_measure`, :func:`wait_fresh`, :func:`cli_network_stats`) so the
overall suite can reuse them. Nothing here is a test: nothing asserts, figures are
printed with the machine's load (``uptime``).

    .venv/bin/python benchmarks/network_view.py --store /work/bench/s1m --orgs 10000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import free_port, loadavg, stop, wait_until  # noqa: E402

#: Targets of issue 12 (seconds).
FAST = 0.2
AFTER_WRITE = 2.0
START = 2.0
TOKEN = ("bench", "bench-network-view-token")


@dataclass
class Figure:
    """One measured route: what, how fast, against which target."""

    name: str
    target: float
    times: list[float] = field(default_factory=list)
    status: int | None = None
    stale: str | None = None
    size: int = 0
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def worst(self) -> float | None:
        return max(self.times) if self.times else None

    def line(self) -> str:
        if self.error:
            target = f"target ≤ {self.target * 1000:.0f} ms"
            return f"{self.name:<52} {'error':>9}  {target}  {self.error}"
        med = self.median or 0.0
        ok = "ok" if med <= self.target else "OVER"
        extra = f"  HTTP {self.status}" if self.status is not None else ""
        if self.stale is not None:
            extra += f"  stale={self.stale}"
        if self.size:
            extra += f"  {self.size / 1e6:.2f} MB"
        return (
            f"{self.name:<52} {med * 1000:>7.0f} ms  (max {(self.worst or 0) * 1000:>6.0f})"
            f"  target ≤ {self.target * 1000:>5.0f} ms  {ok}{extra}"
        )


def get(port: int, path: str, *, headers: dict[str, str] | None = None,
        timeout: float = 300.0) -> tuple[int, dict[str, str], bytes, float]:
    """One GET on a fresh connection: status, headers, body, seconds (body read)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, dict(resp.getheaders()), body, time.perf_counter() - start
    finally:
        conn.close()


def routes(focus: str) -> list[tuple[str, str]]:
    """The routes issue 12 sets targets for: ``(name, path)``."""
    q = urllib.parse.quote(focus, safe="")
    return [
        ("/api/network.json?limit=200", "/api/network.json?limit=200"),
        ("/api/network.json?focus=…&depth=1", f"/api/network.json?focus={q}&depth=1"),
        ("/api/network.json (whole network)", "/api/network.json"),
        ("/export/network.graphml", "/export/network.graphml"),
        ("/export/network.gexf", "/export/network.gexf"),
        ("/export/network.zip", "/export/network.zip"),
        ("/export/network.jsonld", "/export/network.jsonld"),
        ("/ranking", "/ranking"),
        ("/ranking.json?by=betweenness&limit=100", "/ranking.json?by=betweenness&limit=100"),
        ("/stats", "/stats"),
        ("/id/org/… (entity page, HTML)", "/id/" + focus.split("/id/", 1)[-1]),
        ("/id/place/… (entity page, HTML)", "/id/place/oujda"),
    ]


def measure_routes(port: int, paths: list[tuple[str, str]], *, runs: int = 5,
                   target: float = FAST) -> list[Figure]:
    """Each route ``runs`` times after one warm-up request (which renders and caches)."""
    out = []
    html = {"Accept": "text/html"}
    for name, path in paths:
        fig = Figure(name, target)
        try:
            headers = html if name.startswith(("/id/", "/ranking ", "/ranking")) else None
            get(port, path, headers=headers)
            for _ in range(runs):
                status, head, body, seconds = get(port, path, headers=headers)
                fig.times.append(seconds)
                fig.status, fig.size = status, len(body)
                fig.stale = head.get("X-Coopgraph-Stale")
        except (OSError, http.client.HTTPException) as exc:
            fig.error = f"{type(exc).__name__}: {exc}"
        out.append(fig)
    return out


def put_entry(port: int, k: int, orgs: int, seed: int) -> tuple[int, float]:
    """Write one generated offer (``cgg:entry/bench-net-<k>``) over HTTP: status, seconds."""
    from generate import entry_nquads

    body = entry_nquads(orgs, seed, k).replace("entry/bench-", "entry/bench-net-")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start = time.perf_counter()
    try:
        conn.request("PUT", f"/entries/bench-net-{k}", body.encode("utf-8"), {
            "Content-Type": "application/n-quads",
            "Authorization": f"Bearer {TOKEN[1]}",
        })
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - start
    finally:
        conn.close()


def write_then_measure(port: int, paths: list[tuple[str, str]], *, k: int, orgs: int,
                       seed: int) -> tuple[tuple[int, float], list[Figure]]:
    """One write, then each route once right after it (target ≤ 2 s)."""
    written = put_entry(port, k, orgs, seed)
    return written, measure_routes(port, paths, runs=1, target=AFTER_WRITE)


def generation(port: int, path: str) -> int:
    """The build generation ``path`` answers from (``X-Coopgraph-Generation``)."""
    return int(get(port, path)[1].get("X-Coopgraph-Generation", "-1"))


def wait_generation(port: int, path: str, past: int, timeout: float = 600.0) -> float | None:
    """Seconds until ``path`` answers from a build newer than generation ``past``."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if generation(port, path) > past:
            return time.perf_counter() - start
        time.sleep(0.05)
    return None


def wait_fresh(port: int, timeout: float = 1800.0) -> float | None:
    """Seconds until ``/api/network.json`` is no longer stale (None: not within timeout)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        _, head, _, _ = get(port, "/api/network.json?limit=1")
        if head.get("X-Coopgraph-Stale") == "false":
            return time.perf_counter() - start
        time.sleep(0.5)
    return None


def start_serve(store: Path, log: Path, *, extra_env: dict[str, str] | None = None
                ) -> tuple[subprocess.Popen[Any], int, float, float]:
    """``coopgraph serve`` on ``store``: the process, its port, seconds until /healthz
    answers, seconds until /api/network.json answers 200."""
    port = free_port()
    env = {**os.environ, "COOPGRAPH_TOKENS": f"{TOKEN[0]}:{TOKEN[1]}", **(extra_env or {})}
    cmd = [sys.executable, "-m", "coopgraph", "serve", "--store", str(store), "--port", str(port)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env)
    wait_until(lambda: get(port, "/healthz", timeout=5)[0] == 200, 900, proc)
    healthz = time.perf_counter() - start
    wait_until(lambda: get(port, "/api/network.json?limit=1", timeout=60)[0] == 200, 1800, proc)
    return proc, port, healthz, time.perf_counter() - start


def cli_network_stats(store: Path) -> tuple[float, str]:
    """Wall time of ``coopgraph network stats --store`` (Python start-up included)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "coopgraph", "network", "stats", "--top", "5", "--store",
         str(store)], capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - start
    lines = (done.stdout or done.stderr).strip().splitlines()
    return seconds, lines[-1] if lines else ""


def python_startup() -> float:
    """Wall time of ``python -c 'import coopgraph.cli, coopgraph.netview'``: the floor
    under any command's figure."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import coopgraph.cli, coopgraph.netview"], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--orgs", type=int, default=10000, help="generate.py --orgs of the data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--focus", default="https://w3id.org/coopgraph/id/org/ville-de-lille")
    parser.add_argument("--writes", type=int, default=5, help="entries written over HTTP")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    print(f"load: {loadavg()}", flush=True)
    report: dict[str, Any] = {"load_before": loadavg()}

    for attempt in ("first", "second"):
        seconds, last = cli_network_stats(args.store)
        print(f"coopgraph network stats ({attempt} run)  {seconds * 1000:7.0f} ms  "
              f"target ≤ {FAST * 1000:.0f} ms (+ start-up)  | {last}", flush=True)
        report[f"cli_{attempt}_s"] = seconds
    floor = python_startup()
    print(f"python start-up + imports                 {floor * 1000:7.0f} ms", flush=True)
    report["python_startup_s"] = floor

    log = args.store.with_name(args.store.name + ".serve.log")
    proc, port, healthz, ready = start_serve(args.store, log)
    try:
        print(f"serve: /healthz after {healthz:.2f} s, /api/network.json after {ready:.2f} s"
              f"  target ≤ {START:.0f} s", flush=True)
        report["serve_healthz_s"], report["serve_network_s"] = healthz, ready
        paths = routes(args.focus)
        figures = measure_routes(port, paths, runs=args.runs)
        print("\nroutes, no write pending:")
        for fig in figures:
            print("  " + fig.line(), flush=True)
        caught: list[dict[str, Any]] = []
        for k in range(1, args.writes + 1):
            before = generation(port, "/api/network.json?limit=1")
            start = time.perf_counter()
            status, write_s = put_entry(port, k, args.orgs, args.seed)
            json_s = wait_generation(port, "/api/network.json?limit=1", before)
            json_s = None if json_s is None else time.perf_counter() - start
            graphml_s = wait_generation(port, "/export/network.graphml", before)
            graphml_s = None if graphml_s is None else time.perf_counter() - start
            after = measure_routes(port, paths, runs=1, target=AFTER_WRITE)
            # betweenness is recomputed in the background (minutes at 1M): waited for
            # after the last write only
            fresh = wait_fresh(port) if k == args.writes else None
            caught.append({"status": status, "write_s": write_s, "json_s": json_s,
                           "graphml_s": graphml_s, "fresh_s": fresh,
                           "after": {f.name: f.times for f in after}})
            def ms(x: float | None) -> str:
                return "never" if x is None else f"{x * 1000:.0f} ms"
            print(f"\nwrite {k} (PUT /entries/bench-net-{k}): HTTP {status} in {ms(write_s)}; "
                  f"in /api/network.json after {ms(json_s)}, in the GraphML after "
                  f"{ms(graphml_s)} (from the start of the write; target ≤ 2000 ms)"
                  + (f"; betweenness recomputed {ms(fresh)} later" if fresh else ""),
                  flush=True)
            if k == 1:
                print("routes once, right after the write is in:")
                for fig in after:
                    print("  " + fig.line(), flush=True)
        ins = [c["json_s"] for c in caught if c["json_s"] is not None]
        if ins:
            print(f"\nwrites in the network answer: median {statistics.median(ins) * 1000:.0f} ms,"
                  f" max {max(ins) * 1000:.0f} ms over {len(ins)} writes (target ≤ 2000 ms)")
        report.update(routes={f.name: f.times for f in figures}, writes=caught)
        settled = measure_routes(port, paths, runs=args.runs)
        print("\nroutes again, the view fresh after the writes (nothing computing):")
        for fig in settled:
            print("  " + fig.line(), flush=True)
        report["routes_after_writes"] = {f.name: f.times for f in settled}
    finally:
        stop(proc)
    report["load_after"] = loadavg()
    print(f"load: {report['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
