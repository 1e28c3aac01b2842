"""Every route of the README answered by `coopgraph serve` on a given store, beside its target.

Issue 12 ("Observatory scale"), Done when: on a store built with the README's bulk import
(``generate.py --orgs 10000`` then ``coopgraph import big.nq --add --reference``), start
``coopgraph serve``, and measure:

* the start (until ``/healthz`` answers): ≤ 2 s;
* 20 realistic entries written over HTTP right after the start (``PUT /entries/<id>``,
  Turtle with blank nodes: salary, languages, experience): median ≤ 200 ms, p99 ≤ 1 s —
  (``benchmarks/writes.py``'s entries when it exists and ``--orgs`` is given, else
  ``new-offer.ttl`` under new IRIs); removed again at once (``DELETE``, timed too);
* then a write seen by the network view: the time from a ``PUT`` to its new tie in
  ``/api/network.json?focus=…``, from a ``DELETE`` to its absence, and each network
  route right after a write: ≤ 2 s (``benchmarks/visibility.py``);
* every page and API route: ≤ 200 ms (entity pages, network, map, ranking, exports,
  ``/api/network.json`` with ``focus``/``limit``, ``/stats``…), ``/lookup`` ≤ 50 ms;
* every gallery query (``queries/*.rq``, ``queries/network/*.rq``) through ``/sparql``:
  ≤ 1 s.

Each figure is the median (and p99, nearest rank) of ``--runs`` requests after one
warm-up, with the whole body read; a request that fails or takes longer than
``--timeout`` is reported as such. Prints one line per route: figure, target, verdict.
The server is started and stopped here (127.0.0.1, a free port); nothing else is touched.

    python benchmarks/routes.py --store /work/bench/bulk/store-1m --runs 5 --json out.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import visibility
from common import HttpClient, Samples, free_port, gallery, loadavg, machine, stop, wait_until
from coopgraph.settings import PROJECT_ROOT

HERE = Path(__file__).resolve().parent
TOKEN = "routes-bench:routes-bench-secret-token"
PAGE, LOOKUP, GALLERY, START = 0.200, 0.050, 1.0, 2.0
WRITE_MEDIAN, WRITE_P99 = 0.200, 1.0


@dataclass
class Route:
    name: str
    path: str
    target: float
    accept: str = "*/*"


def get(conn: HttpClient, path: str, accept: str, timeout: float) -> tuple[int, int]:
    """One GET on a fresh-or-kept connection: (status, body bytes)."""
    c = conn._connection()  # noqa: SLF001 - the shared keep-alive connection
    c.timeout = timeout
    try:
        c.request("GET", path, headers={"Accept": accept})
        response = c.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        raise
    return response.status, len(body)


def time_route(conn: HttpClient, route: Route, runs: int, timeout: float) -> dict[str, Any]:
    """Warm-up then ``runs`` timed GETs (fewer when one alone exceeds the timeout)."""
    samples = Samples()
    size = status = 0
    for i in range(runs + 1):
        start = time.perf_counter()
        try:
            status, size = get(conn, route.path, route.accept, timeout)
        except Exception as exc:  # noqa: BLE001 - reported, the next route goes on
            samples.error = f"{type(exc).__name__}: {str(exc)[:80]}"
            break
        elapsed = time.perf_counter() - start
        if status != 200:
            samples.error = f"HTTP {status}"
            break
        if i > 0 or runs == 0:
            samples.times.append(elapsed)
        if elapsed > timeout:
            samples.note = "stopped after a run over the timeout"
            samples.times.append(elapsed)
            break
    return samples.to_dict() | {"bytes": size, "target_s": route.target, "path": route.path}


def sparql_one(conn: HttpClient, query: str) -> dict[str, str]:
    data = json.loads(conn.query(query, "application/sparql-results+json"))
    rows = data["results"]["bindings"]
    return {k: v["value"] for k, v in rows[0].items()} if rows else {}


def samples_of(conn: HttpClient) -> dict[str, str]:
    """An organisation, an offer, a place and an entry of the store, to build the paths."""
    found = sparql_one(conn, """
        PREFIX org: <http://www.w3.org/ns/org#> PREFIX schema: <http://schema.org/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?org ?label ?offer ?place ?g WHERE {
          GRAPH ?g { ?offer a schema:JobPosting ; schema:hiringOrganization ?org ;
                            schema:jobLocation ?place }
          ?org rdfs:label ?label
          FILTER(STRSTARTS(STR(?g), "https://w3id.org/coopgraph/graph/entry/"))
        } LIMIT 1""")
    found.setdefault("org", "https://w3id.org/coopgraph/id/org/ville-de-lille")
    found.setdefault("label", "Lille")
    found.setdefault("place", "https://w3id.org/coopgraph/id/place/oujda")
    return found


def local_path(iri: str) -> str:
    """``https://w3id.org/coopgraph/id/org/x`` → ``/id/org/x`` (the server serves it there)."""
    return "/" + iri.split("/coopgraph/", 1)[1] if "/coopgraph/" in iri else iri


