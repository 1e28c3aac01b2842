"""Measure coopgraph against pyoxigraph, rdflib and rdflib-endpoint on generated graphs.

For each size (``--orgs``; 1000 ≈ 100k triples, 10000 ≈ 1M), in one run:

* load rate: coopgraph (``parse_file`` + ``Store.bulk_load`` into an on-disk store that
  already holds the project), ``pyoxigraph.Store.bulk_load`` (on disk), rdflib
  ``Dataset.parse`` (in memory);
* reasoning: full materialisation, and incremental refresh after one new offer entry;
* validation: one new entry (``Validator.validate_quads``, the store as context), one
  entry end to end (``entries.add_entry``), and the whole graph (capped);
* latency (median, p99) of every ``queries/*.rq`` and ``queries/network/*.rq`` through
  ``coopgraph serve`` (HTTP, 127.0.0.1) vs pyoxigraph in-process on the same data (the
  practical limit) vs rdflib in-process vs rdflib-endpoint over HTTP;
* throughput of the coopgraph endpoint with 8 concurrent clients vs 1;
* server start time on the existing store (until ``/healthz`` answers) and resident
  memory of the server and its store process.

Every engine sees the same quads: the coopgraph store (project + generated data +
inferences) is dumped to N-Quads and the others load that dump; their default graph is
the union of the named graphs, as coopgraph's is. A component that is missing or fails
is reported as ``n/a (reason)``; the rest of the suite goes on.

    /tmp/venv/bin/python benchmarks/run.py --orgs 1000 --runs 20 --json /tmp/bench-100k.json
    /tmp/venv/bin/python benchmarks/run.py --orgs 1000,10000 --json benchmarks/latest.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

import bulk
import generate
import routes
from common import (
    HttpClient,
    Query,
    Samples,
    free_port,
    gallery,
    geomean,
    loadavg,
    machine,
    measure,
    stop,
    tree_rss_mb,
    wait_until,
)
from coopgraph.settings import PROJECT_ROOT, Settings

HERE = Path(__file__).resolve().parent
DEFAULT_ENDPOINT_PEER = "/tmp/bench-venv/bin/rdflib-endpoint"
PEER_PATH = "/"  # `rdflib-endpoint serve` answers SPARQL at the root
BIG_ORGS = 50_000  # 5M triples and more only with --big
#: build: generate + coopgraph load + materialise; entries: one-entry validation,
#: incremental reasoning, add_entry; fullval: whole-graph validation; oxigraph, rdflib:
#: load + in-process queries; serve: coopgraph serve (start, queries, throughput, RSS);
#: peer: rdflib-endpoint over HTTP; bulk: `coopgraph import` of the generated file beside
#: pyoxigraph's bulk_load of it (bulk.py); routes: every README route on the store the bulk
#: import built, with 20 HTTP writes after the start (routes.py)
PARTS = ("build", "entries", "fullval", "oxigraph", "rdflib", "serve", "peer", "bulk", "routes")
PART_ERRORS = {
    "build": ("coopgraph store", "dump"),
    "entries": ("entries", "validation.entry", "reasoning.incremental", "validation.add_entry"),
    "fullval": ("full validation",), "oxigraph": ("pyoxigraph",), "rdflib": ("rdflib",),
    "serve": ("coopgraph serve",), "peer": ("rdflib-endpoint",),
}

#: target name → (description, how to read it)
TARGETS = [
    ("endpoint_overhead", "endpoint median ≤ 1.2× pyoxigraph in-process (queries ≥ 10 ms), "
     "else ≤ 2 ms added"),
    ("vs_rdflib_endpoint_geomean", "≥ 25× faster than rdflib-endpoint (geometric mean)"),
    ("vs_rdflib_endpoint_slowest", "≥ 100× faster than rdflib-endpoint on the slowest query"),
    ("load_rate", "load ≥ 300k triples/s"),
    ("rss", "RSS ≤ 1 GB serving 1M"),
    ("entry_validation", "one-entry validation ≤ 5 ms, flat in size"),
    ("full_validation", "full validation of 1M ≤ 60 s"),
    ("incremental_inference", "incremental inference ≤ 50 ms"),
    ("full_materialisation", "full materialisation of 1M ≤ 60 s"),
    ("server_start", "server ready ≤ 2 s on an existing 1M store"),
    ("throughput", "8 clients ≥ 1.6× the throughput of 1"),
    ("bulk_import", "bulk import (validated, reasoned) ≤ 3× pyoxigraph bulk_load of the file"),
    ("routes", "every README route and gallery query within its target (routes.py)"),
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def na(reason: str) -> dict[str, Any]:
    return {"error": reason}


def guarded(tier: dict[str, Any], section: str, fn: Callable[[], Any]) -> Any:
    """Run one part of the suite; a failure becomes ``n/a (reason)`` in ``tier["errors"]``."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one missing component must not stop the suite
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        log(f"{section}: n/a ({reason})")
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exc()
        tier.setdefault("errors", {})[section] = reason
        return None


# -- building the stores -------------------------------------------------------------------


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def snapshot_project(home: Path) -> Path:
    """Copy ontology/, shapes/, data/ and queries/ to ``home`` and write a settings file
    pointing there, so files other people edit during a run change nothing: the store,
    the dump, the queries and ``coopgraph serve`` (which reloads changed files at start)
    all see the same project."""
    shutil.rmtree(home, ignore_errors=True)
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(PROJECT_ROOT / name, home / name)
    config = home / "coopgraph.toml"
    config.write_text(f'[coopgraph]\nhome = "{home}"\n', encoding="utf-8")
    return config


