"""Writes over HTTP right after a start: add, replace and remove realistic entries.

    .venv/bin/python benchmarks/writes.py --store DIR --orgs 10000 [--entries 20]

Starts ``coopgraph serve --store DIR`` (127.0.0.1, a free port, a write token), measures
the start (until ``/healthz`` answers), then, at once, ``PUT /entries/<id>`` for
``--entries`` realistic offers with blank nodes (``tests/data/valid/new-offer.ttl`` first,
then offers of ``generate.py``'s ``entry_nquads`` for the store's world, their salary,
language and experience nodes written as blank nodes, as staff write them in Turtle),
then replaces each one (a changed title) and removes it. Prints median and p99 (nearest
rank: the maximum under 100 writes) per phase beside the targets of issue 12 (≤ 200 ms
median, ≤ 1 s p99, from the first write after a start on), the first write on its own,
and the server's ``Server-Timing`` split (parse, validate, reason, commit).

The store must hold ``generate.py --orgs N --seed S`` (the entries point at its
organisations and places) plus the project files; it is left as it was found (every
entry written is removed again, only the provenance log grows). Exits 1 when a write
fails or a target is missed. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import generate
from common import loadavg
from crash import AUTH, VALID, Server

TARGET_MEDIAN, TARGET_P99, TARGET_START = 0.200, 1.0, 2.0
_SUB_NODE = re.compile(r"<https://w3id\.org/coopgraph/id/offer/[^>#]+#([^>]+)>")


def blank_sub_nodes(nquads: str) -> str:
    """The offer's sub-nodes (``…/offer/x#salary``) as blank nodes (``_:salary``)."""
    return _SUB_NODE.sub(lambda m: "_:" + re.sub(r"[^A-Za-z0-9]", "", m.group(1)), nquads)


def entries(orgs: int, seed: int, count: int) -> list[tuple[str, bytes, str]]:
    """(entry id, body, content type) for ``count`` writes, with blank nodes."""
    out = [("bench-writes-new-offer", (VALID / "new-offer.ttl").read_bytes(), "text/turtle")]
    world = generate.World(orgs, seed)
    for k in range(1, count):
        text = blank_sub_nodes(generate.entry_nquads(orgs, seed, 90_000 + k, world))
        text = text.replace(f"graph/entry/bench-{90_000 + k}>", f"graph/entry/bench-writes-{k}>")
        assert "_:" in text, "the generated offer has no sub-node to write as a blank node"
        out.append((f"bench-writes-{k}", text.encode(), "application/n-quads"))
    return out


def send(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a keep-alive connection: (status, headers, body)."""
    conn.request(method, path, body, headers or {})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def percentile99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def timing(header: str | None) -> dict[str, float]:
    """``Server-Timing: parse;dur=1.2, validate;dur=30.1`` → seconds per step."""
    out: dict[str, float] = {}
    for part in (header or "").split(","):
        name, _, rest = part.strip().partition(";dur=")
        if name and rest:
            out[name] = float(rest) / 1000
    return out


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(phase: str, times: list[float], steps: list[dict[str, float]]) -> bool:
    median, p99 = statistics.median(times), percentile99(times)
    ok = median <= TARGET_MEDIAN and p99 <= TARGET_P99
    split = ", ".join(
        f"{name} {1000 * statistics.median(s.get(name, 0.0) for s in steps):.1f}"
        for name in ("parse", "validate", "reason", "commit")
    )
    print(f"{phase:8} n={len(times):3}  median {1000 * median:7.1f} ms "
          f"(≤ {1000 * TARGET_MEDIAN:.0f})  p99 {1000 * p99:7.1f} ms "
          f"(≤ {1000 * TARGET_P99:.0f})  {verdict(ok)}"
          f"  | server medians ms: {split}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="store directory")
    parser.add_argument("--orgs", type=int, required=True,
                        help="the --orgs the store's data was generated with")
    parser.add_argument("--seed", type=int, default=1, help="its --seed (default 1)")
    parser.add_argument("--entries", type=int, default=20, help="entries written (default 20)")
    args = parser.parse_args(argv)
    print(f"load average before: {loadavg()}", flush=True)
    bodies = entries(args.orgs, args.seed, args.entries)
    ok = True
    with tempfile.TemporaryDirectory(prefix="coopgraph-writes-") as tmp:
        server = Server(args.store, log=Path(tmp) / "serve.log")
        start = time.perf_counter()
        server.start(timeout=600)
        started = time.perf_counter() - start
        ok &= started <= TARGET_START
        print(f"start: {started:.2f} s until /healthz answers (≤ {TARGET_START:.0f} s) "
              f"{verdict(started <= TARGET_START)}", flush=True)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        try:
            phases: dict[str, tuple[list[float], list[dict[str, float]]]] = {}
            for phase in ("add", "replace", "remove"):
                times, steps = phases.setdefault(phase, ([], []))
                for entry_id, body, ctype in bodies:
                    path = f"/entries/{entry_id}"
                    if phase == "replace":
                        body = body.replace(b"Nouvelle offre", b"Offre revue").replace(
                            b"Stage", b"Stage revu")
                    began = time.perf_counter()
                    if phase == "remove":
                        status, headers, data = send(conn, "DELETE", path, headers=AUTH)
                    else:
                        status, headers, data = send(
                            conn, "PUT", path, body, {**AUTH, "Content-Type": ctype})
                    times.append(time.perf_counter() - began)
                    steps.append(timing(headers.get("Server-Timing")))
                    expected = {"add": 201, "replace": 200, "remove": 200}[phase]
                    if status != expected:
                        print(f"{phase} {entry_id}: HTTP {status} (expected {expected}): "
                              f"{data[:300].decode(errors='replace')}")
                        return 1
            first = phases["add"][0][0]
            ok &= first <= TARGET_P99
            print(f"first write after the start: {1000 * first:.1f} ms (≤ {1000 * TARGET_P99:.0f}) "
                  f"{verdict(first <= TARGET_P99)}; split {phases['add'][1][0]}")
            for phase, (times, steps) in phases.items():
                ok &= report(phase, times, steps)
        finally:
            conn.close()
            server.stop()
    print(f"load average after: {loadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
