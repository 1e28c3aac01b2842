"""The bulk import of a generated dataset beside pyoxigraph's own ``bulk_load`` of the file.

Issue 12, item 1: "the 1M generated dataset imported, validated and reasoned in at most
3× the time of pyoxigraph's ``bulk_load`` of the same file, on one run side by side".
In one run, on the same machine, one after the other:

1. pyoxigraph: a new on-disk ``Store``, ``bulk_load(path=FILE)``, ``flush()``;
2. coopgraph: ``coopgraph load`` of the project into a new on-disk store (not counted:
   the ontology, shapes and seeds, the same for every dataset; timed apart), then
   ``coopgraph import FILE --add --reference`` (the README's command, a subprocess):
   streamed parse, validation of every entry, batch commits with provenance, one
   materialisation. Its JSON report gives the per-step seconds.

Prints both figures, the ratio and the target (≤ 3×), with the load average.

    python benchmarks/bulk.py --data /work/bench/big.nq --workdir /work/bench/bulk/side
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from common import loadavg, machine, tree_rss_mb

TARGET_RATIO = 3.0


def pyoxigraph_load(data: Path, store_dir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of every thread: user + system)."""
    shutil.rmtree(store_dir, ignore_errors=True)
    start, cpu = time.perf_counter(), time.process_time()
    store = ox.Store(str(store_dir))
    store.bulk_load(path=str(data), format=ox.RdfFormat.N_QUADS)
    store.flush()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    del store
    return seconds, cpu


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _coopgraph(*args: str, out: Path | None = None) -> tuple[float, int, float | None, float]:
    """Run a coopgraph command; (seconds, exit code, peak RSS MiB sampled every 0.5 s, CPU
    seconds: user + system of the command and the children it waited for)."""
    cpu = _children_cpu()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
    cmd = [sys.executable, "-m", "coopgraph", *args]
    start = time.perf_counter()
    with (out.open("wb") if out else open(os.devnull, "wb")) as stdout:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=None, env=env)
        peak: float | None = None
        while proc.poll() is None:
            rss = tree_rss_mb(proc.pid)
            peak = max(peak or 0.0, rss or 0.0)
            time.sleep(0.5)
    return time.perf_counter() - start, proc.returncode, peak, _children_cpu() - cpu


def side_by_side(data: Path, work: Path, batch: int) -> dict[str, Any]:
    """Both loads of ``data`` in ``work``; the figures as a dict (printed by ``main``)."""
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"data": str(data), "loadavg_start": loadavg()}
    triples = sum(1 for _ in data.open("rb"))
    result["triples"] = triples
    print(f"pyoxigraph bulk_load of {data} ({triples:,} lines)…", flush=True)
    result["pyoxigraph_s"], result["pyoxigraph_cpu_s"] = pyoxigraph_load(data, work / "pyoxigraph")
    shutil.rmtree(work / "pyoxigraph", ignore_errors=True)
    print(f"  {result['pyoxigraph_s']:.1f} s", flush=True)
    store = work / "coopgraph"
    shutil.rmtree(store, ignore_errors=True)
    seconds, code, _, _ = _coopgraph("load", "--store", str(store))
    result["project_load_s"] = seconds
    print(f"coopgraph load (project only, not counted): {seconds:.1f} s", flush=True)
    report_file = work / "import-report.json"
    print("coopgraph import --add --reference …", flush=True)
    seconds, code, peak, cpu = _coopgraph(
        "import", str(data), "--add", "--reference", "--agent", "bench", "--batch", str(batch),
        "--no-views", "--store", str(store), "--format", "json", out=report_file,
    )
    result.update(import_s=seconds, import_exit=code, import_peak_rss_mb=peak, import_cpu_s=cpu)
    # what the README's command (without --no-views) does next, timed apart: the network
    # view kept beside the store for serve (derived data, not part of the ratio)
    views_s, _, _, _ = _coopgraph("network", "stats", "--top", "1", "--store", str(store))
    result["views_s"] = views_s
    print(f"network view for serve (not counted): {views_s:.1f} s", flush=True)
    try:
        report = json.loads(report_file.read_text("utf-8"))
        result["counts"] = report["counts"]
        result["timings"] = report["timings"]
        result["inferred"] = report["inferred"]
        rejected = [e for e in report["entries"] if e["status"] == "rejected"][:5]
        result["first_rejected"] = rejected
    except (OSError, ValueError, KeyError) as exc:
        result["report_error"] = str(exc)
    result["ratio"] = seconds / result["pyoxigraph_s"]
    result["loadavg_end"] = loadavg()
    return result