def build_coopgraph_store(tier: dict[str, Any], store_dir: Path, data: Path,
                          home: Path) -> None:
    """Project files, then the generated data (timed), then full materialisation (timed)."""
    from coopgraph.load import load_project
    from coopgraph.parse import parse_file
    from coopgraph.reason import Reasoner
    from coopgraph.store.embedded import EmbeddedStore

    shutil.rmtree(store_dir, ignore_errors=True)
    store = EmbeddedStore(store_dir)
    try:
        load_project(store, Settings(store=str(store_dir), home=home), reason=False)
        start = time.perf_counter()
        quads = parse_file(data)
        parsed = time.perf_counter()
        store.bulk_load(quads)
        store.flush()
        done = time.perf_counter()
        n = len(quads)
        del quads
        tier["load"]["coopgraph"] = {
            "triples": n, "seconds": done - start, "parse_s": parsed - start,
            "bulk_load_s": done - parsed, "rate": n / (done - start),
        }
        log(f"coopgraph load: {n} triples in {done - start:.1f} s")
        start = time.perf_counter()
        stats = Reasoner(store).materialise()
        tier["reasoning"]["full"] = {
            "seconds": time.perf_counter() - start, "inferred": stats.inferred,
        }
        log(f"materialise: {stats.inferred} inferred in {time.perf_counter() - start:.1f} s")
    finally:
        store.close()


def entry_benchmarks(tier: dict[str, Any], store_dir: Path, orgs: int, seed: int,
                     runs: int) -> None:
    """One-entry validation, incremental reasoning and add_entry, on the built store."""
    from coopgraph.formats import rdf_format
    from coopgraph.parse import parse_bytes
    from coopgraph.reason import Reasoner
    from coopgraph.store.embedded import EmbeddedStore
    from coopgraph.validate import Validator

    world = generate.World(orgs, seed)
    nq = rdf_format("nquads")

    def entry(k: int) -> list[ox.Quad]:
        return parse_bytes(generate.entry_nquads(orgs, seed, k, world).encode(), nq,
                           source=f"entry {k}")

    store = EmbeddedStore(store_dir)
    try:
        def validation() -> None:
            start = time.perf_counter()
            validator = Validator(store)
            built = time.perf_counter() - start
            counter = iter(range(10_000, 20_000))
            sizes: list[int] = []
            conforms: list[bool] = []

            def one() -> None:
                quads = entry(next(counter))
                sizes.append(len(quads))
                conforms.append(validator.validate_quads(quads, entry="bench").conforms)

            samples = measure(one, runs=runs, budget=120)
            tier["validation"]["entry"] = samples.to_dict() | {
                "validator_build_s": built,
                "entry_triples": sum(sizes) / len(sizes) if sizes else None,
                "all_conform": all(conforms),
            }
            log(f"entry validation: median {fmt_ms(samples.median)}")

        guarded(tier, "validation.entry", validation)

        def incremental() -> None:
            reasoner = Reasoner(store)
            reasoner.warm()
            counter = iter(range(20_000, 30_000))
            affected: list[int] = []

            def one() -> None:
                # what entries.add_entry does: the delta read before the write, then the
                # entry and its inferences in one transaction
                changes, delta = reasoner.changes(insert=entry(next(counter)))
                affected.append(delta.affected)
                store.apply(changes)

            samples = measure(one, runs=runs, budget=120)
            tier["reasoning"]["incremental"] = samples.to_dict() | {
                "affected_nodes": sum(affected) / len(affected) if affected else None,
            }
            log(f"incremental refresh: median {fmt_ms(samples.median)}")

        guarded(tier, "reasoning.incremental", incremental)

        def add_entry() -> None:
            from coopgraph import entries

            validator = Validator(store)
            counter = iter(range(30_000, 40_000))

            def one() -> None:
                k = next(counter)
                entries.add_entry(
                    store, generate.entry_nquads(orgs, seed, k, world).encode(), "nquads",
                    graph=None, agent="bench", source="benchmarks/run.py",
                    validator=validator,
                )

            samples = measure(one, runs=runs, budget=120)
            tier["validation"]["add_entry"] = samples.to_dict()
            log(f"add_entry: median {fmt_ms(samples.median)}")

        guarded(tier, "validation.add_entry", add_entry)
    finally:
        store.close()


FULL_VALIDATION_SCRIPT = r"""
import json, sys, time
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.validate import Validator
store = EmbeddedStore(sys.argv[1], read_only=True)
start = time.perf_counter()
report = Validator(store).validate_store()
how = "Validator.validate_store (coopgraph validate --all): every target of every shape"
print(json.dumps({"seconds": time.perf_counter() - start, "conforms": report.conforms,
                  "violations": report.count("Violation"), "how": how}))
"""


