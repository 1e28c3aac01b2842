"""One write patched into the network view, in-process (issue 12 item 5), beside its target.

Copies ``--store`` (and its persisted view) to ``--work``, reads the view back, then writes
``--writes`` generated offers (``writes.entries``, blank nodes included) with
``entries.add_entry`` and times each write and :meth:`NetworkView.catch_up` (the patch);
then one removal; then the betweenness recomputed in a child process. ``--check``
also builds the view from scratch and compares (minutes at 1M). Nothing here is a
test: figures are printed with the machine's load.

    .venv/bin/python benchmarks/network_patch.py --store /work/bench/s1m --work /tmp/s1m-w
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import writes  # noqa: E402
from common import loadavg  # noqa: E402
from coopgraph import entries, netview  # noqa: E402
from coopgraph.store import open_store  # noqa: E402
from coopgraph.validate import Validator  # noqa: E402

TARGET = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="copy written to (deleted)")
    parser.add_argument("--orgs", type=int, default=10000)
    parser.add_argument("--writes", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="compare with a full build")
    args = parser.parse_args(argv)
    print(f"load: {loadavg()}", flush=True)
    shutil.rmtree(args.work, ignore_errors=True)
    shutil.copytree(args.store, args.work)
    saved = args.store.with_name(args.store.name + ".network.pickle")
    if saved.exists():
        shutil.copy(saved, args.work.with_name(args.work.name + ".network.pickle"))
    store = open_store(str(args.work))
    try:
        view = netview.NetworkView(store, persist=netview.persist_path(store))
        start = time.perf_counter()
        built = view.load_or_refresh()
        built.value.tie_index()  # as serve does when it reads the view back
        print(f"view read back or built in {time.perf_counter() - start:.1f} s "
              f"(builds: {view.builds})", flush=True)
        validator = Validator(store)
        last = ""
        for graph, body, _ in writes.entries(args.orgs, 1, args.writes + 1)[1:]:
            start = time.perf_counter()
            entries.add_entry(store, body, "nq", graph=graph, agent="bench", source="bench",
                              validator=validator)
            written = time.perf_counter() - start
            start = time.perf_counter()
            view.catch_up()
            patched = time.perf_counter() - start
            verdict = "ok" if patched <= TARGET else "OVER"
            print(f"write {written * 1000:6.0f} ms  patch {patched * 1000:6.0f} ms  "
                  f"target ≤ {TARGET * 1000:.0f} ms  {verdict}", flush=True)
            last = graph
        start = time.perf_counter()
        entries.remove_entry(store, last, agent="bench", source="bench")
        view.catch_up()
        print(f"remove + patch {(time.perf_counter() - start) * 1000:.0f} ms", flush=True)
        start = time.perf_counter()
        view.complete()
        print(f"betweenness recomputed (child process) in {time.perf_counter() - start:.1f} s",
              flush=True)
        if args.check:
            full = netview.build_snapshot(store)
            same = (view.latest is not None and view.latest.value.metrics == full.metrics
                    and view.latest.value.layout == full.layout)
            print(f"patched == rebuilt: {same}")
    finally:
        store.close()
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.with_name(args.work.name + ".network.pickle").unlink(missing_ok=True)
    print(f"load: {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
