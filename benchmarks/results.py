"""How long writing a large SELECT answer takes, per results format, in-process.

    .venv/bin/python benchmarks/results.py [--rows 50000] [--runs 5]
    PYTHONPATH=OLD/server .venv/bin/python benchmarks/results.py   # another tree: before/after

Builds an in-memory store of ``--rows`` subjects (a language-tagged label, an integer —
a third of them negative —, and a note with commas and quotes, every seventh one starting
with ``=`` so that the CSV and TSV writers have cells to make spreadsheet-safe) and times:

* **native**: ``results.serialize_native(store.query(…), fmt)``, what the embedded and
  isolated stores run for ``/sparql``, ``GET /data`` and ``coopgraph query --format``;
* **terms**: ``results.serialize(rows, fmt)`` on the rows already read into terms (the
  fallback of ``/sparql`` for a store class without ``query_serialized``).

One warm-up, then ``--runs`` runs; medians. Timings, not tests: on a shared machine run the
two trees alternately and compare medians.
"""

from __future__ import annotations

import argparse
import functools

import pyoxigraph as ox

from common import loadavg, timed
from coopgraph import results
from coopgraph.formats import result_format
from coopgraph.store.embedded import materialise

EX = "http://example.org/bench/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
SELECT = (
    f"SELECT ?s ?label ?n ?note WHERE {{ ?s <{EX}label> ?label ; <{EX}n> ?n ; "
    f"<{EX}note> ?note }}"
)


def build(rows: int) -> ox.Store:
    store = ox.Store()
    label, n, note = (ox.NamedNode(EX + p) for p in ("label", "n", "note"))
    quads = []
    for i in range(rows):
        s = ox.NamedNode(f"{EX}s{i}")
        text = f'=cmd {i}' if i % 7 == 0 else f'note, "{i}"'
        quads += [
            ox.Quad(s, label, ox.Literal(f"label {i}", language="fr")),
            ox.Quad(s, n, ox.Literal(str(-i if i % 3 == 0 else i), datatype=XSD_INTEGER)),
            ox.Quad(s, note, ox.Literal(text)),
        ]
    store.extend(quads)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store = build(args.rows)
    rows = materialise(store.query(SELECT), None)
    print(f"benchmarks/results.py — {args.rows:,} rows, median of {args.runs}, "
          f"load {loadavg()}, coopgraph from {results.__file__}")
    print(f"{'format':7} {'native':>8} {'terms':>8}")
    for name in ("json", "xml", "csv", "tsv"):
        fmt = result_format(name)
        native = timed(
            functools.partial(lambda f: results.serialize_native(store.query(SELECT), f), fmt),
            args.runs,
        )[0]
        terms = timed(functools.partial(results.serialize, rows, fmt), args.runs)[0]
        print(f"{name:7} {native:7.3f}s {terms:7.3f}s", flush=True)


if __name__ == "__main__":
    main()