def full_validation(tier: dict[str, Any], store_dir: Path, cap: float) -> None:
    """Whole-graph validation in a child process, stopped at ``cap`` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", FULL_VALIDATION_SCRIPT, str(store_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        stop(proc)
        tier["validation"]["full"] = {"seconds": None, "capped_at_s": cap,
                                      "error": f"> {cap:g} s (stopped at the cap)"}
        log(f"full validation: > {cap:g} s (capped)")
        return
    if proc.returncode != 0:
        raise RuntimeError(err.strip().splitlines()[-1] if err.strip() else "failed")
    tier["validation"]["full"] = json.loads(out.strip().splitlines()[-1]) | {
        "wall_s": time.perf_counter() - start}
    log(f"full validation: {tier['validation']['full']['seconds']:.1f} s")


def dump_store(store_dir: Path, out: Path) -> int:
    store = ox.Store.read_only(str(store_dir))
    ox.serialize(store.quads_for_pattern(None, None, None), out, ox.RdfFormat.N_QUADS)
    del store
    return count_lines(out)


# -- in-process query engines --------------------------------------------------------------


def consume(result: Any) -> int:
    """Read a whole pyoxigraph or rdflib result (the in-process equivalent of the body)."""
    if isinstance(result, ox.QueryBoolean):
        return int(bool(result))
    n = 0
    for row in result:
        n += 1
        for _ in row if not isinstance(row, ox.Triple) else ():
            pass
    return n


def run_queries_inprocess(
    name: str, execute: Callable[[Query], Any], queries: list[Query], *, runs: int,
    budget: float, timeout: float, interruptible: bool, total_budget: float,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    deadline = time.perf_counter() + total_budget
    for q in queries:
        if time.perf_counter() > deadline:
            results[q.name] = na(f"suite budget of {total_budget:g} s for {name} used up")
            continue
        samples = measure(lambda q=q: consume(execute(q)), runs=runs, budget=budget,
                          timeout=timeout, interruptible=interruptible)
        results[q.name] = samples.to_dict()
        log(f"{name} {q.name}: {fmt_ms(samples.median)} {samples.error or ''}")
    return results


def run_queries_http(name: str, port: int, queries: list[Query], *, runs: int, budget: float,
                     timeout: float, skip: dict[str, str] | None = None,
                     path: str = "/sparql",
                     restart: Callable[[], int | None] | None = None) -> dict[str, Any]:
    """Time each query over HTTP. A server still busy after a client timeout would make
    every later query time out too, so ``restart`` (when given) replaces it first."""
    results: dict[str, Any] = {}
    client = HttpClient(port, path=path, timeout=timeout)
    for q in queries:
        if skip and q.name in skip:
            results[q.name] = na(skip[q.name])
            continue
        samples = measure(lambda q=q, c=client: c.query(q.text, q.accept), runs=runs,
                          budget=budget, timeout=timeout)
        results[q.name] = samples.to_dict()
        log(f"{name} {q.name}: {fmt_ms(samples.median)} {samples.error or ''}")
        if samples.error and "timed out" in samples.error:
            client.close()
            new_port = restart() if restart is not None else None
            if new_port is None:
                skip = dict(skip or {})
                for later in queries[queries.index(q) + 1:]:
                    skip[later.name] = "not run: the server is still busy with a timed-out query"
                continue
            log(f"{name}: restarted the server after a timeout")
            client = HttpClient(new_port, path=path, timeout=timeout)
    client.close()
    return results


INPROCESS_SCRIPT = r"""
import json, sys, time
import pyoxigraph as ox
path, runs, budget, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
text = sys.stdin.read()
store = ox.Store.read_only(path)
def once():
    start = time.perf_counter()
    result = store.query(text, use_default_graph_as_union=True)
    if not isinstance(result, ox.QueryBoolean):
        for row in result:
            if not isinstance(row, ox.Triple):
                for _ in row:
                    pass
    return time.perf_counter() - start
warm = once()
if warm > timeout or warm >= budget:
    times = [warm]
else:
    n = runs if warm * runs <= budget else max(3, int(budget / warm))
    times = [once() for _ in range(n)]
print(json.dumps(times))
"""


def inprocess_child(store_dir: Path, q: Query, *, runs: int, budget: float,
                    timeout: float) -> Samples:
    """pyoxigraph in-process on the served store's files (``Store.read_only``), in a child
    process so that a query slower than ``timeout`` can be stopped (pyoxigraph cannot)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", INPROCESS_SCRIPT, str(store_dir), str(runs), str(budget),
             str(timeout)], input=q.text, capture_output=True, text=True,
            timeout=timeout + budget + 30)
    except subprocess.TimeoutExpired:
        return Samples(error=f"timeout > {timeout:g} s")
    if done.returncode != 0:
        return Samples(error=(done.stderr.strip().splitlines() or ["failed"])[-1][:200])
    times = json.loads(done.stdout)
    note = None if len(times) == runs else f"{len(times)} run(s) (budget {budget:g} s)"
    return Samples(times, note=note)