class _AcceptAll:
    """A stand-in validator that accepts every entry (``--without-validation`` only)."""

    class _Report:
        conforms = True
        findings: list[Any] = []

    def validate_quads(self, quads: Any, **options: Any) -> Any:
        return self._Report()

    def validate_many(self, candidates: Any) -> Any:
        return [self._Report() for _ in candidates]

    def validate_batch(self, candidates: Any, overlays: Any, unseen: Any = ()) -> Any:
        return [self._Report() for _ in candidates]

    def validate_batches(self, batches: Any, overlays: Any, unseen: Any = ()) -> Any:
        return ([self._Report() for _ in batch] for batch in batches)

    def prefetch(self, candidates: Any, size: int) -> None:
        pass


def without_validation(data: Path, work: Path, batch: int) -> dict[str, Any]:
    """The same import in-process with validation replaced by "accept everything": what
    the rest of the pipeline (streaming, digests, batch commits with provenance, one
    materialisation) costs. A profiling figure, not the target's."""
    from coopgraph.bulk import ImportOptions, run_import, source_for
    from coopgraph.load import load_project
    from coopgraph.settings import Settings
    from coopgraph.store.embedded import EmbeddedStore

    store_dir = work / "coopgraph-noval"
    shutil.rmtree(store_dir, ignore_errors=True)
    store = EmbeddedStore(store_dir)
    load_project(store, Settings(store=str(store_dir)))
    start = time.perf_counter()
    report = run_import(store, [source_for(data)], validator=_AcceptAll(),
                        options=ImportOptions(agent="bench", reference=True, batch_quads=batch))
    seconds = time.perf_counter() - start
    store.close()
    shutil.rmtree(store_dir, ignore_errors=True)
    return {"seconds": seconds, "timings": report.timings, "counts": report.counts(),
            "inferred": report.inferred}


def render(r: dict[str, Any]) -> str:
    ok = "ok" if r["ratio"] <= TARGET_RATIO and r.get("import_exit") == 0 else "MISSED"
    lines = [
        f"dataset: {r['data']} ({r['triples']:,} triples); load {r['loadavg_start']} → "
        f"{r['loadavg_end']}",
        f"pyoxigraph Store.bulk_load (on disk):         {r['pyoxigraph_s']:8.1f} s",
        f"coopgraph import --add --reference (on disk): {r['import_s']:8.1f} s  "
        f"(exit {r.get('import_exit')}, peak RSS {r.get('import_peak_rss_mb') or 0:.0f} MiB)",
        f"ratio {r['ratio']:.2f}× — target ≤ {TARGET_RATIO:g}×: {ok}",
    ]
    if r.get("import_cpu_s") is not None:  # less noisy than wall time on a busy machine
        lines.append(
            f"CPU (user + system, every thread and child): pyoxigraph "
            f"{r['pyoxigraph_cpu_s']:.1f} s, import {r['import_cpu_s']:.1f} s "
            f"({r['import_cpu_s'] / r['pyoxigraph_cpu_s']:.2f}×)"
        )
    if "timings" in r:
        t = r["timings"]
        lines.append(
            f"  of which validation {t.get('validate', 0):.1f} s, commits {t.get('commit', 0):.1f}"
            f" s, materialisation {t.get('materialise', 0):.1f} s; the rest is reading "
            f"and digests; {r.get('inferred')} inferred"
        )
        lines.append(f"  entries: {r.get('counts')}")
    nv = r.get("without_validation")
    if nv:
        t = nv["timings"]
        lines.append(
            f"without validation (in-process, every entry accepted): {nv['seconds']:.1f} s, "
            f"{nv['seconds'] / r['pyoxigraph_s']:.2f}× — commits {t['commit']:.1f} s, "
            f"materialisation {t['materialise']:.1f} s"
        )
    for e in r.get("first_rejected", []):
        lines.append(f"  rejected {e['graph']}: {e['rules']} {e['message'][:120]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="an N-Quads file (generate.py)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/coopgraph-bulk-bench"))
    parser.add_argument("--batch", type=int, default=50_000, help="quads per import batch")
    parser.add_argument("--keep", action="store_true", help="keep the coopgraph store")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--without-validation", action="store_true",
                        help="profiling: instead of the command, time the same pipeline "
                        "in-process with a validator that accepts everything")
    args = parser.parse_args(argv)
    if args.without_validation:
        args.workdir.mkdir(parents=True, exist_ok=True)
        ox_s, _ = pyoxigraph_load(args.data, args.workdir / "pyoxigraph")
        shutil.rmtree(args.workdir / "pyoxigraph", ignore_errors=True)
        nv = without_validation(args.data, args.workdir, args.batch)
        t = nv["timings"]
        print(f"load {loadavg()}; pyoxigraph bulk_load {ox_s:.1f} s; import without "
              f"validation {nv['seconds']:.1f} s ({nv['seconds'] / ox_s:.2f}×): commits "
              f"{t['commit']:.1f} s, materialisation {t['materialise']:.1f} s; {nv['counts']}, "
              f"{nv['inferred']} inferred")
        return 0
    result = side_by_side(args.data, args.workdir, args.batch) | {"machine": machine()}
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(args.workdir / "coopgraph", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