def routes_for(found: dict[str, str]) -> list[Route]:
    org, place = found["org"], found["place"]
    q = urllib.parse.quote
    name = found["label"].split("(")[0].strip()[:30]
    routes = [
        Route("/ (query page)", "/", PAGE, "text/html"),
        Route("/sparql service description", "/sparql", PAGE, "text/turtle"),
        Route("/id/org/… (HTML)", local_path(org), PAGE, "text/html"),
        Route("/id/org/… (Turtle)", local_path(org), PAGE, "text/turtle"),
        Route("/id/place/… (HTML)", local_path(place), PAGE, "text/html"),
        Route("/lookup?q=Oujda", "/lookup?q=Oujda", LOOKUP, "application/json"),
        Route("/lookup?q=<generated name>", "/lookup?q=" + q(name), LOOKUP, "application/json"),
        Route("/network", "/network", PAGE, "text/html"),
        Route("/map", "/map", PAGE, "text/html"),
        Route("/ranking", "/ranking", PAGE, "text/html"),
        Route("/api/network.json?limit=200", "/api/network.json?limit=200", PAGE),
        Route("/api/network.json?focus=…&depth=1",
              f"/api/network.json?focus={q(org, safe='')}&depth=1", PAGE),
        Route("/api/network.json", "/api/network.json", PAGE),
        Route("/export/network.graphml", "/export/network.graphml", PAGE),
        Route("/export/network.gexf", "/export/network.gexf", PAGE),
        Route("/export/network.zip", "/export/network.zip", PAGE),
        Route("/export/network.jsonld", "/export/network.jsonld", PAGE),
        Route("/context/network.jsonld", "/context/network.jsonld", PAGE),
        Route("/queries.json", "/queries.json", PAGE),
        Route("/stats", "/stats", PAGE, "text/html"),
        Route("/changes", "/changes", PAGE, "text/html"),
        Route("/changes.json", "/changes.json", PAGE),
        Route("/changes.atom", "/changes.atom", PAGE),
        Route("/healthz", "/healthz", PAGE),
        Route("/.well-known/void", "/.well-known/void", PAGE, "text/turtle"),
        Route("/rules", "/rules", PAGE, "text/html"),
        Route("/ontology", "/ontology", PAGE, "text/html"),
        Route("/ontology.ttl", "/ontology.ttl", PAGE, "text/turtle"),
        Route("/api/map.json", "/api/map.json", PAGE),
        Route("/api/map.json?asOf=…", "/api/map.json?asOf=2024-06-01", PAGE),
        Route("/network?asOf=…", "/network?asOf=2024-06-01", PAGE, "text/html"),
        Route("/ranking?offset=200", "/ranking?offset=200", PAGE, "text/html"),
        Route("/ranking.json", "/ranking.json", PAGE),
        Route("/stats?offset=100", "/stats?offset=100&limit=100", PAGE, "text/html"),
        Route("/changes?since=…", "/changes.json?since=2024-01-01T00:00:00Z", PAGE),
        Route("/prefixes.json", "/prefixes.json", PAGE),
        Route("/completions.json?kind=class", "/completions.json?kind=class&q=Org", PAGE),
        Route("/completions.json?kind=property",
              "/completions.json?kind=property&q=part", PAGE),
        Route("/upload", "/upload", PAGE, "text/html"),
        Route("/upload/template/offer.csv", "/upload/template/offer.csv", PAGE),
    ]
    if found.get("offer"):
        routes.append(Route("/id/offer/… (HTML)", local_path(found["offer"]), PAGE, "text/html"))
    if found.get("g"):
        routes.append(Route("/graph/entry/… (HTML)", local_path(found["g"]), PAGE, "text/html"))
        entry = found["g"].rsplit("/", 1)[1]
        routes.append(Route("/entries/<id>", f"/entries/{entry}", PAGE, "text/turtle"))
        routes.append(Route("/data?graph=<entry>", "/data?graph=" + q(found["g"], safe=""),
                            PAGE, "text/turtle"))
    return routes


# -- writes -------------------------------------------------------------------------------