def paired_queries(port: int, store_dir: Path, queries: list[Query], *, runs: int,
                   budget: float, timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each query through the endpoint, then at once on pyoxigraph in-process reading the
    same store files: same data, same disk, (almost) the same moment."""
    client = HttpClient(port, timeout=timeout + 5)
    http: dict[str, Any] = {}
    inproc: dict[str, Any] = {}
    for q in queries:
        a = measure(lambda q=q: client.query(q.text, q.accept), runs=runs, budget=budget,
                    timeout=timeout)
        if a.error:
            client.close()
        b = inprocess_child(store_dir, q, runs=runs, budget=budget, timeout=timeout)
        http[q.name], inproc[q.name] = a.to_dict(), b.to_dict()
        log(f"coopgraph {q.name}: {fmt_ms(a.median)} (pyoxigraph same store "
            f"{fmt_ms(b.median)}) {a.error or ''} {b.error or ''}")
    client.close()
    return http, inproc


# -- servers -------------------------------------------------------------------------------


def start_coopgraph(store_dir: Path, config: Path,
                    logfile: Path) -> tuple[subprocess.Popen[Any], int, float]:
    port = free_port()
    cmd = [sys.executable, "-m", "coopgraph", "serve", "--store", str(store_dir),
           "--port", str(port), "--config", str(config)]
    out = logfile.open("ab")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=PROJECT_ROOT)
    client = HttpClient(port, timeout=5)
    try:
        wait_until(lambda: client.get("/healthz")[0] == 200, 600, proc)
    except Exception:
        stop(proc)
        tail = logfile.read_text(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(
            f"coopgraph serve did not answer /healthz: {' | '.join(tail)}") from None
    finally:
        client.close()
    return proc, port, time.perf_counter() - start


def start_rdflib_endpoint(binary: str, data: Path, logfile: Path,
                          timeout: float) -> tuple[subprocess.Popen[Any], int, float]:
    if not Path(binary).exists():
        raise FileNotFoundError(f"{binary} not found (pip install rdflib-endpoint into a venv)")
    port = free_port()
    out = logfile.open("ab")
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", str(data), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    client = HttpClient(port, path=PEER_PATH, timeout=30)
    try:
        wait_until(lambda: bool(client.query("ASK {}", "application/sparql-results+json")),
                   timeout, proc)
    except Exception:
        stop(proc)
        raise
    finally:
        client.close()
    return proc, port, time.perf_counter() - start


def throughput(port: int, queries: list[Query], clients: int, seconds: float) -> dict[str, Any]:
    """Queries per second with ``clients`` threads, each looping over ``queries``."""
    done = [0] * clients
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def worker(i: int) -> None:
        client = HttpClient(port, timeout=60)
        k = i
        while time.perf_counter() < stop_at:
            q = queries[k % len(queries)]
            k += 1
            try:
                client.query(q.text, q.accept)
                done[i] += 1
            except Exception:  # noqa: BLE001
                errors[i] += 1
        client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"clients": clients, "queries": sum(done), "errors": sum(errors),
            "seconds": elapsed, "qps": sum(done) / elapsed}


# -- one tier ------------------------------------------------------------------------------


def run_tier(orgs: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    tier: dict[str, Any] = {"orgs": orgs, "load": {}, "reasoning": {}, "validation": {},
                            "queries": {}, "throughput": {}, "server": {},
                            "loadavg_start": loadavg(), "parts": sorted(args.parts)}
    home = work / f"home-{orgs}"
    config = home / "coopgraph.toml"
    data = work / f"gen-{orgs}-s{args.seed}.nq"
    store_dir = work / f"coopgraph-{orgs}"
    dump = work / f"full-{orgs}.nq"
    log_dir = work / "logs"
    log_dir.mkdir(exist_ok=True)
    parts = args.parts
    if parts <= {"bulk", "routes"}:  # they need only the generated file
        bulk_and_routes(tier, orgs, args, work, data)
        tier["loadavg_end"] = loadavg()
        return tier

    if "build" in parts:
        snapshot_project(home)
        log(f"== tier --orgs {orgs}: generating {data}")
        with data.open("w", encoding="utf-8") as out:
            tier["generated_triples"] = generate.write(out, orgs, args.seed, False)
        guarded(tier, "coopgraph store",
                lambda: build_coopgraph_store(tier, store_dir, data, home))
        if "coopgraph" not in tier["load"]:
            return tier
    elif not (store_dir.exists() and config.exists()):
        tier.setdefault("errors", {})["coopgraph store"] = f"{store_dir} missing: run --parts build"
        return tier
    queries = gallery(home / "queries")
    tier["query_names"] = [q.name for q in queries]
    if args.queries:
        queries = [q for q in queries if q.name in args.queries]
    if "entries" in parts:
        guarded(tier, "entries", lambda: entry_benchmarks(tier, store_dir, orgs, args.seed,
                                                          args.runs))
    if "fullval" in parts:
        guarded(tier, "full validation",
                lambda: full_validation(tier, store_dir, args.validation_cap))
    if "build" in parts or "entries" in parts or not dump.exists():
        n_quads = guarded(tier, "dump", lambda: dump_store(store_dir, dump))
        log(f"dumped {n_quads} quads to {dump}")
    else:
        n_quads = count_lines(dump)
    tier["store_quads"] = n_quads

    # pyoxigraph: on-disk bulk load of the dump (same storage as coopgraph), then queries
    def pyoxigraph_part() -> None:
        ox_dir = work / f"pyoxigraph-{orgs}"
        shutil.rmtree(ox_dir, ignore_errors=True)
        start = time.perf_counter()
        store = ox.Store(str(ox_dir))
        store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        store.flush()
        seconds = time.perf_counter() - start
        tier["load"]["pyoxigraph"] = {"triples": n_quads, "seconds": seconds,
                                      "rate": n_quads / seconds}
        log(f"pyoxigraph load: {n_quads / seconds:,.0f} triples/s")
        if "serve" in parts:
            return  # the serve part times pyoxigraph on the served store, query by query
        tier["queries"]["pyoxigraph"] = run_queries_inprocess(
            "pyoxigraph", lambda q: store.query(q.text, use_default_graph_as_union=True),
            queries, runs=args.runs, budget=args.query_budget, timeout=args.query_timeout,
            interruptible=False, total_budget=args.engine_budget)
        store.flush()

    if n_quads and "oxigraph" in parts:
        guarded(tier, "pyoxigraph", pyoxigraph_part)
        gc.collect()
        shutil.rmtree(work / f"pyoxigraph-{orgs}", ignore_errors=True)

    # rdflib in memory: parse the dump, then queries (interrupted at the timeout)
    def rdflib_part() -> None:
        import rdflib

        start = time.perf_counter()
        ds = rdflib.Dataset(default_union=True)
        ds.parse(str(dump), format="nquads")
        seconds = time.perf_counter() - start
        tier["load"]["rdflib"] = {"triples": n_quads, "seconds": seconds,
                                  "rate": n_quads / seconds}
        log(f"rdflib load: {n_quads / seconds:,.0f} triples/s")
        tier["queries"]["rdflib"] = run_queries_inprocess(
            "rdflib", lambda q: ds.query(q.text), queries, runs=args.runs,
            budget=args.query_budget, timeout=args.query_timeout, interruptible=True,
            total_budget=args.engine_budget)

    if n_quads and "rdflib" in parts:
        guarded(tier, "rdflib", rdflib_part)
        gc.collect()

    # coopgraph serve: start time, queries, throughput, memory
    def coopgraph_part() -> None:
        starts = []
        proc = None
        for i in range(args.starts):
            proc, port, seconds = start_coopgraph(store_dir, config,
                                                  log_dir / f"coopgraph-{orgs}.log")
            starts.append(seconds)
            log(f"coopgraph serve ready in {seconds:.2f} s")
            if i < args.starts - 1:
                stop(proc)
        assert proc is not None
        try:
            tier["server"]["start_s"] = Samples(starts).to_dict() | {"all_s": starts}
            tier["server"]["rss_idle_mb"] = tree_rss_mb(proc.pid)
            tier["queries"]["coopgraph"], paired = paired_queries(
                port, store_dir, queries, runs=args.runs, budget=args.query_budget,
                timeout=args.query_timeout)
            if paired:
                tier["queries"]["pyoxigraph_paired"] = paired
            tier["server"]["rss_after_queries_mb"] = tree_rss_mb(proc.pid)
            ok = [q for q in queries
                  if (tier["queries"]["coopgraph"][q.name].get("median_s") or 1e9) < 0.25]
            mix = ok or queries
            tier["throughput"]["mix"] = [q.name for q in mix]
            for clients in (1, 8):
                tier["throughput"][str(clients)] = throughput(port, mix, clients,
                                                              args.throughput_seconds)
                log(f"throughput {clients} client(s): "
                    f"{tier['throughput'][str(clients)]['qps']:.1f} q/s")
            tier["server"]["rss_after_load_mb"] = tree_rss_mb(proc.pid)
        finally:
            stop(proc)

    if "serve" in parts:
        guarded(tier, "coopgraph serve", coopgraph_part)

    # rdflib-endpoint over HTTP: queries rdflib in-process could not finish are skipped
    def endpoint_part() -> None:
        logfile = log_dir / f"rdflib-endpoint-{orgs}.log"
        proc, port, seconds = start_rdflib_endpoint(args.rdflib_endpoint, dump, logfile,
                                                    args.peer_start_timeout)
        log(f"rdflib-endpoint ready in {seconds:.1f} s")
        tier["server"]["rdflib_endpoint_start_s"] = seconds
        tier["server"]["rdflib_endpoint_rss_mb"] = tree_rss_mb(proc.pid)
        current = [proc]

        restarts = [args.peer_restarts]

        def restart() -> int | None:
            if restarts[0] <= 0:
                return None
            restarts[0] -= 1
            stop(current[0])
            current[0], new_port, _ = start_rdflib_endpoint(
                args.rdflib_endpoint, dump, logfile, args.peer_start_timeout)
            return new_port

        skip = {}
        for name, r in tier["queries"].get("rdflib", {}).items():
            if r.get("error") and "timeout" in r["error"]:
                skip[name] = f"not run: rdflib in-process already {r['error']}"
        try:
            tier["queries"]["rdflib_endpoint"] = run_queries_http(
                "rdflib-endpoint", port, queries, runs=args.runs, budget=args.query_budget,
                timeout=args.query_timeout, skip=skip, path=PEER_PATH, restart=restart)
        finally:
            stop(current[0])

    if n_quads and "peer" in parts:
        guarded(tier, "rdflib-endpoint", endpoint_part)
    bulk_and_routes(tier, orgs, args, work, data)
    tier["loadavg_end"] = loadavg()
    return tier


def bulk_and_routes(tier: dict[str, Any], orgs: int, args: argparse.Namespace, work: Path,
                    data: Path) -> None:
    """Parts ``bulk`` and ``routes``: the README's bulk import of the generated file beside
    pyoxigraph's ``bulk_load`` of it (the limit), then every route on the store it built."""
    side = work / f"bulk-{orgs}"
    if "bulk" in args.parts:
        def bulk_part() -> None:
            if not data.exists():
                with data.open("w", encoding="utf-8") as out:
                    tier["generated_triples"] = generate.write(out, orgs, args.seed, False)
            tier["bulk"] = bulk.side_by_side(data, side, 50_000)
            log(bulk.render(tier["bulk"]))

        guarded(tier, "bulk import", bulk_part)
    if "routes" in args.parts:
        store = side / "coopgraph"
        if not store.exists():
            tier.setdefault("errors", {})["routes"] = f"{store} missing: run --parts bulk"
            return
        guarded(tier, "routes", lambda: tier.__setitem__(
            "routes", routes.measure_routes(str(store), runs=min(args.runs, 5),
                                            timeout=args.query_timeout, orgs=orgs,
                                            seed=args.seed)))


# -- report --------------------------------------------------------------------------------


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms" if ms < 10_000 else f"{seconds:.0f} s"


def cell(r: dict[str, Any] | None, key: str = "median_s") -> str:
    if not r:
        return "n/a"
    if r.get(key) is None:
        return f"n/a ({r.get('error') or 'missing'})"
    text = fmt_ms(r[key])
    return text + ("*" if r.get("note") else "")


def value(r: dict[str, Any] | None, key: str = "median_s") -> float | None:
    return r.get(key) if r else None


def analyse(tier: dict[str, Any]) -> dict[str, Any]:
    """Ratios per query and their geometric means."""
    q = tier["queries"]
    cg, rdf, rdfe = (q.get(k, {}) for k in ("coopgraph", "rdflib", "rdflib_endpoint"))
    # pyoxigraph measured right after the endpoint on the same store, when available
    oxq = q.get("pyoxigraph_paired") or q.get("pyoxigraph", {})
    per_query = {}
    overhead_ok = []
    for name in tier.get("query_names", []):
        c, o, e = value(cg.get(name)), value(oxq.get(name)), value(rdfe.get(name))
        row: dict[str, Any] = {}
        if c and o:
            row["cg_over_ox"] = c / o
            row["added_ms"] = (c - o) * 1000
            row["overhead_ok"] = (c <= 1.2 * o) if o >= 0.010 else (c - o <= 0.002)
            overhead_ok.append(row["overhead_ok"])
        if c and e:
            row["rdfe_over_cg"] = e / c
        per_query[name] = row
    cg_ox = [r["cg_over_ox"] for r in per_query.values() if "cg_over_ox" in r]
    rdfe_cg = [r["rdfe_over_cg"] for r in per_query.values() if "rdfe_over_cg" in r]
    slowest = None
    # the slowest query (coopgraph median) that both coopgraph and the peer answered
    timed = [(value(cg.get(n)), n) for n in tier.get("query_names", [])
             if value(cg.get(n)) and "rdfe_over_cg" in per_query.get(n, {})]
    if timed:
        slowest = max(timed)[1]
    # queries rdflib-endpoint could not answer within the timeout: lower bounds only
    timeouts = [n for n in tier.get("query_names", [])
                if (rdfe.get(n) or {}).get("error") and n in cg]
    return {
        "per_query": per_query,
        "geomean_cg_over_ox": geomean(cg_ox),
        "geomean_rdfe_over_cg": geomean(rdfe_cg),
        "overhead_ok": f"{sum(overhead_ok)}/{len(overhead_ok)}" if overhead_ok else None,
        "slowest_query": slowest,
        "slowest_rdfe_over_cg": per_query.get(slowest, {}).get("rdfe_over_cg") if slowest
        else None,
        "rdfe_unanswered": timeouts,
    }


def targets(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target, met / missed / n/a, judged on the largest tier that measured it."""
    out = []
    big = tiers[-1] if tiers else {}
    small = tiers[0] if tiers else {}

    def verdict(name: str, ok: bool | None, figure: str) -> None:
        desc = dict(TARGETS)[name]
        out.append({"target": name, "description": desc,
                    "status": "n/a" if ok is None else "met" if ok else "missed",
                    "figure": figure})

    a = big.get("analysis", {})
    verdict("endpoint_overhead",
            None if not a.get("overhead_ok") else
            a["overhead_ok"].split("/")[0] == a["overhead_ok"].split("/")[1],
            f"{a.get('overhead_ok')} queries within; geomean coopgraph/pyoxigraph "
            f"{fnum(a.get('geomean_cg_over_ox'))}×")
    g = a.get("geomean_rdfe_over_cg")
    verdict("vs_rdflib_endpoint_geomean", None if g is None else g >= 25,
            f"{fnum(g)}× (queries both answered)")
    s = a.get("slowest_rdfe_over_cg")
    verdict("vs_rdflib_endpoint_slowest", None if s is None else s >= 100,
            f"{fnum(s)}× on {a.get('slowest_query')}")
    rate = (big.get("load", {}).get("coopgraph") or {}).get("rate")
    verdict("load_rate", None if rate is None else rate >= 300_000,
            f"{fnum(rate, 0)} triples/s")
    rss = big.get("server", {}).get("rss_after_load_mb")
    verdict("rss", None if rss is None else rss <= 1024,
            f"{fnum(rss, 0)} MiB at {big.get('store_quads')} quads")
    e_small = value((small.get("validation") or {}).get("entry"))
    e_big = value((big.get("validation") or {}).get("entry"))
    verdict("entry_validation", None if e_big is None else e_big <= 0.005,
            f"{fmt_ms(e_small)} at {small.get('orgs')} orgs, {fmt_ms(e_big)} at "
            f"{big.get('orgs')} orgs")
    full = (big.get("validation") or {}).get("full") or {}
    verdict("full_validation",
            None if not full else (full.get("seconds") is not None and full["seconds"] <= 60),
            f"{fnum(full.get('seconds'))} s" if full.get("seconds") is not None
            else str(full.get("error")))
    inc = value((big.get("reasoning") or {}).get("incremental"))
    verdict("incremental_inference", None if inc is None else inc <= 0.050, fmt_ms(inc))
    mat = ((big.get("reasoning") or {}).get("full") or {}).get("seconds")
    verdict("full_materialisation", None if mat is None else mat <= 60, f"{fnum(mat)} s")
    st = value((big.get("server") or {}).get("start_s"))
    verdict("server_start", None if st is None else st <= 2, f"{fnum(st, 2)} s")
    t1 = ((big.get("throughput") or {}).get("1") or {}).get("qps")
    t8 = ((big.get("throughput") or {}).get("8") or {}).get("qps")
    verdict("throughput", None if not (t1 and t8) else t8 >= 1.6 * t1,
            f"{fnum(t8 / t1 if t1 and t8 else None, 2)}× ({fnum(t1)} → {fnum(t8)} q/s)")
    bulk_run = big.get("bulk") or {}
    ratio = bulk_run.get("ratio")
    verdict("bulk_import", None if ratio is None else ratio <= 3 and not bulk_run.get(
        "import_exit"), f"{fnum(ratio, 2)}× ({fnum(bulk_run.get('import_s'))} s vs "
            f"{fnum(bulk_run.get('pyoxigraph_s'))} s)")
    rt = big.get("routes") or {}
    verdict("routes", None if not rt else rt.get("met") == rt.get("figures"),
            f"{rt.get('met')} of {rt.get('figures')} routes and gallery queries")
    return out


def fnum(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"coopgraph benchmarks — {m['date']} — {m['nproc']} × {m['cpu']}, "
             f"{m['memory_mb']} MiB, Python {m['python']}, load average at start "
             f"{m['loadavg_start']}",
             "(* = fewer runs than asked, see JSON; other processes on the machine "
             "make every figure indicative)", ""]
    for tier in report["tiers"]:
        n = tier.get("store_quads") or tier.get("generated_triples")
        lines.append(f"## --orgs {tier['orgs']}: {tier.get('generated_triples')} generated "
                     f"triples, {n} quads served (load average {tier.get('loadavg_start')} → "
                     f"{tier.get('loadavg_end')})")
        if not tier.get("query_names"):  # only the bulk and routes parts ran
            lines += bulk_routes_lines(tier) + [""]
            continue
        load = tier["load"]
        lines.append("load (triples/s): " + ", ".join(
            f"{k} {fnum((load.get(k) or {}).get('rate'), 0)}"
            if (load.get(k) or {}).get("rate") else f"{k} n/a"
            for k in ("coopgraph", "pyoxigraph", "rdflib")))
        qs = tier["queries"]
        a = tier.get("analysis", {})
        header = (f"{'query':38} {'coopgraph HTTP':>15} {'p99':>9} {'pyoxigraph':>11} "
                  f"{'p99':>9} {'rdflib':>10} {'rdflib-endpt':>13} {'cg/ox':>6} "
                  f"{'rdfe/cg':>8}")
        lines += ["", header, "-" * len(header)]
        oxname = "pyoxigraph_paired" if qs.get("pyoxigraph_paired") else "pyoxigraph"
        for name in tier.get("query_names", []):
            r = a.get("per_query", {}).get(name, {})

            def c(engine: str, key: str = "median_s", name: str = name,
                  qs: dict[str, Any] = qs) -> str:
                text = cell((qs.get(engine) or {}).get(name), key)
                return text if len(text) < 14 else text[:12] + "…"

            lines.append(
                f"{name[:38]:38} {c('coopgraph'):>15} {c('coopgraph', 'p99_s'):>9} "
                f"{c(oxname):>11} {c(oxname, 'p99_s'):>9} {c('rdflib'):>10} "
                f"{c('rdflib_endpoint'):>13} {fnum(r.get('cg_over_ox'), 2):>6} "
                f"{fnum(r.get('rdfe_over_cg'), 0):>8}")
        if qs.get("pyoxigraph_paired"):
            lines.append("(pyoxigraph column and cg/ox: pyoxigraph read-only on the served "
                         "store, right after the HTTP runs)")
        lines.append(f"geometric mean coopgraph/pyoxigraph {fnum(a.get('geomean_cg_over_ox'), 2)}"
                     f"×, rdflib-endpoint/coopgraph {fnum(a.get('geomean_rdfe_over_cg'), 1)}×; "
                     f"overhead target held on {a.get('overhead_ok')} queries")
        t = tier["throughput"]
        if t.get("1") and t.get("8"):
            lines.append(f"throughput: 1 client {t['1']['qps']:.1f} q/s, 8 clients "
                         f"{t['8']['qps']:.1f} q/s ({t['8']['qps'] / t['1']['qps']:.2f}×) on "
                         f"{len(t.get('mix', []))} queries")
        v = tier["validation"]
        ent = v.get("entry") or {}
        lines.append(f"validation: one entry median {cell(ent)} p99 {cell(ent, 'p99_s')} "
                     f"({fnum(ent.get('entry_triples'), 0)} triples); add_entry median "
                     f"{cell(v.get('add_entry'))}; full graph "
                     + (f"{fnum((v.get('full') or {}).get('seconds'))} s"
                        if (v.get("full") or {}).get("seconds") is not None
                        else f"n/a ({(v.get('full') or {}).get('error')})"))
        rs = tier["reasoning"]
        inc = rs.get("incremental") or {}
        lines.append(f"reasoning: full materialisation "
                     f"{fnum((rs.get('full') or {}).get('seconds'))} s "
                     f"({(rs.get('full') or {}).get('inferred')} inferred); incremental "
                     f"refresh median {cell(inc)} p99 {cell(inc, 'p99_s')} "
                     f"({fnum(inc.get('affected_nodes'), 0)} affected nodes)")
        sv = tier["server"]
        lines.append(f"server: ready in {cell(sv.get('start_s'))} (median of "
                     f"{len((sv.get('start_s') or {}).get('all_s', []))}); RSS server+store "
                     f"{fnum(sv.get('rss_idle_mb'), 0)} MiB idle, "
                     f"{fnum(sv.get('rss_after_load_mb'), 0)} MiB after the runs; "
                     f"rdflib-endpoint ready in {fnum(sv.get('rdflib_endpoint_start_s'))} s, "
                     f"{fnum(sv.get('rdflib_endpoint_rss_mb'), 0)} MiB")
        lines += bulk_routes_lines(tier)
        for section, reason in (tier.get("errors") or {}).items():
            lines.append(f"{section}: n/a ({reason})")
        lines.append("")
    lines.append("## targets")
    for t in report["targets"]:
        lines.append(f"{t['status']:>6}  {t['description']}: {t['figure']}")
    return "\n".join(lines)


def bulk_routes_lines(tier: dict[str, Any]) -> list[str]:
    lines = []
    if tier.get("bulk"):
        lines.append("bulk import: " + bulk.render(tier["bulk"]).replace("\n", "\n  "))
    rt = tier.get("routes")
    if rt:
        put = (rt.get("writes") or {}).get("put")
        lines.append(f"routes: {rt.get('met')} of {rt.get('figures')} within target, "
                     f"serve ready in {fnum(rt.get('start_s'), 2)} s; 20 HTTP writes "
                     f"median {cell(put)} p99 {cell(put, 'p99_s')} "
                     "(benchmarks/routes.py prints every route)")
    for section, reason in (tier.get("errors") or {}).items():
        if section in ("bulk import", "routes"):
            lines.append(f"{section}: n/a ({reason})")
    return lines


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` updated with what ``new`` measured (one level deep in each section)."""
    out = dict(old)
    errors = dict(old.get("errors") or {})
    for part in new.get("parts", []):  # a part run again clears its old errors
        errors = {k: v for k, v in errors.items() if k not in PART_ERRORS[part]}
    errors.update(new.get("errors") or {})
    for key, val in new.items():
        if key == "queries" and isinstance(old.get(key), dict):
            # engine by engine, query by query: a run of a few queries adds to the others
            out[key] = {engine: {**(old[key].get(engine) or {}), **(results or {})}
                        for engine, results in {**old[key], **val}.items()}
        elif isinstance(val, dict) and isinstance(old.get(key), dict) and key != "errors":
            out[key] = {**old[key], **val}
        elif key not in ("errors",):
            if val is not None or key not in old:
                out[key] = val
    out["parts"] = sorted(set(old.get("parts", [])) | set(new.get("parts", [])))
    out["errors"] = errors
    return out


def render_files(paths: list[Path], out: Path | None) -> int:
    """Merge result files tier by tier, recompute ratios and verdicts, print the table."""
    report: dict[str, Any] = {"machine": machine(), "commands": [], "tiers": []}
    for path in paths:
        previous = json.loads(path.read_text())
        report["machine"] = previous.get("machine", report["machine"])
        report["commands"] += previous.get("commands", [])
        for tier in previous.get("tiers", []):
            old = next((t for t in report["tiers"] if t["orgs"] == tier["orgs"]), None)
            if old is not None:
                report["tiers"].remove(old)
                tier = merge(old, tier)
            report["tiers"].append(tier)
    report["tiers"].sort(key=lambda t: t["orgs"])
    for tier in report["tiers"]:
        tier["analysis"] = analyse(tier)
    report["targets"] = targets(report["tiers"])
    if out:
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(render(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", default="1000,10000",
                        help="comma-separated sizes (1000 ≈ 100k triples; default 1000,10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per measure")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/coopgraph-bench"))
    parser.add_argument("--big", action="store_true",
                        help=f"allow --orgs ≥ {BIG_ORGS} (≈5M+ triples; takes long)")
    parser.add_argument("--query-budget", type=float, default=10.0,
                        help="seconds per query and engine before fewer runs are made")
    parser.add_argument("--query-timeout", type=float, default=60.0,
                        help="a query slower than this is stopped and reported as a timeout")
    parser.add_argument("--engine-budget", type=float, default=600.0,
                        help="seconds for all queries of one in-process engine")
    parser.add_argument("--validation-cap", type=float, default=300.0,
                        help="stop full-graph validation after this many seconds")
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--starts", type=int, default=3, help="server starts to time")
    parser.add_argument("--peer-start-timeout", type=float, default=1200.0)
    parser.add_argument("--peer-restarts", type=int, default=3,
                        help="restarts of rdflib-endpoint after a timeout (it reloads the "
                        "dump each time); then the remaining queries are not run")
    parser.add_argument("--rdflib-endpoint", default=DEFAULT_ENDPOINT_PEER,
                        help="the rdflib-endpoint command (installed in a separate venv)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="comma-separated subset of " + ",".join(PARTS) + " (default: all); "
                        "parts other than build reuse the store and dump in --workdir")
    parser.add_argument("--merge", action="store_true",
                        help="update the --json file instead of replacing it (keeps figures "
                        "of parts not run now)")
    parser.add_argument("--queries", type=lambda v: set(v.split(",")), default=None,
                        help="only these gallery queries (comma-separated names)")
    parser.add_argument("--render", type=Path, nargs="+", metavar="JSON",
                        help="run nothing: merge these result files (later ones win), print "
                        "the table and write --json")
    args = parser.parse_args(argv)
    if args.render:
        return render_files(args.render, args.json)
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = args.parts - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    sizes = [int(s) for s in args.orgs.split(",") if s.strip()]
    if any(s >= BIG_ORGS for s in sizes) and not args.big:
        parser.error(f"--orgs ≥ {BIG_ORGS} needs --big")
    args.workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "commands": [" ".join(sys.argv)],
                              "tiers": []}
    if args.merge and args.json and args.json.exists():
        previous = json.loads(args.json.read_text())
        report["tiers"] = previous.get("tiers", [])
        report["commands"] = previous.get("commands", []) + report["commands"]
        report["machine_earlier"] = previous.get("machine")
    for orgs in sizes:
        tier = run_tier(orgs, args, args.workdir)
        old = next((t for t in report["tiers"] if t["orgs"] == orgs), None)
        if old is not None:
            tier = merge(old, tier)
            report["tiers"].remove(old)
        tier["analysis"] = analyse(tier)
        report["tiers"].append(tier)
        report["tiers"].sort(key=lambda t: t["orgs"])
        report["targets"] = targets(report["tiers"])
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    report["targets"] = targets(report["tiers"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
