"""Time validation: one entry, a batch of entries, and the whole store, beside the targets.

Targets (issue 12, item 3): one entry ≤ 5 ms of validation work at 1M triples and flat
from 100k to 1M; the whole 1M graph ≤ 60 s. "Work" is the thread's CPU time
(``time.thread_time``: the embedded store answers in the calling thread, so it counts
the store's work too); the wall time is printed beside it, since on a shared machine the
two differ by the load (printed with the figures).

The store is built once per directory (project + generated data + materialisation) and
reused; entries are ``generate.entry_nquads`` offers the store has never seen. The
validator first validates ``--warm`` other entries (not timed), as a server or an import
has before the entry that is timed: what the store says about the concepts, places and
organisations they name is then cached (``validate/context.py``); the organisations of
the timed entries are mostly not.

    python benchmarks/validation.py --orgs 1000 --store /tmp/v100k     # ~100k triples
    python benchmarks/validation.py --orgs 10000 --store /tmp/v1m --data big.nq --whole
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
from common import loadavg, machine  # noqa: E402
from coopgraph.formats import rdf_format  # noqa: E402
from coopgraph.parse import parse_bytes, parse_file  # noqa: E402
from coopgraph.settings import Settings  # noqa: E402
from coopgraph.store.embedded import EmbeddedStore  # noqa: E402
from coopgraph.validate import Candidate, Validator  # noqa: E402

ENTRY_TARGET_S = 0.005
WHOLE_TARGET_S = 60.0


def build(store_dir: Path, data: Path) -> None:
    """Project files, the generated data, full materialisation (skipped when built)."""
    from coopgraph.load import load_project
    from coopgraph.reason import Reasoner

    if (store_dir / "CURRENT").exists():
        return
    store = EmbeddedStore(store_dir)
    try:
        load_project(store, Settings(store=str(store_dir)), reason=False)
        store.bulk_load(parse_file(data))
        store.flush()
        Reasoner(store).materialise()
    finally:
        store.close()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def entries(
    validator: Validator, orgs: int, seed: int, count: int, warm: int = 0
) -> dict[str, Any]:
    """``warm`` entries validated untimed, then one entry at a time through
    ``validate_quads``, then the same number as one batch."""
    world = generate.World(orgs, seed)
    nq = rdf_format("nquads")
    first = 10_000 + warm
    for k in range(10_000, first):
        quads = parse_bytes(generate.entry_nquads(orgs, seed, k, world).encode(), nq, source="w")
        validator.validate_quads(quads, entry=f"warm-up {k}")
    batch = [
        parse_bytes(generate.entry_nquads(orgs, seed, k, world).encode(), nq, source=f"e{k}")
        for k in range(first, first + count + 1)
    ]
    cpu: list[float] = []
    wall: list[float] = []
    conform = []
    for i, quads in enumerate(batch):
        w, c = time.perf_counter(), time.thread_time()
        report = validator.validate_quads(quads, entry=f"entry {i}")
        if i:  # the first one warms the caches
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - w)
            conform.append(report.conforms)
    w, c = time.perf_counter(), time.thread_time()
    reports = validator.validate_many([Candidate(q, f"b{i}") for i, q in enumerate(batch[1:])])
    batch_cpu, batch_wall = time.thread_time() - c, time.perf_counter() - w
    before: list[float] = []
    for quads in batch[1 : 1 + min(count, 10)]:  # pyshacl, as coopgraph validated before
        c = time.thread_time()
        validator.validate_many([Candidate(quads, "reference")], reference=True)
        before.append(time.thread_time() - c)
    return {
        "entries": count,
        "warm": warm,
        "entry_triples": statistics.mean(len(q) for q in batch),
        "cpu_median_s": statistics.median(cpu),
        "cpu_p99_s": p99(cpu),
        "wall_median_s": statistics.median(wall),
        "wall_p99_s": p99(wall),
        "all_conform": all(conform) and all(r.conforms for r in reports),
        "batch_cpu_per_entry_s": batch_cpu / count,
        "batch_wall_per_entry_s": batch_wall / count,
        "pyshacl_cpu_median_s": statistics.median(before),
    }


def whole(validator: Validator) -> dict[str, Any]:
    w, c = time.perf_counter(), time.process_time()
    report = validator.validate_store()
    return {
        "wall_s": time.perf_counter() - w,
        "cpu_s": time.process_time() - c,
        "violations": report.count("Violation"),
        "warnings": report.count("Warning"),
        "infos": report.count("Info"),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, required=True, help="organisations in the store")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", type=Path, required=True, help="store directory")
    parser.add_argument("--data", type=Path, help="generated N-Quads to build the store from")
    parser.add_argument("--entries", type=int, default=40, help="entries to validate")
    parser.add_argument("--warm", type=int, default=100,
                        help="entries validated untimed first (0: a fresh validator)")
    parser.add_argument("--whole", action="store_true", help="also validate the whole store")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)

    if args.data is not None:
        build(args.store, args.data)
    out: dict[str, Any] = {"machine": machine(), "orgs": args.orgs}
    store = EmbeddedStore(args.store, read_only=True)
    try:
        start = time.perf_counter()
        validator = Validator(store)
        out["validator_build_s"] = time.perf_counter() - start
        out["triples"] = sum(n for g, n in store.graph_sizes().items())
        out["entry"] = entries(validator, args.orgs, args.seed, args.entries, args.warm)
        if args.whole:
            out["whole"] = whole(validator)
    finally:
        store.close()
    out["loadavg_end"] = loadavg()

    e = out["entry"]
    ms = 1000
    print(
        f"store: {out['triples']:,} quads ({args.orgs} organisations), "
        f"load average {out['machine']['loadavg_start']} → {out['loadavg_end']}"
    )
    print(f"validator built in {out['validator_build_s']:.2f} s")
    verdict = "met" if e["cpu_median_s"] <= ENTRY_TARGET_S else "MISSED"
    print(
        f"one entry ({e['entry_triples']:.0f} triples, after {e['warm']} others): work median "
        f"{e['cpu_median_s'] * ms:.2f} ms"
        f" p99 {e['cpu_p99_s'] * ms:.2f} ms; wall median {e['wall_median_s'] * ms:.2f} ms"
        f" p99 {e['wall_p99_s'] * ms:.2f} ms  [target ≤ 5 ms work: {verdict}]"
    )
    print(
        f"the same entries through pyshacl (the reference, as before): work median "
        f"{e['pyshacl_cpu_median_s'] * ms:.1f} ms"
    )
    print(
        f"batch of {e['entries']} (validate_many): work {e['batch_cpu_per_entry_s'] * ms:.2f} ms"
        f" per entry, wall {e['batch_wall_per_entry_s'] * ms:.2f} ms per entry;"
        f" all conform: {e['all_conform']}"
    )
    if "whole" in out:
        w = out["whole"]
        verdict = "met" if w["wall_s"] <= WHOLE_TARGET_S else "MISSED"
        print(
            f"whole store: {w['wall_s']:.1f} s wall, {w['cpu_s']:.1f} s CPU, "
            f"{w['violations']} violations, {w['warnings']} warnings, peak RSS "
            f"{w['max_rss_mb']:.0f} MB  [target ≤ 60 s: {verdict}]"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
