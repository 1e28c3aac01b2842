"""What a large query result costs between the store process and the web process.

    /tmp/venv/bin/python benchmarks/ipc.py [--rows 50000] [--runs 7] [--limit 100000]

Builds a synthetic store on disk (``--rows`` subjects, four triples each, one named graph
per 1000 subjects), opens it as the server does (:class:`IsolatedStore`: the store in a
child process) and times, for a SELECT of ``--rows`` rows (four variables: IRI,
language-tagged, typed and plain literals) and a CONSTRUCT of ``--rows`` triples:

* **before**: ``store.query(limit=…)`` (the child materialises the terms, pickles them to
  the parent) then ``results.serialize`` in the parent, the path ``/sparql`` used to take;
* **after**: ``store.query_serialized(fmt, limit=…)`` (the child serialises with
  pyoxigraph's writers and sends bytes);
* **floor**: pyoxigraph in this process on the same files (read-only), the whole result
  serialised natively, no cap, no process hop.

One warm-up, then ``--runs`` timed runs; medians, and the size of what crossed the pipe.
Timings, not tests: on a shared machine compare medians and ratios.
"""

from __future__ import annotations

import argparse
import pickle
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from coopgraph import results
from coopgraph.formats import Format, rdf_format, result_format
from coopgraph.store.embedded import EmbeddedStore
from coopgraph.store.isolated import IsolatedStore

EX = "http://example.org/bench/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
SELECT = (
    f"SELECT ?s ?label ?n ?note WHERE {{ ?s <{EX}label> ?label ; <{EX}n> ?n ; "
    f"<{EX}note> ?note }}"
)
CONSTRUCT = f"CONSTRUCT {{ ?s <{EX}label> ?label }} WHERE {{ ?s <{EX}label> ?label }}"
CASES: list[tuple[str, str, Format]] = [
    ("select", SELECT, result_format("json")),
    ("select", SELECT, result_format("xml")),
    ("select", SELECT, result_format("csv")),
    ("select", SELECT, result_format("tsv")),
    ("construct", CONSTRUCT, rdf_format("turtle")),
    ("construct", CONSTRUCT, rdf_format("ntriples")),
    ("construct", CONSTRUCT, rdf_format("jsonld")),
]


def quads(rows: int) -> list[ox.Quad]:
    label, n, note, link = (ox.NamedNode(EX + p) for p in ("label", "n", "note", "link"))
    out = []
    for i in range(rows):
        s = ox.NamedNode(f"{EX}s{i}")
        g = ox.NamedNode(f"{EX}graph/{i // 1000}")
        out += [
            ox.Quad(s, label, ox.Literal(f"Organisation {i}", language="fr"), g),
            ox.Quad(s, n, ox.Literal(str(i), datatype=XSD_INTEGER), g),
            ox.Quad(s, note, ox.Literal(f"coopération « {i} »\tend"), g),
            ox.Quad(s, link, ox.NamedNode(f"{EX}s{(i * 7) % rows}"), g),
        ]
    return out


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    value = fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--limit", type=int, default=100_000, help="the result cap")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="coopgraph-ipc-") as tmp:
        path = Path(tmp) / "store"
        embedded = EmbeddedStore(path)
        embedded.bulk_load(quads(args.rows))
        embedded.close()
        store = IsolatedStore(path, threads=2)
        try:
            report(store, ox.Store.read_only(str(path)), args)
        finally:
            store.close()
    return 0


def report(store: IsolatedStore, floor_store: ox.Store, args: argparse.Namespace) -> None:
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "n/a"
    print(f"benchmarks/ipc.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — "
          f"{platform.machine()}, Python {platform.python_version()}, "
          f"pyoxigraph {ox.__version__}, load {load}")
    print(f"{4 * args.rows:,} quads, {args.rows:,}-row results, cap {args.limit:,}, "
          f"median of {args.runs}")
    header = (f"{'query':10} {'format':9} {'before':>8} {'after':>8} {'speed-up':>8} "
              f"{'floor':>8} {'pickled':>9} {'bytes':>9}")
    print(header)
    print("-" * len(header))
    for kind, query, fmt in CASES:
        def before(query: str = query, fmt: Format = fmt) -> bytes:
            return results.serialize(store.query(query, limit=args.limit), fmt)

        def after(query: str = query, fmt: Format = fmt) -> bytes:
            return store.query_serialized(query, fmt, limit=args.limit).body

        def floor(query: str = query, fmt: Format = fmt) -> bytes | None:
            result = floor_store.query(query, use_default_graph_as_union=True)
            if isinstance(result, ox.QuerySolutions):
                return result.serialize(
                    format=ox.QueryResultsFormat.from_media_type(fmt.media_type))
            return result.serialize(format=fmt.oxigraph)  # type: ignore[union-attr]

        t_before, _ = timed(before, args.runs)
        t_after, body = timed(after, args.runs)
        t_floor, _ = timed(floor, args.runs)
        pickled = len(pickle.dumps(store.query(query, limit=args.limit),
                                   protocol=pickle.HIGHEST_PROTOCOL))
        print(f"{kind:10} {fmt.name:9} {t_before:7.3f}s {t_after:7.3f}s "
              f"{t_before / t_after:7.1f}× {t_floor:7.3f}s {pickled / 1e6:7.1f}MB "
              f"{len(body) / 1e6:7.1f}MB")  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