def offer_turtle(k: int) -> bytes:
    """``tests/data/valid/new-offer.ttl`` under a new IRI: a real offer with blank nodes."""
    text = (PROJECT_ROOT / "tests" / "data" / "valid" / "new-offer.ttl").read_text("utf-8")
    return text.replace("offer/test-lille-kortrijk-stage", f"offer/routes-bench-{k}").encode()


def http_writes(port: int, bodies: list[tuple[str, bytes, str]], timeout: float) -> dict[str, Any]:
    """``PUT /entries/<id>`` of each body right after the start, then their removal.

    A write that takes longer than ``timeout`` stops the series (its time is recorded as
    at least ``timeout``: the server is still busy with it); what was written is removed.
    """
    secret = TOKEN.split(":", 1)[1]
    auth = {"Authorization": f"Bearer {secret}"}
    puts, deletes, errors = Samples(), Samples(), []
    written: list[str] = []
    steps: dict[str, list[dict[str, float]]] = {"PUT": [], "DELETE": []}

    def request(method: str, path: str, body: bytes | None, headers: dict[str, str],
                limit: float) -> tuple[int, bytes, float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=limit)
        start = time.perf_counter()
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            body = response.read()
            steps[method].append(server_timing(response.getheader("Server-Timing") or ""))
            return response.status, body, time.perf_counter() - start
        finally:
            conn.close()

    for entry_id, body, ctype in bodies:
        try:
            status, data, elapsed = request("PUT", f"/entries/{entry_id}", body,
                                            {**auth, "Content-Type": ctype}, timeout)
        except (OSError, http.client.HTTPException) as exc:
            puts.times.append(timeout)
            puts.note = (f"write {len(puts.times)} took more than {timeout:g} s "
                         f"({type(exc).__name__}); the series was stopped there")
            written.append(entry_id)  # it may still commit: removed below
            break
        puts.times.append(elapsed)
        if status in (200, 201):
            written.append(entry_id)
        else:
            errors.append(f"PUT {entry_id}: HTTP {status} {data[:120]!r}")
    for entry_id in written:
        try:
            status, _, elapsed = request("DELETE", f"/entries/{entry_id}", None, auth,
                                         timeout)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"DELETE {entry_id}: {type(exc).__name__}")
            continue
        deletes.times.append(elapsed)
        if status != 200:
            errors.append(f"DELETE {entry_id}: HTTP {status}")
    return {"put": puts.to_dict() | {"steps": median_steps(steps["PUT"]), "times_s": puts.times,
                                     "server_timing": steps["PUT"]},
            "delete": deletes.to_dict() | {"steps": median_steps(steps["DELETE"]),
                                           "times_s": deletes.times,
                                           "server_timing": steps["DELETE"]},
            "errors": errors}


def server_timing(header: str) -> dict[str, float]:
    """``parse;dur=1.2, validate;dur=3.4`` → ``{"parse": 0.0012, …}`` (seconds)."""
    out: dict[str, float] = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";dur=")
        if name and rest:
            out[name] = float(rest) / 1000
    return out


def median_steps(samples: list[dict[str, float]]) -> dict[str, float]:
    """The median of each Server-Timing step over the writes that reported it."""
    import statistics

    names = {name for sample in samples for name in sample}
    return {name: statistics.median(s[name] for s in samples if name in s)
            for name in sorted(names)}


def write_bodies(n: int, orgs: int | None, seed: int) -> tuple[list[tuple[str, bytes, str]], str]:
    """The entries to write: ``benchmarks/writes.py``'s (new-offer.ttl, then generated
    offers of the store's world with blank nodes) when it exists and ``orgs`` is known,
    else ``new-offer.ttl`` under ``n`` new IRIs."""
    if orgs and (HERE / "writes.py").exists():
        try:
            import writes  # type: ignore[import-not-found]

            return list(writes.entries(orgs, seed, n)), "benchmarks/writes.py entries"
        except Exception as exc:  # noqa: BLE001 - fall back, and say so
            print(f"benchmarks/writes.py entries failed ({exc}); using new-offer.ttl", flush=True)
    return ([(f"routes-bench-{k}", offer_turtle(k), "text/turtle") for k in range(n)],
            "tests/data/valid/new-offer.ttl under new IRIs")


# -- the run ------------------------------------------------------------------------------


def start_server(store: str, log: Path) -> tuple[subprocess.Popen[Any], int, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
    env["COOPGRAPH_TOKENS"] = TOKEN
    cmd = [sys.executable, "-m", "coopgraph", "serve", "--store", store, "--port", str(port),
           "--host", "127.0.0.1"]
    start = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=PROJECT_ROOT)
    client = HttpClient(port, timeout=5)
    try:
        wait_until(lambda: client.get("/healthz")[0] == 200, 900, proc)
    except Exception:
        stop(proc)
        raise
    finally:
        client.close()
    return proc, port, time.perf_counter() - start


def restart(proc: subprocess.Popen[Any], store: str, log: Path) -> tuple[Any, int]:
    stop(proc)
    new, port, _ = start_server(store, log)
    return new, port


def verdict(median: float | None, target: float) -> str:
    if median is None:
        return "n/a"
    return "ok" if median <= target else "MISSED"


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def line(name: str, r: dict[str, Any], target: float) -> str:
    error = f"  ({r['error']})" if r.get("error") else ""
    return (f"{name:<44} {fmt(r.get('median_s')):>9} {fmt(r.get('p99_s')):>9}  "
            f"≤ {fmt(target):>7}  {verdict(r.get('median_s'), target)}{error}")


def measure_routes(
    store: str, *, runs: int = 5, timeout: float = 60.0, n_writes: int = 20,
    with_gallery: bool = True, orgs: int | None = None, seed: int = 1,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Start ``coopgraph serve`` on ``store``, measure, stop it; print a line per figure.

    :param only: measure only the routes and gallery queries whose name contains one of
        these texts (case-insensitive); ``None``: all of them.
    """
    report: dict[str, Any] = {"machine": machine(), "store": store, "routes": {},
                              "gallery": {}, "loadavg_start": loadavg()}
    log = Path(store).with_name(Path(store).name + "-serve.log")
    bodies, origin = write_bodies(n_writes, orgs, seed)
    proc, port, started = start_server(store, log)
    report["start_s"] = started
    print(f"machine: {report['machine']['cpu']}, {report['machine']['nproc']} cores; "
          f"load {loadavg()}", flush=True)
    print(line("coopgraph serve ready (/healthz)", {"median_s": started}, START), flush=True)
    try:
        writes = http_writes(port, bodies, timeout)
        writes["bodies"] = origin
        report["writes"] = writes
        put, delete = writes["put"], writes["delete"]
        print(line(f"{put['runs']} of {n_writes} × PUT /entries (after start)", put,
                   WRITE_MEDIAN)
              + f"  p99 ≤ {fmt(WRITE_P99)}: {verdict(put.get('p99_s'), WRITE_P99)}", flush=True)
        if put.get("note"):
            print(f"  {put['note']}", flush=True)
        print(line(f"{delete['runs']} × DELETE /entries", delete, WRITE_MEDIAN), flush=True)
        for method in ("put", "delete"):
            shown = ", ".join(f"{k} {fmt(v)}" for k, v in writes[method]["steps"].items())
            print(f"  {method.upper()} server-side medians (Server-Timing): {shown}", flush=True)
        for error in writes.get("errors", [])[:5]:
            print(f"  write error: {error}", flush=True)
        if put.get("note") or any("Timeout" in e for e in writes.get("errors", [])):
            proc, port = restart(proc, store, log)  # it is still busy with the writes
        if n_writes:  # a write seen by the network routes (benchmarks/visibility.py)
            secret = TOKEN.split(":", 1)[1]
            report["visibility"] = visibility.measure(
                port, {"Authorization": f"Bearer {secret}"}, timeout)
            for text in visibility.lines(report["visibility"]):
                print(text, flush=True)
        conn = HttpClient(port, timeout=timeout)
        found = samples_of(conn)
        for route in routes_for(found):
            if not selected(route.name, only):
                continue
            r = time_route(conn, route, runs, timeout)
            report["routes"][route.name] = r
            print(line(route.name, r, route.target), flush=True)
            if "Timeout" in (r.get("error") or ""):
                # the server still computes the abandoned answer on one of its threads:
                # measure the next route on a fresh one, not on a busy one
                conn.close()
                proc, port = restart(proc, store, log)
                conn = HttpClient(port, timeout=timeout)
        if with_gallery:
            for q in gallery(PROJECT_ROOT / "queries"):
                if not selected(q.name, only):
                    continue
                r = time_query(conn, q, runs, timeout)
                report["gallery"][q.name] = r
                print(line(f"/sparql {q.name}", r, GALLERY), flush=True)
        conn.close()
    finally:
        stop(proc)
    if with_gallery:
        print("pyoxigraph in-process on the same store (read-only), the limit:", flush=True)
        report["pyoxigraph"] = pyoxigraph_limit(store, runs, timeout, only)
        for name, r in report["pyoxigraph"].items():
            served = report["gallery"].get(name, {}).get("median_s")
            ratio = f"  served/in-process {served / r['median_s']:.2f}×" if (
                served and r.get("median_s")) else ""
            print(line(f"pyoxigraph {name}", r, GALLERY) + ratio, flush=True)
    figures = [(r.get("median_s"), r["target_s"]) for r in report["routes"].values()]
    figures += [(r.get("median_s"), GALLERY) for r in report["gallery"].values()]
    report["met"] = sum(1 for m, t in figures if m is not None and m <= t)
    report["figures"] = len(figures)
    report["loadavg_end"] = loadavg()
    print(f"{report['met']} of {len(figures)} routes and queries within target; start "
          f"{verdict(started, START)}; load at the end {report['loadavg_end']}", flush=True)
    return report


def selected(name: str, only: list[str] | None) -> bool:
    """Is ``name`` one of the figures ``--only`` asks for (all when none is given)?

    >>> selected("/changes.json", ["changes"]), selected("/map", ["changes", "/id/"])
    (True, False)
    """
    return not only or any(text.lower() in name.lower() for text in only)


def pyoxigraph_limit(
    store: str, runs: int, timeout: float, only: list[str] | None = None
) -> dict[str, Any]:
    """Each gallery query on pyoxigraph itself (``Store.read_only`` on the same files,
    default graph = union, whole result iterated): what no server can beat. pyoxigraph
    has no query timeout, so each query runs in a forked process killed after
    ``timeout`` seconds per run (reported as a timeout, like the served figures)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    out: dict[str, Any] = {}
    for q in gallery(PROJECT_ROOT / "queries"):
        if not selected(q.name, only):
            continue
        ours, theirs = context.Pipe(duplex=False)
        worker = context.Process(target=_limit_runs, args=(store, q.text, runs, timeout, theirs))
        worker.start()
        theirs.close()
        samples = Samples()
        if ours.poll(timeout * (runs + 1) + 5):
            try:
                times, samples.error = ours.recv()
                samples.times.extend(times)
            except EOFError:
                worker.join(5)
                samples.error = f"the query's process died (exit code {worker.exitcode})"
        else:
            samples.error = f"timeout: over {timeout:g} s"
        worker.kill()
        worker.join()
        ours.close()
        out[q.name] = samples.to_dict() | {"target_s": GALLERY}
    return out


def _limit_runs(store: str, text: str, runs: int, timeout: float, reply: Any) -> None:
    """In the forked process: one warm-up then ``runs`` timed runs; sends (times, error)."""
    import pyoxigraph as ox

    db = ox.Store.read_only(store)
    times: list[float] = []
    error = None
    for i in range(runs + 1):
        start = time.perf_counter()
        try:
            result = db.query(text, use_default_graph_as_union=True)
            if not isinstance(result, ox.QueryBoolean):
                for _ in result:
                    pass
        except Exception as exc:  # noqa: BLE001 - reported beside the query
            error = f"{type(exc).__name__}: {str(exc)[:80]}"
            break
        elapsed = time.perf_counter() - start
        if i:
            times.append(elapsed)
        if elapsed > timeout:
            break
    reply.send((times, error))


def time_query(conn: HttpClient, q: Any, runs: int, timeout: float) -> dict[str, Any]:
    samples = Samples()
    for i in range(runs + 1):
        start = time.perf_counter()
        try:
            conn.query(q.text, q.accept)
        except Exception as exc:  # noqa: BLE001
            samples.error = f"{type(exc).__name__}: {str(exc)[:80]}"
            conn.close()
            break
        elapsed = time.perf_counter() - start
        if i:
            samples.times.append(elapsed)
        if elapsed > timeout:
            break
    return samples.to_dict() | {"target_s": GALLERY}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="an existing coopgraph store directory")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per route")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--writes", type=int, default=20, help="entries written over HTTP")
    parser.add_argument("--no-gallery", action="store_true", help="skip the gallery queries")
    parser.add_argument("--orgs", type=int, default=None,
                        help="the generate.py --orgs the store holds (writes then use "
                        "generated offers of that world, via benchmarks/writes.py)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="measure only the routes and gallery queries whose name "
                        "contains TEXT (case-insensitive; repeatable), e.g. --only /id/ "
                        "--only changes; the writes still run (--writes 0 to skip them)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    report = measure_routes(args.store, runs=args.runs, timeout=args.timeout,
                            n_writes=args.writes, with_gallery=not args.no_gallery,
                            orgs=args.orgs, seed=args.seed, only=args.only)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
